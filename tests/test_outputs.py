"""Outputs that cannot hurt: export CSVs a spreadsheet will not run, ids that cannot walk out of
their folder, and lake objects only their owner can read."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from piiscan.cli import app
from piiscan.errors import PiiscanError
from piiscan.lake import keys
from piiscan.pipeline.subject import write_bundle
from piiscan.storage import LocalStorage
from piiscan.subject import Found, Identity, csv_safe

from .conftest import CONFIGS


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x.test","click")', '\'=HYPERLINK("http://x.test","click")'),
        ("+1 (212) 555-0147", "'+1 (212) 555-0147"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("-12.50", "-12.50"),  # a signed amount stays a number
        ("+3", "+3"),
        ("Jordan Lee", "Jordan Lee"),
        ("a=b", "a=b"),
        (None, None),
    ],
)
def test_csv_cells_a_spreadsheet_would_run_are_quoted(
    cell: str | None, written: str | None
) -> None:
    frame = pl.DataFrame({"user_name": [cell], "minutes": [1.5]})
    safe = csv_safe(frame)
    assert safe["user_name"][0] == written
    assert safe["minutes"][0] == 1.5


@pytest.fixture
def owner_only_umask() -> Iterator[None]:
    previous = os.umask(0o022)  # the usual default: files 0644, folders 0755
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_an_export_bundle_is_safe_in_a_spreadsheet_exact_in_json_and_owner_only(
    tmp_path: Path, owner_only_umask: None
) -> None:
    rows = pl.DataFrame({"user_name": ['=HYPERLINK("http://x.test")'], "period": ["2026-10"]})
    found = Found(rows={"restricted/devices": rows}, quarantined=rows.clone())
    request = {"request_id": "20261128T090000Z-abcdef", "customer": "acme", "months": 12}
    folder = write_bundle(tmp_path, {**request, "since": "2025-11-01"}, found, Identity())
    csv = pl.read_csv(folder / "restricted_devices.csv")
    assert csv["user_name"][0] == '\'=HYPERLINK("http://x.test")'
    quarantined = pl.read_csv(folder / "quarantine_rejected_rows.csv")
    assert quarantined["user_name"][0].startswith("'=")
    data = json.loads((folder / "restricted_devices.json").read_text())
    assert data[0]["user_name"] == '=HYPERLINK("http://x.test")'  # JSON keeps the value
    assert mode(folder) == 0o700
    assert {mode(p) for p in folder.iterdir()} == {0o600}


def test_every_lake_object_and_folder_is_owner_only(tmp_path: Path, owner_only_umask: None) -> None:
    lake = LocalStorage(tmp_path / "lake")
    lake.write_bytes("restricted/devices/customer=acme/period=2026-10/a.parquet", b"x")
    assert lake.create("state/locks/acme.json", b"{}")
    staged = tmp_path / "staged.parquet"
    staged.write_bytes(b"y")
    lake.put_file(staged, "quarantine/acme/run-1/f.csv.rejected-0.parquet")
    files = [p for p in (tmp_path / "lake").rglob("*") if p.is_file()]
    folders = [p for p in (tmp_path / "lake").rglob("*") if p.is_dir()]
    assert len(files) == 3 and {mode(p) for p in files} == {0o600}
    assert folders and {mode(p) for p in folders} == {0o700}


@pytest.mark.parametrize(
    "build",
    [
        lambda: keys.request_records("../../restricted/requests/acme"),
        lambda: keys.report("acme", "../../../restricted/devices"),
        lambda: keys.report("acme/../globex", "20261128T090000Z-abcdef"),
        lambda: keys.landing("acme", "att", "../globex.csv"),
        lambda: keys.landing("acme", "../globex", "x.csv"),
        lambda: keys.quarantine("acme", "..", "x"),
        lambda: keys.dataset_folder("restricted", "../state", "acme"),
        lambda: keys.partition_file("restricted", "devices", "acme", "2026-10/../..", "x"),
        lambda: keys.certificate("acme", "../../ledger/acme"),
        lambda: keys.pending_request("ACME", "20261128T090000Z-abcdef"),
    ],
)
def test_no_key_part_can_walk_out_of_its_folder(build: object) -> None:
    with pytest.raises(PiiscanError, match=r"not valid|unknown"):
        build()  # type: ignore[operator]


@pytest.mark.parametrize(
    "args",
    [
        ["subject", "list", "--customer", "../../restricted/requests/acme"],
        ["holds", "list", "--customer", "../acme"],
        ["report", "show", "--customer", "acme", "--run", "../../restricted/devices"],
    ],
)
def test_commands_refuse_ids_that_walk_out_of_their_folder(tmp_path: Path, args: list[str]) -> None:
    result = CliRunner().invoke(
        app, [*args, "--lake", str(tmp_path / "lake"), "--config", str(CONFIGS)]
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
