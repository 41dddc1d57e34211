"""The ledger: a signed, hash-chained, PII-free record of every applied purge, per customer.

Each line of ledger/<customer>.jsonl is one JSON entry holding the previous entry's hash; its own
hash is HMAC-SHA256 with the customer's ledger key over its canonical JSON without the hash field
(`"chain": "hmac-sha256"`), so nobody without the key can edit an entry and recompute the chain.
Entries written before the ledger was keyed have no `chain` field and a plain SHA-256; they still
verify, and `verify` names them as unkeyed.

A chain alone cannot show that its last entries were cut, or that the whole file was deleted or
swapped for an older copy. So the head (seq and hash of the last entry) is anchored: in a signed
head record in the lake (state/ledger/<customer>.head.json, rewritten by every append), in every
run report and every deletion certificate, and in each entry, which names the head record it was
appended over. `verify` checks the chain against every anchor and says what does not match.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from piiscan.errors import StorageError
from piiscan.lake import keys
from piiscan.lake.faults import checkpoint
from piiscan.lake.keyring import LedgerKey, load_ledger_key
from piiscan.lake.reports import read_report, report_keys
from piiscan.storage import Storage

GENESIS = "0" * 64
CHAIN = "hmac-sha256"


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def entry_hash(entry: dict[str, Any]) -> str:
    """SHA-256 of an entry's canonical JSON, its own hash left out (unkeyed entries)."""
    return hashlib.sha256(_canonical({k: v for k, v in entry.items() if k != "hash"})).hexdigest()


def entry_mac(entry: dict[str, Any], key: LedgerKey) -> str:
    """HMAC-SHA256 with the ledger key of an entry's canonical JSON, its own hash left out."""
    body = _canonical({k: v for k, v in entry.items() if k != "hash"})
    return hmac.new(key.secret, body, hashlib.sha256).hexdigest()


def _head_mac(record: dict[str, Any], key: LedgerKey) -> str:
    body = {"record": "head", **{k: record.get(k) for k in ("customer", "seq", "hash", "chain")}}
    return hmac.new(key.secret, _canonical(body), hashlib.sha256).hexdigest()


def read_entries(storage: Storage, customer: str) -> list[dict[str, Any]]:
    """The ledger's entries in order (an empty list if none)."""
    key = keys.ledger(customer)
    if not storage.exists(key):
        return []
    lines = storage.read_bytes(key).decode("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def head(storage: Storage, customer: str) -> dict[str, Any] | None:
    """The seq and hash of the ledger's last entry (None while it has none): what reports and
    certificates anchor."""
    entries = read_entries(storage, customer)
    return {"seq": entries[-1]["seq"], "hash": entries[-1]["hash"]} if entries else None


def customers(storage: Storage) -> list[str]:
    """Every customer the lake holds a ledger or a head record for (gone customers too)."""
    found = {keys.ledger_customer(k) for k in storage.list(keys.ledgers())}
    found |= {keys.ledger_customer(k) for k in storage.list(keys.ledger_heads())}
    return sorted(c for c in found if c)


def read_head_record(storage: Storage, customer: str) -> dict[str, Any] | None:
    """The head record in the lake as stored (None when there is none)."""
    key = keys.ledger_head(customer)
    if not storage.exists(key):
        return None
    try:
        record: dict[str, Any] = json.loads(storage.read_bytes(key))
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}


def _signed_head(
    record: dict[str, Any] | None, customer: str, key: LedgerKey
) -> dict[str, Any] | None:
    """The head record's seq and hash if it is this customer's and its signature holds."""
    if not record or record.get("customer") != customer or record.get("chain") != CHAIN:
        return None
    if not hmac.compare_digest(str(record.get("mac", "")), _head_mac(record, key)):
        return None
    return {"seq": record.get("seq"), "hash": record.get("hash")}


def append(
    storage: Storage, customer: str, entry: dict[str, Any], key: LedgerKey | None = None
) -> dict[str, Any]:
    """Chain and sign an entry (seq, customer, prev_hash, chain, head_seen, hash filled in),
    then move the head record to it; returns the entry. key: the customer's ledger key (None:
    PIISCAN_LEDGER_KEY_<CUSTOMER> or the key file, which is created when missing)."""
    key = key or load_ledger_key(customer, create=True)
    entries = read_entries(storage, customer)
    previous = entries[-1]["hash"] if entries else GENESIS
    chained = {
        **entry,
        "seq": len(entries) + 1,
        "customer": customer,
        "prev_hash": previous,
        "chain": CHAIN,
        # The head this entry was appended over: cutting entries and appending a new one after
        # them still leaves a signed trace of the entry that was cut.
        "head_seen": _signed_head(read_head_record(storage, customer), customer, key),
    }
    chained["hash"] = entry_mac(chained, key)
    body = "".join(json.dumps(e, sort_keys=True) + "\n" for e in [*entries, chained])
    storage.write_bytes(keys.ledger(customer), body.encode("utf-8"))
    checkpoint("before-ledger-head")
    # Written after the ledger: a kill in between leaves the head one entry behind, which
    # verify accepts (the entry after it is signed) and the next append moves on.
    record = {"customer": customer, "seq": chained["seq"], "hash": chained["hash"], "chain": CHAIN}
    record["mac"] = _head_mac(record, key)
    storage.write_bytes(keys.ledger_head(customer), json.dumps(record, indent=1).encode())
    return chained


# --- verifying ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    """The outcome of checking a ledger's chain and every anchor of its head."""

    customer: str
    entries: int
    ok: bool
    problem: str | None = None  # the first of problems
    problems: tuple[str, ...] = ()
    unkeyed: tuple[int, ...] = ()  # seqs of entries written before the ledger was keyed
    anchors: int = 0  # anchors checked: head record, reports, certificates
    notes: tuple[str, ...] = ()
    head: dict[str, Any] | None = field(default=None)

    def as_json(self) -> dict[str, Any]:
        """The outcome as JSON (no key, no personal data)."""
        return {
            "customer": self.customer,
            "entries": self.entries,
            "ok": self.ok,
            "problems": list(self.problems),
            "unkeyed": list(self.unkeyed),
            "anchors_checked": self.anchors,
            "notes": list(self.notes),
            "head": self.head,
        }


class _Key:
    """The ledger key, loaded the first time a keyed entry or the head record needs it."""

    def __init__(self, customer: str, loader: Callable[[], LedgerKey] | None) -> None:
        self._loader = loader or (lambda: load_ledger_key(customer))
        self._key: LedgerKey | None = None

    def get(self) -> LedgerKey:
        if self._key is None:
            self._key = self._loader()
        return self._key


@dataclass
class _Walk:
    """What walking the chain found."""

    problem: str | None = None
    unkeyed: list[int] = field(default_factory=list)
    keyed: int = 0
    heads_seen: int = 0  # keyed entries appended over a head record


def _walk(customer: str, entries: list[Any], hashes: list[str], key: _Key) -> _Walk:
    """Check each entry's owner, seq, link and hash in order; stops at the first break."""
    walk, previous = _Walk(), GENESIS
    for number, entry in enumerate(entries, start=1):
        walk.problem = _entry_problem(customer, number, entry, previous, walk, hashes, key)
        if walk.problem:
            return walk
        previous = entry["hash"]
    return walk


def _entry_problem(
    customer: str,
    number: int,
    entry: Any,
    previous: str,
    walk: _Walk,
    hashes: list[str],
    key: _Key,
) -> str | None:
    if not isinstance(entry, dict):
        return f"line {number}: not a JSON ledger entry"
    owner = entry.get("customer")
    if owner != customer:
        return f"line {number}: an entry of customer {owner!r} (another customer's ledger?)"
    if entry.get("seq") != number:
        return f"line {number}: sequence {entry.get('seq')} (lines removed or reordered)"
    if entry.get("prev_hash") != previous:
        return f"line {number}: does not follow the previous entry"
    chain = entry.get("chain")
    if chain is None:
        if walk.keyed:
            return f"line {number}: unkeyed after keyed entries (hash recomputed without the key)"
        if entry_hash(entry) != entry.get("hash"):
            return f"line {number}: content was edited"
        walk.unkeyed.append(number)
        return None
    if chain != CHAIN:
        return f"line {number}: unknown chain {chain!r}"
    if not hmac.compare_digest(str(entry.get("hash")), entry_mac(entry, key.get())):
        return f"line {number}: content was edited (or its hash recomputed without the ledger key)"
    seen = entry.get("head_seen")
    problem = _head_seen_problem(number, seen, bool(walk.heads_seen), hashes)
    walk.keyed += 1
    walk.heads_seen += seen is not None
    return problem


def _head_seen_problem(number: int, seen: Any, head_before: bool, hashes: list[str]) -> str | None:
    """A signed entry names the head record it was appended over: it must be an earlier entry.
    None is right until a head record was first written (the first keyed entry's run may have
    been killed before its head write); once an entry saw one, every later entry must."""
    if seen is None:
        return (
            f"line {number}: appended while the head record was missing or forged"
            if head_before
            else None
        )
    seq, digest = seen.get("seq"), seen.get("hash")
    if not isinstance(seq, int) or not 0 < seq < number or hashes[seq - 1] != digest:
        return (
            f"line {number}: appended over a head record naming entry {seq} "
            f"({str(digest)[:12]}…), which the ledger before it does not hold (entries were "
            "cut or replaced before this one was written)"
        )
    return None


def _anchor_problem(source: str, anchor: Any, hashes: list[str]) -> str | None:
    """Whether the ledger still holds the entry an anchor names."""
    if not isinstance(anchor, dict):
        return f"{source}: its ledger anchor is unreadable"
    seq, digest = anchor.get("seq"), anchor.get("hash")
    if not isinstance(seq, int) or seq < 1:
        return f"{source}: its ledger anchor names no entry ({seq!r})"
    if seq > len(hashes):
        have = "no entries" if not hashes else f"{len(hashes)} {_entries(len(hashes))}"
        return (
            f"{source} names entry {seq} ({str(digest)[:12]}…) but the ledger has {have}: "
            "cut short, deleted or replaced by an older copy"
        )
    if hashes[seq - 1] != digest:
        return (
            f"{source} names entry {seq} as {str(digest)[:12]}…, the ledger's entry {seq} is "
            f"{hashes[seq - 1][:12]}…: the ledger was replaced or rewritten"
        )
    return None


def _entries(n: int) -> str:
    return "entry" if n == 1 else "entries"


def _anchors(storage: Storage, customer: str) -> list[tuple[str, Any]]:
    """(where, {seq, hash}) of every report and certificate that names a ledger head."""
    found: list[tuple[str, Any]] = []
    for key in report_keys(storage, customer):
        try:
            document = read_report(storage, key)
        except StorageError:
            found.append((f"report {keys.report_run(key)}", None))
            continue
        purge = document.get("purge")
        anchor = purge.get("ledger") if isinstance(purge, dict) else None
        if anchor is not None:  # reports older than the anchor, or written before any entry
            found.append((f"report {keys.report_run(key)}", anchor))
    for key in storage.list(keys.certificates(customer)):
        if key.endswith(".json"):
            try:
                certificate = json.loads(storage.read_bytes(key))
            except ValueError:
                found.append((f"certificate {keys.name_of(key)}", None))
                continue
            found.append((f"certificate {keys.name_of(key)}", certificate.get("ledger")))
    return found


def _parsed_lines(storage: Storage, customer: str) -> list[Any]:
    """Each non-empty line of the ledger parsed (None where a line is not JSON)."""
    key = keys.ledger(customer)
    if not storage.exists(key):
        return []
    parsed: list[Any] = []
    for line in storage.read_bytes(key).decode("utf-8").splitlines():
        if line.strip():
            try:
                parsed.append(json.loads(line))
            except json.JSONDecodeError:
                parsed.append(None)
    return parsed


def verify(
    storage: Storage, customer: str, ledger_key: Callable[[], LedgerKey] | None = None
) -> Verification:
    """Check every link and signature, then the head record, every report and every
    certificate against the chain. ledger_key: loads the key when a keyed entry or the head
    record needs it (default: its variable or file; KeyMaterialError says where it looked)."""
    key = _Key(customer, ledger_key)
    entries = _parsed_lines(storage, customer)
    hashes = [str(e.get("hash")) if isinstance(e, dict) else "" for e in entries]
    problems: list[str] = []
    notes: list[str] = []
    walk = _walk(customer, entries, hashes, key)
    if walk.problem:
        problems.append(walk.problem)
    anchors = 0
    record = read_head_record(storage, customer)
    if record is not None:
        anchors += 1
        signed = _signed_head(record, customer, key.get())
        if signed is None:
            owner = record.get("customer")
            problems.append(
                f"head record {keys.ledger_head(customer)} is not {customer}'s signed head "
                f"({'customer ' + repr(owner) if owner != customer else 'edited or forged'})"
            )
        elif problem := _anchor_problem("the head record", signed, hashes):
            problems.append(problem)
        elif signed["seq"] < len(hashes):
            notes.append(
                f"the head record is at entry {signed['seq']} of {len(hashes)} (a run killed "
                "after its ledger write; the next entry moves it on)"
            )
    elif walk.heads_seen:
        problems.append(f"head record {keys.ledger_head(customer)} is missing")
    elif walk.keyed:  # a first keyed run killed before its head write; the next append writes it
        notes.append(f"head record {keys.ledger_head(customer)} not written yet")
    for source, anchor in _anchors(storage, customer):
        anchors += 1
        if problem := _anchor_problem(source, anchor, hashes):
            problems.append(problem)
    last = {"seq": len(hashes), "hash": hashes[-1]} if hashes and not walk.problem else None
    return Verification(
        customer,
        len(entries),
        not problems,
        problems[0] if problems else None,
        tuple(problems),
        tuple(walk.unkeyed),
        anchors,
        tuple(notes),
        last,
    )
