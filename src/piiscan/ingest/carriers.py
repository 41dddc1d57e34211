"""Carrier-specific steps after column conversion: what a layout's columns mean together.

Each step takes the converted frame and the file's context and returns the frame with canonical
columns filled in (see `piiscan.ingest.steps`). Carriers with steps of their own keep them in a
module of their own (`piiscan.ingest.att`, `.verizon`, `.bell`), registered in `STEPS` here.
"""

from __future__ import annotations

import polars as pl

from piiscan.ingest import att, bell, rogers, verizon

# parse.py takes the shared names from here.
from piiscan.ingest.steps import POST_ERROR as POST_ERROR
from piiscan.ingest.steps import SKIP as SKIP
from piiscan.ingest.steps import FileContext as FileContext
from piiscan.ingest.steps import Step, add_error, direction, with_kind
from piiscan.layouts import Layout


def tmobile_usage(frame: pl.DataFrame, context: FileContext) -> pl.DataFrame:
    """ISO timestamps, Talk/Text/Data, I/O; the account comes from the file name."""
    frame = frame.with_columns(
        pl.col("event_time_iso").str.strptime(pl.Datetime("us"), strict=False).alias("event_time"),
        pl.lit(context.name_match(r"^TMobile_Usage_(\d+)_")).alias("account_number"),
        direction(frame, {"I": "in", "O": "out", "IN": "in", "OUT": "out"}).alias("direction"),
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
    "att_premier_raw_data": att.raw_data,
    "att_usage_detail": att.usage_detail,
    "att_pooling": att.pooling,
    "att_device_report": att.devices,
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
