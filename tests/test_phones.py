"""Wireless numbers: every written form gives the one canonical form ingest stores, junk gives
None, and holds, subject selectors and ingest agree on it."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from piiscan.cli import app
from piiscan.lake.holds import load_registry
from piiscan.lake.keyring import load_key
from piiscan.phones import canonical_number, canonical_numbers
from piiscan.pipeline.ingest import ingest_paths
from piiscan.pipeline.subject import resolve
from piiscan.policy import Config
from piiscan.pseudonymize import tokens
from piiscan.storage import LocalStorage
from piiscan.subject import RequestError, Selector

from .conftest import CONFIGS

CANONICAL = "2125550147"
FORMS = [
    "+1 (212) 555-0147",
    "1-212-555-0147",
    "212.555.0147 x12",
    "212.555.0147 ext. 12",
    "212-555-0147 extension 12",
    "2125550147x12",
    "212-555-0147 #12",
    "+1-212-555-0147;ext=12",
    "(212) 555-0147",
    "(212)555-0147",
    "212 555 0147",
    "212/555-0147",
    "2125550147",
    "12125550147",
    "+12125550147",
    "+1 212 555 0147",
    "001 212 555 0147",
    "  212-555-0147\t",
    "212\u00a0555\u00a00147",  # a no-break space, as spreadsheets paste it
]
JUNK = [
    "12345",
    "555-0147",  # no area code
    "abc",
    "212-555-CALL",
    "1-800-FLOWERS",  # letters are not read as keypad digits
    "2.12555E+09",  # Excel damage
    "212 555 0147 12",  # twelve digits: not an extension
    "212555014",
    "22125550147",  # eleven digits without the country code 1
    "1234567890",  # an area code cannot start with 0 or 1
    "0125550147",
    "2115550147",  # N11 area codes are service codes
    "2925550147",  # N9X area codes are reserved
    "2121550147",  # an exchange cannot start with 0 or 1
    "+2125550147",  # +212 is Morocco, not area code 212
    "\u0662\u0661\u0662\u0665\u0665\u0665\u0660\u0661\u0664\u0667",  # non-ASCII digits
    "",
    "   ",
    "+",
    "ext. 12",
]
OTHER_COUNTRIES = [  # valid numbers, but not NANP: the lake has no form for them
    "+44 20 7946 0000",  # the last ten digits would be 207-946-0000, a Maine number
    "020 7946 0000",
    "0044 20 7946 0000",
    "+49 30 901820",
    "+33 1 42 68 53 00",
]


@pytest.mark.parametrize("text", FORMS)
def test_every_written_form_gives_the_ten_digits_ingest_stores(text: str) -> None:
    assert canonical_number(text) == CANONICAL


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("416 555-0101", "4165550101"),  # Canada is NANP
        ("+1 (416) 555-0101", "4165550101"),
        ("1-800-555-0100", "8005550100"),
        ("(919) 555-0161", "9195550161"),
    ],
)
def test_other_nanp_numbers(text: str, canonical: str) -> None:
    assert canonical_number(text) == canonical


@pytest.mark.parametrize("text", JUNK)
def test_junk_is_no_number(text: str) -> None:
    assert canonical_number(text) is None


@pytest.mark.parametrize("text", OTHER_COUNTRIES)
def test_another_countrys_number_is_none_not_a_wrong_nanp_number(text: str) -> None:
    assert canonical_number(text) is None


def test_the_column_form_gives_what_the_scalar_gives_nulls_included() -> None:
    texts = [*FORMS, *JUNK, *OTHER_COUNTRIES, None]
    column = (
        pl.Series("v", texts, dtype=pl.String).to_frame().select(canonical_numbers(pl.col("v")))
    )
    assert column.to_series().to_list() == [
        None if t is None else canonical_number(t) for t in texts
    ]


# An extract in canonical invoice_lines columns: the person's number written three ways over
# three bill cycles, and a colleague's line.
INVOICE_LINES = """wireless_number,bill_cycle_date,charge,employee_id,user_name,invoice_status
+1 (212) 555-0147,2026-08-16,41.00,E000001,Pat Person,paid
212.555.0147 x12,2026-09-16,42.00,E000001,Pat Person,paid
1-212-555-0147,2026-10-16,43.00,E000001,Pat Person,open
(312) 555-0101,2026-10-16,50.00,E000002,Chris Colleague,open
"""


@pytest.fixture
def lake(tmp_path: Path, config: Config) -> Path:
    """A lake holding the extract above for acme, ingested."""
    extract = tmp_path / "delivered" / "invoice_lines_202610.csv"
    extract.parent.mkdir()
    extract.write_text(INVOICE_LINES)
    root = tmp_path / "lake"
    summary = ingest_paths(
        LocalStorage(root), config.customer("acme"), [extract], "20261120T020000Z-aaaaaa"
    )
    assert summary.rows == {"invoice_lines": 4} and not summary.rows_rejected, summary.as_json()
    return root


def restricted(root: Path) -> pl.DataFrame:
    folder = root / "restricted" / "invoice_lines" / "customer=acme"
    return pl.scan_parquet(folder, hive_partitioning=True).collect()


def add_hold(root: Path, *numbers: str) -> tuple[int, str]:
    flags = [arg for n in numbers for arg in ("--number", n)]
    result = CliRunner().invoke(
        app,
        [
            *("holds", "add", "--customer", "acme", "--kind", "legal", "--reason", "case 12"),
            *flags,
            *("--lake", str(root), "--config", str(CONFIGS)),
        ],
    )
    return result.exit_code, result.output


def test_ingest_stores_every_form_as_the_canonical_number(lake: Path) -> None:
    person = restricted(lake).filter(pl.col("employee_id") == "E000001")
    assert person["wireless_number"].to_list() == [CANONICAL] * 3


@pytest.mark.parametrize("written", ["+1 (212) 555-0147", "212.555.0147 x12"])
def test_a_hold_on_any_written_form_matches_the_rows_ingest_stored(
    lake: Path, written: str
) -> None:
    code, output = add_hold(lake, written)
    assert code == 0, output
    (hold,) = load_registry(LocalStorage(lake), "acme").holds
    key = load_key("acme")
    assert hold.number_tokens == (tokens([CANONICAL], key, "PHONE_NUMBER")[CANONICAL],)
    rows = restricted(lake)
    by_token = tokens(rows["wireless_number"].unique().to_list(), key, "PHONE_NUMBER")
    held = rows.filter(pl.col("wireless_number").replace(by_token).is_in(hold.number_tokens))
    assert held.height == 3
    assert held.equals(rows.filter(pl.col("wireless_number") == CANONICAL))


@pytest.mark.parametrize(
    "numbers",
    [("12345",), ("+44 20 7946 0000",), ("212-555-0147", "020 7946 0000"), ("call me",)],
)
def test_a_hold_on_no_number_is_refused_saying_what_is_expected_not_the_value(
    lake: Path, numbers: tuple[str, ...]
) -> None:
    code, output = add_hold(lake, *numbers)
    assert code == 2
    assert "10-digit wireless number" in output
    assert f"value {len(numbers)} of {len(numbers)}" in output
    assert not any(n in output for n in numbers)
    assert not load_registry(LocalStorage(lake), "acme").holds


def test_a_selector_from_any_written_form_selects_the_same_identity(lake: Path) -> None:
    storage = LocalStorage(lake)
    identities = []
    for written in ["+1 (212) 555-0147", "212.555.0147 x12", CANONICAL]:
        selector = Selector.of("number", written)
        assert selector.value == CANONICAL
        identities.append(resolve(storage, "acme", selector).values)
    assert identities[0] == identities[1] == identities[2]
    assert identities[0]["employee_id"] == {"E000001"}
    assert identities[0]["wireless_number"] == {CANONICAL}


@pytest.mark.parametrize("text", ["12345", "+44 20 7946 0000"])
def test_a_selector_on_no_number_is_refused_without_the_value(text: str) -> None:
    with pytest.raises(RequestError, match="10-digit wireless number") as raised:
        Selector.of("number", text)
    assert text not in str(raised.value)
