"""The ingest manifest: per customer, the checksums already ingested and what each produced
(state/ingested/<customer>.json)."""

from __future__ import annotations

import json
from typing import Any

from piiscan.errors import StorageError
from piiscan.lake import keys
from piiscan.storage import Storage


def load_manifest(storage: Storage, customer: str) -> dict[str, Any]:
    """Checksums already ingested for a customer, with what they produced."""
    key = keys.manifest(customer)
    if not storage.exists(key):
        return {}
    try:
        data: dict[str, Any] = json.loads(storage.read_bytes(key))
    except json.JSONDecodeError as exc:
        raise StorageError(
            storage.uri(key), f"ingest manifest is not valid JSON (line {exc.lineno})"
        ) from None
    return data


def save_manifest(storage: Storage, customer: str, manifest: dict[str, Any]) -> None:
    """Write the customer's manifest atomically."""
    body = json.dumps(manifest, indent=1, sort_keys=True).encode()
    storage.write_bytes(keys.manifest(customer), body)
