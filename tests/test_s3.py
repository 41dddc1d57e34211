"""The lake on real S3: SeaweedFS started by the tests, buckets with versioning on.

Storage behaviour first (reads, multipart writes, paginated listing, errors), then true deletion
and Find-and-Forget rewrites on versioned buckets, then the pipeline itself: the nightly flow, a
purge and a termination with the lake on S3, checked with list_object_versions.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from piiscan.cli import app
from piiscan.errors import NotFoundError, StorageError
from piiscan.storage import open_lake
from piiscan.storage.s3 import S3Storage
from piiscan.testing.stage import stage_fixtures

from .conftest import CONFIGS
from .pii_values import raw_values

pytestmark = pytest.mark.integration


def _bucket(seaweed: Any, versioned: bool = True) -> str:
    return seaweed.create_bucket(f"lake-{uuid.uuid4().hex[:12]}", versioned=versioned)


def _all_versions(seaweed: Any, bucket: str, prefix: str = "") -> list[dict[str, Any]]:
    """Every version and delete marker under prefix, straight from the server."""
    found: list[dict[str, Any]] = []
    pages = seaweed.client().get_paginator("list_object_versions")
    for page in pages.paginate(Bucket=bucket, Prefix=prefix):
        found += [{**v, "marker": False} for v in page.get("Versions", [])]
        found += [{**v, "marker": True} for v in page.get("DeleteMarkers", [])]
    return found


def test_reads_writes_lists_and_errors(seaweed: Any, tmp_path: Path) -> None:
    bucket = _bucket(seaweed)
    storage = S3Storage(f"s3://{bucket}/lake", page_size=3)
    assert isinstance(open_lake(f"s3://{bucket}/lake"), S3Storage)
    for i in range(8):
        storage.write_bytes(f"reports/acme/r{i}.json", f"{i}".encode())
    storage.write_bytes("reports/acmex/other.json", b"not under reports/acme/")
    listed = list(storage.list("reports/acme"))
    assert listed == [f"reports/acme/r{i}.json" for i in range(8)]  # 3 pages of 3
    assert storage.read_bytes("reports/acme/r5.json") == b"5"
    assert storage.exists("reports/acme/r0.json") and not storage.exists("reports/acme/r9.json")
    assert storage.uri("reports/acme/r1.json") == f"s3://{bucket}/lake/reports/acme/r1.json"
    with pytest.raises(NotFoundError) as missing:
        storage.read_bytes("reports/acme/none.json")
    assert str(missing.value) == f"s3://{bucket}/lake/reports/acme/none.json: not found"
    with pytest.raises(StorageError, match="escapes"):
        storage.read_bytes("../other-lake/x")
    storage.delete("reports/acme/never-written.json")  # a missing key is not an error

    os.environ["PIISCAN_S3_MULTIPART_MB"] = "5"
    try:
        big = S3Storage(f"s3://{bucket}/lake")
        source = tmp_path / "big.parquet"
        payload = os.urandom(13 * 1024 * 1024)
        source.write_bytes(payload)
        big.put_file(source, "restricted/x/big.parquet")
    finally:
        del os.environ["PIISCAN_S3_MULTIPART_MB"]
    assert not source.exists()  # put_file moves, as on a local lake
    head = seaweed.client().head_object(Bucket=bucket, Key="lake/restricted/x/big.parquet")
    assert head["ETag"].strip('"').endswith("-3")  # uploaded in parts
    with big.local_copy("restricted/x/big.parquet") as local:
        assert hashlib.sha256(local.read_bytes()).digest() == hashlib.sha256(payload).digest()


def test_a_fingerprint_is_the_objects_etag_and_size(seaweed: Any) -> None:
    storage = S3Storage(f"s3://{_bucket(seaweed)}/lake")
    storage.write_bytes("analytics/d/f.parquet", b"one")
    first = storage.fingerprint("analytics/d/f.parquet")
    assert first == storage.fingerprint("analytics/d/f.parquet") and first.endswith("-3")
    storage.write_bytes("analytics/d/f.parquet", b"other")
    assert storage.fingerprint("analytics/d/f.parquet") != first
    with pytest.raises(NotFoundError):
        storage.fingerprint("analytics/d/gone.parquet")


def test_parquet_metadata_reads_only_the_footer(seaweed: Any) -> None:
    from .test_storage import parquet_bytes

    storage = S3Storage(f"s3://{_bucket(seaweed)}/lake")
    small, wide = parquet_bytes(3, 200_000), parquet_bytes(1500, 40)
    storage.write_bytes("restricted/d/small.parquet", small)
    storage.write_bytes("restricted/d/wide.parquet", wide)
    fetched: list[tuple[str, int]] = []
    get_object = storage.client.get_object

    def counting(**kwargs: Any) -> Any:
        reply = get_object(**kwargs)
        body = reply["Body"].read()
        fetched.append((kwargs.get("Range", ""), len(body)))
        reply["Body"] = type("Body", (), {"read": lambda self: body})()
        return reply

    storage.client.get_object = counting  # type: ignore[method-assign]
    assert storage.parquet_metadata("restricted/d/small.parquet").num_rows == 200_000
    assert len(fetched) == 1 and fetched[0][0].startswith("bytes=-") and fetched[0][1] < len(small)
    fetched.clear()
    assert storage.parquet_metadata("restricted/d/wide.parquet").num_columns == 1500
    assert [r for r, _ in fetched][1] == f"bytes=-{sum(n for _, n in fetched[1:])}"  # the footer
    storage.write_bytes("restricted/d/text.parquet", b"not parquet")
    with pytest.raises(StorageError, match=r"text\.parquet: not a Parquet file"):
        storage.parquet_metadata("restricted/d/text.parquet")
    with pytest.raises(NotFoundError):
        storage.parquet_metadata("restricted/d/gone.parquet")


def test_the_customer_lock_is_a_conditional_create(seaweed: Any) -> None:
    """Two hosts starting a run for one customer at once: the server lets exactly one create
    the lock object (If-None-Match), and a stale lock is taken over only as it was read."""
    from concurrent.futures import ThreadPoolExecutor

    from piiscan.errors import PurgeError
    from piiscan.lake.locks import customer_lock

    bucket = _bucket(seaweed)
    storage = S3Storage(f"s3://{bucket}/lake")
    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(lambda i: storage.create("state/x.json", b"%d" % i), range(16)))
    assert won.count(True) == 1
    assert storage.read_bytes("state/x.json") == b"%d" % won.index(True)
    storage.write_bytes(
        "state/locks/acme.json",
        json.dumps({"owner": "other-host:1", "since": "2026-11-28T08:00:00+00:00"}).encode(),
    )
    now = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    fresh = pytest.raises(PurgeError, match="locked by other-host:1")  # another host's
    with fresh, customer_lock(storage, "acme", now):
        pass
    with customer_lock(storage, "acme", now + timedelta(days=2)):  # stale: taken over
        held = json.loads(storage.read_bytes("state/locks/acme.json"))
        assert held["owner"].endswith(f":{os.getpid()}")
        assert [v["marker"] for v in _all_versions(seaweed, bucket, "lake/state/locks/")] == [
            False
        ]  # the stale lock's version went with the takeover
    assert not storage.exists("state/locks/acme.json")
    assert _all_versions(seaweed, bucket, "lake/state/locks/") == []


def test_delete_removes_every_version_and_marker(seaweed: Any) -> None:
    bucket = _bucket(seaweed)
    storage = S3Storage(f"s3://{bucket}/lake")
    for i in range(3):
        storage.write_bytes("landing/acme/att/bill.csv", f"version {i}".encode())
    storage.write_bytes("landing/acme/att/bill.csv.keep", b"a neighbour with the same prefix")
    seaweed.client().delete_object(Bucket=bucket, Key="lake/landing/acme/att/bill.csv")
    before = [
        v
        for v in _all_versions(seaweed, bucket, "lake/landing/acme/att/bill.csv")
        if v["Key"] == "lake/landing/acme/att/bill.csv"
    ]
    assert sum(v["marker"] for v in before) == 1 and len(before) == 4  # data is still there
    storage.delete("landing/acme/att/bill.csv")
    left = _all_versions(seaweed, bucket, "lake/landing/acme/att/")
    assert [v["Key"] for v in left] == ["lake/landing/acme/att/bill.csv.keep"]

    plain = S3Storage(f"s3://{_bucket(seaweed, versioned=False)}/lake")
    plain.write_bytes("a/b", b"1")
    plain.delete("a/b")
    assert not plain.exists("a/b") and plain.versioned() is False


def test_rewrite_forgets_older_versions_and_refuses_stale_content(
    seaweed: Any, tmp_path: Path
) -> None:
    bucket = _bucket(seaweed)
    storage = S3Storage(f"s3://{bucket}/lake")
    key = "restricted/usage_events/customer=acme/period=2024-01/f.parquet"
    storage.write_bytes(key, b"rows of 2023")
    storage.write_bytes(key, b"rows of 2024, some due")
    planned = hashlib.sha256(b"rows of 2024, some due").hexdigest()
    stale = tmp_path / "stale.parquet"
    stale.write_bytes(b"x")
    with pytest.raises(StorageError, match="changed since it was planned"):
        storage.rewrite(stale, key, hashlib.sha256(b"rows of 2023").hexdigest())
    new = tmp_path / "new.parquet"
    new.write_bytes(b"rows kept")
    storage.rewrite(new, key, planned)
    versions = _all_versions(seaweed, bucket, f"lake/{key}")
    assert len(versions) == 1 and storage.read_bytes(key) == b"rows kept"


def test_rewrite_backs_off_when_another_writer_comes_between(seaweed: Any, tmp_path: Path) -> None:
    bucket = _bucket(seaweed)
    storage = S3Storage(f"s3://{bucket}/lake")
    key = "restricted/devices/customer=acme/period=2026-10/f.parquet"
    storage.write_bytes(key, b"planned content")
    planned = hashlib.sha256(b"planned content").hexdigest()
    real_put = storage.client.put_object

    def other_writer_first(**kwargs: Any) -> Any:
        real_put(Bucket=kwargs["Bucket"], Key=kwargs["Key"], Body=b"another writer's content")
        return real_put(**kwargs)

    storage.client.put_object = other_writer_first  # the conditional write must notice
    source = tmp_path / "mine.parquet"
    source.write_bytes(b"my rewrite")
    with pytest.raises(StorageError, match="another writer"):
        storage.rewrite(source, key, planned)
    assert storage.read_bytes(key) == b"another writer's content"

    def server_ignoring_if_match(**kwargs: Any) -> Any:
        kwargs.pop("IfMatch", None)
        return other_writer_first(**kwargs)

    storage.write_bytes(key, b"planned content")
    storage.client.put_object = server_ignoring_if_match  # the version check must notice
    with pytest.raises(StorageError, match="rolled back"):
        storage.rewrite(source, key, planned)
    assert storage.read_bytes(key) == b"another writer's content"
    assert b"my rewrite" not in [
        seaweed.client()
        .get_object(Bucket=bucket, Key=f"lake/{key}", VersionId=v["VersionId"])["Body"]
        .read()
        for v in _all_versions(seaweed, bucket, f"lake/{key}")
        if not v["marker"]
    ]


def _nightly(lake: str) -> dict[str, Any]:
    from flows.nightly import nightly

    state = nightly(lake=lake, config_dir=str(CONFIGS), return_state=True)
    assert state.is_completed(), state
    result: dict[str, Any] = state.result()
    return result


def test_nightly_purge_and_termination_on_a_versioned_bucket(
    seaweed: Any, fixture_tree: Path, tmp_path: Path
) -> None:
    bucket = _bucket(seaweed)
    lake = f"s3://{bucket}/lake"
    storage = open_lake(lake)
    stage_fixtures(storage, fixture_tree)
    result = _nightly(lake)
    assert set(result["customers"]) == {"acme", "globex", "initech"} and not result["failed"]
    acme = result["customers"]["acme"]
    assert acme["files_quarantined"] == 8 and acme["report"].startswith(f"s3://{bucket}/lake/")
    report = json.loads(storage.read_bytes(acme["report"].removeprefix(f"s3://{bucket}/lake/")))
    moved = {f["file"] for f in report["ingest"]["files"] if f["status"] == "quarantined"}
    assert len(moved) == 8
    assert {k.rsplit("/", 1)[-1] for k in storage.list("quarantine/acme")} >= moved
    landing = _all_versions(seaweed, bucket, "lake/landing/acme/")
    assert landing and not [v for v in landing if v["Key"].rsplit("/", 1)[-1] in moved]

    # Analysts read the zones with polars through the same boto3 settings.
    assert isinstance(storage, S3Storage)
    usage = pl.scan_parquet(
        f"s3://{bucket}/lake/analytics/usage_events/**/*.parquet",
        hive_partitioning=True,
        storage_options=storage.storage_options(),
    ).collect()
    assert usage.height == sum(s["rows"]["usage_events"] for s in result["customers"].values())
    assert usage["wireless_number"].str.starts_with("k1-").all()

    runner = CliRunner()
    scanned = runner.invoke(app, ["scan", "--lake", lake, "--json", "--config", str(CONFIGS)])
    assert scanned.exit_code == 0, scanned.output
    entries = {f["dataset"]: f for f in json.loads(scanned.output)["files"]}
    assert set(entries) == {"charge_items", "devices", "invoice_lines", "usage_events"}
    assert entries["devices"]["path"] == f"s3://{bucket}/lake/restricted/devices"
    devices = {c["name"]: c["entity"] for c in entries["devices"]["columns"]}
    assert devices["imei"] == "IMEI" and devices["email"] == "EMAIL_ADDRESS"

    purged = runner.invoke(
        app,
        [
            "purge",
            "--customer",
            "acme",
            "--as-of",
            "2033-06-01",
            "--allow-future",
            "--apply",
            "--json",
            "--lake",
            lake,
            "--config",
            str(CONFIGS),
        ],
    )
    assert purged.exit_code == 0, purged.output
    assert json.loads(purged.output)["plan"]["rows_deleted"] > 0
    for version in _all_versions(seaweed, bucket, "lake/restricted/"):
        key = version["Key"]
        if "customer=acme" in key:  # rewritten or dropped files: no older version survives
            assert not version["marker"] and version["IsLatest"], key

    values_before = raw_values_s3(storage, tmp_path / "before", "initech")
    keys = tmp_path / "keys"  # termination deletes the key file: use a copy of the session's
    keys.mkdir()
    session_key = Path(os.environ["PIISCAN_KEYS_DIR"]) / "initech.json"
    (keys / "initech.json").write_bytes(session_key.read_bytes())
    terminated = runner.invoke(
        app,
        [
            "terminate",
            "--customer",
            "initech",
            "--effective",
            "2026-12-31",
            "--apply",
            "--json",
            "--lake",
            lake,
            "--config",
            str(CONFIGS),
            "--keys",
            str(keys),
        ],
        env={"PIISCAN_NOW": "2026-12-31T09:00:00Z"},  # on the day: before it, only scheduled
    )
    assert terminated.exit_code == 0, terminated.output
    certificate = json.loads(terminated.output)
    remaining = sum(certificate["certificate"]["rows_remaining_under_hold"].values())
    versions = [
        v
        for v in _all_versions(seaweed, bucket, "lake/")
        if "initech" in v["Key"]
        and not v["Key"].startswith(("lake/ledger/", "lake/certificates/", "lake/state/"))
    ]
    assert all(not v["marker"] and v["IsLatest"] for v in versions), "an older version survived"
    kept = [v["Key"] for v in versions]
    assert all(k.startswith(("lake/restricted/", "lake/analytics/")) for k in kept), kept
    restricted = [k for k in kept if k.startswith("lake/restricted/")]
    held_rows = sum(
        pl.read_parquet(storage.read_bytes(k.removeprefix("lake/"))).height for k in restricted
    )
    assert held_rows == remaining  # what remains is exactly what the holds keep
    values_after = raw_values_s3(storage, tmp_path / "after", "initech")
    raw_after = {v for v in values_after if not v.startswith("k1-")}  # held rows are tokenized
    assert raw_after < values_before and len(raw_after) < len(values_before) / 2


def raw_values_s3(storage: Any, folder: Path, customer: str) -> set[str]:
    """raw_values of one customer's restricted zone on S3, via a local copy."""
    for key in storage.list("restricted"):
        if f"customer={customer}" in key:
            target = folder / key
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(storage.read_bytes(key))
    return raw_values(folder) if (folder / "restricted").exists() else set()


def test_a_storage_outage_fails_clearly_and_a_rerun_completes(
    tmp_path: Path, fixture_tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SeaweedFS stops in the middle of an ingest: the run fails with a storage error, every
    object that exists is whole, and after a restart the rerun lands everything."""
    from piiscan.pipeline.ingest import ingest_landing
    from piiscan.policy import load_config

    from .seaweed import SeaweedFS

    server = SeaweedFS(tmp_path / "seaweed")
    server.start()
    for name, value in server.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("PIISCAN_S3_CONNECT_TIMEOUT", "1")
    try:
        bucket = server.create_bucket("outage-lake")
        lake = f"s3://{bucket}/lake"
        storage = open_lake(lake)
        stage_fixtures(storage, fixture_tree)
        config = load_config(CONFIGS)
        assert isinstance(storage, S3Storage)
        real_upload = storage.client.upload_file
        uploads = []

        def stop_after_three(*args: Any, **kwargs: Any) -> Any:
            if len(uploads) == 3:
                server.stop()  # the server goes away in the middle of the run
            uploads.append(args[2])
            return real_upload(*args, **kwargs)

        storage.client.upload_file = stop_after_three
        with pytest.raises(StorageError) as failed:
            ingest_landing(storage, config.customer("acme"), "20261128T020000Z-aaaaaa")
        assert failed.value.transient and "S3 endpoint unavailable" in str(failed.value)
        assert failed.value.uri.startswith(f"s3://{bucket}/lake/")

        server.start()
        again = open_lake(lake)
        for key in again.list("restricted"):  # whatever landed is whole
            assert pl.read_parquet(again.read_bytes(key)).height > 0
        rerun = ingest_landing(again, config.customer("acme"), "20261128T030000Z-bbbbbb")
        assert rerun.count("ingested") > 0
        assert _rows(again, "acme") == _rows(_local_lake(fixture_tree, tmp_path, config), "acme")
    finally:
        server.stop()


def _rows(storage: Any, customer: str) -> dict[str, int]:
    """Rows per dataset in a customer's restricted zone."""
    totals: dict[str, int] = {}
    for key in storage.list("restricted"):
        if f"customer={customer}" in key:
            dataset = key.split("/")[1]
            totals[dataset] = (
                totals.get(dataset, 0) + pl.read_parquet(storage.read_bytes(key)).height
            )
    return totals


def _local_lake(fixture_tree: Path, tmp_path: Path, config: Any) -> Any:
    """The same landing files ingested into a local lake without interruption: the oracle."""
    from piiscan.pipeline.ingest import ingest_landing
    from piiscan.storage import LocalStorage

    local = LocalStorage(tmp_path / "local-lake")
    stage_fixtures(local, fixture_tree)
    ingest_landing(local, config.customer("acme"), "20261128T020000Z-cccccc")
    return local


def test_versions_helper_sees_what_the_server_holds(seaweed: Any) -> None:
    bucket = _bucket(seaweed)
    storage = S3Storage(f"s3://{bucket}/lake")
    storage.write_bytes("state/x.json", b"1")
    storage.write_bytes("state/x.json", b"2")
    assert [v["IsLatest"] for v in storage.versions("state/x.json")] == [True, False]
    assert storage.versions("state/none.json") == []
    assert date.today().year >= 2026
