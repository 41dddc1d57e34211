"""A real Prefect server for tests: started on a free loopback port with its own home, the
`piiscan` process pool, `prefect deploy --all` from the repository, and N process workers;
stopped after (TERM, then INT: a worker ignores a single TERM). With the calls tests make."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import REPO

PREFECT = str(Path(sys.executable).with_name("prefect"))
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop(process: subprocess.Popen[bytes]) -> None:
    """TERM, then INT (a worker ignores a single TERM), then KILL."""
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGKILL):
        if process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def prefect_server(
    home: Path, keys: Path, workers: int = 1, limit: int | None = None
) -> Iterator[dict[str, Any]]:
    """The server, pool, deployments and workers (each running at most `limit` flow runs at
    once, when given); yields api, keys and home."""
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_WORKER_QUERY_SECONDS": "2",
        "PIISCAN_KEYS_DIR": str(keys),
        "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
    }
    log = (home / "server.log").open("wb")
    process = subprocess.Popen(
        [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    started: list[subprocess.Popen[bytes]] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        else:
            pytest.fail(
                f"Prefect server did not start: {(home / 'server.log').read_text()[-2000:]}"
            )
        for command in (
            [PREFECT, "work-pool", "create", "piiscan", "--type", "process"],
            [PREFECT, "--no-prompt", "deploy", "--all"],
        ):
            done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
            assert done.returncode == 0, done.stdout + done.stderr
        for n in range(workers):
            worker_log = (home / f"worker-{n}.log").open("wb")
            command = [PREFECT, "worker", "start", "--pool", "piiscan", "--name", f"worker-{n}"]
            started.append(
                subprocess.Popen(
                    command + (["--limit", str(limit)] if limit else []),
                    cwd=REPO,
                    env=env,
                    stdout=worker_log,
                    stderr=subprocess.STDOUT,
                )
            )
        yield {"api": api, "keys": keys, "home": home}
    finally:
        for worker in started:
            stop(worker)
        stop(process)


def call(method: str, url: str, **kw: Any) -> httpx.Response:
    """One API call; a busy server (503, SQLite serializes writes) is asked again a few times."""
    for attempt in range(6):
        response = httpx.request(method, url, timeout=10, **kw)
        if response.status_code != 503:
            return response.raise_for_status()
        time.sleep(1 + attempt)
    return response.raise_for_status()


def start_deployment(
    api: str, name: str, parameters: dict[str, Any], env: dict[str, str] | None = None
) -> str:
    """Trigger a deployment through the API (env: the run's extra environment); returns the
    flow run's id."""
    deployment = call("GET", f"{api}/deployments/name/{name}").json()
    body: dict[str, Any] = {"parameters": parameters}
    if env:
        body["job_variables"] = {"env": env}
    run = call("POST", f"{api}/deployments/{deployment['id']}/create_flow_run", json=body).json()
    return str(run["id"])


def wait_for(api: str, run_id: str, types: set[str], seconds: float = 600) -> dict[str, Any]:
    """The flow run once its state type is one of types (or final)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = call("GET", f"{api}/flow_runs/{run_id}").json()
        if state["state_type"] in types | FINAL:
            return dict(state)
        time.sleep(2)
    pytest.fail(f"flow run {run_id} did not reach {sorted(types)}")


def run_deployment(api: str, name: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """Trigger a deployment through the API and wait for a final state."""
    return wait_for(api, start_deployment(api, name, parameters), FINAL)


def child_runs(api: str, run_id: str) -> list[dict[str, Any]]:
    """The flow runs a flow run started (the coordinator's per-customer runs)."""
    body = {"flow_runs": {"parent_flow_run_id": {"any_": [run_id]}}, "limit": 200}
    runs: list[dict[str, Any]] = call("POST", f"{api}/flow_runs/filter", json=body).json()
    return runs


def task_runs(api: str, run_id: str) -> list[dict[str, Any]]:
    """A flow run's task runs."""
    body = {"flow_runs": {"id": {"any_": [run_id]}}, "limit": 200}
    runs: list[dict[str, Any]] = call("POST", f"{api}/task_runs/filter", json=body).json()
    return runs


def prefect_text(api: str, run_id: str) -> str:
    """Everything Prefect stored about a flow run and the runs it started: parameters, logs,
    artifacts, task runs."""
    ids = [run_id, *(r["id"] for r in child_runs(api, run_id))]
    parts = [json.dumps(call("GET", f"{api}/flow_runs/{i}").json()) for i in ids]
    filters = {"flow_runs": {"id": {"any_": ids}}}
    for path in ("logs/filter", "artifacts/filter", "task_runs/filter"):
        body = {**filters, "limit": 200}
        parts.append(json.dumps(call("POST", f"{api}/{path}", json=body).json()))
    return "\n".join(parts)
