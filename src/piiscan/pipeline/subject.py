"""Subject requests carried out on the lake: find a person's rows in both zones and in
quarantine, export them, or erase them where no hold needs them (the purge machinery decides and
applies: journaled, atomic, ledgered)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from piiscan.lake import keys
from piiscan.lake.faults import checkpoint
from piiscan.lake.holds import load_registry
from piiscan.lake.journal import journal_change, journal_pending
from piiscan.lake.locks import customer_lock
from piiscan.lake.manifest import load_manifest
from piiscan.lake.requests import complete_request, load_request, save_request
from piiscan.phones import canonical_numbers
from piiscan.pipeline.purge import apply_purge, open_invoices, plan_file
from piiscan.pipeline.scan import zone_files
from piiscan.policy import Config
from piiscan.pseudonymize import Key
from piiscan.purge import REASONS, PurgePlan, rules_for
from piiscan.retention import DELETE, subject_rows
from piiscan.schema import DATASETS, EXTRAS
from piiscan.storage import Storage
from piiscan.subject import (
    LINKING,
    PURPOSES,
    ErasePlan,
    Found,
    Identity,
    Mentions,
    RequestError,
    Selector,
    csv_safe,
    erase_summary,
    free_text_columns,
    identify,
    lookback_start,
    mention_hit,
    mentions_of,
    quarantine_match,
    redact_mentions,
)


def _read(storage: Storage, key: str) -> pl.DataFrame:
    with storage.local_copy(key) as local:
        frame = pl.read_parquet(local)
    return frame.with_columns(pl.lit(keys.period_of(key)).alias("period"))


def _zone(storage: Storage, zone: str, dataset: str, customer: str) -> Iterator[pl.DataFrame]:
    for key in zone_files(storage, zone, dataset, customer):
        yield _read(storage, key)


def resolve(storage: Storage, customer: str, selector: Selector) -> Identity:
    """The person's identifiers, from the rows in the restricted zone that carry the selector."""
    frames = [f for d in LINKING for f in _zone(storage, "restricted", d, customer) if f.height]
    return identify(frames, selector)


def find(
    storage: Storage, customer: str, identity: Identity, key: Key, since: date | None
) -> Found:
    """The person's rows in every dataset of both zones and among quarantined rows."""
    subject, elsewhere = identity.match(key), identity.elsewhere(key)
    mentions = mentions_of(identity, key)
    found = Found()
    numbers = sorted(identity.values.get("wireless_number", set()))
    for zone in keys.ZONES:
        for dataset in DATASETS:
            matched, mentioned = [], []
            for file_key in zone_files(storage, zone, dataset, customer):
                frame = _read(storage, file_key)
                if since is not None:
                    frame = frame.filter(pl.col("period") >= f"{since:%Y-%m}")
                hit = frame.filter(subject_rows(subject, elsewhere, frame.columns))
                if mentions:
                    others = frame.filter(~subject_rows(subject, elsewhere, frame.columns))
                    cells = mention_cells(others, mentions, zone)
                    if cells.height:
                        mentioned.append(cells)
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
            if mentioned:
                found.mentions[f"{zone}/{dataset}"] = pl.concat(mentioned)
    found.quarantined, found.unattributed = _quarantined(storage, customer, identity)
    return found


MENTION_SCHEMA = {"period": pl.String, "column": pl.String, "text": pl.String}


def mention_cells(frame: pl.DataFrame, mentions: Mentions, zone: str) -> pl.DataFrame:
    """The free-text cells of frame that mention the person, one row each: period, column
    (`extras.<key>` for a layout's own column) and the text. Only the cell: the rest of the
    row belongs to whoever the row is about."""
    rows = frame.filter(mention_hit(frame.schema, mentions, zone))
    if not rows.height:
        return pl.DataFrame(schema=MENTION_SCHEMA)
    period = rows["period"] if "period" in rows.columns else pl.Series([None] * rows.height)
    cells: list[pl.DataFrame] = []
    for column in free_text_columns(rows.schema):
        texts = {column: rows[column]}
        if column == EXTRAS:  # one cell per layout column, not the row's whole JSON
            decoded = rows[column].str.json_decode(infer_schema_length=None)
            if isinstance(decoded.dtype, pl.Struct):
                unnested = decoded.struct.unnest()
                texts = {f"{EXTRAS}.{c}": unnested[c].cast(pl.String) for c in unnested.columns}
        for name, text in texts.items():
            # Each cell is checked as free text (under the free-text column's own name).
            one = pl.DataFrame({"period": period.cast(pl.String), EXTRAS: text})
            hits = one.filter(mention_hit(pl.Schema({EXTRAS: pl.String}), mentions, zone))
            if hits.height:
                cells.append(
                    hits.select(
                        "period", pl.lit(name).alias("column"), pl.col(EXTRAS).alias("text")
                    )
                )
    return pl.concat(cells) if cells else pl.DataFrame(schema=MENTION_SCHEMA)


def _mention_counts(storage: Storage, customer: str, mentions: Mentions) -> dict[str, int]:
    """Rows whose free text mentions the person, per "<zone>/<dataset>" (nothing changed)."""
    counts: dict[str, int] = {}
    if not mentions:
        return counts
    for zone in keys.ZONES:
        for dataset in DATASETS:
            for file_key in zone_files(storage, zone, dataset, customer):
                frame = _read_plain(storage, file_key)
                hit = int(frame.select(mention_hit(frame.schema, mentions, zone)).sum().item())
                if hit:
                    name = f"{zone}/{dataset}"
                    counts[name] = counts.get(name, 0) + hit
    return counts


def erase_mentions(
    storage: Storage,
    customer: str,
    identity: Identity,
    key: Key,
    holds: list[Any],
    now: datetime,
    request_id: str | None = None,
) -> list[dict[str, Any]]:
    """Replace the person's mentions inside free text, in both zones (raw forms by <ERASED>,
    analytics tokens by their bare tag), keeping every row; returns PII-free records of the
    files changed. Every row: others' notes about the person, and the free text of the
    person's own rows too (those a tax or billing hold keeps are pseudonymized, and their text
    must not keep what their columns lose). A legal or audit hold keeps rows exactly as they
    are, so nothing is changed while one is active.
    Each file is journaled before it is swapped, like the purge's own (the ledger entry that
    follows, or after a kill the next one, records it). Runs before the erasure is planned:
    the plan then reads the redacted files."""
    mentions = mentions_of(identity, key)
    if not mentions or holds:  # every registered hold (legal, audit) keeps rows as they are
        return []
    apply_id = f"{now:%Y%m%dT%H%M%S}-{os.getpid()}-mentions"
    changed: list[dict[str, Any]] = []
    for zone in keys.ZONES:
        for dataset in DATASETS:
            for file_key in zone_files(storage, zone, dataset, customer):
                frame = _read_plain(storage, file_key)
                count = int(frame.select(mention_hit(frame.schema, mentions, zone)).sum().item())
                if not count:
                    continue
                before = hashlib.sha256(storage.read_bytes(file_key)).hexdigest()
                with tempfile.TemporaryDirectory(prefix="piiscan-erase-") as tmp:
                    path = Path(tmp) / "redacted.parquet"
                    redact_mentions(frame, mentions, zone).write_parquet(path)
                    record: dict[str, Any] = {
                        "zone": zone,
                        "dataset": dataset,
                        "period": keys.period_of(file_key),
                        "key": file_key,
                        "removed_sha256": before,
                        "rows_before": frame.height,
                        "action": "redact-mentions",
                        "rows_deleted": 0,
                        "rows_redacted": count,
                        "rows_after": frame.height,
                        "written_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                        "apply_id": apply_id,
                        "request_id": request_id,
                    }
                    journal_change(storage, customer, record)
                    checkpoint(f"mentions-journaled-{len(changed)}")
                    storage.rewrite(path, file_key, before)
                changed.append(record)
    return changed


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
    """Per rejected-rows file: its key, rows, and quarantine_match's two expressions."""
    for key in storage.list(keys.quarantine(customer)):
        if keys.is_rejected_rows(key):
            frame = _read_plain(storage, key)
            if frame.columns:
                yield key, frame, *quarantine_match(frame, identity)


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


def write_bundle(out: Path, request: dict[str, Any], found: Found, identity: Identity) -> Path:
    """The bundle for the controller: JSON and CSV per zone and dataset, and a summary."""
    out.mkdir(parents=True, exist_ok=True)
    folder = out / str(request["request_id"])
    folder.mkdir(mode=0o700, exist_ok=True)  # the bundle holds the person's data
    for name, frame in found.rows.items():
        stem = name.replace("/", "_")
        flat = frame.with_columns(pl.col(pl.Decimal).cast(pl.String))
        csv_safe(flat).write_csv(folder / f"{stem}.csv")
        (folder / f"{stem}.json").write_text(
            json.dumps(flat.to_dicts(), indent=1, default=str), encoding="utf-8"
        )
    if found.quarantined is not None:
        csv_safe(found.quarantined).write_csv(folder / "quarantine_rejected_rows.csv")
    for name, frame in found.mentions.items():
        csv_safe(frame).write_csv(folder / f"mentions_{name.replace('/', '_')}.csv")
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
        "mentioned_in_free_text": {n: f.height for n, f in sorted(found.mentions.items())},
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
    if found.mentions:
        lines += [
            "",
            "Mentions in free text of other rows (notes, comments; only the cell is given):",
            "",
            "| zone / dataset | cells |",
            "| --- | --- |",
            *(f"| {n} | {f.height} |" for n, f in sorted(found.mentions.items())),
        ]
    (folder / "summary.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for path in folder.iterdir():
        path.chmod(0o600)
    return folder


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
        for zone in keys.ZONES:
            for file_key in zone_files(storage, zone, dataset, customer):
                read += 1
                plan = plan_file(
                    storage, zone, dataset, keys.period_of(file_key), file_key, key, rules
                )
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


def preview_erase(
    storage: Storage,
    config: Config,
    customer: str,
    identity: Identity,
    key: Key,
    as_of: date,
    count_mentions: bool = True,
) -> tuple[PurgePlan, dict[str, Any]]:
    """The erasure's plan and its PII-free outcome: counts per zone and hold, rejected rows in
    quarantine, mentions in free text to redact (count_mentions: an erasure that has just
    redacted them skips reading every file again), and the delivered files in landing/ that
    still hold the person."""
    erase = plan_erase(storage, config, customer, identity, key, as_of)
    outcome = erase_summary(erase.purge)
    quarantined, unattributed = _quarantined(storage, customer, identity)
    outcome["quarantine_rows_deleted"] = 0 if quarantined is None else quarantined.height
    outcome["quarantine_rows_unattributed"] = unattributed
    outcome["nothing_to_do"] &= not outcome["quarantine_rows_deleted"]
    if count_mentions:
        held = load_registry(storage, customer).active(as_of)
        counts = {} if held else _mention_counts(storage, customer, mentions_of(identity, key))
        outcome["mentions_to_redact"] = sum(counts.values())
        outcome["nothing_to_do"] &= not outcome["mentions_to_redact"]
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
    present = set(storage.list(keys.landing(customer)))
    dates = []
    for entry in load_manifest(storage, customer).values():
        if entry.get("landing") not in present:
            continue
        rejected = keys.rejected_rows_prefix(customer, entry["run_id"], entry["file"])
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
        # An erasure killed midway has removed rows that named the person: its rerun uses the
        # identity resolved before the first change, not what the rows left say now.
        remembered = request.get("identity")
        identity = (
            Identity.from_json(remembered) if remembered else resolve(storage, customer, selector)
        )
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
            "mentions": {n: f.height for n, f in sorted(found.mentions.items())},
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
            if not remembered:
                request = {**request, "identity": identity.as_json()}
                save_request(storage, request)
            holds = load_registry(storage, customer).active(now.date())
            # Mentions first: the plan that follows reads the files as they are after it.
            mentioned = erase_mentions(storage, customer, identity, key, holds, now, request_id)
            plan, outcome = preview_erase(
                storage, config, customer, identity, key, now.date(), count_mentions=False
            )
            quarantine = erase_quarantined(storage, customer, identity, holds, now, request_id)
            outcome["quarantine_rows_deleted"] = sum(q["rows_deleted"] for q in quarantine)
            outcome["mentions_redacted"] = sum(m["rows_redacted"] for m in mentioned)
            outcome["mention_files_changed"] = len(mentioned)
            outcome["nothing_to_do"] = not plan.files and not quarantine and not mentioned
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
    with tempfile.TemporaryDirectory(prefix="piiscan-export-") as tmp:
        folder = write_bundle(Path(tmp), request, found, identity)
        for path in sorted(folder.iterdir()):
            storage.write_bytes(
                keys.export_object(request["customer"], request["request_id"], path.name),
                path.read_bytes(),
            )
    return storage.uri(keys.export_folder(request["customer"], request["request_id"]))
