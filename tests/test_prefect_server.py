"""Deployments on a real Prefect server: prefect.yaml deployed to a process pool, a worker
runs `terminate-customer` and `nightly` triggered through the API, nothing personal reaches
Prefect's database."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest

from piiscan.lake import ledger
from piiscan.lake.keyring import create_key, load_ledger_key
from piiscan.storage import LocalStorage
from piiscan.testing.stage import stage_fixtures

from .prefect_server import (
    FINAL,
    call,
    prefect_server,
    prefect_text,
    run_deployment,
    start_deployment,
    wait_for,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A Prefect server on a free loopback port, the pool, the deployments and a worker."""
    home = tmp_path_factory.mktemp("prefect-home")
    with prefect_server(home, tmp_path_factory.mktemp("server-keys")) as running:
        yield running


def approve(api: str, run_id: str, answer: bool) -> dict[str, Any]:
    """Answer a termination paused for approval; returns the run's final state."""
    paused = wait_for(api, run_id, {"PAUSED"})
    assert paused["state_type"] == "PAUSED", paused["state"]
    call("POST", f"{api}/flow_runs/{run_id}/resume", json={"run_input": {"approve": answer}})
    return wait_for(api, run_id, FINAL)


def terminate_initech(api: str, lake: Path) -> str:
    """Start the terminate-customer deployment for initech on its effective date (applying,
    once approved; started earlier, it would only schedule the termination)."""
    return start_deployment(
        api,
        "terminate-customer/terminate-customer",
        {
            "customer": "initech",
            "effective_date": "2026-12-31",
            "dry_run": False,
            "lake": str(lake),
        },
        env={"PIISCAN_NOW": "2026-12-31T09:00:00Z"},
    )


def personal_values(fixture_tree: Path) -> list[str]:
    frames = [pl.read_parquet(p) for p in fixture_tree.glob("*/generic/*.parquet")]
    return sorted(
        {
            v
            for f in frames
            for c in ("user_name", "wireless_number", "employee_id")
            for v in f[c].to_list()
            if v
        }
    )


@pytest.fixture
def staged(fixture_tree: Path, tmp_path: Path, server: dict[str, Any]) -> Path:
    lake = tmp_path / "lake"
    stage_fixtures(LocalStorage(lake), fixture_tree)
    for customer in ("acme", "globex", "initech"):
        create_key(customer, server["keys"])
    return lake


def test_nightly_deployment_carries_its_cron_schedule(server: dict[str, Any]) -> None:
    deployment = httpx.get(f"{server['api']}/deployments/name/nightly/nightly", timeout=10).json()
    assert [s["schedule"]["cron"] for s in deployment["schedules"]] == ["0 2 * * *"]
    assert deployment["work_pool_name"] == "piiscan"


def test_nightly_runs_on_the_worker_and_stores_nothing_personal(
    server: dict[str, Any], staged: Path, fixture_tree: Path
) -> None:
    state = run_deployment(server["api"], "nightly/nightly", {"lake": str(staged)})
    assert state["state_type"] == "COMPLETED", state["state"]
    for customer in ("acme", "globex", "initech"):
        assert list((staged / "reports" / customer).glob("*.json"))
        assert list((staged / "analytics" / "usage_events").glob(f"customer={customer}"))
    text = prefect_text(server["api"], state["id"])
    assert "nightly-acme" in text  # the run's artifact is there
    values = personal_values(fixture_tree)
    assert len(values) > 20 and not [v for v in values if v in text]


def test_terminate_customer_runs_with_parameters_and_certifies(
    server: dict[str, Any], staged: Path, fixture_tree: Path
) -> None:
    nightly = run_deployment(server["api"], "nightly/nightly", {"lake": str(staged)})
    assert nightly["state_type"] == "COMPLETED"
    run_id = terminate_initech(server["api"], staged)
    state = approve(server["api"], run_id, True)  # a deployed termination waits for approval
    assert state["state_type"] == "COMPLETED", state["state"]
    storage = LocalStorage(staged)
    assert not list(storage.list("landing/initech")) and not list(storage.list("reports/initech"))
    certificate = json.loads(storage.read_bytes("certificates/initech/2026-12-31.json"))
    signed = server["keys"]  # the worker's keys folder holds the ledger key it created
    assert ledger.verify(storage, "initech", lambda: load_ledger_key("initech", signed)).ok
    assert certificate["ledger"]["seq"] == len(ledger.read_entries(storage, "initech"))
    assert not (server["keys"] / "initech.json").exists()  # no hold needs the key
    text = prefect_text(server["api"], state["id"])
    assert "termination-plan-initech" in text and "termination-certificate-initech" in text
    assert not [v for v in personal_values(fixture_tree) if v in text]


def test_a_termination_not_approved_deletes_nothing(server: dict[str, Any], staged: Path) -> None:
    before = sorted(p.relative_to(staged) for p in staged.rglob("*") if p.is_file())
    state = approve(server["api"], terminate_initech(server["api"], staged), False)
    assert state["state_type"] == "COMPLETED", state["state"]
    assert sorted(p.relative_to(staged) for p in staged.rglob("*") if p.is_file()) == before
    assert (server["keys"] / "initech.json").exists()


def test_a_termination_whose_lake_changed_while_paused_is_refused(
    server: dict[str, Any], staged: Path
) -> None:
    run_id = terminate_initech(server["api"], staged)
    assert wait_for(server["api"], run_id, {"PAUSED"})["state_type"] == "PAUSED"
    late = staged / "landing" / "initech" / "att" / "late-delivery.csv"
    late.parent.mkdir(parents=True, exist_ok=True)
    late.write_text("delivered after the plan was published\n")
    before = sorted(p.relative_to(staged) for p in staged.rglob("*") if p.is_file())
    call(
        "POST", f"{server['api']}/flow_runs/{run_id}/resume", json={"run_input": {"approve": True}}
    )
    state = wait_for(server["api"], run_id, FINAL)
    assert state["state_type"] == "FAILED"
    assert "stale plan" in prefect_text(server["api"], run_id)
    assert sorted(p.relative_to(staged) for p in staged.rglob("*") if p.is_file()) == before
    assert not (staged / "certificates").exists()


def test_a_failing_customer_does_not_stop_the_others(server: dict[str, Any], staged: Path) -> None:
    (staged / "state" / "ingested").mkdir(parents=True)
    (staged / "state" / "ingested" / "globex.json").write_text("{broken")
    state = run_deployment(server["api"], "nightly/nightly", {"lake": str(staged)})
    assert state["state_type"] == "FAILED"
    assert "globex: StorageError" in json.dumps(prefect_text(server["api"], state["id"]))
    assert list((staged / "reports" / "acme").glob("*.json"))
    assert list((staged / "reports" / "initech").glob("*.json"))
    [failed] = (staged / "reports" / "globex").iterdir()  # no report: its failure's record
    assert failed.name.endswith(".failed.json") and "StorageError" in failed.read_text()
    shutil.rmtree(staged / "state" / "ingested")
