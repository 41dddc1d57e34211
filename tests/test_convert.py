"""Column conversions: delivered text to canonical values, errors that never echo a value."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from piiscan.ingest.convert import convert, convert_distinct, date_time
from piiscan.layouts import Column, Kind


def run(
    kind: Kind, text: str | None, fmt: str | None = None, required: bool = False
) -> tuple[Any, Any]:
    column = Column("Header", "target", kind, required=required, fmt=fmt)
    value, error = convert("raw", column)
    row = pl.DataFrame({"raw": [text]}, schema={"raw": pl.String}).select(value, error.alias("e"))
    return row["target"][0], row["e"][0]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("$1,234.56", Decimal("1234.56")),
        ("(948.03)", Decimal("-948.03")),
        ("($948.03)", Decimal("-948.03")),
        ("-12.00", Decimal("-12.00")),
        ("  7.5 ", Decimal("7.50")),
        ("167.000000000000000", Decimal("167.00")),
        ("N/A", None),
        ("", None),
    ],
)
def test_money(text: str, value: Decimal | None) -> None:
    assert run("money", text) == (value, None)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("212-555-0147", "2125550147"),
        ("(212) 555-0147", "2125550147"),
        ("+1 212 555 0147", "2125550147"),
        ("12125550147", "2125550147"),
        ("2125550147", "2125550147"),
    ],
)
def test_wireless_numbers_become_ten_digits(text: str, value: str) -> None:
    assert run("phone", text) == (value, None)


@pytest.mark.parametrize(
    ("kind", "text", "expected_error"),
    [
        ("phone", "555-0147", "expected a 10-digit wireless number"),
        ("phone", "2.12555E+09", "expected a 10-digit wireless number"),
        ("id", "4.88E+31", "scientific notation"),
        ("id", "3.53911E+14", "scientific notation"),
        ("money", "twelve", "expected an amount"),
        ("number", "1.2.3", "expected a number"),
        ("int", "4.5", "expected a whole number"),
        ("mmss", "10:75", "minutes:seconds"),
        ("date", "2026-13-01", "expected a date"),
    ],
)
def test_bad_values_give_an_error_naming_the_column_not_the_value(
    kind: Kind, text: str, expected_error: str
) -> None:
    value, error = run(kind, text, fmt="%Y-%m-%d" if kind == "date" else None)
    assert value is None
    assert error.startswith("column 'Header': ") and expected_error in error
    assert text not in error


@pytest.mark.parametrize(
    ("kind", "text", "fmt", "value"),
    [
        ("mmss", "1053:30", None, 1053.5),
        ("number", "1,234.5", None, 1234.5),
        ("int", "1,204", None, 1204),
        ("date", "Aug 16, 2021", "%b %d, %Y", date(2021, 8, 16)),
        ("date", "20230216", "%Y%m%d", date(2023, 2, 16)),
        ("id", " E123456 ", None, "E123456"),
        ("dialed", "1-800-555-0100", None, "18005550100"),
        ("text", "  padded  ", None, "padded"),
        ("text", "NA", None, None),
        ("datetime", "2026-10-03T14:05:00", None, datetime(2026, 10, 3, 14, 5)),
        ("datetime", "2026-10-03T14:05:00Z", None, datetime(2026, 10, 3, 14, 5)),
        ("datetime", "2026-10-03T16:05:00+02:00", None, datetime(2026, 10, 3, 14, 5)),
    ],
)
def test_conversions(kind: Kind, text: str, fmt: str | None, value: Any) -> None:
    assert run(kind, text, fmt) == (value, None)


def test_required_blank_is_an_error() -> None:
    assert run("text", " ", required=True) == (None, "column 'Header': required value missing")


# Delivered-looking text: digits and the punctuation conversions treat specially, repeated so
# columns hold duplicates, as real ones do.
TEXT = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "N/A", "-", "$1,234.56", "(948.03)", "(212) 555-0147", "4.88E+31"]),
    st.text(alphabet="0123456789 -+().,$:/Ee1", max_size=14),
    st.sampled_from(["2026-10-03T14:05:00", "2026-10-03T14:05:00Z", "2026-10-03T16:05+02:00"]),
)
KINDS: list[tuple[Kind, str | None]] = [
    ("id", None),
    ("phone", None),
    ("dialed", None),
    ("money", None),
    ("number", None),
    ("int", None),
    ("date", "%m/%d/%Y"),
    ("mmss", None),
    ("datetime", None),
]


@settings(max_examples=200, deadline=None)
@given(
    texts=st.lists(TEXT, min_size=1, max_size=40),
    kind_fmt=st.sampled_from(KINDS),
    required=st.booleans(),
)
def test_converting_distinct_values_equals_converting_every_row(
    texts: list[str | None], kind_fmt: tuple[Kind, str | None], required: bool
) -> None:
    kind, fmt = kind_fmt
    column = Column("Header", "target", kind, required=required, fmt=fmt)
    raw = pl.Series("raw", texts, dtype=pl.String)
    value, error = convert("raw", column)
    rows = raw.to_frame().select(value, error.alias("e"))
    values, errors = convert_distinct(raw, column)
    assert values.to_list() == rows["target"].to_list()
    assert (errors.to_list() if errors is not None else [None] * len(texts)) == rows["e"].to_list()


DATES = st.one_of(
    st.none(),
    st.sampled_from(["10/13/2026", "1/3/2026", "02/30/2026", "10/13/2026 12:06", "13/01/2026"]),
    st.text(alphabet="0123456789/: APM", max_size=12),
)
CLOCKS = st.one_of(
    st.none(),
    st.sampled_from(["12:06 PM", "01:33 AM", "1:00 PM", "13:00 PM", "PM", "12:06"]),
    st.text(alphabet="0123456789: APM", max_size=9),
)


@settings(max_examples=300, deadline=None)
@given(pairs=st.lists(st.tuples(DATES, CLOCKS), min_size=1, max_size=30))
def test_date_time_equals_parsing_the_joined_text(
    pairs: list[tuple[str | None, str | None]],
) -> None:
    dates = pl.Series("d", [d for d, _ in pairs], dtype=pl.String)
    clocks = pl.Series("c", [c for _, c in pairs], dtype=pl.String)
    whole = (dates + " " + clocks).str.strptime(
        pl.Datetime("us"), "%m/%d/%Y %I:%M %p", strict=False
    )
    assert date_time(dates, clocks, "%m/%d/%Y", "%I:%M %p").to_list() == whole.to_list()


def test_distinct_values_keep_null_apart_from_empty_text() -> None:
    from piiscan.ingest.convert import by_distinct

    column = pl.Series("c", [None, "a", "", None, "a"], dtype=pl.String)
    assert by_distinct(column, lambda v: v.is_null()).to_list() == [True, False, False, True, False]
    assert by_distinct(column, lambda v: v.fill_null("?")).to_list() == ["?", "a", "", "?", "a"]
    assert by_distinct(column.drop_nulls(), lambda v: v + "!").to_list() == ["a!", "!", "a!"]
