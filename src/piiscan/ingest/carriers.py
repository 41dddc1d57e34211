"""Carrier-specific steps after column conversion: what a layout's columns mean together.

Each step takes the converted frame and the file's context and returns the frame with canonical
columns filled in. Rows a step cannot place get a message in `_post_error`; rows that are not
data (AT&T account-level summary records) are flagged in `_skip`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from piiscan.ingest import rogers
from piiscan.ingest.convert import by_distinct, date_time
from piiscan.layouts import Layout

POST_ERROR = "_post_error"
SKIP = "_skip"


@dataclass
class FileContext:
    """What a step may know beyond the rows: the file name and its siblings in an archive."""

    name: str
    # account number -> (invoice number, bill cycle date), from a Verizon AccountSummary
    accounts: dict[str, tuple[str | None, date]] = field(default_factory=dict)

    def name_match(self, pattern: str) -> str | None:
        """First group of pattern in the file name."""
        found = re.search(pattern, self.name)
        return found.group(1) if found else None

    def name_date(self) -> date | None:
        """The YYYYMMDD date in the file name (report date)."""
        text = self.name_match(r"_(\d{8})\.")
        if text is None:
            return None
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))


Step = Callable[[pl.DataFrame, FileContext], pl.DataFrame]


def _with_kind(frame: pl.DataFrame, mapping: dict[str, str], header: str) -> pl.DataFrame:
    """Map the delivered usage kind onto voice/sms/data; derive messages where absent."""
    lowered = {k.lower(): v for k, v in mapping.items()}
    value = by_distinct(
        frame["kind"],
        lambda v: v.str.to_lowercase().replace_strict(
            lowered, default=None, return_dtype=pl.String
        ),
    )
    unknown = frame["kind"].is_not_null() & value.is_null()
    frame = frame.with_columns(value.alias("kind"))
    if unknown.any():
        error = pl.lit(f"column {header!r}: expected one of {', '.join(mapping)}")
        frame = _add_error(frame, pl.when(unknown).then(error))
    if "messages" not in frame.columns:
        frame = frame.with_columns((pl.col("kind") == "sms").cast(pl.Int64).alias("messages"))
    return frame


def _add_error(frame: pl.DataFrame, error: pl.Expr) -> pl.DataFrame:
    current = pl.col(POST_ERROR) if POST_ERROR in frame.columns else pl.lit(None, pl.String)
    return frame.with_columns(
        pl.concat_str([current, error], separator="; ", ignore_nulls=True)
        .replace("", None)
        .alias(POST_ERROR)
    )


def _direction(frame: pl.DataFrame, mapping: dict[str, str]) -> pl.Series:
    return by_distinct(
        frame["direction"],
        lambda v: v.str.to_uppercase().replace_strict(
            mapping, default=None, return_dtype=pl.String
        ),
    )


def _accounts_frame(context: FileContext) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "account_number": list(context.accounts),
            "_invoice": [v[0] for v in context.accounts.values()],
            "_cycle": [v[1] for v in context.accounts.values()],
        },
        schema={"account_number": pl.String, "_invoice": pl.String, "_cycle": pl.Date},
    )


def _with_invoice(frame: pl.DataFrame, context: FileContext) -> pl.DataFrame:
    joined = frame.join(_accounts_frame(context), on="account_number", how="left")
    return joined.with_columns(pl.col("_invoice").alias("invoice_number")).drop(
        "_invoice", "_cycle"
    )


def verizon_usage(frame: pl.DataFrame, context: FileContext) -> pl.DataFrame:
    """Recover the year of MM/DD dates from the account's bill cycle; 7:15A times."""
    frame = frame.join(_accounts_frame(context), on="account_number", how="left")
    month = pl.col("date_mmdd").str.extract(r"^(\d{1,2})/", 1).cast(pl.Int32, strict=False)
    year = (
        pl.when(month <= pl.col("_cycle").dt.month())
        .then(pl.col("_cycle").dt.year())
        .otherwise(pl.col("_cycle").dt.year() - 1)
    )
    stamp = (
        pl.col("date_mmdd")
        + "/"
        + year.cast(pl.String)
        + " "
        + pl.col("time_hmp").str.to_uppercase().str.replace(r"([AP])$", "${1}M")
    )
    event_time = stamp.str.strptime(pl.Datetime("us"), "%m/%d/%Y %I:%M%p", strict=False)
    frame = frame.with_columns(
        event_time.alias("event_time"),
        pl.col("_cycle").alias("bill_cycle_date"),
        pl.col("_invoice").alias("invoice_number"),
    )
    frame = _add_error(
        frame,
        pl.when(pl.col("_cycle").is_null())
        .then(pl.lit("no AccountSummary in the archive for this row's account: year unknown"))
        .when(pl.col("event_time").is_null())
        .then(pl.lit("columns 'Date'/'Time': expected MM/DD and a time like 7:15A")),
    )
    frame = frame.drop("_cycle", "_invoice", "date_mmdd", "time_hmp")
    return _with_kind(
        frame, {"Voice": "voice", "Messaging": "sms", "Data": "data"}, "Usage Category"
    )


def verizon_with_invoice(frame: pl.DataFrame, context: FileContext) -> pl.DataFrame:
    """Wireless summary and charge detail rows get the invoice number of their account."""
    return _with_invoice(frame, context)


def att_raw(frame: pl.DataFrame, context: FileContext) -> pl.DataFrame:
    """Only line-level (CTN) records are invoice lines; FAN and BAN rows are summaries."""
    level = pl.col("billing_entity_level").str.to_uppercase()
    frame = frame.with_columns((level != "CTN").alias(SKIP))
    return _add_error(
        frame,
        pl.when(~pl.col(SKIP) & pl.col("wireless_number").is_null()).then(
            pl.lit("column 'Wireless Number': required on CTN records")
        ),
    )


def att_usage(frame: pl.DataFrame, context: FileContext) -> pl.DataFrame:
    """Date and time columns make the event time; the account comes from the file name."""
    stamp = date_time(frame["event_date"], frame["event_clock"], "%m/%d/%Y", "%I:%M %p")
    frame = frame.with_columns(
        stamp.alias("event_time"),
        pl.lit(context.name_match(r"^ATT_UsageDetail_(\d+)_")).alias("account_number"),
        _direction(frame, {"IN": "in", "OUT": "out", "I": "in", "O": "out"}).alias("direction"),
    )
    if stamp.null_count():
        frame = _add_error(
            frame,
            pl.when(pl.col("event_time").is_null()).then(
                pl.lit("columns 'Date'/'Time': expected MM/DD/YYYY and hh:mm AM")
            ),
        )
    frame = frame.drop("event_date", "event_clock")
    inferred = (
        pl.when(pl.col("data_kb").fill_null(0) > 0)
        .then(pl.lit("Data"))
        .when(pl.col("minutes").fill_null(0) > 0)
        .then(pl.lit("Voice"))
        .otherwise(pl.lit("Text"))
    )
    frame = frame.with_columns(pl.coalesce(pl.col("kind"), inferred).alias("kind"))
    return _with_kind(frame, {"Voice": "voice", "Text": "sms", "Data": "data"}, "Usage type")


def att_devices(frame: pl.DataFrame, context: FileContext) -> pl.DataFrame:
    """The report date and account come from the file name."""
    return frame.with_columns(
        pl.lit(context.name_date(), pl.Date).alias("report_date"),
        pl.lit(context.name_match(r"^ATT_DeviceReport_(\d+)_")).alias("account_number"),
    )


def tmobile_usage(frame: pl.DataFrame, context: FileContext) -> pl.DataFrame:
    """ISO timestamps, Talk/Text/Data, I/O; the account comes from the file name."""
    frame = frame.with_columns(
        pl.col("event_time_iso").str.strptime(pl.Datetime("us"), strict=False).alias("event_time"),
        pl.lit(context.name_match(r"^TMobile_Usage_(\d+)_")).alias("account_number"),
        _direction(frame, {"I": "in", "O": "out", "IN": "in", "OUT": "out"}).alias("direction"),
    )
    frame = _add_error(
        frame,
        pl.when(pl.col("event_time").is_null()).then(
            pl.lit("column 'Date': expected an ISO date-time")
        ),
    ).drop("event_time_iso")
    return _with_kind(frame, {"Talk": "voice", "Text": "sms", "Data": "data"}, "Type")


def bell_mobile(frame: pl.DataFrame, context: FileContext) -> pl.DataFrame:
    """Given name + surname; the four sales taxes add up; MB to KB."""
    taxes = [pl.col(c).fill_null(0) for c in ("gst", "hst", "qst", "pst") if c in frame.columns]
    name = pl.concat_str(
        [pl.col("given_name"), pl.col("surname")], separator=" ", ignore_nulls=True
    )
    return frame.with_columns(
        pl.when(name == "").then(None).otherwise(name).alias("user_name"),
        pl.sum_horizontal(taxes).alias("tax") if taxes else pl.lit(None).alias("tax"),
        (pl.col("data_mb") * 1024).alias("data_kb"),
    ).drop("data_mb")


def generic_usage(frame: pl.DataFrame, context: FileContext) -> pl.DataFrame:
    """Canonical extracts name the kind directly."""
    return _with_kind(frame, {"voice": "voice", "sms": "sms", "data": "data"}, "kind")


def mdm_devices(frame: pl.DataFrame, context: FileContext) -> pl.DataFrame:
    """The report date comes from the file name."""
    return frame.with_columns(pl.lit(context.name_date(), pl.Date).alias("report_date"))


STEPS: dict[str, Step] = {
    "verizon_wireless_summary": verizon_with_invoice,
    "verizon_charges_detail": verizon_with_invoice,
    "verizon_usage_detail": verizon_usage,
    "att_premier_raw_data": att_raw,
    "att_usage_detail": att_usage,
    "att_device_report": att_devices,
    "tmobile_usage_detail": tmobile_usage,
    "bell_mobile": bell_mobile,
    "mdm_inventory": mdm_devices,
    **rogers.STEPS,
    **{
        f"generic_usage_events_{label}": generic_usage
        for label in ("parquet", "xlsx", "csv", "tsv", "pipe")
    },
}


def post_process(layout: Layout, frame: pl.DataFrame, context: FileContext) -> pl.DataFrame:
    """Apply the layout's carrier step and stamp the carrier."""
    step = STEPS.get(layout.name)
    if step is not None:
        frame = step(frame, context)
    if "carrier" not in frame.columns or layout.carrier != "generic":
        frame = frame.with_columns(pl.lit(layout.carrier).alias("carrier"))
    return frame
