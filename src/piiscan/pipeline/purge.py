"""Purges: plan what retention and termination make due, show it, then apply it and prove it.

Planning reads only the partitions that can hold due rows (a monthly partition still inside its
retention period is skipped unread) and only the columns decisions need. Applying takes the
customer's lock, checks that every file is still the one planned (a stale plan is refused), then
per file: drop it when every row is due, or rewrite it (new content verified for row count and
schema, then swapped in atomically). Each zone decides from its own rows, so a run killed at any
point leaves every file as before or as after, and a rerun finishes the job. Every change, zone
file or other object (landing, quarantine, report, export), is journaled before it is made, so the
rerun's ledger entry records each one exactly once. An applied purge appends a signed ledger
entry: policy, partitions, rows deleted and kept per hold, hashes of the objects removed and
written.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from piiscan.errors import LinkRefusedError, PurgeError
from piiscan.holds import Hold
from piiscan.lake import keys, ledger
from piiscan.lake.faults import checkpoint
from piiscan.lake.holds import load_registry
from piiscan.lake.journal import is_other, other_record, recover_journal, write_journal
from piiscan.lake.keyring import LedgerKey
from piiscan.lake.locks import customer_lock
from piiscan.lake.manifest import load_manifest
from piiscan.lake.terminations import load_termination
from piiscan.policy import Config
from piiscan.pseudonymize import Key
from piiscan.purge import (
    REASONS,
    Decided,
    FilePlan,
    PurgePlan,
    decide_file,
    needed_columns,
    rewrite_frame,
    rules_for,
)
from piiscan.retention import DELETE, Rules, partition_untouchable
from piiscan.schema import DATASETS
from piiscan.storage import Storage

# Row decisions a plan carries to its apply, at most (about 5 bytes a row); past it, applying
# decides the remaining files' rows again.
CARRIED_ROWS = 50_000_000


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256."""
    return hashlib.sha256(data).hexdigest()


def open_invoices(
    storage: Storage, customer: str, statuses: tuple[str, ...]
) -> tuple[tuple[str, date], ...]:
    """(account, bill cycle) of the customer's open or disputed invoices."""
    files = [
        k
        for k in storage.list(keys.dataset_folder("restricted", "invoice_lines", customer))
        if k.endswith(".parquet")
    ]
    found: set[tuple[str, date]] = set()
    for key in files:
        with storage.local_copy(key) as local:
            frame = pl.read_parquet(
                local, columns=["account_number", "bill_cycle_date", "invoice_status"]
            )
        due = frame.filter(pl.col("invoice_status").str.to_lowercase().is_in(list(statuses)))
        found |= {
            (a, c)
            for a, c in due.select("account_number", "bill_cycle_date").iter_rows()
            if a is not None and c is not None
        }
    return tuple(sorted(found))


def lake_listing(storage: Storage, customer: str) -> str:
    """A digest of every object of the customer a purge may touch or depend on (both zones,
    landing, quarantine, reports, exports, requests) and of its hold registry: two plans see
    the same lake exactly when their digests agree."""
    prefixes = [keys.dataset_folder(z, d, customer) for z in keys.ZONES for d in DATASETS]
    prefixes += [
        keys.landing(customer),
        keys.quarantine(customer),
        keys.reports(customer),
        keys.exports(customer),
        keys.pending_requests(customer),
        keys.request_records(customer),
    ]
    digest = hashlib.sha256()
    for prefix in prefixes:
        for key in storage.list(prefix):
            digest.update(key.encode() + b"\n")
    holds = keys.holds(customer)
    if storage.exists(holds):
        digest.update(hashlib.sha256(storage.read_bytes(holds)).digest())
    return digest.hexdigest()


def plan_purge(
    storage: Storage,
    config: Config,
    customer: str,
    as_of: date,
    key: Key | None,
    terminated: date | None = None,
) -> PurgePlan:
    """What is due for a customer on a date (terminated: the account end, if any)."""
    assert config.retention is not None
    terminated = terminated or termination_date(storage, config, customer)
    listing = lake_listing(storage, customer)
    holds = load_registry(storage, customer).active(as_of)
    invoices = open_invoices(storage, customer, config.retention.billing.statuses)
    files: list[FilePlan] = []
    kept: Counter[str] = Counter()
    by_zone: dict[str, Counter[str]] = {zone: Counter() for zone in keys.ZONES}
    read = skipped = unread_rows = 0
    decided: dict[str, Decided] = {}
    for dataset in DATASETS:
        rules = rules_for(config, customer, dataset, as_of, holds, invoices, terminated)
        for zone in keys.ZONES:
            found = [
                k
                for k in storage.list(keys.dataset_folder(zone, dataset, customer))
                if k.endswith(".parquet")
            ]
            for period in sorted({keys.period_of(k) for k in found}):
                if partition_untouchable(rules, period):
                    skipped += 1
                    if zone == "restricted":  # footers only: counted, never read
                        unread_rows += sum(
                            storage.parquet_metadata(k).num_rows
                            for k in found
                            if keys.period_of(k) == period
                        )
                    continue
                read += 1
                for file_key in (k for k in found if keys.period_of(k) == period):
                    plan = plan_file(storage, zone, dataset, period, file_key, key, rules, decided)
                    held = {d: n for d, n in plan.decisions.items() if d != DELETE}
                    by_zone[zone].update(held)
                    if zone == "restricted":  # the analytics zone mirrors these rows
                        kept.update(held)
                    if plan.action != "none":
                        files.append(plan)
    other = _expired_objects(storage, config, customer, as_of, terminated, holds)
    return PurgePlan(
        customer,
        as_of,
        config.retention.version,
        terminated,
        tuple(files),
        dict(kept),
        read,
        skipped,
        other,
        {d: REASONS[d] for d in kept | {DELETE: 1}},
        listing,
        {zone: dict(counts) for zone, counts in by_zone.items()},
        unread_rows,
        decided,
    )


def termination_date(storage: Storage, config: Config, customer: str) -> date | None:
    """The customer's account end: its termination record in the lake (scheduled or applied),
    else retention.yaml's `terminated:` (None: not terminated)."""
    record = load_termination(storage, customer)
    return record.effective if record is not None else config.terminated(customer)


def key_retired(storage: Storage, customer: str, key: Key | None) -> bool:
    """Whether the customer's key is gone for good: its termination was applied and no key
    is at hand (retired, or removed by the operator). Values a held row would have tokenised
    are then removed instead, so no purge fails for want of the key."""
    record = load_termination(storage, customer)
    return key is None and record is not None and record.applied


def plan_file(
    storage: Storage,
    zone: str,
    dataset: str,
    period: str,
    file_key: str,
    key: Key | None,
    rules: Rules,
    keep: dict[str, Decided] | None = None,
) -> FilePlan:
    """One file's plan: its due rows counted from the columns decisions need. keep: where a
    file to rewrite leaves its row decisions for applying (while under CARRIED_ROWS in all)."""
    data = storage.read_bytes(file_key)
    frame = pl.read_parquet(data, columns=needed_columns(rules, list(pl.read_parquet_schema(data))))
    counts, action, decided = decide_file(frame, period, zone, key, rules)
    digest = sha256_bytes(data)
    carried = sum(d.columns.height for d in keep.values()) if keep is not None else 0
    if keep is not None and action == "rewrite" and carried + decided.height <= CARRIED_ROWS:
        keep[file_key] = Decided(rules, digest, decided)
    return FilePlan(zone, dataset, period, file_key, digest, frame.height, counts, action)


def _expired_objects(
    storage: Storage,
    config: Config,
    customer: str,
    as_of: date,
    terminated: date | None,
    holds: list[Hold],
) -> tuple[str, ...]:
    """Landing files, quarantine and reports past their periods (all of them at termination)."""
    assert config.retention is not None
    ending = terminated is not None and as_of >= terminated
    if any(h.kind == "legal" for h in holds):
        return ()  # a legal hold freezes the customer's delivered files and records too
    due: list[str] = []
    manifest = load_manifest(storage, customer)
    landed = {v.get("landing"): v.get("run_id", "") for v in manifest.values()}
    landing_cutoff = as_of - timedelta(days=config.retention.landing_days)
    for key in storage.list(keys.landing(customer)):
        when = keys.run_date(landed.get(key, ""))
        if ending or (when is not None and when <= landing_cutoff):
            due.append(key)
    for key in storage.list(keys.quarantine(customer)):
        when = keys.run_date(keys.quarantine_run(key))
        if ending or (when is not None and when <= landing_cutoff):
            due.append(key)
    months = config.retention.reports_months
    report_cutoff = date(as_of.year - months // 12, as_of.month, 1)
    for key in storage.list(keys.reports(customer)):
        when = keys.run_date(keys.name_of(key))
        if ending or (when is not None and when < report_cutoff):
            due.append(key)
    # Export bundles made by the subject-request flow hold a person's data: they go with the
    # landing period (or at termination), as do pending requests of a terminated customer.
    for key in storage.list(keys.exports(customer)):
        when = keys.run_date(keys.export_request(key))
        if ending or (when is not None and when <= landing_cutoff):
            due.append(key)
    if ending:
        due.extend(storage.list(keys.pending_requests(customer)))
    # Staging objects are writes killed midway (no writer runs while the purge holds the lock;
    # one made since the plan makes it stale): partial copies of personal data, due at once.
    for prefix in keys.customer_prefixes(customer):
        due.extend(k for k in storage.list(prefix) if keys.is_staging(k) and k not in due)
    # Records of subject requests (keyed hashes and counts, no identifier) are kept 24 months.
    request_cutoff = date(as_of.year - 2, as_of.month, 1)
    for key in storage.list(keys.request_records(customer)):
        when = keys.run_date(keys.name_of(key))
        if when is not None and when < request_cutoff:
            due.append(key)
    return tuple(due)


# --- applying --------------------------------------------------------------------------------


def apply_purge(
    storage: Storage,
    config: Config,
    plan: PurgePlan,
    key: Key | None,
    now: datetime,
    kind: str = "purge",
    subject: tuple[tuple[str, tuple[str, ...]], ...] = (),
    extra: dict[str, Any] | None = None,
    subject_elsewhere: tuple[tuple[str, tuple[str, ...]], ...] = (),
    ledger_key: LedgerKey | None = None,
    rewrite_files: RewriteFiles | None = None,
) -> dict[str, Any]:
    """Apply a plan under the customer's lock and append its ledger entry (returned).

    subject: the rows an erasure request names (Rules.subject, with Rules.subject_elsewhere);
    extra: PII-free fields for the ledger entry (a request's id and keyed selector hash);
    ledger_key: signs the entry (None: its variable or key file, created when missing);
    rewrite_files: writes the files to rewrite into staging (rewrite_file each, e.g. on Dask
    workers sharing this host's TMPDIR; None: one after another here). Only once every one is
    staged are they journaled and swapped in, here, and the purge ledgered once."""
    customer = plan.customer
    with customer_lock(storage, customer, now):
        holds = load_registry(storage, customer).active(plan.as_of)
        assert config.retention is not None
        invoices = open_invoices(storage, customer, config.retention.billing.statuses)
        refuse_stale(storage, plan)  # before touching anything
        retired = key_retired(storage, customer, key)
        apply_id = f"{now:%Y%m%dT%H%M%S}-{os.getpid()}"
        recovered = recover_journal(storage, customer)
        done: list[dict[str, Any]] = []
        with tempfile.TemporaryDirectory(prefix="piiscan-purge-") as tmp:
            jobs = [
                RewriteJob(
                    customer,
                    plan.as_of,
                    plan.terminated,
                    item,
                    str(Path(tmp) / f"{n}.parquet"),
                    retired,
                )
                for n, item in enumerate(plan.files)
                if item.action == "rewrite"
            ]
            if rewrite_files is None or subject:  # an erasure's rules stay in this process
                rewritten = []
                for job in jobs:
                    rules = rules_for(
                        config,
                        customer,
                        job.item.dataset,
                        plan.as_of,
                        holds,
                        invoices,
                        plan.terminated,
                    )
                    if subject:
                        rules = replace(rules, subject=subject, subject_elsewhere=subject_elsewhere)
                    carried = plan.decided.get(job.item.key)
                    reuse = (
                        carried is not None
                        and carried.sha256 == job.item.sha256
                        and carried.rules == rules
                    )
                    decisions = carried.columns if carried is not None and reuse else None
                    rewritten.append(rewrite_file(storage, job, rules, key, decisions))
            else:
                rewritten = rewrite_files(jobs) if jobs else []
            staged = {
                job.item.key: (job, written) for job, written in zip(jobs, rewritten, strict=True)
            }
            for index, item in enumerate(plan.files):
                checkpoint(f"before-file-{index}")
                _check_fresh(storage, item)  # again: another writer may have come by
                if item.key in staged:
                    job, record = staged[item.key]
                    record = {**record, "apply_id": apply_id}
                else:
                    record = {**_record(item), **_dropped(item), "apply_id": apply_id}
                # Journal first: a kill right after the swap is still accounted for on rerun.
                write_journal(storage, customer, [*recovered, *done, record])
                checkpoint(f"journaled-file-{index}")
                if item.action == "drop":
                    storage.delete(item.key)
                else:
                    # Readers see old or new; no older version keeps the deleted rows.
                    storage.rewrite(Path(job.staged), item.key, item.sha256)
                done.append(record)
                checkpoint(f"after-file-{index}")
        removed_other: list[dict[str, Any]] = []
        for index, other in enumerate(plan.other_keys):
            if not storage.exists(other):
                continue
            record = other_record(apply_id, other, _object_sha256(storage, other))
            # Journaled like zone files: a kill between deletions still ledgers each one once.
            write_journal(storage, customer, [*recovered, *done, *removed_other, record])
            checkpoint(f"journaled-other-{index}")
            storage.delete(other)
            removed_other.append(record)
            checkpoint(f"after-other-{index}")
        checkpoint("before-ledger")
        # Rejected rows removed from quarantine (subject erasure) are listed on their own.
        changed = [r for r in [*recovered, *done] if not is_other(r)]
        others = [r for r in [*recovered, *removed_other] if is_other(r)]
        lake_files = [f for f in changed if f.get("zone") != "quarantine"]
        quarantined = [f for f in changed if f.get("zone") == "quarantine"]
        entry = {
            "kind": kind,
            "at": now.astimezone(UTC).isoformat(timespec="seconds"),
            "policy_version": plan.policy_version,
            "as_of": plan.as_of.isoformat(),
            "terminated": plan.terminated.isoformat() if plan.terminated else None,
            "rows_deleted": sum(f["rows_deleted"] for f in lake_files),
            "rows_kept": plan.kept,
            "files": lake_files,
            "other_objects_removed": [{"key": o["key"], "sha256": o["sha256"]} for o in others],
            "nothing_due": plan.nothing_due and not recovered,
            "apply_ids": sorted({r["apply_id"] for r in [*changed, *others]} | {apply_id}),
            **({"quarantine_files": quarantined} if quarantined else {}),
            **(extra or {}),
        }
        chained = ledger.append(storage, customer, entry, ledger_key)
        storage.delete(keys.purge_journal(customer))
        return chained


def _object_sha256(storage: Storage, key: str) -> str:
    """An object's SHA-256; a symbolic link (never read) is recorded as one."""
    try:
        return sha256_bytes(storage.read_bytes(key))
    except LinkRefusedError:
        return "symlink"


def refuse_stale(storage: Storage, plan: PurgePlan) -> None:
    """PurgeError if the lake changed since the plan was made (objects added or removed,
    holds changed, a planned file rewritten)."""
    if plan.listing is not None and lake_listing(storage, plan.customer) != plan.listing:
        raise PurgeError(
            f"stale plan: {plan.customer}'s lake changed since the plan was made (objects "
            "added, removed or holds changed); plan again"
        )
    for item in plan.files:
        _check_fresh(storage, item)


def _check_fresh(storage: Storage, item: FilePlan) -> bytes:
    """The file's bytes if it is still the one planned; PurgeError otherwise."""
    if not storage.exists(item.key):
        raise PurgeError(f"stale plan: {item.key} is gone; plan again")
    data = storage.read_bytes(item.key)
    if sha256_bytes(data) != item.sha256:
        raise PurgeError(f"stale plan: {item.key} changed since it was planned; plan again")
    return data


@dataclass(frozen=True)
class RewriteJob:
    """One planned file to rewrite into a staged local file: its plan (keys and counts) and
    where to write, no frame and no key, so a Dask worker can do it from this alone."""

    customer: str
    as_of: date
    terminated: date | None
    item: FilePlan
    staged: str
    retired: bool  # the customer's key is gone for good (key_retired)


# Stages every job and returns each one's ledger record, in order (serial default, or Dask).
RewriteFiles = Callable[[Sequence[RewriteJob]], list[dict[str, Any]]]


def job_rules(storage: Storage, config: Config, job: RewriteJob) -> Rules:
    """The rules a nightly purge applies to the job's file, read again from the lake (what a
    worker that was handed only the job does)."""
    assert config.retention is not None
    holds = load_registry(storage, job.customer).active(job.as_of)
    invoices = open_invoices(storage, job.customer, config.retention.billing.statuses)
    return rules_for(
        config, job.customer, job.item.dataset, job.as_of, holds, invoices, job.terminated
    )


def rewrite_file(
    storage: Storage,
    job: RewriteJob,
    rules: Rules,
    key: Key | None,
    decided: pl.DataFrame | None = None,
) -> dict[str, Any]:
    """Write the job's file without its due rows to job.staged (verified, not yet swapped in);
    returns its ledger record. decided: the plan's row decisions, if carried."""
    data = _check_fresh(storage, job.item)
    item = job.item
    frame = pl.read_parquet(data)
    result = rewrite_frame(item, frame, rules, key, job.customer, job.retired, decided)
    result.write_parquet(job.staged)
    return {
        **_record(item),
        "action": "rewrite",
        "rows_deleted": item.rows - result.height,
        "rows_after": result.height,
        "written_sha256": sha256_bytes(Path(job.staged).read_bytes()),
    }


def _record(item: FilePlan) -> dict[str, Any]:
    """What a file's ledger record says of it before the change."""
    return {
        "zone": item.zone,
        "dataset": item.dataset,
        "period": item.period,
        "key": item.key,
        "removed_sha256": item.sha256,
        "rows_before": item.rows,
    }


def _dropped(item: FilePlan) -> dict[str, Any]:
    """A dropped file's change."""
    return {"action": "drop", "rows_deleted": item.rows, "rows_after": 0, "written_sha256": None}
