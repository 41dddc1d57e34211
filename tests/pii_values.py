"""The raw personal values a lake holds, read straight from its restricted zone (independently of
the code under test), for tests that check reports, logs and artifacts never contain one."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

# Canonical columns that hold personal data by design.
PERSONAL = (
    "wireless_number",
    "other_number",
    "user_name",
    "employee_id",
    "email",
    "imei",
    "iccid",
    "imsi",
    "ship_to_address",
)
# Layout-specific columns (in `extras`) whose names say they hold personal data.
PERSONAL_EXTRAS = (
    "name",
    "email",
    "mail",
    "contact",
    "subscriber",
    "equipment_serial",
    "address",
    "imei",
    "iccid",
    "imsi",
    "number",
    "user",
)
MIN_LENGTH = 6  # shorter strings (a first name, a ZIP) could occur in any text by chance


def raw_values(lake: Path) -> set[str]:
    """Every personal value of at least MIN_LENGTH characters in the lake's restricted zone."""
    values: set[str] = set()
    for path in (lake / "restricted").rglob("*.parquet"):
        frame = pl.read_parquet(path)
        for column in PERSONAL:
            if column in frame.columns:
                values.update(str(v) for v in frame[column].drop_nulls().to_list())
        for text in frame["extras"].drop_nulls().to_list():
            for key, value in json.loads(text).items():
                if value is not None and any(word in key for word in PERSONAL_EXTRAS):
                    values.add(str(value))
    return {v for v in values if len(v) >= MIN_LENGTH}
