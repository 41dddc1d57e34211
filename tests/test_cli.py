"""The piiscan command line as a data engineer uses it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from piiscan.cli import app

from .conftest import CONFIGS

runner = CliRunner()


def test_ingest_prints_a_json_summary(fixture_tree: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "ingest",
            "--customer",
            "acme",
            "--lake",
            str(tmp_path / "lake"),
            "--config",
            str(CONFIGS),
            "--json",
            str(fixture_tree / "acme" / "att"),
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["customer"] == "acme" and summary["files_ingested"] == 5
    assert summary["rows"]["usage_events"] > 0 and summary["rows_rejected"] == 0
    assert (tmp_path / "lake" / "landing" / "acme" / "att").is_dir()


def test_ingest_reads_the_lake_from_the_environment(
    fixture_tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIISCAN_LAKE", str(tmp_path / "envlake"))
    result = runner.invoke(
        app,
        [
            "ingest",
            "-c",
            "globex",
            "--config",
            str(CONFIGS),
            str(fixture_tree / "globex" / "bell"),
        ],
    )
    assert result.exit_code == 0, result.output
    delivered = len(list((fixture_tree / "globex" / "bell").iterdir()))  # MOB, DTL, ACC, reports
    accounts = len(list((fixture_tree / "globex" / "bell").glob("*_ACC.csv")))  # totals only
    assert f"{delivered - accounts} ingested, {accounts} quarantined" in result.stdout
    assert list((tmp_path / "envlake" / "restricted" / "invoice_lines").glob("customer=globex/*"))


def test_quarantined_files_are_pointed_at(fixture_tree: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "ingest",
            "-c",
            "acme",
            "--lake",
            str(tmp_path),
            "--config",
            str(CONFIGS),
            str(fixture_tree / "broken"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "7 quarantined" in result.stdout
    assert "quarantined files are under" in result.stderr


def test_bad_config_fails_naming_file_and_key(tmp_path: Path, fixture_tree: Path) -> None:
    shutil.copytree(CONFIGS, tmp_path / "configs")
    path = tmp_path / "configs" / "customers.yaml"
    path.write_text(
        path.read_text().replace(
            "carriers: [verizon, att, mdm, generic]", "carriers: [verizon, atnt]"
        )
    )
    result = runner.invoke(
        app,
        [
            "ingest",
            "-c",
            "acme",
            "--lake",
            str(tmp_path / "lake"),
            "--config",
            str(tmp_path / "configs"),
            str(fixture_tree / "acme"),
        ],
    )
    assert result.exit_code == 2
    assert "customers.yaml: customers[0].carriers[1]:" in result.stderr
    assert not (tmp_path / "lake").exists()


def test_unknown_customer_is_an_error(tmp_path: Path, fixture_tree: Path) -> None:
    result = runner.invoke(
        app,
        [
            "ingest",
            "-c",
            "wayne",
            "--lake",
            str(tmp_path),
            "--config",
            str(CONFIGS),
            str(fixture_tree / "acme"),
        ],
    )
    assert result.exit_code == 2
    assert "unknown customer 'wayne'" in result.stderr


def test_fixtures_command_writes_a_world(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "fixtures",
            "--out",
            str(tmp_path),
            "--customers",
            "1",
            "--months",
            "1",
            "--lines",
            "3",
            "--no-broken",
        ],
    )
    assert result.exit_code == 0, result.output
    expected = json.loads((tmp_path / "expected.json").read_text())
    assert {e["customer"] for e in expected} == {"acme"}
    assert not (tmp_path / "broken").exists()
