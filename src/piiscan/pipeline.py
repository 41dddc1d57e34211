"""The stages composed for one customer; callers bring the storage, config and clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from piiscan.ingest.engine import Progress, ingest_landing
from piiscan.policy import Customer
from piiscan.report import write_report
from piiscan.storage import Storage


@dataclass(frozen=True)
class CustomerRun:
    """PII-free outcome of one customer's run: what flows pass around."""

    customer: str
    run_id: str
    report_key: str
    summary: dict[str, Any]


def run_customer(
    storage: Storage,
    customer: Customer,
    run_id: str,
    now: datetime,
    progress: Progress | None = None,
) -> CustomerRun:
    """Ingest the customer's new landing files and write the run report."""
    ingest = ingest_landing(storage, customer, run_id, progress)
    key = write_report(storage, ingest, now)
    summary = ingest.as_json()
    summary.pop("files")
    return CustomerRun(customer.id, run_id, key, summary)
