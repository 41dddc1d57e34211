"""Run reports: one JSON document per customer and run under reports/<customer>/<run id>.json."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from piiscan.detect import ColumnFinding
from piiscan.pseudonymize import DatasetResult
from piiscan.storage import Storage, join
from piiscan.types import IngestSummary

REPORT_VERSION = 1


def report_key(customer: str, run_id: str, ext: str = "json") -> str:
    """Where a run's report lives in the lake."""
    return join("reports", customer, f"{run_id}.{ext}")


def build_report(
    ingest: IngestSummary,
    findings: Mapping[str, Sequence[ColumnFinding]],
    pseudonymized: Sequence[DatasetResult],
    purged: Mapping[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """The report document of one run; holds counts, names and masked evidence, never values."""
    return {
        "report_version": REPORT_VERSION,
        "customer": ingest.customer,
        "run_id": ingest.run_id,
        "generated_at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "ingest": ingest.as_json(),
        "datasets": {
            dataset: {"columns": [f.as_json() for f in columns]}
            for dataset, columns in findings.items()
        },
        "pseudonymize": {
            r.dataset: {
                "files": r.files,
                "rows": r.rows,
                "columns": [
                    {"name": p.column, "entity": p.entity, "action": p.action, "source": p.source}
                    for p in r.columns
                ],
            }
            for r in pseudonymized
        },
        "purge": dict(purged),
    }


def write_report(
    storage: Storage,
    ingest: IngestSummary,
    findings: Mapping[str, Sequence[ColumnFinding]],
    pseudonymized: Sequence[DatasetResult],
    purged: Mapping[str, Any],
    now: datetime,
) -> str:
    """Write the run's JSON report and return its key."""
    key = report_key(ingest.customer, ingest.run_id)
    document = build_report(ingest, findings, pseudonymized, purged, now)
    body = json.dumps(document, indent=1, default=str) + "\n"
    storage.write_bytes(key, body.encode("utf-8"))
    return key
