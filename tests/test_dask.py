"""Dask inside one big customer: on a real LocalCluster (two worker processes, one thread each)
and a real Prefect server, the customer's analytics zone and purge equal the serial run's, and
the files ran on more than one worker process; without a server, Dask fails at once and says so."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from distributed import LocalCluster

from flows.nightly import customer_nightly, nightly
from flows.on_dask import DaskNeedsServer
from piiscan.errors import PiiscanError
from piiscan.lake import ledger
from piiscan.policy import load_config
from piiscan.storage import LocalStorage
from piiscan.testing.stage import stage_fixtures

from .conftest import CONFIGS
from .prefect_server import prefect_server

CUSTOMER = "acme"


def configs_with(root: Path, **acme: Any) -> Path:
    """configs/ whose retention makes rows of every dataset due today (rewrites and drops, held
    rows pseudonymized), with acme's extra settings."""
    shutil.copytree(CONFIGS, root)
    retention = yaml.safe_load((root / "retention.yaml").read_text())
    for rule in retention["datasets"].values():
        rule["keep_months"] = 1
    retention.pop("customers", None)
    (root / "retention.yaml").write_text(yaml.safe_dump(retention))
    customers = yaml.safe_load((root / "customers.yaml").read_text())
    for entry in customers["customers"]:
        if entry["id"] == CUSTOMER:
            entry.update(acme)
    (root / "customers.yaml").write_text(yaml.safe_dump(customers))
    return root


@pytest.fixture
def configs(tmp_path: Path) -> Path:
    return configs_with(tmp_path / "configs")


def staged(fixture_tree: Path, root: Path) -> Path:
    """A lake with acme's delivered files in landing."""
    tree = root / "tree"
    shutil.copytree(fixture_tree / CUSTOMER, tree / CUSTOMER)
    stage_fixtures(LocalStorage(root / "lake"), tree)
    return root / "lake"


def frames(lake: Path, zone: str) -> dict[str, pl.DataFrame]:
    """Every finished parquet file of acme's zone, by its path in the lake."""
    base = lake / zone
    return {
        str(p.relative_to(lake)): pl.read_parquet(p)
        for p in sorted(base.rglob("*.parquet"))
        if f"customer={CUSTOMER}" in str(p) and not p.name.startswith(".")
    }


def purge_entry(lake: Path) -> dict[str, Any]:
    """The counts of acme's last ledger entry (what the serial and the Dask run must share)."""
    entry = ledger.read_entries(LocalStorage(lake), CUSTOMER)[-1]
    files = sorted(
        (f["key"], f["action"], f["rows_deleted"], f["rows_after"], f["written_sha256"])
        for f in entry["files"]
    )
    return {"rows_deleted": entry["rows_deleted"], "rows_kept": entry["rows_kept"], "files": files}


def fresh_prefect_services() -> None:
    """Stop Prefect's in-process services (concurrency-slot acquisition, events, API logs):
    each keeps the client it first opened, so one started by an earlier test on the ephemeral
    server would take this test's customer slot there and never give it back here."""
    from prefect._internal.concurrency.services import _QueueServiceBase

    _QueueServiceBase.drain_all(timeout=30)


@pytest.fixture
def server(tmp_path_factory: pytest.TempPathFactory, customer_keys: Path) -> Iterator[str]:
    """A real Prefect server this process and the Dask workers it starts talk to (its API URL),
    for this test only: the tests after it see no server."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    home = tmp_path_factory.mktemp("prefect-dask-home")
    with prefect_server(home, customer_keys, workers=0) as running:
        before = os.environ.get("PREFECT_API_URL")
        os.environ["PREFECT_API_URL"] = running["api"]  # inherited by the worker processes
        fresh_prefect_services()
        try:
            with temporary_settings(updates={PREFECT_API_URL: running["api"]}):
                yield str(running["api"])
        finally:
            fresh_prefect_services()
            if before is None:
                os.environ.pop("PREFECT_API_URL", None)
            else:
                os.environ["PREFECT_API_URL"] = before


@pytest.mark.integration
def test_files_fan_out_on_two_dask_worker_processes_and_match_the_serial_run(
    server: str, fixture_tree: Path, configs: Path, tmp_path: Path
) -> None:
    serial_lake = staged(fixture_tree, tmp_path / "serial")
    dask_lake = staged(fixture_tree, tmp_path / "dask")
    serial = customer_nightly(str(serial_lake), str(configs), CUSTOMER)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        fanned = customer_nightly(
            str(dask_lake), str(configs), CUSTOMER, dask_address=cluster.scheduler_address
        )

    analytics = frames(dask_lake, "analytics")
    assert len(analytics) >= 4  # a customer with several files
    assert analytics.keys() == frames(serial_lake, "analytics").keys()
    for name, frame in frames(serial_lake, "analytics").items():
        assert analytics[name].equals(frame), name
    restricted = {k: f.height for k, f in frames(dask_lake, "restricted").items()}
    assert restricted == {k: f.height for k, f in frames(serial_lake, "restricted").items()}
    entry = purge_entry(dask_lake)
    assert entry == purge_entry(serial_lake)
    assert entry["rows_deleted"] > 0 and any(f[1] == "rewrite" for f in entry["files"])
    # The report gets what the serial run gives.
    assert {k: v for k, v in fanned.items() if k not in ("report", "html", "dask_pids")} == {
        k: v for k, v in serial.items() if k not in ("report", "html")
    }
    pids = set(fanned["dask_pids"])
    assert len(pids) >= 2 and os.getpid() not in pids  # ran on both worker processes


def test_dask_without_a_prefect_server_fails_at_once_and_says_why(
    fixture_tree: Path, configs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    lake = staged(fixture_tree, tmp_path)
    with pytest.raises(DaskNeedsServer, match="need a real Prefect server: set PREFECT_API_URL"):
        customer_nightly.fn(str(lake), str(configs), CUSTOMER, dask_workers=2)
    assert not (lake / "analytics").exists()  # nothing ran


def test_a_customer_set_to_dask_fails_the_embedded_nightly_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    configs = configs_with(tmp_path / "configs", dask={"workers": 2})
    assert load_config(configs).customer(CUSTOMER).dask is not None
    with pytest.raises(DaskNeedsServer, match=CUSTOMER):
        nightly.fn(str(tmp_path / "lake"), str(configs))


def test_a_typo_in_a_customers_dask_setting_fails_at_load(tmp_path: Path) -> None:
    configs = configs_with(tmp_path / "configs", dask={"worker": 2})
    with pytest.raises(PiiscanError, match="dask"):
        load_config(configs)
