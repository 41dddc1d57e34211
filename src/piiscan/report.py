"""Run reports: one JSON document per customer and run, `reports/<customer>/<run id>.json`,
rendered beside it as self-contained HTML (html.py) and as a Prefect markdown artifact.

The document's schema is versioned (REPORT_VERSION) and written down in
`piiscan/schemas/report.schema.json` (documented in docs/REPORT.md). It holds counts, names,
reviewer decisions and masked evidence, never a value. Stages hand over JSON-ready summaries,
so flows can pass them between tasks as they are.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from piiscan.detect import ColumnFinding
from piiscan.drift import detect_drift
from piiscan.pseudonymize import DatasetResult

REPORT_VERSION = 3
HISTORY_RUNS = 30  # runs shown in the report's "rows purged over time" chart


def report_schema() -> dict[str, Any]:
    """The JSON Schema of the report document (this version)."""
    text = (Path(__file__).parent / "schemas" / "report.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def datasets_json(
    findings: Mapping[str, Sequence[ColumnFinding]], results: Sequence[DatasetResult]
) -> dict[str, Any]:
    """Per dataset its files, rows and columns: the decision, its evidence and the action applied.

    Canonical identifier columns carry their entity by design; pseudonymization's plan says what
    was applied (an action set per column in actions.yaml shows as `action_from: actions.yaml`).
    """
    by_dataset = {r.dataset: r for r in results}
    out: dict[str, Any] = {}
    for dataset, columns in findings.items():
        result = by_dataset.get(dataset)
        plans = {p.column: p for p in result.columns} if result else {}
        rows = []
        for finding in sorted(columns, key=lambda f: (f.name.startswith("extras."), f.name)):
            column = finding.report_json()
            plan = plans.get(finding.name)
            if plan is not None:
                column["action"] = plan.action
                if plan.source == "design" and plan.entity and finding.source != "review":
                    column["entity"] = plan.entity
                    column["source"] = "design"
                if plan.source == "override":
                    column["action_from"] = "actions.yaml"
            rows.append(column)
        out[dataset] = {
            "files": result.files if result else 0,
            "rows": result.rows if result else 0,
            "columns": rows,
        }
        if result is not None and result.files_written is not None:
            out[dataset]["files_written"] = result.files_written
    return out


def build_report(
    customer: str,
    run_id: str,
    now: datetime,
    *,
    ingest: Mapping[str, Any],
    datasets: Mapping[str, Any],
    purge: Mapping[str, Any],
    previous: Mapping[str, Any] | None = None,
    reviewed: Sequence[tuple[str, str]] = (),
    confidence_threshold: float = 0.8,
    files: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The report document of one run; holds counts, names and masked evidence, never values.

    `previous` is the customer's previous report (drift is measured against it), `reviewed` the
    (dataset, column) pairs a reviewer has decided, `files` the customer's quarantine items
    still unresolved, whatever run quarantined them (piiscan.lake.quarantine).
    """
    drift, found = detect_drift(previous, datasets, reviewed, run_id, confidence_threshold)
    pending = [{**item, "commands": review_commands(customer, item)} for item in found]
    flagged = {(i["dataset"], i["column"]): i["kinds"] for i in pending}
    marked = {
        dataset: {
            **body,
            "columns": [
                {**column, "drift": flagged.get((dataset, column["name"]), [])}
                for column in body["columns"]
            ],
        }
        for dataset, body in datasets.items()
    }
    generated_at = now.astimezone(UTC).isoformat(timespec="seconds")
    history = list((previous or {}).get("history", []))[-(HISTORY_RUNS - 1) :]
    history.append(
        {
            "run_id": run_id,
            "generated_at": generated_at,
            "rows_deleted": int(purge.get("rows_deleted") or 0),
        }
    )
    return {
        "report_version": REPORT_VERSION,
        "customer": customer,
        "run_id": run_id,
        "generated_at": generated_at,
        "previous_run_id": previous["run_id"] if previous else None,
        "needs_review": bool(pending or files),
        "review": {
            "confidence_threshold": confidence_threshold,
            "overrides_applied": sum(
                1 for body in datasets.values() for c in body["columns"] if c["source"] == "review"
            ),
            "drift": drift,
            "pending": pending,
            "files": [dict(item) for item in files],
        },
        "ingest": dict(ingest),
        "datasets": marked,
        "purge": dict(purge),
        "history": history,
    }


def summary(document: Mapping[str, Any]) -> dict[str, Any]:
    """The short, PII-free form flows log and return: counts per stage and what needs review."""
    ingest = document["ingest"]
    entities: dict[str, int] = {}
    for dataset in document["datasets"].values():
        for column in dataset["columns"]:
            if column["entity"]:
                entities[column["entity"]] = entities.get(column["entity"], 0) + 1
    purge = document["purge"]
    review = document["review"]
    return {
        "needs_review": document["needs_review"],
        "review_items": len(review["pending"]) + len(review.get("files", [])),
        "columns_to_review": len(review["pending"]),
        "files_to_review": len(review.get("files", [])),
        "new_changes": len(review["drift"]),
        "files_ingested": ingest["files_ingested"],
        "files_quarantined": ingest["files_quarantined"],
        "files_skipped": ingest["files_skipped"],
        "rows": ingest["rows"],
        "rows_rejected": ingest["rows_rejected"],
        "rows_delivered": ingest.get("rows_delivered", 0),
        "rows_reference": ingest.get("rows_reference", 0),
        "pii_columns": {
            d: sorted(c["name"] for c in v["columns"] if c["entity"])
            for d, v in document["datasets"].items()
        },
        "pii_columns_by_entity": entities,
        "rows_pseudonymized": {d: v["rows"] for d, v in document["datasets"].items()},
        "purge": {
            k: purge.get(k)
            for k in ("rows_deleted", "rows_kept", "rows_not_due_unread", "ledger_seq")
        },
    }


PURGE_SUMMARY = ("rows_deleted", "rows_kept", "rows_not_due_unread", "ledger_seq")


def describe(item: Mapping[str, Any], place: bool = True) -> str:
    """One review item in words (names and entities only), led by dataset.column if place."""
    where = item["dataset"] + (f".{item['column']}" if item["column"] else "")
    before, now = item.get("previous") or {}, item.get("current") or {}
    words = {
        "new_dataset": f"new dataset ({now.get('pii_columns', 0)} personal-data column(s))",
        "new_column": "new column" + (f", {now.get('entity')}" if now.get("entity") else ""),
        "became_pii": f"now {now.get('entity')}",
        "entity_changed": f"{before.get('entity')} -> {now.get('entity')}",
        "confidence_drop": f"confidence {before.get('confidence')} -> {now.get('confidence')}",
        "no_longer_pii": f"was {before.get('entity')}, no longer personal data",
        "detection_changed": (
            f"detection now finds {now.get('entity') or 'no personal data'} (was "
            f"{before.get('entity') or 'no personal data'}) under the reviewer's "
            f"{now.get('decision') or 'decision'}: decide again"
        ),
        "header_only": f"{now.get('entity')} from its header alone (the values cannot confirm it)",
        "low_confidence": (
            f"{now.get('entity')} at confidence {now.get('confidence')}, under the review threshold"
        ),
    }
    seen = [words[k] for k in item["kinds"] if k in words]
    if "new_column" in item["kinds"]:
        seen = [words["new_column"]]
    return f"{where}: {'; '.join(seen)}" if place else "; ".join(seen)


def describe_file(item: Mapping[str, Any]) -> str:
    """One quarantine item in words: the file, what happened, the first rejected rows."""
    if item["kind"] == "rejected_rows":
        what = f"{item['rows_rejected']} row(s) rejected, the file's other rows landed"
    else:
        reason = str(item["reason"]).removeprefix(f"{item['file']}: ")
        what = f"quarantined ({item['code']}): {reason}"
    rows = "; ".join(f"line {r['line']}: {r['problem']}" for r in item["rejections"])
    more = f" (+{item['more_rejections']} more)" if item["more_rejections"] else ""
    return f"{item['file']}: {what}" + (f" [{rows}{more}]" if rows else "")


def review_commands(customer: str, item: Mapping[str, Any]) -> list[str]:
    """Ready-to-paste commands that settle a column's review item."""
    if item["column"] is None:
        return [f"piiscan review list -c {customer}"]
    place = f"-c {customer} --dataset {item['dataset']} --column {item['column']}"
    entity = (item.get("current") or {}).get("entity")
    decide = "--reason 'WHY' --by 'YOUR NAME'"
    commands = [f"piiscan review reject {place} {decide}"]
    if entity:
        commands.insert(0, f"piiscan review confirm {place} {decide}")
    else:
        commands.append(f"piiscan review set {place} --entity ENTITY {decide}")
    return commands


def markdown(customer: str, document: Mapping[str, Any]) -> str:
    """The report's summary as Markdown, for a Prefect artifact: what needs review first."""
    s = summary(document)

    def pairs(mapping: Mapping[str, Any]) -> str:
        return ", ".join(f"{k}: {v}" for k, v in sorted(mapping.items())) or "none"

    pending = document["review"]["pending"]
    files = document["review"].get("files", [])
    lines = [f"### {customer} · run {document['run_id']}", ""]
    if pending or files:
        lines.append(f"**Needs review: {len(pending) + len(files)} item(s)**")
        lines.append("")
        lines.extend(f"- {describe(item)}" for item in pending)
        lines.extend(f"- {describe_file(item)}" for item in files)
    else:
        lines.append("Nothing needs review.")
    lines += [
        "",
        "| stage | result |",
        "| --- | --- |",
        f"| ingest | {s['files_ingested']} file(s) ingested, {s['files_quarantined']} quarantined,"
        f" {s['files_skipped']} skipped; {s['rows_delivered']} row(s) delivered,"
        f" {s['rows_rejected']} rejected, {s['rows_reference']} reference |",
        f"| rows landed | {pairs(s['rows'])} |",
        f"| PII columns by entity | {pairs(s['pii_columns_by_entity'])} |",
        f"| reviewer decisions applied | {document['review']['overrides_applied']} |",
        f"| rows pseudonymized | {pairs(s['rows_pseudonymized'])} |",
        f"| purge | {s['purge']['rows_deleted']} row(s) deleted; kept by hold "
        f"{pairs(s['purge']['rows_kept'] or {})}; "
        f"{s['purge']['rows_not_due_unread'] or 0} not yet due in partitions not read; "
        f"ledger entry {s['purge']['ledger_seq'] or '-'} |",
    ]
    return "\n".join(lines) + "\n"
