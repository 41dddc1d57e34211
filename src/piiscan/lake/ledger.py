"""The ledger: a hash-chained, PII-free record of every applied purge, per customer.

Each line of ledger/<customer>.jsonl is one JSON entry holding the previous entry's hash; its own
hash is SHA-256 over its canonical JSON without the hash field. Editing, removing or reordering a
line breaks the chain, and `verify` says where.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from piiscan.lake import keys
from piiscan.storage import Storage

GENESIS = "0" * 64


def entry_hash(entry: dict[str, Any]) -> str:
    """SHA-256 of an entry's canonical JSON, its own hash left out."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def read_entries(storage: Storage, customer: str) -> list[dict[str, Any]]:
    """The ledger's entries in order (an empty list if none)."""
    key = keys.ledger(customer)
    if not storage.exists(key):
        return []
    lines = storage.read_bytes(key).decode("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def append(storage: Storage, customer: str, entry: dict[str, Any]) -> dict[str, Any]:
    """Chain an entry to the ledger and return it with seq, prev_hash and hash filled in."""
    entries = read_entries(storage, customer)
    previous = entries[-1]["hash"] if entries else GENESIS
    chained = {**entry, "seq": len(entries) + 1, "customer": customer, "prev_hash": previous}
    chained["hash"] = entry_hash(chained)
    body = "".join(json.dumps(e, sort_keys=True) + "\n" for e in [*entries, chained])
    storage.write_bytes(keys.ledger(customer), body.encode("utf-8"))
    return chained


@dataclass(frozen=True)
class Verification:
    """The outcome of recomputing a ledger's chain."""

    customer: str
    entries: int
    ok: bool
    problem: str | None = None


def verify(storage: Storage, customer: str) -> Verification:
    """Recompute every hash and link; the first break is reported with its line number."""
    key = keys.ledger(customer)
    if not storage.exists(key):
        return Verification(customer, 0, True)
    lines = [line for line in storage.read_bytes(key).decode("utf-8").splitlines() if line.strip()]
    previous = GENESIS
    for number, line in enumerate(lines, start=1):
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            return Verification(customer, len(lines), False, f"line {number}: not JSON")
        if entry.get("seq") != number:
            return Verification(
                customer,
                len(lines),
                False,
                f"line {number}: sequence {entry.get('seq')} (lines removed or reordered)",
            )
        if entry.get("prev_hash") != previous:
            return Verification(
                customer, len(lines), False, f"line {number}: does not follow the previous entry"
            )
        if entry_hash(entry) != entry.get("hash"):
            return Verification(customer, len(lines), False, f"line {number}: content was edited")
        previous = entry["hash"]
    return Verification(customer, len(lines), True)
