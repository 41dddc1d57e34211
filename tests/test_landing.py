"""Landing integrity, concurrent writers and re-deliveries (issue 17, items 4-6): links are never
followed, another customer's paths and carriers are refused, staging and `.tmp` objects are listed
and purged, manifest updates survive concurrent writers, the customer lock guards every writing
command, and a re-sent invoice supersedes the rows it replaces."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from piiscan.cli import app
from piiscan.cli.app import EXIT_LOCKED
from piiscan.errors import LinkRefusedError, PiiscanError
from piiscan.lake import keys, ledger
from piiscan.lake.manifest import load_manifest, update_manifest
from piiscan.pipeline.ingest import collect_files, deliver, ingest_landing, ingest_paths
from piiscan.pipeline.pseudonymize import pseudonymize_dataset
from piiscan.pipeline.purge import apply_purge, plan_purge
from piiscan.policy import Config
from piiscan.pseudonymize import Key
from piiscan.storage import LocalStorage, MemoryStorage, Storage
from piiscan.storage.base import STAGING_PREFIX

from .conftest import CONFIGS, REPO

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
KEY = Key("acme", "k1", b"0123456789abcdef0123456789abcdef")
HEADER = "carrier,account_number,invoice_number,bill_cycle_date,wireless_number,user_name,charge"
runner = CliRunner()


@pytest.fixture(params=["local", "memory"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    yield LocalStorage(tmp_path / "lake") if request.param == "local" else MemoryStorage()


def _run(n: int) -> str:
    return f"20261128T0900{n:02d}Z-abcdef"


def _invoice(path: Path, rows: list[tuple[str, str, str, str, str]], eol: str = "\n") -> Path:
    """A generic invoice_lines CSV: (account, invoice, bill cycle, number, charge) per row."""
    lines = [HEADER] + [f"verizon,{a},{i},{c},{n},Pat Doe,{charge}" for a, i, c, n, charge in rows]
    path.write_bytes((eol.join(lines) + eol).encode())
    return path


def _zone(storage: Storage, zone: str, dataset: str = "invoice_lines") -> pl.DataFrame:
    files = [
        k
        for k in storage.list(keys.dataset_folder(zone, dataset, "acme"))
        if keys.parse_partition_file(k) is not None
    ]
    if not files:
        return pl.DataFrame()
    return pl.concat([pl.read_parquet(storage.read_bytes(k)) for k in files])


def _totals(frame: pl.DataFrame) -> dict[tuple[str, date], Decimal]:
    """Sum of charge per line and bill cycle."""
    sums = frame.group_by("wireless_number", "bill_cycle_date").agg(pl.col("charge").sum())
    return {(n, c): s for n, c, s in sums.iter_rows()}


# --- symbolic links --------------------------------------------------------------------------


def test_a_landing_link_to_another_customers_file_is_quarantined_unread(
    tmp_path: Path, config: Config
) -> None:
    lake = LocalStorage(tmp_path / "lake")
    theirs = deliver(
        lake, "globex", "att", _invoice(tmp_path / "invoice_lines_g.csv", [_row("G1", "5.00")])
    )
    link = tmp_path / "lake/landing/acme/verizon/invoice_lines_g.csv"
    link.parent.mkdir(parents=True)
    link.symlink_to(tmp_path / "lake" / theirs)
    assert list(lake.list("landing/acme")) == ["landing/acme/verizon/invoice_lines_g.csv"]
    with pytest.raises(LinkRefusedError):
        lake.read_bytes("landing/acme/verizon/invoice_lines_g.csv")

    summary = ingest_landing(lake, config.customer("acme"), _run(1))

    [result] = summary.files
    assert (result.status, result.reason_code) == ("quarantined", "symlink")
    assert _zone(lake, "restricted").is_empty()  # none of globex's rows filed as acme's
    assert not link.is_symlink() and lake.exists(theirs)  # the link went, not globex's file
    reason = json.loads(lake.read_bytes(result.quarantine_key or ""))
    assert reason["code"] == "symlink" and reason["checksum"] is None
    assert [k for k in lake.list("quarantine/acme") if not k.endswith(".reason.json")] == []


def _row(invoice: str, charge: str, number: str = "2125550101") -> tuple[str, ...]:
    return ("A1", invoice, "2026-10-15", number, charge)


def test_local_storage_never_follows_a_link(tmp_path: Path) -> None:
    lake = LocalStorage(tmp_path / "lake")
    lake.write_bytes("landing/globex/att/f.csv", b"theirs")
    (tmp_path / "lake/landing/acme").mkdir(parents=True)
    (tmp_path / "lake/landing/acme/att").symlink_to(tmp_path / "lake/landing/globex/att")
    (tmp_path / "outside").write_bytes(b"secret")
    (tmp_path / "lake/landing/acme/out.csv").symlink_to(tmp_path / "outside")

    # A linked folder is one object: not descended into; under it nothing exists.
    assert list(lake.list("landing/acme")) == ["landing/acme/att", "landing/acme/out.csv"]
    assert not lake.exists("landing/acme/att/f.csv")
    for key in ("landing/acme/out.csv", "landing/acme/att/f.csv"):
        with pytest.raises(LinkRefusedError):
            lake.read_bytes(key)
        with pytest.raises(LinkRefusedError), lake.local_copy(key):
            pass
    with pytest.raises(LinkRefusedError):
        lake.write_bytes("landing/acme/att/new.csv", b"x")
    lake.delete("landing/acme/out.csv")
    lake.delete("landing/acme/att")
    assert (tmp_path / "outside").read_bytes() == b"secret"
    assert lake.read_bytes("landing/globex/att/f.csv") == b"theirs"
    assert list(lake.list("landing/acme")) == []


def test_a_link_in_a_delivery_folder_is_refused_unread(tmp_path: Path, config: Config) -> None:
    lake = LocalStorage(tmp_path / "lake")
    folder = tmp_path / "delivery"
    folder.mkdir()
    _invoice(folder / "invoice_lines_a.csv", [_row("INV-1", "10.00")])
    (folder / "invoice_lines_b.csv").symlink_to(
        _invoice(tmp_path / "invoice_lines_theirs.csv", [_row("INV-2", "99.00", "2125550199")])
    )
    files = collect_files([folder])
    summary = ingest_paths(lake, config.customer("acme"), files, _run(1))
    outcome = {f.file: (f.status, f.reason_code) for f in summary.files}
    assert outcome == {
        "invoice_lines_a.csv": ("ingested", None),
        "invoice_lines_b.csv": ("quarantined", "symlink"),
    }
    assert _zone(lake, "restricted")["wireless_number"].to_list() == ["2125550101"]


# --- another customer's paths, carriers without a contract -----------------------------------


def test_ingest_refuses_another_customers_landing_folder(tmp_path: Path, config: Config) -> None:
    lake = LocalStorage(tmp_path / "lake")
    deliver(lake, "globex", "att", _invoice(tmp_path / "invoice_lines_g.csv", [_row("G", "5")]))
    theirs = tmp_path / "lake/landing/globex"
    with pytest.raises(PiiscanError, match="globex's landing folder: refused"):
        ingest_paths(lake, config.customer("acme"), collect_files([theirs]), _run(1))
    assert load_manifest(lake, "acme") == {} and _zone(lake, "restricted").is_empty()

    result = runner.invoke(
        app,
        ["ingest", str(theirs), "-c", "acme", "--lake", str(tmp_path / "lake")],
        env={"PIISCAN_CONFIG": str(CONFIGS)},
    )
    assert result.exit_code == 2 and "refused" in result.output


def test_the_customers_own_landing_files_are_ingested_in_place(
    tmp_path: Path, config: Config
) -> None:
    lake = LocalStorage(tmp_path / "lake")
    key = deliver(
        lake, "acme", "generic", _invoice(tmp_path / "invoice_lines_a.csv", [_row("I", "1")])
    )
    summary = ingest_paths(lake, config.customer("acme"), [tmp_path / "lake" / key], _run(1))
    assert summary.files[0].status == "ingested"
    assert list(lake.list("landing/acme")) == [key]  # not copied beside itself


def test_a_file_of_a_carrier_without_a_contract_is_quarantined(
    storage: Storage, fixture_tree: Path, config: Config
) -> None:
    tmobile = sorted((fixture_tree / "globex" / "tmobile").iterdir())[0]
    summary = ingest_paths(storage, config.customer("acme"), [tmobile], _run(1))  # no T-Mobile
    [result] = summary.files
    assert (result.status, result.reason_code) == ("quarantined", "carrier_not_contracted")
    assert "tmobile" in (result.reason or "") and "acme" in (result.reason or "")
    assert not any(storage.list("restricted")) and not any(storage.list("landing"))
    assert storage.exists(keys.quarantine("acme", _run(1), tmobile.name))


# --- staging and .tmp objects ----------------------------------------------------------------


def _stage_leftover(storage: Storage, tmp_path: Path) -> str:
    """What a write killed midway leaves beside its key."""
    key = f"landing/acme/verizon/{STAGING_PREFIX}k1ll3d"
    if isinstance(storage, LocalStorage):
        path = tmp_path / "lake" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"carrier,account_number\nverizon,A1\n")  # half a delivered file
    else:
        storage.write_bytes(key, b"carrier,account_number\nverizon,A1\n")
    return key


def test_staging_and_tmp_objects_are_listed(storage: Storage, tmp_path: Path) -> None:
    leftover = _stage_leftover(storage, tmp_path)
    storage.write_bytes("landing/acme/verizon/x.csv.tmp", b"a carrier file named .tmp")
    storage.write_bytes("restricted/invoice_lines/customer=acme/period=2026-10/a.parquet", b"p")
    assert list(storage.list("landing/acme")) == [leftover, "landing/acme/verizon/x.csv.tmp"]
    assert keys.is_staging(leftover) and not keys.is_staging("landing/acme/verizon/x.csv.tmp")
    # Writes stage under the listed prefix and leave nothing behind once done.
    assert list(storage.list("restricted/invoice_lines")) == [
        "restricted/invoice_lines/customer=acme/period=2026-10/a.parquet"
    ]


@pytest.mark.integration
def test_s3_lists_tmp_and_staging_objects_like_the_others(seaweed: Any, tmp_path: Path) -> None:
    from piiscan.storage.s3 import S3Storage

    bucket = seaweed.create_bucket("lake-landing-listing", versioned=False)
    lakes: list[Storage] = [S3Storage(f"s3://{bucket}/lake"), LocalStorage(tmp_path / "l")]
    lakes.append(MemoryStorage())
    names = ["landing/acme/verizon/x.csv.tmp", f"landing/acme/verizon/{STAGING_PREFIX}abc"]
    listings = []
    for lake in lakes:
        for name in names:
            lake.write_bytes(name, b"x")
        listings.append(list(lake.list("landing/acme")))
    assert listings == [sorted(names)] * 3


def test_termination_deletes_staging_and_tmp_objects(
    storage: Storage, tmp_path: Path, config: Config
) -> None:
    ingest_paths(
        storage,
        config.customer("acme"),
        [_invoice(tmp_path / "invoice_lines_a.csv", [_row("INV-1", "10.00")])],
        _run(1),
    )
    leftover = _stage_leftover(storage, tmp_path)
    storage.write_bytes("landing/acme/verizon/x.csv.tmp", b"115 raw rows")
    zone_leftover = f"restricted/invoice_lines/customer=acme/period=2026-10/{STAGING_PREFIX}z"
    storage.write_bytes(zone_leftover, b"rows of a killed rewrite")

    seen = {
        f.file: f.status for f in ingest_landing(storage, config.customer("acme"), _run(2)).files
    }
    assert seen == {"invoice_lines_a.csv": "skipped", "x.csv.tmp": "quarantined"}  # not leftover
    plan = plan_purge(
        storage, config, "acme", date(2026, 11, 28), KEY, terminated=date(2026, 11, 1)
    )
    assert {leftover, zone_leftover} <= set(plan.other_keys)
    entry = apply_purge(storage, config, plan, KEY, NOW, kind="terminate")
    removed = {o["key"] for o in entry["other_objects_removed"]}
    assert {leftover, zone_leftover} <= removed
    assert list(storage.list("landing/acme")) == []
    assert not storage.exists(zone_leftover)


def test_a_purge_leaves_no_staging_object_it_did_not_find_due(
    storage: Storage, tmp_path: Path, config: Config
) -> None:
    leftover = _stage_leftover(storage, tmp_path)
    plan = plan_purge(storage, config, "acme", date(2026, 11, 28), KEY)
    assert leftover in plan.other_keys  # a killed write: partial personal data, due at once
    assert ingest_landing(storage, config.customer("acme"), _run(1)).files == ()  # never read


# --- concurrency -----------------------------------------------------------------------------


def test_manifest_updates_are_compare_and_swap(storage: Storage) -> None:
    raced = []

    def add_mine(manifest: dict[str, Any]) -> None:
        if not raced:  # another writer lands its entry between our read and our write
            raced.append(True)
            update_manifest(storage, "acme", lambda m: m.update({"theirs": {"file": "b"}}))
        manifest["mine"] = {"file": "a"}

    update_manifest(storage, "acme", lambda m: m.update({"first": {"file": "0"}}))
    written = update_manifest(storage, "acme", add_mine)
    assert set(written) == set(load_manifest(storage, "acme")) == {"first", "theirs", "mine"}


def test_concurrent_ingests_keep_every_manifest_entry(tmp_path: Path, config: Config) -> None:
    lake = LocalStorage(tmp_path / "lake")
    batches = [
        [
            _invoice(
                tmp_path / f"invoice_lines_{w}{i}.csv", [_row(f"I{w}{i}", "1", f"21255501{w}{i}")]
            )
            for i in range(3)
        ]
        for w in range(3)
    ]
    threads = [
        threading.Thread(target=ingest_paths, args=(lake, config.customer("acme"), b, _run(w)))
        for w, b in enumerate(batches)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(e["file"] for e in load_manifest(lake, "acme").values()) == sorted(
        p.name for b in batches for p in b
    )


def _piiscan(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "piiscan.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )


def test_two_ingest_processes_of_one_customer_land_every_file(tmp_path: Path) -> None:
    """Started together: the one that finds the lock taken exits 75 saying so, changing
    nothing; its retry lands its files. Every file ends in the manifest."""
    env = {**os.environ, "PIISCAN_CONFIG": str(CONFIGS), "PIISCAN_LAKE": str(tmp_path / "lake")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), str(REPO)])
    folders = []
    for w in range(2):
        folder = tmp_path / f"delivery{w}"
        folder.mkdir()
        for i in range(3):
            _invoice(
                folder / f"invoice_lines_{w}{i}.csv", [_row(f"I{w}{i}", "1", f"21255502{w}{i}")]
            )
        folders.append(folder)
    pending = [["ingest", str(f), "-c", "acme", "--json"] for f in folders]
    for _ in range(10):
        started = [(args, _piiscan(*args, env=env)) for args in pending]
        pending = []
        for args, process in started:
            _, stderr = process.communicate(timeout=300)
            if process.returncode == EXIT_LOCKED:
                assert "is locked by" in stderr and "nothing was changed" in stderr
                pending.append(args)
            else:
                assert process.returncode == 0, stderr
        if not pending:
            break
    assert not pending
    manifest = load_manifest(LocalStorage(tmp_path / "lake"), "acme")
    assert len(manifest) == 6
    assert not LocalStorage(tmp_path / "lake").exists(keys.lock("acme"))


def _locked_by_another_host(lake: Storage) -> None:
    body = {"owner": "other-host:1", "since": NOW.isoformat(), "token": "theirs"}
    assert lake.create(keys.lock("acme"), json.dumps(body).encode())


@pytest.mark.parametrize(
    "command",
    [
        ["ingest", "{delivery}", "-c", "acme"],
        ["pseudonymize", "-c", "acme"],
        ["holds", "add", "-c", "acme", "--kind", "legal", "--reason", "case 7", "--allow-empty"],
        ["holds", "release", "-c", "acme", "H-1"],
        ["subject", "request", "-c", "acme", "--action", "export", "--employee-id", "E123456"],
    ],
)
def test_every_writing_command_takes_the_customer_lock(tmp_path: Path, command: list[str]) -> None:
    lake = LocalStorage(tmp_path / "lake")
    _locked_by_another_host(lake)
    delivery = _invoice(tmp_path / "invoice_lines_a.csv", [_row("I", "1")])
    args = [a.replace("{delivery}", str(delivery)) for a in command]
    result = runner.invoke(
        app, [*args, "--lake", str(tmp_path / "lake")], env={"PIISCAN_CONFIG": str(CONFIGS)}
    )
    assert result.exit_code == EXIT_LOCKED, result.output
    assert "locked by other-host:1" in result.output
    assert sorted(lake.list("")) == [keys.lock("acme")]  # nothing else written


# --- re-deliveries ---------------------------------------------------------------------------


def _mirror(storage: Storage) -> None:
    """The analytics zone, as the nightly writes it."""
    actions = {"PHONE_NUMBER": "hmac", "PERSON": "drop", "EMPLOYEE_ID": "hmac"}
    detected = {"wireless_number": "PHONE_NUMBER", "user_name": "PERSON"}
    pseudonymize_dataset(storage, "acme", "invoice_lines", KEY, detected, actions, {})


ORIGINAL = [
    ("A1", "INV-1", "2026-10-15", "2125550101", "10.00"),
    ("A1", "INV-1", "2026-10-15", "2125550102", "20.00"),
    ("A1", "INV-1", "2026-10-15", "2125550103", "7.00"),  # billed in error: not in the correction
    ("A2", "INV-9", "2026-10-15", "2125550109", "5.00"),  # another invoice of the same file
    ("A1", "INV-0", "2026-09-15", "2125550101", "9.00"),  # the previous cycle
]
CORRECTED = [
    ("A1", "INV-1", "2026-10-15", "2125550101", "12.50"),
    ("A1", "INV-1", "2026-10-15", "2125550102", "18.00"),
]


def test_a_corrected_invoice_supersedes_the_rows_it_replaces(
    storage: Storage, tmp_path: Path, config: Config
) -> None:
    acme = config.customer("acme")
    first = _invoice(tmp_path / "invoice_lines_2026-10.csv", ORIGINAL)
    ingest_paths(storage, acme, [first], _run(1), now=NOW)
    _mirror(storage)
    before = {k: storage.read_bytes(k) for k in storage.list("restricted/invoice_lines")}

    fix = _invoice(tmp_path / "invoice_lines_2026-10_corrected.csv", CORRECTED)
    [result] = ingest_paths(storage, acme, [fix], _run(2), now=NOW).files
    assert result.status == "ingested"

    expected = {
        ("2125550101", date(2026, 10, 15)): Decimal("12.50"),
        ("2125550102", date(2026, 10, 15)): Decimal("18.00"),
        ("2125550109", date(2026, 10, 15)): Decimal("5.00"),
        ("2125550101", date(2026, 9, 15)): Decimal("9.00"),
    }
    assert _totals(_zone(storage, "restricted")) == expected
    # Until the next pseudonymize the analytics zone holds the old file's other rows only
    # (never the superseded ones); after it, the same totals per line as the restricted zone.
    analytics = _zone(storage, "analytics")
    assert sorted(analytics["charge"].to_list()) == [Decimal("5.00"), Decimal("9.00")]
    _mirror(storage)
    assert sorted(_totals(_zone(storage, "analytics")).values()) == sorted(expected.values())

    [entry] = [e for e in ledger.read_entries(storage, "acme") if e["kind"] == "supersede"]
    assert entry["rows_deleted"] == 3 and entry["rows_superseded"] == {"invoice_lines": 3}
    assert entry["by"]["checksum"] == result.checksum
    changed = {(f["zone"], f["action"]) for f in entry["files"]}
    assert changed == {("restricted", "rewrite"), ("analytics", "rewrite")}
    for record in entry["files"]:
        if record["zone"] == "restricted":
            assert record["removed_sha256"] == _sha(before[record["key"]])
            assert record["written_sha256"] == _sha(storage.read_bytes(record["key"]))
    assert ledger.verify(storage, "acme").ok
    assert not storage.exists(keys.purge_journal("acme"))
    old = next(e for e in load_manifest(storage, "acme").values() if e["file"] == first.name)
    assert [s["by"] for s in old["superseded"].values()] == [result.checksum]


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_a_file_whose_rows_are_all_superseded_is_dropped_from_both_zones(
    storage: Storage, tmp_path: Path, config: Config
) -> None:
    acme = config.customer("acme")
    ingest_paths(storage, acme, [_invoice(tmp_path / "invoice_lines_a.csv", CORRECTED)], _run(1))
    _mirror(storage)
    again = [(*r[:4], "1.00") for r in CORRECTED]
    ingest_paths(storage, acme, [_invoice(tmp_path / "invoice_lines_b.csv", again)], _run(2))
    assert len(list(storage.list("restricted/invoice_lines"))) == 1
    assert list(storage.list("analytics/invoice_lines")) == []  # the next pseudonymize writes it
    assert _zone(storage, "restricted")["charge"].sum() == Decimal("2.00")


def test_a_resend_differing_only_in_line_endings_lands_once(
    storage: Storage, tmp_path: Path, config: Config
) -> None:
    acme = config.customer("acme")
    ingest_paths(storage, acme, [_invoice(tmp_path / "invoice_lines_a.csv", ORIGINAL)], _run(1))
    crlf = _invoice(tmp_path / "invoice_lines_a_resent.csv", ORIGINAL, eol="\r\n")
    [result] = ingest_paths(storage, acme, [crlf], _run(2)).files
    assert result.status == "skipped" and "other line endings" in (result.reason or "")
    assert _zone(storage, "restricted").height == len(ORIGINAL)
    assert not [e for e in ledger.read_entries(storage, "acme") if e["kind"] == "supersede"]


USAGE = (
    "carrier,account_number,wireless_number,event_time,kind,direction,other_number,minutes,charge"
)


def _usage(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    """A generic usage_events CSV: (number, event time, charge) per row."""
    body = [USAGE] + [f"verizon,A1,{n},{t},voice,out,2125550999,3,{c}" for n, t, c in rows]
    path.write_text("\n".join(body) + "\n")
    return path


def test_a_resent_usage_event_replaces_its_copy_and_a_later_week_adds(
    storage: Storage, tmp_path: Path, config: Config
) -> None:
    acme = config.customer("acme")
    week1 = [
        ("2125550101", "2026-10-02 10:00:00", "1.00"),
        ("2125550101", "2026-10-03 11:00:00", "2.00"),
    ]
    ingest_paths(storage, acme, [_usage(tmp_path / "usage_events_w1.csv", week1)], _run(1))
    week2 = [("2125550101", "2026-10-09 10:00:00", "4.00")]
    ingest_paths(storage, acme, [_usage(tmp_path / "usage_events_w2.csv", week2)], _run(2))
    fixed = [
        ("2125550101", "2026-10-02 10:00:00", "0.50"),
        ("2125550101", "2026-10-03 11:00:00", "2.00"),
    ]
    ingest_paths(storage, acme, [_usage(tmp_path / "usage_events_w1_fix.csv", fixed)], _run(3))
    usage = _zone(storage, "restricted", "usage_events")
    assert usage.height == 3  # week 2 kept, week 1 once, with the corrected charge
    assert usage["charge"].sum() == Decimal("6.50")


def test_a_locked_ingest_changes_nothing_and_its_retry_lands(tmp_path: Path) -> None:
    lake = LocalStorage(tmp_path / "lake")
    _locked_by_another_host(lake)
    delivery = _invoice(tmp_path / "invoice_lines_a.csv", [_row("I", "1")])
    args = ["ingest", str(delivery), "-c", "acme", "--lake", str(tmp_path / "lake")]
    env = {"PIISCAN_CONFIG": str(CONFIGS)}
    assert runner.invoke(app, args, env=env).exit_code == EXIT_LOCKED
    lake.delete(keys.lock("acme"))  # the other run ends
    assert runner.invoke(app, args, env=env).exit_code == 0
    assert [e["file"] for e in load_manifest(lake, "acme").values()] == ["invoice_lines_a.csv"]


def test_a_supersede_killed_midway_is_finished_and_ledgered_once_by_the_rerun(
    tmp_path: Path, config: Config
) -> None:
    lake = LocalStorage(tmp_path / "lake")
    ingest_paths(
        lake,
        config.customer("acme"),
        [_invoice(tmp_path / "invoice_lines_a.csv", ORIGINAL)],
        _run(1),
    )
    _mirror(lake)
    fix = _invoice(tmp_path / "invoice_lines_a_fix.csv", CORRECTED)
    env = {**os.environ, "PIISCAN_CONFIG": str(CONFIGS), "PIISCAN_LAKE": str(tmp_path / "lake")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), str(REPO)])
    args = ["ingest", str(fix), "-c", "acme"]
    # Killed once the mirror is rewritten and the restricted file's change journaled.
    killed = _piiscan(*args, env={**env, "PIISCAN_CRASH_AT": "supersede-journaled-1"})
    killed.communicate(timeout=300)
    assert killed.returncode == 70
    rerun = _piiscan(*args, env=env)
    _, stderr = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, stderr

    assert _totals(_zone(lake, "restricted")) == {
        ("2125550101", date(2026, 10, 15)): Decimal("12.50"),
        ("2125550102", date(2026, 10, 15)): Decimal("18.00"),
        ("2125550109", date(2026, 10, 15)): Decimal("5.00"),
        ("2125550101", date(2026, 9, 15)): Decimal("9.00"),
    }
    [entry] = [e for e in ledger.read_entries(lake, "acme") if e["kind"] == "supersede"]
    steps = [(f["zone"], f["action"]) for f in entry["files"]]
    # The killed run's mirror rewrite, then the rerun's: the file, and the mirror it left stale.
    assert steps == [("analytics", "rewrite"), ("analytics", "drop"), ("restricted", "rewrite")]
    assert len({f["key"] for f in entry["files"] if f["zone"] == "restricted"}) == 1
    assert ledger.verify(lake, "acme").ok
    assert not lake.exists(keys.purge_journal("acme"))
