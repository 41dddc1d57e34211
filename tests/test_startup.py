"""Start-up: `import piiscan.cli` and the help screens load no data or NLP stack (polars, pyarrow,
pydantic, spaCy, Presidio, Prefect, boto3); each command imports what it uses when it runs.
Structural, not timed: each case runs in a fresh interpreter and reads sys.modules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from piiscan.cli.review import DATASET_NAMES as REVIEW_DATASETS
from piiscan.schema import DATASET_NAMES

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("polars", "pyarrow", "spacy", "presidio_analyzer", "prefect", "boto3", "numpy")
# What the run of each case loads: the CLI, then (optionally) the app on these arguments.
PROBE = """
import json, sys
import piiscan.cli
args = json.loads(sys.argv[1])
if args is not None:
    try:
        piiscan.cli.app(args, prog_name="piiscan")
    except SystemExit as exc:
        assert exc.code in (0, None), exc.code
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in json.loads(sys.argv[2]))))
"""


def loaded(args: list[str] | None, watched: tuple[str, ...]) -> list[str]:
    """The watched top-level packages (and their submodules) a fresh process has imported."""
    env = dict(os.environ, DO_NOT_TRACK="1", COLUMNS="100")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), str(REPO), env.get("PYTHONPATH", "")])
    run = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args), json.dumps(watched)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found: list[str] = json.loads(run.stdout.splitlines()[-1])
    return found


@pytest.mark.parametrize(
    "args",
    [
        None,
        ["--help"],
        ["--version"],
        ["scan", "--help"],
        ["report", "--help"],
        ["report", "show", "--help"],
        ["review", "confirm", "--help"],
        ["run", "nightly", "--help"],
    ],
    ids=lambda a: "import piiscan.cli" if a is None else " ".join(a),
)
def test_the_cli_and_its_help_import_no_heavy_package(args: list[str] | None) -> None:
    assert loaded(args, HEAVY) == []


LIGHT = [None, ["--help"], ["--version"]]
HEAVY_PIISCAN = ("piiscan.policy", "piiscan.schema", "piiscan.pipeline", "piiscan.lake.keys")


@pytest.mark.parametrize("args", LIGHT, ids=lambda a: "import" if a is None else " ".join(a))
def test_the_app_alone_loads_no_policy_nor_pydantic(args: list[str] | None) -> None:
    # Typer imports pydantic itself to coerce option values once a subcommand is reached
    # (`piiscan scan --help` parses the app's own options first): only the import, the app's
    # own --help and --version are free of it.
    assert loaded(args, ("pydantic", "yaml")) == []
    assert [m for m in loaded(args, ("piiscan",)) if m.startswith(HEAVY_PIISCAN)] == []


def test_piiscan_reads_its_package_metadata_only_for_the_version() -> None:
    assert "importlib.metadata" not in loaded(None, ("importlib",))
    assert "importlib.metadata" in loaded(["--version"], ("importlib",))


def test_the_review_help_names_the_datasets_of_the_schema() -> None:
    assert REVIEW_DATASETS == DATASET_NAMES
