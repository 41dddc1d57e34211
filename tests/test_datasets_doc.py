"""docs/DATASETS.md is what `piiscan datasets --markdown` prints for the shipped configs, and it
says, per dataset, what `period` is and what analytics gets of each column."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from piiscan.cli import app
from piiscan.pipeline.datasets import contract_markdown, dataset_contract
from piiscan.policy import load_config
from piiscan.schema import REGISTRY

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs"


def test_the_datasets_page_is_the_commands_output() -> None:
    expected = contract_markdown(dataset_contract(load_config(CONFIGS)))
    assert (ROOT / "docs" / "DATASETS.md").read_text() == expected, (
        "docs/DATASETS.md is stale: .venv/bin/piiscan datasets --markdown > docs/DATASETS.md"
    )
    result = CliRunner().invoke(app, ["datasets", "--markdown", "--config", str(CONFIGS)])
    assert result.exit_code == 0, result.output
    assert result.output == expected


def test_every_dataset_says_what_its_period_is_and_every_column_its_action() -> None:
    result = CliRunner().invoke(app, ["datasets", "--json", "--config", str(CONFIGS)])
    assert result.exit_code == 0, result.output
    contract = {entry["dataset"]: entry for entry in json.loads(result.output)}
    assert set(contract) == set(REGISTRY)
    for name, dataset in REGISTRY.items():
        entry = contract[name]
        assert entry["period_column"] == dataset.period_column
        assert entry["period"]
        assert [c["name"] for c in entry["columns"]] == [*dataset.columns, "extras"]
    usage = {c["name"]: c for c in contract["usage_events"]["columns"]}
    invoice = {c["name"]: c for c in contract["invoice_lines"]["columns"]}
    assert "happened" in contract["usage_events"]["period"]
    assert "bill cycle" in contract["invoice_lines"]["period"]
    assert usage["wireless_number"]["analytics"] == "hmac"
    assert usage["user_name"]["analytics"] == "drop"
    assert invoice["charge"]["analytics"] == "keep"


def test_an_override_in_the_configs_shows_in_the_contract(tmp_path: Path) -> None:
    configs = tmp_path / "configs"
    configs.mkdir()
    for path in CONFIGS.iterdir():
        if path.is_file():
            (configs / path.name).write_bytes(path.read_bytes())
    actions = (configs / "actions.yaml").read_text()
    (configs / "actions.yaml").write_text(
        actions.replace("columns: {}", "columns:\n  usage_events:\n    user_name: mask")
    )
    result = CliRunner().invoke(app, ["datasets", "--json", "--config", str(configs)])
    assert result.exit_code == 0, result.output
    usage = next(e for e in json.loads(result.output) if e["dataset"] == "usage_events")
    assert {c["name"]: c["analytics"] for c in usage["columns"]}["user_name"] == "mask"


def test_the_plain_listing_reads_at_80_columns() -> None:
    result = CliRunner().invoke(app, ["datasets", "--config", str(CONFIGS)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "period, from event_time:" in result.output
    assert all(len(line) <= 80 for line in result.output.splitlines())
