"""The ingest manifest: per customer, the checksums already ingested and what each produced
(state/ingested/<customer>.json).

Updates are compare-and-swap: a change is applied to the manifest as read and written only if
the object still has the content read (`Storage.rewrite` with its SHA-256, or `Storage.create`
for the first entry); on a conflict the manifest is read again and the change applied to it
again. Two writers that slip past the customer lock therefore both keep their entries: a file
missing from the manifest would never expire."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from piiscan.errors import NotFoundError, StorageError
from piiscan.lake import keys
from piiscan.storage import Storage

Manifest = dict[str, Any]
MAX_ATTEMPTS = 50
# How Storage.rewrite says another writer came first (a conflict, not a failure).
CONFLICTS = ("rewrite refused", "rewrite rolled back")


def _parsed(storage: Storage, key: str, data: bytes) -> Manifest:
    try:
        manifest: Manifest = json.loads(data)
    except json.JSONDecodeError as exc:
        raise StorageError(
            storage.uri(key), f"ingest manifest is not valid JSON (line {exc.lineno})"
        ) from None
    return manifest


def _read(storage: Storage, key: str) -> bytes | None:
    try:
        return storage.read_bytes(key)
    except NotFoundError:
        return None


def load_manifest(storage: Storage, customer: str) -> Manifest:
    """Checksums already ingested for a customer, with what they produced."""
    key = keys.manifest(customer)
    data = _read(storage, key)
    return {} if data is None else _parsed(storage, key, data)


def _body(manifest: Manifest) -> bytes:
    return json.dumps(manifest, indent=1, sort_keys=True).encode()


def save_manifest(storage: Storage, customer: str, manifest: Manifest) -> None:
    """Write the customer's manifest atomically, whatever it holds now (a rebuild; use
    update_manifest to add or change entries)."""
    storage.write_bytes(keys.manifest(customer), _body(manifest))


def update_manifest(
    storage: Storage, customer: str, change: Callable[[Manifest], None]
) -> Manifest:
    """Apply change (it edits the manifest in place) to the current manifest and write it back
    only if nobody wrote it in between; otherwise read it again and retry. Returns the manifest
    as written."""
    key = keys.manifest(customer)
    for _ in range(MAX_ATTEMPTS):
        data = _read(storage, key)
        manifest = {} if data is None else _parsed(storage, key, data)
        change(manifest)
        body = _body(manifest)
        if data is None:
            if storage.create(key, body):
                return manifest
            continue
        if body == data:
            return manifest
        with tempfile.TemporaryDirectory(prefix="piiscan-manifest-") as tmp:
            path = Path(tmp) / "manifest.json"
            path.write_bytes(body)
            try:
                storage.rewrite(path, key, hashlib.sha256(data).hexdigest())
            except NotFoundError:
                continue
            except StorageError as exc:
                if not exc.problem.startswith(CONFLICTS):
                    raise
                continue
        return manifest
    raise StorageError(
        storage.uri(key), f"ingest manifest kept changing: gave up after {MAX_ATTEMPTS} tries"
    )
