"""Run reports: one JSON document per customer and run under reports/<customer>/<run id>.json."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from piiscan.storage import Storage, join
from piiscan.types import IngestSummary

REPORT_VERSION = 1


def report_key(customer: str, run_id: str, ext: str = "json") -> str:
    """Where a run's report lives in the lake."""
    return join("reports", customer, f"{run_id}.{ext}")


def build_report(ingest: IngestSummary, now: datetime) -> dict[str, Any]:
    """The report document of one run; holds counts, names and reasons, never row values."""
    return {
        "report_version": REPORT_VERSION,
        "customer": ingest.customer,
        "run_id": ingest.run_id,
        "generated_at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "ingest": ingest.as_json(),
    }


def write_report(storage: Storage, ingest: IngestSummary, now: datetime) -> str:
    """Write the run's JSON report and return its key."""
    key = report_key(ingest.customer, ingest.run_id)
    body = json.dumps(build_report(ingest, now), indent=1, sort_keys=False) + "\n"
    storage.write_bytes(key, body.encode("utf-8"))
    return key
