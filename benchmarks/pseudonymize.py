"""Pseudonymize speed and peak memory against the floor of reading and writing the same Parquet.

Generates (once, cached in benchmarks/data/pseudonymize/) a lake whose restricted zone holds
--rows canonical usage_events rows of customer acme, then runs, each in its own fresh process and
interleaved round by round:

  floor     for each restricted file: pl.read_parquet(file).write_parquet(tmp)  (polars defaults)
  piiscan   pseudonymize_dataset(LocalStorage(lake), "acme", "usage_events", key, ...)
  presidio  presidio-structured StructuredEngine.anonymize on the first 100,000 rows (pandas)

Wall time is taken around each child process and the work alone inside it; peak RSS is the
child's own ru_maxrss, read from os.wait4 (what /usr/bin/time -v reports). The median of --repeat
rounds is reported. After every piiscan run the analytics zone must hold exactly --rows rows, all
wireless numbers `k1-` tokens and no user name, else exit status 1.

    .venv/bin/python benchmarks/pseudonymize.py [--rows N] [--repeat N] [--json]
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
from datetime import date
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data" / "pseudonymize"  # git-ignored, with benchmarks/data/
LAKE = DATA / "lake"
CUSTOMER = "acme"
DATASET = "usage_events"
RESTRICTED = Path("restricted") / DATASET / f"customer={CUSTOMER}"
ANALYTICS = Path("analytics") / DATASET / f"customer={CUSTOMER}"
SEED = 7
FIRST_CYCLE = date(2026, 1, 16)
MAX_LINES = 1000  # a World has 10 US area codes x 100 fictional 555-01xx numbers
CYCLE_ROWS = 1_000_000  # usage rows per bill cycle; each cycle spans two periods
FILE_ROWS = 2_000_000  # a period's file is closed and a new one begun past this many rows
PRESIDIO_ROWS = 100_000
MB = 1_000_000
TIME_TARGET = 1.2  # piiscan time / floor time: issue 19, item 3 (the first target was 1.5)
ENTITY_ACTIONS = {
    "PHONE_NUMBER": "hmac",
    "IMEI": "hmac",
    "ICCID": "hmac",
    "IMSI": "hmac",
    "EMPLOYEE_ID": "hmac",
    "PERSON": "drop",
    "EMAIL_ADDRESS": "drop",
    "LOCATION": "drop",
}
# Presidio is told which column holds what, so no NLP detection time is counted.
PRESIDIO_MAPPING = {
    "wireless_number": "PHONE_NUMBER",
    "other_number": "PHONE_NUMBER",
    "user_name": "PERSON",
}


# --- data ----------------------------------------------------------------------------------


def lake(rows: int) -> Path:
    """The cached lake of `rows` restricted rows, generated first if missing or of other size."""
    meta_path = DATA / "lake.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta["rows"] == rows and all((LAKE / f).is_file() for f in meta["files"]):
            return LAKE
    # In a child process, so this one stays small (see run_child).
    command = this_script("generate", "--rows", str(rows))
    subprocess.run(command, check=True, cwd=ROOT, stdout=sys.stderr)
    return LAKE


def cycles(rows: int) -> list[tuple[date, int]]:
    """Monthly bill cycle dates (the 16th) and the rows each one gets, CYCLE_ROWS at most."""
    plan = []
    for index, start in enumerate(range(0, rows, CYCLE_ROWS)):
        month = FIRST_CYCLE.month - 1 + index
        cycle = FIRST_CYCLE.replace(year=FIRST_CYCLE.year + month // 12, month=month % 12 + 1)
        plan.append((cycle, min(CYCLE_ROWS, rows - start)))
    return plan


def step_generate(rows: int) -> dict[str, Any]:
    """Write the restricted zone file by file, chunk by chunk; never all rows at once."""
    import polars as pl
    import pyarrow.parquet as pq

    from piiscan.schema import MONEY, conform
    from piiscan.testing.model import World
    from piiscan.testing.usage import usage_chunks

    lines = min(MAX_LINES, rows)
    world = World(SEED)
    account = world.account(CUSTOMER, "att", "E######", lines, FIRST_CYCLE)
    names = pl.DataFrame(
        {
            "wireless_number": [line.number for line in account.lines],
            "user_name": [line.person.full_name for line in account.lines],
        }
    )
    partial = DATA / "lake.partial"
    shutil.rmtree(partial, ignore_errors=True)
    (DATA / "lake.json").unlink(missing_ok=True)
    log(f"generating {rows:,} rows ({lines} lines, {len(cycles(rows))} bill cycles) -> {LAKE}")
    started = time.perf_counter()
    # period -> (writer, rows in its file, files begun)
    writers: dict[str, tuple[pq.ParquetWriter, int, int]] = {}
    files: list[str] = []
    written = 0
    plan = cycles(rows)
    for index, (cycle, cycle_rows) in enumerate(plan):
        invoice = world.invoice(account, cycle, is_last=index == len(plan) - 1)
        left = cycle_rows
        for chunk in usage_chunks(invoice, -(-cycle_rows // lines), SEED + index):
            if left <= 0:
                break
            chunk = chunk.head(left)
            left -= chunk.height
            canonical = conform(
                chunk.join(names, on="wireless_number", how="left", maintain_order="left")
                .with_columns(
                    (pl.col("charge_cents").cast(MONEY) / 100).cast(MONEY).alias("charge"),
                    pl.lit("att").alias("carrier"),
                    pl.lit(account.number).alias("account_number"),
                    pl.lit(invoice.bill_cycle_date).alias("bill_cycle_date"),
                    pl.col("event_time").dt.strftime("%Y-%m").alias("period"),
                )
                .drop("charge_cents"),
                DATASET,
            )
            for (period,), part in canonical.partition_by("period", as_dict=True).items():
                table = part.drop("period").to_arrow()
                writer, in_file, begun = writers.get(str(period), (None, 0, 0))
                if writer is None or in_file >= FILE_ROWS:
                    if writer is not None:
                        writer.close()
                    name = RESTRICTED / f"period={period}" / f"part-{begun:03d}.parquet"
                    (partial / name).parent.mkdir(parents=True, exist_ok=True)
                    writer = pq.ParquetWriter(partial / name, table.schema)
                    files.append(name.as_posix())
                    in_file, begun = 0, begun + 1
                writer.write_table(table.cast(writer.schema))
                writers[str(period)] = (writer, in_file + table.num_rows, begun)
                written += table.num_rows
    for writer, _, _ in writers.values():
        writer.close()
    if written != rows:
        raise SystemExit(f"generated {written} rows, expected {rows}")
    shutil.rmtree(LAKE, ignore_errors=True)
    partial.rename(LAKE)
    size = sum((LAKE / f).stat().st_size for f in files)
    meta = {"rows": rows, "files": sorted(files), "bytes": size}
    (DATA / "lake.json").write_text(json.dumps(meta, indent=1) + "\n")
    took = time.perf_counter() - started
    log(f"generated {len(files)} files, {size / MB:,.0f} MB in {took:.1f} s")
    return meta


# --- steps, each run as `pseudonymize.py --step ...` in a fresh process ---------------------


def restricted_paths() -> list[Path]:
    """The restricted zone's Parquet files, in the order piiscan reads them."""
    return sorted((LAKE / RESTRICTED).rglob("*.parquet"))


def step_floor(work: Path) -> dict[str, Any]:
    """pl.read_parquet + write_parquet of every restricted file, polars defaults."""
    started = time.perf_counter()
    import polars as pl

    imported = time.perf_counter()
    cpu = time.process_time()
    rows = 0
    for index, path in enumerate(restricted_paths()):
        frame = pl.read_parquet(path)
        frame.write_parquet(work / f"{index}.parquet")
        rows += frame.height
    done = time.perf_counter()
    return {
        "import_s": imported - started,
        "work_s": done - imported,
        "work_cpu_s": time.process_time() - cpu,
        "rows": rows,
    }


def step_piiscan(work: Path) -> dict[str, Any]:
    """Import piiscan, then time pseudonymize_dataset alone (it stages in the system temp)."""
    started = time.perf_counter()
    from piiscan.pipeline.pseudonymize import pseudonymize_dataset
    from piiscan.pseudonymize import Key
    from piiscan.storage import LocalStorage

    imported = time.perf_counter()
    key = Key(CUSTOMER, "k1", os.urandom(32))
    began, cpu = time.perf_counter(), time.process_time()
    result = pseudonymize_dataset(
        LocalStorage(LAKE),
        CUSTOMER,
        DATASET,
        key,
        detected={},
        entity_actions=ENTITY_ACTIONS,
        column_actions={},
    )
    done = time.perf_counter()
    return {
        "import_s": imported - started,
        "work_s": done - began,
        "work_cpu_s": time.process_time() - cpu,
        "rows": result.rows,
        "files": result.files,
    }


def step_presidio(work: Path) -> dict[str, Any]:
    """StructuredEngine.anonymize on the first PRESIDIO_ROWS rows, as a pandas DataFrame.

    The same rows then go through piiscan's pseudonymize_frame (in polars) in this process, for
    a like-for-like figure without Parquet I/O.
    """
    import polars as pl
    from presidio_anonymizer.entities import OperatorConfig
    from presidio_structured import StructuredAnalysis, StructuredEngine

    from piiscan.pseudonymize import Key, plan_columns, pseudonymize_frame
    from piiscan.schema import DATASETS, EXTRAS

    frame = pl.scan_parquet(restricted_paths()).head(PRESIDIO_ROWS).collect()
    # presidio's hash operator calls text.encode(): a null (data events) would raise. Object
    # columns of str, as presidio's row loop expects: it writes back one cell at a time, and each
    # such write into pandas 3's Arrow-backed `str` columns copies the column.
    data = (
        frame.with_columns(pl.col("other_number").fill_null(""))
        .to_pandas()
        .astype(dict.fromkeys(PRESIDIO_MAPPING, object))
    )
    analysis = StructuredAnalysis(entity_mapping=PRESIDIO_MAPPING)
    operators = {
        "PHONE_NUMBER": OperatorConfig("hash", {"hash_type": "sha256"}),
        "PERSON": OperatorConfig("replace", {"new_value": "<PERSON>"}),
    }
    engine = StructuredEngine()
    began = time.perf_counter()
    out = engine.anonymize(data, analysis, operators=operators)
    presidio_s = time.perf_counter() - began
    if out["wireless_number"].str.len().min() != 64 or (out["user_name"] != "<PERSON>").any():
        raise SystemExit("presidio output is not what was asked for")

    key = Key(CUSTOMER, "k1", os.urandom(32))
    columns = [*DATASETS[DATASET], EXTRAS]
    began = time.perf_counter()
    plans = plan_columns(DATASET, columns, {}, ENTITY_ACTIONS, {})
    pseudonymize_frame(frame, plans, key, DATASET, [])
    piiscan_s = time.perf_counter() - began
    return {"rows": len(out), "work_s": presidio_s, "piiscan_frame_s": piiscan_s}


def step_count(work: Path) -> dict[str, Any]:
    """Rows of the analytics zone, and how many escaped their action."""
    import polars as pl

    scan = pl.scan_parquet(work / ANALYTICS / "**" / "*.parquet", hive_partitioning=True)
    counts = scan.select(
        rows=pl.len(),
        bad_wireless=(~pl.col("wireless_number").str.starts_with("k1-")).sum(),
        bad_other=(~pl.col("other_number").str.starts_with("k1-")).sum(),  # nulls stay null
        user_names=pl.col("user_name").is_not_null().sum(),
        periods=pl.col("period").n_unique(),
    ).collect()
    return {name: int(value) for name, value in counts.row(0, named=True).items()}


STEPS = ("generate", "floor", "piiscan", "presidio", "count")
KINDS = ("floor", "piiscan", "presidio")


# --- the harness ---------------------------------------------------------------------------


def log(message: str) -> None:
    """Progress on stderr, so stdout stays the table (or the JSON)."""
    print(message, file=sys.stderr, flush=True)


def run_child(
    command: list[str], work: Path, env: dict[str, str] | None = None
) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds (user + system), peak RSS in MB and stdout of a child process.

    The peak is the child's own ru_maxrss from wait4, the figure /usr/bin/time -v prints. Linux
    counts the launching process's footprint up to exec in it, so this process stays small: it
    never imports polars or piiscan, and generation and checks run in children too.
    """
    out_path, err_path = work / "stdout", work / "stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err, cwd=ROOT, env=env)
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


def check(work: Path, result: dict[str, Any], rows: int) -> dict[str, int]:
    """Exit 1 unless the analytics zone holds exactly `rows` rows, all of them pseudonymized."""
    *_, out = run_child(this_script("count", "--work", str(LAKE)), work)
    counts: dict[str, int] = json.loads(out)
    if (
        counts["rows"] != rows
        or result["rows"] != rows
        or counts["bad_wireless"]
        or counts["bad_other"]
        or counts["user_names"]
    ):
        log(f"piiscan: analytics zone is wrong: {counts}, expected {rows} rows")
        raise SystemExit(1)
    return counts


def measure(kind: str, rows: int) -> dict[str, float]:
    """One fresh-process run of floor, piiscan or presidio."""
    work = Path(tempfile.mkdtemp(prefix=f"piiscan-bench-{kind}-"))
    env = dict(os.environ)
    if kind == "presidio":
        env["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""  # no download at import
    try:
        shutil.rmtree(LAKE / "analytics", ignore_errors=True)
        (work / "out").mkdir()
        command = this_script(kind, "--work", str(work / "out"))
        wall, cpu, peak, out = run_child(command, work, env)
        result = json.loads(out)
        sample = {"wall_s": wall, "cpu_s": cpu, "peak_mb": peak, "work_s": result["work_s"]}
        if "work_cpu_s" in result:
            sample["work_cpu_s"] = result["work_cpu_s"]
        if kind == "piiscan":
            check(work, result, rows)
        elif kind == "floor" and result["rows"] != rows:
            raise SystemExit(f"floor read {result['rows']} rows, expected {rows}")
        elif kind == "presidio":
            sample["piiscan_frame_s"] = result["piiscan_frame_s"]
        return sample
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(LAKE / "analytics", ignore_errors=True)


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
        "presidio_structured": version("presidio_structured"),
        "presidio_anonymizer": version("presidio_anonymizer"),
    }


def bench(rows: int, repeat: int) -> dict[str, Any]:
    """Generate or reuse the lake, run the interleaved rounds and take medians."""
    lake(rows)
    meta = json.loads((DATA / "lake.json").read_text())
    buffer = bytearray(1 << 20)
    for name in meta["files"]:  # warm the page cache so no run pays the first disk read
        with (LAKE / name).open("rb") as handle:
            while handle.readinto(buffer):
                pass
    load_before = os.getloadavg()
    samples: dict[str, list[dict[str, float]]] = {k: [] for k in KINDS}
    for round_ in range(repeat):
        shift = round_ % len(KINDS)  # rotate so no step always goes first
        for kind in KINDS[shift:] + KINDS[:shift]:
            sample = measure(kind, rows)
            samples[kind].append(sample)
            log(f"round {round_ + 1}/{repeat} {kind:8} " + json.dumps(sample))

    def median(kind: str, key: str) -> float:
        return statistics.median(s[key] for s in samples[kind])

    load_after = os.getloadavg()
    floor_s, piiscan_s = median("floor", "work_s"), median("piiscan", "work_s")
    presidio_s = median("presidio", "work_s")
    per_million = 1_000_000 / rows
    presidio_rows = min(PRESIDIO_ROWS, rows)
    presidio_per_m = presidio_s * 1_000_000 / presidio_rows
    piiscan_per_m = piiscan_s * per_million
    frame_100k_s = median("presidio", "piiscan_frame_s")
    return {
        "date": date.today().isoformat(),
        "machine": machine(),
        # Others' work on a shared machine shows here; the ratios are what to compare.
        "load_avg_1m": [round(load_before[0], 2), round(load_after[0], 2)],
        # An upper bound on what the launcher adds to every child's peak (see run_child).
        "harness_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MB,
        "rows": rows,
        "files": len(meta["files"]),
        "lake_mb": meta["bytes"] / MB,
        "repeat": repeat,
        "floor_s": floor_s,
        "floor_process_s": median("floor", "wall_s"),
        "floor_peak_mb": median("floor", "peak_mb"),
        "piiscan_s": piiscan_s,
        "piiscan_process_s": median("piiscan", "wall_s"),
        "piiscan_peak_mb": median("piiscan", "peak_mb"),
        "time_ratio": piiscan_s / floor_s,
        # Each round's piiscan over the same round's floor: they ran minutes apart, not hours.
        "paired_ratios": [
            p["work_s"] / f["work_s"]
            for p, f in zip(samples["piiscan"], samples["floor"], strict=True)
        ],
        "paired_cpu_ratios": [
            p["work_cpu_s"] / f["work_cpu_s"]
            for p, f in zip(samples["piiscan"], samples["floor"], strict=True)
        ],
        "process_ratio": median("piiscan", "wall_s") / median("floor", "wall_s"),
        # CPU seconds suffer less than wall time from other work on a shared machine.
        "cpu_ratio": median("piiscan", "cpu_s") / median("floor", "cpu_s"),
        # The same, around the timed work alone (piiscan's heavier imports left out).
        "work_cpu_ratio": median("piiscan", "work_cpu_s") / median("floor", "work_cpu_s"),
        "memory_ratio": median("piiscan", "peak_mb") / median("floor", "peak_mb"),
        "presidio_rows": presidio_rows,
        "presidio_s": presidio_s,
        "presidio_s_per_m": presidio_per_m,
        "piiscan_s_per_m": piiscan_per_m,
        "per_row_ratio": presidio_per_m / piiscan_per_m,
        "piiscan_frame_same_rows_s": frame_100k_s,
        "same_rows_ratio": presidio_s / frame_100k_s,
        "samples": samples,
    }


COLUMNS = (
    ("rows", "rows", "{:,}"),
    ("files", "files", "{}"),
    ("floor s", "floor_s", "{:.2f}"),
    ("floor peak MB", "floor_peak_mb", "{:.0f}"),
    ("piiscan s", "piiscan_s", "{:.2f}"),
    ("piiscan peak MB", "piiscan_peak_mb", "{:.0f}"),
    ("time ratio", "time_ratio", "{:.2f}x"),
    ("whole-process ratio", "process_ratio", "{:.2f}x"),
    ("CPU-time ratio", "cpu_ratio", "{:.2f}x"),
    ("work CPU-time ratio", "work_cpu_ratio", "{:.2f}x"),
    ("memory ratio", "memory_ratio", "{:.2f}x"),
)
PRESIDIO_COLUMNS = (
    ("presidio rows", "presidio_rows", "{:,}"),
    ("presidio s", "presidio_s", "{:.2f}"),
    ("presidio s / M rows", "presidio_s_per_m", "{:.1f}"),
    ("piiscan s / M rows", "piiscan_s_per_m", "{:.2f}"),
    ("per-row ratio", "per_row_ratio", "{:.0f}x"),
    ("piiscan frame, same rows, s", "piiscan_frame_same_rows_s", "{:.3f}"),
    ("same-rows ratio", "same_rows_ratio", "{:.0f}x"),
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
    """The machine, the floor table, the presidio table and the target."""
    m = result["machine"]
    ok = result["time_ratio"] <= TIME_TARGET
    rounds = ", ".join(f"{r:.2f}x" for r in result["paired_ratios"])
    cpu_rounds = ", ".join(f"{r:.2f}x" for r in result["paired_cpu_ratios"])
    return "\n".join(
        [
            f"machine: {m['nproc']} cores, {m['cpu']}, {m['memory']}, Python {m['python']}, "
            f"polars {m['polars']}, presidio-structured {m['presidio_structured']}",
            f"lake: {result['files']} files, {result['lake_mb']:.0f} MB; median of "
            f"{result['repeat']} run(s); {result['date']}; load average "
            f"{result['load_avg_1m'][0]} before, {result['load_avg_1m'][1]} after",
            "",
            *table(COLUMNS, result),
            "",
            *table(PRESIDIO_COLUMNS, result),
            "",
            f"time: pseudonymize_dataset / read+write floor = {result['time_ratio']:.2f}x "
            f"(target <= {TIME_TARGET}x: {'met' if ok else 'MISSED'}); round by round: {rounds}; "
            f"work CPU time round by round: {cpu_rounds}",
            f"presidio-structured takes {result['per_row_ratio']:.0f}x piiscan's time per row "
            f"({result['same_rows_ratio']:.0f}x on the same {result['presidio_rows']:,} rows "
            "without Parquet I/O)",
        ]
    )


def main() -> None:
    """Parse options; either run one measured step or the whole benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows", type=int, default=10_000_000, help="usage rows (default 10,000,000)"
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
            steps = {
                "floor": step_floor,
                "piiscan": step_piiscan,
                "presidio": step_presidio,
                "count": step_count,
            }
            result = steps[args.step](args.work)
        print(json.dumps(result))
        return
    if args.rows < 1 or args.repeat < 1:
        parser.error("--rows and --repeat must be positive")
    result = bench(args.rows, args.repeat)
    print(json.dumps(result, indent=1) if args.json else markdown(result))


if __name__ == "__main__":
    main()
