"""Verizon Raw Data Download steps: what the reports' columns mean together.

Each report carries its own Bill Cycle Date, Account Number and Invoice Number, so a report
needs nothing from its siblings: it lands loose or zipped, with or without its AccountSummary.
"""

from __future__ import annotations

import polars as pl

from piiscan.ingest.convert import date_time
from piiscan.ingest.steps import FileContext, Step, add_error, with_kind

# Data volumes in binary units, as everywhere in piiscan (Bell's MB too): 1 MB = 1024 KB,
# 1 GB = 1024 MB. The finest unit that is filled wins.
KB_PER_UNIT = (("data_usage_kb", 1), ("data_usage_mb", 1024), ("data_usage_gb", 1024 * 1024))


def wireless_summary(frame: pl.DataFrame, context: FileContext) -> pl.DataFrame:
    """data_kb from whichever of Data Usage (KB), (MB) and (GB) is filled (not zero)."""
    in_kb = [pl.col(name).cast(pl.Float64) * factor for name, factor in KB_PER_UNIT]
    filled = [pl.when(value != 0).then(value) for value in in_kb]
    # All three zero: 0 KB; all three blank: unknown.
    return frame.with_columns(pl.coalesce(*filled, *in_kb).alias("data_kb"))


def usage_detail(frame: pl.DataFrame, context: FileContext) -> pl.DataFrame:
    """Event times from MM/DD dates, the year taken from the row's bill cycle, and 7:15A
    times; Voice/Messaging/Data kinds; a call whose destination is "Incoming ..." came in."""
    cycle = pl.col("bill_cycle_date")
    month = pl.col("date_mmdd").str.extract(r"^(\d{1,2})/", 1).cast(pl.Int32, strict=False)
    # A month after the cycle's own is of the year before: a January bill's December calls.
    year = pl.when(month <= cycle.dt.month()).then(cycle.dt.year()).otherwise(cycle.dt.year() - 1)
    texts = frame.select(
        (pl.col("date_mmdd") + "/" + year.cast(pl.String)).alias("day"),
        pl.col("time_hmp").str.to_uppercase().str.replace(r"([AP])$", "${1}M").alias("clock"),
    )
    event_time = date_time(texts["day"], texts["clock"], "%m/%d/%Y", "%I:%M%p")
    incoming = pl.col("destination").str.to_lowercase().str.starts_with("incoming")
    frame = frame.with_columns(
        event_time.alias("event_time"),
        pl.when(pl.col("kind").str.to_lowercase() != "voice")
        .then(None)
        .when(incoming.fill_null(False))
        .then(pl.lit("in"))
        .otherwise(pl.lit("out"))
        .alias("direction"),
    )
    frame = add_error(
        frame,
        pl.when(cycle.is_not_null() & pl.col("event_time").is_null()).then(
            pl.lit("columns 'Date'/'Time': expected MM/DD and a time like 7:15A")
        ),
    ).drop("date_mmdd", "time_hmp")
    return with_kind(
        frame, {"Voice": "voice", "Messaging": "sms", "Data": "data"}, "Usage Category"
    )


STEPS: dict[str, Step] = {
    "verizon_wireless_summary": wireless_summary,
    "verizon_usage_detail": usage_detail,
}
