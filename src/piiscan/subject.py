"""Subject rights: export what is held about one person, and erase it where no hold needs it.

A request names one person of a customer by one identifier (employee ID, wireless number, e-mail
or IMEI). The person's other identifiers are found through the invoice, device and charge rows
that carry the identifier (employee ID first: a number or device names its holder's employee
ID, which names the person's other numbers, devices and e-mails). Their rows are then found in
every dataset of the restricted zone, in the analytics zone (by token) and among the rows
quarantined at ingest.

Erasure deletes the person's rows where no hold applies, pseudonymizes their personal columns
under a tax or billing hold, and keeps rows under a legal or audit hold as they are: the purge
machinery decides and applies (journaled, atomic, ledgered), with every row of the person
treated as if its retention clock had run out and every other row left alone.

Requests are recorded: while one is pending its selector lives only in the restricted zone
(`restricted/requests/<customer>/<id>.json`); once it completes,
`state/requests/<customer>/<id>.json` keeps what was asked, when, the outcome and a keyed hash of
the selector (kept 24 months), and the pending record is deleted. Nothing outside the restricted
zone and the export bundle holds the identifier.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from piiscan.errors import PiiscanError
from piiscan.lake.faults import checkpoint
from piiscan.lake.holds import load_registry
from piiscan.lake.journal import journal_change, journal_pending
from piiscan.lake.keys import new_run_id, period_of
from piiscan.lake.locks import customer_lock
from piiscan.lake.manifest import load_manifest
from piiscan.phones import EXPECTED as EXPECTED_NUMBER
from piiscan.phones import canonical_number, canonical_numbers
from piiscan.pipeline.purge import apply_purge, open_invoices, plan_file
from piiscan.policy import Config
from piiscan.pseudonymize import Key, tokens
from piiscan.purge import REASONS, PurgePlan, rules_for
from piiscan.retention import DELETE, cycle_month, subject_rows
from piiscan.schema import DATASETS
from piiscan.storage import Storage, join

KINDS = {  # selector kind -> (canonical column, entity)
    "employee_id": ("employee_id", "EMPLOYEE_ID"),
    "number": ("wireless_number", "PHONE_NUMBER"),
    "email": ("email", "EMAIL_ADDRESS"),
    "imei": ("imei", "IMEI"),
}
# Columns that name a person's rows, and the entity of their tokens in the analytics zone.
IDENTIFYING = {
    "employee_id": "EMPLOYEE_ID",
    "wireless_number": "PHONE_NUMBER",
    "email": "EMAIL_ADDRESS",
    "imei": "IMEI",
    "iccid": "ICCID",
    "imsi": "IMSI",
}
ZONES = ("restricted", "analytics")
PURPOSES = {
    "invoice_lines": "billing reconciliation and cost allocation for the customer; tax records",
    "charge_items": "billing reconciliation (charges per line)",
    "usage_events": "usage and cost analytics (pseudonymized); billing disputes",
    "devices": "device and SIM inventory for the customer's mobility management",
}


class RequestError(PiiscanError):
    """A subject request is malformed, unknown, or already complete."""


@dataclass(frozen=True)
class Selector:
    """One identifier of the person (normalized); repr never shows the value."""

    kind: str
    value: str = field(repr=False)

    @classmethod
    def of(cls, kind: str, value: str) -> Selector:
        if kind not in KINDS:
            raise RequestError(f"unknown selector {kind!r}; expected one of {', '.join(KINDS)}")
        text = value.strip()
        if kind == "number":
            number = canonical_number(text)
            if number is None:
                raise RequestError(f"a wireless number must be {EXPECTED_NUMBER}")
            text = number
        elif kind == "imei":
            text = re.sub(r"\D", "", text)
            if len(text) not in (14, 15, 16):
                raise RequestError("an IMEI needs 14 to 16 digits")
        elif kind == "email":
            text = text.lower()
            if "@" not in text:
                raise RequestError("an e-mail address needs an @")
        if not text:
            raise RequestError(f"an empty {kind}")
        return cls(kind, text)

    def token(self, key: Key) -> str:
        """The keyed hash that stands for the selector in records and the ledger."""
        return tokens([self.value], key, KINDS[self.kind][1])[self.value]


@dataclass
class Identity:
    """Everything that identifies the person, per column (raw values), and who held the
    person's numbers per month (for recycled numbers)."""

    values: dict[str, set[str]] = field(default_factory=dict)
    holders: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (bill month, number)

    def add(self, column: str, items: Iterator[Any] | list[Any]) -> None:
        self.values.setdefault(column, set()).update(str(v) for v in items if v is not None)

    def match(self, key: Key) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Rules.subject: per column the raw values and their tokens (for the analytics zone)."""
        pairs = []
        for column, entity in IDENTIFYING.items():
            raw = sorted(self.values.get(column, set()))
            if raw:
                hashed = tokens(raw, key, entity).values()
                pairs.append((column, tuple(raw) + tuple(sorted(hashed))))
        return tuple(pairs)

    def elsewhere(self, key: Key) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Rules.subject_elsewhere: per month the person's numbers (raw and tokens) that rows
        of that month give to other employees only."""
        raw = sorted(self.values.get("employee_id", set()))
        ids = set(raw) | set(tokens(raw, key, "EMPLOYEE_ID").values())
        months: dict[str, set[str]] = {}
        for (period, number), named in self.holders.items():
            if named and not named & ids:
                months.setdefault(period, set()).add(number)
        return tuple(
            (
                period,
                tuple(sorted(numbers | set(tokens(sorted(numbers), key, "PHONE_NUMBER").values()))),
            )
            for period, numbers in sorted(months.items())
        )

    def counts(self) -> dict[str, int]:
        return {c: len(v) for c, v in sorted(self.values.items()) if v}


def _files(storage: Storage, zone: str, dataset: str, customer: str) -> list[str]:
    return [
        k
        for k in storage.list(join(zone, dataset, f"customer={customer}"))
        if k.endswith(".parquet")
    ]


def _read(storage: Storage, key: str) -> pl.DataFrame:
    with storage.local_copy(key) as local:
        frame = pl.read_parquet(local)
    return frame.with_columns(pl.lit(period_of(key)).alias("period"))


def _zone(storage: Storage, zone: str, dataset: str, customer: str) -> Iterator[pl.DataFrame]:
    for key in _files(storage, zone, dataset, customer):
        yield _read(storage, key)


def resolve(storage: Storage, customer: str, selector: Selector) -> Identity:
    """The person's identifiers, from the rows in the restricted zone that carry the selector."""
    column = KINDS[selector.kind][0]
    linking = ("invoice_lines", "devices", "charge_items")
    frames = [f for d in linking for f in _zone(storage, "restricted", d, customer) if f.height]

    def carrying(frame: pl.DataFrame, col: str, values: set[str]) -> pl.DataFrame:
        if col not in frame.columns:
            return frame.clear()
        text = pl.col(col).cast(pl.String)
        return frame.filter(
            text.str.to_lowercase().is_in(list(values))
            if col == "email"
            else text.is_in(list(values))
        )

    anchors = [carrying(f, column, {selector.value}) for f in frames]
    if selector.kind == "email":  # customers that use e-mails as employee IDs
        anchors += [carrying(f, "employee_id", {selector.value}) for f in frames]
    identity = Identity({column: {selector.value}})

    def employees(frames: list[pl.DataFrame]) -> set[str]:
        return {
            v for f in frames if "employee_id" in f.columns for v in f["employee_id"].drop_nulls()
        }

    people = employees(anchors)
    if not people:  # e.g. a device row without an employee ID: its line's rows name them
        lines = {v for a in anchors if "wireless_number" in a.columns for v in a["wireless_number"]}
        people = employees([carrying(f, "wireless_number", lines - {None}) for f in frames])
    if len(people) > 1 and selector.kind != "employee_id":
        # A recycled number or a reassigned device: which holder is meant is not ours to guess.
        raise RequestError(
            f"the {selector.kind} names {len(people)} employees over time (a recycled number "
            "or a reassigned device); name the person by --employee-id"
        )
    rows = anchors + [carrying(f, "employee_id", people) for f in frames] if people else anchors
    for frame in rows:
        for col in IDENTIFYING:
            if col in frame.columns:
                identity.add(col, frame[col].drop_nulls().to_list())
    # Rows naming no employee that carry one of the person's e-mails or device identifiers are
    # the person's too: their numbers and devices join the identity (the analytics zone has no
    # e-mails, so it is matched through them), until nothing new turns up.
    used: set[tuple[str, str]] = set()
    while True:
        before = identity.counts()
        for col in ("email", "imei", "iccid", "imsi"):
            fresh = {v for v in identity.values.get(col, set()) if (col, v) not in used}
            used |= {(col, v) for v in fresh}
            wanted = {v.lower() for v in fresh} if col == "email" else fresh
            for frame in frames:
                hit = carrying(frame, col, wanted)
                if "employee_id" in hit.columns:
                    named = pl.col("employee_id").cast(pl.String)
                    hit = hit.filter(named.is_null() | named.is_in(list(people)))
                for c in IDENTIFYING:
                    if c in hit.columns:
                        identity.add(c, hit[c].drop_nulls().to_list())
        if identity.counts() == before:
            break
    numbers = identity.values.get("wireless_number", set())
    for frame in frames:
        if numbers and {"employee_id", "wireless_number"} <= set(frame.columns):
            held = (
                carrying(frame, "wireless_number", numbers)
                .filter(pl.col("employee_id").is_not_null())
                .group_by(cycle_month(frame.columns).alias("month"), "wireless_number")
                .agg(pl.col("employee_id").cast(pl.String).unique())
            )
            for period, number, named in held.iter_rows():
                identity.holders.setdefault((period, number), set()).update(named)
    return identity


@dataclass
class Found:
    """The person's rows, per zone and dataset, within a lookback."""

    rows: dict[str, pl.DataFrame] = field(default_factory=dict)  # "<zone>/<dataset>" -> rows
    quarantined: pl.DataFrame | None = None
    unattributed: int = 0  # rejected rows on a recycled number of theirs, nothing else to tell
    other_party: int = 0  # usage rows of other lines where the person is the other number
    sources: set[str] = field(default_factory=set)  # restricted files holding the person's rows

    def counts(self) -> dict[str, int]:
        counts = {name: frame.height for name, frame in sorted(self.rows.items())}
        if self.quarantined is not None:
            counts["quarantine/rejected_rows"] = self.quarantined.height
        return counts


def find(
    storage: Storage, customer: str, identity: Identity, key: Key, since: date | None
) -> Found:
    """The person's rows in every dataset of both zones and among quarantined rows."""
    subject, elsewhere = identity.match(key), identity.elsewhere(key)
    found = Found()
    numbers = sorted(identity.values.get("wireless_number", set()))
    for zone in ZONES:
        for dataset in DATASETS:
            matched = []
            for file_key in _files(storage, zone, dataset, customer):
                frame = _read(storage, file_key)
                if since is not None:
                    frame = frame.filter(pl.col("period") >= f"{since:%Y-%m}")
                hit = frame.filter(subject_rows(subject, elsewhere, frame.columns))
                if zone == "restricted" and "other_number" in frame.columns and numbers:
                    others = frame.filter(~subject_rows(subject, elsewhere, frame.columns))
                    dialed = canonical_numbers(pl.col("other_number").cast(pl.String))
                    found.other_party += others.filter(dialed.is_in(numbers)).height
                if hit.height:
                    matched.append(hit)
                    if zone == "restricted":
                        found.sources.add(file_key)
            if matched:
                found.rows[f"{zone}/{dataset}"] = pl.concat(matched, how="diagonal_relaxed")
    found.quarantined, found.unattributed = _quarantined(storage, customer, identity)
    return found


def _quarantined(
    storage: Storage, customer: str, identity: Identity
) -> tuple[pl.DataFrame | None, int]:
    """Rows rejected at ingest (kept in quarantine, as delivered) that name the person, and how
    many rows are on one of their numbers that another employee also held with nothing else of
    the person in them (whose they are cannot be told from the row)."""
    frames = []
    unattributed = 0
    for key, frame, hit, unsure in _quarantine_hits(storage, customer, identity):
        flags = frame.select(hit.alias("hit"), unsure.alias("unsure"))
        unattributed += int(flags["unsure"].sum())
        rows = frame.filter(flags["hit"])
        if rows.height:
            frames.append(rows.with_columns(pl.lit(key).alias("quarantine_object")))
    return (pl.concat(frames, how="diagonal_relaxed") if frames else None), unattributed


def _quarantine_hits(
    storage: Storage, customer: str, identity: Identity
) -> Iterator[tuple[str, pl.DataFrame, pl.Expr, pl.Expr]]:
    """Per rejected-rows file: its key, rows, which rows are the person's, and which are on a
    recycled number of theirs with nothing else to tell (left alone, counted).

    Values match as delivered, numbers in their canonical form (so (212) 555-0147 and
    212.555.0147 x12 count too). A row holding another holder's employee ID of one of the
    person's numbers is never the person's."""
    ids = identity.values.get("employee_id", set())
    others = sorted({e.lower() for named in identity.holders.values() for e in named - ids})
    recycled = {n for (_, n), named in identity.holders.items() if named - ids}
    numbers = identity.values.get("wireless_number", set())
    strong = sorted(
        v.lower()
        for column, values in identity.values.items()
        if column != "wireless_number"
        for v in values
    )
    own, shared = sorted(numbers - recycled), sorted(numbers & recycled)
    for key in storage.list(join("quarantine", customer)):
        if ".rejected-" not in key or not key.endswith(".parquet"):
            continue
        frame = _read_plain(storage, key)
        found: dict[str, list[pl.Expr]] = {"strong": [], "own": [], "shared": [], "other": []}
        for column in frame.columns:
            text = pl.col(column).cast(pl.String).str.strip_chars()
            lowered = text.str.to_lowercase()
            national = canonical_numbers(text)
            found["strong"].append(lowered.is_in(strong).fill_null(False))
            found["own"].append(national.is_in(own).fill_null(False))
            found["shared"].append(national.is_in(shared).fill_null(False))
            found["other"].append(lowered.is_in(others).fill_null(False))
        if not frame.columns:
            continue
        strong_hit, own_hit, shared_hit, other_hit = (
            pl.any_horizontal(found[k]) for k in ("strong", "own", "shared", "other")
        )
        hit = (strong_hit | own_hit) & ~other_hit
        unsure = shared_hit & ~strong_hit & ~own_hit & ~other_hit
        yield key, frame, hit, unsure


def erase_quarantined(
    storage: Storage,
    customer: str,
    identity: Identity,
    holds: list[Any],
    now: datetime,
    request_id: str | None = None,
) -> list[dict[str, Any]]:
    """Remove the person's rejected rows from quarantine (a legal hold freezes quarantine);
    returns PII-free records of the files changed. Each change is journaled before it is made,
    so the ledger entry that follows (or, after a kill, the next one) records it."""
    import hashlib
    import os
    import tempfile

    if any(h.kind == "legal" for h in holds):
        return []
    apply_id = f"{now:%Y%m%dT%H%M%S}-{os.getpid()}-quarantine"
    changed: list[dict[str, Any]] = []
    for key, frame, hit, _ in _quarantine_hits(storage, customer, identity):
        named = frame.select(hit.alias("hit"))["hit"]
        if not named.any():
            continue
        before = hashlib.sha256(storage.read_bytes(key)).hexdigest()
        rest = frame.filter(~named)
        record: dict[str, Any] = {
            "zone": "quarantine",
            "key": key,
            "removed_sha256": before,
            "rows_deleted": int(named.sum()),
            "apply_id": apply_id,
            "request_id": request_id,  # whichever ledger entry records it names the request
        }
        with tempfile.TemporaryDirectory(prefix="piiscan-erase-") as tmp:
            path = Path(tmp) / "rest.parquet"
            if rest.height:
                rest.write_parquet(path)
            record["written_sha256"] = (
                hashlib.sha256(path.read_bytes()).hexdigest() if rest.height else None
            )
            journal_change(storage, customer, record)
            checkpoint(f"quarantine-journaled-{len(changed)}")
            if rest.height:
                storage.rewrite(path, key, before)
            else:
                storage.delete(key)
        changed.append(record)
    return changed


def _read_plain(storage: Storage, key: str) -> pl.DataFrame:
    with storage.local_copy(key) as local:
        return pl.read_parquet(local)


# --- export -----------------------------------------------------------------------------------


def lookback_start(today: date, months: int) -> date:
    """The first day of the month `months` months before today's month."""
    total = today.year * 12 + today.month - 1 - months
    return date(total // 12, total % 12 + 1, 1)


def write_bundle(out: Path, request: dict[str, Any], found: Found, identity: Identity) -> Path:
    """The bundle for the controller: JSON and CSV per zone and dataset, and a summary."""
    folder = out / str(request["request_id"])
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in found.rows.items():
        stem = name.replace("/", "_")
        flat = frame.with_columns(pl.col(pl.Decimal).cast(pl.String))
        flat.write_csv(folder / f"{stem}.csv")
        (folder / f"{stem}.json").write_text(
            json.dumps(flat.to_dicts(), indent=1, default=str), encoding="utf-8"
        )
    if found.quarantined is not None:
        found.quarantined.write_csv(folder / "quarantine_rejected_rows.csv")
    datasets = sorted({n.split("/", 1)[1] for n in found.rows})
    summary = {
        "request_id": request["request_id"],
        "customer": request["customer"],
        "lookback_months": request["months"],
        "since": request["since"],
        "rows": found.counts(),
        "identifiers_found": identity.counts(),
        "categories": {
            "identifiers": "wireless numbers, employee ID, e-mail, device and SIM identifiers",
            "usage": "calls, messages and data sessions of the person's lines",
            "billing": "charges, taxes and plans of the person's lines",
        },
        "purposes": {d: PURPOSES[d] for d in datasets},
        "appears_as_other_party": found.other_party,
        "zones": {
            "restricted": "full values, for billing reconciliation only",
            "analytics": "pseudonymized copies (identifiers as keyed tokens, names dropped)",
            "quarantine": "rows rejected at ingest, kept until the delivery's retention ends",
            "landing": "carrier files as delivered hold the same rows; deleted after the "
            "landing retention period",
        },
    }
    (folder / "summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    lines = [
        f"# Data held about one person (request {request['request_id']})",
        "",
        f"Customer: {request['customer']}. Lookback: {request['months']} months "
        f"(since {request['since']}).",
        "",
        "| zone / dataset | rows | purpose |",
        "| --- | --- | --- |",
    ]
    for name, count in found.counts().items():
        dataset = name.split("/", 1)[1]
        lines.append(f"| {name} | {count} | {PURPOSES.get(dataset, 'ingest error review')} |")
    (folder / "summary.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


# --- erasure ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErasePlan:
    """A purge plan for the person's rows, and the restricted files that hold any of them."""

    purge: PurgePlan
    sources: frozenset[str]


def plan_erase(
    storage: Storage, config: Config, customer: str, identity: Identity, key: Key, as_of: date
) -> ErasePlan:
    """What erasing the person's rows would change, per file and reason (nothing is changed)."""
    assert config.retention is not None
    holds = load_registry(storage, customer).active(as_of)
    invoices = open_invoices(storage, customer, config.retention.billing.statuses)
    subject, elsewhere = identity.match(key), identity.elsewhere(key)
    files = []
    sources: set[str] = set()
    kept: dict[str, int] = {}
    read = 0
    for dataset in DATASETS:
        rules = rules_for(config, customer, dataset, as_of, holds, invoices, None)
        rules = replace(rules, subject=subject, subject_elsewhere=elsewhere)
        for zone in ZONES:
            for file_key in _files(storage, zone, dataset, customer):
                read += 1
                plan = plan_file(storage, zone, dataset, period_of(file_key), file_key, key, rules)
                named = {d: n for d, n in plan.decisions.items() if d != "active"}
                if zone == "restricted":
                    if named:
                        sources.add(file_key)
                    for decision, n in named.items():
                        if decision != DELETE:
                            kept[decision] = kept.get(decision, 0) + n
                if plan.action != "none":
                    files.append(plan)
    purge = PurgePlan(
        customer,
        as_of,
        config.retention.version,
        None,
        tuple(files),
        kept,
        read,
        0,
        (),
        {d: REASONS[d] for d in [*kept, DELETE]},
    )
    return ErasePlan(purge, frozenset(sources))


def erase_summary(plan: PurgePlan) -> dict[str, Any]:
    """The plan's counts: rows deleted, rows kept per hold, files changed (no values)."""
    restricted = [f for f in plan.files if f.zone == "restricted"]
    return {
        "rows_deleted": sum(f.deleted for f in restricted),
        "rows_deleted_analytics": sum(f.deleted for f in plan.files if f.zone == "analytics"),
        "rows_kept": plan.kept,
        "files_changed": len(plan.files),
        "reasons": plan.reasons,
        "nothing_to_do": not plan.files,
    }


def preview_erase(
    storage: Storage, config: Config, customer: str, identity: Identity, key: Key, as_of: date
) -> tuple[PurgePlan, dict[str, Any]]:
    """The erasure's plan and its PII-free outcome: counts per zone and hold, rejected rows in
    quarantine, and the delivered files in landing/ that still hold the person."""
    erase = plan_erase(storage, config, customer, identity, key, as_of)
    outcome = erase_summary(erase.purge)
    quarantined, unattributed = _quarantined(storage, customer, identity)
    outcome["quarantine_rows_deleted"] = 0 if quarantined is None else quarantined.height
    outcome["quarantine_rows_unattributed"] = unattributed
    outcome["nothing_to_do"] &= not outcome["quarantine_rows_deleted"]
    objects = set() if quarantined is None else set(quarantined["quarantine_object"])
    outcome["landing"] = landing_copies(storage, config, customer, erase.sources | objects, as_of)
    return erase.purge, outcome


def landing_copies(
    storage: Storage, config: Config, customer: str, sources: set[str] | frozenset[str], as_of: date
) -> dict[str, Any]:
    """The carrier files in landing/ whose rows (landed or rejected) hold the person, counted.

    They are not rewritten: they are the deliveries as received, in carrier formats, and other
    people's rows share them. They go with the landing retention (or at termination); a legal
    hold freezes them."""
    assert config.retention is not None
    present = set(storage.list(join("landing", customer)))
    dates = []
    for entry in load_manifest(storage, customer).values():
        if entry.get("landing") not in present:
            continue
        rejected = join("quarantine", customer, entry["run_id"], f"{entry['file']}.rejected-")
        outputs = set(entry.get("outputs", []))
        if outputs & sources or any(s.startswith(rejected) for s in sources):
            dates.append(datetime.strptime(entry["run_id"][:8], "%Y%m%d").date())
    holds = load_registry(storage, customer).active(as_of)
    if not dates:
        until = None
    elif any(h.kind == "legal" for h in holds):
        until = "kept while a legal hold lasts"
    else:
        last = max(dates) + timedelta(days=config.retention.landing_days)
        until = f"deleted by the purge from {max(last, as_of).isoformat()}"
    return {"files": len(dates), "until": until}


# --- requests ---------------------------------------------------------------------------------


def pending_key(customer: str, request_id: str) -> str:
    """Where a pending request (with its selector) lives: the restricted zone."""
    return join("restricted", "requests", customer, f"{request_id}.json")


def export_folder(customer: str, request_id: str) -> str:
    """Where the flow puts an export bundle (it holds the person's data: restricted zone)."""
    return join("restricted", "exports", customer, request_id)


def record_key(customer: str, request_id: str) -> str:
    """Where a completed request's record (no identifier) lives."""
    return join("state", "requests", customer, f"{request_id}.json")


def create_request(
    storage: Storage,
    config: Config,
    customer: str,
    action: str,
    selector: Selector,
    months: int,
    now: datetime,
) -> str:
    """Record a pending request in the restricted zone; returns its id."""
    config.customer(customer)
    if action not in ("export", "erase"):
        raise RequestError(f"unknown action {action!r}; expected export or erase")
    if not 1 <= months <= 120:
        raise RequestError("the lookback must be 1 to 120 months")
    for key in storage.list(join("restricted", "requests", customer)):
        pending = json.loads(storage.read_bytes(key))
        asked = (pending["action"], pending["selector"], pending["months"])
        if asked == (action, {"kind": selector.kind, "value": selector.value}, months):
            return str(pending["request_id"])  # an interrupted run of the same request: resume it
    request_id = new_run_id(now)
    body = {
        "request_id": request_id,
        "customer": customer,
        "action": action,
        "selector": {"kind": selector.kind, "value": selector.value},
        "months": months,
        "received_at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "status": "pending",
    }
    storage.write_bytes(pending_key(customer, request_id), json.dumps(body, indent=1).encode())
    return request_id


def load_request(storage: Storage, request_id: str) -> tuple[dict[str, Any], Selector]:
    """A pending request and its selector."""
    if not re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{6}", request_id):
        raise RequestError(f"{request_id!r} is not a request id")
    found = [
        k for k in storage.list(join("restricted", "requests")) if k.endswith(f"/{request_id}.json")
    ]
    if not found:
        raise RequestError(f"request {request_id} is not pending (unknown or already complete)")
    key = found[0]
    body: dict[str, Any] = json.loads(storage.read_bytes(key))
    selector = Selector.of(body["selector"]["kind"], body["selector"]["value"])
    return body, selector


def complete_request(
    storage: Storage,
    request: dict[str, Any],
    selector: Selector,
    key: Key,
    outcome: dict[str, Any],
    now: datetime,
    status: str = "complete",
) -> dict[str, Any]:
    """Replace the pending request by its record: the selector becomes a keyed hash."""
    record = {
        "request_id": request["request_id"],
        "customer": request["customer"],
        "action": request["action"],
        "selector": {"kind": selector.kind, "hash": selector.token(key)},
        "months": request["months"],
        "received_at": request["received_at"],
        "completed_at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "status": status,
        "outcome": outcome,
    }
    storage.write_bytes(
        record_key(request["customer"], request["request_id"]),
        json.dumps(record, indent=1).encode(),
    )
    storage.delete(pending_key(request["customer"], request["request_id"]))
    return record


def run_request(
    storage: Storage,
    config: Config,
    request_id: str,
    key: Key,
    now: datetime,
    out: Path | None = None,
) -> dict[str, Any]:
    """Carry out a pending request (export to `out`, or to restricted/exports/ in the lake,
    or apply an erasure) and complete its record; returns the record (no identifier)."""
    request, selector = load_request(storage, request_id)
    customer = request["customer"]
    try:
        identity = resolve(storage, customer, selector)
    except RequestError as exc:  # cannot succeed on a rerun: record why and stop
        complete_request(
            storage, request, selector, key, {"rejected": str(exc)}, now, status="rejected"
        )
        raise
    if request["action"] == "export":
        since = lookback_start(now.date(), int(request["months"]))
        request = {**request, "since": since.isoformat()}
        found = find(storage, customer, identity, key, since)
        outcome: dict[str, Any] = {
            "rows": found.counts(),
            "identifiers": identity.counts(),
            "quarantine_rows_unattributed": found.unattributed,
        }
        objects = (
            set() if found.quarantined is None else set(found.quarantined["quarantine_object"])
        )
        outcome["landing"] = landing_copies(
            storage, config, customer, found.sources | objects, now.date()
        )
        if out is not None:
            write_bundle(out, request, found, identity)
            outcome["bundle"] = "written to the requested folder"
        else:
            outcome["bundle"] = _bundle_to_lake(storage, request, found, identity)
    else:
        with customer_lock(storage, customer, now):
            plan, outcome = preview_erase(storage, config, customer, identity, key, now.date())
            holds = load_registry(storage, customer).active(now.date())
            quarantine = erase_quarantined(storage, customer, identity, holds, now, request_id)
            outcome["quarantine_rows_deleted"] = sum(q["rows_deleted"] for q in quarantine)
            outcome["nothing_to_do"] = not plan.files and not quarantine
            # A killed earlier attempt may have left journaled changes: ledger them now.
            if not outcome["nothing_to_do"] or journal_pending(storage, customer):
                entry = apply_purge(
                    storage,
                    config,
                    plan,
                    key,
                    now,
                    kind="subject-erase",
                    subject=identity.match(key),
                    subject_elsewhere=identity.elsewhere(key),
                    extra={
                        "request_id": request_id,
                        "selector_hash": selector.token(key),
                    },
                )
                outcome["ledger_seq"] = entry["seq"]
    return complete_request(storage, request, selector, key, outcome, now)


def _bundle_to_lake(
    storage: Storage, request: dict[str, Any], found: Found, identity: Identity
) -> str:
    """An export made by the flow goes to restricted/exports/<customer>/<request id>/."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="piiscan-export-") as tmp:
        folder = write_bundle(Path(tmp), request, found, identity)
        for path in sorted(folder.iterdir()):
            storage.write_bytes(
                join(export_folder(request["customer"], request["request_id"]), path.name),
                path.read_bytes(),
            )
    return storage.uri(export_folder(request["customer"], request["request_id"]))
