"""Purges on a real lake: plan, apply, holds, stale plans, locks, termination, crashes, ledger."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import jsonschema
import polars as pl
import pytest

from piiscan.detect import Detector, Settings
from piiscan.errors import PurgeError
from piiscan.lake import ledger
from piiscan.lake.holds import add_hold, load_registry
from piiscan.lake.keyring import KeyFile, KeySource, create_key, load_key
from piiscan.lake.locks import customer_lock
from piiscan.pipeline.ingest import collect_files, ingest_paths
from piiscan.pipeline.nightly import detect_datasets, pseudonymize_customer
from piiscan.pipeline.purge import apply_purge, plan_purge
from piiscan.pipeline.terminate import Termination, terminate
from piiscan.policy import Config
from piiscan.pseudonymize import Key, tokens
from piiscan.purge import PurgePlan
from piiscan.schema import DATASETS
from piiscan.storage import LocalStorage

from .conftest import CONFIGS, REPO

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
LATER = date(2028, 6, 1)  # usage (18 months) and devices (12) expired; invoices (24) not yet


@pytest.fixture(scope="module")
def template(fixture_tree: Path, config: Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lake with every customer ingested and pseudonymized; tests copy it."""
    root = tmp_path_factory.mktemp("purge-lake")
    storage = LocalStorage(root)
    for customer in ("acme", "globex", "initech"):
        ingest_paths(
            storage,
            config.customer(customer),
            collect_files([fixture_tree / customer]),
            "20261128T000000Z-aaaaaa",
        )
        findings = detect_datasets(storage, customer, Detector(Settings()), config)
        pseudonymize_customer(storage, config, customer, load_key(customer), findings)
    return root


@pytest.fixture
def lake(template: Path, tmp_path: Path) -> LocalStorage:
    shutil.copytree(template, tmp_path / "lake")
    return LocalStorage(tmp_path / "lake")


def snapshot(storage: LocalStorage) -> dict[str, str]:
    return {k: hashlib.sha256(storage.read_bytes(k)).hexdigest() for k in storage.list("")}


def rows(storage: LocalStorage, zone: str, dataset: str, customer: str) -> pl.DataFrame:
    path = Path(storage.uri(f"{zone}/{dataset}/customer={customer}"))
    if not path.exists():
        return pl.DataFrame(
            {"wireless_number": [], "bill_cycle_date": []},
            schema={"wireless_number": pl.String, "bill_cycle_date": pl.Date},
        )
    return pl.scan_parquet(path, hive_partitioning=True).collect()


def test_dry_run_changes_nothing(lake: LocalStorage, config: Config) -> None:
    before = snapshot(lake)
    plan = plan_purge(lake, config, "acme", LATER, load_key("acme"))
    assert plan.as_json()["rows_deleted"] > 0
    assert snapshot(lake) == before


def test_apply_deletes_what_is_due_and_nothing_else(lake: LocalStorage, config: Config) -> None:
    key = load_key("acme")
    invoices_before = rows(lake, "restricted", "invoice_lines", "acme")
    others = {k: v for k, v in snapshot(lake).items() if "customer=globex" in k}
    plan = plan_purge(lake, config, "acme", LATER, key)
    entry = apply_purge(lake, config, plan, key, NOW)
    assert rows(lake, "restricted", "usage_events", "acme").height == 0
    assert rows(lake, "analytics", "usage_events", "acme").height == 0
    assert rows(lake, "restricted", "invoice_lines", "acme").equals(invoices_before)  # untouched
    assert {k: v for k, v in snapshot(lake).items() if "customer=globex" in k} == others
    assert entry["rows_deleted"] == plan.as_json()["rows_deleted"] > 0
    again = plan_purge(lake, config, "acme", LATER, key)
    assert again.nothing_due
    assert apply_purge(lake, config, again, key, NOW)["rows_deleted"] == 0


@pytest.mark.parametrize("as_of", [NOW.date(), date(2027, 9, 1), LATER])
def test_every_restricted_row_is_deleted_kept_or_not_yet_due(
    lake: LocalStorage, config: Config, as_of: date
) -> None:
    plan = plan_purge(lake, config, "acme", as_of, load_key("acme"))
    total = sum(rows(lake, "restricted", dataset, "acme").height for dataset in DATASETS)
    deleted = sum(f.deleted for f in plan.files if f.zone == "restricted")
    assert deleted + sum(plan.kept.values()) + plan.unread_rows == total
    summary = plan.as_json()
    assert summary["rows_not_due_unread"] == plan.unread_rows
    assert PurgePlan.from_json(summary) == plan
    if as_of == NOW.date():  # everything recent: partitions skipped, counted from their footers
        assert plan.partitions_skipped > 0 and plan.unread_rows > 0
    if as_of == LATER:  # usage and devices are due; invoices and their charges (24 months) not
        billed = ("invoice_lines", "charge_items")
        assert plan.unread_rows == sum(rows(lake, "restricted", d, "acme").height for d in billed)


def test_a_legal_hold_keeps_its_lines_in_both_zones(lake: LocalStorage, config: Config) -> None:
    key = load_key("acme")
    usage = rows(lake, "restricted", "usage_events", "acme")
    number = usage["wireless_number"][0]
    token = tokens([number], key, "PHONE_NUMBER")[number]
    add_hold(lake, "acme", "legal", "case 7", NOW, dataset="usage_events", number_tokens=(token,))
    apply_purge(lake, config, plan_purge(lake, config, "acme", LATER, key), key, NOW)
    kept = rows(lake, "restricted", "usage_events", "acme")
    assert kept.height == usage.filter(pl.col("wireless_number") == number).height > 0
    assert set(kept["wireless_number"]) == {number}
    mirrored = rows(lake, "analytics", "usage_events", "acme")
    assert mirrored.height == kept.height and set(mirrored["wireless_number"]) == {token}


def test_tax_held_rows_are_kept_with_personal_columns_pseudonymized(
    lake: LocalStorage, config: Config
) -> None:
    key = load_key("acme")
    before = rows(lake, "restricted", "invoice_lines", "acme")
    when = date(2029, 6, 1)  # invoices past 24 months, inside 7 tax years
    apply_purge(lake, config, plan_purge(lake, config, "acme", when, key), key, NOW)
    after = rows(lake, "restricted", "invoice_lines", "acme")
    assert after.height == before.height
    assert after["user_name"].null_count() == after.height
    assert after["employee_id"].str.contains(r"^k1-").all()
    billing = after.filter(pl.col("invoice_status").is_in(["open", "disputed"]))
    assert billing.height and not billing["wireless_number"].str.starts_with("k1-").any()
    tax = after.filter(pl.col("invoice_status") == "paid")
    assert tax["wireless_number"].str.starts_with("k1-").all()
    assert after["charge"].sum() == before["charge"].sum()
    assert plan_purge(lake, config, "acme", when, key).nothing_due  # tokens are not re-tokenized


def test_decisions_carried_from_plan_to_apply_give_what_deciding_again_gives(
    lake: LocalStorage, template: Path, tmp_path: Path, config: Config
) -> None:
    """Applying the plan object reuses its row decisions; a plan read back from JSON decides
    again; both leave the same files (a legal hold and tax and billing rows in the mix)."""
    key = load_key("acme")
    number = rows(lake, "restricted", "usage_events", "acme")["wireless_number"][0]
    token = tokens([number], key, "PHONE_NUMBER")[number]
    other = tmp_path / "other"
    for storage in (lake, LocalStorage(shutil.copytree(template, other))):
        add_hold(storage, "acme", "legal", "case 7", NOW, number_tokens=(token,))
    when = date(2029, 6, 1)  # usage expired; invoices kept for tax and billing
    carried = plan_purge(lake, config, "acme", when, key)
    assert carried.decided and set(carried.decided) <= {f.key for f in carried.files}
    read_back = PurgePlan.from_json(json.loads(json.dumps(carried.as_json())))
    assert not read_back.decided and read_back == carried
    second = LocalStorage(other)
    apply_purge(lake, config, carried, key, NOW)
    decides_again = PurgePlan.from_json(plan_purge(second, config, "acme", when, key).as_json())
    apply_purge(second, config, decides_again, key, NOW)
    data = {k: v for k, v in snapshot(lake).items() if k.startswith(("restricted/", "analytics/"))}
    assert data == {
        k: v for k, v in snapshot(second).items() if k.startswith(("restricted/", "analytics/"))
    }


def test_a_stale_plan_is_refused_and_changes_nothing(lake: LocalStorage, config: Config) -> None:
    key = load_key("acme")
    plan = plan_purge(lake, config, "acme", LATER, key)
    target = plan.files[-1].key
    changed = pl.read_parquet(lake.read_bytes(target))
    changed.write_parquet(lake.uri(target), compression="gzip")  # same rows, other bytes
    before = snapshot(lake)
    with pytest.raises(PurgeError, match="changed since it was planned"):
        apply_purge(lake, config, plan, key, NOW)
    assert snapshot(lake) == before  # checked up front: nothing was touched
    assert ledger.read_entries(lake, "acme") == []


def test_one_purge_per_customer_at_a_time(lake: LocalStorage, config: Config) -> None:
    other = f"{socket.gethostname()}:{os.getppid()}"  # another live process holds it
    lake.write_bytes(
        "state/locks/acme.json", json.dumps({"owner": other, "since": NOW.isoformat()}).encode()
    )
    with pytest.raises(PurgeError, match="is locked by"):
        apply_purge(lake, config, plan_purge(lake, config, "acme", LATER, None), None, NOW)
    lake.delete("state/locks/acme.json")
    with customer_lock(lake, "acme", NOW):  # the same process may nest it
        apply_purge(lake, config, plan_purge(lake, config, "acme", LATER, None), None, NOW)
        assert lake.exists("state/locks/acme.json")
    assert not lake.exists("state/locks/acme.json")
    lake.write_bytes(
        "state/locks/acme.json",
        json.dumps({"owner": "elsewhere:1", "since": "2020-01-01T00:00:00+00:00"}).encode(),
    )
    apply_purge(
        lake,
        config,
        plan_purge(lake, config, "acme", LATER, load_key("acme")),
        load_key("acme"),
        NOW,
    )  # a stale lock is taken over
    assert not lake.exists("state/locks/acme.json")


def test_a_lock_is_released_only_by_its_owner_and_pids_are_not_trusted(lake: LocalStorage) -> None:
    from datetime import timedelta

    lock = "state/locks/acme.json"
    with customer_lock(lake, "acme", NOW):
        # Six hours on, another host took the lock over as stale while this run still worked.
        theirs = {"owner": "other-host:7", "since": NOW.isoformat(), "token": "theirs"}
        lake.write_bytes(lock, json.dumps(theirs).encode())
    assert json.loads(lake.read_bytes(lock))["token"] == "theirs"  # not released by us
    lake.delete(lock)
    # A lock left by a dead process whose pid this process now has is not ours to nest in.
    mine = f"{socket.gethostname()}:{os.getpid()}"
    since = (NOW - timedelta(hours=1)).isoformat()
    lake.write_bytes(lock, json.dumps({"owner": mine, "since": since, "token": "old"}).encode())
    with customer_lock(lake, "acme", NOW):
        assert json.loads(lake.read_bytes(lock))["token"] != "old"
    assert not lake.exists(lock)


def test_ledger_verifies_and_detects_edits_removals_and_swaps(
    lake: LocalStorage, config: Config, fixture_tree: Path
) -> None:
    key = load_key("acme")
    for when in (LATER, date(2029, 6, 1), date(2034, 1, 1)):
        apply_purge(lake, config, plan_purge(lake, config, "acme", when, key), key, NOW)
    assert ledger.verify(lake, "acme").ok and ledger.verify(lake, "acme").entries == 3
    text = lake.read_bytes("ledger/acme.jsonl").decode()
    raw = pl.read_parquet(next(fixture_tree.glob("acme/generic/*.parquet")))
    assert not [
        v
        for c in ("user_name", "wireless_number", "employee_id")
        for v in raw[c].to_list()
        if v in text
    ]
    lines = text.splitlines()
    edited = lines[1].replace('"rows_deleted": ', '"rows_deleted": 1', 1)
    for broken, problem in (
        ([lines[0], edited, lines[2]], "line 2: content was edited"),
        ([lines[0], lines[2]], "line 2: sequence 3"),
        ([lines[1], lines[0], lines[2]], "line 1: sequence 2"),
    ):
        lake.write_bytes("ledger/acme.jsonl", ("\n".join(broken) + "\n").encode())
        result = ledger.verify(lake, "acme")
        assert not result.ok and result.problem and result.problem.startswith(problem)


def test_termination_deletes_all_but_held_rows_and_certifies(
    lake: LocalStorage, config: Config, tmp_path: Path
) -> None:
    create_key("initech", tmp_path)
    key = load_key("initech", tmp_path)
    result = terminate_on(lake, config, "initech", key, KeyFile(tmp_path / "initech.json"))
    for zone in ("restricted", "analytics"):
        usage = rows(lake, zone, "usage_events", "initech")
        assert usage.height == 0 or set(usage["bill_cycle_date"].drop_nulls()) <= {
            date(2026, 10, 16)
        }  # only usage still in its dispute window
    assert not list(lake.list("landing/initech")) and not list(lake.list("reports/initech"))
    certificate = json.loads(lake.read_bytes(result.certificate_keys[0]))
    assert certificate["ledger"]["hash"] == result.entry["hash"]
    assert certificate["pseudonymization_key"].startswith("deleted") and not result.key_needed
    assert "<h1>Deletion certificate</h1>" in lake.read_bytes(result.certificate_keys[1]).decode()
    assert set(certificate["rows_remaining_under_hold"]) <= {"tax", "billing", "legal", "audit"}
    assert not (tmp_path / "initech.json").exists()  # retired where it lived


def terminate_on(
    lake: LocalStorage, config: Config, customer: str, key: Key, source: KeySource
) -> Termination:
    """Plan the termination at the end of 2026 and apply exactly that plan."""
    end = date(2026, 12, 31)
    plan = plan_purge(lake, config, customer, end, key, terminated=end)
    return terminate(lake, config, plan, key, NOW, source)


@pytest.mark.parametrize(
    "change",
    [
        "a file delivered after the plan",
        "a hold added after the plan",
        "a report written after the plan",
    ],
)
def test_a_termination_plan_the_lake_has_outgrown_is_refused_and_nothing_changes(
    lake: LocalStorage, config: Config, tmp_path: Path, change: str
) -> None:
    create_key("initech", tmp_path)
    key = load_key("initech", tmp_path)
    end = date(2026, 12, 31)
    plan = plan_purge(lake, config, "initech", end, key, terminated=end)
    if change.startswith("a file"):
        lake.write_bytes("landing/initech/att/late.csv", b"late delivery\n")
    elif change.startswith("a hold"):
        add_hold(lake, "initech", "legal", "case 12", NOW)
    else:
        lake.write_bytes("reports/initech/20261201T020000Z-abcdef.json", b"{}")
    before = {k: lake.read_bytes(k) for k in lake.list("")}
    with pytest.raises(PurgeError, match="stale plan"):
        terminate(lake, config, plan, key, NOW, KeyFile(tmp_path / "initech.json"))
    assert {k: lake.read_bytes(k) for k in lake.list("")} == before
    assert (tmp_path / "initech.json").exists()


def test_terminate_refuses_a_plan_without_an_account_end(
    lake: LocalStorage, config: Config, tmp_path: Path
) -> None:
    key = load_key("initech")
    plan = plan_purge(lake, config, "initech", date(2026, 12, 31), key)
    with pytest.raises(PurgeError, match="not a termination plan"):
        terminate(lake, config, plan, key, NOW, KeyFile(tmp_path / "initech.json"))


def test_termination_keeps_the_key_while_a_hold_names_lines(
    lake: LocalStorage, config: Config
) -> None:
    key = load_key("globex")
    add_hold(lake, "globex", "legal", "case 9", NOW, number_tokens=("k1-" + "0" * 32,))
    result = terminate_on(lake, config, "globex", key, KeyFile(Path("unused.json")))
    assert (
        result.key_needed
        and "refer to lines by token" in result.certificate["pseudonymization_key"]
    )
    assert load_registry(lake, "globex").holds  # holds are never deleted by a purge


CRASH_POINTS = [
    "before-file-0",
    "journaled-file-0",
    "after-file-0",
    "journaled-file-3",
    "after-file-7",
    "journaled-other-0",
    "after-other-3",
    "journaled-other-8",
    "before-ledger",
    "before-ledger-head",
]


@pytest.mark.integration
@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_killed_apply_leaves_files_before_or_after_and_a_rerun_finishes(
    template: Path, tmp_path: Path, point: str
) -> None:
    uninterrupted, crashed = tmp_path / "clean", tmp_path / "crashed"
    shutil.copytree(template, uninterrupted)
    shutil.copytree(template, crashed)
    command = [
        sys.executable,
        "-m",
        "piiscan.cli",
        "purge",
        "-c",
        "acme",
        "--as-of",
        LATER.isoformat(),
        "--allow-future",  # judged years ahead, so that rows are due
        "--apply",
        "--config",
        str(CONFIGS),
    ]
    env = {**os.environ}
    done = subprocess.run(
        [*command, "--lake", str(uninterrupted)], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    before = snapshot(LocalStorage(template))
    after = snapshot(LocalStorage(uninterrupted))
    killed = subprocess.run(
        [*command, "--lake", str(crashed)],
        cwd=REPO,
        env={**env, "PIISCAN_CRASH_AT": point},
        capture_output=True,
        text=True,
    )
    assert killed.returncode == 70, killed.stderr
    state = snapshot(LocalStorage(crashed))
    for name in set(before) | set(after):
        if name.startswith(("restricted/", "analytics/")):
            assert state.get(name) in (before.get(name), after.get(name)), name
    rerun = subprocess.run(
        [*command, "--lake", str(crashed)], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert rerun.returncode == 0, rerun.stderr
    final = snapshot(LocalStorage(crashed))
    zones = ("restricted/", "analytics/", "landing/", "reports/", "quarantine/")
    assert {k: v for k, v in final.items() if k.startswith(zones)} == {
        k: v for k, v in after.items() if k.startswith(zones)
    }
    assert ledger.verify(LocalStorage(crashed), "acme").ok
    entries = ledger.read_entries(LocalStorage(crashed), "acme")
    expected = ledger.read_entries(LocalStorage(uninterrupted), "acme")[0]
    assert (
        sum(e["rows_deleted"] for e in entries) == expected["rows_deleted"]
    )  # the journal kept it
    # Every object removed (zone files, landing files...) is recorded exactly once.
    for field in ("files", "other_objects_removed"):
        recorded = sorted(
            (o["key"], o.get("removed_sha256", o.get("sha256"))) for e in entries for o in e[field]
        )
        assert recorded == sorted(
            (o["key"], o.get("removed_sha256", o.get("sha256"))) for o in expected[field]
        ), field
    assert expected["other_objects_removed"]  # the landing files went too


# --- termination as a state: scheduled, applied, certified, the key retired when unneeded ----


def held_number(lake: LocalStorage, customer: str, key: Key) -> str:
    """The token of a line with usage rows (for a hold naming it)."""
    number = rows(lake, "restricted", "usage_events", customer)["wireless_number"][0]
    return tokens([number], key, "PHONE_NUMBER")[number]


def test_termination_pseudonymizes_tax_and_billing_rows_so_later_purges_need_no_key(
    lake: LocalStorage, config: Config, tmp_path: Path
) -> None:
    """Before: raw wireless numbers of rows in their dispute window stayed, the key went, and
    every later purge failed for want of it."""
    create_key("initech", tmp_path)
    key = load_key("initech", tmp_path)
    result = terminate_on(lake, config, "initech", key, KeyFile(tmp_path / "initech.json"))
    assert not result.key_needed and not (tmp_path / "initech.json").exists()
    invoices = rows(lake, "restricted", "invoice_lines", "initech")
    assert invoices.height and invoices["wireless_number"].str.starts_with("k1-").all()
    assert invoices["user_name"].null_count() == invoices.height
    for when in (date(2027, 3, 1), date(2030, 1, 1), date(2034, 6, 1)):  # window, then tax ends
        plan = plan_purge(lake, config, "initech", when, None)
        apply_purge(lake, config, plan, None, NOW)  # no key: nothing needs it
    left = rows(lake, "restricted", "invoice_lines", "initech")  # open or disputed invoices
    assert set(left["invoice_status"].str.to_lowercase()) <= {"open", "disputed"}
    assert left["wireless_number"].str.starts_with("k1-").all()
    assert ledger.verify(lake, "initech").ok


def test_the_key_stays_while_legal_hold_rows_are_raw_and_goes_once_they_are_dealt_with(
    lake: LocalStorage, config: Config, tmp_path: Path
) -> None:
    from piiscan.lake.holds import release_hold
    from piiscan.lake.terminations import load_termination
    from piiscan.pipeline.nightly import purge_due

    create_key("globex", tmp_path)
    key = load_key("globex", tmp_path)
    source = KeyFile(tmp_path / "globex.json")
    hold = add_hold(lake, "globex", "legal", "case 4", NOW, dataset="invoice_lines")
    result = terminate_on(lake, config, "globex", key, source)
    assert result.key_needed and (tmp_path / "globex.json").exists()
    assert "legal or audit hold" in result.certificate["pseudonymization_key"]
    held = rows(lake, "restricted", "invoice_lines", "globex")
    assert held.height and not held["wireless_number"].str.starts_with("k1-").any()  # as is
    record = load_termination(lake, "globex")
    assert record is not None and record.applied and record.key_state == "kept"
    later = datetime(2027, 2, 1, tzinfo=UTC)
    purge_due(lake, config, "globex", key, later, source)  # the hold still runs: key stays
    assert (tmp_path / "globex.json").exists()
    release_hold(lake, "globex", hold.id, later)
    summary = purge_due(lake, config, "globex", key, later, source)
    assert summary["applied"] and summary["termination"]["key"] == "retired"
    released = rows(lake, "restricted", "invoice_lines", "globex")
    assert released.height == held.height  # kept for tax, now pseudonymized
    assert released["wireless_number"].str.starts_with("k1-").all()
    assert not (tmp_path / "globex.json").exists()
    record = load_termination(lake, "globex")
    assert record is not None and record.key["detail"].startswith("deleted")
    assert purge_due(lake, config, "globex", None, later, source)["files_changed"] == 0


def test_a_second_apply_adds_a_certificate_naming_the_first_and_overwrites_nothing(
    lake: LocalStorage, config: Config, tmp_path: Path
) -> None:
    create_key("initech", tmp_path)
    key = load_key("initech", tmp_path)
    source = KeyFile(tmp_path / "initech.json")
    first = terminate_on(lake, config, "initech", key, source)
    body = lake.read_bytes(first.certificate_keys[0])
    again = terminate_on(lake, config, "initech", None, source)  # type: ignore[arg-type]
    assert first.certificate_keys[0] == "certificates/initech/2026-12-31.json"
    assert again.certificate_keys == (
        "certificates/initech/2026-12-31-2.json",
        "certificates/initech/2026-12-31-2.html",
    )
    assert lake.read_bytes(first.certificate_keys[0]) == body  # never written over
    second = again.certificate
    assert second["supersedes"] == first.certificate_keys[0]
    assert second["rows_deleted"] == {} and second["objects_deleted"] == 0
    assert second["pseudonymization_key"] == first.certificate["pseudonymization_key"]
    assert set(first.certificate["ledger_entries"]).isdisjoint(second["ledger_entries"])
    assert ledger.verify(lake, "initech").ok
    end = date(2027, 1, 31)
    other = plan_purge(lake, config, "initech", end, None, terminated=end)
    with pytest.raises(PurgeError, match="terminated effective 2026-12-31"):
        terminate(lake, config, other, None, NOW, source)


def test_the_certificate_covers_both_zones_landing_and_quarantine(
    lake: LocalStorage, config: Config, tmp_path: Path
) -> None:
    create_key("acme", tmp_path)
    key = load_key("acme", tmp_path)
    quarantined = len(list(lake.list("quarantine/acme")))
    landed = len(list(lake.list("landing/acme")))
    add_hold(lake, "acme", "audit", "audit 2026", NOW, dataset="usage_events")
    result = terminate_on(lake, config, "acme", key, KeyFile(tmp_path / "acme.json"))
    certificate = result.certificate
    zones = certificate["rows_remaining_by_zone"]
    assert zones["restricted"]["audit"] == zones["analytics"]["audit"] > 0
    assert rows(lake, "analytics", "usage_events", "acme").height == zones["analytics"]["audit"]
    assert set(certificate["rows_deleted_by_zone"]) == {"restricted", "analytics"}
    assert certificate["objects_deleted_by_area"]["quarantine"] == quarantined > 0
    assert certificate["objects_deleted_by_area"]["landing"] == landed > 0
    assert certificate["objects_remaining"] == {"landing": 0, "quarantine": 0}
    page = lake.read_bytes(result.certificate_keys[1]).decode()
    assert "Rows remaining per zone" in page and "analytics: audit" in page


def test_a_future_effective_date_is_scheduled_and_applied_by_the_nightly_of_that_day(
    lake: LocalStorage, config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from piiscan.cli import app
    from piiscan.detect import Detector, Settings
    from piiscan.lake.terminations import load_termination
    from piiscan.pipeline.nightly import run_customer

    create_key("initech", tmp_path)
    before = snapshot(lake)
    runner = CliRunner()
    command = ["terminate", "-c", "initech", "--effective", "2026-12-31", "--apply", "--json"]
    command += ["--lake", lake.uri(""), "--config", str(CONFIGS), "--keys", str(tmp_path)]
    done = runner.invoke(app, command)
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["scheduled"]["status"] == "scheduled"
    after = snapshot(lake)
    assert set(after) - set(before) == {"state/terminations/initech.json"}
    assert {k: after[k] for k in before} == before
    assert (tmp_path / "initech.json").exists()  # nothing deleted, key kept
    monkeypatch.setenv("PIISCAN_KEYS_DIR", str(tmp_path))
    customer = config.customer("initech")
    detector = Detector(Settings())
    key = load_key("initech", tmp_path)
    night = datetime(2026, 12, 30, 2, tzinfo=UTC)  # the day before: an ordinary night
    run_customer(lake, config, customer, "20261230T020000Z-aaaaaa", night, key, detector)
    record = load_termination(lake, "initech")
    assert record is not None and record.status == "scheduled"
    assert list(lake.list("landing/initech"))
    day = datetime(2026, 12, 31, 2, tzinfo=UTC)
    run = run_customer(lake, config, customer, "20261231T020000Z-bbbbbb", day, key, detector)
    record = load_termination(lake, "initech")
    assert record is not None and record.applied and record.key_state == "retired"
    assert not list(lake.list("landing/initech")) and not (tmp_path / "initech.json").exists()
    assert record.certificates == ("certificates/initech/2026-12-31.json",)
    report = json.loads(lake.read_bytes(run.report_key))
    assert report["ingest"]["skipped"] == "customer terminated"
    schema = REPO / "src" / "piiscan" / "schemas" / "report.schema.json"
    jsonschema.validate(report, json.loads(schema.read_text()))
    assert not report["needs_review"]  # nothing was detected: nothing to review
    assert report["purge"]["termination"]["applied"]["certificate"] == record.certificates[0]
    # The nights after: no key, no ingest, no failure; the report still comes.
    new = datetime(2027, 1, 1, 2, tzinfo=UTC)
    run_customer(lake, config, customer, "20270101T020000Z-cccccc", new, None, detector)
    assert ledger.verify(lake, "initech").ok


def test_a_termination_configured_in_retention_yaml_is_applied_as_a_scheduled_one(
    lake: LocalStorage, config: Config, tmp_path: Path
) -> None:
    from piiscan.lake.terminations import load_termination
    from piiscan.pipeline.nightly import apply_due_termination

    assert config.retention is not None
    ending = config.retention.customers["initech"].model_copy(
        update={"terminated": date(2026, 12, 31)}
    )
    retention = config.retention.model_copy(
        update={"customers": {**config.retention.customers, "initech": ending}}
    )
    configured = config.model_copy(update={"retention": retention})
    create_key("initech", tmp_path)
    key = load_key("initech", tmp_path)
    source = KeyFile(tmp_path / "initech.json")
    early = datetime(2026, 12, 30, 2, tzinfo=UTC)
    assert apply_due_termination(lake, configured, "initech", key, early, source) is None
    day = datetime(2026, 12, 31, 2, tzinfo=UTC)
    applied = apply_due_termination(lake, configured, "initech", key, day, source)
    assert applied is not None and applied["certificate"].endswith("2026-12-31.json")
    record = load_termination(lake, "initech")
    assert record is not None and record.requested_by == "retention.yaml" and record.applied
    assert apply_due_termination(lake, configured, "initech", None, day, source) is None


def test_pseudonymizing_held_rows_needs_no_key_when_no_raw_value_is_left() -> None:
    from piiscan.purge import _pseudonymize_held
    from piiscan.retention import DECISION

    frame = pl.DataFrame(
        {
            "wireless_number": ["k1-" + "a" * 32, None],
            "user_name": ["x", None],
            DECISION: ["tax", "tax"],
            "_billing": [False, False],
        }
    )
    done = _pseudonymize_held(frame, None, "acme")
    assert done["wireless_number"].to_list() == frame["wireless_number"].to_list()
    assert done["user_name"].null_count() == 2
    raw = frame.with_columns(pl.Series("wireless_number", ["5551230000", None]))
    with pytest.raises(Exception, match="needed to pseudonymize"):
        _pseudonymize_held(raw, None, "acme")
    assert _pseudonymize_held(raw, None, "acme", retired=True)["wireless_number"].null_count() == 2
