"""Bell (Canada) steps: what the ACC / DTL / MOB columns and the Enterprise Center reports mean
together (layouts in piiscan.layouts.bell).

Names: Bell writes a person's name in two columns (MOB `Surname` / `Given Name`, the reports'
`User last name` / `User first name`); the lake keeps one `user_name`, given name first, as every
other carrier's, so subject requests and pseudonyms see one name per person. The two delivered
columns are not kept beside it (a scan of the delivered file still flags each of them).
"""

from __future__ import annotations

import polars as pl

from piiscan.ingest.convert import by_distinct
from piiscan.ingest.steps import POST_ERROR, FileContext
from piiscan.layouts.bell import MOB_TAXES
from piiscan.schema import MONEY
from piiscan.validators import is_imei

# Words of a DTL `Event Type` (lower case) and the usage kind they name, first match wins.
EVENT_KINDS = (
    ("data", "data"),
    ("internet", "data"),
    ("pkt", "data"),
    ("text", "sms"),
    ("txt", "sms"),
    ("sms", "sms"),
    ("mms", "sms"),
    ("message", "sms"),
    ("voice", "voice"),
    ("call", "voice"),
    ("airtime", "voice"),
)


def _add_error(frame: pl.DataFrame, error: pl.Expr) -> pl.DataFrame:
    current = pl.col(POST_ERROR) if POST_ERROR in frame.columns else pl.lit(None, pl.String)
    return frame.with_columns(
        pl.concat_str([current, error], separator="; ", ignore_nulls=True)
        .replace("", None)
        .alias(POST_ERROR)
    )


def _user_name(frame: pl.DataFrame, given: str, surname: str) -> pl.DataFrame:
    """`user_name` as 'Given Surname' (either alone when the other is blank); parts dropped."""
    name = pl.concat_str([pl.col(given), pl.col(surname)], separator=" ", ignore_nulls=True)
    return frame.with_columns(
        pl.when(name == "").then(None).otherwise(name).alias("user_name")
    ).drop(given, surname)


def _total(columns: list[str]) -> pl.Expr:
    """The sum of these money columns; null when every one is blank."""
    present = [pl.col(c).cast(MONEY) for c in columns]  # a column the file lacks is null text
    return (
        pl.when(pl.any_horizontal(c.is_not_null() for c in present))
        .then(pl.sum_horizontal(c.fill_null(0) for c in present))
        .otherwise(None)
    )


def mobile(frame: pl.DataFrame, context: FileContext) -> pl.DataFrame:
    """MOB: one name; the thirteen sales-tax columns add up to `tax`."""
    frame = frame.with_columns(_total(list(MOB_TAXES)).alias("tax"))
    return _user_name(frame, "given_name", "surname")


def call_detail(frame: pl.DataFrame, context: FileContext) -> pl.DataFrame:
    """DTL: the event time from MM/DD (year from the invoice date) and HH:MM; the usage kind."""
    cycle = pl.col("bill_cycle_date")
    parts = pl.col("date_mmdd").str.extract_groups(r"^(\d{1,2})/(\d{1,2})$")
    month = parts.struct.field("1").cast(pl.Int32, strict=False)
    # An MM/DD after the invoice's month was used before the turn of the year.
    year = pl.when(month <= cycle.dt.month()).then(cycle.dt.year()).otherwise(cycle.dt.year() - 1)
    stamp = pl.concat_str(
        [year.cast(pl.String), pl.col("date_mmdd"), pl.col("time_hhmm")], separator=" "
    ).str.strptime(pl.Datetime("us"), "%Y %m/%d %H:%M", strict=False)
    frame = frame.with_columns(stamp.alias("event_time"))
    frame = _add_error(
        frame,
        pl.when(pl.col("event_time").is_null() & cycle.is_not_null()).then(
            pl.lit("columns 'Date'/'Time': expected MM/DD and a 24-hour time like 17:05")
        ),
    )
    return _with_kind(frame.drop("date_mmdd", "time_hhmm"))


def _with_kind(frame: pl.DataFrame) -> pl.DataFrame:
    """`kind` from the event type's words, else from what was measured; never a row error."""

    def named(value: pl.Expr) -> pl.Expr:
        lowered = value.str.to_lowercase()
        kind = pl.lit(None, pl.String)
        for word, meaning in reversed(EVENT_KINDS):
            kind = (
                pl.when(lowered.str.contains(word, literal=True))
                .then(pl.lit(meaning))
                .otherwise(kind)
            )
        return kind

    from_type = by_distinct(frame["event_type"], named)
    measured = (
        pl.when(pl.col("data_kb").fill_null(0) > 0)
        .then(pl.lit("data"))
        .when(pl.col("minutes").fill_null(0) > 0)
        .then(pl.lit("voice"))
    )
    frame = frame.with_columns(pl.coalesce(from_type, measured).alias("kind"))
    return frame.with_columns((pl.col("kind") == "sms").cast(pl.Int64).alias("messages"))


def account(frame: pl.DataFrame, context: FileContext) -> pl.DataFrame:
    """ACC: account-level totals, a reference file; Bell gives no invoice number."""
    return frame.with_columns(pl.lit(None, pl.String).alias("invoice_number"))


def report_user(frame: pl.DataFrame, context: FileContext) -> pl.DataFrame:
    """Enterprise Center reports: one name from `User first name` and `User last name`; an
    IMEI held in a number cell gets back the leading zero Excel dropped."""
    return _user_name(
        frame.with_columns(_zero_restored(frame["imei"])), "user_first_name", "user_last_name"
    )


def _zero_restored(imeis: pl.Series) -> pl.Series:
    """14 digits that are a valid IMEI with a leading 0 (TACs 01...) are that IMEI: an Excel
    number cell cannot hold the zero (and 14 decimal digits are no MEID, whose regional code is
    A0 or above). Checked once per distinct value."""
    candidates = imeis.drop_nulls().unique()
    short = candidates.filter(candidates.str.contains(r"^[0-9]{14}$"))
    restored = {v: f"0{v}" for v in short if is_imei(f"0{v}")}
    return imeis.replace(restored) if restored else imeis


def cost_overview(frame: pl.DataFrame, context: FileContext) -> pl.DataFrame:
    """Cost overview: `charge` is before taxes, as every carrier's (total invoice - taxes)."""
    frame = frame.with_columns((pl.col("total_invoice") - pl.col("tax")).alias("charge"))
    return report_user(frame, context)


def usage_overview(frame: pl.DataFrame, context: FileContext) -> pl.DataFrame:
    """Usage overview: domestic and roaming data MB as KB."""
    parts = [pl.col(c).cast(pl.Float64) for c in ("total_domestic_data_mb", "total_roaming_data")]
    megabytes = pl.sum_horizontal(p.fill_null(0) for p in parts)
    measured = pl.any_horizontal(p.is_not_null() for p in parts)
    frame = frame.with_columns(pl.when(measured).then(megabytes * 1024).alias("data_kb"))
    return report_user(frame, context)
