"""Re-deliveries: which rows of earlier files a newly landed file supersedes.

A carrier re-sends an invoice to correct it (same invoices, new amounts). Without this, the
corrected rows land beside the old ones and analytics counts the invoice twice. The rows a new
file supersedes, per dataset, are the earlier rows with the same key:

- `invoice_lines`, `charge_items`: the invoice (carrier, account, invoice number, bill cycle).
  Every earlier row of a re-sent invoice goes, also lines the correction no longer lists. Rows
  without an account or invoice number are never superseded (no invoice to go by).
- `usage_events`: the event (carrier, account, line, event time, kind, direction, other party).
  Not the line's bill cycle: usage arrives in partial extracts (a week of a cycle), and a second
  week must not replace the first; a re-sent event replaces its earlier copy, charges and all.
  Rows without a line or an event time are never superseded.
- `devices` are snapshots as of a report date: never superseded.

A row's key columns compare nulls as equal (a direction or other party that is empty in both).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import polars as pl

_INVOICE = ("carrier", "account_number", "invoice_number", "bill_cycle_date")

# dataset -> (key columns, columns that must be present for a row to supersede or be superseded)
SUPERSEDE_KEYS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "invoice_lines": (_INVOICE, ("account_number", "invoice_number")),
    "charge_items": (_INVOICE, ("account_number", "invoice_number")),
    "usage_events": (
        (
            "carrier",
            "account_number",
            "wireless_number",
            "event_time",
            "kind",
            "direction",
            "other_number",
        ),
        ("wireless_number", "event_time"),
    ),
}


def supersede_keys(frame: pl.DataFrame, dataset: str) -> pl.DataFrame | None:
    """The distinct keys a dataset's new rows re-deliver (None: the dataset is never
    superseded)."""
    if dataset not in SUPERSEDE_KEYS:
        return None
    columns, required = SUPERSEDE_KEYS[dataset]
    present = frame.filter(pl.all_horizontal(pl.col(c).is_not_null() for c in required))
    return present.select(columns).unique()


def superseded_rows(frame: pl.DataFrame, dataset: str, replaced: pl.DataFrame) -> pl.Series:
    """Per row of an earlier file, whether the new keys (supersede_keys) replace it."""
    columns, required = SUPERSEDE_KEYS[dataset]
    indexed = frame.select(columns).with_row_index("_row")
    hit = indexed.join(replaced, on=list(columns), how="semi", nulls_equal=True)
    complete = frame.select(pl.all_horizontal(pl.col(c).is_not_null() for c in required))
    marked = np.zeros(frame.height, dtype=bool)
    marked[hit["_row"].to_numpy()] = True
    return pl.Series("superseded", marked) & complete.to_series()
