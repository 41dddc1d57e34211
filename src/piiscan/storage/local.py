"""A lake in a local folder; writes go to a staging file in the same folder, then rename.

Symbolic links are never followed: a key naming a link, or lying under one, is refused for
reading and writing (LinkRefusedError); listing returns a link as an object without descending
into it, and deleting one removes the link, never what it points at. Staging files
(`STAGING_PREFIX`) are listed like any object, so a write killed midway is seen and purged."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from piiscan.errors import LinkRefusedError, NotFoundError, StorageError
from piiscan.storage.base import (
    FOOTER_GUESS,
    STAGING_PREFIX,
    footer_length,
    metadata_from_footer,
)

if TYPE_CHECKING:
    import pyarrow.parquet as pq


def _sha256_fd(fd: int) -> str:
    digest = hashlib.sha256()
    offset = 0
    while chunk := os.pread(fd, 8 << 20, offset):
        digest.update(chunk)
        offset += len(chunk)
    return digest.hexdigest()


def sha256_file(path: Path) -> str | None:
    """Hex SHA-256 of a file's content, None if it does not exist."""
    if not path.is_file():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        return _sha256_fd(fd)
    finally:
        os.close(fd)


@contextmanager
def _locked(path: Path) -> Iterator[int | None]:
    """An open descriptor of the file at path, exclusively flock-ed, that is still the file at
    path (None if there is none): a rename over path while waiting is seen and waited out again.
    Check-then-replace under it is atomic against every other process doing the same."""
    while True:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            yield None
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                current = path.stat().st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                current = False
            if current:
                yield fd
                return
        finally:
            os.close(fd)  # also releases the flock


PRIVATE_FILE = 0o600  # every object may hold personal data: owner only, whatever the umask
PRIVATE_FOLDER = 0o700


def _private_folder(folder: Path) -> None:
    """Create folder and any missing parents, owner only."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):  # created by another writer in between
            path.mkdir(mode=PRIVATE_FOLDER)


T = TypeVar("T")
FOLDER_ATTEMPTS = 20  # a folder another writer keeps emptying and removing: give up after


def _in_folder(folder: Path, make: Callable[[], T]) -> T:
    """make() (which creates a file in folder) after making sure folder exists, again if the
    folder was removed in between: `delete` removes a folder it leaves empty, so another
    process releasing its lock in state/locks/ can remove the folder between our check and our
    create (a bare FileNotFoundError otherwise). A file in the folder keeps it, so one success
    is enough; a FileNotFoundError with another cause is raised after FOLDER_ATTEMPTS tries."""
    for _ in range(FOLDER_ATTEMPTS - 1):
        try:
            _private_folder(folder)  # a parent made here may go too before its child is made
            return make()
        except FileNotFoundError:
            continue  # (is_dir() now would say nothing: another writer may have made it again)
    _private_folder(folder)
    return make()


def _write_synced(fd: int, data: bytes) -> None:
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _create_exclusive(target: Path, data: bytes) -> bool:
    """O_EXCL creation: exclusive too, but a reader may see the file before it is whole."""
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return False
    _write_synced(fd, data)
    return True


class LocalStorage:
    """Storage rooted at a local directory."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        """The key's path, lexically (no link resolved): never outside the root."""
        path = Path(os.path.normpath(self.root / key))
        if path != self.root and self.root not in path.parents:
            raise StorageError(str(path), f"key {key!r} escapes the lake root")
        return path

    def _unlinked(self, path: Path) -> Path:
        """path, if no folder between the root and it is a symbolic link."""
        for parent in path.parents:
            if parent == self.root or self.root not in parent.parents:
                break
            if parent.is_symlink():
                raise LinkRefusedError(str(path))
        return path

    def _real(self, key: str) -> Path:
        """The key's path, refusing a symbolic link at it or above it."""
        path = self._unlinked(self._path(key))
        if path.is_symlink():
            raise LinkRefusedError(str(path))
        return path

    def uri(self, key: str) -> str:
        return str(self._path(key))

    def _open(self, key: str) -> int:
        """A read-only descriptor of the key's file, never through a link."""
        try:
            return os.open(self._real(key), os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            raise NotFoundError(self.uri(key)) from None
        except OSError as exc:
            raise StorageError(self.uri(key), exc.strerror or str(exc)) from exc

    def read_bytes(self, key: str) -> bytes:
        fd = self._open(key)
        try:
            with os.fdopen(fd, "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            raise NotFoundError(self.uri(key)) from None
        except OSError as exc:
            raise StorageError(self.uri(key), exc.strerror or str(exc)) from exc

    def parquet_metadata(self, key: str) -> pq.FileMetaData:
        fd = self._open(key)
        try:
            size = os.fstat(fd).st_size
            tail = os.pread(fd, min(size, FOOTER_GUESS), max(size - FOOTER_GUESS, 0))
            length = footer_length(self.uri(key), tail, size)
            if length > len(tail):
                tail = os.pread(fd, length, size - length)
        except OSError as exc:
            raise StorageError(self.uri(key), exc.strerror or str(exc)) from exc
        finally:
            os.close(fd)
        return metadata_from_footer(self.uri(key), tail[-length:])

    def _staged(self, key: str, data: bytes) -> tuple[Path, Path]:
        """The key's path, and a synced temporary file beside it holding data."""
        target = self._unlinked(self._path(key))
        fd, tmp = _in_folder(
            target.parent, lambda: tempfile.mkstemp(dir=target.parent, prefix=STAGING_PREFIX)
        )
        try:
            _write_synced(fd, data)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target, Path(tmp)

    def write_bytes(self, key: str, data: bytes) -> None:
        target, tmp = self._staged(key, data)
        try:
            tmp.replace(target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def create(self, key: str, data: bytes) -> bool:
        target, tmp = self._staged(key, data)
        try:
            os.link(tmp, target)  # fails if target exists: the complete file or nothing
        except FileExistsError:
            return False
        except OSError:  # a filesystem without hard links (some network and FUSE mounts)
            return _create_exclusive(target, data)
        finally:
            tmp.unlink(missing_ok=True)
        return True

    def put_file(self, source: Path, key: str) -> None:
        target = self._unlinked(self._path(key))
        try:
            source.chmod(PRIVATE_FILE)
            _in_folder(target.parent, lambda: source.replace(target))
        except OSError:
            # Different filesystem: copy next to the target first so the final step is a rename.
            fd, tmp = _in_folder(
                target.parent, lambda: tempfile.mkstemp(dir=target.parent, prefix=STAGING_PREFIX)
            )
            os.close(fd)
            try:
                shutil.copyfile(source, tmp)
                Path(tmp).replace(target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            source.unlink(missing_ok=True)

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        path = self._real(key)
        if not path.is_file():
            raise NotFoundError(str(path))
        yield path

    def fingerprint(self, key: str) -> str:
        path = self._real(key)
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise NotFoundError(str(path)) from None
        return f"{stat.st_size}-{stat.st_mtime_ns}-{stat.st_ino}"

    def exists(self, key: str) -> bool:
        path = self._path(key)
        try:
            self._unlinked(path)
        except LinkRefusedError:
            return False  # what lies under a link is not in the lake
        return path.is_symlink() or path.is_file()

    def list(self, prefix: str) -> Iterator[str]:
        base = self._path(prefix)
        try:
            self._unlinked(base)
        except LinkRefusedError:
            return iter(())
        if base.is_symlink() or not base.is_dir():
            return iter(())
        found = []
        for folder, subfolders, files in os.walk(base):  # never descends into a link
            links = [d for d in subfolders if (Path(folder) / d).is_symlink()]
            for name in (*files, *links):
                found.append((Path(folder) / name).relative_to(self.root).as_posix())
        return iter(sorted(found))

    def rewrite(self, source: Path, key: str, expected_sha256: str) -> None:
        with _locked(self._real(key)) as fd:
            if fd is None or _sha256_fd(fd) != expected_sha256:
                raise StorageError(self.uri(key), "rewrite refused: changed since it was planned")
            self.put_file(source, key)

    def delete(self, key: str) -> None:
        path = self._unlinked(self._path(key))
        path.unlink(missing_ok=True)  # a link: the link goes, never what it points at
        # Empty partition folders would read as a partition with no files: remove them too.
        for parent in path.parents:
            if parent == self.root or self.root not in parent.parents:
                break
            try:
                parent.rmdir()
            except OSError:
                break
