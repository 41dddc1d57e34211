"""Carrier-specific steps after column conversion: what a layout's columns mean together.

Each step takes the converted frame and the file's context and returns the frame with canonical
columns filled in (the shared toolkit is piiscan.ingest.steps); carriers with several layouts
keep their steps in a module of their own (piiscan.ingest.att).
"""

from __future__ import annotations

import polars as pl

from piiscan.ingest import att
from piiscan.ingest.steps import POST_ERROR, SKIP, FileContext, Step
from piiscan.ingest.steps import add_error as _add_error
from piiscan.ingest.steps import direction as _direction
from piiscan.ingest.steps import with_kind as _with_kind
from piiscan.layouts import Layout

__all__ = ["POST_ERROR", "SKIP", "STEPS", "FileContext", "Step", "post_process"]


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
    "att_premier_raw_data": att.raw_data,
    "att_usage_detail": att.usage_detail,
    "att_pooling": att.pooling,
    "att_device_report": att.devices,
    "tmobile_usage_detail": tmobile_usage,
    "bell_mobile": bell_mobile,
    "mdm_inventory": mdm_devices,
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
