"""Purge speed and peak memory against the floor of rewriting only the affected partitions.

Generates (once, cached in benchmarks/data/purge/) a lake holding --rows canonical usage_events
rows of customer acme over 36 monthly partitions, in the restricted zone and row for row in its
analytics mirror, with a legal hold on 5% of the lines and an as-of date that expires exactly the
12 oldest months. Then runs, each in its own fresh process on a fresh copy of the lake (copied
before the process starts) and interleaved round by round:

  floor    for each file of the 12 expired months, both zones: pl.read_parquet, filter to the
           held rows (the exact keep set), write_parquet to a temporary path (polars defaults)
  piiscan  plan_purge(storage, config, "acme", as_of, key), then apply_purge(...)

Times are taken inside each process around the work alone (imports and config loading apart);
peak RSS is the process's own ru_maxrss. The median of --repeat rounds is reported. After every
piiscan run a checking process compares the purged lake with the cached one: every expired file
must hold exactly its held rows, unchanged; every other file must be byte-identical; no expired
unheld row may remain and no held row may be gone; else exit status 1.

    .venv/bin/python benchmarks/purge.py [--rows N] [--repeat N] [--json]
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from piiscan.pseudonymize import Key

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data" / "purge"  # git-ignored, with benchmarks/data/
LAKE = DATA / "lake"
META = DATA / "lake.json"
CONFIGS = ROOT / "configs"
CUSTOMER = "acme"
DATASET = "usage_events"
ZONES = ("restricted", "analytics")
SEED = 11
FIRST_PERIOD = (2024, 1)  # P0; P35 is 2026-12
PERIODS = 36
EXPIRED = 12  # P0..P11
HELD_SHARE = 0.05  # of the lines, hence of the rows: every line has as many events
MAX_LINES = 1000  # a World has 10 US area codes x 100 fictional 555-01xx numbers
# Events fall in the first EVENT_DAYS days of their month. A month whose events reach its last
# minute expires only on the first day of month 19 after it, the very day its successor's first
# minute expires too; 28 days leave a gap where one as-of date expires P11 whole and skips P12.
EVENT_DAYS = 28
GENERATOR = 1  # bump when the generated data changes, so cached lakes are regenerated
MB = 1_000_000
ENTITY_ACTIONS = {  # the analytics mirror: tokens for numbers, user names dropped
    "PHONE_NUMBER": "hmac",
    "IMEI": "hmac",
    "ICCID": "hmac",
    "IMSI": "hmac",
    "EMPLOYEE_ID": "hmac",
    "PERSON": "drop",
    "EMAIL_ADDRESS": "drop",
    "LOCATION": "drop",
}


def parameters(rows: int) -> dict[str, Any]:
    """What the cached lake depends on; a lake made with other parameters is regenerated."""
    return {
        "rows": rows,
        "periods": PERIODS,
        "expired": EXPIRED,
        "first_period": "{:04d}-{:02d}".format(*FIRST_PERIOD),
        "held_share": HELD_SHARE,
        "event_days": EVENT_DAYS,
        "seed": SEED,
        "generator": GENERATOR,
    }


def bench_key() -> Key:
    """The customer key of the benchmark lake (fixed, so the cached hold's tokens stay valid)."""
    from piiscan.pseudonymize import Key

    return Key(CUSTOMER, "k1", hashlib.sha256(b"piiscan purge benchmark").digest())


def month(index: int) -> tuple[int, int]:
    """(year, month) of partition P<index>."""
    total = FIRST_PERIOD[0] * 12 + FIRST_PERIOD[1] - 1 + index
    return total // 12, total % 12 + 1


def period_key(zone: str, index: int) -> str:
    """The key of partition P<index>'s one file in a zone."""
    year, mon = month(index)
    return f"{zone}/{DATASET}/customer={CUSTOMER}/period={year:04d}-{mon:02d}/part-000.parquet"


def as_of_for(keep_months: int) -> date:
    """The last day of the month keep_months after P<EXPIRED-1>: every event of that month
    (days 1..EVENT_DAYS) has expired, and the next month's earliest expiry is the day after."""
    year, mon = month(EXPIRED - 1 + keep_months + 1)
    last = date(year, mon, 1) - timedelta(days=1)
    if last.day <= EVENT_DAYS:
        raise SystemExit(f"as-of {last} would not expire all of P{EXPIRED - 1}; move FIRST_PERIOD")
    return last


# --- data ----------------------------------------------------------------------------------


def lake(rows: int) -> dict[str, Any]:
    """The cached lake's metadata, generating the lake first if missing or made otherwise."""
    if META.exists():
        meta: dict[str, Any] = json.loads(META.read_text())
        if meta["parameters"] == parameters(rows) and all(
            (LAKE / f).is_file() for f in meta["files"]
        ):
            return meta
    # In a child process, so this one stays small (see run_child).
    command = this_script("generate", "--rows", str(rows))
    subprocess.run(command, check=True, cwd=ROOT, stdout=sys.stderr)
    meta = json.loads(META.read_text())
    return meta


def step_generate(rows: int) -> dict[str, Any]:
    """Write both zones partition by partition, then register the legal hold."""
    import numpy as np
    import polars as pl

    from piiscan.lake.holds import add_hold
    from piiscan.policy import load_config
    from piiscan.pseudonymize import plan_columns, pseudonymize_frame, tokens
    from piiscan.schema import DATASETS, EXTRAS, MONEY, conform
    from piiscan.storage import LocalStorage
    from piiscan.testing.model import World
    from piiscan.testing.usage import DIALED_AREA_CODES, KINDS

    rule = load_config(CONFIGS).rule(CUSTOMER, DATASET)
    if rule.clock != "event_time" or rule.clock_fallback:
        raise SystemExit(f"{DATASET} of {CUSTOMER}: expected the event_time clock, got {rule}")
    as_of = as_of_for(rule.keep_months)
    lines = min(MAX_LINES, max(1, rows // PERIODS))
    held_lines = max(1, round(lines * HELD_SHARE))
    world = World(SEED)
    account = world.account(CUSTOMER, "att", "E######", lines, date(*FIRST_PERIOD, 16))
    numbers = np.array([line.number for line in account.lines])
    names = np.array([line.person.full_name for line in account.lines])
    key = bench_key()
    held_numbers = [str(n) for n in numbers[:held_lines]]
    held_tokens = list(tokens(held_numbers, key, "PHONE_NUMBER").values())
    columns = [*DATASETS[DATASET], EXTRAS]
    plans = plan_columns(DATASET, columns, {}, ENTITY_ACTIONS, {})

    partial = DATA / "lake.partial"
    shutil.rmtree(partial, ignore_errors=True)
    META.unlink(missing_ok=True)
    log(f"generating {rows:,} rows x 2 zones ({lines} lines, {PERIODS} months) -> {LAKE}")
    started = time.perf_counter()
    files: list[str] = []
    expired_rows = held_rows = 0
    for index in range(PERIODS):
        n = rows // PERIODS + (index < rows % PERIODS)
        if n == 0:
            continue
        rng = np.random.default_rng([SEED, index])
        line = np.arange(n) * lines // n  # grouped by line as carriers list them; even shares
        kind = rng.choice(3, size=n, p=[0.45, 0.35, 0.20])
        other = rng.choice(DIALED_AREA_CODES, size=n) * 10_000_000 + 5_550_100
        other += rng.integers(0, 100, size=n)
        charge_cents = np.where(rng.random(n) < 0.05, rng.integers(-300, 900, size=n), 0)
        year, mon = month(index)
        start = datetime(year, mon, 1)
        cycle = date(year, mon, 16)
        next_cycle = date(year + mon // 12, mon % 12 + 1, 16)
        frame = pl.DataFrame(
            {
                "wireless_number": numbers[line],
                "user_name": names[line],
                "minute": rng.integers(0, EVENT_DAYS * 24 * 60, size=n),
                "other_number": other.astype(str),
                "kind": KINDS[kind],
                "direction": np.where(rng.random(n) < 0.5, "in", "out"),
                "minutes": np.where(kind == 0, rng.integers(1, 600, size=n), 0) / 10.0,
                "messages": (kind == 1).astype(np.int64),
                "data_kb": np.where(kind == 2, rng.integers(1, 250_000, size=n), 0).astype(float),
                "charge_cents": charge_cents,
            }
        ).with_columns(
            pl.lit("att").alias("carrier"),
            pl.lit(account.number).alias("account_number"),
            (pl.lit(start) + pl.duration(minutes=pl.col("minute"))).alias("event_time"),
            pl.when(pl.col("kind") == "data")
            .then(None)
            .otherwise(pl.col("other_number"))
            .alias("other_number"),
            (pl.col("charge_cents").cast(MONEY) / 100).cast(MONEY).alias("charge"),
            # The cycle on the 16th closes the bill period the event falls in.
            pl.when(pl.col("minute") < 16 * 24 * 60)
            .then(pl.lit(cycle))
            .otherwise(pl.lit(next_cycle))
            .alias("bill_cycle_date"),
        )
        restricted = conform(frame.drop("minute", "charge_cents"), DATASET)
        mirrors = {
            "restricted": restricted,
            "analytics": pseudonymize_frame(restricted, plans, key, DATASET),
        }
        for zone, zone_frame in mirrors.items():
            name = period_key(zone, index)
            (partial / name).parent.mkdir(parents=True, exist_ok=True)
            zone_frame.write_parquet(partial / name)
            files.append(name)
        if index < EXPIRED:
            expired_rows += n
            held_rows += int((line < held_lines).sum())
    storage = LocalStorage(partial)
    now = datetime.combine(as_of, datetime.min.time())
    add_hold(
        storage,
        CUSTOMER,
        "legal",
        "bench",
        now,
        dataset=DATASET,
        number_tokens=tuple(held_tokens),
    )
    shutil.rmtree(LAKE, ignore_errors=True)
    partial.rename(LAKE)
    size = sum((LAKE / f).stat().st_size for f in files)
    meta = {
        "parameters": parameters(rows),
        "as_of": as_of.isoformat(),
        "keep_months": rule.keep_months,
        "lines": lines,
        "held_lines": held_lines,
        "held_numbers": held_numbers,  # fictional 555-01xx numbers
        "held_tokens": held_tokens,
        "expired_rows": expired_rows,  # per zone
        "held_rows": held_rows,  # per zone, in the expired months
        "files": files,
        "affected": [period_key(z, i) for z in ZONES for i in range(EXPIRED)],
        "bytes": size,
    }
    META.write_text(json.dumps(meta, indent=1) + "\n")
    took = time.perf_counter() - started
    log(f"generated {len(files)} files, {size / MB:,.0f} MB in {took:.1f} s")
    return {"rows": rows, "files": len(files), "bytes": size, "as_of": meta["as_of"]}


# --- steps, each run as `purge.py --step ...` in a fresh process ----------------------------


def peak_mb() -> float:
    """This process's peak RSS so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MB


def step_floor(work: Path) -> dict[str, Any]:
    """Read, filter to the held rows and write each affected file; nothing else."""
    started = time.perf_counter()
    import polars as pl

    imported = time.perf_counter()
    meta = json.loads(META.read_text())
    keep = {"restricted": meta["held_numbers"], "analytics": meta["held_tokens"]}
    out = work / "out"
    cpu = time.process_time()
    began = time.perf_counter()
    rows = 0
    for index, key in enumerate(meta["affected"]):
        frame = pl.read_parquet(work / "lake" / key)
        kept = frame.filter(pl.col("wireless_number").is_in(keep[key.split("/", 1)[0]]))
        kept.write_parquet(out / f"{index}.parquet")
        rows += kept.height
    done = time.perf_counter()
    return {
        "import_s": imported - started,
        "work_s": done - began,
        "cpu_s": time.process_time() - cpu,
        "peak_mb": peak_mb(),
        "files": len(meta["affected"]),
        "rows_kept": rows,
    }


def step_piiscan(work: Path) -> dict[str, Any]:
    """Import piiscan and load the config, then time plan_purge and apply_purge."""
    started = time.perf_counter()
    from piiscan.pipeline.purge import apply_purge, plan_purge
    from piiscan.policy import load_config
    from piiscan.storage import LocalStorage

    imported = time.perf_counter()
    meta = json.loads(META.read_text())
    config = load_config(CONFIGS)
    if config.rule(CUSTOMER, DATASET).keep_months != meta["keep_months"]:
        raise SystemExit(f"configs/ changed since {LAKE} was made: delete {DATA} and rerun")
    storage = LocalStorage(work / "lake")
    key = bench_key()
    as_of = date.fromisoformat(meta["as_of"])
    now = datetime.combine(as_of, datetime.min.time())
    cpu = time.process_time()
    began = time.perf_counter()
    plan = plan_purge(storage, config, CUSTOMER, as_of, key)
    planned = time.perf_counter()
    entry = apply_purge(storage, config, plan, key, now)
    done = time.perf_counter()
    actions: dict[str, int] = {}
    for item in plan.files:
        actions[item.action] = actions.get(item.action, 0) + 1
    return {
        "import_s": imported - started,
        "plan_s": planned - began,
        "apply_s": done - planned,
        "work_s": done - began,
        "cpu_s": time.process_time() - cpu,
        "peak_mb": peak_mb(),
        "partitions_read": plan.partitions_read,
        "partitions_skipped": plan.partitions_skipped,
        "files": len(plan.files),
        "actions": actions,
        "rows_deleted": sum(f.deleted for f in plan.files),
        "ledger_rows_deleted": entry["rows_deleted"],
        "rows_kept": plan.kept,
    }


def step_check(work: Path) -> dict[str, Any]:
    """Compare the purged lake with the cached one (see the module docstring)."""
    import polars as pl

    meta = json.loads(META.read_text())
    as_of = date.fromisoformat(meta["as_of"])
    held = {"restricted": meta["held_numbers"], "analytics": meta["held_tokens"]}
    affected = set(meta["affected"])
    purged = work / "lake"
    problems: list[str] = []
    for name in meta["files"]:
        if name in affected:
            continue
        if not (purged / name).is_file() or not filecmp.cmp(LAKE / name, purged / name, False):
            problems.append(f"{name}: not byte-identical")
    for name in sorted(affected):
        zone = name.split("/", 1)[0]
        expected = pl.read_parquet(LAKE / name).filter(pl.col("wireless_number").is_in(held[zone]))
        if not (purged / name).is_file():
            problems.append(f"{name}: gone, {expected.height} held rows with it")
        elif not pl.read_parquet(purged / name).equals(expected):
            problems.append(f"{name}: not exactly its {expected.height} held rows")
    counts: dict[str, dict[str, int]] = {}
    for zone in ZONES:
        pattern = f"{zone}/{DATASET}/customer={CUSTOMER}/**/*.parquet"
        is_held = pl.col("wireless_number").is_in(held[zone])
        expired = pl.col("event_time").dt.offset_by(f"{meta['keep_months']}mo") <= pl.lit(as_of)
        totals = pl.struct(
            rows=pl.len(), held=is_held.sum(), expired_unheld=(expired & ~is_held).sum()
        )
        before, after = (
            pl.scan_parquet(root / pattern).select(totals).collect().item()
            for root in (LAKE, purged)
        )
        counts[zone] = {
            f"{k}_{when}": v
            for when, c in (("before", before), ("after", after))
            for k, v in c.items()
        }
        if after["held"] != before["held"]:
            problems.append(f"{zone}: {before['held']} held rows before, {after['held']} after")
        if after["expired_unheld"]:
            problems.append(f"{zone}: {after['expired_unheld']} expired unheld rows remain")
        if after["rows"] != before["rows"] - (meta["expired_rows"] - meta["held_rows"]):
            problems.append(f"{zone}: {after['rows']} rows after, from {before['rows']}")
    return {"problems": problems, "counts": counts}


STEPS = ("generate", "floor", "piiscan", "check")
KINDS = ("floor", "piiscan")


# --- the harness ---------------------------------------------------------------------------


def log(message: str) -> None:
    """Progress on stderr, so stdout stays the table (or the JSON)."""
    print(message, file=sys.stderr, flush=True)


def this_script(step: str, *options: str) -> list[str]:
    """The command running one step of this script in a fresh interpreter."""
    return [sys.executable, str(Path(__file__).resolve()), "--step", step, *options]


def run_child(command: list[str], work: Path) -> tuple[float, dict[str, Any]]:
    """Wall seconds and the JSON result of a child process (cwd: the repository root).

    Linux counts the launching process's footprint up to exec in a child's ru_maxrss, so this
    process stays small: it never imports polars or piiscan.
    """
    out_path, err_path = work / "stdout", work / "stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        code = subprocess.run(command, stdout=out, stderr=err, cwd=ROOT).returncode
        wall = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"{' '.join(command)} exited {code}:\n{err_path.read_text()[-4000:]}")
    result: dict[str, Any] = json.loads(out_path.read_text())
    return wall, result


def measure(kind: str, meta: dict[str, Any]) -> dict[str, Any]:
    """One fresh-process run of floor or piiscan on a fresh copy of the lake."""
    work = Path(tempfile.mkdtemp(prefix=f"piiscan-bench-purge-{kind}-"))
    try:
        shutil.copytree(LAKE, work / "lake")  # not timed: before the process starts
        (work / "out").mkdir()
        wall, result = run_child(this_script(kind, "--work", str(work)), work)
        sample = {"process_s": wall, **result}
        expected_deleted = 2 * (meta["expired_rows"] - meta["held_rows"])
        if kind == "floor" and result["rows_kept"] != 2 * meta["held_rows"]:
            raise SystemExit(f"floor kept {result['rows_kept']} rows, not {2 * meta['held_rows']}")
        if kind == "piiscan":
            _, checked = run_child(this_script("check", "--work", str(work)), work)
            problems = checked["problems"]
            if result["rows_deleted"] != expected_deleted:
                problems.append(f"deleted {result['rows_deleted']} rows, not {expected_deleted}")
            if problems:
                log("piiscan: the purged lake is wrong:\n  " + "\n  ".join(problems))
                raise SystemExit(1)
        return sample
    finally:
        shutil.rmtree(work, ignore_errors=True)


def machine() -> dict[str, Any]:
    """Cores, CPU model, memory, Python and polars versions."""
    cpu = platform.processor() or "unknown"
    memory = "unknown"
    cpuinfo, meminfo = Path("/proc/cpuinfo"), Path("/proc/meminfo")
    if cpuinfo.exists():
        models = [ln for ln in cpuinfo.read_text().splitlines() if ln.startswith("model name")]
        cpu = models[0].split(":", 1)[1].strip() if models else cpu
    if meminfo.exists():
        kib = int(meminfo.read_text().split()[1])
        memory = f"{kib / 2**20:.1f} GiB"
    return {
        "nproc": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "cpu": cpu,
        "memory": memory,
        "python": platform.python_version(),
        "polars": version("polars"),
    }


def bench(rows: int, repeat: int) -> dict[str, Any]:
    """Generate or reuse the lake, run the interleaved rounds and take medians."""
    meta = lake(rows)
    load_before = os.getloadavg()
    samples: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
    for round_ in range(repeat):
        shift = round_ % len(KINDS)  # rotate so no step always goes first
        for kind in KINDS[shift:] + KINDS[:shift]:
            sample = measure(kind, meta)
            samples[kind].append(sample)
            shown = {k: round(v, 3) for k, v in sample.items() if isinstance(v, float)}
            log(f"round {round_ + 1}/{repeat} {kind:8} " + json.dumps(shown))

    def median(kind: str, key: str) -> float:
        return float(statistics.median(s[key] for s in samples[kind]))

    load_after = os.getloadavg()
    first = samples["piiscan"][0]
    floor_s, piiscan_s = median("floor", "work_s"), median("piiscan", "work_s")
    return {
        "date": date.today().isoformat(),
        "machine": machine(),
        # Others' work on a shared machine shows here; the ratios are what to compare.
        "load_avg_1m": [round(load_before[0], 2), round(load_after[0], 2)],
        "rows": rows,
        "partitions": PERIODS * len(ZONES),
        "expired_partitions": EXPIRED * len(ZONES),
        "as_of": meta["as_of"],
        "lake_mb": meta["bytes"] / MB,
        "lines": meta["lines"],
        "held_lines": meta["held_lines"],
        "held_share_of_expired": meta["held_rows"] / meta["expired_rows"],
        "repeat": repeat,
        "floor_s": floor_s,
        "floor_cpu_s": median("floor", "cpu_s"),
        "floor_peak_mb": median("floor", "peak_mb"),
        "floor_files": samples["floor"][0]["files"],
        "piiscan_plan_s": median("piiscan", "plan_s"),
        "piiscan_apply_s": median("piiscan", "apply_s"),
        "piiscan_s": piiscan_s,
        "piiscan_cpu_s": median("piiscan", "cpu_s"),
        "piiscan_peak_mb": median("piiscan", "peak_mb"),
        "partitions_read": first["partitions_read"],
        "partitions_skipped": first["partitions_skipped"],
        "files_rewritten": first["actions"].get("rewrite", 0),
        "files_dropped": first["actions"].get("drop", 0),
        "rows_deleted": first["rows_deleted"],
        "time_ratio": piiscan_s / floor_s,
        # CPU seconds suffer less than wall time from other work on a shared machine.
        "cpu_ratio": median("piiscan", "cpu_s") / median("floor", "cpu_s"),
        "memory_ratio": median("piiscan", "peak_mb") / median("floor", "peak_mb"),
        "samples": samples,
    }


TIME_COLUMNS = (
    ("rows", "rows", "{:,}"),
    ("floor s", "floor_s", "{:.2f}"),
    ("piiscan plan s", "piiscan_plan_s", "{:.2f}"),
    ("piiscan apply s", "piiscan_apply_s", "{:.2f}"),
    ("piiscan s", "piiscan_s", "{:.2f}"),
    ("time ratio", "time_ratio", "{:.2f}x"),
    ("CPU-time ratio", "cpu_ratio", "{:.2f}x"),
    ("floor peak MB", "floor_peak_mb", "{:.0f}"),
    ("piiscan peak MB", "piiscan_peak_mb", "{:.0f}"),
    ("memory ratio", "memory_ratio", "{:.2f}x"),
)
WORK_COLUMNS = (
    ("partitions", "partitions", "{}"),
    ("expired", "expired_partitions", "{}"),
    ("floor files rewritten", "floor_files", "{}"),
    ("piiscan partitions read", "partitions_read", "{}"),
    ("skipped unread", "partitions_skipped", "{}"),
    ("files rewritten", "files_rewritten", "{}"),
    ("files dropped", "files_dropped", "{}"),
    ("rows deleted", "rows_deleted", "{:,}"),
    ("held share of expired rows", "held_share_of_expired", "{:.1%}"),
)


def table(columns: tuple[tuple[str, str, str], ...], result: dict[str, Any]) -> list[str]:
    """A one-row markdown table."""
    cells = [fmt.format(result[key]) for _, key, fmt in columns]
    return [
        "| " + " | ".join(title for title, _, _ in columns) + " |",
        "|" + " ---: |" * len(columns),
        "| " + " | ".join(cells) + " |",
    ]


def markdown(result: dict[str, Any]) -> str:
    """The machine, the timing table and the work table."""
    m = result["machine"]
    return "\n".join(
        [
            f"machine: {m['nproc']} cores, {m['cpu']}, {m['memory']}, Python {m['python']}, "
            f"polars {m['polars']}",
            f"lake: {result['partitions']} files (36 months x 2 zones), {result['lake_mb']:.0f} "
            f"MB; as of {result['as_of']}; median of {result['repeat']} run(s); "
            f"{result['date']}; load average {result['load_avg_1m'][0]} before, "
            f"{result['load_avg_1m'][1]} after",
            "",
            *table(TIME_COLUMNS, result),
            "",
            *table(WORK_COLUMNS, result),
            "",
            f"time: plan_purge + apply_purge / rewrite-only-the-affected-files floor = "
            f"{result['time_ratio']:.2f}x (CPU time {result['cpu_ratio']:.2f}x)",
        ]
    )


def main() -> None:
    """Parse options; either run one measured step or the whole benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows", type=int, default=10_000_000, help="usage rows per zone (default 10,000,000)"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds; the median is reported (default 3)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of markdown")
    parser.add_argument("--step", choices=STEPS, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:  # a child process: one step, its result as JSON on stdout
        if args.step == "generate":
            result = step_generate(args.rows)
        else:
            steps = {"floor": step_floor, "piiscan": step_piiscan, "check": step_check}
            result = steps[args.step](args.work)
        print(json.dumps(result))
        return
    if args.rows < PERIODS or args.repeat < 1:
        parser.error(f"--rows must be at least {PERIODS} and --repeat positive")
    result = bench(args.rows, args.repeat)
    print(json.dumps(result, indent=1) if args.json else markdown(result))


if __name__ == "__main__":
    main()
