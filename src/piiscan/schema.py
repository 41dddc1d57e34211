"""Canonical datasets: column names and types every carrier layout maps onto.

`customer` and `period` are hive partition keys (customer=<id>/period=<YYYY-MM>), so they live
in the lake paths, not inside the Parquet files. Layout-specific extra columns are kept in one
JSON column, `extras`, keyed by the snake_case form of their header.
"""

from __future__ import annotations

import re

import polars as pl

MONEY = pl.Decimal(18, 2)
EXTRAS = "extras"

DATASETS: dict[str, dict[str, pl.DataType]] = {
    "invoice_lines": {
        "carrier": pl.String(),
        "account_number": pl.String(),
        "invoice_number": pl.String(),
        "invoice_status": pl.String(),
        "bill_cycle_date": pl.Date(),
        "wireless_number": pl.String(),
        "user_name": pl.String(),
        "employee_id": pl.String(),
        "cost_center": pl.String(),
        "plan": pl.String(),
        "charge": MONEY,
        "tax": MONEY,
        "minutes": pl.Float64(),
        "messages": pl.Int64(),
        "data_kb": pl.Float64(),
    },
    "usage_events": {
        "carrier": pl.String(),
        "account_number": pl.String(),
        "wireless_number": pl.String(),
        "user_name": pl.String(),
        "event_time": pl.Datetime("us"),
        "other_number": pl.String(),
        "kind": pl.String(),
        "direction": pl.String(),
        "minutes": pl.Float64(),
        "messages": pl.Int64(),
        "data_kb": pl.Float64(),
        "charge": MONEY,
        "bill_cycle_date": pl.Date(),
    },
    "devices": {
        "carrier": pl.String(),
        "account_number": pl.String(),
        "wireless_number": pl.String(),
        "imei": pl.String(),
        "iccid": pl.String(),
        "imsi": pl.String(),
        "make": pl.String(),
        "model": pl.String(),
        "employee_id": pl.String(),
        "user_name": pl.String(),
        "email": pl.String(),
        "ship_to_address": pl.String(),
        "status": pl.String(),
        "activation_date": pl.Date(),
        "deactivation_date": pl.Date(),
        "report_date": pl.Date(),
    },
    "charge_items": {
        "carrier": pl.String(),
        "account_number": pl.String(),
        "invoice_number": pl.String(),
        "bill_cycle_date": pl.Date(),
        "wireless_number": pl.String(),
        "user_name": pl.String(),
        "item_category": pl.String(),
        "item_description": pl.String(),
        "allowance": pl.String(),
        "used": pl.Float64(),
        "billable": pl.Float64(),
        "charge": MONEY,
    },
}

# The column each dataset's period partition (YYYY-MM) is computed from.
PERIOD_COLUMN = {
    "invoice_lines": "bill_cycle_date",
    "usage_events": "event_time",
    "devices": "report_date",
    "charge_items": "bill_cycle_date",
}

# Columns summed in round-trip checks and analytics comparisons.
MEASURES = ("minutes", "messages", "data_kb", "charge", "tax")


def snake_case(header: str) -> str:
    """A header as a snake_case column name: 'Data Usage (KB)' -> 'data_usage_kb'."""
    name = re.sub(r"[^0-9a-zA-Z]+", "_", header.strip().lower()).strip("_")
    return name or "column"


def conform(frame: pl.DataFrame, dataset: str) -> pl.DataFrame:
    """The dataset's columns in order and type, then `extras`; `period` passes through.

    Layout-specific columns go into `extras`, a JSON object keyed by their snake_case names, so
    every file of a dataset has one schema and the zone reads as one table.
    """
    schema = DATASETS[dataset]
    canonical = [
        (frame[name].cast(dtype) if name in frame.columns else pl.lit(None, dtype)).alias(name)
        for name, dtype in schema.items()
    ]
    extra_names = [
        name
        for name in frame.columns
        if name not in schema and name not in ("customer", "period") and not name.startswith("_")
    ]
    extras = (
        pl.struct([pl.col(n).cast(pl.String) for n in extra_names]).struct.json_encode()
        if extra_names
        else pl.lit(None, pl.String)
    )
    keep = [pl.col("period")] if "period" in frame.columns else []
    return frame.select([*canonical, extras.alias(EXTRAS), *keep])


# Canonical columns whose entity is known by design (detection may add more, never remove).
KNOWN_ENTITIES: dict[str, str] = {
    "wireless_number": "PHONE_NUMBER",
    "other_number": "PHONE_NUMBER",
    "imei": "IMEI",
    "iccid": "ICCID",
    "imsi": "IMSI",
    "employee_id": "EMPLOYEE_ID",
    "user_name": "PERSON",
    "email": "EMAIL_ADDRESS",
    "ship_to_address": "LOCATION",
}
