"""Termination at account end: scheduled, applied, certified, the key retired when nothing needs it.

A termination is a state in the lake (piiscan.lake.terminations). An effective date after today is
only recorded (`schedule_termination`): nothing is deleted until the nightly of that day applies
it. Applying (`terminate`) records the termination before deleting anything, applies the plan as
it was shown (a stale plan is refused), and certifies every ledger entry of the termination no
certificate covers yet: certificates are append-only, a rerun adds `<date>-2.json` naming the one
before, and a run killed after its ledger entry is certified by the rerun, each entry once.

Rows kept for tax or billing are pseudonymized whole at termination; rows under a legal or audit
hold stay as they are. The key is kept while a hold names lines by token or a held row still holds
a raw value pseudonymizing would tokenise (released, such a row is pseudonymized or deleted by the
next purge), and retired by the first purge after which nothing needs it (`settle_key`). Without a
key, a terminated customer's purges remove such values instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

import polars as pl

from piiscan.certificate import build_certificate
from piiscan.errors import PurgeError
from piiscan.holds import Hold
from piiscan.lake import keys, ledger
from piiscan.lake.holds import load_registry
from piiscan.lake.keyring import KeyCopies, KeySource, LedgerKey
from piiscan.lake.locks import customer_lock
from piiscan.lake.reports import (
    certificate_keys,
    read_certificate,
    repair_certificate_pages,
    write_certificate,
)
from piiscan.lake.terminations import (
    APPLIED,
    KEY_KEPT,
    KEY_RETIRED,
    KEY_RETIRING,
    TerminationRecord,
    load_termination,
    save_termination,
    scheduled,
)
from piiscan.pipeline.purge import apply_purge, plan_purge, refuse_stale, sha256_bytes
from piiscan.policy import Config
from piiscan.pseudonymize import Key
from piiscan.purge import TOKENISED, PurgePlan, raw_tokenisable_rows
from piiscan.schema import DATASETS
from piiscan.storage import Storage


@dataclass(frozen=True)
class Termination:
    """The outcome of an applied termination."""

    entry: dict[str, Any]
    certificate: dict[str, Any]
    certificate_keys: tuple[str, str]
    key_needed: bool  # a hold or a raw held row may still need the key: it stays
    record: TerminationRecord | None = None


def _at(now: datetime) -> str:
    return now.astimezone(UTC).isoformat(timespec="seconds")


def schedule_termination(
    storage: Storage, customer: str, effective: date, now: datetime, by: str
) -> TerminationRecord:
    """Record a termination to apply on its effective date (nothing is deleted now); a
    scheduled one moves to the new date. PurgeError if the customer's termination was applied."""
    with customer_lock(storage, customer, now):
        record = load_termination(storage, customer)
        if record is not None and record.applied:
            raise PurgeError(
                f"{customer} was terminated effective {record.effective}; it cannot be "
                f"scheduled again for {effective}"
            )
        record = (
            replace(record, effective=effective, requested_at=_at(now), requested_by=by)
            if record is not None
            else scheduled(customer, effective, _at(now), by)
        )
        save_termination(storage, record)
        return record


def due_termination(
    storage: Storage, config: Config, customer: str, today: date
) -> tuple[date, str] | None:
    """(effective date, who asked) of a termination to apply today: a scheduled one whose day
    has come, or retention.yaml's `terminated:` date once reached (None: nothing due)."""
    record = load_termination(storage, customer)
    if record is not None:
        return (record.effective, record.requested_by) if record.due(today) else None
    configured = config.terminated(customer)
    if configured is not None and configured <= today:
        return configured, "retention.yaml"
    return None


def is_terminated(storage: Storage, customer: str) -> bool:
    """Whether the customer's termination has been applied."""
    record = load_termination(storage, customer)
    return record is not None and record.applied


def plan_termination(
    storage: Storage, config: Config, customer: str, effective: date, today: date, key: Key | None
) -> PurgePlan:
    """What terminating the customer deletes: everything but held rows, judged today (or on the
    effective date, when that is later: a preview of a scheduled termination)."""
    return plan_purge(storage, config, customer, max(today, effective), key, terminated=effective)


def key_needed(storage: Storage, customer: str, holds: list[Hold]) -> str | None:
    """Why the customer's key must stay (None: nothing needs it any more): a hold names lines
    by token, or a restricted row holds a raw value pseudonymizing would tokenise (a row under
    a legal or audit hold, to be pseudonymized if tax or billing keeps it once released)."""
    named = [h.id for h in holds if h.number_tokens]
    if named:
        return f"holds {', '.join(named)} refer to lines by token"
    raw = 0
    for dataset in DATASETS:
        folder = keys.dataset_folder("restricted", dataset, customer)
        for file_key in (k for k in storage.list(folder) if k.endswith(".parquet")):
            data = storage.read_bytes(file_key)
            columns = [c for c in pl.read_parquet_schema(data) if c in TOKENISED]
            if columns:
                raw += raw_tokenisable_rows(pl.read_parquet(data, columns=columns))
    if raw:
        return (
            f"{raw} held row(s) keep raw identifiers (legal or audit hold) and may need "
            "pseudonymizing when their hold ends"
        )
    return None


def _retire(
    storage: Storage, record: TerminationRecord, source: KeySource, at: str
) -> TerminationRecord:
    """Destroy the key where it lives, recording that it is being retired first: a run killed
    in between is finished by the next, which says where the key was."""
    if record.key_state != KEY_RETIRING:
        record = record.with_key(KEY_RETIRING, source.describe(), at)
        save_termination(storage, record)
    where = str(record.key.get("detail") or source.describe())
    if isinstance(source, KeyCopies) and not source.sources:
        done = f"retired by an interrupted earlier run (it was kept in {where})"
    else:
        done = source.retire()
    record = record.with_key(KEY_RETIRED, done, at)
    save_termination(storage, record)
    return record


def settle_key(
    storage: Storage,
    customer: str,
    as_of: date,
    source: KeySource,
    now: datetime,
    record: TerminationRecord | None = None,
) -> TerminationRecord | None:
    """After a terminated customer's purge: retire the key once nothing needs it, or record why
    it stays. Returns the record (None: the customer is not terminated)."""
    record = record or load_termination(storage, customer)
    if record is None or record.key_state == KEY_RETIRED:
        return record
    reason = key_needed(storage, customer, load_registry(storage, customer).active(as_of))
    if reason is None:
        return _retire(storage, record, source, _at(now))
    kept = f"kept: {reason} ({source.describe()})"
    if record.key.get("detail") != kept or record.key_state != KEY_KEPT:
        record = record.with_key(KEY_KEPT, kept, _at(now))
        save_termination(storage, record)
    return record


def _key_status(record: TerminationRecord) -> str:
    """The key's state as a certificate says it."""
    detail = str(record.key.get("detail", ""))
    if record.key_state == KEY_RETIRED:
        return detail
    return detail or record.key_state


def _remaining_objects(storage: Storage, customer: str) -> dict[str, int]:
    """Delivered and quarantined objects still held (a legal hold freezes them)."""
    return {
        "landing": sum(1 for _ in storage.list(keys.landing(customer))),
        "quarantine": sum(1 for _ in storage.list(keys.quarantine(customer))),
    }


def _certify(
    storage: Storage,
    plan: PurgePlan,
    record: TerminationRecord,
) -> tuple[dict[str, Any], tuple[str, str]]:
    """Write a certificate covering every termination ledger entry no certificate covers yet
    (a run killed after its entry is covered by the rerun's), naming the one before it."""
    customer = plan.customer
    repair_certificate_pages(storage, customer)
    written = certificate_keys(storage, customer)
    covered: set[int] = set()
    for key in written:
        covered |= set(read_certificate(storage, key).get("ledger_entries", []))
    entries = [
        e
        for e in ledger.read_entries(storage, customer)
        if e.get("kind") == "terminate" and e["seq"] not in covered
    ]
    remaining = {d: n for d, n in plan.kept.items() if d != "active"}
    by_zone = {
        zone: {d: n for d, n in counts.items() if d != "active"}
        for zone, counts in plan.kept_by_zone.items()
    }
    certificate = build_certificate(
        customer,
        record.effective,
        entries[-1],
        remaining,
        _key_status(record),
        entries=entries,
        remaining_by_zone=by_zone,
        objects_remaining=_remaining_objects(storage, customer),
        supersedes=written[-1] if written else None,
    )
    return certificate, write_certificate(storage, certificate)


def terminate(
    storage: Storage,
    config: Config,
    plan: PurgePlan,
    key: Key | None,
    now: datetime,
    source: KeySource,
    ledger_key: LedgerKey | None = None,
    requested_by: str = "terminate --apply",
) -> Termination:
    """Apply a termination plan (plan_termination, or plan_purge with terminated=the account
    end) exactly as it was shown, record it in the lake, certify it, and retire the key unless
    a hold or a raw held row may still need it (the ledger key is never retired: the ledger
    must stay verifiable). A stale plan is refused (PurgeError) and nothing is deleted; a rerun
    applies what is due since, and adds a certificate naming the previous one."""
    customer = plan.customer
    if plan.terminated is None:
        raise PurgeError(f"{customer}: not a termination plan (plan it with an account end)")
    with customer_lock(storage, customer, now):
        record = load_termination(storage, customer)
        if record is not None and record.applied and record.effective != plan.terminated:
            raise PurgeError(
                f"{customer} was terminated effective {record.effective}; a rerun names that "
                f"date, not {plan.terminated}"
            )
        refuse_stale(storage, plan)
        if record is None or not record.applied:
            # Recorded before anything is deleted: a run killed from here on is finished by
            # the rerun or the nightly, and the customer is never ingested again meanwhile.
            record = (
                replace(record, effective=plan.terminated)
                if record is not None
                else scheduled(customer, plan.terminated, _at(now), requested_by)
            )
            save_termination(storage, record)
        entry = apply_purge(
            storage, config, plan, key, now, kind="terminate", ledger_key=ledger_key
        )
        record = settle_key(storage, customer, plan.as_of, source, now, record) or record
        certificate, written = _certify(storage, plan, record)
        application = {
            "at": _at(now),
            "plan_digest": sha256_bytes(
                repr(sorted(plan.as_json().items())).encode()  # PII-free: ids and counts
            ),
            "ledger_seq": entry["seq"],
            "certificate": written[0],
        }
        record = replace(
            record,
            status=APPLIED,
            applications=(*record.applications, application),
            certificates=tuple(certificate_keys(storage, customer)),
        )
        save_termination(storage, record)
        needed = record.key_state != KEY_RETIRED
        return Termination(entry, certificate, written, needed, record)
