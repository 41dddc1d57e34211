"""Storage: the local folder and the in-memory twin behave the same."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from piiscan.errors import NotFoundError, StorageError
from piiscan.storage import LocalStorage, MemoryStorage, Storage, open_lake
from piiscan.storage.s3 import S3Storage


@pytest.fixture(params=["local", "memory"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    yield LocalStorage(tmp_path / "lake") if request.param == "local" else MemoryStorage()


def test_write_read_list_delete(storage: Storage) -> None:
    storage.write_bytes("restricted/a/customer=x/period=2026-10/f.parquet", b"one")
    storage.write_bytes("restricted/a/customer=x/period=2026-09/f.parquet", b"two")
    storage.write_bytes("reports/x/r.json", b"{}")
    assert storage.read_bytes("restricted/a/customer=x/period=2026-10/f.parquet") == b"one"
    assert list(storage.list("restricted/a")) == [
        "restricted/a/customer=x/period=2026-09/f.parquet",
        "restricted/a/customer=x/period=2026-10/f.parquet",
    ]
    assert list(storage.list("restricted/b")) == []
    storage.delete("reports/x/r.json")
    storage.delete("reports/x/r.json")  # deleting twice is fine
    assert not storage.exists("reports/x/r.json")


def test_overwrite_replaces_content(storage: Storage) -> None:
    storage.write_bytes("state/m.json", b"old")
    storage.write_bytes("state/m.json", b"new")
    assert storage.read_bytes("state/m.json") == b"new"


def test_missing_object_raises_not_found(storage: Storage) -> None:
    with pytest.raises(NotFoundError):
        storage.read_bytes("nope")
    with pytest.raises(NotFoundError), storage.local_copy("nope"):
        pass


def test_create_writes_only_when_the_key_is_free(storage: Storage) -> None:
    from concurrent.futures import ThreadPoolExecutor

    assert storage.create("state/locks/a.json", b"first")
    assert not storage.create("state/locks/a.json", b"second")
    assert storage.read_bytes("state/locks/a.json") == b"first"
    with ThreadPoolExecutor(8) as pool:  # racing creators: exactly one wins, whole
        won = list(pool.map(lambda i: storage.create("state/locks/b.json", b"%d" % i), range(32)))
    assert won.count(True) == 1
    assert storage.read_bytes("state/locks/b.json") == b"%d" % won.index(True)
    storage.delete("state/locks/a.json")
    assert storage.create("state/locks/a.json", b"again")
    assert [k for k in storage.list("state/locks")] == ["state/locks/a.json", "state/locks/b.json"]


def test_rewrite_is_a_compare_and_swap(storage: Storage, tmp_path: Path) -> None:
    """Racing rewrites of one planned content (two hosts taking over a stale lock): one wins."""
    import hashlib
    from concurrent.futures import ThreadPoolExecutor

    storage.write_bytes("state/locks/x.json", b"stale")
    planned = hashlib.sha256(b"stale").hexdigest()

    def take(i: int) -> bool:
        source = tmp_path / f"new-{i}"
        source.write_bytes(b"%d" % i)
        try:
            storage.rewrite(source, "state/locks/x.json", planned)
        except StorageError:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(take, range(32)))
    assert won.count(True) == 1
    assert storage.read_bytes("state/locks/x.json") == b"%d" % won.index(True)


def test_create_works_without_hard_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Some network and FUSE filesystems refuse hard links: creation falls back to O_EXCL."""
    import os

    def refused(*args: object, **kwargs: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", refused)
    storage = LocalStorage(tmp_path / "lake")
    assert storage.create("state/locks/a.json", b"one")
    assert not storage.create("state/locks/a.json", b"two")
    assert storage.read_bytes("state/locks/a.json") == b"one"
    assert [p.name for p in (tmp_path / "lake" / "state" / "locks").iterdir()] == ["a.json"]


def test_put_file_moves_a_local_file_in(storage: Storage, tmp_path: Path) -> None:
    source = tmp_path / "part.parquet"
    source.write_bytes(b"data")
    storage.put_file(source, "landing/x/att/part.parquet")
    with storage.local_copy("landing/x/att/part.parquet") as local:
        assert local.read_bytes() == b"data"


def test_list_prefix_is_a_folder_not_a_string_prefix(storage: Storage) -> None:
    storage.write_bytes("landing/acme/f", b"1")
    storage.write_bytes("landing/acme2/f", b"2")
    assert list(storage.list("landing/acme")) == ["landing/acme/f"]


def test_local_write_is_atomic_and_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = LocalStorage(tmp_path)
    storage.write_bytes("a/b.json", b"before")

    def disk_gone(fd: int) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr("piiscan.storage.local.os.fsync", disk_gone)
    with pytest.raises(OSError, match="disk gone"):
        storage.write_bytes("a/b.json", b"after")
    assert storage.read_bytes("a/b.json") == b"before"
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["b.json"]


def test_local_delete_removes_empty_partition_folders(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.write_bytes("restricted/d/customer=x/period=2026-01/a.parquet", b"1")
    storage.write_bytes("restricted/d/customer=x/period=2026-02/b.parquet", b"2")
    storage.delete("restricted/d/customer=x/period=2026-01/a.parquet")
    assert not (tmp_path / "restricted/d/customer=x/period=2026-01").exists()
    assert (tmp_path / "restricted/d/customer=x/period=2026-02").is_dir()


def test_local_keys_cannot_escape_the_root(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="escapes the lake root"):
        LocalStorage(tmp_path / "lake").write_bytes("../outside", b"x")


@pytest.mark.parametrize(
    ("lake", "kind"),
    [("./lake", LocalStorage), ("/tmp/somewhere", LocalStorage), ("s3://bucket/prefix", S3Storage)],
)
def test_open_lake_picks_the_implementation(
    lake: str, kind: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-1")  # building a client needs no network
    assert isinstance(open_lake(lake), kind)


@pytest.mark.parametrize("lake", ["ftp://host/x", "s3://", "gs://bucket/x"])
def test_open_lake_rejects_what_it_cannot_serve(lake: str) -> None:
    with pytest.raises(StorageError):
        open_lake(lake)


def test_rewrite_replaces_only_the_planned_content(storage: Storage, tmp_path: Path) -> None:
    import hashlib

    storage.write_bytes("restricted/a/f.parquet", b"planned")
    stale = tmp_path / "stale"
    stale.write_bytes(b"x")
    with pytest.raises(StorageError, match="changed since it was planned"):
        storage.rewrite(stale, "restricted/a/f.parquet", hashlib.sha256(b"other").hexdigest())
    assert storage.read_bytes("restricted/a/f.parquet") == b"planned"
    new = tmp_path / "new"
    new.write_bytes(b"rewritten")
    storage.rewrite(new, "restricted/a/f.parquet", hashlib.sha256(b"planned").hexdigest())
    assert storage.read_bytes("restricted/a/f.parquet") == b"rewritten" and not new.exists()


def test_a_fingerprint_changes_with_every_write_and_needs_the_object(storage: Storage) -> None:
    storage.write_bytes("analytics/d/customer=x/period=2026-10/f.parquet", b"one")
    first = storage.fingerprint("analytics/d/customer=x/period=2026-10/f.parquet")
    assert first == storage.fingerprint("analytics/d/customer=x/period=2026-10/f.parquet")
    storage.write_bytes("analytics/d/customer=x/period=2026-10/f.parquet", b"two")
    assert storage.fingerprint("analytics/d/customer=x/period=2026-10/f.parquet") != first
    with pytest.raises(NotFoundError):
        storage.fingerprint("analytics/d/customer=x/period=2026-10/gone.parquet")


def parquet_bytes(columns: int, rows: int) -> bytes:
    """A Parquet file of rows rows; many columns make a footer longer than one tail read."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({f"c{n}": list(range(rows)) for n in range(columns)})
    buffer = io.BytesIO()
    pq.write_table(table, buffer, row_group_size=max(rows // 4, 1))
    return buffer.getvalue()


@pytest.mark.parametrize(("columns", "rows"), [(2, 1000), (1500, 40)])
def test_parquet_metadata_comes_from_the_footer(storage: Storage, columns: int, rows: int) -> None:
    from piiscan.storage.base import FOOTER_GUESS, footer_length

    data = parquet_bytes(columns, rows)
    storage.write_bytes("restricted/d/f.parquet", data)
    meta = storage.parquet_metadata("restricted/d/f.parquet")
    assert (meta.num_rows, meta.num_columns, meta.num_row_groups) == (rows, columns, 4)
    assert (footer_length("f", data, len(data)) > FOOTER_GUESS) == (
        columns > 100
    )  # both paths taken


def test_parquet_metadata_names_an_object_that_is_not_parquet(storage: Storage) -> None:
    storage.write_bytes("restricted/d/text.parquet", b"wireless number,minutes\n")
    storage.write_bytes("restricted/d/short.parquet", b"PAR1")
    storage.write_bytes("restricted/d/cut.parquet", parquet_bytes(2, 10)[:-40] + b"\0\0\0\x7fPAR1")
    for name in ("text", "short", "cut"):
        with pytest.raises(StorageError, match=rf"{name}\.parquet.*Parquet") as caught:
            storage.parquet_metadata(f"restricted/d/{name}.parquet")
        assert "wireless" not in str(caught.value)
    with pytest.raises(NotFoundError):
        storage.parquet_metadata("restricted/d/gone.parquet")


def test_a_folder_removed_by_another_writer_between_check_and_create_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`delete` removes the folders it leaves empty; another writer's create in the same folder
    must not fail with a bare FileNotFoundError when that happens between its two steps."""
    from piiscan.storage import local

    storage = LocalStorage(tmp_path)
    made = local._private_folder
    removed: list[Path] = []

    def made_then_removed(folder: Path) -> None:
        made(folder)
        if not removed:  # the other writer's delete takes the empty folder away, once
            folder.rmdir()
            removed.append(folder)

    monkeypatch.setattr(local, "_private_folder", made_then_removed)
    assert storage.create("state/locks/b.json", b"{}")
    assert removed and storage.read_bytes("state/locks/b.json") == b"{}"
    storage.delete("state/locks/b.json")  # the folder goes with its last file
    removed.clear()
    storage.write_bytes("state/locks/c.json", b"{}")
    assert removed and storage.exists("state/locks/c.json")


def test_two_writers_taking_and_releasing_files_in_one_folder_never_fail(tmp_path: Path) -> None:
    """Locks of two customers taken and released at once (two quiet batches): each release may
    remove the emptied state/locks/ folder while the other is creating its file there."""
    import threading

    storage = LocalStorage(tmp_path)
    errors: list[BaseException] = []

    def churn(name: str) -> None:
        try:
            for _ in range(300):
                assert storage.create(f"state/locks/{name}.json", b"{}")
                storage.delete(f"state/locks/{name}.json")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=churn, args=(n,)) for n in ("a", "b", "c")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[:1]
