"""Scale-out on a real Prefect server with two process workers: the deployed nightly is a
coordinator that starts one `customer-nightly` run per customer; six customers spread over the
workers, a failing customer does not stop the others and is named, only transient failures are
retried, and two runs of one customer never overlap (the per-customer concurrency limit)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from piiscan.lake import clock
from piiscan.lake.keyring import create_key
from piiscan.lake.locks import customer_lock
from piiscan.storage import LocalStorage
from piiscan.testing.stage import stage_fixtures

from .conftest import CONFIGS
from .prefect_server import (
    FINAL,
    call,
    child_runs,
    prefect_server,
    start_deployment,
    task_runs,
    wait_for,
)

pytestmark = pytest.mark.integration
# Three more customers with the carriers of the first three (their files are copies).
CLONES = {"umbrella": "acme", "stark": "globex", "wayne": "initech"}
CUSTOMERS = ("acme", "globex", "initech", *CLONES)


@pytest.fixture(scope="module")
def configs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """configs/ with six customers."""
    root = tmp_path_factory.mktemp("six-customers") / "configs"
    shutil.copytree(CONFIGS, root)
    document = yaml.safe_load((root / "customers.yaml").read_text())
    by_id = {c["id"]: c for c in document["customers"]}
    for clone, original in CLONES.items():
        document["customers"].append({**by_id[original], "id": clone, "name": clone.title()})
    (root / "customers.yaml").write_text(yaml.safe_dump(document))
    return root


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("prefect-scale-home")
    keys = tmp_path_factory.mktemp("scale-keys")
    for customer in CUSTOMERS:
        create_key(customer, keys)
    # At most four flow runs per worker: the coordinator and three customers fill one, so the
    # other worker takes the rest.
    with prefect_server(home, keys, workers=2, limit=4) as running:
        yield running


@pytest.fixture
def lake(fixture_tree: Path, tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    for customer in ("acme", "globex", "initech"):
        shutil.copytree(fixture_tree / customer, tree / customer)
    for clone, original in CLONES.items():
        shutil.copytree(fixture_tree / original, tree / clone)
    lake = tmp_path / "lake"
    stage_fixtures(LocalStorage(lake), tree)
    return lake


def parameters(lake: Path, configs: Path) -> dict[str, Any]:
    return {"lake": str(lake), "config_dir": str(configs)}


def wait_for_task(
    api: str, coordinator: str, customer: str, task: str, names: set[str]
) -> dict[str, Any]:
    """A task run of the customer's run (started by the coordinator) once its state name is one
    of names."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        for run in child_runs(api, coordinator):
            if run["parameters"].get("customer") != customer:
                continue
            for found in task_runs(api, run["id"]):
                if found["name"].startswith(task) and found["state_name"] in names:
                    return found
        time.sleep(1)
    pytest.fail(f"{customer}'s {task} task never reached {sorted(names)}")


def when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_the_nightly_fans_out_one_run_per_customer_over_two_workers(
    server: dict[str, Any], lake: Path, configs: Path
) -> None:
    api = server["api"]
    # A permanent failure (a damaged manifest) and a transient one (the lake lock held by a
    # command for a few seconds, released before the retry).
    (lake / "state" / "ingested").mkdir(parents=True, exist_ok=True)
    (lake / "state" / "ingested" / "stark.json").write_text("{broken")
    held, release = threading.Event(), threading.Event()

    def hold_wayne() -> None:
        with customer_lock(LocalStorage(lake), "wayne", clock.now()):
            held.set()
            release.wait(600)

    holder = threading.Thread(target=hold_wayne)
    holder.start()
    held.wait(10)
    try:
        coordinator = start_deployment(api, "nightly/nightly", parameters(lake, configs))
        retrying = wait_for_task(api, coordinator, "wayne", "lake-lock", {"AwaitingRetry"})
    finally:
        release.set()  # the lock is free before the retry
        holder.join()
    assert retrying["state_name"] == "AwaitingRetry"
    state = wait_for(api, coordinator, FINAL)
    assert state["state_type"] == "FAILED", state["state"]
    message = state["state"]["message"]
    assert "1 customer(s) failed: stark: StorageError" in message, message

    runs = {r["parameters"]["customer"]: r for r in child_runs(api, state["id"])}
    assert set(runs) == set(CUSTOMERS)
    assert {c for c, r in runs.items() if r["state_type"] != "COMPLETED"} == {"stark"}
    for customer in set(CUSTOMERS) - {"stark"}:
        assert list((lake / "reports" / customer).glob("*.json")), customer
    # The coordinator recorded stark's failure and rebuilt the index once all runs had ended.
    [failed] = (lake / "reports" / "stark").glob("*.failed.json")
    assert "StorageError" in json.loads(failed.read_text())["reason"]
    index = json.loads((lake / "reports" / "index.json").read_text())
    statuses = {c["customer"]: c["status"] for c in index["customers"]}
    assert statuses == {c: "failed" if c == "stark" else "ok" for c in CUSTOMERS}
    assert {r["parameters"].get("index") for r in runs.values()} == {False}
    # Both workers took customer runs.
    worker_logs = [(server["home"] / f"worker-{n}.log").read_text() for n in range(2)]
    taken = [{c for c, r in runs.items() if r["id"] in text} for text in worker_logs]
    assert taken[0] and taken[1] and taken[0] | taken[1] == set(CUSTOMERS), taken

    # The transient failure was retried and passed; the permanent one was not retried.
    wayne = task_runs(api, runs["wayne"]["id"])
    lock = next(t for t in wayne if t["name"].startswith("lake-lock"))
    assert lock["state_type"] == "COMPLETED" and lock["run_count"] >= 2
    stark = task_runs(api, runs["stark"]["id"])
    ingest = next(t for t in stark if t["name"].startswith("ingest"))
    assert ingest["state_type"] == "FAILED" and ingest["run_count"] == 1


def test_two_runs_of_one_customer_never_overlap(
    server: dict[str, Any], lake: Path, configs: Path
) -> None:
    api = server["api"]
    both = [
        start_deployment(
            api, "customer-nightly/customer-nightly", {**parameters(lake, configs), "customer": c}
        )
        for c in ("acme", "acme")
    ]
    states = [wait_for(api, run_id, FINAL) for run_id in both]
    assert [s["state_type"] for s in states] == ["COMPLETED", "COMPLETED"], states
    spans = []
    for run_id in both:
        tasks = task_runs(api, run_id)
        spans.append(
            (min(when(t["start_time"]) for t in tasks), max(when(t["end_time"]) for t in tasks))
        )
    first, second = sorted(spans)
    assert first[1] <= second[0], spans  # the second started its work after the first ended


def test_a_quiet_night_runs_its_customers_in_one_batch_per_worker(
    server: dict[str, Any], lake: Path, configs: Path
) -> None:
    api = server["api"]
    first = start_deployment(api, "nightly/nightly", parameters(lake, configs))
    assert wait_for(api, first, FINAL)["state_type"] == "COMPLETED"
    assert len(child_runs(api, first)) == len(CUSTOMERS)  # everything new: one run each
    # Night two: only acme has a delivery (a copy of one of its files under a new name).
    landed = next(p for p in sorted((lake / "landing" / "acme").rglob("*")) if p.is_file())
    shutil.copy(landed, landed.with_name("again_" + landed.name))
    second = start_deployment(api, "nightly/nightly", parameters(lake, configs))
    state = wait_for(api, second, FINAL)
    assert state["state_type"] == "COMPLETED", state["state"]
    runs = child_runs(api, second)
    alone = [r for r in runs if "batch" not in r["parameters"]]
    quiet = [r for r in runs if "batch" in r["parameters"]]
    assert [r["parameters"]["customer"] for r in alone] == ["acme"]
    assert len(quiet) == 2  # one batch per online worker
    batched = [c for r in quiet for c in (r["parameters"]["customer"], *r["parameters"]["batch"])]
    assert sorted(batched) == sorted(set(CUSTOMERS) - {"acme"})
    assert all("quiet" in r["tags"] and r["state_type"] == "COMPLETED" for r in quiet)
    for run in quiet:  # a batch is one task run, not six per customer
        names = [t["name"].rsplit("-", 1)[0] for t in task_runs(api, run["id"])]
        assert names == ["quiet-batch"], names
    # Every customer reported night two, from whichever run it was in.
    run_id = next(iter(alone))["name"].removeprefix("acme-")
    for customer in CUSTOMERS:
        report = json.loads((lake / "reports" / customer / f"{run_id}.json").read_text())
        assert report["run_id"] == run_id and report["ingest"]["files_ingested"] == 0, customer
    acme = json.loads((lake / "reports" / "acme" / f"{run_id}.json").read_text())
    delivered = [p for p in (lake / "landing" / "acme").rglob("*") if p.is_file()]
    assert acme["ingest"]["files_skipped"] == len(delivered)  # the copy too: already ingested
    # The index was rebuilt once at the end: no customer is failed or without a report. (Which
    # night it names as latest is not checked: the pinned clock gives both nights one time.)
    index = json.loads((lake / "reports" / "index.json").read_text())
    assert {c["status"] for c in index["customers"]} <= {"ok", "needs_review"}


def artifacts(api: str, run_ids: list[str]) -> list[dict[str, Any]]:
    body = {"artifacts": {"flow_run_id": {"any_": run_ids}}, "limit": 200}
    found: list[dict[str, Any]] = call("POST", f"{api}/artifacts/filter", json=body).json()
    return found


def test_operators_get_a_table_progress_per_customer_and_links(
    server: dict[str, Any], lake: Path, configs: Path
) -> None:
    api = server["api"]
    coordinator = start_deployment(api, "nightly/nightly", parameters(lake, configs))
    assert wait_for(api, coordinator, FINAL)["state_type"] == "COMPLETED"
    (table,) = [a for a in artifacts(api, [coordinator]) if a["key"] == "nightly-customers"]
    rows = json.loads(table["data"]) if isinstance(table["data"], str) else table["data"]
    assert {r["customer"] for r in rows} == set(CUSTOMERS)
    assert all(r["report"].endswith(".html") for r in rows)
    (index,) = [a for a in artifacts(api, [coordinator]) if a["key"] == "report-index"]
    assert str(lake / "reports" / "index.html") in str(index["data"])
    runs = child_runs(api, coordinator)
    progress = [a for a in artifacts(api, [r["id"] for r in runs]) if a["type"] == "progress"]
    assert sorted(a["key"] for a in progress) == sorted(f"progress-{c}" for c in CUSTOMERS)
    assert {float(a["data"]) for a in progress} == {100.0}
    links = [a for a in artifacts(api, [r["id"] for r in runs]) if a["key"].startswith("report-")]
    assert sorted(a["key"] for a in links) == sorted(f"report-{c}" for c in CUSTOMERS)
    assert all(".html" in str(a["data"]) for a in links)


def piiscan(server: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PREFECT_API_URL": server["api"], "PREFECT_HOME": str(server["home"])}
    return subprocess.run(
        [sys.executable, "-m", "piiscan.cli", *args], env=env, capture_output=True, text=True
    )


def test_keys_push_and_automations_create(server: dict[str, Any], tmp_path: Path) -> None:
    api = server["api"]
    keys = tmp_path / "keys"
    path = create_key("acme", keys)
    pushed = piiscan(server, "keys", "push", "-c", "acme", "--keys", str(keys), "--json")
    assert pushed.returncode == 0, pushed.stderr
    assert json.loads(pushed.stdout) == {"customer": "acme", "block": "piiscan-key-acme"}
    secret = path.read_text()
    assert secret not in pushed.stdout + pushed.stderr
    block = call("GET", f"{api}/block_types/slug/secret/block_documents/name/piiscan-key-acme")
    assert block.json()["name"] == "piiscan-key-acme"
    stored = call(
        "GET",
        f"{api}/block_types/slug/secret/block_documents/name/piiscan-key-acme",
        params={"include_secrets": "true"},
    ).json()
    assert json.loads(stored["data"]["value"]) == json.loads(secret)

    for _ in range(2):  # a second run replaces, never duplicates
        made = piiscan(server, "automations", "create", "--overrun-minutes", "90", "--json")
        assert made.returncode == 0, made.stderr
    listed = call("POST", f"{api}/automations/filter", json={}).json()
    mine = {a["name"]: a for a in listed if a["name"].startswith("piiscan:")}
    assert set(mine) == {
        "piiscan: a customer's night failed",
        "piiscan: a customer's night runs too long",
    }
    overrun = mine["piiscan: a customer's night runs too long"]["trigger"]
    assert overrun["posture"] == "Proactive" and overrun["within"] == 90 * 60
    assert overrun["match_related"]["prefect.resource.name"] == "customer-nightly"

    missing = piiscan(server, "keys", "push", "-c", "nobody", "--keys", str(keys))
    assert missing.returncode == 2 and "piiscan keys create --customer nobody" in missing.stderr
    unset = subprocess.run(
        [sys.executable, "-m", "piiscan.cli", "automations", "create"],
        env={k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"},
        capture_output=True,
        text=True,
    )
    assert unset.returncode == 2 and "PREFECT_API_URL is not set" in unset.stderr
