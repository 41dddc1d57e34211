"""What detection skips to save time (spaCy pipes, repeated texts, hopeless values), and
that skipping it changes nothing it finds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from piiscan.nlp import ner_unused

from .test_detect import _Doc, _Ent


@dataclass
class _Pipe:
    listening_components: list[str] | None = None


@dataclass
class _Nlp:
    pipes: dict[str, _Pipe] = field(default_factory=dict)

    @property
    def pipe_names(self) -> list[str]:
        return list(self.pipes)

    def get_pipe(self, name: str) -> Any:
        pipe = self.pipes[name]
        if pipe.listening_components is None:
            return object()  # a component that embeds nothing for others
        return pipe


def test_the_shared_tok2vec_is_skipped_when_only_the_tagger_and_parser_listen() -> None:
    nlp = _Nlp(
        {
            "tok2vec": _Pipe(["tagger", "parser"]),
            "tagger": _Pipe(),
            "parser": _Pipe(),
            "lemmatizer": _Pipe(),
            "ner": _Pipe(),
        }
    )
    assert ner_unused(nlp) == ["tok2vec", "tagger", "parser", "lemmatizer"]


def test_a_tok2vec_the_ner_listens_to_is_kept() -> None:
    nlp = _Nlp({"tok2vec": _Pipe(["tagger", "ner"]), "tagger": _Pipe(), "ner": _Pipe()})
    assert ner_unused(nlp) == ["tagger"]


def test_a_pipeline_that_cannot_say_who_listens_keeps_its_tok2vec() -> None:
    class Opaque:
        pipe_names = ("tok2vec", "tagger", "ner")

    assert ner_unused(Opaque()) == ["tagger"]


@pytest.fixture(scope="module")
def engines() -> Any:
    from piiscan.nlp import Engines

    return Engines()


@pytest.mark.integration
def test_the_real_model_finds_the_same_entities_without_the_shared_tok2vec(engines: Any) -> None:
    nlp = engines.nlp()
    unused = ner_unused(nlp)
    assert "tok2vec" in unused and "ner" not in unused
    texts = [
        "Called Jane Doe on (212) 555-0147 about the overage",
        "DOE, JANE",
        "Bill Smith",
        "Flex Pool Tier",
        "Ana María Pérez asked for a callback from Tom Baker at the Chicago store",
        "storm Katrina hit New Orleans",
    ]
    with_it = [p for p in unused if p != "tok2vec"]

    def ents(disable: list[str]) -> list[list[tuple[int, int, str]]]:
        docs = nlp.pipe(texts, disable=disable)
        return [[(e.start, e.end, e.label_) for e in doc.ents] for doc in docs]

    assert ents(unused) == ents(with_it)


class CountingModels:
    """Tags a name in every capitalised text (or in every text: `everything`), counting reads."""

    def __init__(self, everything: bool = False) -> None:
        self.everything = everything
        self.read: list[str] = []

    def nlp(self) -> Any:
        """A fake pipeline that records what it reads."""
        models = self

        class Nlp:
            pipe_names = ("tok2vec", "tagger", "ner")

            def pipe(self, texts: Any, batch_size: int = 0, disable: Any = ()) -> Any:
                for text in texts:
                    models.read.append(text)
                    named = models.everything or text[:1].isupper()
                    yield _Doc([_Ent("PERSON")] if named else [])

        return Nlp()

    def analyze_texts(self, texts: Any) -> list[list[tuple[str, float]]]:
        """Nothing in free text."""
        return [[] for _ in texts]


NAMES = ["Jane Doe", "John Smith", "Ana Pérez", "Tom Baker", "Mia Wong", "Lee Chan"] * 10
PLANS = ["Flex Pool 2", "Unlimited 5G", "Data 10GB", "Basic 1", "Pro 20", "Max 3"] * 10


def _frame() -> Any:
    import polars as pl

    return pl.DataFrame({"contact": NAMES, "plan": PLANS, "col_1": [n.upper() for n in NAMES]})


def test_the_model_reads_each_distinct_text_once_per_detector_and_findings_stay_the_same() -> None:
    from piiscan.detect import Detector

    models = CountingModels()
    detector = Detector(models=models)
    first = detector.classify(_frame())
    read_once = list(models.read)
    assert len(read_once) == len(set(read_once))  # "JANE DOE" is read as "Jane Doe", once
    second = detector.classify(_frame())
    assert models.read == read_once  # nothing read again
    assert second == first
    fresh = Detector(models=CountingModels()).classify(_frame())
    assert fresh == first
    assert {f.name: f.entity for f in first}["contact"] == "PERSON"


def test_a_column_without_a_name_shaped_value_is_not_read_and_its_finding_does_not_change() -> None:
    from piiscan.detect import Detector

    models = CountingModels(everything=True)
    findings = {f.name: f for f in Detector(models=models).classify(_frame())}
    assert not any(any(c.isdigit() for c in text) for text in models.read)  # no plan was read
    assert findings["plan"].entity is None
    assert "PERSON" not in findings["plan"].evidence.get("scores", {})


def test_the_remembered_verdicts_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import polars as pl

    from piiscan.detect import Detector, classify

    monkeypatch.setattr(classify, "NAMES_REMEMBERED", 8)
    models = CountingModels()
    detector = Detector(models=models)
    before = detector.classify(_frame())
    others = ["Eva Green", "Max Moor", "Ida Bell", "Ben Ross", "Zoe Hart", "Sam Cole"] * 10
    detector.classify(pl.DataFrame({"contact": others}))
    assert detector.classify(_frame()) == before
    assert len(detector._named) <= 8
    assert models.read.count("Jane Doe") == 2  # forgotten, read again


@pytest.mark.integration
def test_a_repeated_free_text_is_read_once_and_gets_the_same_spans(
    engines: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = "Called Jane Doe on (212) 555-0147 about the overage"
    other = "Sent the quote to jane.doe@acme.example.com today"
    alone = engines.find_spans([one, other])
    nlp = engines.nlp()
    read: list[str] = []

    class Spy:
        pipe_names = nlp.pipe_names
        get_pipe = nlp.get_pipe

        def pipe(self, texts: Any, **kw: Any) -> Any:
            texts = list(texts)
            read.extend(texts)
            return nlp.pipe(texts, **kw)

    monkeypatch.setattr(engines, "nlp", lambda: Spy())
    found = engines.find_spans([one, other, one, one])
    assert read == [one, other]
    assert found == [alone[0], alone[1], alone[0], alone[0]]
    assert [s.entity for s in found[2]] == ["PERSON", "PHONE_NUMBER"]
    found[0].clear()  # each text gets its own list
    assert found[2] == alone[0]


@pytest.mark.parametrize(
    "value",
    [
        "10.20.30.40",
        "2001:db8::1",
        "::1",
        " 10.0.0.1 ",
        "300.1.1.1",
        "12",
        "1" * 40,
        "0x1",
        "",
        "DE89 3704 0044 0532 0130 00",
        "de89-3704-0044-0532-0130-00",
        "GB82WEST12345698765432",
        "GB82 WEST 1234 5698 7654 33",
        "1289370400440532013000",
        "D189370400440532013000",
        "ÄE89370400440532013000",
        "89370400440532013000DE",
    ],
)
def test_the_quick_rejections_agree_with_the_full_checks(value: str) -> None:
    """is_ip and is_iban turn some values down before asking ipaddress or stdnum: never one
    those would accept."""
    import ipaddress

    from stdnum import iban

    from piiscan.validators import is_iban, is_ip

    try:
        ipaddress.ip_address(value.strip())
        full_ip = True
    except ValueError:
        full_ip = False
    assert is_ip(value) == full_ip
    text = value.strip()
    full_iban = 15 <= len(text.replace(" ", "")) <= 34 and bool(iban.is_valid(text))
    assert is_iban(value) == full_iban
