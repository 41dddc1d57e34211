"""Lake storage: pick an implementation from a lake address."""

from __future__ import annotations

from piiscan.errors import StorageError
from piiscan.storage.base import Storage, join
from piiscan.storage.local import LocalStorage
from piiscan.storage.memory import MemoryStorage

__all__ = ["LocalStorage", "MemoryStorage", "Storage", "join", "open_lake"]


def open_lake(lake: str) -> Storage:
    """Storage for a lake address: a local folder, or s3://bucket/prefix (wrapped for fault
    injection when a crash test asks for it: piiscan.lake.faults)."""
    from piiscan.lake.faults import with_faults

    if lake.startswith("s3://"):
        from piiscan.storage.s3 import S3Storage  # boto3 is imported only for S3 lakes

        return with_faults(S3Storage(lake))
    if "://" in lake:
        raise StorageError(lake, "expected a local folder or s3://bucket/prefix")
    return with_faults(LocalStorage(lake))
