"""Start-up time of the `piiscan` command: each command line in fresh processes, medians of
wall and CPU time, beside two anchors measured in the same run (the bare interpreter, and the
interpreter importing the Typer help renderer that any rich `--help` loads).

    .venv/bin/python benchmarks/startup.py [--repeat 7] [--json] [--against OTHER_CHECKOUT]

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


Case = tuple[str, list[str], Path]  # label, argv, the source tree on PYTHONPATH


def cases(against: Path | None = None) -> list[Case]:
    """The anchors first, then the command lines users wait on (again from `against`, another
    checkout of piiscan, when given: a before/after in the same run)."""
    cli = piiscan()
    lines = [
        ("python -c 'import piiscan.cli'", [sys.executable, "-c", "import piiscan.cli"]),
        ("piiscan --help", [*cli, "--help"]),
        ("piiscan --version", [*cli, "--version"]),
        ("piiscan scan --help", [*cli, "scan", "--help"]),
        ("piiscan report --help", [*cli, "report", "--help"]),
    ]
    found: list[Case] = [
        ("python -c pass (anchor)", [sys.executable, "-c", "pass"], REPO),
        (
            "import typer.rich_utils (anchor)",
            [sys.executable, "-c", "import typer.rich_utils"],
            REPO,
        ),
    ]
    found += [(label, argv, REPO) for label, argv in lines]
    if against is not None:
        found += [(f"{label} [{against.name}]", argv, against) for label, argv in lines]
    return found


def environment(tree: Path) -> dict[str, str]:
    env = dict(os.environ, TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS="", DO_NOT_TRACK="1")
    env["PYTHONPATH"] = os.pathsep.join([str(tree / "src"), str(tree), env.get("PYTHONPATH", "")])
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


def measure(repeat: int, against: Path | None) -> list[Row]:
    every = cases(against)
    rounds: dict[str, list[tuple[float, float]]] = {label: [] for label, _, _ in every}
    for _, argv, tree in every:  # warm the page cache and the bytecode caches
        once(argv, environment(tree))
    for turn in range(repeat):  # interleaved, rotating which case goes first
        for label, argv, tree in every[turn % len(every) :] + every[: turn % len(every)]:
            rounds[label].append(once(argv, environment(tree)))
    rows = []
    for label, argv, tree in every:
        heavy, modules = heavy_imports(argv, environment(tree))
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
    parser.add_argument(
        "--against", type=Path, help="Another piiscan checkout to time in the same run."
    )
    args = parser.parse_args()
    repeat = max(args.repeat, 5)
    rows = measure(repeat, args.against)
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
