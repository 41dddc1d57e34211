"""Inputs are validated where they enter: a hold that would protect nothing or the wrong thing,
a malformed date or a config value YAML reads loosely never gets through silently."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from piiscan.cli import app
from piiscan.errors import ConfigError
from piiscan.lake.holds import load_registry
from piiscan.pipeline.ingest import collect_files, ingest_paths
from piiscan.policy import Config, load_config
from piiscan.storage import LocalStorage

from .conftest import CONFIGS


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, [*args, "--config", str(CONFIGS)])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def lake(fixture_tree: Path, config: Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("inputs-lake")
    files = collect_files([fixture_tree / "acme"])
    ingest_paths(LocalStorage(root), config.customer("acme"), files, "20261120T020000Z-aaaaaa")
    return root


def hold(lake: Path, *extra: str) -> tuple[int, str]:
    base = ("holds", "add", "-c", "acme", "--kind", "legal", "--reason", "case 4", "--lake")
    return run(*base, str(lake), *extra)


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (("--dataset", "usage_event"), "--dataset 'usage_event': expected one of"),
        (("--period", "2026-9"), "--period '2026-9': expected a month YYYY-MM"),
        (("--period", "2026/09"), "--period '2026/09': expected a month YYYY-MM"),
        (("--period", "2026-13"), "expected a month YYYY-MM"),
        (("--number", "12345"), "--number value 1 of 1 is not"),
        (("--until", "31/12/2027"), "--until '31/12/2027': expected a date YYYY-MM-DD"),
        (("--until", "2027-02-30"), "expected a date YYYY-MM-DD"),
        (("--period", "2019-01"), "keeps no row of acme today"),
    ],
)
def test_a_hold_that_would_keep_the_wrong_rows_is_refused_and_nothing_is_added(
    lake: Path, extra: tuple[str, ...], said: str
) -> None:
    before = load_registry(LocalStorage(lake), "acme").holds
    code, output = hold(lake, *extra)
    assert code == 2, output
    assert said in " ".join(output.split()) and "Traceback" not in output
    assert load_registry(LocalStorage(lake), "acme").holds == before


def test_a_hold_registered_ahead_of_its_rows_needs_allow_empty(lake: Path, tmp_path: Path) -> None:
    copy = tmp_path / "lake"
    shutil.copytree(lake, copy)
    code, output = hold(copy, "--period", "2027-03", "--allow-empty")
    assert code == 0, output
    assert [h.periods for h in load_registry(LocalStorage(copy), "acme").holds] == [("2027-03",)]
    code, output = hold(copy, "--period", "2026-10", "--dataset", "usage_events")
    assert code == 0, output  # keeps rows today: no flag needed


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("purge", "-c", "acme", "--as-of", "2026-13-01"), "--as-of '2026-13-01': expected a date"),
        (("purge", "-c", "acme", "--as-of", "20261128"), "--as-of '20261128': expected a date"),
        (("terminate", "-c", "acme", "--effective", "end"), "--effective 'end': expected a date"),
        (("purge", "-c", "acme", "--as-of", "2026-12-24"), "after today (2026-11-28)"),
    ],
)
def test_bad_dates_exit_2_naming_the_option_and_the_form(
    tmp_path: Path, args: tuple[str, ...], said: str
) -> None:
    code, output = run(*args, "--lake", str(tmp_path / "lake"))
    assert code == 2, output
    assert said in " ".join(output.split()) and "Traceback" not in output


def test_a_bad_fixture_cycle_date_exits_2(tmp_path: Path) -> None:
    args = ["fixtures", "--out", str(tmp_path / "out"), "--last-cycle", "soon"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "--last-cycle 'soon': expected a date" in " ".join(result.output.split())
    assert not (tmp_path / "out").exists()


def test_a_future_purge_date_is_allowed_when_asked_for(tmp_path: Path) -> None:
    code, output = run(
        "purge", "-c", "acme", "--as-of", "2026-12-24", "--allow-future", "--lake", str(tmp_path)
    )
    assert code == 0, output


@pytest.fixture
def configs(tmp_path: Path) -> Path:
    folder = tmp_path / "configs"
    shutil.copytree(CONFIGS, folder)
    return folder


@pytest.mark.parametrize(
    ("file", "edit", "key", "problem"),
    [
        ("retention.yaml", ("keep_months: 18", "keep_months: yes"), "keep_months", "integer"),
        ("retention.yaml", ("keep_months: 18", "keep_months: '18'"), "keep_months", "integer"),
        ("retention.yaml", ("landing_days:", "landing_days: 90\nlanding_days:"), "line", "twice"),
        ("customers.yaml", ("  - id: globex", "  - id: globex\n    id: initech"), "line", "twice"),
    ],
)
def test_config_values_yaml_reads_loosely_fail_at_load(
    configs: Path, file: str, edit: tuple[str, str], key: str, problem: str
) -> None:
    path = configs / file
    text = path.read_text()
    assert edit[0] in text, f"{file} has no {edit[0]!r} to edit"
    path.write_text(text.replace(edit[0], edit[1], 1))
    with pytest.raises(ConfigError) as info:
        load_config(configs)
    assert info.value.file.endswith(file)
    assert key in info.value.key and problem in info.value.problem


def test_a_binary_config_file_names_the_file(configs: Path) -> None:
    (configs / "actions.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    with pytest.raises(ConfigError) as info:
        load_config(configs)
    assert info.value.file.endswith("actions.yaml") and "UTF-8" in info.value.problem
