"""Ingest over every fixture layout: round trips, quarantine, idempotence, the lake contract."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from piiscan.ingest.parse import Outputs
from piiscan.ingest.reader import _line_stats, _quoted_ragged
from piiscan.pipeline.ingest import collect_files, ingest_landing, ingest_paths, new_deliveries
from piiscan.policy import Config
from piiscan.schema import DATASETS, EXTRAS, REGISTRY
from piiscan.storage import LocalStorage, MemoryStorage
from piiscan.types import FileResult, IngestSummary

CUSTOMERS = ("acme", "globex", "initech")


@pytest.fixture(scope="module")
def ingested(
    fixture_tree: Path, config: Config, tmp_path_factory: pytest.TempPathFactory
) -> tuple[LocalStorage, dict[tuple[str, str], FileResult], list[IngestSummary]]:
    """Every customer's files, then the broken set (delivered to acme), into one local lake."""
    storage = LocalStorage(tmp_path_factory.mktemp("lake"))
    summaries = [
        ingest_paths(storage, config.customer(c), collect_files([fixture_tree / c]), f"run-{c}")
        for c in CUSTOMERS
    ]
    summaries.append(
        ingest_paths(
            storage, config.customer("acme"), collect_files([fixture_tree / "broken"]), "run-broken"
        )
    )
    results = {(s.customer, f.file): f for s in summaries for f in s.files}
    return storage, results, summaries


def _result(ingested: Any, entry: dict[str, Any]) -> FileResult:
    result: FileResult = ingested[1][(entry["customer"], Path(entry["file"]).name)]
    return result


def _outputs(storage: LocalStorage, result: FileResult, dataset: str) -> pl.DataFrame:
    keys = [k for k in result.outputs if k.startswith(f"restricted/{dataset}/")]
    return pl.concat([pl.read_parquet(storage.uri(k)) for k in keys])


def _ids(expected: list[dict[str, Any]], outcome: str) -> list[dict[str, Any]]:
    return [e for e in expected if e["outcome"] == outcome and e["dataset"]]


def test_every_layout_is_covered(expected: list[dict[str, Any]]) -> None:
    layouts = {e["layout"] for e in expected if e["outcome"] == "ingested"}
    assert layouts >= {
        "verizon_account_summary",
        "verizon_wireless_summary",
        "verizon_charges_detail",
        "verizon_usage_detail",
        "att_premier_raw_data",
        "att_usage_detail",
        "att_device_report",
        "tmobile_usage_detail",
        "bell_mobile",
        "mdm_inventory",
        "generic_invoice_lines_parquet",
    }


def test_rows_generated_equal_rows_ingested(ingested: Any, expected: list[dict[str, Any]]) -> None:
    checked = 0
    for entry in _ids(expected, "ingested"):
        result = _result(ingested, entry)
        assert result.status == "ingested", (entry["file"], result.reason)
        landed = _outputs(ingested[0], result, entry["dataset"])
        if entry["member"] is None:
            assert result.rows[entry["dataset"]] == entry["rows"] == landed.height, entry["file"]
            assert result.rows_rejected == entry["quarantined_rows"], entry["file"]
        else:  # zip members: each member is the only source of its dataset in the archive
            assert landed.height == entry["rows"], (entry["file"], entry["member"])
        checked += 1
    assert checked >= 20


@pytest.mark.parametrize("measure", ["minutes", "messages", "data_kb", "charge", "tax"])
def test_sums_survive_ingest(ingested: Any, expected: list[dict[str, Any]], measure: str) -> None:
    compared = 0
    for entry in _ids(expected, "ingested"):
        if measure not in entry["sums"]:
            continue
        landed = _outputs(ingested[0], _result(ingested, entry), entry["dataset"])
        got, want = landed[measure].sum(), entry["sums"][measure]
        if measure in ("charge", "tax"):  # money is exact
            assert str(got) == str(pl.Series([want]).cast(pl.Decimal(18, 2))[0]), entry["file"]
        else:
            # Expectations round to 4 decimals (Bell's mm:ss minutes are thirds and sixths).
            assert float(got) == pytest.approx(float(want), rel=1e-9, abs=1e-3), entry["file"]
        compared += 1
    assert compared >= 5


@pytest.mark.parametrize(
    "reason",
    ["empty", "bad_archive", "wrong_encoding", "binary", "bad_header", "unknown_layout"],
)
def test_broken_files_are_quarantined_with_a_reason(
    ingested: Any, expected: list[dict[str, Any]], reason: str
) -> None:
    storage = ingested[0]
    entries = [e for e in expected if e["reason"] == reason]
    assert entries
    for entry in entries:
        result = _result(ingested, entry)
        assert (result.status, result.reason_code) == ("quarantined", reason)
        assert result.outputs == ()
        body = json.loads(storage.read_bytes(result.quarantine_key or ""))
        assert body["code"] == reason and Path(entry["file"]).name in body["reason"]
        assert storage.exists(f"quarantine/acme/run-broken/{Path(entry['file']).name}")
        assert not storage.exists(f"landing/acme/incoming/{Path(entry['file']).name}")


def test_bad_rows_go_to_quarantine_with_line_numbers_and_the_rest_lands(
    ingested: Any, expected: list[dict[str, Any]]
) -> None:
    storage = ingested[0]
    partial = [e for e in expected if e["quarantined_rows"]]
    assert len(partial) == 2  # Excel-mangled identifiers, ragged rows
    for entry in partial:
        result = _result(ingested, entry)
        assert result.status == "ingested" and result.rows[entry["dataset"]] == entry["rows"]
        reason = json.loads(storage.read_bytes(result.quarantine_key or ""))
        assert reason["rows_rejected"] == entry["quarantined_rows"]
        assert all(isinstance(r["line"], int) and r["line"] > 1 for r in reason["rejections"])
        rejected = pl.read_parquet(
            storage.uri(result.quarantine_key.replace(".reason.json", ".rejected-0.parquet"))  # type: ignore[union-attr]
        )
        assert rejected.height == entry["quarantined_rows"] and "_error" in rejected.columns
    problems = {
        r["problem"]
        for e in partial
        for r in json.loads(storage.read_bytes(_result(ingested, e).quarantine_key or ""))[
            "rejections"
        ]
    }
    assert any("scientific notation" in p for p in problems)
    assert any("different number of fields" in p for p in problems)


def test_quarantine_reasons_hold_no_raw_values(ingested: Any, fixture_tree: Path) -> None:
    storage = ingested[0]
    invoices = pl.read_parquet(next(fixture_tree.glob("acme/generic/*.parquet")))
    secrets = [
        *invoices["user_name"].to_list(),
        *invoices["wireless_number"].to_list(),
        *invoices["employee_id"].to_list(),
    ]
    text = "".join(
        storage.read_bytes(k).decode()
        for k in storage.list("quarantine")
        if k.endswith(".reason.json")
    )
    devices = pl.read_csv(next(fixture_tree.glob("broken/ATT_DeviceReport_*")), infer_schema=False)
    secrets += [v for v in devices["Device IMEI"].to_list() if v]
    assert text and not [s for s in secrets if s and s in text]


def test_each_zone_reads_as_one_hive_table(ingested: Any) -> None:
    storage = ingested[0]
    for dataset, schema in DATASETS.items():
        frame = pl.scan_parquet(
            storage.uri(f"restricted/{dataset}"), hive_partitioning=True
        ).collect()
        assert frame.columns == [*schema, EXTRAS, "customer", "period"]
        assert set(frame["customer"].unique()) <= set(CUSTOMERS)
        assert frame["period"].str.contains(r"^\d{4}-\d{2}$").all()
        identifiers = [
            c for c in ("wireless_number", "imei", "iccid", "account_number") if c in schema
        ]
        assert all(frame.schema[c] == pl.String for c in identifiers)


def test_lake_keys_name_exactly_the_registry_datasets(ingested: Any) -> None:
    datasets = {key.split("/")[1] for key in ingested[0].list("restricted")}
    assert datasets == set(REGISTRY)


def test_wireless_numbers_join_across_datasets(ingested: Any) -> None:
    storage = ingested[0]
    scan = {
        d: pl.scan_parquet(storage.uri(f"restricted/{d}"), hive_partitioning=True)
        for d in ("invoice_lines", "usage_events", "devices")
    }
    # The broken set delivers AT&T usage and devices of an account with no invoices: left out.
    billed = scan["invoice_lines"].filter(pl.col("carrier").is_in(["verizon", "att"]))
    accounts = billed.select("account_number").unique()
    key = ["customer", "carrier", "wireless_number"]
    lines = billed.select(key).unique().collect()
    for dataset, minimum in (("usage_events", 20), ("devices", 5)):
        rows = scan[dataset].join(accounts, on="account_number").select(key).unique().collect()
        assert rows.height >= minimum
        assert rows.join(lines, on=key, how="anti").height == 0, dataset
    numbers = scan["usage_events"].select("wireless_number", "other_number").collect()
    assert numbers["wireless_number"].str.contains(r"^\d{3}55501\d{2}$").all()
    assert numbers["other_number"].drop_nulls().str.contains(r"^\d{3}55501\d{2}$").all()


def test_ingesting_twice_adds_nothing(ingested: Any, fixture_tree: Path, config: Config) -> None:
    storage = ingested[0]
    before = sorted(storage.list("restricted"))
    again = ingest_paths(
        storage, config.customer("globex"), collect_files([fixture_tree / "globex"]), "run-again"
    )
    assert {f.status for f in again.files} == {"skipped"}
    assert sorted(storage.list("restricted")) == before


def test_a_lost_manifest_still_does_not_duplicate_rows(
    fixture_tree: Path, config: Config, tmp_path: Path
) -> None:
    storage = LocalStorage(tmp_path)
    files = collect_files([fixture_tree / "initech"])
    ingest_paths(storage, config.customer("initech"), files, "one")
    count = (
        pl.scan_parquet(storage.uri("restricted/usage_events"), hive_partitioning=True)
        .select(pl.len())
        .collect()
        .item()
    )
    storage.delete("state/ingested/initech.json")
    ingest_paths(storage, config.customer("initech"), files, "two")
    again = (
        pl.scan_parquet(storage.uri("restricted/usage_events"), hive_partitioning=True)
        .select(pl.len())
        .collect()
        .item()
    )
    assert again == count


def test_layout_is_recognised_by_header_when_the_file_is_renamed(
    fixture_tree: Path, config: Config, tmp_path: Path
) -> None:
    source = next(fixture_tree.glob("globex/tmobile/TMobile_Usage_*.csv"))
    renamed = tmp_path / "usage_export.csv"
    shutil.copyfile(source, renamed)
    summary = ingest_paths(MemoryStorage(), config.customer("globex"), [renamed], "r")
    assert summary.files[0].layouts == ("tmobile_usage_detail",)
    assert summary.files[0].rows["usage_events"] > 0


def test_nightly_landing_ingest_moves_bad_files_to_quarantine(
    fixture_tree: Path, config: Config
) -> None:
    storage = MemoryStorage()
    for path in [
        *collect_files([fixture_tree / "acme" / "att"]),
        fixture_tree / "broken" / "export_202610.csv",
    ]:
        storage.write_bytes(f"landing/acme/att/{path.name}", path.read_bytes())
    first = ingest_landing(storage, config.customer("acme"), "n1")
    assert first.count("ingested") == 5 and first.count("quarantined") == 1
    assert not storage.exists("landing/acme/att/export_202610.csv")
    assert storage.exists("quarantine/acme/n1/export_202610.csv")
    second = ingest_landing(storage, config.customer("acme"), "n2")
    assert second.count("skipped") == 5 and second.count("ingested") == 0


class CountingStorage(MemoryStorage):
    """A memory lake that records which objects were fetched whole (local_copy)."""

    def __init__(self) -> None:
        super().__init__()
        self.fetched: list[str] = []

    def local_copy(self, key: str) -> Any:
        self.fetched.append(key)
        return super().local_copy(key)


def test_a_night_with_nothing_new_reads_no_delivered_file(
    fixture_tree: Path, config: Config
) -> None:
    storage = CountingStorage()
    acme = config.customer("acme")
    files = collect_files([fixture_tree / "acme" / "att"])
    for path in files:
        storage.write_bytes(f"landing/acme/att/{path.name}", path.read_bytes())
    assert new_deliveries(storage, acme) == len(files)
    assert ingest_landing(storage, acme, "n1").count("ingested") == len(files)
    assert new_deliveries(storage, acme) == 0
    again = f"landing/acme/att/again_{files[0].name}"  # the same bytes under another name
    storage.write_bytes(again, files[0].read_bytes())
    assert new_deliveries(storage, acme) == 1
    storage.fetched.clear()
    second = ingest_landing(storage, acme, "n2")
    assert second.count("skipped") == len(files) + 1 and storage.fetched == [again]
    storage.fetched.clear()
    third = ingest_landing(storage, acme, "n3")
    assert third.count("skipped") == len(files) + 1 and storage.fetched == []
    assert [f.reason for f in third.files] == [f.reason for f in second.files]
    assert {f.checksum for f in third.files} == {f.checksum for f in second.files}
    # An object written again (other bytes under a landed name) is read again.
    changed = f"landing/acme/att/{files[1].name}"
    storage.write_bytes(changed, files[1].read_bytes() + b"\n")
    assert new_deliveries(storage, acme) == 1
    storage.fetched.clear()
    ingest_landing(storage, acme, "n4")
    assert [k for k in storage.fetched if k.startswith("landing/")] == [changed]


def test_a_corrupt_manifest_is_a_storage_error_not_a_silent_reingest(config: Config) -> None:
    from piiscan.errors import StorageError

    storage = MemoryStorage()
    storage.write_bytes("state/ingested/acme.json", b"{not json")
    with pytest.raises(StorageError, match="not valid JSON"):
        ingest_landing(storage, config.customer("acme"), "x")


# Lines of a block: mostly full rows of three fields, some blank, short, long or quoted.
LINES = st.lists(
    st.one_of(
        st.just("a,b,c"),
        st.text(alphabet='ab,"\r', max_size=8),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(lines=LINES)
def test_field_counts_flag_ragged_and_blank_lines(lines: list[str]) -> None:
    block = "".join(f"{line}\n" for line in lines).encode()
    blank, ragged = _line_stats(block, ",", 3)
    assert blank.tolist() == [line in ("", "\r") for line in lines]
    assert ragged.tolist() == [
        line not in ("", "\r") and '"' not in line and line.count(",") != 2 for line in lines
    ]


def _outside_separators(line: str) -> int:
    """Commas outside double-quoted fields, read one character at a time."""
    inside, count = False, 0
    for char in line:
        if char == '"':
            inside = not inside
        elif char == "," and not inside:
            count += 1
    return count


@settings(max_examples=300, deadline=None)
@given(lines=LINES)
def test_quoted_field_counts_equal_a_per_line_reading(lines: list[str]) -> None:
    block = "".join(f"{line}\n" for line in lines).encode()
    flags = _quoted_ragged(block, ",", 3)
    if not any('"' in line for line in lines):
        assert flags is None
        return
    assert flags is not None
    assert flags.tolist() == [
        line.count('"') > 0 and line.count('"') % 2 == 0 and _outside_separators(line) != 2
        for line in lines
    ]


def test_a_failed_parquet_write_is_raised(tmp_path: Path) -> None:
    outputs = Outputs(tmp_path / "gone")  # the folder does not exist: writing fails
    frame = pl.DataFrame({"charge": [1.5], "period": [date(2026, 10, 1)]})
    with pytest.raises(OSError):
        outputs.write("usage_events", frame)
        outputs.finish()
    outputs.close()


def test_a_file_over_many_months_lands_whole_and_leaves_no_copy(
    fixture_tree: Path, config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mangled years spread one usage file over 40 months: more partitions than streaming
    writers, so the rest are written by pyarrow; every row lands once. An unexpected failure
    leaves no temporary copy of the delivered file behind."""
    import tempfile

    import piiscan.ingest.parse as parse

    source = next(fixture_tree.glob("globex/att/ATT_UsageDetail_*.csv"))
    rows = pl.read_csv(source, infer_schema=False)
    months = [f"{m % 12 + 1:02d}/15/{2020 + m // 12}" for m in range(40)]
    spread = rows.with_columns(
        pl.Series("Date", [months[i % 40] for i in range(rows.height)], dtype=pl.String)
    )
    file = tmp_path / source.name
    spread.write_csv(file)
    storage = LocalStorage(tmp_path / "lake")
    summary = ingest_paths(storage, config.customer("globex"), [file], "run-months")
    assert [f.status for f in summary.files] == ["ingested"]
    landed = pl.scan_parquet(
        str(tmp_path / "lake" / "restricted" / "usage_events" / "**" / "*.parquet"),
        hive_partitioning=True,
    ).collect()
    assert landed.height == rows.height and landed["period"].n_unique() == 40
    assert (
        len(
            {
                pl.read_parquet_schema(p)["charge"]
                for p in (tmp_path / "lake").rglob("*.parquet")
                if "usage_events" in p.parts
            }
        )
        == 1
    )

    copies = set(Path(tempfile.gettempdir()).glob("piiscan-copy-*"))

    def broken(*args: object) -> None:
        raise RuntimeError("unexpected")

    monkeypatch.setattr(parse, "post_process", broken)
    with pytest.raises(RuntimeError):
        ingest_paths(storage, config.customer("globex"), [source], "run-broken-step")
    assert set(Path(tempfile.gettempdir()).glob("piiscan-copy-*")) == copies


def test_every_file_accounts_for_every_row(ingested: Any) -> None:
    """Landed, quarantined (with a reason) or skipped; delivered = landed + rejected + reference."""
    files = [f for s in ingested[2] for f in s.files]
    assert files
    for result in files:
        assert result.status in ("ingested", "quarantined", "skipped"), result.file
        landed = sum(result.rows.values())
        assert result.rows_delivered == landed + result.rows_rejected + result.rows_reference, (
            result.as_json()
        )
        if result.status == "ingested":
            assert landed > 0 and result.choices, result.file
            assert {c.layout for c in result.choices} == set(result.layouts)
        if result.status == "quarantined":
            assert landed == 0 and result.reason_code and result.file in (result.reason or "")
    zipped = [f for f in files if f.file.endswith(".zip") and f.status == "ingested"]
    assert any(f.rows_reference for f in zipped)  # Verizon AccountSummary rows inform siblings
    for summary in ingested[2]:
        body = summary.as_json()
        assert body["rows_delivered"] == (
            sum(body["rows"].values()) + body["rows_rejected"] + body["rows_reference"]
        )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("header", "no data rows after the header"),
        ("rejected", "all 2 row(s) failed validation"),
    ],
)
def test_a_file_that_lands_no_row_is_quarantined_not_ingested(
    fixture_tree: Path, config: Config, tmp_path: Path, content: str, problem: str
) -> None:
    source = next(fixture_tree.glob("globex/att/ATT_UsageDetail_*.csv"))
    rows = list(csv.reader(io.StringIO(source.read_text(encoding="utf-8-sig"))))
    if content == "rejected":  # two rows whose wireless number is not a number
        column = rows[0].index("Wireless number")
        for row in rows[1:3]:
            row[column] = "not-a-number"
        rows = rows[:3]
    else:
        rows = rows[:1]
    file = tmp_path / source.name
    with file.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, quoting=csv.QUOTE_MINIMAL).writerows(rows)
    storage = MemoryStorage()
    result = ingest_paths(storage, config.customer("globex"), [file], "r").files[0]
    assert (result.status, result.reason_code) == ("quarantined", "no_rows_landed")
    assert problem in (result.reason or "") and file.name in (result.reason or "")
    assert result.rows_delivered == result.rows_rejected == (2 if content == "rejected" else 0)
    assert not list(storage.list("restricted"))
    body = json.loads(storage.read_bytes(result.quarantine_key or ""))
    if content == "rejected":
        assert all("column 'Wireless number'" in r["problem"] for r in body["rejections"])
        assert "not-a-number" not in json.dumps(body)


@pytest.fixture(scope="module")
def acme_lake(fixture_tree: Path, config: Config, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """acme's own files (no broken set) in a lake of their own."""
    storage = LocalStorage(tmp_path_factory.mktemp("acme-lake"))
    ingest_paths(storage, config.customer("acme"), collect_files([fixture_tree / "acme"]), "run")
    return storage


@pytest.fixture(scope="module")
def bell_lake(fixture_tree: Path, config: Config, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """globex's Bell MOB and DTL files only, in a lake of their own: the XLSX reports summarise
    the same lines again and would count them twice."""
    storage = LocalStorage(tmp_path_factory.mktemp("bell-lake"))
    folder = fixture_tree / "globex" / "bell"
    files = sorted([*folder.glob("*_MOB.csv"), *folder.glob("*_DTL.csv")])
    assert len(files) == 4  # two bill cycles
    ingest_paths(storage, config.customer("globex"), files, "run")
    return storage


@pytest.mark.parametrize(
    ("carrier", "lake"), [("att", "acme_lake"), ("verizon", "acme_lake"), ("bell", "bell_lake")]
)
def test_fixture_usage_reconciles_with_its_invoices_per_line_and_cycle(
    request: pytest.FixtureRequest, carrier: str, lake: str
) -> None:
    """What analysts do with the processor's data: a line's usage events of a bill cycle add up
    to its invoice line's minutes and messages (and KB where the usage detail has a volume)."""
    storage: LocalStorage = request.getfixturevalue(lake)

    def zone(dataset: str) -> pl.DataFrame:
        files = [k for k in storage.list(f"restricted/{dataset}") if k.endswith(".parquet")]
        frame = pl.concat([pl.read_parquet(storage.read_bytes(k)) for k in files])
        return frame.filter(pl.col("carrier") == carrier)

    keys = ["wireless_number", "bill_cycle_date"]
    invoices = zone("invoice_lines").select(*keys, "minutes", "messages", "data_kb")
    usage = (
        zone("usage_events")
        .group_by(keys)
        .agg(
            pl.col("minutes").sum().alias("used_minutes"),
            pl.col("messages").sum().alias("used_messages"),
            pl.col("data_kb").sum().alias("used_kb"),
        )
    )
    joined = invoices.join(usage, on=keys, how="left").fill_null(0)
    assert invoices.height > 0 and usage.height > 0
    assert joined.height == invoices.height  # one invoice line per line and cycle
    assert (joined["minutes"] - joined["used_minutes"]).abs().max() < 1e-6
    assert (joined["messages"] == joined["used_messages"]).all()
    if carrier != "verizon":  # Verizon's usage detail gives no data volume
        assert (joined["data_kb"] - joined["used_kb"]).abs().max() < 1e-6
    assert usage.join(invoices, on=keys, how="anti").height == 0  # no usage without a bill


@pytest.fixture(scope="module")
def rogers_lake(
    fixture_tree: Path, config: Config, tmp_path_factory: pytest.TempPathFactory
) -> Any:
    """initech's Rogers zips (call detail per report type and the Custom report), on their own."""
    storage = LocalStorage(tmp_path_factory.mktemp("rogers-lake"))
    files = collect_files([fixture_tree / "initech" / "rogers"])
    ingest_paths(storage, config.customer("initech"), files, "run")
    return storage


def test_rogers_call_charges_reconcile_with_the_custom_reports_usage_charges(
    rogers_lake: LocalStorage,
) -> None:
    """A line's landed call, text and data charges of a bill cycle, per kind and roaming, are
    what the Custom report's usage-charge column for them says (a column per report type)."""
    from piiscan.schema import snake_case
    from piiscan.testing.writers_rogers import CUSTOM_COLUMN_OF

    storage = rogers_lake

    def zone(dataset: str) -> pl.DataFrame:
        files = [k for k in storage.list(f"restricted/{dataset}") if k.endswith(".parquet")]
        frame = pl.concat([pl.read_parquet(storage.read_bytes(k)) for k in files])
        return frame.filter(pl.col("carrier") == "rogers")

    # (kind, roaming) of the events each Custom usage-charge column bills.
    events_of = {
        "Voice": ("voice", "N"),
        "Voice-RM": ("voice", "Y"),
        "SMS": ("sms", "N"),
        "GPRS": ("data", "N"),
        "GPRS-RM": ("data", "Y"),
    }
    assert set(events_of) == set(CUSTOM_COLUMN_OF)
    columns = {t: snake_case(CUSTOM_COLUMN_OF[t]) for t in events_of}  # their extras' keys
    keys = ["wireless_number", "bill_cycle_date"]

    invoices = zone("invoice_lines")
    assert invoices.height > 0
    billed = {
        (number, cycle, column): Decimal(json.loads(extras)[column])
        for number, cycle, extras in invoices.select(*keys, "extras").iter_rows()
        for column in columns.values()
    }
    assert len(billed) == invoices.height * len(columns)  # one Custom row per line and cycle
    assert any(billed.values())

    usage = zone("usage_events").with_columns(
        pl.col("extras").str.json_path_match("$.roaming_indicator").alias("roaming"),
        pl.col("event_time").dt.date().alias("event_date"),
    )
    assert usage.height > 0 and usage["roaming"].null_count() == 0
    # GPRS rows carry no Period End Date: an event belongs to the first cycle ending on or after it.
    cycles = invoices.select(pl.col("bill_cycle_date").unique().sort().alias("cycle"))
    usage = usage.sort("event_date").join_asof(
        cycles, left_on="event_date", right_on="cycle", strategy="forward"
    )
    dated = usage.filter(pl.col("bill_cycle_date").is_not_null())
    assert (dated["bill_cycle_date"] == dated["cycle"]).all()
    assert usage["cycle"].null_count() == 0
    column_of = pl.concat_str(pl.col("kind"), pl.col("roaming"), separator="/").replace_strict(
        {f"{kind}/{roaming}": columns[t] for t, (kind, roaming) in events_of.items()}
    )
    used = {
        (number, cycle, column): Decimal(str(charge))
        for number, cycle, column, charge in usage.with_columns(
            pl.col("cycle").alias("bill_cycle_date"), column_of.alias("column")
        )
        .group_by(*keys, "column")
        .agg(pl.col("charge").sum())
        .iter_rows()
    }
    assert set(used) <= set(billed)  # no charged usage without its Custom row
    assert billed == {key: used.get(key, Decimal(0)) for key in billed}
