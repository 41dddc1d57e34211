"""Fault injection for the crash tests: named points, and storage calls, where a test may kill the
process (exit status 70, no cleanup: no `finally`, no lock release, as a real kill).

- `PIISCAN_CRASH_AT=<name>`: kill at the named checkpoint.
- `PIISCAN_CRASH_AT_CALL=<n>`: `open_lake` wraps the lake in `CrashingStorage`, which counts the
  calls made to it and kills the process just before call n (1: before the first; 0: never).
- `PIISCAN_CALL_LOG=<file>`: the wrapper also appends one line per call (`<n> <method> <key>`),
  so a test learns how many calls an operation makes, and which.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from piiscan.storage.base import Storage

if TYPE_CHECKING:
    import pyarrow.parquet as pq

CRASH_AT = "PIISCAN_CRASH_AT"
CRASH_AT_CALL = "PIISCAN_CRASH_AT_CALL"
CALL_LOG = "PIISCAN_CALL_LOG"
KILLED = 70


def checkpoint(name: str) -> None:
    """A named point where the crash test may kill the process (PIISCAN_CRASH_AT)."""
    if os.environ.get(CRASH_AT) == name:
        os._exit(KILLED)


class CrashingStorage:
    """A lake that counts the calls made to it and kills the process before call `at`. The
    count is the process's: every lake `open_lake` wrapped in it adds to the same one."""

    calls = 0  # shared by every wrapper of the process

    def __init__(self, inner: Storage, at: int, log: Path | None = None) -> None:
        self.inner = inner
        self.at = at
        self.log = log

    def _call(self, method: str, key: str) -> None:
        CrashingStorage.calls += 1
        number = CrashingStorage.calls
        if self.log is not None:
            with self.log.open("a", encoding="utf-8") as handle:
                handle.write(f"{number} {method} {key}\n")
        if number == self.at:
            os._exit(KILLED)

    def uri(self, key: str) -> str:
        return self.inner.uri(key)  # an address, not a call to the lake

    def read_bytes(self, key: str) -> bytes:
        self._call("read_bytes", key)
        return self.inner.read_bytes(key)

    def write_bytes(self, key: str, data: bytes) -> None:
        self._call("write_bytes", key)
        self.inner.write_bytes(key, data)

    def create(self, key: str, data: bytes) -> bool:
        self._call("create", key)
        return self.inner.create(key, data)

    def put_file(self, source: Path, key: str) -> None:
        self._call("put_file", key)
        self.inner.put_file(source, key)

    def local_copy(self, key: str) -> AbstractContextManager[Path]:
        self._call("local_copy", key)
        return self.inner.local_copy(key)

    def parquet_metadata(self, key: str) -> pq.FileMetaData:
        self._call("parquet_metadata", key)
        return self.inner.parquet_metadata(key)

    def fingerprint(self, key: str) -> str:
        self._call("fingerprint", key)
        return self.inner.fingerprint(key)

    def exists(self, key: str) -> bool:
        self._call("exists", key)
        return self.inner.exists(key)

    def list(self, prefix: str) -> Iterator[str]:
        self._call("list", prefix)
        return self.inner.list(prefix)

    def delete(self, key: str) -> None:
        self._call("delete", key)
        self.inner.delete(key)

    def rewrite(self, source: Path, key: str, expected_sha256: str) -> None:
        self._call("rewrite", key)
        self.inner.rewrite(source, key, expected_sha256)


def with_faults(storage: Storage) -> Storage:
    """The lake wrapped in CrashingStorage when PIISCAN_CRASH_AT_CALL or PIISCAN_CALL_LOG is
    set (the crash tests), else the lake itself."""
    at, log = os.environ.get(CRASH_AT_CALL), os.environ.get(CALL_LOG)
    if not at and not log:
        return storage
    return CrashingStorage(storage, int(at or 0), Path(log) if log else None)
