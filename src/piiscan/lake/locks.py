"""The customer lock: one run, purge, termination or subject erasure per customer at a time
(state/locks/<customer>.json), taken with a conditional create so two hosts cannot both hold it."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from piiscan.errors import LockedError, NotFoundError, StorageError
from piiscan.lake import keys
from piiscan.storage import Storage

LOCK_STALE_AFTER = timedelta(hours=6)

# Tokens of the customer locks this process holds: a lock is nested only if it is one of them
# (its host:pid alone could be a dead process's whose pid was reused).
_HELD: set[str] = set()


@contextmanager
def customer_lock(storage: Storage, customer: str, now: datetime) -> Iterator[None]:
    """One run or purge per customer at a time. The same process may nest it (a nightly run
    holds it while its purge step takes it again); a lock older than LOCK_STALE_AFTER, or whose
    process is gone, is taken over. Taking it is a conditional create, so of two hosts starting
    at once one gets it; releasing it removes only our own lock."""
    key = keys.lock(customer)
    owner = f"{socket.gethostname()}:{os.getpid()}"
    token = uuid.uuid4().hex
    mine = json.dumps({"owner": owner, "since": now.isoformat(), "token": token}).encode()
    if not storage.create(key, mine):
        data = _lock_content(storage, key)
        if data is None:  # released in between: one more try
            if not storage.create(key, mine):
                raise LockedError(customer, "is locked by another process")
        else:
            held = _parse_lock(data)
            if held.get("token") in _HELD:
                yield  # nested: the outer holder releases it
                return
            if "since" not in held:  # being written by its creator
                raise LockedError(customer, "is locked by another process")
            since = datetime.fromisoformat(held["since"])
            if now - since < LOCK_STALE_AFTER and _alive(held, owner):
                raise LockedError(customer, f"is locked by {held['owner']} since {held['since']}")
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
            storage.rewrite(path, key, hashlib.sha256(stale).hexdigest())
        except StorageError:
            raise LockedError(
                customer, "is locked: another process took over its stale lock first"
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
