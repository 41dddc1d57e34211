"""The purge journal (state/purge/<customer>.journal.json): changes written before they are made,
so a run killed between a change and its ledger entry is still accounted for by the next one.

A record is a zone (or quarantine) file's change, or an other object (landing, quarantine,
report, export) about to be deleted: `other_record`, listed under `other_objects_removed`."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from piiscan.lake import keys, ledger
from piiscan.storage import Storage


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_journal(storage: Storage, customer: str, records: list[dict[str, Any]]) -> None:
    """Files already changed by this apply, so a killed run is still accounted for."""
    storage.write_bytes(keys.purge_journal(customer), json.dumps(records).encode())


def other_record(apply_id: str, key: str, sha256: str) -> dict[str, Any]:
    """The journal record of an other object about to be deleted (it counts once gone)."""
    return {
        "apply_id": apply_id,
        "key": key,
        "other": True,
        "sha256": sha256,
        "written_sha256": None,
    }


def is_other(record: dict[str, Any]) -> bool:
    """Whether a journal record is an other object's deletion (not a zone file's change)."""
    return bool(record.get("other"))


def journal_change(storage: Storage, customer: str, record: dict[str, Any]) -> None:
    """Journal a change made outside a plan (its record needs `apply_id`, `key`,
    `rows_deleted` and `written_sha256`) before making it: the next `apply_purge` for the
    customer ledgers it, even if this process is killed first. Call under the customer lock.
    Journaled changes a killed run never made, or a ledger entry holds, are dropped."""
    write_journal(storage, customer, [*recover_journal(storage, customer), record])


def journal_pending(storage: Storage, customer: str) -> bool:
    """Whether journaled changes wait for a ledger entry."""
    return bool(recover_journal(storage, customer))


def recover_journal(storage: Storage, customer: str) -> list[dict[str, Any]]:
    """Files a killed apply changed that no ledger entry records yet. A journaled file counts
    only if the lake shows its change (gone, or holding the journaled new content), or if a later
    counted change of the same file started from what this one wrote; a journaled other object,
    only if it is gone."""
    key = keys.purge_journal(customer)
    if not storage.exists(key):
        return []
    records: list[dict[str, Any]] = json.loads(storage.read_bytes(key))
    entries = ledger.read_entries(storage, customer)
    recorded = set(entries[-1].get("apply_ids", [])) if entries else set()
    pending = [r for r in records if r["apply_id"] not in recorded]
    counted = [False] * len(pending)
    # Latest first: a file changed twice (an erasure's mention redaction, then its purge) shows
    # only the second change; the first counts when the second, counted, started from it.
    followed: dict[str, str | None] = {}  # key -> removed_sha256 of its next counted change
    for index in range(len(pending) - 1, -1, -1):
        record = pending[index]
        name = record["key"]
        if name in followed:
            counted[index] = followed[name] == record["written_sha256"]
        else:
            present = storage.exists(name)
            current = _sha256(storage.read_bytes(name)) if present else None
            counted[index] = current == record["written_sha256"]  # dropped (None) or rewritten
        if counted[index]:
            followed[name] = record.get("removed_sha256")
    return [r for r, ok in zip(pending, counted, strict=True) if ok]
