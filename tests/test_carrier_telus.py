"""Telus: Individual Detail reports land as invoice lines and charge items; other reports are
recognised by their title and quarantined saying why."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from piiscan.ingest.telus import report_title
from piiscan.layouts.telus import UNREAD
from piiscan.pipeline.ingest import ingest_paths
from piiscan.policy import Config
from piiscan.storage import LocalStorage
from piiscan.testing.model import World
from piiscan.testing.writers_telus import write_telus_individual_detail, write_telus_summary

CYCLE = date(2026, 10, 16)


@pytest.fixture(scope="module")
def world_invoice() -> tuple[World, Any]:
    world = World(4)
    account = world.account("initech", "telus", "@@-#####", 7, date(2026, 8, 16))
    return world, world.invoice(account, CYCLE, is_last=True)


def _ingest(config: Config, tmp_path: Path, path: Path) -> tuple[LocalStorage, Any]:
    storage = LocalStorage(tmp_path / "lake")
    summary = ingest_paths(storage, config.customer("initech"), [path], "run-1")
    return storage, summary.files[0]


def _landed(
    storage: LocalStorage, result: Any, dataset: str, period: str = "2026-10"
) -> pl.DataFrame:
    keys = [k for k in result.outputs if k.startswith(f"restricted/{dataset}/")]
    assert keys and all(f"period={period}" in k for k in keys)
    return pl.concat(pl.read_parquet(storage.uri(k)) for k in keys)


def test_individual_detail_lands_a_line_per_subscriber_and_its_charge_items(
    world_invoice: Any, config: Config, tmp_path: Path
) -> None:
    world, invoice = world_invoice
    lines_entry, items_entry = write_telus_individual_detail(tmp_path, tmp_path, invoice, world)
    storage, result = _ingest(config, tmp_path, tmp_path / lines_entry.file)
    assert (result.status, result.carrier, result.rows_rejected) == ("ingested", "telus", 0)
    assert result.rows == {"invoice_lines": lines_entry.rows, "charge_items": items_entry.rows}
    lines = _landed(storage, result, "invoice_lines")
    people = {ln.number: ln.person for ln in invoice.account.lines}
    assert sorted(lines["wireless_number"]) == sorted(people)
    assert dict(lines.select("wireless_number", "user_name").iter_rows()) == {
        n: p.full_name.upper() for n, p in people.items()
    }
    assert set(lines["account_number"]) == {invoice.account.number}
    assert set(lines["invoice_number"]) == {invoice.number}
    assert set(lines["bill_cycle_date"]) == {CYCLE}
    assert str(lines["charge"].sum()) == lines_entry.sums["charge"]
    assert str(lines["tax"].sum()) == lines_entry.sums["tax"]
    assert {json.loads(e)["reference_1"] for e in lines["extras"]} == {
        p.employee_id for p in people.values()
    }
    items = _landed(storage, result, "charge_items")
    assert items.height == items_entry.rows
    assert str(items["charge"].sum()) == items_entry.sums["charge"]
    assert set(items["item_category"]) == {"CURRENT CHARGES", "TAXES"}
    assert set(items["wireless_number"]) == set(people)
    assert (items["charge"] < 0).any()  # credits in parentheses


TOLERATED = "\n".join(
    [
        "Client No.\t31415926",
        "",
        '"Invoice Date:"\t"06-Feb-23"',
        "Unique Invoice Number: 90210",
        "SOME COMPANY INC",
        "",
        "",
        "  REPORT - INDIVIDUAL DETAILS  ",
        '"Page 1"',
        'C:\t"613 555 0142"\t\t',
        "Subscriber Name:\tZoë Tremblay",
        '"Department:"\t"Field Services"',
        "Reference 1:",
        "CURRENT CHARGES",
        '"Monthly Service"\t07-Feb-23 to 06-Mar-23\t$50.00',
        '"Usage"\t$1,004.25',
        '"Promotional Credit"\t-$4.25',
        "",
        "C:\t6135550143",
        '"Subscriber Name:"\t"Luc Roy"',
        '"CURRENT CHARGES"',
        '"Monthly Service"\t$20.00',
        '"Total Current Charges"\t$20.00',
        "",
    ]
)


@pytest.mark.parametrize(("newline", "encoding"), [("\n", "utf-8"), ("\r\n", "cp1252")])
def test_the_reader_tolerates_spacing_quoting_line_ends_and_unknown_keys(
    config: Config, tmp_path: Path, newline: str, encoding: str
) -> None:
    path = tmp_path / "telus report.txt"
    path.write_bytes(TOLERATED.replace("\n", newline).encode(encoding))
    storage, result = _ingest(config, tmp_path, path)
    assert (result.status, result.rows_rejected) == ("ingested", 0), result.reason
    lines = _landed(storage, result, "invoice_lines", "2023-02").sort("wireless_number")
    assert lines["wireless_number"].to_list() == ["6135550142", "6135550143"]
    assert lines["user_name"].to_list() == ["Zoë Tremblay", "Luc Roy"]
    assert lines["charge"].cast(pl.String).to_list() == ["1050.00", "20.00"]  # items' sum
    assert set(lines["account_number"]) == {"31415926"} and set(lines["invoice_number"]) == {
        "90210"
    }
    assert set(lines["bill_cycle_date"]) == {date(2023, 2, 6)}
    assert json.loads(lines["extras"][0])["department"] == "Field Services"
    assert _landed(storage, result, "charge_items", "2023-02").height == 4


@pytest.mark.parametrize("title", ["Group Summary", "Invoice Summary", "Airtime Detail"])
def test_other_reports_are_recognised_and_quarantined_with_a_reason(
    world_invoice: Any, config: Config, tmp_path: Path, title: str
) -> None:
    _, invoice = world_invoice
    entry = write_telus_summary(tmp_path, tmp_path, invoice, title)
    storage, result = _ingest(config, tmp_path, tmp_path / entry.file)
    assert (result.status, result.reason_code) == ("quarantined", entry.reason)
    assert result.reason_code == UNREAD[title.lower()].code != "unknown_layout"
    assert UNREAD[title.lower()].reason in (result.reason or "")
    body = json.loads(storage.read_bytes(result.quarantine_key))
    assert body["code"] == entry.reason
    assert body["reason"] == f"{Path(entry.file).name}: {UNREAD[title.lower()].reason}"


def test_group_summary_says_it_holds_no_per_line_rows() -> None:
    unread = UNREAD["group summary"]
    assert unread.code == "report_without_line_data"
    assert unread.reason == "Telus Group Summary holds totals per group, no per-line rows"


@pytest.mark.parametrize(
    ("head", "title"),
    [
        (
            b'"Client Number:"\t1\r\n"REPORT - INDIVIDUAL DETAILS"\r\n',
            "report - individual details",
        ),
        (b"x\n\n  DEW Report\n", "dew report"),
        (b"Account Number,Group Summary\n1,2\n", None),  # a table cell, not a title line
        (b"Wireless Number\tUser Name\n2125550100\tGroup Summary x\n", None),
    ],
)
def test_a_report_is_recognised_by_its_title_line_only(head: bytes, title: str | None) -> None:
    assert report_title(head) == title
