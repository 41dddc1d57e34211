"""Purges: plan what retention and termination make due, show it, then apply it and prove it.

Planning reads only the partitions that can hold due rows (a monthly partition still inside its
retention period is skipped unread) and only the columns decisions need. Applying takes the
customer's lock, checks that every file is still the one planned (a stale plan is refused), then
per file: drop it when every row is due, or rewrite it (new content verified for row count and
schema, then swapped in atomically). Each zone decides from its own rows, so a run killed at any
point leaves every file as before or as after, and a rerun finishes the job. An applied purge
appends a ledger entry: policy, partitions, rows deleted and kept per hold, hashes of the files
removed and written.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from piiscan.errors import KeyMaterialError, NotFoundError, PiiscanError, StorageError
from piiscan.holds import Hold
from piiscan.lake import ledger
from piiscan.lake.holds import load_registry
from piiscan.policy import Config
from piiscan.pseudonymize import Key, tokens
from piiscan.retention import (
    DECISION,
    DELETE,
    PSEUDONYMIZE,
    Rules,
    billing_needed,
    decide,
    partition_untouchable,
)
from piiscan.schema import DATASETS, KNOWN_ENTITIES
from piiscan.storage import Storage, join

ZONES = ("restricted", "analytics")
TOKEN = r"^k\d+-[0-9a-f]{32}$"
LOCK_STALE_AFTER = timedelta(hours=6)
_TOKEN_COLUMN = "_line_token"


class PurgeError(PiiscanError):
    """A purge cannot run: locked, stale plan, or a check failed."""


@dataclass(frozen=True)
class FilePlan:
    """One file's due rows."""

    zone: str
    dataset: str
    period: str
    key: str
    sha256: str
    rows: int
    decisions: dict[str, int]  # decision -> rows
    action: str  # drop | rewrite

    @property
    def deleted(self) -> int:
        """Rows this plan deletes."""
        return self.decisions.get(DELETE, 0)


@dataclass(frozen=True)
class PurgePlan:
    """What a purge would do; applying it changes exactly this."""

    customer: str
    as_of: date
    policy_version: str
    terminated: date | None
    files: tuple[FilePlan, ...]
    kept: dict[str, int]  # restricted rows kept per hold/decision in the partitions read
    partitions_read: int
    partitions_skipped: int
    other_keys: tuple[str, ...]  # landing, quarantine and report objects past their period
    reasons: dict[str, str] = field(default_factory=dict)  # decision -> why, for people

    @property
    def nothing_due(self) -> bool:
        """True when applying would change nothing."""
        return not self.files and not self.other_keys

    def as_json(self) -> dict[str, Any]:
        """PII-free JSON form (keys hold ids, datasets, periods and checksums only)."""
        return {
            "customer": self.customer,
            "as_of": self.as_of.isoformat(),
            "policy_version": self.policy_version,
            "terminated": self.terminated.isoformat() if self.terminated else None,
            "partitions_read": self.partitions_read,
            "partitions_skipped_unread": self.partitions_skipped,
            "rows_deleted": sum(f.deleted for f in self.files),
            "rows_kept": self.kept,
            "files": [asdict(f) for f in self.files],
            "other_objects": list(self.other_keys),
            "reasons": self.reasons,
        }


REASONS = {
    "legal": "legal hold: kept exactly as it is",
    "audit": "audit hold: kept exactly as it is",
    "tax": "tax retention: kept, personal columns pseudonymized",
    "billing": "open or disputed invoice, or inside the dispute window: kept, personal columns "
    "other than the wireless number pseudonymized",
    "no_clock": "no date to run the retention clock from: kept (when in doubt, keep)",
    "active": "inside its retention period",
    "delete": "retention period over (or account terminated) and no hold",
}


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256."""
    return hashlib.sha256(data).hexdigest()


def period_of(key: str) -> str:
    return next(p.removeprefix("period=") for p in key.split("/") if p.startswith("period="))


def rules_for(
    config: Config,
    customer: str,
    dataset: str,
    as_of: date,
    holds: list[Hold],
    open_invoices: tuple[tuple[str, date], ...],
    terminated: date | None,
) -> Rules:
    """The decision inputs for one dataset of one customer."""
    assert config.retention is not None
    rule = config.rule(customer, dataset)
    return Rules(
        dataset=dataset,
        keep_months=rule.keep_months,
        clock=rule.clock,
        clock_fallback=rule.clock_fallback,
        as_of=as_of,
        terminated=terminated,
        tax_years=config.tax_years(customer),
        tax_datasets=tuple(config.retention.tax.datasets),
        billing_statuses=config.retention.billing.statuses,
        dispute_window_days=config.retention.billing.dispute_window_days,
        holds=tuple(holds),
        open_invoices=open_invoices,
    )


def _needed_columns(rules: Rules, schema: list[str]) -> list[str]:
    wanted = {
        rules.clock,
        rules.clock_fallback,
        "bill_cycle_date",
        "invoice_status",
        "account_number",
        "wireless_number",
        *PERSONAL,
    }
    return [c for c in schema if c in wanted]


PERSONAL = tuple(KNOWN_ENTITIES)


def _with_tokens(frame: pl.DataFrame, zone: str, key: Key | None, rules: Rules) -> pl.DataFrame:
    """A column with each row's line token, for holds that name wireless numbers."""
    if not any(h.number_tokens for h in rules.holds) or "wireless_number" not in frame.columns:
        return frame
    if zone == "analytics":
        return frame.with_columns(pl.col("wireless_number").alias(_TOKEN_COLUMN))
    if key is None:
        raise KeyMaterialError(rules.holds[0].customer, "needed to match holds on wireless numbers")
    mapping = tokens(frame["wireless_number"].drop_nulls().unique().to_list(), key, "PHONE_NUMBER")
    return frame.with_columns(
        pl.col("wireless_number")
        .replace_strict(mapping, default=None, return_dtype=pl.String)
        .alias(_TOKEN_COLUMN)
    )


_BILLING = "_billing"


def _decisions(frame: pl.DataFrame, zone: str, key: Key | None, rules: Rules) -> pl.DataFrame:
    frame = _with_tokens(frame, zone, key, rules)
    token = _TOKEN_COLUMN if _TOKEN_COLUMN in frame.columns else None
    # Lazy, so that sub-expressions shared by the decision's branches are computed once.
    return (
        frame.lazy()
        .with_columns(
            decide(rules, frame.columns, token),
            billing_needed(rules, frame.columns).alias(_BILLING),
        )
        .collect()
    )


def _raw_personal(frame: pl.DataFrame, zone: str) -> pl.Expr:
    """Rows that still hold a personal value a tax or billing hold does not need."""
    if zone == "analytics":
        return pl.lit(False)
    raw = pl.lit(False)
    for column in PERSONAL:
        if column in frame.columns:
            value = pl.col(column).cast(pl.String)
            needed = pl.col(_BILLING) if column == "wireless_number" else pl.lit(False)
            raw |= value.is_not_null() & ~value.str.contains(TOKEN) & ~needed
    return raw


def open_invoices(
    storage: Storage, customer: str, statuses: tuple[str, ...]
) -> tuple[tuple[str, date], ...]:
    """(account, bill cycle) of the customer's open or disputed invoices."""
    keys = [
        k
        for k in storage.list(join("restricted", "invoice_lines", f"customer={customer}"))
        if k.endswith(".parquet")
    ]
    found: set[tuple[str, date]] = set()
    for key in keys:
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
    terminated = terminated or config.terminated(customer)
    holds = load_registry(storage, customer).active(as_of)
    invoices = open_invoices(storage, customer, config.retention.billing.statuses)
    files: list[FilePlan] = []
    kept: Counter[str] = Counter()
    read = skipped = 0
    for dataset in DATASETS:
        rules = rules_for(config, customer, dataset, as_of, holds, invoices, terminated)
        for zone in ZONES:
            keys = [
                k
                for k in storage.list(join(zone, dataset, f"customer={customer}"))
                if k.endswith(".parquet")
            ]
            for period in sorted({period_of(k) for k in keys}):
                if partition_untouchable(rules, period):
                    skipped += 1
                    continue
                read += 1
                for file_key in (k for k in keys if period_of(k) == period):
                    plan = plan_file(storage, zone, dataset, period, file_key, key, rules)
                    if zone == "restricted":  # the analytics zone mirrors these rows
                        kept.update({d: n for d, n in plan.decisions.items() if d != DELETE})
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
    )


def plan_file(
    storage: Storage,
    zone: str,
    dataset: str,
    period: str,
    file_key: str,
    key: Key | None,
    rules: Rules,
) -> FilePlan:
    data = storage.read_bytes(file_key)
    schema = list(pl.read_parquet_schema(data))
    frame = pl.read_parquet(data, columns=_needed_columns(rules, schema)).with_columns(
        pl.lit(period).alias("period")
    )
    decided = _decisions(frame, zone, key, rules)
    counts = dict(decided[DECISION].value_counts().iter_rows())
    pseudo = decided.filter(
        pl.col(DECISION).is_in(list(PSEUDONYMIZE)) & _raw_personal(decided, zone)
    )
    if counts.get(DELETE, 0) == decided.height:
        action = "drop"
    elif counts.get(DELETE, 0) or pseudo.height:
        action = "rewrite"
    else:
        action = "none"
    return FilePlan(
        zone, dataset, period, file_key, sha256_bytes(data), decided.height, counts, action
    )


def _run_date(run_id: str) -> date | None:
    try:
        return datetime.strptime(run_id[:8], "%Y%m%d").date()
    except ValueError:
        return None


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
    manifest_key = join("state", "ingested", f"{customer}.json")
    ingested = json.loads(storage.read_bytes(manifest_key)) if storage.exists(manifest_key) else {}
    landed = {v.get("landing"): v.get("run_id", "") for v in ingested.values()}
    landing_cutoff = as_of - timedelta(days=config.retention.landing_days)
    for key in storage.list(join("landing", customer)):
        when = _run_date(landed.get(key, ""))
        if ending or (when is not None and when <= landing_cutoff):
            due.append(key)
    for key in storage.list(join("quarantine", customer)):
        when = _run_date(key.split("/")[2])
        if ending or (when is not None and when <= landing_cutoff):
            due.append(key)
    months = config.retention.reports_months
    report_cutoff = date(as_of.year - months // 12, as_of.month, 1)
    for key in storage.list(join("reports", customer)):
        when = _run_date(key.rsplit("/", 1)[-1])
        if ending or (when is not None and when < report_cutoff):
            due.append(key)
    # Export bundles made by the subject-request flow hold a person's data: they go with the
    # landing period (or at termination), as do pending requests of a terminated customer.
    for key in storage.list(join("restricted", "exports", customer)):
        when = _run_date(key.split("/")[3])
        if ending or (when is not None and when <= landing_cutoff):
            due.append(key)
    if ending:
        due.extend(storage.list(join("restricted", "requests", customer)))
    # Records of subject requests (keyed hashes and counts, no identifier) are kept 24 months.
    request_cutoff = date(as_of.year - 2, as_of.month, 1)
    for key in storage.list(join("state", "requests", customer)):
        when = _run_date(key.rsplit("/", 1)[-1])
        if when is not None and when < request_cutoff:
            due.append(key)
    return tuple(due)


# --- applying --------------------------------------------------------------------------------


def checkpoint(name: str) -> None:
    """A named point where the crash test may kill the process (PIISCAN_CRASH_AT)."""
    if os.environ.get("PIISCAN_CRASH_AT") == name:
        os._exit(70)


# Tokens of the customer locks this process holds: a lock is nested only if it is one of them
# (its host:pid alone could be a dead process's whose pid was reused).
_HELD: set[str] = set()


@contextmanager
def customer_lock(storage: Storage, customer: str, now: datetime) -> Iterator[None]:
    """One run or purge per customer at a time. The same process may nest it (a nightly run
    holds it while its purge step takes it again); a lock older than LOCK_STALE_AFTER, or whose
    process is gone, is taken over. Taking it is a conditional create, so of two hosts starting
    at once one gets it; releasing it removes only our own lock."""
    key = join("state", "locks", f"{customer}.json")
    owner = f"{socket.gethostname()}:{os.getpid()}"
    token = uuid.uuid4().hex
    mine = json.dumps({"owner": owner, "since": now.isoformat(), "token": token}).encode()
    if not storage.create(key, mine):
        data = _lock_content(storage, key)
        if data is None:  # released in between: one more try
            if not storage.create(key, mine):
                raise PurgeError(f"customer {customer!r} is locked by another process")
        else:
            held = _parse_lock(data)
            if held.get("token") in _HELD:
                yield  # nested: the outer holder releases it
                return
            if "since" not in held:  # being written by its creator
                raise PurgeError(f"customer {customer!r} is locked by another process")
            since = datetime.fromisoformat(held["since"])
            if now - since < LOCK_STALE_AFTER and _alive(held, owner):
                raise PurgeError(
                    f"customer {customer!r} is locked by {held['owner']} since {held['since']}"
                )
            _take_over(storage, key, data, mine, customer)
    _HELD.add(token)
    try:
        yield
    finally:
        _HELD.discard(token)
        # Only our own: a lock taken over as stale from under a slow run stays its new owner's.
        if _lock_content(storage, key) == mine:
            storage.delete(key)


def _lock_content(storage: Storage, key: str) -> bytes | None:
    try:
        return storage.read_bytes(key)
    except NotFoundError:
        return None


def _parse_lock(data: bytes) -> dict[str, str]:
    try:
        held: dict[str, str] = json.loads(data)
    except ValueError:
        return {}
    return held


def _take_over(storage: Storage, key: str, stale: bytes, mine: bytes, customer: str) -> None:
    """Replace a stale lock by ours, unless another process replaced it first."""
    with tempfile.TemporaryDirectory(prefix="piiscan-lock-") as tmp:
        path = Path(tmp) / "lock.json"
        path.write_bytes(mine)
        try:
            storage.rewrite(path, key, sha256_bytes(stale))
        except StorageError:
            raise PurgeError(
                f"customer {customer!r}: another process took over its stale lock first"
            ) from None


def _alive(held: dict[str, str], owner: str) -> bool:
    """Whether a lock's process may still run (another host's always may). A lock naming this
    very process that it does not hold is a dead process's whose pid was reused."""
    if held["owner"] == owner:
        return False
    host, _, pid = held["owner"].rpartition(":")
    if host != socket.gethostname():
        return True
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError):
        return False
    return True


def _pseudonymize_held(frame: pl.DataFrame, key: Key | None, customer: str) -> pl.DataFrame:
    """Tax and billing rows keep only what their holds need: identifiers become tokens, names,
    e-mails and addresses go; a row a billing dispute may need keeps its wireless number (even
    when tax is the stronger reason to keep it)."""
    held = pl.col(DECISION).is_in(list(PSEUDONYMIZE))
    columns = []
    for column in PERSONAL:
        if column not in frame.columns:
            continue
        entity = KNOWN_ENTITIES[column]
        keep_raw = pl.col(_BILLING) if column == "wireless_number" else pl.lit(False)
        if entity in ("PERSON", "EMAIL_ADDRESS", "LOCATION"):
            replacement = pl.lit(None, pl.String)
        else:
            if key is None:
                raise KeyMaterialError(
                    customer, "needed to pseudonymize rows kept for tax or billing"
                )
            values = frame.filter(held)[column].drop_nulls().cast(pl.String).unique().to_list()
            mapping = tokens([v for v in values if not _is_token(v)], key, entity)
            replacement = pl.col(column).cast(pl.String).replace(mapping)
        columns.append(
            pl.when(held & ~keep_raw).then(replacement).otherwise(pl.col(column)).alias(column)
        )
    return frame.with_columns(columns) if columns else frame


def _is_token(value: str) -> bool:
    import re

    return re.fullmatch(TOKEN, value) is not None


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
) -> dict[str, Any]:
    """Apply a plan under the customer's lock and append its ledger entry (returned).

    subject: the rows an erasure request names (Rules.subject, with Rules.subject_elsewhere);
    extra: PII-free fields for the ledger entry (a request's id and keyed selector hash)."""
    customer = plan.customer
    with customer_lock(storage, customer, now):
        holds = load_registry(storage, customer).active(plan.as_of)
        assert config.retention is not None
        invoices = open_invoices(storage, customer, config.retention.billing.statuses)
        for item in plan.files:  # refuse a stale plan before touching anything
            _check_fresh(storage, item)
        apply_id = f"{now:%Y%m%dT%H%M%S}-{os.getpid()}"
        recovered = _recover_journal(storage, customer)
        done: list[dict[str, Any]] = []
        for index, item in enumerate(plan.files):
            checkpoint(f"before-file-{index}")
            data = _check_fresh(storage, item)  # again: another writer may have come by
            rules = rules_for(
                config, customer, item.dataset, plan.as_of, holds, invoices, plan.terminated
            )
            if subject:
                rules = replace(rules, subject=subject, subject_elsewhere=subject_elsewhere)
            with _prepared(item, data, rules, key, customer) as (record, new_file):
                record["apply_id"] = apply_id
                # Journal first: a kill right after the swap is still accounted for on rerun.
                _write_journal(storage, customer, [*recovered, *done, record])
                checkpoint(f"journaled-file-{index}")
                if new_file is None:
                    storage.delete(item.key)
                else:
                    # Readers see old or new; no older version keeps the deleted rows.
                    storage.rewrite(new_file, item.key, item.sha256)
                done.append(record)
            checkpoint(f"after-file-{index}")
        removed_other = []
        for other in plan.other_keys:
            if storage.exists(other):
                removed_other.append(
                    {"key": other, "sha256": sha256_bytes(storage.read_bytes(other))}
                )
                storage.delete(other)
        checkpoint("before-ledger")
        # Rejected rows removed from quarantine (subject erasure) are listed on their own.
        changed = [*recovered, *done]
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
            "other_objects_removed": removed_other,
            "nothing_due": plan.nothing_due and not recovered,
            "apply_ids": sorted({f["apply_id"] for f in changed} | {apply_id}),
            **({"quarantine_files": quarantined} if quarantined else {}),
            **(extra or {}),
        }
        chained = ledger.append(storage, customer, entry)
        storage.delete(_journal_key(customer))
        return chained


def _check_fresh(storage: Storage, item: FilePlan) -> bytes:
    """The file's bytes if it is still the one planned; PurgeError otherwise."""
    if not storage.exists(item.key):
        raise PurgeError(f"stale plan: {item.key} is gone; plan again")
    data = storage.read_bytes(item.key)
    if sha256_bytes(data) != item.sha256:
        raise PurgeError(f"stale plan: {item.key} changed since it was planned; plan again")
    return data


def _journal_key(customer: str) -> str:
    return join("state", "purge", f"{customer}.journal.json")


def _write_journal(storage: Storage, customer: str, records: list[dict[str, Any]]) -> None:
    """Files already changed by this apply, so a killed run is still accounted for."""
    storage.write_bytes(_journal_key(customer), json.dumps(records).encode())


def journal_change(storage: Storage, customer: str, record: dict[str, Any]) -> None:
    """Journal a change made outside a plan (its record needs `apply_id`, `key`,
    `rows_deleted` and `written_sha256`) before making it: the next `apply_purge` for the
    customer ledgers it, even if this process is killed first. Call under the customer lock.
    Journaled changes a killed run never made, or a ledger entry holds, are dropped."""
    _write_journal(storage, customer, [*_recover_journal(storage, customer), record])


def journal_pending(storage: Storage, customer: str) -> bool:
    """Whether journaled changes wait for a ledger entry."""
    return bool(_recover_journal(storage, customer))


def _recover_journal(storage: Storage, customer: str) -> list[dict[str, Any]]:
    """Files a killed apply changed that no ledger entry records yet. A journaled file counts
    only if the lake shows its change (gone, or holding the journaled new content)."""
    key = _journal_key(customer)
    if not storage.exists(key):
        return []
    records: list[dict[str, Any]] = json.loads(storage.read_bytes(key))
    entries = ledger.read_entries(storage, customer)
    recorded = set(entries[-1].get("apply_ids", [])) if entries else set()
    recovered = []
    for record in records:
        if record["apply_id"] in recorded:
            continue
        present = storage.exists(record["key"])
        current = sha256_bytes(storage.read_bytes(record["key"])) if present else None
        if current == record["written_sha256"]:  # dropped (None == None) or rewritten
            recovered.append(record)
    return recovered


@contextmanager
def _prepared(
    item: FilePlan, data: bytes, rules: Rules, key: Key | None, customer: str
) -> Iterator[tuple[dict[str, Any], Path | None]]:
    """The ledger record of one file and its verified new content (None: drop the file)."""
    record: dict[str, Any] = {
        "zone": item.zone,
        "dataset": item.dataset,
        "period": item.period,
        "key": item.key,
        "removed_sha256": item.sha256,
        "rows_before": item.rows,
    }
    if item.action == "drop":
        yield (
            {
                **record,
                "action": "drop",
                "rows_deleted": item.rows,
                "rows_after": 0,
                "written_sha256": None,
            },
            None,
        )
        return
    frame = pl.read_parquet(data).with_columns(pl.lit(item.period).alias("period"))
    decided = _decisions(frame, item.zone, key, rules)
    kept = decided.filter(pl.col(DECISION) != DELETE)
    if item.zone == "restricted":
        kept = _pseudonymize_held(kept, key, customer)
    result = kept.drop(DECISION, _BILLING, "period", _TOKEN_COLUMN, strict=False)
    original = pl.read_parquet_schema(data)
    if result.height != item.rows - item.deleted or dict(result.schema) != dict(original):
        raise PurgeError(f"{item.key}: rewrite check failed (rows or schema differ from plan)")
    with tempfile.TemporaryDirectory(prefix="piiscan-purge-") as tmp:
        path = Path(tmp) / "new.parquet"
        result.write_parquet(path)
        yield (
            {
                **record,
                "action": "rewrite",
                "rows_deleted": item.rows - result.height,
                "rows_after": result.height,
                "written_sha256": sha256_bytes(path.read_bytes()),
            },
            path,
        )


@dataclass(frozen=True)
class Termination:
    """The outcome of an applied termination."""

    entry: dict[str, Any]
    certificate: dict[str, Any]
    certificate_keys: tuple[str, str]
    key_needed: bool  # a hold still refers to lines by token: the key must stay


def terminate(
    storage: Storage,
    config: Config,
    customer: str,
    effective: date,
    key: Key | None,
    now: datetime,
    key_store: str,
) -> Termination:
    """Apply the termination purge, then certify it. key_store says where the key lives."""
    from piiscan.certificate import build_certificate
    from piiscan.lake.reports import write_certificate

    plan = plan_purge(storage, config, customer, effective, key, terminated=effective)
    entry = apply_purge(storage, config, plan, key, now, kind="terminate")
    holds = load_registry(storage, customer).active(effective)
    key_needed = any(h.number_tokens for h in holds)
    remaining = {d: n for d, n in plan.kept.items() if d not in ("active",)}
    status = (
        f"kept: holds {', '.join(h.id for h in holds if h.number_tokens)} refer to lines by token"
        if key_needed
        else f"deleted ({key_store})"
    )
    certificate = build_certificate(customer, effective, entry, remaining, status)
    return Termination(entry, certificate, write_certificate(storage, certificate), key_needed)
