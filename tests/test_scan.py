"""`piiscan scan` with the real spaCy model over every fixture layout, the broken set and a lake."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from piiscan.cli import app
from piiscan.pipeline.ingest import collect_files, ingest_paths
from piiscan.policy import Config
from piiscan.storage import LocalStorage
from piiscan.testing.generate import generate

from .conftest import CONFIGS

pytestmark = pytest.mark.integration

# Columns whose entity is certain, per layout (header as delivered -> entity).
EXPECTED = {
    "verizon_account_summary": {  # the carrier's own remittance address is not personal
        "Remittance Address": None,
        "Bill Name": None,
        "Account Number": None,
    },
    "verizon_wireless_summary": {
        "Wireless Number": "PHONE_NUMBER",
        "User Name": "PERSON",
        "User ID": "EMPLOYEE_ID",
        "Total Charges": None,
        "Your Calling Plan": None,
        "Cost Center": None,
    },
    "verizon_usage_detail": {
        "Wireless Number": "PHONE_NUMBER",
        "Number": "PHONE_NUMBER",
        "User Name": "PERSON",
        "Min": None,
        "Total": None,
        "Date": None,
    },
    "att_device_report": {
        "Wireless number": "PHONE_NUMBER",
        "Wireless user name": "PERSON",
        "Device IMEI": "IMEI",
        "SIM number": "ICCID",
        "Device make": None,
        "Device model": None,
        "Activation date": None,
    },
    "att_usage_detail": {
        "Wireless number": "PHONE_NUMBER",
        "Dialed number": "PHONE_NUMBER",
        "Total charges": None,
        "KB usage": None,
        "Minutes usage": None,
    },
    "att_premier_raw_data": {
        "Wireless Number": "PHONE_NUMBER",
        "User Name": "PERSON",
        "BAN Invoice Number": None,
        "Foundation Account Number": None,
        "Billing Account Number": None,
        "Total Charge": None,
        "FAN Invoice Total Current Charges": None,
        "Section_3": "PERSON",  # the value of a User Name section
    },
    "att_pooling": {
        "Wireless number": "PHONE_NUMBER",
        "User name": "PERSON",
        "Account number": None,
        "Data charges": None,
        "Pooling bucket KB used": None,
    },
    "tmobile_usage_detail": {
        "Subscriber Number": "PHONE_NUMBER",
        "Party": "PHONE_NUMBER",
        "Charge": None,
        "Date": None,
    },
    "bell_mobile": {
        "Mobile Nbr": "PHONE_NUMBER",
        "Surname": "PERSON",
        "Given Name": "PERSON",
        "Acct Nbr": None,
        "Invc Date": None,
        "Ttl Charges": None,
        "Air Dur": None,
    },
    "bell_call_detail": {
        "Mobile Nbr": "PHONE_NUMBER",
        "Called Nbr": "PHONE_NUMBER",
        "Call Cost": None,
        "Duration": None,
    },
    "bell_hardware_report": {
        "Mobile number": "PHONE_NUMBER",
        "User last name": "PERSON",
        "User first name": "PERSON",
        "ESN/IMEI": "IMEI",
        "SIM number": "ICCID",
        "Model description": None,
    },
}


@pytest.fixture(scope="module")
def scan_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scan-fixtures")
    generate(root, customers=3, months=1, lines=60, seed=5, events_per_line=4)
    return root


def _scan(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["scan", "--json", "--config", str(CONFIGS), *args])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture(scope="module")
def scanned(scan_tree: Path) -> dict[str, Any]:
    return _scan(str(scan_tree))


def test_output_follows_the_scan_contract(scanned: dict[str, Any]) -> None:
    assert set(scanned) == {"files"}
    good = [f for f in scanned["files"] if "error" not in f]
    assert len(good) >= 25
    for entry in good:
        assert {"path", "dataset", "rows", "columns"} <= set(entry)
        for column in entry["columns"]:
            assert set(column) == {"name", "entity", "confidence", "evidence", "action"}
            assert 0 <= column["confidence"] <= 1
            assert (column["action"] == "keep") is (column["entity"] is None)


def test_every_layout_gets_the_right_entities(scanned: dict[str, Any]) -> None:
    checked = 0
    for entry in scanned["files"]:
        expected = EXPECTED.get(entry.get("layout") or "")
        if not expected or "broken" in entry["path"]:
            continue
        got = {c["name"]: c["entity"] for c in entry["columns"]}
        for column, entity in expected.items():
            assert got[column] == entity, (entry["path"], column, got[column])
            checked += 1
    assert checked >= 60


def test_employee_ids_under_an_opaque_header_need_a_distinctive_customer_pattern(
    scanned: dict[str, Any],
) -> None:
    labels = {
        Path(f["path"]).parts[-3]: {c["name"]: c["entity"] for c in f["columns"]}[
            "Service ID 2 (UDL 2 - CTN Level)"
        ]
        for f in scanned["files"]
        if f.get("layout") == "att_premier_raw_data" and "broken" not in f["path"]
    }
    assert labels["acme"] == "EMPLOYEE_ID"  # E123456: the customer's pattern has letters
    # 8 bare digits (globex's pattern) count only because every value has the same zero-padded
    # width, which counters, amounts and dates do not (tests/test_detect.py has the decoys).
    assert labels["globex"] == "EMPLOYEE_ID"


def test_mdm_and_generic_extracts(scanned: dict[str, Any]) -> None:
    entries = {Path(f["path"]).name: f for f in scanned["files"]}
    mdm = {c["name"]: c["entity"] for c in entries["Intune_Devices_20261016.xlsx"]["columns"]}
    assert mdm["IMEI"] == "IMEI" and mdm["ICCID"] == "ICCID"
    assert mdm["Phone number"] == "PHONE_NUMBER"
    assert mdm["Primary user email address"] == "EMAIL_ADDRESS"
    assert mdm["Primary user display name"] == "PERSON" and mdm["Model"] is None
    generic = next(f for n, f in entries.items() if n.startswith("tem_invoice_lines"))
    assert generic["dataset"] == "invoice_lines" and generic["rows"] == 60
    assert {c["name"]: c["entity"] for c in generic["columns"]}["employee_id"] == "EMPLOYEE_ID"


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("ATT_UsageDetail_", "file is empty"),
        ("carrier_export_", "binary content"),
        ("RawDataDownload_", "damaged or truncated zip"),
    ],
)
def test_unreadable_files_get_an_error_entry(
    scanned: dict[str, Any], name: str, problem: str
) -> None:
    errors = [f for f in scanned["files"] if "broken" in f["path"] and f.get("error")]
    assert any(Path(f["path"]).name.startswith(name) and problem in f["error"] for f in errors)


def test_no_raw_value_in_the_output(scanned: dict[str, Any], scan_tree: Path) -> None:
    text = json.dumps(scanned)
    values: set[str] = set()
    for path in scan_tree.glob("*/generic/*.parquet"):
        frame = pl.read_parquet(path)
        for column in ("wireless_number", "user_name", "employee_id"):
            values |= {v for v in frame[column].to_list() if v}
    devices = pl.read_excel(next(scan_tree.glob("acme/mdm/*.xlsx")), engine="calamine")
    for column in ("IMEI", "ICCID", "Primary user email address", "Primary user display name"):
        values |= {v for v in devices[column].cast(pl.String).to_list() if v}
    assert len(values) > 100
    assert not [v for v in values if v in text]


def test_scanning_the_lake_covers_each_dataset(
    scan_tree: Path, config: Config, tmp_path: Path
) -> None:
    storage = LocalStorage(tmp_path / "lake")
    for customer in ("acme", "globex", "initech"):
        ingest_paths(storage, config.customer(customer), collect_files([scan_tree / customer]), "r")
    data = _scan("--lake", str(tmp_path / "lake"))
    entries = {f["dataset"]: f for f in data["files"]}
    assert set(entries) == {"invoice_lines", "usage_events", "devices", "charge_items"}
    entity = {d: {c["name"]: c["entity"] for c in e["columns"]} for d, e in entries.items()}
    assert entity["usage_events"]["wireless_number"] == "PHONE_NUMBER"
    assert entity["usage_events"]["other_number"] == "PHONE_NUMBER"
    assert entity["devices"]["imei"] == "IMEI" and entity["devices"]["iccid"] == "ICCID"
    assert entity["invoice_lines"]["user_name"] == "PERSON"
    assert entity["invoice_lines"]["employee_id"] == "EMPLOYEE_ID"
    assert entity["invoice_lines"]["charge"] is None and entity["invoice_lines"]["plan"] is None
    assert entity["devices"]["extras.contract_end_date"] is None  # layout extras are scanned too
    rows = pl.scan_parquet(tmp_path / "lake" / "restricted" / "usage_events").select(pl.len())
    assert entries["usage_events"]["rows"] == rows.collect().item()


def test_a_headerless_file_does_not_turn_values_into_column_names(tmp_path: Path) -> None:
    from piiscan.testing.model import World

    world = World(3)
    people = [(world.person("acme", "E######", False), world.number(False)) for _ in range(60)]
    path = tmp_path / "dump.csv"
    path.write_text("".join(f"{p.full_name},{n},{p.email}\n" for p, n in people))
    entry = _scan(str(path))["files"][0]
    assert [c["name"] for c in entry["columns"]] == ["column_1", "column_2", "column_3"]
    assert [c["entity"] for c in entry["columns"]] == ["PERSON", "PHONE_NUMBER", "EMAIL_ADDRESS"]
    assert entry["rows"] == 60
    text = json.dumps(entry)
    assert not [v for p, n in people for v in (p.full_name, n, p.email) if v in text]
