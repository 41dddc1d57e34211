"""Telecom validators and Presidio recognizers: valid, invalid check digit, formats, collisions."""

from __future__ import annotations

import pytest

from piiscan import recognizers as rec
from piiscan import validators as val
from piiscan.entities import Validator
from piiscan.testing.model import World, luhn_digit

IMEI = "353911101234560"
IMEI = IMEI[:14] + luhn_digit(IMEI[:14])
ICCID_BODY = "8901410321234567890"
ICCID = ICCID_BODY + luhn_digit(ICCID_BODY)


def wrong_check(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        (IMEI, True),
        (f"{IMEI[:2]}-{IMEI[2:8]}-{IMEI[8:14]}-{IMEI[14]}", True),
        (wrong_check(IMEI), False),
        ("111111111111111", False),
        (IMEI[:14], False),
        (IMEI + "0", False),
    ],
)
def test_imei(value: str, valid: bool) -> None:
    assert val.is_imei(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [("3539111012345601", True), ("1234567890123456", False), ("35391110123456", False)],
)
def test_imeisv(value: str, valid: bool) -> None:
    assert val.is_imeisv(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("A0000012345678", True),
        ("a10000009296f2", True),
        ("12345678901234", False),
        ("9F000012345678", False),
    ],
)
def test_meid(value: str, valid: bool) -> None:
    assert val.is_meid(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        (ICCID, True),
        (ICCID + "F", True),  # a leaked filler nibble
        (ICCID_BODY, True),  # a feed that dropped the check digit
        (wrong_check(ICCID), False),
        ("7" + ICCID[1:], False),
        ("89014", False),
    ],
)
def test_iccid(value: str, valid: bool) -> None:
    assert val.is_iccid(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("310410123456789", True),
        ("311480123456789", True),
        ("234150123456789", True),
        ("262020123456789", True),
        ("999990123456789", False),
        ("3104101234", False),
    ],
)
def test_imsi(value: str, valid: bool) -> None:
    assert val.is_imsi(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("212-555-0147", True),
        ("(212) 555-0147", True),
        ("2125550147", True),
        ("+1 212 555 0147", True),
        ("12125550147", True),
        ("416 555-0101", True),  # Canada
        ("+44 20 7946 0958", True),
        ("020 7946 0958", True),  # GB national
        ("030 901820", True),  # DE national
        ("01 42 68 53 00", True),  # FR national
        ("4930901820", True),  # DE number that lost its + in an integer column
        ("0044 20 7946 0958", True),
        ("1234567890", False),  # NANP area code cannot start with 1
        ("555-0147", False),
        ("9494", False),
        ("abc", False),
    ],
)
def test_phone(value: str, valid: bool) -> None:
    assert val.is_phone(value) is valid


@pytest.mark.parametrize(
    ("validator", "value", "valid"),
    [
        (val.is_email, "jane.doe@acme.example.com", True),
        (val.is_email, "jane.doe@localhost", False),
        (val.is_ip, "10.20.30.40", True),
        (val.is_ip, "2001:db8::1", True),
        (val.is_ip, "300.1.1.1", False),
        (val.is_ssn, "536-90-4399", True),
        (val.is_ssn, "666-90-4399", False),
        (val.is_ssn, "536-00-4399", False),
        (val.is_street_address, "742 Evergreen Terrace", True),
        (val.is_street_address, "12 Main St., Springfield, IL 62701", True),
        (val.is_street_address, "Hauptstraße 5, 10115 Berlin", True),
        (val.is_street_address, "12 rue de la Paix", True),
        (val.is_street_address, "Business Unlimited Plus", False),
    ],
)
def test_other_validators(validator: Validator, value: str, valid: bool) -> None:
    assert validator(value) is valid


def test_imeis_that_pass_the_credit_card_check_are_still_imeis() -> None:
    world = World(3)
    imeis = [world.imei() for _ in range(50)]
    assert all(val.is_imei(v) for v in imeis)
    assert all(val.is_credit_card(v) for v in imeis)  # the collision the detector must resolve


def test_fixture_identifiers_validate() -> None:
    world = World(5)
    account = world.account("acme", "att", "E######", 20, __import__("datetime").date(2026, 1, 16))
    for line in account.lines:
        assert val.is_phone(line.number) and val.is_imei(line.imei)
        assert val.is_iccid(line.iccid) and val.is_imsi(line.imsi)


@pytest.mark.parametrize(
    ("recognizer", "text", "entity"),
    [
        (rec.recognizer("IMEI"), f"device {IMEI} swapped", "IMEI"),
        (rec.recognizer("ICCID"), f"new SIM {ICCID} shipped", "ICCID"),
        (rec.recognizer("IMSI"), "imsi 310410123456789 roaming", "IMSI"),
        (rec.recognizer("PHONE_NUMBER"), "call me on (212) 555-0147 today", "PHONE_NUMBER"),
    ],
)
def test_presidio_recognizers_find_and_validate(
    recognizer: rec.EntityRecognizer, text: str, entity: str
) -> None:
    found = recognizer.analyze(text, entities=[entity])
    assert [r.entity_type for r in found] == [entity]


def test_presidio_recognizer_rejects_an_invalid_check_digit() -> None:
    assert rec.recognizer("IMEI").analyze(f"imei {wrong_check(IMEI)}", entities=["IMEI"]) == []
