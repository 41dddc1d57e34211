"""Verizon Raw Data Download as really exported: real headers, loose or zipped, any file name."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from piiscan.ingest.detection import detect_text
from piiscan.ingest.verizon import usage_detail, wireless_summary
from piiscan.layouts.model import Layout, c
from piiscan.layouts.verizon import (
    VERIZON_ACCOUNT_SUMMARY,
    VERIZON_CHARGES_DETAIL,
    VERIZON_USAGE_DETAIL,
    VERIZON_WIRELESS_SUMMARY,
)
from piiscan.pipeline.ingest import ingest_paths
from piiscan.policy import Config
from piiscan.storage import LocalStorage
from piiscan.testing.common import Expected
from piiscan.testing.model import Invoice, World
from piiscan.testing.usage import usage_chunks
from piiscan.testing.writers_verizon import REPORT_NAMES, write_verizon_loose, write_verizon_zip

# Header lines of the real exports (carriers/REAL_EXPORTS.md), in order.
REAL_HEADERS = {
    "AccountSummary": [
        "ECPD Profile ID", "Bill Cycle Date", "Account Number", "Date Due", "Invoice Number",
        "Bill Period", "Bill Name", "Previous Balance", "Payments", "Adjustments",
        "Balance Forward", "Account Charges and Credits",
        "Charges for Third-Party Services to Account", "Monthly Charges", "Late Fee",
        "Usage Charges - Voice", "Usage Charges - Messaging", "Usage Charges - Data",
        "Usage Charges - Roaming", "Usage Charges - International", "Usage Charges - Purchases",
        "Usage and Purchase Charges", "Equipment Charges", "Surcharges and OC&Cs",
        "Taxes, Governmental Surcharges, and Fees", "Charges for Third-Party Services to Lines",
        "Total Current Charges", "Total Amount Due", "Remittance Address",
    ],
    "Account & Wireless Summary": [
        "ECPD Profile ID", "Bill Cycle Date", "Account Number", "Date Due", "Invoice Number",
        "Bill Period", "Wireless Number", "User Name", "Cost Center", "User ID",
        "Your Calling Plan", "Account Charges and Credits", "Monthly Charges",
        "Usage and Purchase Charges", "Equipment Charges",
        "Total Surcharges and Other Charges and Credits",
        "Taxes, Governmental Surcharges and Fees", "Third Party Charges", "Total Charges",
        "Voice Plan Usage", "Messaging Usage", "Data Usage (KB)", "Data Usage (MB)",
        "Data Usage (GB)", "Voice Roaming", "Messaging Roaming", "Data Roaming (KB)",
        "Data Roaming (MB)", "Data Roaming (GB)",
    ],
    "Acct & Wireless Charges Detail Summary Usage": [
        "ECPD Profile ID", "Bill Cycle Date", "Account Number", "Invoice Number",
        "Wireless Number", "User Name", "Cost Center", "User ID", "Item Category", "Date",
        "Item Type", "Item Description", "Vendor Name / Contact Information",
        "Share Description", "Share Voice", "Share Messaging", "Share Data", "Usage Period",
        "Allowance", "Used", "Billable", "Cost", "Order Details",
    ],
    "Wireless Usage Detail": [
        "ECPD Profile ID", "Bill Cycle Date", "Account Number", "Invoice Number",
        "Wireless Number", "User Name", "Usage Category", "Account Authorization Code", "Date",
        "Time", "Number", "Rate", "Usage Type", "Description", "Origination", "Destination",
        "Intl. Call Type", "Min", "Charge", "Long Dist./Other Charges", "Total",
    ],
}  # fmt: skip
LAYOUT_OF = {
    "AccountSummary": VERIZON_ACCOUNT_SUMMARY,
    "Account & Wireless Summary": VERIZON_WIRELESS_SUMMARY,
    "Acct & Wireless Charges Detail Summary Usage": VERIZON_CHARGES_DETAIL,
    "Wireless Usage Detail": VERIZON_USAGE_DETAIL,
}
LINE_LEVEL = [r for r in LAYOUT_OF if LAYOUT_OF[r].dataset is not None]
SEED = 23
EVENTS_PER_LINE = 12
# A January bill: its usage detail's December dates are of the year before.
CYCLE = date(2026, 1, 16)


@pytest.mark.parametrize("report", list(REAL_HEADERS))
def test_layouts_have_the_real_headers_exactly(report: str) -> None:
    assert LAYOUT_OF[report].headers == REAL_HEADERS[report]
    assert REPORT_NAMES[LAYOUT_OF[report].name] == report


@pytest.mark.parametrize("report", list(REAL_HEADERS))
@pytest.mark.parametrize("suffix", ["_test.txt", "_202108.txt", ".txt", " (1).txt"])
def test_real_file_names_match_their_own_layout_only(report: str, suffix: str) -> None:
    matching = [lay.name for lay in LAYOUT_OF.values() if lay.matches_name(report + suffix)]
    assert matching == [LAYOUT_OF[report].name]


def _head(report: str) -> bytes:
    return ("\t".join(REAL_HEADERS[report]) + "\r\n").encode()


@pytest.mark.parametrize("report", LINE_LEVEL)
@pytest.mark.parametrize("name", ["export.txt", "AccountSummary_test.txt", "{report}_test.txt"])
def test_a_line_level_report_is_never_taken_for_the_account_summary(report: str, name: str) -> None:
    """All four reports share Bill Cycle Date, Account Number and Invoice Number."""
    layout, header, *_ = detect_text(name.format(report=report), _head(report))
    assert layout is LAYOUT_OF[report]
    assert list(header.names) == REAL_HEADERS[report]


@pytest.mark.parametrize("name", ["AccountSummary_test.txt", "export.txt"])
def test_the_account_summary_is_still_recognised(name: str) -> None:
    assert detect_text(name, _head("AccountSummary"))[0] is VERIZON_ACCOUNT_SUMMARY


REFERENCE = Layout(
    name="reference",
    carrier="x",
    dataset=None,
    file_pattern=r"^ref",
    separator="\t",
    columns=(c("A", "a", required=True), c("B", "b", required=True)),
)
DATASET = Layout(
    name="data",
    carrier="x",
    dataset="invoice_lines",
    file_pattern=r"^data",
    separator="\t",
    columns=(c("A", "a", required=True), c("B", "b", required=True), c("C", "c", required=True)),
)


@pytest.mark.parametrize(
    ("name", "header", "chosen"),
    [
        ("ref_1.txt", "A\tB\tC", "data"),  # named like the reference, headed like the dataset
        ("other.txt", "A\tB\tC", "data"),  # named like neither
        ("data_1.txt", "A\tB\tC", "data"),
        ("ref_1.txt", "A\tB", "reference"),
        ("other.txt", "A\tB", "reference"),
    ],
)
def test_detection_prefers_a_dataset_layout_over_a_reference_one_listed_first(
    name: str, header: str, chosen: str
) -> None:
    assert detect_text(name, f"{header}\r\n".encode(), (REFERENCE, DATASET))[0].name == chosen


def test_data_usage_comes_from_whichever_unit_is_filled() -> None:
    """1 MB = 1024 KB and 1 GB = 1024 MB, as Bell's MB and the rest of piiscan."""
    frame = pl.DataFrame(
        {
            "data_usage_kb": [2048.0, 0.0, 0.0, 0.0, None, 100.0],
            "data_usage_mb": [0.0, 1.5, 0.0, 0.0, None, 1.0],
            "data_usage_gb": [0.0, 0.0, 6.581, 0.0, None, 1.0],
        }
    )
    got = wireless_summary(frame, None)["data_kb"].to_list()  # type: ignore[arg-type]
    assert got == [2048.0, 1536.0, 6.581 * 1024 * 1024, 0.0, None, 100.0]


def test_usage_dates_take_the_year_of_the_bill_cycle_and_times_like_7_15a() -> None:
    frame = pl.DataFrame(
        {
            "bill_cycle_date": [date(2026, 1, 16)] * 4 + [date(2021, 8, 16)],
            "date_mmdd": ["12/17", "01/16", "12/31", "13/01", "07/21"],
            "time_hmp": ["7:15A", "12:05P", "12:00A", "1:00P", "11:59P"],
            "kind": ["Voice", "Voice", "Messaging", "Data", "Voice"],
            "destination": ["Incoming CL", "BOSTON MA", None, None, None],
        }
    )
    out = usage_detail(frame, None)  # type: ignore[arg-type]
    assert out["event_time"].dt.strftime("%Y-%m-%d %H:%M").to_list() == [
        "2025-12-17 07:15",
        "2026-01-16 12:05",
        "2025-12-31 00:00",
        None,
        "2021-07-21 23:59",
    ]
    assert out["direction"].to_list() == ["in", "out", None, None, "out"]
    assert out["kind"].to_list() == ["voice", "voice", "sms", "data", "voice"]
    assert out["messages"].to_list() == [0, 0, 1, 0, 0]
    assert out["_post_error"].is_not_null().to_list() == [False, False, False, True, False]


Writer = Callable[[Path, Path, Invoice, World], list[Expected]]
WRITERS: dict[str, Writer] = {
    "loose": lambda folder, out, invoice, world: write_verizon_loose(
        folder, out, invoice, world, EVENTS_PER_LINE, SEED, suffix="_test"
    ),
    "zipped": lambda folder, out, invoice, world: write_verizon_zip(
        folder, out, invoice, world, EVENTS_PER_LINE, SEED
    ),
    "loose without AccountSummary": lambda folder, out, invoice, world: write_verizon_loose(
        folder, out, invoice, world, EVENTS_PER_LINE, SEED, account_summary=False
    ),
}


@pytest.fixture(params=list(WRITERS))
def delivery(
    request: pytest.FixtureRequest, tmp_path: Path, config: Config
) -> tuple[str, Invoice, list[Expected], Any, LocalStorage]:
    world = World(SEED)
    account = world.account("acme", "verizon", "E######", 5, date(2025, 11, 16))
    invoice = world.invoice(account, CYCLE, is_last=True)
    expected = WRITERS[request.param](tmp_path / "delivery", tmp_path, invoice, world)
    storage = LocalStorage(tmp_path / "lake")
    files = sorted({tmp_path / e.file for e in expected})
    summary = ingest_paths(storage, config.customer("acme"), files, "run")
    return request.param, invoice, expected, summary, storage


def _zone(storage: LocalStorage, dataset: str) -> pl.DataFrame:
    return pl.scan_parquet(storage.uri(f"restricted/{dataset}"), hive_partitioning=True).collect()


def test_the_delivery_is_written_as_really_exported(
    delivery: tuple[str, Invoice, list[Expected], Any, LocalStorage], tmp_path: Path
) -> None:
    case, _, expected, _, _ = delivery
    reports = {e.member or Path(e.file).name: e for e in expected}
    if case == "zipped":
        with zipfile.ZipFile(tmp_path / expected[0].file) as archive:
            texts = {m: archive.read(m) for m in reports}
    else:
        texts = {name: (tmp_path / e.file).read_bytes() for name, e in reports.items()}
        assert all(b"\r\n" in t and b"\n" not in t.replace(b"\r\n", b"") for t in texts.values())
    suffix = "_test.txt" if case == "loose" else f"_{CYCLE:%Y%m}.txt"
    assert sorted(texts) == sorted(
        f"{r}{suffix}" for r in REAL_HEADERS if r != "AccountSummary" or "without" not in case
    )
    for name, data in texts.items():
        lines = data.decode("utf-8").removeprefix("\ufeff").splitlines()
        header = REAL_HEADERS[name.removesuffix(suffix)]
        assert lines[0].split("\t") == header
        assert {len(line.split("\t")) for line in lines} == {len(header)}
        if reports[name].dataset is not None:
            assert len(lines) - 1 == reports[name].rows
        else:  # account rows: none lands, they inform siblings or are quarantined as reference
            assert len(lines) - 1 >= 1


def test_every_row_lands_as_the_writer_wrote_it(
    delivery: tuple[str, Invoice, list[Expected], Any, LocalStorage],
) -> None:
    _, invoice, expected, summary, storage = delivery
    line_level = [f for f in summary.files if f.layouts != ("verizon_account_summary",)]
    assert {f.status for f in line_level} == {"ingested"}
    assert sum(f.rows_rejected for f in summary.files) == 0
    landed = {e.dataset: _zone(storage, e.dataset) for e in expected if e.dataset}
    assert set(landed) == {"invoice_lines", "charge_items", "usage_events"}
    for entry in expected:
        if entry.dataset is None:
            continue
        frame = landed[entry.dataset]
        assert frame.height == entry.rows, entry.layout
        for measure, want in entry.sums.items():
            got = frame[measure].sum()
            if measure in ("charge", "tax"):
                assert str(got) == str(pl.Series([want]).cast(pl.Decimal(18, 2))[0]), measure
            else:
                assert float(got) == pytest.approx(float(want), rel=1e-9), measure
        numbers = {line.number for line in invoice.account.lines}
        assert set(frame["wireless_number"]) == numbers
        assert set(frame["account_number"]) == {invoice.account.number}
        assert set(frame["carrier"]) == {"verizon"}
    for dataset in ("invoice_lines", "charge_items"):
        frame = landed[dataset]
        assert set(frame["invoice_number"]) == {invoice.number}
        assert set(frame["bill_cycle_date"]) == {CYCLE}
        assert set(frame["period"]) == {f"{CYCLE:%Y-%m}"}
    lines = landed["invoice_lines"]
    assert lines["cost_center"].drop_nulls().str.contains(r"^\d{10}:\d{10}$").all()
    assert lines["employee_id"].str.contains(r"^E\d{6}$").all()


def test_usage_events_land_at_their_time_in_their_month(
    delivery: tuple[str, Invoice, list[Expected], Any, LocalStorage],
) -> None:
    _, invoice, _, _, storage = delivery
    truth = pl.concat(list(usage_chunks(invoice, EVENTS_PER_LINE, SEED)))
    landed = _zone(storage, "usage_events")
    key = ["wireless_number", "event_time"]
    assert landed.sort(key)["event_time"].to_list() == truth.sort(key)["event_time"].to_list()
    months = truth["event_time"].dt.strftime("%Y-%m").value_counts().sort("event_time")
    periods = landed["period"].value_counts().sort("period")
    assert periods.rows() == months.rows() and periods.height == 2  # Dec 2025 and Jan 2026
    voice = landed.filter(pl.col("kind") == "voice").sort(key)
    voice_truth = truth.filter(pl.col("kind") == "voice").sort(key)
    assert voice["direction"].to_list() == voice_truth["direction"].to_list()
    assert set(landed["bill_cycle_date"]) == {CYCLE}


def test_a_loose_account_summary_is_recognised_and_says_it_has_no_line_data(
    delivery: tuple[str, Invoice, list[Expected], Any, LocalStorage],
) -> None:
    case, _, expected, summary, _ = delivery
    results = {f.file: f for f in summary.files}
    if case == "zipped":
        (result,) = results.values()
        assert result.rows_reference == 1 and result.reason_code is None
        return
    summaries = [e for e in expected if e.dataset is None]
    assert len(summaries) == (0 if "without" in case else 1)
    for entry in summaries:
        result = results[Path(entry.file).name]
        assert result.layouts == ("verizon_account_summary",)
        assert (result.status, result.reason_code) == ("quarantined", entry.reason)
        assert entry.reason == "reference_file" and "no line-level data" in (result.reason or "")
        assert result.rows == {} and result.rows_reference == 1 and entry.rows == 0
    for result in results.values():
        if result.layouts != ("verizon_account_summary",):
            assert len(result.rows) == 1 and result.rows_reference == 0 and not result.reason
