"""The entity registry: each entry's validator on its own examples and decoys, the vocabulary's
consistency, the import boundary, and a toy entity that needs no code outside its entry."""

from __future__ import annotations

import random
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator

import polars as pl
import pytest
import yaml

from piiscan import entities
from piiscan.detect import Detector, Settings, header_evidence, header_words, mask
from piiscan.entities import Entity, Pattern, words
from piiscan.policy import ActionsFile, Override
from piiscan.recognizers import analyzer_recognizers

from .conftest import CONFIGS

RNG = random.Random(97)


def eid(rng: random.Random) -> str:
    """32 digits whose number is 1 modulo 97."""
    body = rng.randint(10**29, 10**30 - 1)
    return f"{body}{(1 - body * 100) % 97:02d}"


def is_eid(value: str) -> bool:
    text = value.strip()
    return len(text) == 32 and text.isdigit() and int(text) % 97 == 1


EID = Entity(
    "EID",
    "An eUICC identifier (a toy: 32 digits, 1 modulo 97).",
    validator=is_eid,
    patterns=(Pattern("eid", r"\b\d{32}\b", 0.5),),
    context=words("eid euicc esim"),
    header_words=words("eid euicc"),
    examples=(eid(random.Random(1)), eid(random.Random(2))),
    decoys=("1" * 32, eid(random.Random(3))[:-1]),
)


@pytest.fixture
def toy() -> Iterator[Entity]:
    """EID registered for one test."""
    entities.register(EID)
    try:
        yield EID
    finally:
        entities.unregister("EID")


# -- a new entity is one entry ---------------------------------------------------------------


@pytest.mark.parametrize(("header", "named"), [("EID", True), ("sim_eid", True), ("col_7", False)])
def test_a_registered_entity_is_detected_with_no_other_change(
    toy: Entity, header: str, named: bool
) -> None:
    values = [eid(RNG) for _ in range(300)]
    detector = Detector(Settings(), actions={"EID": "hmac"})
    (finding,) = detector.classify(pl.DataFrame({header: values}))
    assert (finding.entity, finding.action) == ("EID", "hmac"), finding.evidence
    assert finding.confidence >= 0.6
    assert ("EID" in finding.evidence.get("header_supports", [])) is named
    assert not [v for v in values if v in str(finding.evidence)]  # masked like the others


def test_look_alikes_of_a_registered_entity_are_not_it(toy: Entity) -> None:
    values = [str(RNG.randint(10**31, 10**32 - 1)) for _ in range(300)]  # 1 in 97 passes
    (finding,) = Detector().classify(pl.DataFrame({"eid": values}))
    assert finding.entity is None


def test_a_registered_entity_has_header_words_free_text_and_a_policy_name(toy: Entity) -> None:
    assert header_evidence("EID Number") == ({"EID"}, False)
    assert "EID" in entities.policy_names()
    Override.model_validate(
        {
            "customer": "acme",
            "dataset": "devices",
            "column": "extras.eid",
            "decision": "set",
            "entity": "EID",
            "reason": "eSIM identifiers",
            "decided_by": "dpo",
            "decided_at": "2026-11-28",
        }
    )
    found = [
        result.entity_type
        for recognizer in analyzer_recognizers()
        if "EID" in recognizer.supported_entities
        for result in recognizer.analyze(f"new eSIM, EID {EID.examples[0]}", entities=["EID"])
    ]
    assert found == ["EID"]
    notes = [
        f"{eid(RNG)} is the eSIM profile swapped on the user's handset today" for _ in range(40)
    ]
    (finding,) = Detector(models=None).classify(pl.DataFrame({"notes": notes}))
    assert finding.evidence["free_text"] and finding.entity == "EID"


def test_a_registered_entity_needs_its_action_in_the_policy(toy: Entity) -> None:
    actions = yaml.safe_load((CONFIGS / "actions.yaml").read_text())
    with pytest.raises(ValueError, match="no action for EID"):
        ActionsFile.model_validate(actions)
    ActionsFile.model_validate({**actions, "entities": {**actions["entities"], "EID": "hmac"}})


def test_a_detector_can_be_given_its_entities() -> None:
    values = [eid(RNG) for _ in range(300)]
    (without,) = Detector().classify(pl.DataFrame({"x": values}))
    (given,) = Detector(entities=(*entities.registered(), EID)).classify(
        pl.DataFrame({"x": values})
    )
    assert (without.entity, given.entity) == (None, "EID")
    assert "EID" not in entities.names()


def test_names_are_unique_and_built_ins_stay() -> None:
    with pytest.raises(ValueError, match="already registered"):
        entities.register(entities.registered()[0])
    with pytest.raises(ValueError, match="built in"):
        entities.unregister("IMEI")


# -- every entry, as a table ------------------------------------------------------------------

VALIDATED = [e for e in entities.registered() if e.validator is not None]


@pytest.mark.parametrize(
    ("entity", "value"),
    [(e.name, x) for e in VALIDATED for x in e.examples],
)
def test_each_validator_accepts_its_examples(entity: str, value: str) -> None:
    known = entities.get(entity)
    assert known is not None and entities.validator(known)(value)


@pytest.mark.parametrize(
    ("entity", "value"),
    [(e.name, x) for e in VALIDATED for x in e.decoys],
)
def test_each_validator_rejects_its_decoys(entity: str, value: str) -> None:
    known = entities.get(entity)
    assert known is not None and not entities.validator(known)(value)


@pytest.mark.parametrize("entity", VALIDATED, ids=lambda e: e.name)
def test_each_validated_entity_has_examples_and_decoys(entity: Entity) -> None:
    assert entity.examples and entity.decoys


def test_an_imsi_that_is_also_an_imei_is_an_imei() -> None:
    imei = entities.get("IMEI")
    imsi = entities.get("IMSI")
    assert imei is not None and imsi is not None
    both = next(x for x in (f"31041012345678{d}" for d in range(10)) if imei.validator(x))
    assert imsi.validator is not None and imsi.validator(both)
    assert not entities.validator(imsi)(both)


def test_header_words_are_whole_folded_words_naming_one_entity() -> None:
    vocabulary = [w for e in entities.registered() for w in e.all_header_words]
    assert [w for w in vocabulary if header_words(w) != [w]] == []
    assert [w for w, n in Counter(vocabulary).items() if n > 1] == []
    assert not set(vocabulary) & entities.NOT_PII_WORDS


def test_collisions_name_registered_entities() -> None:
    named = set(entities.names())
    for entity in entities.registered():
        assert set(entity.header_collisions) <= named, entity.name
        assert set(entity.value_collisions) <= named, entity.name


def test_every_entity_has_a_free_text_recognizer() -> None:
    supported = {e for r in analyzer_recognizers([r"E\d{6}"]) for e in r.supported_entities}
    assert supported == set(entities.names())


def test_masks_follow_the_entry() -> None:
    assert mask("742 Evergreen Terrace", "LOCATION") == "7** E******** T******"
    assert mask("4111111111111111", "CREDIT_CARD") == "************1111"


def test_the_registry_and_the_policy_load_without_presidio_spacy_or_the_detector() -> None:
    code = (
        "import sys, piiscan.entities, piiscan.policy; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('presidio_analyzer', 'spacy')"
        " or m in ('piiscan.detect', 'piiscan.recognizers', 'piiscan.nlp')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
