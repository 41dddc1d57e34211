"""Superseding re-delivered rows: a newly landed file's invoices (and usage events) replace the
rows earlier files landed for them, in both zones, journaled and ledgered like a purge.

Old rows sit in the partitions the new file wrote (the key holds the period's date), so only
those are read. Per earlier file: drop it when every row is superseded, or rewrite it without
them; its analytics mirror gets the same rows removed (it mirrors the file row for row), or goes
when it no longer matches (the next pseudonymize writes it again). Every change is journaled
before it is made and the whole is one `supersede` ledger entry, so a kill leaves each file as
before or after and the next entry (a rerun's, or a purge's) records it once.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from piiscan.lake import keys, ledger
from piiscan.lake.faults import checkpoint
from piiscan.lake.journal import is_other, recover_journal, write_journal
from piiscan.lake.keyring import LedgerKey
from piiscan.lake.manifest import Manifest, update_manifest
from piiscan.storage import Storage
from piiscan.supersede import SUPERSEDE_KEYS, supersede_keys, superseded_rows

APPLY_PREFIX = "supersede-"  # the apply ids of superseding changes (journal and ledger)


def supersede_apply_id(run_id: str, checksum: str) -> str:
    """The apply id of superseding one landed file's rows in one run."""
    return f"{APPLY_PREFIX}{run_id}-{checksum[:12]}"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _change(
    key: str, data: bytes, mask: pl.Series, tmp: Path
) -> tuple[dict[str, Any], Path | None]:
    """The journal record of removing the masked rows from one file, and its new content
    (None: drop the file)."""
    parsed = keys.parse_partition_file(key)
    assert parsed is not None
    frame = pl.read_parquet(data)
    kept = frame.filter(~mask)
    record: dict[str, Any] = {
        "zone": parsed.zone,
        "dataset": parsed.dataset,
        "period": parsed.period,
        "key": key,
        "removed_sha256": _sha256(data),
        "rows_before": frame.height,
        "rows_deleted": frame.height - kept.height,
        "rows_after": kept.height,
    }
    if kept.height == 0:
        return {**record, "action": "drop", "written_sha256": None}, None
    path = tmp / f"{len(list(tmp.iterdir()))}.parquet"
    kept.write_parquet(path)
    return {**record, "action": "rewrite", "written_sha256": _sha256(path.read_bytes())}, path


def _key_columns(storage: Storage, key: str, dataset: str) -> pl.DataFrame:
    """The columns of a partition file that say which rows supersede or are superseded."""
    columns, _ = SUPERSEDE_KEYS[dataset]
    with storage.local_copy(key) as path:
        return pl.read_parquet(path, columns=list(columns))


def _planned(
    storage: Storage, customer: str, outputs: Sequence[str], tmp: Path
) -> list[tuple[dict[str, Any], Path | None]]:
    """Every change superseding the new outputs' rows makes: per earlier file its analytics
    mirror first, then the file (a kill in between leaves a mirror shorter than its file, which
    the rerun sees as stale and removes)."""
    changes = []
    for output in outputs:
        new = keys.parse_partition_file(output)
        if new is None or new.zone != "restricted" or new.dataset not in SUPERSEDE_KEYS:
            continue
        folder = keys.dataset_folder("restricted", new.dataset, customer)
        earlier = [
            key
            for key in storage.list(f"{folder}/period={new.period}")
            if key not in outputs and keys.parse_partition_file(key) is not None
        ]
        if not earlier:  # a new period: nothing to supersede, and nothing read
            continue
        replaced = supersede_keys(_key_columns(storage, output, new.dataset), new.dataset)
        if replaced is None or replaced.height == 0:
            continue
        for key in earlier:
            mask = superseded_rows(_key_columns(storage, key, new.dataset), new.dataset, replaced)
            if not mask.any():
                continue
            data = storage.read_bytes(key)  # read whole only when rows of it go
            mirror = keys.mirror(key, "analytics")
            if storage.exists(mirror):
                copy = storage.read_bytes(mirror)
                height = pl.read_parquet(copy).height
                stale = height != mask.len()  # it goes; the next pseudonymize writes it again
                every = pl.Series([True] * height, dtype=pl.Boolean)
                changes.append(_change(mirror, copy, every if stale else mask, tmp))
            changes.append(_change(key, data, mask, tmp))
    return changes


def supersede(
    storage: Storage,
    customer: str,
    outputs: Sequence[str],
    by: dict[str, str],
    apply_id: str,
    now: datetime | None,
    ledger_key: LedgerKey | None = None,
) -> dict[str, Any] | None:
    """Remove the rows the newly written outputs re-deliver from the customer's earlier files
    (both zones), and append a `supersede` ledger entry (returned; None: nothing superseded).
    by: PII-free facts of the new file (name, checksum, run id). Call under the customer lock."""
    with tempfile.TemporaryDirectory(prefix="piiscan-supersede-") as folder:
        changes = _planned(storage, customer, outputs, Path(folder))
        recovered = recover_journal(storage, customer)
        if not changes and not recovered:
            return None
        done: list[dict[str, Any]] = []
        for index, (record, new_file) in enumerate(changes):
            record["apply_id"] = apply_id
            write_journal(storage, customer, [*recovered, *done, record])
            checkpoint(f"supersede-journaled-{index}")
            if new_file is None:
                storage.delete(record["key"])
            else:
                storage.rewrite(new_file, record["key"], record["removed_sha256"])
            done.append(record)
    changed = [r for r in [*recovered, *done] if not is_other(r)]
    others = [r for r in recovered if is_other(r)]
    # Changes of a killed purge that no entry records yet are ledgered here too, but are not
    # superseded rows.
    restricted = [
        r
        for r in changed
        if r.get("zone") == "restricted" and r["apply_id"].startswith(APPLY_PREFIX)
    ]
    by_dataset: Counter[str] = Counter()
    for record in restricted:
        by_dataset[record["dataset"]] += record["rows_deleted"]
    entry = {
        "kind": "supersede",
        "at": now.astimezone(UTC).isoformat(timespec="seconds") if now else None,
        "by": by,
        "rows_deleted": sum(r["rows_deleted"] for r in changed if r.get("zone") == "restricted"),
        "rows_superseded": dict(by_dataset),
        "files": [r for r in changed if r.get("zone") != "quarantine"],
        "other_objects_removed": [{"key": o["key"], "sha256": o["sha256"]} for o in others],
        "apply_ids": sorted({r["apply_id"] for r in [*changed, *others]} | {apply_id}),
    }
    quarantined = [r for r in changed if r.get("zone") == "quarantine"]
    if quarantined:  # rejected rows a killed subject erasure changed
        entry["quarantine_files"] = quarantined
    chained = ledger.append(storage, customer, entry, ledger_key)
    storage.delete(keys.purge_journal(customer))

    def note(manifest: Manifest) -> None:
        for item in manifest.values():
            for record in restricted:
                if record["key"] in item.get("outputs", []):
                    item.setdefault("superseded", {})[record["key"]] = {
                        "by": by["checksum"],
                        "rows": record["rows_deleted"],
                        "ledger_seq": chained["seq"],
                    }

    update_manifest(storage, customer, note)
    return chained
