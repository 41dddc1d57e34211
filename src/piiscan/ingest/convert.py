"""Whole-column conversions from delivered text to canonical values, with per-row errors.

Each conversion gives a value expression and an error expression; the error names the column
and what was expected, never the value itself (it may be personal data). Conversions are
elementwise, so `convert_distinct` evaluates them once per distinct value and gathers the results
back to the rows: delivered columns repeat a few values (numbers, dates, amounts) many times.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import pyarrow.compute as pc

from piiscan.layouts import Column
from piiscan.phones import EXPECTED as EXPECTED_NUMBER
from piiscan.phones import canonical_numbers
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


def _point_decimals(text: pl.Expr, fmt: str | None) -> pl.Expr:
    """Text in a NUMBER_FORMATS style as plain digits with a decimal point."""
    if fmt in ("1.234,56", "1234,56"):
        return _without(text, ". ").str.replace(",", ".", literal=True)
    if fmt == "1 234,56":
        return _without(text, " \u00a0\u202f").str.replace(",", ".", literal=True)
    return _without(text, ",")


def _number(text: pl.Expr, fmt: str | None = None) -> pl.Expr:
    return _point_decimals(text, fmt).cast(pl.Float64, strict=False)


def _money(text: pl.Expr, fmt: str | None = None) -> pl.Expr:
    plain = _without(_point_decimals(text, fmt), "$€£ +")
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


def _duration(text: pl.Expr, fmt: str | None) -> pl.Expr:
    """Minutes from seconds, minutes, mm:ss or hh:mm:ss."""
    if fmt == "mm:ss":
        return _mmss(text)
    if fmt == "hh:mm:ss":
        parts = text.str.extract_groups(r"^(\d+):([0-5]\d):([0-5]\d)$")
        h, m, s = (parts.struct.field(k).cast(pl.Float64, strict=False) for k in "123")
        return h * 60.0 + m + s / 60.0
    number = _number(text)
    return number / 60.0 if fmt == "seconds" else number


def readable(fmt: str) -> str:
    """A strptime format as people write it: %d.%m.%Y -> DD.MM.YYYY."""
    for code, shown in (
        ("%Y", "YYYY"), ("%y", "YY"), ("%m", "MM"), ("%d", "DD"), ("%b", "Mon"), ("%H", "hh"),
        ("%I", "hh"), ("%M", "mm"), ("%S", "ss"), ("%p", "AM/PM"), ("%f", "ffffff"),
    ):  # fmt: skip
        fmt = fmt.replace(code, shown)
    return fmt


EXPECTED = {
    "id": "an identifier, not a number in scientific notation (Excel damage)",
    "phone": EXPECTED_NUMBER,
    "dialed": "a dialed number (digits)",
    "money": "an amount like 1234.56, $1,234.56 or (948.03)",
    "number": "a number like 167.000 or 1,234.5",
    "int": "a whole number",
    "date": "a date",
    "mmss": "a duration like 1053:00 (minutes:seconds)",
    "datetime": "an ISO date-time like 2026-10-03T14:05:00 (an offset like Z or +02:00 allowed)",
    "time": "a time of day",
    "duration": "a duration",
}


def expected(column: Column) -> str:
    """What a column's values must look like, in words (its format named when it has one)."""
    if column.kind in ("date", "time") or (column.kind == "datetime" and column.fmt):
        shown = readable(column.fmt or "%Y-%m-%d")
        return f"{EXPECTED[column.kind]} like {shown}" if column.kind != "datetime" else shown
    if column.kind in ("money", "number") and column.fmt:
        return f"{EXPECTED[column.kind].split(' like ')[0]} written like {column.fmt}"
    if column.kind == "duration":
        return f"a duration in {column.fmt or 'minutes'}"
    return EXPECTED.get(column.kind, column.kind)


def convert_value(text: pl.Expr, column: Column) -> pl.Expr:
    """The canonical value from cleaned text (see `cleaned`)."""
    kind = column.kind
    if kind == "text":
        return text
    if kind in ("id", "dialed"):
        plain = text if kind == "id" else _without(text, PHONE_PUNCTUATION)
        return pl.when(_scientific(text)).then(None).otherwise(plain)
    if kind == "phone":  # anything with no canonical form is an error
        return canonical_numbers(text)
    if kind == "money":
        return _money(text, column.fmt)
    if kind == "number":
        return _number(text, column.fmt)
    if kind == "int":
        number = _number(text, column.fmt)
        return pl.when(number == number.floor()).then(number).cast(pl.Int64, strict=False)
    if kind == "date":
        return text.str.strptime(pl.Date, column.fmt or "%Y-%m-%d", strict=False)
    if kind == "mmss":
        return _mmss(text)
    if kind == "duration":
        return _duration(text, column.fmt)
    if kind == "time":
        return text.str.strptime(pl.Time, column.fmt or "%H:%M:%S", strict=False)
    if kind == "datetime" and column.fmt:
        return text.str.strptime(pl.Datetime("us"), column.fmt, strict=False)
    if kind == "datetime":  # ISO 8601; a time with an offset (Z, +02:00) is taken to UTC
        offset = text.str.contains(r"\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)$")
        local = pl.when(~offset).then(text).str.strptime(pl.Datetime("us"), strict=False)
        utc = (
            pl.when(offset)
            .then(text)
            .str.to_datetime(time_unit="us", time_zone="UTC", strict=False)
            .dt.replace_time_zone(None)
        )
        return pl.coalesce(local, utc)
    raise AssertionError(kind)  # pragma: no cover - Kind is a closed Literal


def convert_error(text: pl.Expr, value: pl.Expr, column: Column) -> pl.Expr:
    """The row's error for this column, from its cleaned text and converted value."""
    where = f"column {column.header!r}"
    return (
        pl.when(text.is_not_null() & value.is_null())
        .then(pl.lit(f"{where}: expected {expected(column)}"))
        .when(pl.lit(column.required) & text.is_null())
        .then(pl.lit(f"{where}: required value missing"))
    )


def convert(name: str, column: Column) -> tuple[pl.Expr, pl.Expr]:
    """Value and error expressions turning string column `name` into column.target."""
    text = cleaned(name)
    value = convert_value(text, column)
    return value.alias(column.target), convert_error(text, value, column)


def _distinct(series: pl.Series) -> tuple[pl.Series, pl.Series]:
    """The distinct values of a column (null among them) and each row's index into them."""
    # The newest compatibility level hands strings over as views, without a copy.
    arrow = series.to_arrow(compat_level=pl.CompatLevel.newest())
    # Nulls are masked, then given a slot of their own at the end: on string views pyarrow's
    # null_encoding="encode" puts "" in the null's slot (pyarrow 26), which would make null and
    # "" one value.
    encoded = pc.dictionary_encode(arrow, null_encoding="mask")
    distinct = pl.Series("v", encoded.dictionary, dtype=series.dtype)
    index = pl.Series(encoded.indices)
    if index.null_count():
        index = index.fill_null(len(distinct))
        distinct = distinct.extend_constant(None, 1)
    return distinct, index


def by_distinct(series: pl.Series, function: Callable[[pl.Expr], pl.Expr]) -> pl.Series:
    """`function` of each row, evaluated once per distinct value; it must be elementwise and
    refer to the value as column "v"."""
    distinct, index = _distinct(series)
    values = distinct.to_frame().select(function(pl.col("v"))).to_series().rechunk()
    return values.gather(index).rename(series.name)


def convert_distinct(series: pl.Series, column: Column) -> tuple[pl.Series, pl.Series | None]:
    """What `convert` gives for every row of a string column, evaluated once per distinct
    value: the values, and the errors or None when no row has one."""
    distinct, index = _distinct(series)
    table = (
        distinct.to_frame()
        .lazy()
        .with_columns(cleaned("v").alias("_text"))
        .with_columns(convert_value(pl.col("_text"), column).alias(column.target))
        .select(
            pl.col(column.target),
            convert_error(pl.col("_text"), pl.col(column.target), column).alias("_error"),
        )
        .collect()
        .rechunk()  # gathering from string buffers shared with the input is far slower
    )
    values = table[column.target].gather(index)
    if table["_error"].null_count() == table.height:
        return values, None
    return values, table["_error"].gather(index)


def date_time(dates: pl.Series, clocks: pl.Series, date_fmt: str, clock_fmt: str) -> pl.Series:
    """Date-times parsed as `date + " " + clock` with `date_fmt + " " + clock_fmt` (null when
    that does not parse), from each distinct date and clock parsed once.

    Where both halves parse, the joined text parses to their combination. Where one does not, the
    joined text may still parse (a time inside the date column), so those rows are parsed whole.
    """
    day = by_distinct(dates, lambda v: v.str.strptime(pl.Date, date_fmt, strict=False))
    clock = by_distinct(clocks, lambda v: v.str.strptime(pl.Time, clock_fmt, strict=False))
    both = pl.DataFrame({"day": day, "clock": clock})
    stamps = both.select(pl.col("day").dt.combine(pl.col("clock"), "us")).to_series()
    retry = stamps.is_null() & dates.is_not_null() & clocks.is_not_null()
    if retry.any():
        whole = (dates.filter(retry) + " " + clocks.filter(retry)).str.strptime(
            pl.Datetime("us"), f"{date_fmt} {clock_fmt}", strict=False
        )
        stamps = stamps.scatter(retry.arg_true(), whole)
    return stamps
