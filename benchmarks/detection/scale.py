"""Scan cost against file size: a 100-thousand-row and a 10-million-row Parquet usage extract.

Both files have the same usage-like layout (wireless_number, other_number, event_time, minutes,
kb, charge, imei, user_name) and are written in chunks with polars at its default row-group size.
Each is scanned by `piiscan scan <file> --json` as a whole process, and by a warm in-process
Scanner (scan only); the ratio 10M / 100k should stay at most 2: cost is bounded by the sample.

    .venv/bin/python benchmarks/detection/scale.py [--rows 100000 10000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from piiscan.testing.model import World

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BIN = Path(sys.executable).parent
DEFAULT_DATA = REPO / "benchmarks" / "data" / "scale"
RESULTS = HERE / "scale_results.json"
CHUNK = 1_000_000
OTHER_AREAS = ("212", "646", "718", "213", "305", "415", "773", "860", "901", "972", "503")


def pools(seed: int) -> dict[str, pl.Series]:
    """The lines behind the rows: 1000 numbers with their IMEI and user, and called numbers."""
    world = World(seed)
    lines = world.account("acme", "verizon", "E######", 1000, date(2026, 10, 16)).lines
    others = [f"{a}55501{i:02d}" for a in OTHER_AREAS for i in range(100)]
    return {
        "wireless_number": pl.Series([ln.number for ln in lines]),
        "imei": pl.Series([ln.imei for ln in lines]),
        "user_name": pl.Series([ln.person.full_name for ln in lines]),
        "other_number": pl.Series(others),
    }


def chunk(rows: int, pool: dict[str, pl.Series], rng: np.random.Generator) -> pl.DataFrame:
    """rows usage events drawn from the pools."""
    line = pl.Series(rng.integers(0, len(pool["wireless_number"]), rows))
    other = pl.Series(rng.integers(0, len(pool["other_number"]), rows))
    start = int(datetime(2026, 9, 17).timestamp() * 1_000_000)
    moments = start + rng.integers(0, 30 * 86400, rows).astype(np.int64) * 1_000_000
    return pl.DataFrame(
        {
            "wireless_number": pool["wireless_number"].gather(line),
            "other_number": pool["other_number"].gather(other),
            "event_time": pl.Series(moments).cast(pl.Datetime("us")),
            "minutes": pl.Series(rng.integers(0, 60, rows) / 1.0),
            "kb": pl.Series(rng.integers(0, 250_000, rows)),
            "charge": pl.Series(rng.integers(0, 500, rows)).cast(pl.Decimal(18, 2)) / 100,
            "imei": pool["imei"].gather(line),
            "user_name": pool["user_name"].gather(line),
        }
    )


def write_extract(path: Path, rows: int, seed: int) -> None:
    """Write rows events in chunks, then one Parquet file with polars' default row groups."""
    pool = pools(seed)
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        parts = []
        for index, begin in enumerate(range(0, rows, CHUNK)):
            part = Path(tmp) / f"part-{index:04d}.parquet"
            chunk(min(CHUNK, rows - begin), pool, rng).write_parquet(part)
            parts.append(part)
        pl.scan_parquet(parts).sink_parquet(path)


def scan_process(path: Path) -> float:
    """Wall seconds of `piiscan scan <file> --json` as a whole process."""
    env = dict(os.environ, TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS="")
    command = [str(BIN / "piiscan"), "scan", str(path), "--json", "--config", "configs"]
    begin = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - begin
    if done.returncode != 0:
        raise SystemExit(f"piiscan scan {path.name} failed: {done.stderr[-2000:]}")
    entry = json.loads(done.stdout)["files"][0]
    if entry.get("error"):
        raise SystemExit(f"piiscan scan {path.name}: {entry['error']}")
    return wall


def scan_worker(paths: list[Path], repeat: int) -> None:
    """Print scan-only seconds per file (median of repeat) from one warm process."""
    os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""
    from piiscan.detect import Detector, Settings
    from piiscan.nlp import Engines
    from piiscan.policy import load_config
    from piiscan.scan import Scanner

    cfg = load_config(REPO / "configs")
    patterns = cfg.employee_id_patterns(None)
    detector = Detector(Settings(), employee_id_patterns=patterns, models=Engines(patterns))
    scanner = Scanner(detector)
    scanner.scan([paths[0]])  # warm-up: loads spaCy
    out: dict[str, Any] = {}
    for path in paths:
        times = []
        for _ in range(repeat):
            begin = time.perf_counter()
            result = scanner.scan([path])
            times.append(time.perf_counter() - begin)
        out[path.name] = {
            "scan_s": statistics.median(times),
            "rows": result[0].rows,
            "entities": {c.name: c.entity for c in result[0].columns},
        }
    print(json.dumps(out))


def main() -> None:
    """Write the extracts if missing, time both ways, print and save."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs=2, default=(100_000, 10_000_000))
    parser.add_argument("--repeat", type=int, default=3, help="timings per file (median)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("files", nargs="*", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        scan_worker(args.files, args.repeat)
        return

    args.data.mkdir(parents=True, exist_ok=True)
    paths = [args.data / f"usage_extract_{rows}.parquet" for rows in args.rows]
    written: dict[str, float] = {}
    for rows, path in zip(args.rows, paths, strict=True):
        if not path.exists() or pq.ParquetFile(path).metadata.num_rows != rows:
            begin = time.perf_counter()
            write_extract(path, rows, args.seed)
            written[path.name] = time.perf_counter() - begin
            print(f"wrote {path} in {written[path.name]:.1f} s", file=sys.stderr)

    load_before = os.getloadavg()[0]
    process: dict[str, list[float]] = {p.name: [] for p in paths}
    for _ in range(args.repeat):  # alternate, so drift in machine load hits both alike
        for path in paths:
            process[path.name].append(scan_process(path))
    env = dict(os.environ, TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS="")
    command = [sys.executable, str(Path(__file__).resolve()), "--worker"]
    command += ["--repeat", str(args.repeat), *map(str, paths)]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=True)
    in_process = json.loads(done.stdout)

    table = []
    for path in paths:
        meta = pq.ParquetFile(path).metadata
        table.append(
            {
                "file": path.name,
                "rows": meta.num_rows,
                "row_groups": meta.num_row_groups,
                "size_mb": path.stat().st_size / 1e6,
                "process_s": statistics.median(process[path.name]),
                "process_runs_s": process[path.name],
                "scan_only_s": in_process[path.name]["scan_s"],
                "entities": in_process[path.name]["entities"],
            }
        )
    small, large = table
    results = {
        "date": date.today().isoformat(),
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "files": table,
        "ratio_process": large["process_s"] / small["process_s"],
        "ratio_scan_only": large["scan_only_s"] / small["scan_only_s"],
    }
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print("| file | rows | row groups | size (MB) | whole process (s) | scan only (s) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for row in table:
        print(
            f"| {row['file']} | {row['rows']:,} | {row['row_groups']} | {row['size_mb']:.0f} "
            f"| {row['process_s']:.2f} | {row['scan_only_s']:.3f} |"
        )
    print(
        f"| ratio {large['rows'] // small['rows']}x rows | | | "
        f"| {results['ratio_process']:.2f} | {results['ratio_scan_only']:.2f} |"
    )
    print(f"\nentities found: {small['entities']}")
    print(f"results written to {args.out}")


if __name__ == "__main__":
    main()
