"""Drift and review on real runs: ingest, the real detector (spaCy), reports in a local lake.

One customer's lake goes through a sequence of nights. Carrier files change the way they do in
practice (a new column of e-mails, a renamed header, a column whose content changes); each change
is flagged once, stays pending until a reviewer decides, and a decision clears it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import polars as pl
import pytest
from typer.testing import CliRunner

from piiscan.cli import app
from piiscan.lake.keyring import load_key
from piiscan.lake.keys import new_run_id
from piiscan.pipeline.nightly import run_customer
from piiscan.policy import load_config
from piiscan.report import report_schema
from piiscan.storage import LocalStorage
from piiscan.testing.stage import stage_fixtures

from .conftest import CONFIGS
from .pii_values import raw_values

pytestmark = pytest.mark.integration

CUSTOMER = "initech"
START = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


class Nights:
    """One customer's lake and config folder, and the nights run over them."""

    def __init__(self, root: Path, fixture_tree: Path) -> None:
        from piiscan.pipeline.scan import detector_for

        self.lake = root / "lake"
        self.configs = root / "configs"
        shutil.copytree(CONFIGS, self.configs)
        (self.configs / "overrides.yaml").unlink(missing_ok=True)
        self.storage = LocalStorage(self.lake)
        only = root / "fixtures"
        shutil.copytree(fixture_tree / CUSTOMER, only / CUSTOMER)
        stage_fixtures(self.storage, only)
        self.extract = next((only / CUSTOMER / "generic").glob("*.parquet"))
        self.detector = detector_for(load_config(self.configs), CUSTOMER)
        self.count = 0

    def run(self) -> dict[str, Any]:
        """One night: ingest what landed, detect, pseudonymize, purge, report."""
        config = load_config(self.configs)
        now = START + timedelta(days=self.count)
        self.count += 1
        result = run_customer(
            self.storage,
            config,
            config.customer(CUSTOMER),
            new_run_id(now),
            now,
            load_key(CUSTOMER),
            self.detector,
        )
        document: dict[str, Any] = json.loads(self.storage.read_bytes(result.report_key))
        return document

    def land(self, frame: pl.DataFrame, name: str) -> None:
        """A new generic extract delivered by the customer's TEM export."""
        path = self.lake / "landing" / CUSTOMER / "generic" / name
        frame.write_parquet(path)

    def land_serials(self, serial: Any, seed: int, bump: int, name: str) -> None:
        """An extract with an equipment_serial column (serial(world) per row), replacing one
        landed before: the carrier re-sent it for the same partition."""
        from piiscan.testing.model import World

        for path in (self.lake / "restricted" / "invoice_lines").rglob("*.parquet"):
            if any("equipment_serial" in e for e in pl.read_parquet(path)["extras"].drop_nulls()):
                path.unlink()
        world = World(seed=seed)
        extract = pl.read_parquet(self.extract)
        values = [serial(world) for _ in range(extract.height)]
        self.land(
            extract.with_columns(pl.Series("equipment_serial", values), pl.col("charge") + bump),
            name,
        )

    def review(self, *args: str) -> None:
        result = CliRunner().invoke(
            app,
            [
                "review",
                *args,
                "--customer",
                CUSTOMER,
                "--lake",
                str(self.lake),
                "--config",
                str(self.configs),
                "--by",
                "j.reviewer",
            ],
        )
        assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory, fixture_tree: Path) -> Iterator[Nights]:
    yield Nights(tmp_path_factory.mktemp("drift"), fixture_tree)


def _pending(document: dict[str, Any]) -> dict[str, list[str]]:
    return {f"{i['dataset']}.{i['column']}": i["kinds"] for i in document["review"]["pending"]}


def _drift(document: dict[str, Any]) -> dict[str, list[str]]:
    return {f"{i['dataset']}.{i['column']}": i["kinds"] for i in document["review"]["drift"]}


def _column(document: dict[str, Any], dataset: str, name: str) -> dict[str, Any]:
    return next(c for c in document["datasets"][dataset]["columns"] if c["name"] == name)


def _serials(document: dict[str, Any], *kinds: str) -> dict[str, list[str]]:
    """The serial column's expected item: its changes, and `low_confidence` when its
    confidence is under the threshold (some serials of the extracts are junk)."""
    column = _column(document, "invoice_lines", "extras.equipment_serial")
    low = column["entity"] is not None and column["confidence"] < 0.8
    return {"invoice_lines.extras.equipment_serial": [*kinds, *(["low_confidence"] * low)]}


def test_changes_are_flagged_once_and_cleared_by_a_decision(nights: Nights) -> None:
    schema = report_schema()
    baseline = nights.run()
    jsonschema.validate(baseline, schema)
    assert baseline["previous_run_id"] is None and not baseline["needs_review"]
    assert baseline["review"]["drift"] == [] and baseline["history"][-1]["rows_deleted"] == 0

    extract = pl.read_parquet(nights.extract)
    emails = [f"user{i}.{CUSTOMER}@{CUSTOMER}.example.com" for i in range(extract.height)]
    # A new column of e-mails, and `user_name` renamed to a header the layout does not know.
    changed = extract.with_columns(pl.Series("contact_email", emails)).rename(
        {"user_name": "subscriber"}
    )
    nights.land(changed.with_columns(pl.col("charge") + 1), "tem_invoice_lines_202611.parquet")
    second = nights.run()
    jsonschema.validate(second, schema)
    assert second["previous_run_id"] == baseline["run_id"] and second["needs_review"]
    flagged = _drift(second)
    # The renamed names column is also under the review threshold: one item, both reasons.
    assert _column(second, "invoice_lines", "extras.subscriber")["confidence"] < 0.8
    subscriber = ["new_column", "became_pii", "low_confidence"]
    assert flagged == {
        "invoice_lines.extras.contact_email": ["new_column", "became_pii"],
        "invoice_lines.extras.subscriber": subscriber,
    }
    assert _column(second, "invoice_lines", "extras.contact_email")["entity"] == "EMAIL_ADDRESS"
    assert _column(second, "invoice_lines", "extras.subscriber")["entity"] == "PERSON"
    assert _column(second, "invoice_lines", "extras.subscriber")["drift"] == subscriber
    commands = {i["column"]: i["commands"] for i in second["review"]["pending"]}
    assert commands["extras.subscriber"][0] == (
        f"piiscan review confirm -c {CUSTOMER} --dataset invoice_lines --column "
        "extras.subscriber --reason 'WHY' --by 'YOUR NAME'"
    )

    third = nights.run()  # nothing changed: nothing new, the same items still pending
    assert third["review"]["drift"] == [] and _pending(third) == flagged
    assert {i["first_seen"] for i in third["review"]["pending"]} == {second["run_id"]}

    nights.review(
        "confirm",
        "--dataset",
        "invoice_lines",
        "--column",
        "extras.contact_email",
        "--reason",
        "TEM export added a contact column",
    )
    fourth = nights.run()
    assert _pending(fourth) == {"invoice_lines.extras.subscriber": subscriber}
    email = _column(fourth, "invoice_lines", "extras.contact_email")
    assert email["source"] == "review" and email["entity"] == "EMAIL_ADDRESS"
    assert (
        email["review"]["decision"] == "confirm" and email["review"]["decided_by"] == "j.reviewer"
    )
    assert email["action"] == "drop"

    nights.review(
        "set",
        "--dataset",
        "invoice_lines",
        "--column",
        "extras.subscriber",
        "--entity",
        "PERSON",
        "--reason",
        "renamed user_name header",
    )
    fifth = nights.run()
    assert not fifth["needs_review"] and fifth["review"]["pending"] == []
    assert fifth["review"]["overrides_applied"] == 2
    jsonschema.validate(fifth, schema)
    analytics = pl.read_parquet(nights.lake / "analytics" / "invoice_lines", hive_partitioning=True)
    extras = analytics["extras"].drop_nulls().to_list()
    assert not [e for e in extras if "subscriber" in e or "contact_email" in e]


def test_an_entity_change_is_flagged_and_a_reject_clears_it(nights: Nights) -> None:
    """A column the carrier repurposes: equipment serials turn from IMEIs into ICCIDs."""
    nights.land_serials(lambda w: w.imei(), 5, 2, "tem_invoice_lines_202612.parquet")
    first = nights.run()
    assert _drift(first) == _serials(first, "new_column", "became_pii")
    assert _column(first, "invoice_lines", "extras.equipment_serial")["confidence"] < 0.8
    assert _column(first, "invoice_lines", "extras.equipment_serial")["entity"] == "IMEI"

    # The corrected extract replaces the first one (same partition, the carrier re-sent it).
    nights.land_serials(lambda w: w.iccid("att"), 5, 3, "tem_invoice_lines_202612b.parquet")
    second = nights.run()
    assert _drift(second) == _serials(second, "entity_changed")
    item = second["review"]["pending"][0]
    assert item["previous"]["entity"] == "IMEI" and item["current"]["entity"] == "ICCID"
    assert _column(second, "invoice_lines", "extras.equipment_serial")["drift"] == next(
        iter(_serials(second, "entity_changed").values())
    )

    nights.review(
        "reject",
        "--dataset",
        "invoice_lines",
        "--column",
        "extras.equipment_serial",
        "--reason",
        "carrier test SIMs, not assigned to anyone",
    )
    third = nights.run()
    assert not third["needs_review"]
    column = _column(third, "invoice_lines", "extras.equipment_serial")
    assert column["entity"] is None and column["detected_entity"] == "ICCID"
    assert column["source"] == "review" and column["action"] == "keep"


def test_detection_that_contradicts_a_decision_is_flagged_until_decided_again(
    nights: Nights,
) -> None:
    """The rejected serial column holds IMEIs again: the reject still applies (the values stay
    as they are), but the report asks for the decision to be made again, night after night,
    until a reviewer does."""
    import yaml

    overrides = nights.configs / "overrides.yaml"
    document = yaml.safe_load(overrides.read_text())
    for override in document["overrides"]:
        if override["column"] == "extras.equipment_serial":
            override["decided_at"] = "2026-11-21"  # decided before the change below
    overrides.write_text(yaml.safe_dump(document))
    nights.land_serials(lambda w: w.imei(), 6, 4, "tem_invoice_lines_202612c.parquet")
    flagged = nights.run()
    jsonschema.validate(flagged, report_schema())
    assert flagged["needs_review"]
    assert _drift(flagged) == {"invoice_lines.extras.equipment_serial": ["detection_changed"]}
    (item,) = flagged["review"]["pending"]
    assert item["previous"]["entity"] == "ICCID" and item["current"]["entity"] == "IMEI"
    assert item["current"]["decision"] == "reject"
    column = _column(flagged, "invoice_lines", "extras.equipment_serial")
    assert column["entity"] is None and column["detected_entity"] == "IMEI"  # the reject holds
    assert column["drift"] == ["detection_changed"]
    assert _pending(nights.run()) == {  # the next night: still waiting
        "invoice_lines.extras.equipment_serial": ["detection_changed"]
    }
    nights.review(
        "reject",
        "--dataset",
        "invoice_lines",
        "--column",
        "extras.equipment_serial",
        "--reason",
        "re-checked: IMEIs of pool devices, not assigned to anyone",
    )
    cleared = nights.run()
    assert not cleared["needs_review"] and cleared["review"]["pending"] == []


def test_reports_hold_no_raw_value(nights: Nights) -> None:
    values = raw_values(nights.lake)
    assert len(values) > 50
    reports = sorted((nights.lake / "reports" / CUSTOMER).glob("*"))
    assert {p.suffix for p in reports} == {".json", ".html"}
    for path in reports:
        text = path.read_text(encoding="utf-8")
        leaked = [v for v in values if v in text]
        assert not leaked, f"{path.name} holds {len(leaked)} raw value(s)"


def test_report_show_and_open(nights: Nights) -> None:
    runner = CliRunner()
    common = ["--lake", str(nights.lake), "--config", str(nights.configs)]
    shown = runner.invoke(app, ["report", "show", "--customer", CUSTOMER, *common])
    assert shown.exit_code == 0, shown.output
    assert "nothing to review" in shown.output and ".html" in shown.output
    as_json = runner.invoke(app, ["report", "show", "--customer", CUSTOMER, "--json", *common])
    assert json.loads(as_json.output)["customer"] == CUSTOMER
    unread = json.loads(as_json.output)["purge"]["rows_not_due_unread"]
    assert f"; {unread} rows not yet due (partitions not read)" in shown.output
    opened = runner.invoke(app, ["report", "open", "--customer", CUSTOMER, "--print-path", *common])
    assert opened.exit_code == 0, opened.output
    assert Path(opened.output.strip()).read_text().startswith("<!doctype html>")
    missing = runner.invoke(app, ["report", "show", "--customer", "acme", *common])
    assert missing.exit_code == 2 and "reports/acme" in missing.output
    listed = runner.invoke(app, ["review", "list", "--json", "--config", str(nights.configs)])
    decisions = {o["column"]: o["decision"] for o in json.loads(listed.output)}
    assert decisions == {
        "extras.contact_email": "confirm",
        "extras.subscriber": "set",
        "extras.equipment_serial": "reject",
    }


def test_scan_of_carrier_files_applies_layout_decisions(nights: Nights) -> None:
    runner = CliRunner()
    decided = runner.invoke(
        app,
        [
            "review",
            "set",
            "--customer",
            CUSTOMER,
            "--layout",
            "generic_invoice_lines_parquet",
            "--column",
            "cost_center",
            "--entity",
            "EMPLOYEE_ID",
            "--by",
            "j.reviewer",
            "--reason",
            "initech cost centers are personal budget codes",
            "--config",
            str(nights.configs),
        ],
    )
    assert decided.exit_code == 0, decided.output
    scanned = runner.invoke(
        app,
        [
            "scan",
            str(nights.extract),
            "--customer",
            CUSTOMER,
            "--json",
            "--config",
            str(nights.configs),
        ],
    )
    assert scanned.exit_code == 0, scanned.output
    (entry,) = json.loads(scanned.output)["files"]
    assert entry["layout"] == "generic_invoice_lines_parquet"
    columns = {c["name"]: c for c in entry["columns"]}
    assert columns["cost_center"]["entity"] == "EMPLOYEE_ID"
    assert columns["cost_center"]["evidence"]["review"]["decision"] == "set"
    assert "review" not in columns["wireless_number"]["evidence"]
    other = runner.invoke(
        app, ["scan", str(nights.extract), "--json", "--config", str(nights.configs)]
    )
    (plain,) = json.loads(other.output)["files"]
    assert {c["name"]: c["entity"] for c in plain["columns"]}["cost_center"] is None
