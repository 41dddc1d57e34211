"""A file changed twice before a kill (an erasure's mention redaction, then its purge) is
accounted for twice on recovery: the lake shows only the second change, which started from what
the first wrote."""

from __future__ import annotations

import hashlib
import json

from piiscan.lake import keys
from piiscan.lake.journal import recover_journal
from piiscan.storage import MemoryStorage


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def journal(storage: MemoryStorage, records: list[dict[str, object]]) -> None:
    storage.write_bytes(keys.purge_journal("acme"), json.dumps(records).encode())


def record(apply_id: str, removed: bytes, written: bytes | None) -> dict[str, object]:
    return {
        "apply_id": apply_id,
        "key": "restricted/devices/customer=acme/period=2026-10/a.parquet",
        "removed_sha256": sha(removed),
        "written_sha256": sha(written) if written is not None else None,
        "rows_deleted": 0,
    }


def test_a_file_changed_twice_counts_both_changes_when_the_second_is_in_the_lake() -> None:
    storage = MemoryStorage()
    name = "restricted/devices/customer=acme/period=2026-10/a.parquet"
    first, second = record("m", b"A", b"B"), record("p", b"B", b"C")
    journal(storage, [first, second])
    storage.write_bytes(name, b"C")
    assert recover_journal(storage, "acme") == [first, second]
    storage.write_bytes(name, b"B")  # killed before the second change was made
    assert recover_journal(storage, "acme") == [first]
    storage.delete(name)  # the second change dropped the file
    dropped = record("p", b"B", None)
    journal(storage, [first, dropped])
    assert recover_journal(storage, "acme") == [first, dropped]
    storage.write_bytes(name, b"X")  # neither change is what the lake shows
    assert recover_journal(storage, "acme") == []
