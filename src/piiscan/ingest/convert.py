"""Whole-column conversions from delivered text to canonical values, with per-row errors.

Each conversion gives a value expression and an error expression; the error names the column
and what was expected, never the value itself (it may be personal data).
"""

from __future__ import annotations

import polars as pl

from piiscan.ingest.layouts import Column
from piiscan.schema import MONEY

PLACEHOLDERS = ("N/A", "NA", "n/a", "-", "--")
SCIENTIFIC = r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$"


def cleaned(name: str) -> pl.Expr:
    """The raw text without padding; blanks and N/A placeholders become null."""
    raw = pl.col(name).str.strip_chars()
    return pl.when((raw == "") | raw.is_in(PLACEHOLDERS)).then(None).otherwise(raw)


def _number(text: pl.Expr) -> pl.Expr:
    return text.str.replace_all(",", "", literal=True).cast(pl.Float64, strict=False)


def _money(text: pl.Expr) -> pl.Expr:
    negative = text.str.starts_with("(") | text.str.starts_with("-") | text.str.starts_with("$-")
    digits = text.str.replace_all(r"[$,()\s+-]", "")
    valid = digits.str.contains(r"^\d+(\.\d+)?$")
    amount = pl.when(valid).then(digits).cast(MONEY, strict=False)
    return pl.when(negative).then(-amount).otherwise(amount)


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


def convert(name: str, column: Column) -> tuple[pl.Expr, pl.Expr]:
    """Value and error expressions turning string column `name` into column.target."""
    text = cleaned(name)
    kind = column.kind
    if kind == "text":
        value = text
    elif kind in ("id", "dialed"):
        scientific = text.str.contains(SCIENTIFIC)
        value = (
            pl.when(scientific)
            .then(None)
            .otherwise(text if kind == "id" else text.str.replace_all(r"\D", ""))
        )
    elif kind == "phone":
        digits = text.str.replace_all(r"\D", "")
        digits = (
            pl.when((digits.str.len_chars() == 11) & digits.str.starts_with("1"))
            .then(digits.str.slice(1))
            .otherwise(digits)
        )
        value = pl.when((digits.str.len_chars() == 10) & ~text.str.contains(SCIENTIFIC)).then(
            digits
        )
    elif kind == "money":
        value = _money(text)
    elif kind == "number":
        value = _number(text)
    elif kind == "int":
        number = _number(text)
        value = pl.when(number == number.floor()).then(number).cast(pl.Int64, strict=False)
    elif kind == "date":
        value = text.str.strptime(pl.Date, column.fmt or "%Y-%m-%d", strict=False)
    elif kind == "mmss":
        value = _mmss(text)
    elif kind == "datetime":
        value = text.str.strptime(pl.Datetime("us"), strict=False)
    else:  # pragma: no cover - Kind is a closed Literal
        raise AssertionError(kind)
    where = f"column {column.header!r}"
    error = (
        pl.when(text.is_not_null() & value.is_null())
        .then(pl.lit(f"{where}: expected {EXPECTED.get(kind, kind)}"))
        .when(pl.lit(column.required) & text.is_null())
        .then(pl.lit(f"{where}: required value missing"))
    )
    return value.alias(column.target), error
