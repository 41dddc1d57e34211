"""An in-memory lake for unit tests: the twin of LocalStorage."""

from __future__ import annotations

import hashlib
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from piiscan.errors import NotFoundError, StorageError
from piiscan.storage.base import footer_length, metadata_from_footer

if TYPE_CHECKING:
    import pyarrow.parquet as pq


class MemoryStorage:
    """Storage held in a dict; local_copy spills to a temporary file."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def uri(self, key: str) -> str:
        return f"memory://{key}"

    def read_bytes(self, key: str) -> bytes:
        try:
            return self.objects[key]
        except KeyError:
            raise NotFoundError(self.uri(key)) from None

    def write_bytes(self, key: str, data: bytes) -> None:
        self.objects[key] = bytes(data)

    def create(self, key: str, data: bytes) -> bool:
        with self._lock:
            if key in self.objects:
                return False
            self.objects[key] = bytes(data)
            return True

    def put_file(self, source: Path, key: str) -> None:
        self.objects[key] = source.read_bytes()
        source.unlink(missing_ok=True)

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        data = self.read_bytes(key)
        with tempfile.TemporaryDirectory(prefix="piiscan-mem-") as tmp:
            path = Path(tmp) / key.rsplit("/", 1)[-1]
            path.write_bytes(data)
            yield path

    def parquet_metadata(self, key: str) -> pq.FileMetaData:
        data = self.read_bytes(key)
        length = footer_length(self.uri(key), data, len(data))
        return metadata_from_footer(self.uri(key), data[-length:])

    def fingerprint(self, key: str) -> str:
        return hashlib.sha256(self.read_bytes(key)).hexdigest()

    def exists(self, key: str) -> bool:
        return key in self.objects

    def list(self, prefix: str) -> Iterator[str]:
        folder = prefix.rstrip("/") + "/" if prefix else ""
        return iter(sorted(k for k in self.objects if k.startswith(folder)))

    def rewrite(self, source: Path, key: str, expected_sha256: str) -> None:
        with self._lock:  # check and replace as one step, as on the other implementations
            current = self.objects.get(key)
            if current is None or hashlib.sha256(current).hexdigest() != expected_sha256:
                raise StorageError(self.uri(key), "rewrite refused: changed since it was planned")
            self.put_file(source, key)

    def delete(self, key: str) -> None:
        self.objects.pop(key, None)
