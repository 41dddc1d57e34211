"""Column classification without the spaCy model (a stand-in plays the NER part)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
import pytest

from piiscan.detect import Detector, Settings, header_words, mask, sample_values, wilson_lower
from piiscan.testing.model import World

WORLD = World(17)
PEOPLE = [WORLD.person("acme", "E######", False) for _ in range(300)]
LINES = WORLD.account("acme", "att", "E######", 90, __import__("datetime").date(2026, 1, 16)).lines
RNG = random.Random(4)


@dataclass
class _Ent:
    label_: str


@dataclass
class _Doc:
    ents: list[_Ent]


class FakeModels:
    """Says PERSON for known full names of the fixture world (what the real model does well)."""

    def __init__(self) -> None:
        self.names = {p.full_name for p in PEOPLE} | {p.first_name for p in PEOPLE}
        self.loaded = 0

    def nlp(self) -> Any:
        self.loaded += 1
        names = self.names

        class Nlp:
            pipe_names = ("tok2vec", "tagger", "ner")

            def pipe(
                self, texts: Iterable[str], batch_size: int = 0, disable: Sequence[str] = ()
            ) -> Iterator[_Doc]:
                assert list(disable) == ["tagger"]  # only what NER needs runs
                for text in texts:
                    yield _Doc([_Ent("PERSON")] if text in names else [])

        return Nlp()

    def analyze_texts(self, texts: Sequence[str]) -> list[list[tuple[str, float]]]:
        return [[("PERSON", 0.85)] if any(n in t for n in self.names) else [] for t in texts]


def classify(
    columns: dict[str, Any], models: FakeModels | None = None, **kw: Any
) -> dict[str, Any]:
    detector = Detector(
        Settings(),
        models=models or FakeModels(),
        actions={"PHONE_NUMBER": "hmac", "PERSON": "drop"},
        **kw,
    )
    findings = detector.classify(pl.DataFrame(columns, strict=False))
    return {f.name: f for f in findings}


def tens(n: int) -> list[str]:
    return [str(RNG.randint(10**9, 10**10 - 1)) for _ in range(n)]


@pytest.mark.parametrize(
    ("header", "values", "entity"),
    [
        ("col_1", [line.imei for line in LINES], "IMEI"),  # Luhn-valid, also "credit cards"
        ("Card Number", [line.imei for line in LINES], "CREDIT_CARD"),  # only with the header
        ("f3", [line.iccid for line in LINES], "ICCID"),
        ("attr", [line.imsi for line in LINES], "IMSI"),
        ("col_2", [line.number for line in LINES], "PHONE_NUMBER"),
        ("Wireless Number", [line.dashed for line in LINES], "PHONE_NUMBER"),
        ("Rufnummer", ["+49 30 9018" + f"{i:03d}" for i in range(90)], "PHONE_NUMBER"),
        ("Correo", [p.email for p in PEOPLE], "EMAIL_ADDRESS"),
        ("Personalnummer", [p.employee_id for p in PEOPLE], "EMPLOYEE_ID"),
        ("Employee ID", [p.email for p in PEOPLE], "EMPLOYEE_ID"),  # e-mails as employee IDs
        ("host", [f"10.{i // 250}.{i % 250}.7" for i in range(300)], "IP_ADDRESS"),
        ("ship to", [p.address for p in PEOPLE], "LOCATION"),
        ("User Name", [p.full_name.upper() for p in PEOPLE], "PERSON"),
        ("c9", [f"{p.last_name}, {p.first_name}" for p in PEOPLE], "PERSON"),
        ("Prénom", [p.first_name for p in PEOPLE], "PERSON"),
        ("Invoice Number", tens(300), None),
        ("col_3", tens(300), None),  # random 10-digit numbers: about half look like phones
        ("Minutes", [str(RNG.randint(0, 900)) for _ in range(300)], None),
        (
            "Plan",
            ["Business Unlimited Plus", "Flex Business 5GB", "Business Essentials"] * 30,
            None,
        ),
        ("Device make", ["Apple", "Samsung", "Google", "Motorola"] * 20, None),
        ("ref", [str(RNG.randint(10**14, 10**15 - 1)) for _ in range(300)], None),
    ],
)
def test_column_entity(header: str, values: list[str], entity: str | None) -> None:
    finding = classify({header: values})[header]
    assert finding.entity == entity, finding.evidence
    assert (finding.confidence >= 0.6) is (entity is not None)


def test_integer_typed_phone_numbers_are_still_checked() -> None:
    numbers = pl.Series("msisdn", [int(line.number) for line in LINES], dtype=pl.Int64)
    assert classify({"msisdn": numbers})["msisdn"].entity == "PHONE_NUMBER"


def test_sparse_columns_are_judged_on_their_values() -> None:
    imeis = [WORLD.imei() for _ in range(450)]
    values = [imei if i % 10 == 0 else None for i, imei in enumerate(imeis)]
    finding = classify({"x": values})["x"]
    assert finding.entity == "IMEI" and finding.evidence["sampled"] == 45


def test_money_dates_and_booleans_are_never_pii() -> None:
    findings = classify(
        {
            "charge": pl.Series([1.5, 2.25] * 10).cast(pl.Decimal(18, 2)),
            "when": pl.Series(["2026-01-01"] * 20).str.to_date(),
            "flag": [True, False] * 10,
        }
    )
    assert all(f.entity is None and f.action == "keep" for f in findings.values())


def test_the_model_is_loaded_only_for_text_that_could_be_names() -> None:
    models = FakeModels()
    classify({"imei": [line.imei for line in LINES], "n": list(range(90))}, models)
    assert models.loaded == 0
    classify({"who": [p.full_name for p in PEOPLE]}, models)
    assert models.loaded == 1


def test_customer_pattern_finds_employee_ids_under_an_opaque_header() -> None:
    ids = [p.employee_id for p in PEOPLE]
    assert classify({"col": ids})["col"].entity is None
    found = classify({"col": ids}, employee_id_patterns=[r"E\d{6}"])["col"]
    assert found.entity == "EMPLOYEE_ID"


def test_all_digit_customer_ids_need_a_fixed_zero_padded_width_without_a_header() -> None:
    patterns = [r"\d{8}"]
    ids = [f"{RNG.randint(0, 99_999_999):08d}" for _ in range(300)]
    assert classify({"f11": ids}, employee_id_patterns=patterns)["f11"].entity == "EMPLOYEE_ID"
    assert classify({"f11": ids})["f11"].entity is None  # not configured for this customer
    counters = [str(RNG.randint(0, 20_000_000)) for _ in range(300)]  # widths 1 to 8
    assert classify({"f9": counters}, employee_id_patterns=patterns)["f9"].entity is None
    days = [f"2026{RNG.randint(1, 12):02d}{RNG.randint(1, 28):02d}" for _ in range(300)]
    assert classify({"f4": days}, employee_id_patterns=patterns)["f4"].entity is None
    few = ids[:12]  # too few values to tell a padded ID from chance
    assert classify({"f2": few}, employee_id_patterns=patterns)["f2"].entity is None


def test_free_text_reports_every_entity() -> None:
    notes = [
        f"Called {p.full_name} about line {LINES[i % 90].dashed} and the new handset today"
        for i, p in enumerate(PEOPLE)
    ]
    finding = classify({"notes": notes})["notes"]
    assert finding.evidence["free_text"] is True
    assert finding.entity == "PERSON" and finding.action == "drop"


def test_evidence_is_masked_and_holds_no_raw_value() -> None:
    people = PEOPLE[:90]
    columns = {
        "phone": [line.dashed for line in LINES],
        "name": [p.full_name for p in people],
        "mail": [p.email for p in people],
        "imei": [line.imei for line in LINES],
    }
    text = json.dumps([f.as_json() for f in classify(columns).values()])
    raw = (
        [line.dashed for line in LINES]
        + [line.imei for line in LINES]
        + [v for p in people for v in (p.full_name, p.email, p.last_name) if len(v) > 3]
    )
    assert not [v for v in raw if v in text]
    assert "***-***-" in text


@pytest.mark.parametrize(
    ("value", "entity", "masked"),
    [
        ("212-555-0147", "PHONE_NUMBER", "***-***-0147"),
        ("Jane Doe", "PERSON", "J*** D**"),
        ("jane.doe@acme.example.com", "EMAIL_ADDRESS", "j***@acme.example.com"),
    ],
)
def test_mask(value: str, entity: str, masked: str) -> None:
    assert mask(value, entity) == masked


def test_sample_is_reproducible_and_independent_of_row_order() -> None:
    values = pl.Series([str(i) for i in range(5000)])
    first = sample_values(values, 200, seed=1)
    assert first == sample_values(values.shuffle(seed=9), 200, seed=1)
    assert len(first) == 200 and first != sample_values(values, 200, seed=2)


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ("employeeId", ["employee", "id", "employeeid"]),
        ("Straße", ["strasse"]),
        ("Numéro de mobile", ["numero", "de", "mobile", "numerodemobile"]),
    ],
)
def test_header_words(header: str, words: list[str]) -> None:
    assert header_words(header) == words


def test_few_values_prove_little() -> None:
    assert wilson_lower(1.0, 3) < 0.6 < wilson_lower(1.0, 200)
