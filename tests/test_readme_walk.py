"""The README walk: every `piiscan` command README.md shows, in the order it shows them, in a
fresh folder and lake, at 80 columns and not on a terminal (as cron or CI runs them).

Each command exits as its comment says (0 unless the comment starts with `exit N`), and no line
it prints is cut with an ellipsis. `<hold id>` is the id the walk's `holds add` printed.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import CONFIGS, REPO

pytestmark = pytest.mark.integration

# A command that holds one of these is not run, for the reason given (keep this list short).
SKIPS = {"s3://": "needs an S3 server; tests/test_s3.py runs the lake on SeaweedFS"}
PLACEHOLDER = "@hold-id@"  # README's `<hold id>`: the id the walk's `holds add` printed
ITEM = "@item-id@"  # README's `<item id>`: the first file item the walk's `review pending` listed


@dataclass(frozen=True)
class Command:
    """One README command: its words and the exit code its comment documents."""

    line: str
    words: tuple[str, ...]
    exit_code: int


def readme_commands(text: str) -> list[Command]:
    """The `piiscan` lines of the README's sh blocks, continuation lines joined."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        joined = re.sub(r"\\\n\s*", "", block)
        for raw in joined.splitlines():
            line = raw.strip()
            if not line.startswith((".venv/bin/piiscan", "piiscan ")):
                continue
            placed = line.replace("<hold id>", PLACEHOLDER).replace("<item id>", ITEM)
            words, comment = split_comment(placed)
            documented = re.match(r"#\s*exit (\d+)\b", comment)
            code = int(documented.group(1)) if documented else 0
            commands.append(Command(line, tuple(shlex.split(words)), code))
    return commands


def split_comment(line: str) -> tuple[str, str]:
    """A shell line's words and its comment (a # after a blank, outside quotes)."""
    quote = ""
    for i, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i], line[i:]
    return line, ""


def test_the_readme_lists_commands_to_walk() -> None:
    commands = readme_commands((REPO / "README.md").read_text("utf-8"))
    names = {" ".join(c.words[1:3]) for c in commands}
    assert {"doctor", "run nightly", "holds release", "review pending", "--version"} <= names | {
        c.words[1] for c in commands
    }
    skipped = [c for c in commands if any(s in c.line for s in SKIPS)]
    assert len(skipped) <= 3, [c.line for c in skipped]


def test_every_readme_command_runs_as_documented(tmp_path: Path) -> None:
    shutil.copytree(CONFIGS, tmp_path / "configs")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIISCAN_", "COLUMNS"))}
    env.update(
        COLUMNS="80",
        PIISCAN_NOW=os.environ["PIISCAN_NOW"],
        PYTHONPATH=os.pathsep.join([str(REPO / "src"), str(REPO)]),
        TERM="dumb",
    )
    captured: dict[str, str] = {}
    problems: list[str] = []
    for command in readme_commands((REPO / "README.md").read_text("utf-8")):
        if any(s in command.line for s in SKIPS):
            continue  # for the reason SKIPS gives
        words = [captured.get(w, w) for w in command.words[1:]]
        done = subprocess.run(
            [sys.executable, "-m", "piiscan.cli", *words],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=600,
        )
        out = done.stdout + done.stderr
        if done.returncode != command.exit_code:
            problems.append(
                f"{command.line}\n  exited {done.returncode}, README says {command.exit_code}"
                f"\n{out[-2000:]}"
            )
        cut = [line for line in out.splitlines() if "…" in line]
        if cut:
            problems.append(f"{command.line}\n  cut lines:\n" + "\n".join(cut[:5]))
        if "Traceback" in out:
            problems.append(f"{command.line}\n  printed a traceback:\n{out[-2000:]}")
        if words[:2] == ["holds", "add"]:
            found = re.search(r"added (\S+) \(", done.stdout)
            captured[PLACEHOLDER] = found.group(1) if found else "(holds add printed no id)"
        if words[:2] == ["review", "pending"] and ITEM not in captured:
            item = re.search(r"\(item (\S+)\)", done.stdout)
            captured[ITEM] = item.group(1) if item else "(review pending listed no file item)"
    assert not problems, "\n\n".join(problems)
