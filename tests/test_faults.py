"""Fault injection: ingest, purge, termination and subject erase killed at storage calls.

Each operation runs once uninterrupted on a small lake with `PIISCAN_CALL_LOG`, which lists
every storage call it makes. It is then killed (`PIISCAN_CRASH_AT_CALL=n`: `os._exit` just before
call n, no cleanup) on a fresh copy of the same lake at sampled calls, and rerun. Killed, every
object is as before or as after; rerun, the lake is what the uninterrupted run left, the ledger
verifies and records every deleted object exactly once, and so do the certificates.

Killing before a read leaves the same lake as killing before the next write, so the kill points
are sampled among the calls that change the lake (write, create, put, rewrite, delete): the
first, the last and evenly between, `PIISCAN_FAULT_POINTS` of them per operation (default 12;
`all` for every call, reads included).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from piiscan.cli import app
from piiscan.detect import Detector, Settings
from piiscan.lake import ledger
from piiscan.lake.keyring import load_key, load_ledger_key
from piiscan.lake.reports import certificate_keys, read_certificate
from piiscan.pipeline.ingest import collect_files, ingest_paths
from piiscan.pipeline.nightly import detect_datasets, pseudonymize_customer
from piiscan.policy import Config
from piiscan.storage import LocalStorage

from .conftest import CONFIGS, REPO

pytestmark = pytest.mark.integration

MUTATING = {"write_bytes", "create", "put_file", "rewrite", "delete"}
SETTING = os.environ.get("PIISCAN_FAULT_POINTS", "12")
STABLE = ("restricted/", "analytics/", "landing/", "quarantine/", "reports/")


def snapshot(root: Path) -> dict[str, str]:
    storage = LocalStorage(root)
    return {k: hashlib.sha256(storage.read_bytes(k)).hexdigest() for k in storage.list("")}


def within(state: dict[str, str], prefixes: tuple[str, ...]) -> dict[str, str]:
    return {k: v for k, v in state.items() if k.startswith(prefixes)}


@pytest.fixture(scope="module")
def world(fixture_tree: Path, config: Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small lake: acme and initech ingested and pseudonymized."""
    root = tmp_path_factory.mktemp("faults-lake")
    storage = LocalStorage(root)
    for customer in ("acme", "initech"):
        files = collect_files([fixture_tree / customer])
        ingest_paths(storage, config.customer(customer), files, "20261128T000000Z-aaaaaa")
        findings = detect_datasets(storage, customer, Detector(Settings()), config)
        pseudonymize_customer(storage, config, customer, load_key(customer), findings)
    return root


@dataclass(frozen=True)
class Operation:
    """One command to kill: its CLI arguments and the lake it starts from."""

    name: str
    customer: str
    args: tuple[str, ...]
    start: Path | None  # None: an empty lake
    own_keys: bool = False  # it retires the key: each run gets a copy of the key files


def operation(name: str, world: Path, fixture_tree: Path) -> Operation:
    if name == "ingest":
        return Operation(
            name, "initech", ("ingest", str(fixture_tree / "initech"), "-c", "initech"), None
        )
    if name == "purge":
        args = ("purge", "-c", "acme", "--as-of", "2028-06-01", "--allow-future", "--apply")
        return Operation(name, "acme", args, world)
    if name == "terminate":
        args = ("terminate", "-c", "initech", "--effective", "2026-11-28", "--apply")
        return Operation(name, "initech", args, world, own_keys=True)
    lines = pl.scan_parquet(world / "restricted/invoice_lines/customer=acme/**/*.parquet")
    employee = lines.select("employee_id").collect()["employee_id"].drop_nulls().sort()[0]
    args = ("subject", "erase", "-c", "acme", "--employee-id", employee, "--apply")
    return Operation(name, "acme", args, world)


@dataclass
class Run:
    """A lake copy and the keys folder an operation ran with."""

    lake: Path
    keys: Path


def fresh(op: Operation, where: Path) -> Run:
    """A copy of the operation's starting lake (and key files when it retires a key)."""
    lake = where / "lake"
    if op.start is None:
        lake.mkdir(parents=True)
    else:
        shutil.copytree(op.start, lake)
    keys = Path(os.environ["PIISCAN_KEYS_DIR"])
    if op.own_keys:
        shutil.copytree(keys, where / "keys")
        keys = where / "keys"
    return Run(lake, keys)


def command(op: Operation, run: Run) -> list[str]:
    flags = ["--lake", str(run.lake), "--config", str(CONFIGS), "--json"]
    if op.name != "ingest":
        flags += ["--keys", str(run.keys)]
    return [*op.args, *flags]


def in_subprocess(op: Operation, run: Run, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "piiscan.cli", *command(op, run)],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )


@dataclass
class Baseline:
    """An operation's uninterrupted run: the lake before and after, and its storage calls."""

    op: Operation
    before: dict[str, str]
    after: dict[str, str]
    clean: Run
    calls: list[tuple[int, str, str]]
    # An erasure first replaces the person's mentions in free text, file by file (journaled),
    # then plans and applies the purge: a kill between leaves files in this state, which the
    # rerun finishes like any other.
    middle: dict[str, str] = field(default_factory=dict)

    def points(self) -> list[int]:
        """The calls to kill at (1-based, the process dies just before the call)."""
        if SETTING == "all":
            return [n for n, _, _ in self.calls]
        writes = [n for n, method, _ in self.calls if method in MUTATING]
        wanted = min(int(SETTING), len(writes))
        if wanted <= 1:
            return writes[:wanted]
        picks = {round(i * (len(writes) - 1) / (wanted - 1)) for i in range(wanted)}
        return [writes[i] for i in sorted(picks)]


_baselines: dict[str, Baseline] = {}


@pytest.fixture
def baseline(
    request: pytest.FixtureRequest,
    world: Path,
    fixture_tree: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[str], Baseline]:
    def make(name: str) -> Baseline:
        if name not in _baselines:
            op = operation(name, world, fixture_tree)
            where = tmp_path_factory.mktemp(f"faults-{name}-clean")
            run = fresh(op, where)
            before = snapshot(run.lake)
            log = where / "calls.log"
            done = in_subprocess(op, run, PIISCAN_CALL_LOG=str(log))
            assert done.returncode == 0, done.stderr
            calls = []
            for line in log.read_text().splitlines():
                number, method, key = line.split(" ", 2)
                calls.append((int(number), method, key))
            middle = mentions_redacted(op, where / "middle") if name == "subject-erase" else {}
            _baselines[name] = Baseline(op, before, snapshot(run.lake), run, calls, middle)
        return _baselines[name]

    return make


def mentions_redacted(op: Operation, where: Path) -> dict[str, str]:
    """The lake after an erasure's first phase alone (its mentions replaced in free text)."""
    from piiscan.lake.keyring import load_key
    from piiscan.pipeline.subject import erase_mentions, resolve
    from piiscan.subject import Selector

    run = fresh(op, where)
    storage = LocalStorage(run.lake)
    employee = op.args[op.args.index("--employee-id") + 1]
    identity = resolve(storage, op.customer, Selector.of("employee_id", employee))
    key = load_key(op.customer, run.keys)
    erase_mentions(storage, op.customer, identity, key, [], datetime(2026, 11, 28, tzinfo=UTC))
    return snapshot(run.lake)


def deleted_objects(lake: Path, customer: str) -> Counter[tuple[str, str]]:
    """(key, sha256) of every object the ledger records as deleted or rewritten."""
    found: Counter[tuple[str, str]] = Counter()
    for entry in ledger.read_entries(LocalStorage(lake), customer):
        for record in [*entry.get("files", []), *entry.get("quarantine_files", [])]:
            found[(record["key"], record["removed_sha256"])] += 1
        for other in entry.get("other_objects_removed", []):
            found[(other["key"], other["sha256"])] += 1
    return found


def rows_deleted(lake: Path, customer: str) -> int:
    return sum(e["rows_deleted"] for e in ledger.read_entries(LocalStorage(lake), customer))


def certified(lake: Path, customer: str) -> tuple[list[int], int, Counter[str]]:
    """Ledger entries the certificates cover (in order, repeats kept), objects and rows deleted."""
    storage = LocalStorage(lake)
    entries: list[int] = []
    objects = 0
    rows: Counter[str] = Counter()
    for key in certificate_keys(storage, customer):
        certificate = read_certificate(storage, key)
        entries += certificate["ledger_entries"]
        objects += certificate["objects_deleted"]
        rows.update(certificate["rows_deleted"])
        assert storage.exists(key.removesuffix(".json") + ".html"), key
    return entries, objects, rows


def second_landing_copies(landing: dict[str, str]) -> set[str]:
    """Landing keys holding the same bytes as another, under the name ingest gives a file when
    its own name is taken (<stem>.<first 8 hex of its SHA-256>.<ext>)."""
    holders = Counter(landing.values())
    return {
        k
        for k, digest in landing.items()
        if holders[digest] > 1 and f".{digest[:8]}" in k.rsplit("/", 1)[-1]
    }


def check_killed(base: Baseline, state: dict[str, str], point: str) -> None:
    """Every object the run may touch is as before or as after (none half-written)."""
    for name in set(within(base.before, STABLE)) | set(within(base.after, STABLE)):
        if base.op.name == "ingest" and name.startswith("quarantine/"):
            continue  # run ids name the folder: compared by file name after the rerun
        allowed = (base.before.get(name), base.after.get(name), base.middle.get(name, "-"))
        assert state.get(name) in allowed, (point, name)


def check_rerun(base: Baseline, run: Run, point: str) -> None:
    """The rerun left what the uninterrupted run did, recorded once."""
    op, final = base.op, snapshot(run.lake)
    if op.name == "ingest":
        kept = ("restricted/", "analytics/")
        assert within(final, kept) == within(base.after, kept), point
        landing = within(final, ("landing/",))
        copies = second_landing_copies(landing)
        if copies:  # the known defect test_ingest_killed_before_its_manifest_write... shows
            landing = {k: v for k, v in landing.items() if k not in copies}
        assert landing == within(base.after, ("landing/",)), point
        manifest = f"state/ingested/{op.customer}.json"
        assert set(json.loads((run.lake / manifest).read_text())) == set(
            json.loads((base.clean.lake / manifest).read_text())
        ), point
        names = {k.rsplit("/", 1)[-1] for k in final if k.startswith("quarantine/")}
        expected = {k.rsplit("/", 1)[-1] for k in base.after if k.startswith("quarantine/")}
        assert names == expected, point
        return
    assert within(final, STABLE) == within(base.after, STABLE), point
    storage = LocalStorage(run.lake)
    verified = ledger.verify(storage, op.customer, lambda: load_ledger_key(op.customer, run.keys))
    assert verified.ok, (point, verified.problems)
    assert deleted_objects(run.lake, op.customer) == deleted_objects(
        base.clean.lake, op.customer
    ), point  # each deleted or rewritten object exactly once
    assert max(deleted_objects(run.lake, op.customer).values()) == 1, point
    assert rows_deleted(run.lake, op.customer) == rows_deleted(base.clean.lake, op.customer)
    if op.name == "terminate":
        entries, objects, rows = certified(run.lake, op.customer)
        terminations = [
            e["seq"] for e in ledger.read_entries(storage, op.customer) if e["kind"] == "terminate"
        ]
        assert sorted(entries) == terminations, point  # every entry certified once
        _, clean_objects, clean_rows = certified(base.clean.lake, op.customer)
        assert (objects, +rows) == (clean_objects, +clean_rows), point
        record = json.loads((run.lake / f"state/terminations/{op.customer}.json").read_text())
        assert record["status"] == "applied" and record["key"]["state"] == "retired", point
        assert not (run.keys / f"{op.customer}.json").exists(), point


@pytest.mark.parametrize("name", ["ingest", "purge", "terminate", "subject-erase"])
def test_a_kill_at_any_storage_call_leaves_before_or_after_and_the_rerun_finishes(
    name: str,
    baseline: Callable[[str], Baseline],
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    base = baseline(name)
    points = base.points()
    assert points, "the operation made no change"
    record_property("storage_calls", len(base.calls))
    record_property("kill_points", len(points))
    failures = []
    for number in points:
        method, key = base.calls[number - 1][1:]
        point = f"{name}: killed before call {number} of {len(base.calls)} ({method} {key})"
        try:
            kill_and_rerun(base, number, tmp_path / str(number), point)
        except AssertionError as exc:
            failures.append(f"{point}: {str(exc)[:600]}")
    assert not failures, "\n".join(failures)


def kill_and_rerun(base: Baseline, number: int, where: Path, point: str) -> Run:
    """Kill the operation before storage call `number` on a fresh lake, check, rerun, check."""
    run = fresh(base.op, where)
    killed = in_subprocess(base.op, run, PIISCAN_CRASH_AT_CALL=str(number))
    assert killed.returncode == 70, (point, killed.stderr[-2000:])
    check_killed(base, snapshot(run.lake), point)
    rerun = CliRunner().invoke(app, command(base.op, run))
    assert rerun.exit_code == 0, (point, rerun.output[-2000:])
    check_rerun(base, run, point)
    return run


def test_ingest_killed_before_its_manifest_write_keeps_one_landing_copy(
    baseline: Callable[[str], Baseline], tmp_path: Path
) -> None:
    base = baseline("ingest")
    manifest = [
        n
        for n, method, key in base.calls
        if method in ("write_bytes", "create", "rewrite") and "ingested/" in key
    ]
    run = fresh(base.op, tmp_path)
    killed = in_subprocess(base.op, run, PIISCAN_CRASH_AT_CALL=str(manifest[0]))
    assert killed.returncode == 70
    assert CliRunner().invoke(app, command(base.op, run)).exit_code == 0
    landing = within(snapshot(run.lake), ("landing/",))
    assert not second_landing_copies(landing)
    assert landing == within(base.after, ("landing/",))
