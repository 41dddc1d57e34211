"""Start-up time of the `piiscan` command: each command line in fresh processes, medians of
wall and CPU time, beside two anchors measured in the same run (the bare interpreter, and the
interpreter importing the Typer help renderer that any rich `--help` loads).

    .venv/bin/python benchmarks/startup.py [--repeat 7] [--json]

A command line also runs once under `python -X importtime` to name the heavy packages it
imported (polars, pyarrow, pydantic, spaCy, Presidio, Prefect, boto3): none is wanted here.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("polars", "pyarrow", "pydantic", "spacy", "presidio_analyzer", "prefect", "boto3")
TARGET_S = 0.5  # issue 19: `piiscan --help` under 0.5 s wall


def piiscan() -> list[str]:
    """The installed console script beside this interpreter, else `python -m piiscan.cli`."""
    script = Path(sys.executable).parent / "piiscan"
    return (
        [sys.executable, str(script)] if script.is_file() else [sys.executable, "-m", "piiscan.cli"]
    )


@dataclass(frozen=True)
class Row:
    """One command line's figures over the rounds."""

    command: str
    wall_s: float
    wall_min_s: float
    cpu_s: float
    modules: int
    heavy_imports: list[str]


def cases() -> list[tuple[str, list[str]]]:
    """(label, argv): the anchors first, then the command lines users wait on."""
    cli = piiscan()
    return [
        ("python -c pass (anchor)", [sys.executable, "-c", "pass"]),
        ("import typer.rich_utils (anchor)", [sys.executable, "-c", "import typer.rich_utils"]),
        ("python -c 'import piiscan.cli'", [sys.executable, "-c", "import piiscan.cli"]),
        ("piiscan --help", [*cli, "--help"]),
        ("piiscan --version", [*cli, "--version"]),
        ("piiscan scan --help", [*cli, "scan", "--help"]),
        ("piiscan report --help", [*cli, "report", "--help"]),
    ]


def environment() -> dict[str, str]:
    env = dict(os.environ, TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS="", DO_NOT_TRACK="1")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), str(REPO), env.get("PYTHONPATH", "")])
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    return env


def once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one fresh process."""
    start = time.perf_counter()
    child = subprocess.Popen(
        argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {child.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def heavy_imports(argv: list[str], env: dict[str, str]) -> tuple[list[str], int]:
    """The heavy top-level packages a command line imports, and how many modules in all."""
    run = subprocess.run(
        [argv[0], "-X", "importtime", *argv[1:]], cwd=REPO, env=env, capture_output=True, text=True
    )
    names = [
        line.rsplit("|", 1)[1].strip()
        for line in run.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    ][1:]  # the header line names no module
    return sorted({n for n in names if n.split(".")[0] in HEAVY and "." not in n}), len(names)


def measure(repeat: int) -> list[Row]:
    env = environment()
    rounds: dict[str, list[tuple[float, float]]] = {label: [] for label, _ in cases()}
    for _, argv in cases():  # warm the page cache and the bytecode caches
        once(argv, env)
    for turn in range(repeat):  # interleaved, rotating which case goes first
        order = cases()[turn % len(cases()) :] + cases()[: turn % len(cases())]
        for label, argv in order:
            rounds[label].append(once(argv, env))
    rows = []
    for label, argv in cases():
        heavy, modules = heavy_imports(argv, env)
        walls = [w for w, _ in rounds[label]]
        cpus = [c for _, c in rounds[label]]
        rows.append(
            Row(
                label,
                round(statistics.median(walls), 3),
                round(min(walls), 3),
                round(statistics.median(cpus), 3),
                modules,
                heavy,
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="Rounds (medians; at least 5).")
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
    args = parser.parse_args()
    repeat = max(args.repeat, 5)
    rows = measure(repeat)
    bare = rows[0].wall_s
    help_wall = next(r.wall_s for r in rows if r.command == "piiscan --help")
    result = {
        "repeat": repeat,
        "python": sys.version.split()[0],
        "target_help_wall_s": TARGET_S,
        "help_under_target": help_wall < TARGET_S,
        "commands": [asdict(r) for r in rows],
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{repeat} rounds, fresh processes, medians (python {result['python']})\n")
    print("| command | wall s | min wall s | CPU s | over bare python | modules | heavy imports |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in rows:
        over = r.wall_s / bare if bare else 0.0
        print(
            f"| `{r.command}` | {r.wall_s:.3f} | {r.wall_min_s:.3f} | {r.cpu_s:.3f} "
            f"| {over:.1f}x | {r.modules} | {', '.join(r.heavy_imports) or 'none'} |"
        )
    verdict = "under" if result["help_under_target"] else "NOT under"
    print(f"\n`piiscan --help` {help_wall:.3f} s: {verdict} the {TARGET_S} s target")


if __name__ == "__main__":
    main()
