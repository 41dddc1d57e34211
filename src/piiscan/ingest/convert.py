"""Whole-column conversions from delivered text to canonical values, with per-row errors.

Each conversion gives a value expression and an error expression; the error names the column
and what was expected, never the value itself (it may be personal data).
"""

from __future__ import annotations

import polars as pl

from piiscan.ingest.layouts import Column
from piiscan.schema import MONEY

PLACEHOLDERS = ("N/A", "NA", "n/a", "-", "--")
PHONE_PUNCTUATION = "-() .+/"


def cleaned(name: str) -> pl.Expr:
    """The raw text without padding; blanks and N/A placeholders become null."""
    return pl.col(name).str.strip_chars().replace(["", *PLACEHOLDERS], None)


def _without(text: pl.Expr, characters: str) -> pl.Expr:
    """Text with each of these characters removed (literal replaces: much faster than a regex)."""
    for character in characters:
        text = text.str.replace_all(character, "", literal=True)
    return text


def _scientific(text: pl.Expr) -> pl.Expr:
    """Excel's scientific notation (4.88E+31): a damaged identifier."""
    return text.str.contains("E+", literal=True) | text.str.contains("e+", literal=True)


def _number(text: pl.Expr) -> pl.Expr:
    return text.str.replace_all(",", "", literal=True).cast(pl.Float64, strict=False)


def _money(text: pl.Expr) -> pl.Expr:
    plain = _without(text, "$, +")
    signed = (
        pl.when(plain.str.starts_with("("))
        .then(pl.lit("-") + plain.str.strip_chars("()"))
        .otherwise(plain)
    )
    return signed.cast(MONEY, strict=False)


def _mmss(text: pl.Expr) -> pl.Expr:
    parts = text.str.extract_groups(r"^(\d+):([0-5]\d)$")
    minutes = parts.struct.field("1").cast(pl.Float64, strict=False)
    seconds = parts.struct.field("2").cast(pl.Float64, strict=False)
    return minutes + seconds / 60.0


EXPECTED = {
    "id": "an identifier, not a number in scientific notation (Excel damage)",
    "phone": "a 10-digit wireless number",
    "dialed": "a dialed number (digits)",
    "money": "an amount like 1234.56, $1,234.56 or (948.03)",
    "number": "a number like 167.000 or 1,234.5",
    "int": "a whole number",
    "date": "a date",
    "mmss": "a duration like 1053:00 (minutes:seconds)",
    "datetime": "an ISO date-time like 2026-10-03T14:05:00",
}


def convert_value(text: pl.Expr, column: Column) -> pl.Expr:
    """The canonical value from cleaned text (see `cleaned`)."""
    kind = column.kind
    if kind == "text":
        return text
    if kind in ("id", "dialed"):
        plain = text if kind == "id" else _without(text, PHONE_PUNCTUATION)
        return pl.when(_scientific(text)).then(None).otherwise(plain)
    if kind == "phone":  # 10 digits, a leading 1 dropped; anything else is an error
        return _without(text, PHONE_PUNCTUATION).str.extract(r"^1?(\d{10})$", 1)
    if kind == "money":
        return _money(text)
    if kind == "number":
        return _number(text)
    if kind == "int":
        number = _number(text)
        return pl.when(number == number.floor()).then(number).cast(pl.Int64, strict=False)
    if kind == "date":
        return text.str.strptime(pl.Date, column.fmt or "%Y-%m-%d", strict=False)
    if kind == "mmss":
        return _mmss(text)
    if kind == "datetime":
        return text.str.strptime(pl.Datetime("us"), strict=False)
    raise AssertionError(kind)  # pragma: no cover - Kind is a closed Literal


def convert_error(text: pl.Expr, value: pl.Expr, column: Column) -> pl.Expr:
    """The row's error for this column, from its cleaned text and converted value."""
    where = f"column {column.header!r}"
    return (
        pl.when(text.is_not_null() & value.is_null())
        .then(pl.lit(f"{where}: expected {EXPECTED.get(column.kind, column.kind)}"))
        .when(pl.lit(column.required) & text.is_null())
        .then(pl.lit(f"{where}: required value missing"))
    )


def convert(name: str, column: Column) -> tuple[pl.Expr, pl.Expr]:
    """Value and error expressions turning string column `name` into column.target."""
    text = cleaned(name)
    value = convert_value(text, column)
    return value.alias(column.target), convert_error(text, value, column)
