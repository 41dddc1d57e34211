"""What each analytics file was made from (state/analytics/<customer>.json): per analytics key,
a digest of its restricted source's fingerprint, the column plans applied, the key version and
the piiscan version, and its row count. A night whose inputs to a file are all unchanged leaves
that file as it is (no rewrite, no new mtime or version for incremental consumers)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from piiscan.errors import NotFoundError, StorageError
from piiscan.lake import keys
from piiscan.storage import Storage

Sources = dict[str, dict[str, Any]]  # analytics key -> {"made_from": digest, "rows": n}


def made_from(*parts: Any) -> str:
    """The digest of what an analytics file is made from (JSON-serialisable parts)."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def load_sources(storage: Storage, customer: str) -> Sources:
    """The customer's record; empty when there is none yet (every file is then written)."""
    key = keys.analytics_sources(customer)
    try:
        data = json.loads(storage.read_bytes(key))
    except NotFoundError:
        return {}
    except json.JSONDecodeError:
        raise StorageError(storage.uri(key), "analytics source record is not valid JSON") from None
    sources: Sources = data.get("files", {})
    return sources


def save_sources(storage: Storage, customer: str, sources: Mapping[str, Mapping[str, Any]]) -> None:
    """Replace the customer's record (written after the files it describes)."""
    body = {"customer": customer, "files": dict(sorted(sources.items()))}
    storage.write_bytes(keys.analytics_sources(customer), json.dumps(body, indent=1).encode())
