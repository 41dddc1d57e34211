"""Headers as evidence (issue 16): header-only findings over values that cannot confirm them
(source header, lower confidence, a review item), the abbreviations, and `<thing> name`
headers that count against PERSON."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest

from piiscan.detect import ColumnFinding, Detector, Settings, read_header, uninformative
from piiscan.detect.classify import HEADER_ONLY_CONFIDENCE
from piiscan.drift import detect_drift
from piiscan.report import build_report
from piiscan.testing.model import World

from .test_detect import FakeModels

WORLD = World(31)
PEOPLE = [WORLD.person("acme", "E######", False) for _ in range(200)]
RNG = random.Random(8)
ACTIONS = {
    "PHONE_NUMBER": "hmac",
    "IMEI": "hmac",
    "ICCID": "hmac",
    "EMPLOYEE_ID": "hmac",
    "PERSON": "drop",
    "CREDIT_CARD": "drop",
}


def classify(columns: dict[str, Any], models: Any = None) -> dict[str, ColumnFinding]:
    detector = Detector(Settings(), actions=ACTIONS, models=models or FakeModels())
    return {f.name: f for f in detector.classify(pl.DataFrame(columns, strict=False))}


def placeholders(n: int) -> list[str | None]:
    pool = ["N/A", "n/a", "0", "000000000000000", "TBD", "unknown", "-", "", None, "REDACTED"]
    return [RNG.choice(pool) for _ in range(n)]


MASKED = {
    "ESN/IMEI": lambda: f"***********{RNG.randint(0, 9999):04d}",
    "SIM number": lambda: f"XXXXXXXXXXXXXXXX{RNG.randint(0, 9999):04d}",
    "User last name": lambda: RNG.choice(["J***", "S****", "D**", "M*****"]),
    "Mobile number": lambda: f"***-***-{RNG.randint(0, 9999):04d}",
}
HEADER_ENTITY = {
    "ESN/IMEI": "IMEI",
    "SIM number": "ICCID",
    "User last name": "PERSON",
    "Mobile number": "PHONE_NUMBER",
}


# -- header-only evidence --------------------------------------------------------------------


@pytest.mark.parametrize("header", list(HEADER_ENTITY))
@pytest.mark.parametrize("kind", ["placeholders", "masked"])
def test_an_identifier_header_over_values_that_cannot_confirm_it_is_flagged(
    header: str, kind: str
) -> None:
    values = placeholders(100) if kind == "placeholders" else [MASKED[header]() for _ in range(100)]
    finding = classify({header: values})[header]
    assert finding.entity == HEADER_ENTITY[header], finding.evidence
    assert finding.source == "header"
    assert finding.confidence == HEADER_ONLY_CONFIDENCE < 0.6
    assert finding.evidence["header_only"] is True and finding.evidence["recognizer"] == "header"
    assert finding.action == ACTIONS[HEADER_ENTITY[header]]  # never silently kept
    assert finding.report_json()["source"] == "header"


def test_header_only_confidence_is_below_a_value_based_finding() -> None:
    real = {
        "ESN/IMEI": [WORLD.imei() for _ in range(100)],
        "Mobile number": [WORLD.number(False) for _ in range(100)],
        "User last name": [p.last_name for p in PEOPLE[:100]],
    }
    for header, values in real.items():
        confirmed = classify({header: values})[header]
        blank = classify({header: placeholders(100)})[header]
        assert confirmed.entity == blank.entity == HEADER_ENTITY[header]
        assert confirmed.source == "detection" and blank.source == "header"
        assert blank.confidence < confirmed.confidence


@pytest.mark.parametrize(
    ("header", "values"),
    [
        ("col_9", placeholders(100)),  # no header to speak for the values
        ("Notes", placeholders(100)),
        ("Status", placeholders(100)),
        ("Device name", placeholders(100)),  # names a thing
        ("Mobile number", ["Business Unlimited", "Flex 5GB", "Pooled"] * 30),  # informative
        ("ESN/IMEI", ["Apple", "Samsung", "Google"] * 30),
    ],
)
def test_no_header_only_finding_without_an_outright_header_or_with_real_values(
    header: str, values: list[Any]
) -> None:
    finding = classify({header: values})[header]
    assert finding.entity is None and finding.source == "detection", finding.evidence
    assert "header_only" not in finding.evidence


def test_a_mostly_informative_column_is_judged_on_its_values() -> None:
    values = placeholders(50) + [f"Plan {i}" for i in range(50)]
    assert classify({"Mobile number": values})["Mobile number"].entity is None


@pytest.mark.parametrize(
    ("value", "blank"),
    [
        ("N/A", True),
        ("***-***-0147", True),
        ("XXXX-XXXX-XXXX-1234", True),
        ("J*** D**", True),
        ("0000", True),
        ("212-555-0147", False),
        ("Jane Doe", False),
        ("Box 12", False),
    ],
)
def test_uninformative_values(value: str, blank: bool) -> None:
    assert uninformative(value) is blank


def _report(columns: list[dict[str, Any]], previous: Any = None) -> dict[str, Any]:
    now = datetime(2026, 11, 28, 2, tzinfo=UTC)
    return build_report(
        "acme",
        "20261128T020000Z-a16a16",
        now,
        ingest={},
        datasets={"devices": {"files": 1, "rows": 100, "columns": columns}},
        purge={"rows_deleted": 0},
        previous=previous,
    )


def test_a_header_only_column_is_a_review_item_from_the_first_scan() -> None:
    findings = classify({"extras.esn_imei": placeholders(100), "model": ["iPhone 15"] * 100})
    columns = [f.report_json() for f in findings.values()]
    items, pending = detect_drift(None, {"devices": {"columns": columns}}, [], "r1", 0.8)
    assert [(i["column"], i["kinds"]) for i in items] == [("extras.esn_imei", ["header_only"])]
    assert pending == items and items[0]["current"]["entity"] == "IMEI"
    reviewed = [("devices", "extras.esn_imei")]
    assert detect_drift(None, {"devices": {"columns": columns}}, reviewed, "r1", 0.8) == ([], [])


def test_a_header_only_column_stays_pending_night_after_night() -> None:
    finding = classify({"extras.esn_imei": placeholders(100)})["extras.esn_imei"]
    first = _report([finding.report_json()])
    assert first["needs_review"] and first["review"]["pending"][0]["kinds"] == ["header_only"]
    second = _report([finding.report_json()], previous=first)
    assert second["needs_review"]
    assert [i["column"] for i in second["review"]["pending"]] == ["extras.esn_imei"]


# -- abbreviations and thing names ------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "entity"),
    [
        ("fname", "PERSON"),
        ("lname", "PERSON"),
        ("emp_no", "EMPLOYEE_ID"),
        ("EmpNo", "EMPLOYEE_ID"),
        ("ccn", "CREDIT_CARD"),
        ("msisdn", "PHONE_NUMBER"),
        ("esn", "IMEI"),
    ],
)
def test_header_abbreviations_name_their_entity_outright(header: str, entity: str) -> None:
    found = read_header(header)
    assert entity in found.supported and entity in found.outright
    assert not found.against and not found.not_pii


@pytest.mark.parametrize(
    ("header", "values", "entity"),
    [
        ("fname", [p.first_name for p in PEOPLE], "PERSON"),
        ("lname", [p.last_name for p in PEOPLE], "PERSON"),
        ("emp_no", [p.employee_id for p in PEOPLE], "EMPLOYEE_ID"),
        ("msisdn", [WORLD.number(False) for _ in range(150)], "PHONE_NUMBER"),
        ("esn", [WORLD.imei() for _ in range(150)], "IMEI"),
        ("ccn", ["4111111111111111", "5555555555554444", "4012888888881881"] * 5, "CREDIT_CARD"),
    ],
)
def test_abbreviated_headers_over_their_values(header: str, values: list[str], entity: str) -> None:
    finding = classify({header: values})[header]
    assert finding.entity == entity, finding.evidence
    assert finding.evidence["header_supports"] == [entity]


@pytest.mark.parametrize(
    "header",
    [
        "country_name",
        "storm_name",
        "source_name",
        "pool_name",
        "Pool Name",
        "plan_name",
        "Rate Plan Name",
        "feature_name",
    ],
)
def test_a_things_name_counts_against_person(header: str) -> None:
    found = read_header(header)
    assert "PERSON" not in found.supported
    assert "PERSON" in found.against or found.not_pii


@pytest.mark.parametrize(
    "header", ["Name", "User Name", "Employee Name", "Cardholder Name", "name_full", "Full Name"]
)
def test_a_persons_name_header_still_names_person(header: str) -> None:
    assert "PERSON" in read_header(header).supported


class EveryWordANameModels(FakeModels):
    """A model that tags every capitalised word as a person (what spaCy does to storm names)."""

    def nlp(self) -> Any:
        inner = super().nlp()

        class Nlp:
            pipe_names = inner.pipe_names

            def pipe(self, texts: Any, batch_size: int = 0, disable: Any = ()) -> Any:
                from .test_detect import _Doc, _Ent

                for text in texts:
                    yield _Doc([_Ent("PERSON")] if text[:1].isupper() else [])

        return Nlp()


@pytest.mark.parametrize(
    ("header", "values"),
    [
        ("storm_name", ["Katrina", "Sandy", "Harvey", "Irma", "Maria", "Ida", "Ian"] * 10),
        ("country_name", ["France", "Germany", "Canada", "Mexico", "Japan"] * 10),
        ("source_name", ["Jordan Smith", "Avery Lee", "Morgan Hill"] * 10),
        ("Pool Name", ["East Coast", "West Region", "Sales Team", "Kelly Morgan"] * 10),
    ],
)
def test_no_person_on_thing_name_headers_even_when_the_model_says_so(
    header: str, values: list[str]
) -> None:
    finding = classify({header: values}, EveryWordANameModels())[header]
    assert finding.entity is None, finding.evidence
    assert finding.evidence["header_contradicts"] is True
    assert classify({"User Name": values}, EveryWordANameModels())["User Name"].entity == "PERSON"
