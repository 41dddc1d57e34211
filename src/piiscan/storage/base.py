"""The lake's storage interface: keys are '/'-separated paths relative to the lake root."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from piiscan.errors import StorageError

if TYPE_CHECKING:
    import pyarrow.parquet as pq


@runtime_checkable
class Storage(Protocol):
    """What the pipeline needs from a lake: whole-object reads, atomic writes, listing, deletion."""

    def uri(self, key: str) -> str:
        """The full address of key, for messages and for polars/pyarrow readers."""
        ...

    def read_bytes(self, key: str) -> bytes:
        """The object's content; raises NotFoundError."""
        ...

    def write_bytes(self, key: str, data: bytes) -> None:
        """Write an object atomically: readers see the old content or the new, never a part."""
        ...

    def create(self, key: str, data: bytes) -> bool:
        """Write an object only if key names none (atomically: of two creators, one wins);
        False when it already exists."""
        ...

    def put_file(self, source: Path, key: str) -> None:
        """Move or copy a finished local file to key atomically."""
        ...

    def local_copy(self, key: str) -> AbstractContextManager[Path]:
        """A local file holding the object, valid inside the with block."""
        ...

    def exists(self, key: str) -> bool:
        """Whether key names an object."""
        ...

    def parquet_metadata(self, key: str) -> pq.FileMetaData:
        """A Parquet object's footer (row count, row groups, statistics) without reading its
        data (S3: ranged reads of the footer alone); raises NotFoundError, and StorageError
        when the object is not Parquet."""
        ...

    def fingerprint(self, key: str) -> str:
        """What identifies this version of the object without reading it: a fingerprint
        changes whenever the object is written again (local: size, mtime and inode; S3: ETag
        and size); raises NotFoundError."""
        ...

    def list(self, prefix: str) -> Iterator[str]:
        """Keys under prefix (a folder-like prefix), in sorted order: every object, whatever
        its name (`.tmp` too), staging objects included (`is_staging`)."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object for good (on versioned S3, every version); a missing key is not an
        error."""
        ...

    def rewrite(self, source: Path, key: str, expected_sha256: str) -> None:
        """Replace an object holding personal data with a finished local file, leaving no older
        version; refuse (StorageError) if the object no longer has the planned content."""
        ...


# Objects being written are staged beside their key under this name prefix (local folders only;
# S3 and memory writes are atomic). Listing returns them like any object, so a write killed
# midway leaves a staging object that purge and termination see and delete; readers of a
# folder skip them (a staging object is never a finished file).
STAGING_PREFIX = ".piiscan-staging-"


def is_staging(key: str) -> bool:
    """Whether a key names a staging object (a write in progress, or one killed midway)."""
    return key.rsplit("/", 1)[-1].startswith(STAGING_PREFIX)


def join(*parts: str) -> str:
    """Join key parts with '/', ignoring empty parts and stray slashes."""
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))


FOOTER_GUESS = 64 * 1024  # one read of an object's last bytes usually holds its whole footer


def footer_length(uri: str, tail: bytes, size: int) -> int:
    """How many of an object's last bytes its Parquet footer takes (metadata, its length and
    the closing magic), from at least its last 8 bytes and its size; StorageError when it is
    not Parquet."""
    if len(tail) < 8 or tail[-4:] != b"PAR1":
        raise StorageError(uri, "not a Parquet file: no PAR1 footer")
    length = int.from_bytes(tail[-8:-4], "little") + 8
    if length > size:
        raise StorageError(uri, "not a Parquet file: footer longer than file")
    return length


def metadata_from_footer(uri: str, footer: bytes) -> pq.FileMetaData:
    """The Parquet metadata in a footer (what footer_length measured, nothing before it)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_metadata(pa.BufferReader(b"PAR1" + footer))
    except (pa.ArrowException, OSError) as exc:
        raise StorageError(uri, f"not a readable Parquet footer: {exc}") from None
