"""Canonical datasets: the registry that every other list of datasets derives from.

Each dataset is declared once (`REGISTRY`): what one row is, its columns and types, and the column
its period partition comes from (a contract of the lake, so code, not configuration).

`customer` and `period` are hive partition keys (customer=<id>/period=<YYYY-MM>), so they live
in the lake paths, not inside the Parquet files. Layout-specific extra columns are kept in one
JSON column, `extras`, keyed by the snake_case form of their header.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

import polars as pl

MONEY = pl.Decimal(18, 2)
EXTRAS = "extras"


@dataclass(frozen=True)
class Dataset:
    """A canonical dataset of the lake: what one row is, its columns, what its period is."""

    name: str
    grain: str  # what one row is, in one line
    columns: Mapping[str, pl.DataType] = field(hash=False)  # in file order, without `extras`
    # The column the period partition (YYYY-MM) is computed from. A contract of the lake, not a
    # setting: changing it on an existing lake would scatter rows across other partitions.
    period_column: str
    period_means: str  # what a row's period is, in words for analysts

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", MappingProxyType(dict(self.columns)))
        if self.period_column not in self.date_columns:
            raise ValueError(f"{self.name}: period column {self.period_column} is not a date")

    @property
    def date_columns(self) -> tuple[str, ...]:
        """Columns holding a date or a date-time: what a period or retention clock can run from."""
        return tuple(
            name for name, dtype in self.columns.items() if isinstance(dtype, pl.Date | pl.Datetime)
        )


_DATASETS = (
    Dataset(
        name="invoice_lines",
        grain="One row per wireless number per bill cycle.",
        period_column="bill_cycle_date",
        period_means="the bill cycle's month (its cycle end date), not the month of the usage",
        columns={
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
    ),
    Dataset(
        name="usage_events",
        grain="One call, message or data session.",
        period_column="event_time",
        period_means="the month the call, message or data session happened",
        columns={
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
    ),
    Dataset(
        name="devices",
        grain="One line's device and SIM, as of the report date.",
        period_column="report_date",
        period_means="the month of the report the device was listed in",
        columns={
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
    ),
    Dataset(
        name="charge_items",
        grain="One row per wireless number per charge item per bill cycle (Verizon detail).",
        period_column="bill_cycle_date",
        period_means="the bill cycle's month (its cycle end date)",
        columns={
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
    ),
)

# The dataset registry: the one place a dataset is declared; everything below derives from it.
REGISTRY: Mapping[str, Dataset] = MappingProxyType({d.name: d for d in _DATASETS})
DATASET_NAMES: tuple[str, ...] = tuple(REGISTRY)
DATASETS: Mapping[str, Mapping[str, pl.DataType]] = MappingProxyType(
    {d.name: d.columns for d in _DATASETS}
)
PERIOD_COLUMN: Mapping[str, str] = MappingProxyType({d.name: d.period_column for d in _DATASETS})
# A lake dataset's name. pydantic checks names against this Literal built from the registry;
# mypy cannot read a computed Literal, so it sees str.
if TYPE_CHECKING:
    DatasetName = str
else:
    DatasetName = Literal[DATASET_NAMES]

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
