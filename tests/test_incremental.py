"""Incremental nights: a night with nothing delivered and nothing due rewrites no analytics
file; a new delivery writes only the files it adds; a changed action, a rotated key or an
analytics file changed behind piiscan's back makes the affected files be written again."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from piiscan.detect import Detector, Settings
from piiscan.lake.keyring import create_key, load_key
from piiscan.pipeline.ingest import deliver
from piiscan.pipeline.nightly import run_customer
from piiscan.policy import Config, load_config
from piiscan.pseudonymize import Key
from piiscan.storage import LocalStorage

from .conftest import CONFIGS

NIGHT = datetime(2026, 11, 28, 2, tzinfo=UTC)


def analytics(lake: Path) -> dict[str, tuple[int, int]]:
    """Every analytics file with its inode and mtime: a rewrite changes them."""
    found = {}
    for path in sorted((lake / "analytics").rglob("*.parquet")):
        stat = path.stat()
        found[str(path.relative_to(lake))] = (stat.st_ino, stat.st_mtime_ns)
    return found


def night(storage: LocalStorage, config: Config, key: Key, n: int) -> dict[str, object]:
    run = run_customer(
        storage,
        config,
        config.customer("globex"),
        f"20261128T02000{n}Z-aaaaaa",
        NIGHT,
        key,
        Detector(Settings(), employee_id_patterns=config.employee_id_patterns("globex")),
    )
    report: dict[str, object] = json.loads(storage.read_bytes(run.report_key))
    return report


def decisions(dataset: dict[str, Any]) -> set[tuple[str, str | None, str | None]]:
    """What is applied per column (name, entity, action): evidence aside."""
    return {(c["name"], c.get("entity"), c.get("action")) for c in dataset["columns"]}


def written(report: dict[str, object]) -> dict[str, int]:
    datasets = report["datasets"]
    assert isinstance(datasets, dict)
    return {d: v["files_written"] for d, v in datasets.items()}


@pytest.fixture
def globex(fixture_tree: Path, tmp_path: Path) -> tuple[LocalStorage, list[Path]]:
    """globex's lake with its first cycle delivered; its second cycle's files, held back."""
    storage = LocalStorage(tmp_path / "lake")
    files = sorted(p for p in (fixture_tree / "globex").rglob("*") if p.is_file())
    first, later = files[: len(files) // 2], files[len(files) // 2 :]
    for path in first:
        deliver(storage, "globex", path.relative_to(fixture_tree / "globex").parts[0], path)
    return storage, later


def test_a_night_with_nothing_new_rewrites_nothing(
    globex: tuple[LocalStorage, list[Path]], config: Config, tmp_path: Path
) -> None:
    storage, _ = globex
    key = load_key("globex", create_key("globex", tmp_path / "keys").parent)
    first = night(storage, config, key, 1)
    before = analytics(storage.root)
    assert before and sum(written(first).values()) == len(before)
    second = night(storage, config, key, 2)
    assert analytics(storage.root) == before  # no file written again: same inode, same mtime
    assert set(written(second).values()) == {0}
    assert second["datasets"] == {
        d: {**v, "files_written": 0}
        for d, v in first["datasets"].items()  # type: ignore[union-attr]
    }


def test_a_new_delivery_writes_what_it_adds_and_what_its_decisions_change(
    globex: tuple[LocalStorage, list[Path]], config: Config, tmp_path: Path, fixture_tree: Path
) -> None:
    storage, later = globex
    key = load_key("globex", create_key("globex", tmp_path / "keys").parent)
    first = night(storage, config, key, 1)
    before = analytics(storage.root)
    for path in later:
        deliver(storage, "globex", path.relative_to(fixture_tree / "globex").parts[0], path)
    second = night(storage, config, key, 2)
    after = analytics(storage.root)
    new = set(after) - set(before)
    rewritten = {k for k in before if after[k] != before[k]}
    assert new and sum(written(second).values()) == len(new) + len(rewritten)
    # A dataset whose column decisions the new files left alone keeps its old files as they
    # were; one whose decisions changed (a column found with more data) is written again.
    datasets_before, datasets_after = first["datasets"], second["datasets"]
    assert isinstance(datasets_before, dict) and isinstance(datasets_after, dict)
    same = {
        d for d in datasets_before if decisions(datasets_before[d]) == decisions(datasets_after[d])
    }
    assert same, "every dataset's decisions changed: the test shows nothing"
    for dataset in same:
        assert not {k for k in rewritten if f"/{dataset}/" in k}, dataset
    for dataset in set(datasets_before) - same:
        old = {k for k in before if f"/{dataset}/" in k}
        assert old <= rewritten, dataset


def test_changed_actions_a_rotated_key_or_a_changed_file_write_again(
    globex: tuple[LocalStorage, list[Path]], tmp_path: Path
) -> None:
    storage, _ = globex
    configs = tmp_path / "configs"
    shutil.copytree(CONFIGS, configs)
    config = load_config(configs)
    key = load_key("globex", create_key("globex", tmp_path / "keys").parent)
    night(storage, config, key, 1)
    before = analytics(storage.root)

    # An analytics file replaced or removed behind piiscan's back is written again.
    victim = next(iter(before))
    (storage.root / victim).unlink()
    report = night(storage, config, key, 2)
    assert sum(written(report).values()) == 1 and victim in analytics(storage.root)

    # A rotated key: every file again.
    rotated = Key("globex", "k2", os.urandom(32))
    report = night(storage, config, rotated, 3)
    assert sum(written(report).values()) == len(before)

    # A changed action for one dataset's column: that dataset's files again, no other.
    actions = configs / "actions.yaml"
    assert "\ncolumns: {}\n" in actions.read_text()
    actions.write_text(
        actions.read_text().replace("\ncolumns: {}\n", "\ncolumns:\n  devices:\n    model: drop\n")
    )
    changed = load_config(configs)
    report = night(storage, changed, rotated, 4)
    assert {d for d, n in written(report).items() if n} == {"devices"}
