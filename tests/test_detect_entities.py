"""Values the detector must tell apart (issue 16): phone structure over the column, employee IDs
with an HR prefix, Presidio's IBAN, card and SSN under our collision rules. No model: names are
not at stake here."""

from __future__ import annotations

import random
from typing import Any

import polars as pl
import pytest
from stdnum import iban as stdnum_iban

from piiscan import validators as v
from piiscan.detect import ColumnFinding, Detector, Settings
from piiscan.testing.model import World, luhn_digit

WORLD = World(23)
RNG = random.Random(16)
ACTIONS = {
    "PHONE_NUMBER": "hmac",
    "IMEI": "hmac",
    "EMPLOYEE_ID": "hmac",
    "CREDIT_CARD": "drop",
    "IBAN": "drop",
    "US_SSN": "drop",
}


def classify(columns: dict[str, Any], **kw: Any) -> dict[str, ColumnFinding]:
    detector = Detector(Settings(), actions=ACTIONS, **kw)
    return {f.name: f for f in detector.classify(pl.DataFrame(columns, strict=False))}


def cards(n: int, prefix: str = "4", length: int = 16) -> list[str]:
    out = []
    for _ in range(n):
        body = prefix + "".join(str(RNG.randint(0, 9)) for _ in range(length - 1 - len(prefix)))
        out.append(body + luhn_digit(body))
    return out


def grouped(number: str) -> str:
    return " ".join(number[i : i + 4] for i in range(0, 16, 4))


def ibans(n: int) -> list[str]:
    out = []
    for _ in range(n):
        bban = f"{RNG.randint(10**7, 10**8 - 1)}{RNG.randint(0, 10**10 - 1):010d}"
        out.append(f"DE{stdnum_iban.calc_check_digits('DE00' + bban)}{bban}")
    return out


def ssns(n: int, written: bool = True) -> list[str]:
    out = []
    for _ in range(n):
        area = RNG.choice([a for a in range(1, 900) if a != 666])
        group, serial = RNG.randint(1, 99), RNG.randint(1, 9999)
        sep = "-" if written else ""
        out.append(f"{area:03d}{sep}{group:02d}{sep}{serial:04d}")
    return out


def unassigned_nanp(n: int) -> list[str]:
    """Well-formed NANP numbers (area code and exchange by the rules) in ranges libphonenumber
    does not know: new area codes, fictional exchanges."""
    codes = [a for a in range(200, 1000) if v.is_phone_shaped(f"{a}5550100")]
    codes = [a for a in codes if not v.is_phone(f"{a}5550100")]
    return [f"({RNG.choice(codes)}) 555-{RNG.randint(100, 199):04d}" for _ in range(n)]


def tens(n: int) -> list[str]:
    return [str(RNG.randint(10**9, 10**10 - 1)) for _ in range(n)]


# -- phone structure, decided over the column ----------------------------------------------------


def test_well_formed_numbers_outside_assigned_ranges_are_phone_numbers() -> None:
    numbers = unassigned_nanp(300)
    assert sum(v.is_phone(n) for n in numbers) < 0.5 * len(numbers)  # validity alone misses it
    finding = classify({"col_7": numbers})["col_7"]
    assert finding.entity == "PHONE_NUMBER", finding.evidence
    assert finding.confidence >= 0.6 and finding.source == "detection"


def test_structure_counts_for_less_than_assigned_ranges() -> None:
    structural = classify({"c": unassigned_nanp(300)})["c"]
    assigned = classify({"c": [WORLD.number(False) for _ in range(300)]})["c"]
    assert structural.entity == assigned.entity == "PHONE_NUMBER"
    assert structural.confidence < assigned.confidence


def test_e164_numbers_under_an_opaque_header() -> None:
    numbers = [f"+44 20 7946 {RNG.randint(0, 9999):04d}" for _ in range(200)]
    assert classify({"x": numbers})["x"].entity == "PHONE_NUMBER"


@pytest.mark.parametrize(
    "header", ["col_3", "Invoice Number", "Account Number", "ref", "BAN", "Order ID"]
)
def test_uniformly_random_ten_digit_ids_are_not_phone_numbers(header: str) -> None:
    values = tens(300)
    assert 0.4 < sum(v.is_phone_shaped(x) for x in values) / len(values) < 0.95
    finding = classify({header: values})[header]
    assert finding.entity is None, finding.evidence
    assert finding.action == "keep" and finding.confidence < 0.6


def test_a_mostly_well_formed_column_of_ids_is_still_not_phone_numbers() -> None:
    # Ids that happen to start 2-9: about two in three pass the numbering rules, not 95%.
    values = [str(RNG.randint(2 * 10**9, 10**10 - 1)) for _ in range(300)]
    assert classify({"Invoice Number": values})["Invoice Number"].entity is None


# -- employee IDs: prefixes HR systems use, without a customer pattern ----------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda i: f"EMP-{i:05d}",
        lambda i: f"EMP{i:06d}",
        lambda i: f"HR{i:06d}",
        lambda i: f"hr-{i:05d}",
    ],
)
def test_prefixed_employee_ids_need_no_customer_pattern(make: Any) -> None:
    ids = [make(RNG.randint(1, 99_999)) for _ in range(200)]
    finding = classify({"attr_4": ids})["attr_4"]
    assert finding.entity == "EMPLOYEE_ID", finding.evidence
    assert finding.action == "hmac"


@pytest.mark.parametrize(
    "make",
    [
        lambda i: f"E{i:06d}",  # a lone letter is an equipment or order code as often
        lambda i: f"ORD-{i:05d}",
        lambda i: f"PO{i:06d}",
        lambda i: f"SKU-{i:05d}",
    ],
)
def test_other_prefixes_are_not_employee_ids_without_a_pattern(make: Any) -> None:
    ids = [make(RNG.randint(1, 99_999)) for _ in range(200)]
    assert classify({"attr_4": ids})["attr_4"].entity is None


def test_a_lone_letter_prefix_is_an_employee_id_with_the_customers_pattern() -> None:
    ids = [f"E{RNG.randint(1, 999_999):06d}" for _ in range(200)]
    found = classify({"attr_4": ids}, employee_id_patterns=[r"E\d{6}"])["attr_4"]
    assert found.entity == "EMPLOYEE_ID"


def test_a_few_prefixed_values_in_a_column_do_not_make_it_employee_ids() -> None:
    values = [f"EMP-{i:05d}" for i in range(5)] + [f"Store {i}" for i in range(195)]
    assert classify({"attr": values})["attr"].entity is None


# -- Presidio's own entities under our collision rules -------------------------------------------


def test_ibans_are_found_under_an_opaque_header() -> None:
    values = ibans(200)
    finding = classify({"f9": values})["f9"]
    assert finding.entity == "IBAN" and finding.action == "drop"
    assert finding.evidence["examples"] and not set(finding.evidence["examples"]) & set(values)


def test_ibans_with_wrong_check_digits_are_not() -> None:
    wrong = [f"DE{(int(x[2:4]) + 1) % 97:02d}{x[4:]}" for x in ibans(200)]
    assert not any(v.is_iban(x) for x in wrong)
    assert classify({"f9": wrong})["f9"].entity is None


@pytest.mark.parametrize("written", [str, grouped])
def test_luhn_valid_card_numbers_are_cards_not_imeisv(written: Any) -> None:
    numbers = [written(n) for n in cards(200)]
    finding = classify({"col_5": numbers})["col_5"]
    assert finding.entity == "CREDIT_CARD", finding.evidence
    assert "IMEI" not in finding.evidence["scores"] or (
        finding.evidence["scores"]["IMEI"]["confidence"] < finding.confidence
    )


@pytest.mark.parametrize(
    ("value", "imeisv"),
    [
        ("3539111012345601", True),  # TAC + serial + software version
        ("4111111111111111", False),  # Luhn-valid Visa: a card
        ("5555555555554444", False),  # Mastercard
        ("3539 1110 1234 5601", False),  # written 4-4-4-4: how cards are written
        ("3539-1110-1234-5601", False),
    ],
)
def test_imeisv_never_takes_card_numbers_or_their_grouping(value: str, imeisv: bool) -> None:
    assert v.is_imeisv(value) is imeisv


def test_sixteen_digit_imeisv_columns_stay_imei() -> None:
    values = []
    while len(values) < 200:
        imei = WORLD.imei()
        candidate = imei[:14] + f"{RNG.randint(0, 99):02d}"
        if not v.is_card_number(candidate):
            values.append(candidate)
    assert classify({"col_6": values})["col_6"].entity == "IMEI"


def test_imeis_are_never_taken_for_cards() -> None:
    imeis = [WORLD.imei() for _ in range(200)]
    assert classify({"x": imeis})["x"].entity == "IMEI"
    assert classify({"Card Number": imeis})["Card Number"].entity == "CREDIT_CARD"  # the header


def test_written_ssns_need_no_header_and_bare_nine_digits_do() -> None:
    assert classify({"x": ssns(200)})["x"].entity == "US_SSN"
    bare = ssns(200, written=False)
    assert classify({"x": bare})["x"].entity is None  # nine digits: an account number as often
    assert classify({"SSN": bare})["SSN"].entity == "US_SSN"


def test_numbers_the_ssa_never_issues_are_not_ssns() -> None:
    invalid = [
        f"{a:03d}-{RNG.randint(1, 99):02d}-{RNG.randint(1, 9999):04d}"
        for a in RNG.choices([0, 666, *range(900, 1000)], k=200)
    ]
    assert classify({"x": invalid})["x"].entity is None
