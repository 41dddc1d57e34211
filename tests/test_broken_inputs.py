"""One bad file never stops a batch: every kind of broken input is quarantined with a reason,
resources stay bounded, no sheet of a workbook is lost, long headers keep line numbers right."""

from __future__ import annotations

import codecs
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from piiscan.errors import ConfigError
from piiscan.pipeline.ingest import deliver, ingest_landing, ingest_paths
from piiscan.policy import Config, load_config
from piiscan.storage import LocalStorage, MemoryStorage
from piiscan.testing.broken_kinds import (
    HEADER,
    IMEIS,
    KIND_LIMITS,
    KINDS,
    NUMBERS,
    csv_text,
    good_files,
    rows,
    write_kinds,
)
from piiscan.types import FileResult, IngestSummary

REPO = Path(__file__).resolve().parent.parent
RUN = "run-broken-kinds"


@pytest.fixture(scope="module")
def batch(
    config: Config, tmp_path_factory: pytest.TempPathFactory
) -> tuple[LocalStorage, dict[str, Path], list[Path], IngestSummary]:
    """Every kind of broken input and the good files in one batch, into a local lake (names a
    file system refuses show only there)."""
    root = tmp_path_factory.mktemp("kinds")
    written = write_kinds(root / "broken")
    good = good_files(root / "good")
    storage = LocalStorage(root / "lake")
    files = [path for _, path in written.values()]
    # Good files between the broken ones: the batch must go on after each.
    paths = [*files[:20], good[0], *files[20:40], good[1], *files[40:], *good[2:]]
    summary = ingest_paths(storage, config.customer("acme"), paths, RUN, limits=KIND_LIMITS)
    return storage, {name: path for name, (_, path) in written.items()}, good, summary


def _result(summary: IngestSummary, path: Path) -> FileResult:
    return next(f for f in summary.files if f.file == path.name)


def test_the_generator_has_at_least_30_kinds_of_every_format() -> None:
    names = [k.name for k in KINDS]
    assert len(names) >= 30 and len(set(names)) == len(names)
    families = {k.family for k in KINDS}
    assert families == {"text", "archive", "spreadsheet", "parquet", "name"}
    assert all(k.description for k in KINDS)


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_each_kind_is_quarantined_with_its_reason(batch: Any, kind: Any) -> None:
    storage, written, _, summary = batch
    result = _result(summary, written[kind.name])
    assert (result.status, result.reason_code) == ("quarantined", kind.code), result.reason
    assert result.outputs == () and not any(result.rows.values())
    assert result.file in (result.reason or "")
    body = json.loads(storage.read_bytes(result.quarantine_key or ""))
    assert body["code"] == kind.code and body["file"] == result.file
    stored = (result.quarantine_key or "").removesuffix(".reason.json")
    assert storage.exists(stored)  # the file itself, beside its reason
    assert result.rows_delivered == result.rows_rejected + result.rows_reference


def test_good_files_of_every_format_land_in_the_same_batch(batch: Any) -> None:
    _, _, good, summary = batch
    for path in good:
        result = _result(summary, path)
        assert result.status == "ingested", result.reason
        assert result.rows["devices"] == (3 if path.suffix == ".parquet" else 5)
    assert len(summary.files) == len(KINDS) + len(good)


def test_no_reason_quotes_a_value(batch: Any) -> None:
    storage = batch[0]
    text = "".join(
        storage.read_bytes(k).decode()
        for k in storage.list(f"quarantine/acme/{RUN}")
        if k.endswith(".reason.json")
    )
    assert text and not [v for v in (*NUMBERS, *IMEIS) if v in text]


def test_nightly_landing_ingest_goes_on_past_every_broken_file(
    config: Config, tmp_path: Path
) -> None:
    storage = MemoryStorage()
    broken = [p for k, p in write_kinds(tmp_path / "broken").values() if k.family != "name"]
    for path in [*broken, *good_files(tmp_path / "good")]:
        deliver(storage, "acme", "generic", path)
    summary = ingest_landing(storage, config.customer("acme"), "nightly-1", limits=KIND_LIMITS)
    assert summary.count("quarantined") == len(broken) and summary.count("ingested") == 4
    assert len(list(storage.list("landing/acme"))) == 4  # only the landed files stay


# --- hypothesis: malformed delimited text --------------------------------------------------

_HEADERS = [
    csv_text([]).encode(),
    codecs.BOM_UTF8 + csv_text([]).encode(),
    csv_text([], end="\r\n").encode(),
    (",".join(f'"{h}"' for h in HEADER) + "\n").encode(),
]
_FRAGMENTS = st.sampled_from(
    [
        b",",
        b'"',
        b'""',
        b"\r",
        b"\n",
        b"\r\n",
        b"\x00",
        codecs.BOM_UTF8,
        codecs.BOM_UTF16_LE,
        "é".encode("iso-8859-1"),
        "é".encode(),
        b"\xc3",
        NUMBERS[0].encode(),
        b"2026-10-16",
        b" ",
        b"\t",
        b";",
        b"|",
        b"\x1a",
        b"=1+1",
        ",".join(rows(1)[0]).encode() + b"\n",
    ]
)
_FIELDS = st.one_of(
    _FRAGMENTS,
    _FRAGMENTS,
    st.binary(max_size=16),
    st.text(max_size=16).map(str.encode),
    st.integers(1, 3 * KIND_LIMITS.max_line_bytes).map(lambda n: b"x" * n),  # huge fields
)
_TEXTS = st.tuples(st.sampled_from(_HEADERS), st.lists(_FIELDS, max_size=80)).map(
    lambda parts: parts[0] + b"".join(parts[1])
)


@settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=_TEXTS)
def test_malformed_text_never_escapes_and_the_batch_goes_on(config: Config, data: bytes) -> None:
    with tempfile.TemporaryDirectory(prefix="piiscan-fuzz-") as tmp:
        fuzz = Path(tmp) / "devices_fuzz.csv"
        fuzz.write_bytes(data)
        good = Path(tmp) / "devices_good.csv"
        good.write_text(csv_text(rows(5, 7)))
        summary = ingest_paths(
            MemoryStorage(), config.customer("acme"), [fuzz, good], "fuzz", limits=KIND_LIMITS
        )
    result, landed = summary.files
    assert landed.status == "ingested" and landed.rows == {"devices": 5}
    assert result.status in ("ingested", "quarantined")
    assert result.rows_delivered == (
        sum(result.rows.values()) + result.rows_rejected + result.rows_reference
    )
    if result.status == "quarantined":
        assert result.reason_code and fuzz.name in (result.reason or "")
        assert NUMBERS[0] not in (result.reason or "")


# --- rows, sheets, headers -----------------------------------------------------------------


def test_a_ragged_first_row_is_rejected_and_the_rest_lands(config: Config, tmp_path: Path) -> None:
    path = tmp_path / "devices_ragged.csv"
    good = rows(4)
    path.write_text(csv_text([[*good[0], "x", "y"], *good[1:]]))
    result = ingest_paths(MemoryStorage(), config.customer("acme"), [path], "r").files[0]
    assert result.status == "ingested" and result.rows == {"devices": 3}
    assert result.rows_rejected == 1


def test_a_header_longer_than_the_first_read_keeps_line_numbers(
    config: Config, tmp_path: Path
) -> None:
    """A 100 KB header (past the 64 KiB first read) is read whole; the row rejected at line 4
    is reported at line 4."""
    extra = tuple(f"extra_column_{i:05d}" for i in range(5000))
    body = [[*row, *([""] * len(extra))] for row in rows(5)]
    body[2][0] = "not-a-number"
    path = tmp_path / "devices_wide_202610.csv"
    path.write_text(csv_text(body, (*HEADER, *extra)))
    assert len(csv_text([], (*HEADER, *extra))) > 64 * 1024
    storage = MemoryStorage()
    result = ingest_paths(storage, config.customer("acme"), [path], "r").files[0]
    assert result.status == "ingested" and result.rows == {"devices": 4}, result.reason
    body_json = json.loads(storage.read_bytes(result.quarantine_key or ""))
    assert [r["line"] for r in body_json["rejections"]] == [4]
    assert result.choices[0].columns == len(HEADER) + len(extra)


def _two_sheet_workbook(path: Path, second: list[list[str]]) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    for name, cells in (("Devices", [list(HEADER), *rows(5)]), ("Invoices", second), ("Empty", [])):
        sheet = book.add_worksheet(name)
        for r, row in enumerate(cells):
            for c, value in enumerate(row):
                sheet.write_string(r, c, value)
    book.close()


def test_every_sheet_of_a_workbook_lands_with_its_own_layout(
    config: Config, tmp_path: Path
) -> None:
    path = tmp_path / "devices_and_lines_202610.xlsx"
    invoices = [
        ["wireless_number", "bill_cycle_date", "charge"],
        [NUMBERS[0], "2026-10-16", "12.50"],
        [NUMBERS[1], "2026-10-16", "7.25"],
    ]
    _two_sheet_workbook(path, invoices)
    result = ingest_paths(MemoryStorage(), config.customer("acme"), [path], "r").files[0]
    assert result.status == "ingested", result.reason
    assert result.rows == {"devices": 5, "invoice_lines": 2}
    assert {(c.unit, c.layout) for c in result.choices} == {
        (f"{path.name}/Devices", "generic_devices_xlsx"),
        (f"{path.name}/Invoices", "generic_invoice_lines_xlsx"),
    }  # the empty sheet holds nothing and is passed over


def test_a_sheet_no_layout_fits_quarantines_the_workbook_naming_it(
    config: Config, tmp_path: Path
) -> None:
    path = tmp_path / "devices_and_sales_202610.xlsx"
    _two_sheet_workbook(path, [["Region", "Store", "Units"], ["North", "S101", "12"]])
    storage = MemoryStorage()
    result = ingest_paths(storage, config.customer("acme"), [path], "r").files[0]
    assert result.status == "quarantined" and "sheet 'Invoices'" in (result.reason or "")
    assert "'Devices'" not in (result.reason or "") and not list(storage.list("restricted"))


# --- limits --------------------------------------------------------------------------------


def test_ingest_limits_are_configured_and_validated(tmp_path: Path) -> None:
    folder = tmp_path / "configs"
    shutil.copytree(REPO / "configs", folder)
    customers = folder / "customers.yaml"
    text = customers.read_text()
    customers.write_text(text + "ingest:\n  max_line_bytes: 2 MiB\n  max_member_bytes: 1 GiB\n")
    limits = load_config(folder).ingest
    assert (limits.max_line_bytes, limits.max_member_bytes) == (2 * 1024**2, 1024**3)
    assert limits.max_archive_bytes == 4 * 1024**3  # the default
    for bad in ("yes", "-1", "12", "lots", "{max_lines: 3}"):
        value = f"max_line_bytes: {bad}" if not bad.startswith("{") else bad[1:-1]
        customers.write_text(text + f"ingest:\n  {value}\n")
        with pytest.raises(ConfigError) as caught:
            load_config(folder)
        assert caught.value.key.startswith("ingest."), caught.value


_PEAK = """
import json, resource, sys
from pathlib import Path
from piiscan.pipeline.ingest import ingest_paths
from piiscan.policy import load_config
from piiscan.storage import LocalStorage

config = load_config(sys.argv[1])
summary = ingest_paths(
    LocalStorage(sys.argv[3]), config.customer("acme"), [Path(sys.argv[2])], "peak",
    layouts=config.layouts, limits=config.ingest,
)
result = summary.files[0]
# ru_maxrss of a process started by a big one (pytest) keeps the parent's peak across exec on
# Linux; the high-water mark of this process's own memory is VmHWM.
status = Path("/proc/self/status")
hwm = [line.split()[1] for line in status.read_text().splitlines() if line.startswith("VmHWM")] \
    if status.exists() else []
peak = int(hwm[0]) if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"code": result.reason_code, "peak_kb": peak}))
"""


def test_a_small_zip_holding_one_300_mb_line_stays_in_bounded_memory(tmp_path: Path) -> None:
    """306 KB on disk, 300 MB decompressed in one line: refused as too_large at the default
    1 MiB line limit, with the process peaking at a few hundred MB (it was 4.8 GB)."""
    path = tmp_path / "RawDataDownload_1_202610.zip"
    chunk = b"2125550100," * (1024 * 1024 // 11)
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("devices_1.csv", "w") as member,
    ):
        member.write(csv_text([]).encode())
        for _ in range(300 * 1024 * 1024 // len(chunk)):
            member.write(chunk)
    assert path.stat().st_size < 1024 * 1024
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, str(REPO / "configs"), str(path), str(tmp_path / "lake")],
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ.copy(),
        check=True,
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["code"] == "too_large"
    assert found["peak_kb"] < 400 * 1024, found  # KiB (VmHWM, and ru_maxrss on Linux)
