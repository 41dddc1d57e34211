"""AT&T exports as really exported: the writers produce the real headers and value formats, and
every data row of each export lands in the restricted zone as the writer's truth says."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from piiscan.ingest import att as att_steps
from piiscan.ingest import carriers
from piiscan.layouts.att import (
    ATT_POOLING,
    ATT_RAW_DATA,
    ATT_USAGE_DETAIL,
    POOLING_HEADERS,
    RAW_DATA_HEADERS,
    USAGE_DETAIL_HEADERS,
)
from piiscan.pipeline.ingest import ingest_paths
from piiscan.policy import Config
from piiscan.schema import DATASETS
from piiscan.storage import LocalStorage
from piiscan.testing.common import Expected
from piiscan.testing.model import Account, Invoice, World
from piiscan.testing.writers_att import (
    RAW_LABELS,
    department,
    raw_user_name_column,
    write_att_pooling,
    write_att_raw_data,
    write_att_usage_detail,
)

SEED = 23
CYCLE = date(2026, 10, 16)
CUSTOMER = "acme"


@pytest.fixture
def account() -> tuple[World, Account]:
    world = World(SEED)
    return world, world.account(CUSTOMER, "att", "E######", 5, date(2026, 9, 16))


def _invoice(world: World, account: Account) -> Invoice:
    return world.invoice(account, CYCLE, is_last=True)


def _ingest(config: Config, tmp_path: Path, *files: Path) -> tuple[Any, pl.DataFrame | None]:
    storage = LocalStorage(tmp_path / "lake")
    summary = ingest_paths(storage, config.customer(CUSTOMER), list(files), "run-att")
    frames = {
        dataset: pl.scan_parquet(str(tmp_path / "lake" / "restricted" / dataset / "**/*.parquet"))
        for dataset in DATASETS
        if (tmp_path / "lake" / "restricted" / dataset).exists()
    }
    [landed] = [f.collect() for f in frames.values()] or [None]
    return summary.files[0], landed


def _assert_sums(landed: pl.DataFrame, expected: Expected) -> None:
    for measure, want in expected.sums.items():
        got = landed[measure].sum()
        if measure in ("charge", "tax"):
            assert Decimal(str(got)) == Decimal(want), measure
        else:
            assert float(got) == pytest.approx(float(want)), measure


# --- headers exactly as REAL_EXPORTS.md lists them -----------------------------------------------


@pytest.mark.parametrize(
    ("layout", "width", "first", "last"),
    [
        (ATT_USAGE_DETAIL, 24, "Foundation account", "LD charges"),
        (ATT_POOLING, 90, "Account and descriptions", "Node description 2"),
        (ATT_RAW_DATA, 133, "Section ID", "Feature Code"),
    ],
)
def test_layouts_carry_the_whole_real_header(
    layout: Any, width: int, first: str, last: str
) -> None:
    targets = [column.target for column in layout.columns]
    assert len(layout.headers) == width and (layout.headers[0], layout.headers[-1]) == (first, last)
    assert len(set(layout.headers)) == width and len(set(targets)) == width
    assert "period" not in targets and "customer" not in targets  # the lake's partition keys


def test_real_header_details() -> None:
    assert RAW_DATA_HEADERS[27:35] == (
        "FAN User Defined Label 1",
        "Service ID 1 (UDL 1 - CTN Level)",
        "FAN User Defined Label 2",
        "Service ID 2 (UDL 2 - CTN Level)",
        "FAN User Defined Label 3",
        "Service ID 3 (UDL 3 - CTN Level)",
        "FAN User Defined Label 4",
        "Service ID 4 (UDL 4 - CTN Level)",
    )
    assert "Level 5 Node description" in POOLING_HEADERS
    assert POOLING_HEADERS[40:44] == ("FILE NUMBER", "COST CENTER", "UDL 3", "UDL 4")
    assert USAGE_DETAIL_HEADERS[5:7] == ("Date", "Time")


# --- the files look like the carrier's ----------------------------------------------------------


def test_usage_detail_is_written_as_att_exports_it(
    account: tuple[World, Account], tmp_path: Path
) -> None:
    world, acct = account
    expected = write_att_usage_detail(tmp_path, tmp_path, _invoice(world, acct), 12, SEED)
    data = (tmp_path / expected.file).read_bytes()
    header, *lines = data.decode("utf-8").split("\r\n")
    assert "\n" not in header and lines[-1] == ""  # CRLF throughout
    assert header == ",".join(f'"{h}"' for h in USAGE_DETAIL_HEADERS)
    frame = pl.read_csv(io.BytesIO(data), infer_schema=False)
    assert frame.height == expected.rows == 5 * 12
    patterns = {
        "Account number": re.escape(acct.number),
        "Wireless number": r"\d{3}55501\d{2}",
        "Market cycle end date": "10/16/2026",
        "Date": r"(09|10)/\d{2}/2026",
        "Time": r"([01]\d|2[0-3]):[0-5]\d",
        "Dialed number": r"(\d{3}-555-01\d{2})?",
        "In/out": r"(In|Out|in|out)?",
        "Minutes usage": r"\d+",
        "Total charges": r"\$\d+\.\d{2}|\(\$\d+\.\d{2}\)",
        "Source": "Voice|Data|Messaging",
        "Roam home intl. description": "HOME|Home",
    }
    for column, pattern in patterns.items():
        values = frame[column].fill_null("")
        assert values.str.contains(f"^(?:{pattern})$").all(), (column, values.to_list())
    assert frame["Feature used"].null_count() > 0  # blank fields are common


def test_pooling_report_is_written_as_att_exports_it(
    account: tuple[World, Account], tmp_path: Path
) -> None:
    world, acct = account
    [expected] = write_att_pooling(tmp_path, tmp_path, _invoice(world, acct), world)
    text = (tmp_path / expected.file).read_text(encoding="utf-8")
    assert "\r" not in text
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == POOLING_HEADERS and len(rows) == 1 + 5
    frame = pl.DataFrame(rows[1:], schema=list(POOLING_HEADERS), orient="row")
    money = r"\$[\d,]+\.\d{2}|\(\$[\d,]+\.\d{2}\)"
    patterns = {
        "Account and descriptions": rf"{acct.number} \(ACME CORP\)",
        "Data charges": money,
        "Total data pooling credit": money,
        "Month": "October 2026",
        "Quarter": "Q4 2026",
        "Market cycle end date": "10/16/2026",
        "Wireless number": r"\d{3}55501\d{2}",
    }
    for column, pattern in patterns.items():
        assert frame[column].str.contains(f"^(?:{pattern})$").all(), column
    assert frame["Data allocated back credit"].str.starts_with("(").any()


def test_raw_data_is_written_as_att_exports_it(
    account: tuple[World, Account], tmp_path: Path
) -> None:
    world, acct = account
    expected = write_att_raw_data(tmp_path, tmp_path, _invoice(world, acct), world)
    text = (tmp_path / expected.file).read_text(encoding="utf-8")
    assert "\r" not in text
    rows = [line.split("|") for line in text.splitlines()]
    assert tuple(rows[0]) == RAW_DATA_HEADERS and {len(r) for r in rows} == {133}
    frame = pl.DataFrame(rows[1:], schema=list(RAW_DATA_HEADERS), orient="row")
    assert frame["Billing Entity Level"].to_list() == ["FAN"] * 3 + ["BAN"] + ["CTN"] * 5
    assert set(frame["Section ID"]) == {"BIL", "IRA", "SL"}
    assert frame["Period End Date"].str.contains(r"^20261016$").all()
    labels = frame.filter(pl.col("FAN User Defined Label 1") != "")
    assert labels.height == 1 and labels["Billing Entity Level"][0] == "FAN"
    total = frame.filter(pl.col("Section ID") == "IRA")["FAN Invoice Total Current Charges"][0]
    assert Decimal(total) == Decimal(expected.sums["charge"])  # plain amounts, no $


# --- round trips: writer -> ingest -> restricted zone equals the writer's truth -------------------


def test_usage_detail_round_trip(
    account: tuple[World, Account], config: Config, tmp_path: Path
) -> None:
    world, acct = account
    expected = write_att_usage_detail(tmp_path, tmp_path, _invoice(world, acct), 20, SEED)
    result, landed = _ingest(config, tmp_path, tmp_path / expected.file)
    assert (result.status, result.layouts, result.rows_rejected) == (
        "ingested",
        ("att_usage_detail",),
        0,
    )
    assert landed is not None and result.rows == {"usage_events": expected.rows} == {
        "usage_events": landed.height
    }
    _assert_sums(landed, expected)
    assert set(landed["wireless_number"]) == {line.number for line in acct.lines}
    assert set(landed["account_number"]) == {acct.number}
    assert set(landed["bill_cycle_date"]) == {CYCLE}
    assert set(landed["kind"]) == {"voice", "sms", "data"}
    messages = landed.filter(pl.col("kind") == "sms")
    assert messages["other_number"].null_count() == 0  # from MSG sent to / received from
    assert set(messages["direction"]) == {"in", "out"}
    assert landed["event_time"].dt.hour().max() > 12  # 24-hour times
    extras = [json.loads(e) for e in landed["extras"]]
    assert not any("msg_sent_to" in e or "msg_received_from" in e for e in extras)


def test_pooling_round_trip(account: tuple[World, Account], config: Config, tmp_path: Path) -> None:
    world, acct = account
    [expected] = write_att_pooling(tmp_path, tmp_path, _invoice(world, acct), world)
    result, landed = _ingest(config, tmp_path, tmp_path / expected.file)
    assert (result.status, result.layouts, result.rows_rejected) == (
        "ingested",
        ("att_pooling",),
        0,
    )
    assert landed is not None and landed.height == expected.rows == 5
    _assert_sums(landed, expected)
    truth = {
        line.number: (
            line.person.full_name.upper(),
            line.person.employee_id,
            line.cost_center.split(":")[0],
        )
        for line in acct.lines
    }
    got = {
        row["wireless_number"]: (row["user_name"], row["employee_id"], row["cost_center"])
        for row in landed.iter_rows(named=True)
    }
    assert got == truth
    assert set(landed["account_number"]) == {acct.number}
    assert set(landed["bill_cycle_date"]) == {CYCLE}
    extras = json.loads(landed["extras"][0])
    assert "file_number" not in extras  # a UDL named FILE NUMBER is the employee ID
    assert {"total_data_pooling_credit", "month", "quarter", "level_1_gl_code"} <= set(extras)


def test_raw_data_round_trip(
    account: tuple[World, Account], config: Config, tmp_path: Path
) -> None:
    world, acct = account
    expected = write_att_raw_data(tmp_path, tmp_path, _invoice(world, acct), world)
    result, landed = _ingest(config, tmp_path, tmp_path / expected.file)
    assert (result.status, result.rows_rejected, result.rows_reference) == ("ingested", 0, 4)
    assert landed is not None and landed.height == expected.rows == 5
    _assert_sums(landed, expected)
    truth = {
        line.number: (
            line.person.full_name,
            line.person.employee_id,
            line.cost_center.split(":")[0],
        )
        for line in acct.lines
    }
    got = {
        row["wireless_number"]: (row["user_name"], row["employee_id"], row["cost_center"])
        for row in landed.iter_rows(named=True)
    }
    assert got == truth  # names from User Name, or from the User Name section where it is blank
    assert not all(raw_user_name_column(i) for i in range(len(acct.lines)))
    assert set(landed["account_number"]) == {acct.number}
    assert set(landed["bill_cycle_date"]) == {CYCLE}
    names = {line.person.full_name for line in acct.lines}
    for text in landed["extras"]:
        extras = json.loads(text)
        assert not names & {str(v) for v in extras.values()}  # no name left in a generic field
        assert extras["service_id_1"] is None and extras["service_id_2"] is None  # moved
        assert extras["service_id_3"] in {department(x) for x in acct.lines}  # unmapped label
        assert extras["section_2"] == "User Name"  # the section's label itself stays


def test_a_raw_data_file_of_account_summaries_only_ends_with_its_own_reason(
    account: tuple[World, Account], config: Config, tmp_path: Path
) -> None:
    world, acct = account
    expected = write_att_raw_data(tmp_path, tmp_path, _invoice(world, acct), world, lines=False)
    result, landed = _ingest(config, tmp_path, tmp_path / expected.file)
    assert (result.status, result.reason_code) == ("quarantined", "reference_file")
    assert "att_premier_raw_data" in (result.reason or "") and landed is None


# --- what the steps decide ----------------------------------------------------------------------


def _raw_frame(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, separator="|", infer_schema=False)


def test_labels_are_mapped_by_name_whatever_their_position_or_case(
    account: tuple[World, Account], config: Config, tmp_path: Path
) -> None:
    world, acct = account
    source = write_att_raw_data(tmp_path, tmp_path, _invoice(world, acct), world)
    frame = _raw_frame(tmp_path / source.file)
    # The customer swapped its labels: UDL 1 holds the employee's payroll file number now.
    swapped = frame.with_columns(
        pl.col("Service ID 2 (UDL 2 - CTN Level)").alias("Service ID 1 (UDL 1 - CTN Level)"),
        pl.col("Service ID 1 (UDL 1 - CTN Level)").alias("Service ID 2 (UDL 2 - CTN Level)"),
        pl.when(pl.col("FAN User Defined Label 1").is_not_null())
        .then(pl.lit("File Number"))
        .alias("FAN User Defined Label 1"),
        pl.when(pl.col("FAN User Defined Label 2").is_not_null())
        .then(pl.lit("cost-centre"))
        .alias("FAN User Defined Label 2"),
    )
    path = tmp_path / "swapped" / Path(source.file).name
    path.parent.mkdir()
    swapped.write_csv(path, separator="|")
    result, landed = _ingest(config, tmp_path / "swapped", path)
    assert result.status == "ingested" and landed is not None
    truth = {line.number: (line.person.employee_id, line.cost_center[:10]) for line in acct.lines}
    got = landed.select("wireless_number", "employee_id", "cost_center").iter_rows()
    assert {number: (employee, center) for number, employee, center in got} == truth


def test_label_targets_are_configurable(
    account: tuple[World, Account],
    config: Config,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert RAW_LABELS[2] == "DEPARTMENT"
    world, acct = account
    source = write_att_raw_data(tmp_path, tmp_path, _invoice(world, acct), world)
    targets = {"department": "cost_center", "employee id": "employee_id"}
    monkeypatch.setattr(
        carriers, "STEPS", {**carriers.STEPS, **att_steps.with_label_targets(targets)}
    )
    _, landed = _ingest(config, tmp_path, tmp_path / source.file)
    assert landed is not None
    assert set(landed["cost_center"]) <= {department(line) for line in acct.lines}
    assert json.loads(landed["extras"][0])["service_id_1"]  # COST CENTER is unmapped now


def test_pooling_falls_back_to_the_period_end_date_and_the_account_in_its_description(
    account: tuple[World, Account], config: Config, tmp_path: Path
) -> None:
    world, acct = account
    [source] = write_att_pooling(tmp_path, tmp_path, _invoice(world, acct), world)
    frame = pl.read_csv(tmp_path / source.file, infer_schema=False)
    changed = frame.with_columns(
        pl.col("Market cycle end date").alias("Period end date"),
        pl.lit(None, pl.String).alias("Market cycle end date"),
        pl.lit(None, pl.String).alias("Account number"),
    )
    path = tmp_path / "changed" / Path(source.file).name
    path.parent.mkdir()
    changed.write_csv(path)
    result, landed = _ingest(config, tmp_path / "changed", path)
    assert result.status == "ingested" and result.rows_rejected == 0 and landed is not None
    assert set(landed["bill_cycle_date"]) == {CYCLE}
    assert set(landed["account_number"]) == {acct.number}


def test_usage_detail_rows_with_12_hour_times_are_rejected_naming_the_form(
    account: tuple[World, Account], config: Config, tmp_path: Path
) -> None:
    world, acct = account
    source = write_att_usage_detail(tmp_path, tmp_path, _invoice(world, acct), 4, SEED)
    frame = pl.read_csv(tmp_path / source.file, infer_schema=False)
    old = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("02:15 PM"))
        .otherwise(pl.col("Time"))
        .alias("Time"),
        pl.when(pl.int_range(pl.len()) == 1)
        .then(pl.lit(None, pl.String))
        .otherwise(pl.col("Source"))
        .alias("Source"),
    )
    path = tmp_path / "old" / Path(source.file).name
    path.parent.mkdir()
    old.write_csv(path)
    result, landed = _ingest(config, tmp_path / "old", path)
    assert result.rows_rejected == 1 and landed is not None and landed.height == 19
    storage = LocalStorage(tmp_path / "old" / "lake")
    [rejection] = json.loads(storage.read_bytes(result.quarantine_key))["rejections"]
    assert rejection["line"] == 2 and "24-hour HH:MM" in rejection["problem"]


@pytest.mark.parametrize(
    ("line", "ragged"),
    [
        (b'1,"Dallas, TX",3\n', False),
        (b'1,"Dallas, TX"\n', True),  # a field short: a quoted comma does not count
        (b'1,"Dallas, TX",3,4\n', True),
        (b'1,"a ""quoted"", b",3\n', False),
        (b"1,2\n", False),  # no quotes: left to the plain field count
    ],
)
def test_rows_with_quoted_fields_are_checked_for_their_field_count(
    line: bytes, ragged: bool
) -> None:
    from piiscan.ingest.reader import _quoted_ragged

    flags = _quoted_ragged(line, ",", 3)
    assert flags is None if b'"' not in line else flags.tolist() == [ragged]
