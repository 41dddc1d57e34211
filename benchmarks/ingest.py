"""Ingest speed and peak memory against the floor of a plain polars CSV -> Parquet conversion.

Generates (once, cached in benchmarks/data/ingest/) an AT&T Premier usage detail CSV with the
fixture generator, then runs, each in its own fresh process and interleaved round by round:

  floor        polars.read_csv(file).write_parquet(tmp)          (polars defaults)
  piiscan      piiscan ingest --customer acme --lake <fresh> ... (the real CLI, whole process)
  ingest-only  import piiscan, then time ingest_paths() alone    (start-up cost shown apart)
  duckdb       DuckDB doing the same typed load: read_csv with the layout's explicit types
               and date format, store_rejects for bad rows, numbers and amounts converted,
               event time joined, then COPY ... TO Parquet partitioned by period (the peer a
               user would pick instead; needs the bench extra: pip install -e '.[bench]')

Wall time is taken around each child process; peak RSS is the child's own ru_maxrss, read from
os.wait4 (what /usr/bin/time -v reports). The median of --repeat rounds is reported. The lake of
every piiscan run must hold exactly --rows rows in restricted/usage_events, else exit status 1.

    .venv/bin/python benchmarks/ingest.py [--rows N] [--repeat N] [--json]
"""

from __future__ import annotations

import argparse
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
from collections.abc import Callable
from datetime import UTC, date, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data" / "ingest"  # git-ignored, with benchmarks/data/
CONFIGS = ROOT / "configs"
CUSTOMER = "acme"
SEED = 7
CYCLE = date(2026, 10, 16)
MAX_LINES = 1000  # a World has 10 US area codes x 100 fictional 555-01xx numbers
MB = 1_000_000
# The speed issue's targets: piiscan CLI against the floor (CPU first, then wall) and DuckDB.
CPU_TARGET = 1.4
TIME_TARGET = 1.7
DUCKDB_TARGET = 1.0
MEMORY_TARGET = 0.6  # peak RSS / file size


# --- data ----------------------------------------------------------------------------------


def lines_for(rows: int) -> int:
    """The most lines (at most MAX_LINES) that divide rows evenly, so every line has as many."""
    return next(n for n in range(min(MAX_LINES, rows), 0, -1) if rows % n == 0)


def dataset(rows: int) -> Path:
    """The cached usage detail file of `rows` rows, generated first if missing or of other size."""
    meta_path = DATA / "usage.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        cached = DATA / meta["file"]
        if meta["rows"] == rows and cached.exists() and cached.stat().st_size == meta["bytes"]:
            return cached
    # In a child process, so this one stays small (see run_child).
    command = this_script("generate", "--rows", str(rows))
    subprocess.run(command, check=True, cwd=ROOT, stdout=sys.stderr)
    return DATA / json.loads(meta_path.read_text())["file"]


def step_generate(rows: int) -> dict[str, Any]:
    """Stream an ATT_UsageDetail_<BAN>_<YYYYMM>.csv in fixture chunks; never all rows at once."""
    from piiscan.testing.model import World
    from piiscan.testing.usage import usage_chunks
    from piiscan.testing.writers_att import att_usage_header, att_usage_rounded, att_usage_text

    lines = lines_for(rows)
    world = World(SEED)
    account = world.account(CUSTOMER, "att", "E######", lines, CYCLE)
    invoice = world.invoice(account, CYCLE, is_last=True)
    name = f"ATT_UsageDetail_{account.number}_{CYCLE:%Y%m}.csv"
    DATA.mkdir(parents=True, exist_ok=True)
    meta_path = DATA / "usage.json"
    meta_path.unlink(missing_ok=True)
    for old in DATA.glob("ATT_UsageDetail_*"):  # one cached file at a time: they are large
        old.unlink()
    partial = DATA / f"{name}.partial"
    log(f"generating {rows:,} rows ({lines} lines x {rows // lines:,} events) -> {DATA / name}")
    started = time.perf_counter()
    written = 0
    with partial.open("wb") as handle:
        handle.write(att_usage_header().encode())
        for chunk in usage_chunks(invoice, rows // lines, SEED):
            att_usage_text(att_usage_rounded(chunk), invoice).write_csv(
                handle, include_header=False, line_terminator="\r\n"
            )
            written += chunk.height
    if written != rows:
        raise SystemExit(f"generated {written} rows, expected {rows}")
    path = partial.rename(DATA / name)
    size = path.stat().st_size
    meta = {"rows": rows, "file": name, "bytes": size}
    meta_path.write_text(json.dumps(meta) + "\n")
    log(f"generated {size / MB:,.0f} MB in {time.perf_counter() - started:.1f} s")
    return meta


# --- steps, each run as `ingest.py --step ...` in a fresh process ---------------------------


def step_floor(file: Path, work: Path) -> dict[str, Any]:
    """polars.read_csv + write_parquet with polars defaults."""
    started = time.perf_counter()
    import polars as pl

    imported = time.perf_counter()
    pl.read_csv(file).write_parquet(work / "floor.parquet")
    done = time.perf_counter()
    return {"import_s": imported - started, "work_s": done - imported}


def step_ingest(file: Path, work: Path) -> dict[str, Any]:
    """Import piiscan, then time ingest_paths alone."""
    started = time.perf_counter()
    from piiscan.lake.keys import new_run_id
    from piiscan.pipeline.ingest import ingest_paths
    from piiscan.policy import load_config
    from piiscan.storage import open_lake

    imported = time.perf_counter()
    customer = load_config(CONFIGS).customer(CUSTOMER)
    storage = open_lake(str(work / "lake"))
    began = time.perf_counter()
    summary = ingest_paths(storage, customer, [file], new_run_id(datetime.now(UTC)))
    done = time.perf_counter()
    return {
        "import_s": imported - started,
        "work_s": done - began,
        "summary": summary.as_json(),
    }


def step_count(lake: Path) -> dict[str, Any]:
    """Rows in the lake's restricted/usage_events."""
    import polars as pl

    files = lake / "restricted" / "usage_events"
    if not files.exists():
        return {"rows": 0}
    scan = pl.scan_parquet(files / "**" / "*.parquet", hive_partitioning=True)
    return {"rows": int(scan.select(pl.len()).collect().item())}


# The AT&T usage detail header with the types DuckDB reads each column as (what the layout
# converts: dates MM/DD/YYYY, 24-hour HH:MM, numbers; amounts are text first).
DUCKDB_COLUMNS = {
    "Foundation account": "VARCHAR",
    "Account number": "VARCHAR",
    "Wireless number": "VARCHAR",
    "Market cycle end date": "DATE",
    "Roam home intl. description": "VARCHAR",
    "Date": "DATE",
    "Time": "TIME",
    "Rate code": "VARCHAR",
    "Rating period": "VARCHAR",
    "Charge description": "VARCHAR",
    "Originating city/state": "VARCHAR",
    "Called city/state": "VARCHAR",
    "Dialed number": "VARCHAR",
    "In/out": "VARCHAR",
    "Feature used": "VARCHAR",
    "Minutes usage": "DOUBLE",
    "KB usage": "DOUBLE",
    "Total number of events": "BIGINT",
    "MSG sent to": "VARCHAR",
    "MSG received from": "VARCHAR",
    "Total charges": "VARCHAR",
    "Source": "VARCHAR",
    "International call indicator": "VARCHAR",
    "LD charges": "VARCHAR",
}


def _duckdb_money(column: str) -> str:
    """An amount like $1,234.56 or (3.00) as DECIMAL; NULL when it is none."""
    text = f'"{column}"'
    return (
        f"TRY_CAST(regexp_replace({text}, '[$,() ]', '', 'g') AS DECIMAL(18, 4))"
        f" * CASE WHEN starts_with(trim({text}), '(') THEN -1 ELSE 1 END"
    )


def _duckdb_digits(expression: str) -> str:
    """The last 10 digits of a number as delivered (NANP), NULL when it has none."""
    return f"nullif(right(regexp_replace({expression}, '[^0-9]', '', 'g'), 10), '')"


def step_duckdb(file: Path, work: Path) -> dict[str, Any]:
    """DuckDB: typed read with rejects stored, the usage_events columns, partitioned Parquet."""
    started = time.perf_counter()
    import duckdb

    imported = time.perf_counter()
    con = duckdb.connect()
    types = ", ".join(f"'{name}': '{kind}'" for name, kind in DUCKDB_COLUMNS.items())
    other = (
        'coalesce("Dialed number", CASE WHEN lower("In/out") = \'in\' '
        'THEN "MSG received from" ELSE "MSG sent to" END)'
    )
    out = work / "duckdb"
    con.execute(
        f"""
        COPY (
          SELECT
            'att' AS carrier,
            "Account number" AS account_number,
            {_duckdb_digits('"Wireless number"')} AS wireless_number,
            NULL::VARCHAR AS user_name,
            "Date" + "Time" AS event_time,
            {_duckdb_digits(other)} AS other_number,
            CASE "Source" WHEN 'Voice' THEN 'voice' WHEN 'Data' THEN 'data'
              WHEN 'Messaging' THEN 'sms' END AS kind,
            CASE lower("In/out") WHEN 'in' THEN 'in' WHEN 'out' THEN 'out' END AS direction,
            "Minutes usage" AS minutes,
            "Total number of events" AS messages,
            "KB usage" AS data_kb,
            {_duckdb_money("Total charges")} AS charge,
            "Market cycle end date" AS bill_cycle_date,
            strftime(date_trunc('month', "Date"), '%Y-%m') AS period
          FROM read_csv('{file}', header = true, auto_detect = false, delim = ',',
                        quote = '"', columns = {{{types}}}, dateformat = '%m/%d/%Y',
                        store_rejects = true)
        ) TO '{out}' (FORMAT parquet, PARTITION_BY (period), COMPRESSION snappy)
        """
    )
    done = time.perf_counter()
    rejected = con.execute("SELECT count(*) FROM reject_errors").fetchone()
    rows = con.execute(f"SELECT count(*) FROM read_parquet('{out}/**/*.parquet')").fetchone()
    return {
        "import_s": imported - started,
        "work_s": done - imported,
        "rows": rows[0] if rows else 0,
        "rejected": rejected[0] if rejected else 0,
    }


STEPS = ("generate", "floor", "ingest", "duckdb", "count")


# --- the harness ---------------------------------------------------------------------------


def log(message: str) -> None:
    """Progress on stderr, so stdout stays the table (or the JSON)."""
    print(message, file=sys.stderr, flush=True)


def run_child(command: list[str], work: Path) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds (user + system), peak RSS in MB and stdout of a child process.

    The peak is the child's own ru_maxrss from wait4, the figure /usr/bin/time -v prints. Linux
    counts the launching process's footprint up to exec in it, so this process stays small: it
    never imports polars or piiscan, and generation and row counts run in children too.
    """
    out_path, err_path = work / "stdout", work / "stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err, cwd=ROOT)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(
            f"{' '.join(command)} exited {child.returncode}:\n{err_path.read_text()[-4000:]}"
        )
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss * 1024 / MB, out_path.read_text()  # ru_maxrss is in KiB


def this_script(step: str, *options: str) -> list[str]:
    """The command running one step of this script in a fresh interpreter."""
    return [sys.executable, str(Path(__file__).resolve()), "--step", step, *options]


def check(kind: str, work: Path, summary: dict[str, Any], rows: int) -> None:
    """Exit 1 unless the run landed exactly `rows` rows and rejected none."""
    *_, out = run_child(this_script("count", "--work", str(work / "lake")), work)
    landed = json.loads(out)["rows"]
    if landed != rows or summary["rows_rejected"] or summary["files_ingested"] != 1:
        log(json.dumps(summary, indent=1)[:4000])
        log(f"{kind}: lake has {landed} rows in restricted/usage_events, expected {rows}")
        raise SystemExit(1)


def measure(kind: str, file: Path, rows: int) -> dict[str, float]:
    """One fresh-process run of floor, piiscan (CLI) or ingest (ingest_paths only)."""
    work = Path(tempfile.mkdtemp(prefix=f"piiscan-bench-{kind}-"))
    try:
        if kind == "piiscan":
            cli = Path(sys.executable).with_name("piiscan")
            command = [str(cli)] if cli.exists() else [sys.executable, "-m", "piiscan.cli"]
            command += ["ingest", "--customer", CUSTOMER, "--lake", str(work / "lake")]
            command += ["--config", str(CONFIGS), str(file), "--json"]
            wall, cpu, peak, out = run_child(command, work)
            check(kind, work, json.loads(out), rows)
            return {"wall_s": wall, "cpu_s": cpu, "peak_mb": peak}
        options = ("--file", str(file), "--work", str(work))
        wall, cpu, peak, out = run_child(this_script(kind, *options), work)
        result = json.loads(out)
        if kind == "ingest":
            check(kind, work, result["summary"], rows)
        if kind == "duckdb" and (result["rows"] != rows or result["rejected"]):
            log(f"duckdb: wrote {result['rows']} rows, rejected {result['rejected']}, not {rows}")
            raise SystemExit(1)
        return {"wall_s": wall, "cpu_s": cpu, "peak_mb": peak, "work_s": result["work_s"]}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def source_version() -> str:
    """The commit measured, marked dirty when src/ has uncommitted changes."""
    try:
        git = ["git", "-C", str(ROOT)]
        head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True)
        dirty = subprocess.run([*git, "status", "--porcelain", "src"], capture_output=True)
    except OSError:
        return "unknown"
    if head.returncode != 0:
        return "unknown"
    return head.stdout.decode().strip() + (" + uncommitted src/" if dirty.stdout.strip() else "")


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
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "nproc": cores,
        "cpu": cpu,
        "memory": memory,
        "python": platform.python_version(),
        "polars": version("polars"),
    }


def duckdb_installed() -> bool:
    """Whether the DuckDB anchor can run (the bench extra); checked without importing it."""
    from importlib.util import find_spec

    return find_spec("duckdb") is not None


def _against_duckdb(median: Callable[[str, str], float]) -> dict[str, float]:
    """DuckDB's medians and piiscan CLI's ratios to them."""
    return {
        "duckdb_s": median("duckdb", "wall_s"),
        "duckdb_cpu_s": median("duckdb", "cpu_s"),
        "duckdb_peak_mb": median("duckdb", "peak_mb"),
        "duckdb_time_ratio": median("piiscan", "wall_s") / median("duckdb", "wall_s"),
        "duckdb_cpu_ratio": median("piiscan", "cpu_s") / median("duckdb", "cpu_s"),
    }


def bench(rows: int, repeat: int) -> dict[str, Any]:
    """Generate or reuse the file, run the interleaved rounds and take medians."""
    file = dataset(rows)
    size = file.stat().st_size
    buffer = bytearray(1 << 20)
    with file.open("rb") as handle:  # warm the page cache so no run pays the first disk read
        while handle.readinto(buffer):
            pass
    load_before = os.getloadavg()
    source = source_version()
    kinds = ["floor", "piiscan", "ingest", *(["duckdb"] if duckdb_installed() else [])]
    samples: dict[str, list[dict[str, float]]] = {k: [] for k in kinds}
    for round_ in range(repeat):
        first = round_ % len(kinds)  # rotate so no step always goes first
        order = kinds[first:] + kinds[:first]
        for kind in order:
            sample = measure(kind, file, rows)
            samples[kind].append(sample)
            log(f"round {round_ + 1}/{repeat} {kind:8} " + json.dumps(sample))

    def median(kind: str, key: str) -> float:
        return statistics.median(s[key] for s in samples[kind])

    load_after = os.getloadavg()
    floor_s, cli_s = median("floor", "wall_s"), median("piiscan", "wall_s")
    floor_mb, cli_mb = median("floor", "peak_mb"), median("piiscan", "peak_mb")
    return {
        "date": date.today().isoformat(),
        "machine": machine(),
        "source": source,
        # Others' work on a shared machine shows here; the ratios are what to compare.
        "load_avg_1m": [round(load_before[0], 2), round(load_after[0], 2)],
        # An upper bound on what the launcher adds to every child's peak (see run_child).
        "harness_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MB,
        "file": file.name,
        "rows": rows,
        "file_mb": size / MB,
        "repeat": repeat,
        "floor_s": floor_s,
        "floor_work_s": median("floor", "work_s"),
        "floor_peak_mb": floor_mb,
        "piiscan_cli_s": cli_s,
        "piiscan_ingest_s": median("ingest", "work_s"),
        "piiscan_peak_mb": cli_mb,
        "ingest_only_peak_mb": median("ingest", "peak_mb"),
        "time_ratio": cli_s / floor_s,
        # CPU seconds suffer less than wall time from other work on a shared machine.
        "cpu_ratio": median("piiscan", "cpu_s") / median("floor", "cpu_s"),
        "memory_ratio": cli_mb / floor_mb,
        "floor_cpu_s": median("floor", "cpu_s"),
        "piiscan_cpu_s": median("piiscan", "cpu_s"),
        **(_against_duckdb(median) if samples.get("duckdb") else {}),
        "peak_over_file": cli_mb / (size / MB),
        "samples": samples,
    }


COLUMNS = (
    ("rows", "rows", "{:,}"),
    ("file MB", "file_mb", "{:.0f}"),
    ("floor s", "floor_s", "{:.2f}"),
    ("floor peak MB", "floor_peak_mb", "{:.0f}"),
    ("piiscan CLI s", "piiscan_cli_s", "{:.2f}"),
    ("piiscan ingest-only s", "piiscan_ingest_s", "{:.2f}"),
    ("piiscan peak MB", "piiscan_peak_mb", "{:.0f}"),
    ("time ratio", "time_ratio", "{:.2f}x"),
    ("CPU-time ratio", "cpu_ratio", "{:.2f}x"),
    ("memory ratio", "memory_ratio", "{:.2f}x"),
    ("peak / file size", "peak_over_file", "{:.2f}"),
)


def markdown(result: dict[str, Any]) -> str:
    """The machine, a one-row table and the targets."""
    m = result["machine"]
    cells = [fmt.format(result[key]) for _, key, fmt in COLUMNS]

    def verdict(value: float, target: float) -> str:
        return f"{value:.2f}x (target <= {target}x: {'met' if value <= target else 'MISSED'})"

    lines = [
        f"machine: {m['nproc']} cores, {m['cpu']}, {m['memory']}, "
        f"Python {m['python']}, polars {m['polars']}",
        f"piiscan {result['source']}; file: {result['file']}; "
        f"median of {result['repeat']} run(s); {result['date']}; "
        f"load average {result['load_avg_1m'][0]} before, {result['load_avg_1m'][1]} after",
        "",
        "| " + " | ".join(title for title, _, _ in COLUMNS) + " |",
        "|" + " ---: |" * len(COLUMNS),
        "| " + " | ".join(cells) + " |",
        "",
        f"CPU: piiscan CLI {result['piiscan_cpu_s']:.1f} s / floor {result['floor_cpu_s']:.1f} s "
        f"= {verdict(result['cpu_ratio'], CPU_TARGET)}",
        f"wall: piiscan CLI / floor = {verdict(result['time_ratio'], TIME_TARGET)}; "
        f"in-process: ingest_paths {result['piiscan_ingest_s']:.2f} s vs "
        f"read_csv+write_parquet {result['floor_work_s']:.2f} s "
        f"= {result['piiscan_ingest_s'] / result['floor_work_s']:.2f}x",
    ]
    if "duckdb_s" in result:
        lines.append(
            f"DuckDB: {result['duckdb_s']:.2f} s wall, {result['duckdb_cpu_s']:.1f} CPU s, "
            f"{result['duckdb_peak_mb']:.0f} MB peak; piiscan CLI / DuckDB = "
            f"{verdict(result['duckdb_time_ratio'], DUCKDB_TARGET)} wall, "
            f"{verdict(result['duckdb_cpu_ratio'], DUCKDB_TARGET)} CPU"
        )
    else:
        lines.append("DuckDB: not installed (pip install -e '.[bench]'), not measured")
    lines.append(
        f"memory: piiscan peak / file size = {result['peak_over_file']:.2f} "
        f"(target < {MEMORY_TARGET}: "
        f"{'met' if result['peak_over_file'] < MEMORY_TARGET else 'MISSED'})"
    )
    return "\n".join(lines)


def main() -> None:
    """Parse options; either run one measured step or the whole benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows", type=int, default=10_000_000, help="usage rows (default 10,000,000)"
    )
    parser.add_argument(
        "--repeat", type=int, help="rounds; the median is reported (default 3, 1 above 2M rows)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of markdown")
    parser.add_argument("--step", choices=STEPS, help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:  # a child process: one step, its result as JSON on stdout
        if args.step == "generate":
            result = step_generate(args.rows)
        elif args.step == "count":
            result = step_count(args.work)
        else:
            steps = {"floor": step_floor, "ingest": step_ingest, "duckdb": step_duckdb}
            result = steps[args.step](args.file, args.work)
        print(json.dumps(result))
        return
    if args.rows < 1 or (args.repeat is not None and args.repeat < 1):
        parser.error("--rows and --repeat must be positive")
    repeat = args.repeat or (3 if args.rows <= 2_000_000 else 1)
    result = bench(args.rows, repeat)
    print(json.dumps(result, indent=1) if args.json else markdown(result))


if __name__ == "__main__":
    main()
