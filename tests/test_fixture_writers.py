"""Fixture writers for T-Mobile, MDM, the TEM extract, and the broken set (Bell:
test_carrier_bell.py)."""

from __future__ import annotations

import csv
import functools
import io
import re
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from piiscan.layouts import LAYOUTS, Layout
from piiscan.layouts.att import ATT_DEVICE_REPORT, ATT_USAGE_DETAIL
from piiscan.layouts.mdm import MDM_INVENTORY
from piiscan.layouts.tmobile import TMOBILE_USAGE
from piiscan.schema import DATASETS
from piiscan.testing import writers_other
from piiscan.testing.broken import write_broken
from piiscan.testing.common import Expected
from piiscan.testing.model import World, luhn_digit
from piiscan.testing.usage import usage_chunks
from piiscan.testing.writers_bell import write_bell_invoice
from piiscan.testing.writers_other import (
    valid_eid,
    write_generic_invoice_lines,
    write_mdm_inventory,
    write_tmobile_usage,
)

SEED = 11
CYCLE = date(2026, 10, 16)
PREVIOUS = date(2026, 9, 16)
FICTIONAL = re.compile(r"^\d{3}55501\d{2}$")


def write_all(out: Path, seed: int = SEED) -> dict[str, list[Expected]]:
    """Every writer of this suite into out, from one world, keyed by writer."""
    world = World(seed)
    tmobile = world.account("globex", "tmobile", "########", 3, PREVIOUS)
    bell = world.account("globex", "bell", "########", 8, PREVIOUS)
    generic = world.account("acme", "generic", "E######", 3, PREVIOUS)
    return {
        "tmobile": write_tmobile_usage(
            out / "globex" / "tmobile", out, world.invoice(tmobile, CYCLE, True), world, 6, seed
        ),
        "bell": write_bell_invoice(
            out / "globex" / "bell", out, world.invoice(bell, CYCLE, True), world, 4, seed
        ),
        "mdm": write_mdm_inventory(
            out / "globex" / "mdm", out, "globex", [*tmobile.lines, *bell.lines], CYCLE, world
        ),
        "generic": write_generic_invoice_lines(
            out / "acme" / "generic",
            out,
            [world.invoice(generic, PREVIOUS, False), world.invoice(generic, CYCLE, True)],
            world,
        ),
        "broken": write_broken(out / "broken", out, "acme", world, CYCLE),
    }


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[Expected]]]:
    out = tmp_path_factory.mktemp("fixtures")
    return out, write_all(out)


def only(written: tuple[Path, dict[str, list[Expected]]], writer: str) -> tuple[Path, Expected]:
    out, expected = written
    assert len(expected[writer]) == 1
    return out / expected[writer][0].file, expected[writer][0]


def close(actual: float | Decimal, expected: str) -> bool:
    return abs(Decimal(str(actual)) - Decimal(expected)) < Decimal("0.001")


# --- determinism ---------------------------------------------------------------------------


@pytest.mark.parametrize("writer", ["tmobile", "bell", "mdm", "generic", "broken"])
def test_same_seed_gives_identical_bytes(tmp_path: Path, writer: str) -> None:
    first, second = write_all(tmp_path / "a"), write_all(tmp_path / "b")
    assert first[writer] == second[writer]
    for entry in first[writer]:
        a, b = tmp_path / "a" / entry.file, tmp_path / "b" / entry.file
        assert a.read_bytes() == b.read_bytes(), entry.file


def test_different_seed_gives_different_files(tmp_path: Path) -> None:
    first, second = write_all(tmp_path / "a", 1), write_all(tmp_path / "b", 2)
    assert first["bell"][0].sums != second["bell"][0].sums


# --- T-Mobile ------------------------------------------------------------------------------


def tmobile_table(path: Path) -> tuple[list[str], pl.DataFrame]:
    lines = path.read_text(encoding="utf-8").splitlines()
    at = lines.index(",".join(TMOBILE_USAGE.headers))
    frame = pl.read_csv(path, skip_rows=at, infer_schema=False)
    return lines[:at], frame


def test_tmobile_preamble_then_header(written: tuple[Path, dict[str, list[Expected]]]) -> None:
    path, expected = only(written, "tmobile")
    preamble, frame = tmobile_table(path)
    assert re.fullmatch(r"TMobile_Usage_\d+_202610\.csv", path.name)
    assert TMOBILE_USAGE.matches_name(path.name)
    assert 5 <= len(preamble) <= TMOBILE_USAGE.max_preamble
    assert preamble[0] == "T-Mobile for Business"
    assert frame.columns == TMOBILE_USAGE.headers
    assert frame.height == expected.rows == 3 * 6
    assert (expected.layout, expected.dataset) == ("tmobile_usage_detail", "usage_events")


@pytest.mark.parametrize(
    ("column", "pattern"),
    [
        ("Subscriber Number", r"\d{3}55501\d{2}"),
        ("Date", r"2026-(09|10)-\d{2}T\d{2}:\d{2}:\d{2}"),
        ("Type", r"Talk|Text|Data"),
        ("Party", r"(\d{3}55501\d{2})?"),
        ("Direction", r"I|O"),
        ("Duration", r"(\d+\.\d)?"),
        ("Data (KB)", r"\d+"),
        ("Charge", r"-?\d+\.\d{2}"),
    ],
)
def test_tmobile_values_are_formatted_as_tmobile_prints_them(
    written: tuple[Path, dict[str, list[Expected]]], column: str, pattern: str
) -> None:
    path, _ = only(written, "tmobile")
    values = tmobile_table(path)[1][column].fill_null("")
    assert values.str.contains(f"^(?:{pattern})$").all(), values.to_list()


def tmobile_sums(frame: pl.DataFrame) -> dict[str, float | Decimal]:
    money = [Decimal(v) for v in frame["Charge"]]
    return {
        "minutes": frame["Duration"].cast(pl.Float64).sum(),
        "messages": int((frame["Type"] == "Text").sum()),
        "data_kb": frame["Data (KB)"].cast(pl.Float64).sum(),
        "charge": sum(money, Decimal(0)),
    }


def test_tmobile_sums_match_the_file(written: tuple[Path, dict[str, list[Expected]]]) -> None:
    path, expected = only(written, "tmobile")
    actual = tmobile_sums(tmobile_table(path)[1])
    assert set(expected.sums) == set(actual)
    assert all(close(actual[key], expected.sums[key]) for key in actual), (actual, expected.sums)


def test_tmobile_events_fall_in_the_bill_period(
    written: tuple[Path, dict[str, list[Expected]]],
) -> None:
    path, _ = only(written, "tmobile")
    times = tmobile_table(path)[1]["Date"].str.to_datetime("%Y-%m-%dT%H:%M:%S")
    assert times.min() >= datetime(2026, 9, 17)  # type: ignore[operator]
    assert times.max() < datetime(2026, 10, 17)  # type: ignore[operator]


def test_tmobile_written_in_many_chunks_keeps_rows_and_sums(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        writers_other, "usage_chunks", functools.partial(usage_chunks, chunk_rows=7)
    )
    world = World(SEED)
    account = world.account("globex", "tmobile", "########", 4, PREVIOUS)
    [expected] = write_tmobile_usage(
        tmp_path, tmp_path, world.invoice(account, CYCLE, True), world, 10, SEED
    )
    _, frame = tmobile_table(tmp_path / expected.file)
    actual = tmobile_sums(frame)
    assert frame.height == expected.rows == 40
    assert all(close(actual[key], expected.sums[key]) for key in actual)


# --- MDM -----------------------------------------------------------------------------------


def luhn_valid(number: str) -> bool:
    return number.isdigit() and luhn_digit(number[:-1]) == number[-1]


def test_mdm_identifiers_are_text_cells(written: tuple[Path, dict[str, list[Expected]]]) -> None:
    path, expected = only(written, "mdm")
    frame = pl.read_excel(path, engine="calamine")
    assert frame.columns == MDM_INVENTORY.headers
    assert frame.height == expected.rows == 3 + 8
    for column in ("IMEI", "ICCID", "EID", "Phone number", "Serial number"):
        assert frame.schema[column] == pl.String, column
    assert all(luhn_valid(imei) and len(imei) == 15 for imei in frame["IMEI"])
    assert all(luhn_valid(iccid) and iccid.startswith("89") for iccid in frame["ICCID"])
    assert all(len(eid) == 32 and int(eid) % 97 == 1 for eid in frame["EID"])
    assert all(FICTIONAL.match(phone.removeprefix("+1")) for phone in frame["Phone number"])
    assert all(re.fullmatch(r"[A-Z][A-Z0-9]{11}", serial) for serial in frame["Serial number"])
    assert expected.sums == {}


@pytest.mark.parametrize("body", ["8904903200000000000000000000", "89" + "9" * 26, "0" * 28])
def test_valid_eid_passes_mod_97(body: str) -> None:
    eid = valid_eid(body.ljust(30, "1"))
    assert len(eid) == 32
    assert int(eid) % 97 == 1


# --- generic TEM extract -------------------------------------------------------------------


def test_generic_parquet_has_the_canonical_schema(
    written: tuple[Path, dict[str, list[Expected]]],
) -> None:
    path, expected = only(written, "generic")
    frame = pl.read_parquet(path)
    assert path.name == "tem_invoice_lines_202610.parquet"
    assert frame.schema == pl.Schema(DATASETS["invoice_lines"])
    assert frame.height == expected.rows == 2 * 3
    assert frame["carrier"].unique().to_list() == ["generic"]
    assert set(frame["invoice_status"]) <= {"paid", "open", "disputed"}
    assert frame["wireless_number"].str.contains(FICTIONAL.pattern).all()
    actual = {
        "minutes": frame["minutes"].sum(),
        "messages": frame["messages"].sum(),
        "data_kb": frame["data_kb"].sum(),
        "charge": sum(frame["charge"].to_list(), Decimal(0)),
        "tax": sum(frame["tax"].to_list(), Decimal(0)),
    }
    assert set(expected.sums) == set(actual)
    assert all(close(actual[key], expected.sums[key]) for key in actual)


# --- broken set ----------------------------------------------------------------------------


def header_of(data: bytes) -> list[str]:
    return next(csv.reader(io.StringIO(data.decode("utf-8"))))


def is_empty(data: bytes) -> bool:
    return data == b""


def is_bad_zip(data: bytes) -> bool:
    try:
        zipfile.ZipFile(io.BytesIO(data)).testzip()
    except zipfile.BadZipFile:
        return True
    return False


def is_utf16_tmobile(data: bytes) -> bool:
    return data.startswith(b"\xff\xfe") and data.decode("utf-16").startswith(
        "T-Mobile for Business"
    )


def is_binary(data: bytes) -> bool:
    return len(data) >= 2048 and b"\x00" in data


def lacks_wireless_number(data: bytes) -> bool:
    header = header_of(data)
    return "Wireless number" not in header and "Total charges" in header


def has_twice_device_imei(data: bytes) -> bool:
    return header_of(data).count("Device IMEI") == 2


def has_two_scientific_imeis(data: bytes) -> bool:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    imei = rows[0].index("Device IMEI")
    mangled = [row[imei] for row in rows[1:] if re.fullmatch(r"\d\.\d{5}E\+\d{2}", row[imei])]
    return rows[0] == ATT_DEVICE_REPORT.headers and len(mangled) == 2


def has_one_short_and_one_long_row(data: bytes) -> bool:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    widths = [len(row) - len(rows[0]) for row in rows[1:]]
    return sorted(w for w in widths if w) == [-2, 1]


def has_unknown_header(data: bytes) -> bool:
    header = data.decode("utf-8").splitlines()[0].split(",")
    known = any(set(layout.signature) <= set(header) for layout in LAYOUTS)
    return header == ["Region", "Store", "Units", "Revenue"] and not known


BROKEN: list[tuple[str, str, str, str | None, int, Callable[[bytes], bool]]] = [
    # case, file name, outcome, reason, quarantined rows, what the bytes must show
    ("empty", r"ATT_UsageDetail_\d+_202610\.csv", "quarantined", "empty", 0, is_empty),
    (
        "truncated zip",
        r"RawDataDownload_\d+_202610\.zip",
        "quarantined",
        "bad_archive",
        0,
        is_bad_zip,
    ),
    (
        "utf-16",
        r"TMobile_Usage_\d+_202610\.csv",
        "quarantined",
        "wrong_encoding",
        0,
        is_utf16_tmobile,
    ),
    ("binary", r"carrier_export_202610\.csv", "quarantined", "binary", 0, is_binary),
    (
        "missing column",
        r"ATT_UsageDetail_\d+_202610\.csv",
        "quarantined",
        "bad_header",
        0,
        lacks_wireless_number,
    ),
    (
        "duplicate header",
        r"ATT_DeviceReport_\d+_20261016\.csv",
        "quarantined",
        "bad_header",
        0,
        has_twice_device_imei,
    ),
    (
        "excel damage",
        r"ATT_DeviceReport_\d+_20261016\.csv",
        "ingested",
        None,
        2,
        has_two_scientific_imeis,
    ),
    (
        "ragged rows",
        r"ATT_UsageDetail_\d+_202610\.csv",
        "ingested",
        None,
        2,
        has_one_short_and_one_long_row,
    ),
    (
        "unknown layout",
        r"export_202610\.csv",
        "quarantined",
        "unknown_layout",
        0,
        has_unknown_header,
    ),
]


@pytest.mark.parametrize(
    ("name", "outcome", "reason", "quarantined_rows", "shows"),
    [case[1:] for case in BROKEN],
    ids=[case[0] for case in BROKEN],
)
def test_broken_file_exists_with_its_expected_outcome(
    written: tuple[Path, dict[str, list[Expected]]],
    name: str,
    outcome: str,
    reason: str | None,
    quarantined_rows: int,
    shows: Callable[[bytes], bool],
) -> None:
    out, expected = written
    matches = [
        e
        for e in expected["broken"]
        if re.fullmatch(name, Path(e.file).name)
        and (e.outcome, e.reason) == (outcome, reason)
        and shows((out / e.file).read_bytes())
    ]
    assert len(matches) == 1, [e.file for e in expected["broken"]]
    entry = matches[0]
    assert entry.customer == "acme"
    assert entry.file.startswith("broken/")
    assert entry.quarantined_rows == quarantined_rows


def test_broken_set_has_one_expectation_per_distinct_file(
    written: tuple[Path, dict[str, list[Expected]]],
) -> None:
    out, expected = written
    files = sorted(p.relative_to(out).as_posix() for p in (out / "broken").iterdir())
    assert sorted(e.file for e in expected["broken"]) == files
    assert len(files) == len(BROKEN)
    contents = [(out / f).read_bytes() for f in files]
    assert len(set(contents)) == len(contents)


@pytest.mark.parametrize(
    ("layout", "total"),
    [(ATT_DEVICE_REPORT, 4), (ATT_USAGE_DETAIL, 4 * 8)],
    ids=["excel damage", "ragged rows"],
)
def test_damaged_rows_leave_the_rest_to_ingest(
    written: tuple[Path, dict[str, list[Expected]]], layout: Layout, total: int
) -> None:
    _, expected = written
    [entry] = [e for e in expected["broken"] if e.layout == layout.name]
    assert (entry.dataset, entry.rows, entry.quarantined_rows) == (layout.dataset, total - 2, 2)


def test_ragged_sums_cover_the_good_rows_only(
    written: tuple[Path, dict[str, list[Expected]]],
) -> None:
    out, expected = written
    [entry] = [e for e in expected["broken"] if e.layout == ATT_USAGE_DETAIL.name]
    rows = list(csv.reader(io.StringIO((out / entry.file).read_text(encoding="utf-8"))))
    header, good = rows[0], [row for row in rows[1:] if len(row) == len(rows[0])]
    at = {name: header.index(name) for name in header}

    def money(text: str) -> Decimal:
        negative = text.startswith("(")
        amount = Decimal(text.strip("()").replace("$", "").replace(",", ""))
        return -amount if negative else amount

    actual: dict[str, float | Decimal] = {
        "minutes": sum(float(row[at["Minutes usage"]] or 0) for row in good),
        "messages": sum(row[at["Source"]] == "Messaging" for row in good),
        "data_kb": sum(float(row[at["KB usage"]] or 0) for row in good),
        "charge": sum((money(row[at["Total charges"]]) for row in good), Decimal(0)),
    }
    assert len(good) == entry.rows
    assert set(entry.sums) == set(actual)
    assert all(close(actual[key], entry.sums[key]) for key in actual), (actual, entry.sums)


def test_broken_accounts_are_fresh(written: tuple[Path, dict[str, list[Expected]]]) -> None:
    _, expected = written
    numbers = [
        m.group(1)
        for e in expected["broken"]
        if (m := re.search(r"_(\d{9,12})_\d{6,8}\.(csv|zip)$", e.file))
    ]
    assert len(numbers) == len(set(numbers)) == 7
