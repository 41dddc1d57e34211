"""Run reports: one JSON document per customer and run under reports/<customer>/<run id>.json.

Stages hand over JSON-ready, PII-free summaries (flows pass them between tasks as they are).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from piiscan.detect import ColumnFinding
from piiscan.pseudonymize import DatasetResult
from piiscan.storage import Storage, join

REPORT_VERSION = 1


def report_key(customer: str, run_id: str, ext: str = "json") -> str:
    """Where a run's report lives in the lake."""
    return join("reports", customer, f"{run_id}.{ext}")


def findings_json(findings: Mapping[str, Sequence[ColumnFinding]]) -> dict[str, Any]:
    """Detection results per dataset, as the report holds them (evidence is masked)."""
    return {
        dataset: {"columns": [f.as_json() for f in columns]}
        for dataset, columns in findings.items()
    }


def pseudonymized_json(results: Sequence[DatasetResult]) -> dict[str, Any]:
    """What pseudonymization did per dataset and column."""
    return {
        r.dataset: {
            "files": r.files,
            "rows": r.rows,
            "columns": [
                {"name": p.column, "entity": p.entity, "action": p.action, "source": p.source}
                for p in r.columns
            ],
        }
        for r in results
    }


def build_report(
    customer: str,
    run_id: str,
    now: datetime,
    *,
    ingest: Mapping[str, Any],
    datasets: Mapping[str, Any],
    pseudonymize: Mapping[str, Any],
    purge: Mapping[str, Any],
) -> dict[str, Any]:
    """The report document of one run; holds counts, names and masked evidence, never values."""
    return {
        "report_version": REPORT_VERSION,
        "customer": customer,
        "run_id": run_id,
        "generated_at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "ingest": dict(ingest),
        "datasets": dict(datasets),
        "pseudonymize": dict(pseudonymize),
        "purge": dict(purge),
    }


def write_report(storage: Storage, document: Mapping[str, Any]) -> str:
    """Write a run's JSON report and return its key."""
    key = report_key(document["customer"], document["run_id"])
    storage.write_bytes(key, (json.dumps(document, indent=1, default=str) + "\n").encode())
    return key


def summary(document: Mapping[str, Any]) -> dict[str, Any]:
    """The short, PII-free form flows log and return: counts per stage."""
    ingest = document["ingest"]
    entities: dict[str, int] = {}
    for dataset in document["datasets"].values():
        for column in dataset["columns"]:
            if column["entity"]:
                entities[column["entity"]] = entities.get(column["entity"], 0) + 1
    purge = document["purge"]
    return {
        "files_ingested": ingest["files_ingested"],
        "files_quarantined": ingest["files_quarantined"],
        "files_skipped": ingest["files_skipped"],
        "rows": ingest["rows"],
        "rows_rejected": ingest["rows_rejected"],
        "pii_columns": {
            d: sorted(c["name"] for c in v["columns"] if c["entity"])
            for d, v in document["datasets"].items()
        },
        "pii_columns_by_entity": entities,
        "rows_pseudonymized": {d: v["rows"] for d, v in document["pseudonymize"].items()},
        "purge": {k: purge.get(k) for k in ("rows_deleted", "rows_kept", "ledger_seq")},
    }


def markdown(customer: str, document: Mapping[str, Any]) -> str:
    """The run summary as Markdown, for a Prefect artifact."""
    s = summary(document)

    def pairs(mapping: Mapping[str, Any]) -> str:
        return ", ".join(f"{k}: {v}" for k, v in sorted(mapping.items())) or "none"

    lines = [
        f"### {customer} · run {document['run_id']}",
        "",
        "| stage | result |",
        "| --- | --- |",
        f"| ingest | {s['files_ingested']} file(s) ingested, {s['files_quarantined']} quarantined,"
        f" {s['files_skipped']} skipped; {s['rows_rejected']} row(s) rejected |",
        f"| rows landed | {pairs(s['rows'])} |",
        f"| PII columns by entity | {pairs(s['pii_columns_by_entity'])} |",
        f"| rows pseudonymized | {pairs(s['rows_pseudonymized'])} |",
        f"| purge | {s['purge']['rows_deleted']} row(s) deleted; kept by hold "
        f"{s['purge']['rows_kept'] or {}}; ledger entry {s['purge']['ledger_seq'] or '-'} |",
    ]
    return "\n".join(lines) + "\n"
