"""Scale-out on a real Prefect server: a night of N synthetic customers (default 100, a few
large, most small) fanned out by the `nightly` coordinator, one `customer-nightly` run per
customer, over 1 process worker and then 2 (each running one flow run at a time), fresh lake
each, same data; then a no-op night (nothing new) on the same lake. Once on SQLite and, with
--postgres, once more on a PostgreSQL started and stopped here.

    .venv/bin/python benchmarks/scale.py [--customers 100] [--quick] [--no-postgres] [--json]
        [--sqlite-workers 1,2] [--postgres-workers 2]
    .venv/bin/python benchmarks/scale.py --markdown results.json   # the tables of a --json run

Progress goes to stderr, markdown tables to stdout (or one JSON document with --json).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psutil
import yaml

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PREFECT = str(BIN / "prefect")
PG_BIN = Path("/usr/lib/postgresql/15/bin")
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
# The three customers configs/ already names (retention.yaml has overrides for two of them),
# whose carrier mixes the clones copy: profile name -> customers.yaml entry.
PROFILES = ("acme", "globex", "initech")
COORDINATOR = """
import json, sys
from flows.nightly import nightly
state = nightly(lake={lake!r}, config_dir={configs!r}, fan_out=True, poll_seconds=1,
                return_state=True)
print(json.dumps({{"id": str(state.state_details.flow_run_id), "type": state.type.value,
                  "message": (state.message or "")[:300]}}))
"""


@dataclass(frozen=True)
class Size:
    """One size of customer: how many of them, and the generator's knobs."""

    name: str
    share: float  # of the customers (the rest are small)
    lines: int
    months: int
    events_per_line: int


FULL_SIZES = (
    Size("large", 0.05, 80, 3, 60),
    Size("medium", 0.20, 25, 2, 20),
    Size("small", 0.75, 4, 1, 10),
)
QUICK_SIZES = (
    Size("large", 0.2, 12, 2, 10),
    Size("medium", 0.3, 6, 1, 10),
    Size("small", 0.5, 3, 1, 5),
)


def say(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


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
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            continue


def call(method: str, url: str, **kw: Any) -> Any:
    """One API call; a busy server (503) is asked again a few times."""
    for attempt in range(8):
        try:
            response = httpx.request(method, url, timeout=30, **kw)
        except httpx.TransportError:
            time.sleep(1 + attempt)
            continue
        if response.status_code != 503:
            return response.raise_for_status().json()
        time.sleep(1 + attempt)
    return httpx.request(method, url, timeout=30, **kw).raise_for_status().json()


def stamp(value: str | None) -> float:
    if not value:
        raise ValueError("missing timestamp")
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


# The data ----------------------------------------------------------------------------------


def assign_sizes(customers: int, sizes: tuple[Size, ...]) -> list[Size]:
    """The size of each customer, largest first: at least one large customer, the shares of
    the rest rounded, small customers filling up."""
    out: list[Size] = []
    for size in sizes[:-1]:
        out += [size] * max(1, round(customers * size.share))
    out += [sizes[-1]] * (customers - len(out))
    return out[:customers]


def build_world(root: Path, customers: int, sizes: tuple[Size, ...], seed: int) -> dict[str, Any]:
    """Fixture trees from the project's seeded generator (one per size, the three carrier
    profiles each), copied under N customer ids; a config dir naming them; their keys; a
    template lake with every file delivered to landing/. Returns what was built."""
    from piiscan.lake.keyring import create_key
    from piiscan.storage import LocalStorage
    from piiscan.testing.generate import generate
    from piiscan.testing.stage import stage_fixtures

    templates = root / "templates"
    for n, size in enumerate(sizes):
        generate(
            templates / size.name,
            customers=len(PROFILES),
            months=size.months,
            lines=size.lines,
            events_per_line=size.events_per_line,
            seed=seed + n,
            broken=False,
        )
    configs = root / "configs"
    shutil.copytree(REPO / "configs", configs)
    document = yaml.safe_load((configs / "customers.yaml").read_text())
    by_id = {c["id"]: c for c in document["customers"]}
    tree, keys = root / "tree", root / "keys"
    entries, plan = [], []
    for i, size in enumerate(assign_sizes(customers, sizes)):
        profile = PROFILES[i % len(PROFILES)]
        customer = profile if i < len(PROFILES) else f"cust{i:03d}-{size.name}"
        shutil.copytree(templates / size.name / profile, tree / customer)
        entries.append({**by_id[profile], "id": customer, "name": customer.title()})
        create_key(customer, keys)
        plan.append({"customer": customer, "size": size.name, "profile": profile})
    document["customers"] = entries
    (configs / "customers.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    lake = root / "lake-template"
    files = stage_fixtures(LocalStorage(lake), tree)
    total = sum(p.stat().st_size for p in (lake / "landing").rglob("*") if p.is_file())
    per_size: dict[str, int] = {}
    for entry in plan:
        per_size[entry["size"]] = per_size.get(entry["size"], 0) + 1
    return {
        "configs": configs,
        "keys": keys,
        "lake": lake,
        "files": files,
        "landing_mb": round(total / 2**20, 1),
        "customers": plan,
        "per_size": per_size,
        "sizes": [size.__dict__ for size in sizes],
    }


# PostgreSQL ------------------------------------------------------------------------------


@contextmanager
def postgres() -> Iterator[str]:
    """A PostgreSQL 15 cluster in a temp dir on a free loopback port, with a `prefect`
    database; yields its asyncpg URL; stopped and deleted after."""
    data_root = Path(tempfile.mkdtemp(prefix="piiscan-scale-pg-"))
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(data_root, "postgres", "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    data, port = data_root / "data", free_port()
    run = {"check": True, "capture_output": True}
    subprocess.run([*as_postgres, str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres",
                    "--auth=trust", "-E", "UTF8"], **run)  # fmt: skip
    options = f"-p {port} -k {data_root} -c listen_addresses=127.0.0.1 -c max_connections=200"
    subprocess.run([*as_postgres, str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                    str(data_root / "postgres.log"), "-w", "start"], **run)  # fmt: skip
    try:
        subprocess.run([*as_postgres, str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p",
                        str(port), "-U", "postgres", "prefect"], **run)  # fmt: skip
        say(f"PostgreSQL 15 on 127.0.0.1:{port}")
        yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}/prefect"
    finally:
        subprocess.run([*as_postgres, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast",
                        "-w", "stop"], capture_output=True)  # fmt: skip
        shutil.rmtree(data_root, ignore_errors=True)


# The server and workers -----------------------------------------------------------------


def prefect_env(home: Path, api: str, keys: Path, database: str | None) -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}",
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_WORKER_QUERY_SECONDS": "2",
        "PIISCAN_KEYS_DIR": str(keys),
        "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    if database:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = database
    return env


@contextmanager
def prefect_server(home: Path, keys: Path, database: str | None) -> Iterator[dict[str, str]]:
    """`prefect server start` on a free port, the `piiscan` process pool and the
    customer-nightly deployment (only that one: the coordinator runs in the benchmark's own
    child process, so no worker slot is spent waiting, and no schedule is created)."""
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = prefect_env(home, api, keys, database)
    log = (home / "server.log").open("wb")
    server = subprocess.Popen(
        [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                tail = (home / "server.log").read_text()[-2000:]
                raise SystemExit(f"Prefect server did not start:\n{tail}")
            time.sleep(1)
        for command in (
            [PREFECT, "work-pool", "create", "piiscan", "--type", "process"],
            [PREFECT, "--no-prompt", "deploy", "--name", "customer-nightly"],
        ):
            done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
            if done.returncode:
                raise SystemExit(done.stdout + done.stderr)
        say(f"Prefect server on {api} ({'PostgreSQL' if database else 'SQLite'})")
        yield env
    finally:
        stop(server)


class Workers:
    """N process workers (one flow run at a time each), their process trees' memory sampled."""

    def __init__(self, env: dict[str, str], home: Path, count: int, tag: str) -> None:
        self.processes: list[subprocess.Popen[bytes]] = []
        for n in range(count):
            log = (home / f"worker-{tag}-{n}.log").open("wb")
            command = [PREFECT, "worker", "start", "--pool", "piiscan", "--name",
                       f"worker-{tag}-{n}", "--limit", "1"]  # fmt: skip
            self.processes.append(
                subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
            )
        self.peak = [0] * count
        self.peak_run = 0  # the largest single flow-run process tree
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def reset(self) -> None:
        self.peak = [0] * len(self.processes)
        self.peak_run = 0

    def _sample(self) -> None:
        while not self._stop.wait(0.25):
            for n, process in enumerate(self.processes):
                try:
                    root = psutil.Process(process.pid)
                    total = root.memory_info().rss
                    for child in root.children(recursive=False):
                        tree = [child, *child.children(recursive=True)]
                        run = sum(p.memory_info().rss for p in tree)
                        total += run
                        self.peak_run = max(self.peak_run, run)
                except psutil.Error:
                    continue
                self.peak[n] = max(self.peak[n], total)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for process in self.processes:
            stop(process)


# One night -------------------------------------------------------------------------------


def night(env: dict[str, str], lake: Path, configs: Path, customers: int) -> dict[str, Any]:
    """Run the coordinator in a fresh process and read every customer run's timings from the
    API: per-customer run time (running -> end), the slot it held (picked up by a worker ->
    end), the fixed cost (picked up -> first task started: process start, imports, flow set-up)
    and the queue wait (created -> picked up)."""
    api = env["PREFECT_API_URL"]
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", COORDINATOR.format(lake=str(lake), configs=str(configs))],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"coordinator failed:\n{done.stderr[-3000:]}")
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    coordinator = call("GET", f"{api}/flow_runs/{outcome['id']}")
    body = {"flow_runs": {"parent_flow_run_id": {"any_": [outcome["id"]]}}, "limit": 200}
    runs: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = call("POST", f"{api}/flow_runs/filter", json={**body, "offset": offset})
        runs += page
        if len(page) < 200:
            break
        offset += 200
    per_run = []
    for run in runs:
        states = call("GET", f"{api}/flow_run_states/", params={"flow_run_id": run["id"]})
        pending = min(stamp(s["timestamp"]) for s in states if s["type"] == "PENDING")
        tasks: list[dict[str, Any]] = []
        while True:  # a batch of quiet customers has more than one page of task runs
            page = call(
                "POST",
                f"{api}/task_runs/filter",
                json={
                    "flow_runs": {"id": {"any_": [run["id"]]}},
                    "limit": 200,
                    "offset": len(tasks),
                },
            )
            tasks += page
            if len(page) < 200:
                break
        started = [stamp(t["start_time"]) for t in tasks if t["start_time"]]
        if not started:
            say(f"  run {run['name']} ({run['state_type']}) started no task: {run['state_name']}")
        end = stamp(run["end_time"])
        per_run.append(
            {
                "customer": run["parameters"]["customer"],
                "batch": len(run["parameters"].get("batch") or []) + 1,
                "state": run["state_type"],
                "run_s": end - stamp(run["start_time"]),
                "slot_s": end - pending,
                "fixed_s": min(started) - pending if started else None,
                "queued_s": pending - stamp(run["created"]),
                "tasks": len(tasks),
            }
        )
    failed = sorted(r["customer"] for r in per_run if r["state"] != "COMPLETED")
    covered = sum(r["batch"] for r in per_run)
    if covered != customers or failed or outcome["type"] != "COMPLETED":
        say(f"night not clean: {covered} customers run, failed {failed}, {outcome['message']}")
    return {
        "wall_s": wall,
        "coordinator_s": stamp(coordinator["end_time"]) - stamp(coordinator["start_time"]),
        "state": outcome["type"],
        "failed": failed,
        "runs": per_run,
    }


def spread(values: list[float]) -> dict[str, float]:
    if not values:
        return {"min": 0.0, "median": 0.0, "max": 0.0, "sum": 0.0}
    return {
        "min": min(values),
        "median": statistics.median(values),
        "max": max(values),
        "sum": sum(values),
    }


def fixed(runs: list[dict[str, Any]]) -> list[float]:
    """The fixed costs of the runs that started a task."""
    return [r["fixed_s"] for r in runs if r["fixed_s"] is not None]


def summarize(result: dict[str, Any], sizes: dict[str, str]) -> dict[str, Any]:
    runs = result["runs"]
    out = {
        "wall_s": result["wall_s"],
        "coordinator_s": result["coordinator_s"],
        "state": result["state"],
        "failed": result["failed"],
        "runs": len(runs),
        "run_s": spread([r["run_s"] for r in runs]),
        "slot_s": spread([r["slot_s"] for r in runs]),
        "fixed_s": spread(fixed(runs)),
        "queued_s": spread([r["queued_s"] for r in runs]),
        "by_size": {},
    }
    for size in sorted(set(sizes.values())):
        chosen = [r for r in runs if sizes.get(r["customer"]) == size]
        out["by_size"][size] = {
            "count": len(chosen),
            "run_s": spread([r["run_s"] for r in chosen]),
            "slot_s": spread([r["slot_s"] for r in chosen]),
        }
    return out


def configuration(
    env: dict[str, str], home: Path, world: dict[str, Any], workers: int, tag: str, root: Path
) -> dict[str, Any]:
    """A full night on a fresh copy of the template lake, then a no-op night on the same lake,
    with `workers` workers."""
    lake = root / f"lake-{tag}-{workers}w"
    shutil.copytree(world["lake"], lake)
    sizes = {c["customer"]: c["size"] for c in world["customers"]}
    pool = Workers(env, home, workers, f"{tag}-{workers}w")
    try:
        time.sleep(3)  # the workers register and poll
        load_before = os.getloadavg()
        say(f"{tag}, {workers} worker(s): full night of {len(sizes)} customers")
        full = night(env, lake, world["configs"], len(sizes))
        full_peak, full_run_peak = list(pool.peak), pool.peak_run
        say(f"  full night {full['wall_s']:.0f} s; no-op night")
        pool.reset()
        noop = night(env, lake, world["configs"], len(sizes))
        say(f"  no-op night {noop['wall_s']:.0f} s")
        noop_peak = list(pool.peak)
        for name, result in (("full", full), ("no-op", noop)):
            runs = result["runs"]
            say(
                f"  {name}: wall {result['wall_s']:.0f} s, run s median "
                f"{statistics.median(r['run_s'] for r in runs):.1f} max "
                f"{max(r['run_s'] for r in runs):.1f}, fixed s median "
                f"{statistics.median(fixed(runs)):.1f}, failed {result['failed']}"
            )
        say(f"  peak MB per worker {[round(b / 2**20) for b in full_peak]}")
    finally:
        pool.close()
        shutil.rmtree(lake, ignore_errors=True)
    return {
        "database": tag,
        "workers": workers,
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "full": summarize(full, sizes),
        "noop": summarize(noop, sizes),
        "peak_worker_mb": [round(b / 2**20) for b in full_peak],
        "peak_worker_noop_mb": [round(b / 2**20) for b in noop_peak],
        "peak_run_mb": round(full_run_peak / 2**20),
        "noop_share": noop["wall_s"] / full["wall_s"],
    }


# Output ----------------------------------------------------------------------------------


def markdown(report: dict[str, Any]) -> str:
    world = report["world"]
    lines = [
        f"{report['date']}, {report['machine']}, load average before "
        f"{report['load_before']}; {world['customers']} customers "
        f"({', '.join(f'{n} {s}' for s, n in world['per_size'].items())}), {world['files']} files, "
        f"{world['landing_mb']} MB delivered; each worker runs one flow run at a time.",
        "",
        "| database | workers | full night s | no-op night s | no-op share | customer run s "
        "min / median / max | fixed cost s min / median / max | peak RSS per worker MB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for c in report["configurations"]:
        full, noop = c["full"], c["noop"]
        r, f = full["run_s"], full["fixed_s"]
        lines.append(
            f"| {c['database']} | {c['workers']} | {full['wall_s']:.0f} | {noop['wall_s']:.0f} "
            f"| {100 * c['noop_share']:.0f}% | {r['min']:.1f} / {r['median']:.1f} / "
            f"{r['max']:.1f} | {f['min']:.1f} / {f['median']:.1f} / {f['max']:.1f} | "
            f"{' + '.join(str(m) for m in c['peak_worker_mb'])} |"
        )
    lines += [
        "",
        "| database | workers | night | size | customers | run s min / median / max | "
        "slot s (picked up -> end) median | run s sum |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for c in report["configurations"]:
        for kind in ("full", "noop"):
            for size, s in c[kind]["by_size"].items():
                r = s["run_s"]
                lines.append(
                    f"| {c['database']} | {c['workers']} | {kind} | {size} | {s['count']} | "
                    f"{r['min']:.1f} / {r['median']:.1f} / {r['max']:.1f} | "
                    f"{s['slot_s']['median']:.1f} | {r['sum']:.0f} |"
                )
    speedups = report["speedup"]
    if speedups:
        lines += ["", "| database | 2 workers vs 1 (full night) | no-op night vs 1 |",
                  "| --- | --- | --- |"]  # fmt: skip
        for tag, s in speedups.items():
            lines.append(f"| {tag} | {s['full']:.2f}x | {s['noop']:.2f}x |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=None, help="default 100 (6 quick)")
    parser.add_argument("--quick", action="store_true", help="small customers, a smoke run")
    parser.add_argument(
        "--postgres",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run on PostgreSQL (2 workers; --postgres-workers 1,2 for both)",
    )
    parser.add_argument("--postgres-workers", default="2")
    parser.add_argument(
        "--sqlite-workers", default="1,2", help="worker counts to run on SQLite (default 1,2)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")
    parser.add_argument(
        "--markdown", type=Path, metavar="JSON", help="print the tables of an earlier --json run"
    )
    args = parser.parse_args()
    if args.markdown:
        print(markdown(json.loads(args.markdown.read_text())))
        return
    customers = args.customers or (6 if args.quick else 100)
    root = Path(tempfile.mkdtemp(prefix="piiscan-scale-"))
    report: dict[str, Any] = {
        "date": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "machine": f"{os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.1f} GiB",
        "load_before": [round(x, 2) for x in os.getloadavg()],
        "configurations": [],
    }
    try:
        say(f"generating {customers} customers in {root}")
        world = build_world(root, customers, QUICK_SIZES if args.quick else FULL_SIZES, args.seed)
        say(f"  {world['files']} files, {world['landing_mb']} MB, {world['per_size']}")
        report["world"] = {
            k: v for k, v in world.items() if k not in ("configs", "keys", "lake", "customers")
        } | {"customers": customers}
        sqlite_workers = [int(w) for w in args.sqlite_workers.split(",") if w.strip()]
        if sqlite_workers:  # --sqlite-workers "": the PostgreSQL pass alone
            with prefect_server(root / "home-sqlite", world["keys"], None) as env:
                for workers in sqlite_workers:
                    report["configurations"].append(
                        configuration(env, root / "home-sqlite", world, workers, "SQLite", root)
                    )
        if args.postgres:
            with postgres() as url, prefect_server(root / "home-pg", world["keys"], url) as env:
                for workers in (int(w) for w in args.postgres_workers.split(",")):
                    report["configurations"].append(
                        configuration(env, root / "home-pg", world, workers, "PostgreSQL", root)
                    )
    finally:
        if args.keep:
            say(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    speedup: dict[str, dict[str, float]] = {}
    for tag in ("SQLite", "PostgreSQL"):
        by = {c["workers"]: c for c in report["configurations"] if c["database"] == tag}
        if 1 in by and 2 in by:
            speedup[tag] = {
                "full": by[1]["full"]["wall_s"] / by[2]["full"]["wall_s"],
                "noop": by[1]["noop"]["wall_s"] / by[2]["noop"]["wall_s"],
            }
    report["speedup"] = speedup
    print(json.dumps(report, indent=1) if args.json else markdown(report))


if __name__ == "__main__":
    main()
