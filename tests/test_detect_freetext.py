"""Free-text columns (issue 16): classified as free text with per-entity shares, personal data
from a threshold (a share of values, or a number of distinct values), action redact; one hit
(a carrier's PO box) never decides. Unit tests read the words with our validators (no model);
the integration tests use the real spaCy model and Presidio's analyzer."""

from __future__ import annotations

import json
import random
from typing import Any

import polars as pl
import pytest

from piiscan.detect import ColumnFinding, Detector, Settings
from piiscan.testing.model import World

WORLD = World(41)
RNG = random.Random(16)
PEOPLE = [WORLD.person("acme", "E######", False) for _ in range(40)]
ACTIONS = {"PHONE_NUMBER": "hmac", "PERSON": "drop", "EMAIL_ADDRESS": "drop", "FREE_TEXT": "redact"}
FILLER = (
    "Customer asked about the roaming charges on the last bill cycle, ticket {i} opened",
    "Line suspended after the device was reported lost by the user, case {i} closed",
    "Upgrade requested and waiting for the carrier to confirm the order number {i}",
    "Plan moved to the pooled data plan from the next bill cycle onwards, ref {i}",
    "Replacement handset shipped to the branch office by ground courier, box {i}",
)


def sentences(n: int) -> list[str]:
    return [RNG.choice(FILLER).format(i=i) for i in range(n)]


def planted(n: int, every: int, make: Any) -> tuple[list[str], list[str]]:
    """n notes; every `every`-th holds make(i); also returns what was planted."""
    notes = sentences(n)
    spans = []
    for i in range(0, n, every):
        text, span = make(i)
        notes[i] = text
        spans.append(span)
    return notes, spans


def phone_note(i: int) -> tuple[str, str]:
    number = f"212-555-{i:04d}"
    return f"Called the user back on {number} about the overage, left a voicemail today", number


def email_note(i: int) -> tuple[str, str]:
    mail = f"jane.doe{i}@acme.example.com"
    return f"Sent the new plan details to {mail} as requested by the manager today", mail


def classify(
    columns: dict[str, Any], settings: Settings | None = None, models: Any = None
) -> dict[str, ColumnFinding]:
    detector = Detector(settings or Settings(), actions=ACTIONS, models=models)
    return {f.name: f for f in detector.classify(pl.DataFrame(columns, strict=False))}


def test_a_minority_of_phone_numbers_makes_free_text_personal() -> None:
    notes, numbers = planted(200, 20, phone_note)  # 5% of the values
    finding = classify({"notes": notes})["notes"]
    assert finding.kind == "free_text" and finding.evidence["free_text"] is True
    assert finding.entity == "PHONE_NUMBER" and finding.action == "redact"
    assert finding.policy_entity == "FREE_TEXT"
    assert finding.evidence["entities"]["PHONE_NUMBER"] == len(numbers)
    assert finding.evidence["shares"]["PHONE_NUMBER"] == len(numbers) / 200
    assert finding.evidence["threshold"] == {"share": 0.02}
    assert finding.confidence >= 0.6
    assert not [n for n in numbers if n in json.dumps(finding.report_json())]


def test_every_entity_found_gets_its_share() -> None:
    notes, _ = planted(200, 20, phone_note)
    for i in range(5, 200, 25):
        notes[i] = email_note(i)[0]
    finding = classify({"notes": notes})["notes"]
    assert set(finding.evidence["shares"]) >= {"PHONE_NUMBER", "EMAIL_ADDRESS"}
    assert finding.evidence["shares"]["EMAIL_ADDRESS"] == 8 / 200
    assert list(finding.evidence["entities"]) == sorted(
        finding.evidence["entities"], key=lambda e: -finding.evidence["entities"][e]
    )
    assert finding.entity == "PHONE_NUMBER"  # the one found most


def test_free_text_without_any_entity_is_kept() -> None:
    finding = classify({"notes": sentences(200)})["notes"]
    assert finding.kind == "free_text" and finding.entity is None and finding.action == "keep"
    assert finding.evidence["entities"] == {} and finding.policy_entity is None


@pytest.mark.parametrize("hits", [1, 3])
def test_a_share_under_the_threshold_is_not_personal(hits: int) -> None:
    notes = sentences(200)
    for i in range(hits):
        notes[i * 50] = phone_note(i)[0]
    finding = classify({"notes": notes})["notes"]
    assert finding.kind == "free_text" and finding.entity is None, finding.evidence
    assert finding.evidence["entities"] == {"PHONE_NUMBER": hits}
    assert finding.action == "keep"


def test_the_threshold_is_configurable_as_a_share() -> None:
    notes, _ = planted(200, 20, phone_note)  # 5%
    strict = classify({"notes": notes}, Settings(free_text_share=0.1))["notes"]
    assert strict.entity is None and strict.evidence["threshold"] == {"share": 0.1}
    loose = classify({"notes": planted(200, 100, phone_note)[0]}, Settings(free_text_share=0.01))
    assert loose["notes"].entity == "PHONE_NUMBER"  # 2 of 200


def test_the_threshold_is_configurable_as_a_number_of_distinct_values() -> None:
    notes = sentences(200)
    for i in range(3):
        notes[i * 60] = phone_note(i)[0]  # 1.5%: under the share
    settings = Settings(free_text_values=3)
    finding = classify({"notes": notes}, settings)["notes"]
    assert finding.entity == "PHONE_NUMBER" and finding.action == "redact"
    assert finding.evidence["threshold"] == {"share": 0.02, "values": 3}


def test_one_hit_never_decides_even_with_a_tiny_sample() -> None:
    notes = sentences(20)
    notes[3] = phone_note(3)[0]  # 5% of 20 values, but one value
    assert classify({"notes": notes})["notes"].entity is None


def test_short_values_are_not_free_text() -> None:
    finding = classify({"status": ["active", "suspended", "closed"] * 30})["status"]
    assert finding.kind == "values" and "free_text" not in finding.evidence


def test_a_column_of_whole_values_is_not_free_text_however_long() -> None:
    addresses = [p.address for p in PEOPLE] * 3  # long, but each value one address
    finding = classify({"ship to": addresses})["ship to"]
    assert finding.entity == "LOCATION" and finding.kind == "values"


# -- the real model -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def engines() -> Any:
    from piiscan.nlp import Engines

    return Engines()


def person_note(i: int) -> tuple[str, str]:
    person = PEOPLE[i % len(PEOPLE)]
    name = f"{person.first_name} {person.last_name}"
    if i % 2:
        return f"{name} asked for a new SIM card, shipped to the branch office on Monday", name
    return f"Called {name} about moving the line to the new cost center next month", name


@pytest.mark.integration
def test_names_in_a_minority_of_notes_with_the_real_model(engines: Any) -> None:
    notes, names = planted(200, 25, person_note)  # 4%
    finding = classify({"notes": notes}, models=engines)["notes"]
    assert finding.kind == "free_text" and finding.entity == "PERSON", finding.evidence
    assert finding.action == "redact"
    # the small model misses some names in a sentence; the share still decides
    assert finding.evidence["entities"]["PERSON"] >= len(names) // 2
    assert not [n for n in names if n in json.dumps(finding.report_json())]


@pytest.mark.integration
def test_a_mix_of_entities_with_the_real_model(engines: Any) -> None:
    notes = sentences(200)
    for i in range(0, 200, 40):
        notes[i] = person_note(i // 40)[0]
        notes[i + 1] = phone_note(i)[0]
        notes[i + 2] = email_note(i)[0]
        notes[i + 3] = f"Swapped the handset, old IMEI {WORLD.imei()} returned to the depot today"
    finding = classify({"notes": notes}, models=engines)["notes"]
    shares = finding.evidence["shares"]
    assert {"PERSON", "PHONE_NUMBER", "EMAIL_ADDRESS", "IMEI"} <= set(shares), shares
    assert all(shares[e] >= 0.02 for e in ("PHONE_NUMBER", "EMAIL_ADDRESS", "IMEI"))


@pytest.mark.integration
def test_free_text_person_needs_the_threshold_with_the_real_model(engines: Any) -> None:
    notes = sentences(200)
    notes[17] = person_note(17)[0]  # one name in 200 notes
    finding = classify({"notes": notes}, models=engines)["notes"]
    assert finding.entity is None, finding.evidence


@pytest.mark.integration
@pytest.mark.parametrize(
    "header", ["Remittance Address", "remit_to", "Notes", "Pay To", "Carrier Address"]
)
def test_a_carriers_po_box_remittance_address_is_not_a_person(engines: Any, header: str) -> None:
    values = ["Verizon Wireless, PO Box 660108, Dallas, TX 75266-0108"] * 50
    finding = classify({header: values}, models=engines)[header]
    assert finding.entity is None, finding.evidence
