"""What every carrier step shares: the file's context, the row flags, and two helpers.

A step (`Step`) takes the converted frame of one file and its context and returns the frame with
canonical columns filled in. Rows a step cannot place get a message in `_post_error`; rows that
are not data (summary records) are flagged in `_skip`. The steps themselves live in one module
per carrier, registered in `piiscan.ingest.carriers.STEPS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from piiscan.ingest.convert import by_distinct

POST_ERROR = "_post_error"
SKIP = "_skip"


@dataclass
class FileContext:
    """What a step may know beyond the rows: the file name, its siblings in an archive, and
    what earlier rows of the same file said."""

    name: str
    # account number -> (invoice number, bill cycle date), from a Verizon AccountSummary
    accounts: dict[str, tuple[str | None, date]] = field(default_factory=dict)
    # names given on earlier rows to generic columns of later ones (AT&T user-defined labels)
    labels: dict[str, str] = field(default_factory=dict)

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


def add_error(frame: pl.DataFrame, error: pl.Expr) -> pl.DataFrame:
    """The frame with `error` (null: none) appended to each row's step error."""
    current = pl.col(POST_ERROR) if POST_ERROR in frame.columns else pl.lit(None, pl.String)
    return frame.with_columns(
        pl.concat_str([current, error], separator="; ", ignore_nulls=True)
        .replace("", None)
        .alias(POST_ERROR)
    )


def with_kind(frame: pl.DataFrame, mapping: dict[str, str], header: str) -> pl.DataFrame:
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
        frame = add_error(frame, pl.when(unknown).then(error))
    if "messages" not in frame.columns:
        frame = frame.with_columns((pl.col("kind") == "sms").cast(pl.Int64).alias("messages"))
    return frame


def direction(frame: pl.DataFrame, mapping: dict[str, str]) -> pl.Series:
    """The delivered direction (column `direction`, any case) mapped onto in/out."""
    return by_distinct(
        frame["direction"],
        lambda v: v.str.to_uppercase().replace_strict(
            mapping, default=None, return_dtype=pl.String
        ),
    )
