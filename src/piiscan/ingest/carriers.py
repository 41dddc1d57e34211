"""Carrier-specific steps after column conversion: what a layout's columns mean together.

Each step takes the converted frame and the file's context and returns the frame with canonical
columns filled in (see `piiscan.ingest.steps`). Carriers with steps of their own keep them in a
module of their own (`piiscan.ingest.verizon`, `.bell`), registered in `STEPS` here.
"""

from __future__ import annotations

import polars as pl

from piiscan.ingest import bell, verizon
from piiscan.ingest.convert import by_distinct, date_time

# parse.py takes the shared names from here.
from piiscan.ingest.steps import POST_ERROR as POST_ERROR
from piiscan.ingest.steps import SKIP as SKIP
from piiscan.ingest.steps import FileContext as FileContext
from piiscan.ingest.steps import Step, add_error, with_kind
from piiscan.layouts import Layout


def _direction(frame: pl.DataFrame, mapping: dict[str, str]) -> pl.Series:
    return by_distinct(
        frame["direction"],
        lambda v: v.str.to_uppercase().replace_strict(
            mapping, default=None, return_dtype=pl.String
        ),
    )


def att_raw(frame: pl.DataFrame, context: FileContext) -> pl.DataFrame:
    """Only line-level (CTN) records are invoice lines; FAN and BAN rows are summaries."""
    level = pl.col("billing_entity_level").str.to_uppercase()
    frame = frame.with_columns((level != "CTN").alias(SKIP))
    return add_error(
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
        frame = add_error(
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
    return with_kind(frame, {"Voice": "voice", "Text": "sms", "Data": "data"}, "Usage type")


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
    frame = add_error(
        frame,
        pl.when(pl.col("event_time").is_null()).then(
            pl.lit("column 'Date': expected an ISO date-time")
        ),
    ).drop("event_time_iso")
    return with_kind(frame, {"Talk": "voice", "Text": "sms", "Data": "data"}, "Type")


def generic_usage(frame: pl.DataFrame, context: FileContext) -> pl.DataFrame:
    """Canonical extracts name the kind directly."""
    return with_kind(frame, {"voice": "voice", "sms": "sms", "data": "data"}, "kind")


def mdm_devices(frame: pl.DataFrame, context: FileContext) -> pl.DataFrame:
    """The report date comes from the file name."""
    return frame.with_columns(pl.lit(context.name_date(), pl.Date).alias("report_date"))


STEPS: dict[str, Step] = {
    **verizon.STEPS,
    "att_premier_raw_data": att_raw,
    "att_usage_detail": att_usage,
    "att_device_report": att_devices,
    "tmobile_usage_detail": tmobile_usage,
    "bell_mobile": bell.mobile,
    "bell_call_detail": bell.call_detail,
    "bell_account": bell.account,
    "bell_user_profile_report": bell.report_user,
    "bell_hardware_report": bell.report_user,
    "bell_cost_overview": bell.cost_overview,
    "bell_invoice_charge_report": bell.report_user,
    "bell_usage_overview": bell.usage_overview,
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
