"""The stages composed for one customer; callers bring the storage, config, key, models, clock."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from piiscan.detect import ColumnFinding, Detector
from piiscan.lake import ledger
from piiscan.lake.detections import inputs_of, load_detections, save_detections
from piiscan.lake.keyring import KeySource, key_source
from piiscan.lake.provenance import load_sources, save_sources
from piiscan.lake.quarantine import file_items
from piiscan.lake.reports import previous_report, write_report
from piiscan.lake.terminations import TerminationRecord
from piiscan.pipeline.ingest import Progress, ingest_landing, new_deliveries
from piiscan.pipeline.pseudonymize import RunFiles, pseudonymize_dataset
from piiscan.pipeline.purge import RewriteFiles, apply_purge, plan_purge
from piiscan.pipeline.scan import sample_lake_files, zone_files
from piiscan.pipeline.terminate import (
    due_termination,
    is_terminated,
    plan_termination,
    settle_key,
    terminate,
)
from piiscan.policy import Config, Customer
from piiscan.pseudonymize import DatasetResult, Key
from piiscan.report import build_report, datasets_json, summary
from piiscan.review import apply_overrides
from piiscan.schema import DATASETS
from piiscan.storage import Storage
from piiscan.types import IngestSummary


@dataclass(frozen=True)
class CustomerRun:
    """PII-free outcome of one customer's run: what flows pass around."""

    customer: str
    run_id: str
    report_key: str
    summary: dict[str, Any]


def detect_datasets(
    storage: Storage, customer: str, detector: Detector, config: Config
) -> dict[str, list[ColumnFinding]]:
    """Findings per dataset of the customer's restricted zone (datasets with data only), with
    the reviewers' overrides (configs/overrides.yaml) applied. A dataset whose files and
    detector are those of its last detection reuses its findings (piiscan.lake.detections):
    nothing is sampled and no model loads on a night that changed nothing."""
    findings = {}
    actions = config.entity_actions()
    memo = load_detections(storage, customer)
    identity = detector.identity()
    changed = False
    for dataset in DATASETS:
        files = zone_files(storage, "restricted", dataset, customer)
        if not files:
            changed = memo.pop(dataset, None) is not None or changed
            continue
        inputs = inputs_of(storage, files, identity)
        known = memo.get(dataset)
        if known is not None and known["inputs"] == inputs:
            found = [ColumnFinding(**f) for f in known["findings"]]
        else:
            found = detector.classify(sample_lake_files(storage, files))
            memo[dataset] = {"inputs": inputs, "findings": [asdict(f) for f in found]}
            changed = True
        overrides = config.overrides_for(customer, dataset)
        findings[dataset] = apply_overrides(found, overrides, actions)
    if changed:
        save_detections(storage, customer, memo)
    return findings


def pseudonymize_customer(
    storage: Storage,
    config: Config,
    customer: str,
    key: Key,
    findings: dict[str, list[ColumnFinding]],
    run_files: RunFiles | None = None,
) -> list[DatasetResult]:
    """Mirror every dataset with data into the analytics zone; files whose inputs did not
    change are left as they are (piiscan.lake.provenance). run_files: see pseudonymize_dataset."""
    results = []
    sources = load_sources(storage, customer)
    entity_actions = config.entity_actions()
    for dataset, columns in findings.items():
        detected = {f.name: f.policy_entity for f in columns}
        reviewed = {f.name for f in columns if f.source == "review"}
        overrides = {c: str(a) for c, a in config.column_actions.get(dataset, {}).items()}
        results.append(
            pseudonymize_dataset(
                storage,
                customer,
                dataset,
                key,
                detected,
                entity_actions,
                overrides,
                reviewed,
                sources,
                redaction=config.redaction,
                run_files=run_files,
            )
        )
    if any(r.files_written for r in results):
        save_sources(storage, customer, sources)
    return results


def purge_due(
    storage: Storage,
    config: Config,
    customer: str,
    key: Key | None,
    now: datetime,
    source: KeySource | None = None,
    rewrite_files: RewriteFiles | None = None,
) -> dict[str, Any]:
    """Apply what retention makes due today; a night with nothing due adds no ledger entry.
    For a terminated customer (key: None once retired), source is where its key lives: it is
    retired by the first purge after which nothing needs it. rewrite_files: see apply_purge."""
    plan = plan_purge(storage, config, customer, now.date(), key)
    summary = plan.as_json()
    for name in ("files", "other_objects", "listing", "rows_kept_by_zone"):
        summary.pop(name)
    summary["files_changed"] = len(plan.files)
    if plan.nothing_due:
        summary["ledger_seq"] = None
        summary["applied"] = False
    else:
        entry = apply_purge(storage, config, plan, key, now, rewrite_files=rewrite_files)
        summary["ledger_seq"] = entry["seq"]
        summary["applied"] = True
    if source is not None and is_terminated(storage, customer):
        record = settle_key(storage, customer, now.date(), source, now)
        summary["termination"] = termination_summary(record)
    return summary


def termination_summary(record: TerminationRecord | None) -> dict[str, Any] | None:
    """What a report says of a customer's termination (None: not terminated)."""
    if record is None:
        return None
    return {
        "effective_date": record.effective.isoformat(),
        "status": record.status,
        "certificates": list(record.certificates),
        "key": record.key_state,
    }


def apply_due_termination(
    storage: Storage,
    config: Config,
    customer: str,
    key: Key | None,
    now: datetime,
    source: KeySource,
) -> dict[str, Any] | None:
    """Apply the customer's termination if it is due today (scheduled for today or earlier, a
    killed application, or retention.yaml's date reached); returns its PII-free outcome."""
    due = due_termination(storage, config, customer, now.date())
    if due is None:
        return None
    effective, by = due
    plan = plan_termination(storage, config, customer, effective, now.date(), key)
    result = terminate(storage, config, plan, key, now, source, requested_by=by)
    return {
        "effective_date": effective.isoformat(),
        "rows_deleted": result.entry["rows_deleted"],
        "ledger_seq": result.entry["seq"],
        "certificate": result.certificate_keys[0],
        "key": result.certificate["pseudonymization_key"],
    }


def skipped_ingest(customer: str, run_id: str) -> dict[str, Any]:
    """The ingest summary of a terminated customer's run: nothing read, nothing landed."""
    return {**IngestSummary(customer, run_id, ()).as_json(), "skipped": "customer terminated"}


def reviewed_columns(datasets: dict[str, Any]) -> list[tuple[str, str]]:
    """(dataset, column) pairs whose decision came from a reviewer."""
    return [
        (dataset, column["name"])
        for dataset, body in datasets.items()
        for column in body["columns"]
        if column["source"] == "review"
    ]


def finish_report(
    storage: Storage,
    config: Config,
    customer: str,
    run_id: str,
    now: datetime,
    *,
    ingest: dict[str, Any],
    datasets: dict[str, Any],
    purge: dict[str, Any],
) -> tuple[str, dict[str, Any]]:
    """Build the run's report against the previous one (drift) with every quarantine item
    still unresolved, write JSON and HTML. The
    report anchors the ledger's head (purge.ledger: seq and hash of its last entry), so a
    ledger cut short or replaced later no longer holds what the report names."""
    document = build_report(
        customer,
        run_id,
        now,
        ingest=ingest,
        datasets=datasets,
        purge={**purge, "ledger": ledger.head(storage, customer)},
        previous=previous_report(storage, customer, run_id),
        reviewed=reviewed_columns(datasets),
        confidence_threshold=config.review.confidence_threshold,
        files=file_items(storage, customer),
    )
    return write_report(storage, document), document


def run_customer(
    storage: Storage,
    config: Config,
    customer: Customer,
    run_id: str,
    now: datetime,
    key: Key | None,
    detector: Detector,
    progress: Progress | None = None,
    source: KeySource | None = None,
) -> CustomerRun:
    """Ingest new landing files, detect, pseudonymize, purge what is due, write the report. A
    termination due today is applied first; a terminated customer is only purged (as holds run
    out) and reported. source: where the key lives, to retire it (None: key files and variable)."""
    source = source or key_source(customer.id)
    terminated = apply_due_termination(storage, config, customer.id, key, now, source)
    if is_terminated(storage, customer.id):
        purged = purge_due(storage, config, customer.id, key, now, source)
        purged["termination"] = {**(purged.get("termination") or {}), "applied": terminated}
        ingest, datasets = skipped_ingest(customer.id, run_id), {}
    else:
        assert key is not None, "a customer not terminated needs its key"
        ingest = ingest_landing(
            storage, customer, run_id, progress, config.layouts, config.ingest, now=now
        ).as_json()
        findings = detect_datasets(storage, customer.id, detector, config)
        pseudonymized = pseudonymize_customer(storage, config, customer.id, key, findings)
        purged = purge_due(storage, config, customer.id, key, now)
        datasets = datasets_json(findings, pseudonymized)
    report_key, document = finish_report(
        storage,
        config,
        customer.id,
        run_id,
        now,
        ingest=ingest,
        datasets=datasets,
        purge=purged,
    )
    return CustomerRun(customer.id, run_id, report_key, summary(document))


def is_quiet(storage: Storage, config: Config, customer: str, today: date) -> bool:
    """Whether the customer's night has little to do: nothing new in landing and no
    termination due today (its purge and report still run). A coordinator runs quiet customers
    together in one flow run instead of paying a process for each."""
    if due_termination(storage, config, customer, today) is not None:
        return False
    return new_deliveries(storage, config.customer(customer)) == 0
