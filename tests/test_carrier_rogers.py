"""Rogers: call detail read with its delivered field spec, and the Custom report, round trip."""

from __future__ import annotations

import io
import json
import random
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from piiscan.ingest.rogers import Spec, pair, parse_spec
from piiscan.layouts.rogers import FIELDS, USAGE, field_names
from piiscan.pipeline.ingest import ingest_paths
from piiscan.policy import Config
from piiscan.storage import LocalStorage
from piiscan.testing.common import Expected
from piiscan.testing.model import World
from piiscan.testing.usage import usage_chunks
from piiscan.testing.writers_rogers import MEMBERS, report_events, write_rogers_month

CYCLE = date(2026, 10, 16)
SEED = 5


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, list[Expected]]:
    out = tmp_path_factory.mktemp("rogers")
    world = World(3)
    account = world.account("initech", "rogers", "@@-#####", 5, date(2026, 8, 16))
    invoice = world.invoice(account, CYCLE, is_last=True)
    expected = write_rogers_month(out / "rogers", out, invoice, world, 12, SEED)
    return out, invoice, expected


def _ingest(config: Config, tmp_path: Path, *paths: Path) -> tuple[LocalStorage, Any]:
    storage = LocalStorage(tmp_path / "lake")
    return storage, ingest_paths(storage, config.customer("initech"), list(paths), "run-1")


def _landed(storage: LocalStorage, result: Any, dataset: str) -> pl.DataFrame:
    keys = [k for k in result.outputs if k.startswith(f"restricted/{dataset}/")]
    periods = [k.split("period=")[1][:7] for k in keys]
    return pl.concat(
        pl.read_parquet(storage.uri(k)).with_columns(pl.lit(p).alias("period"))
        for k, p in zip(keys, periods, strict=True)
    )


@pytest.mark.parametrize("report_type", list(MEMBERS))
def test_each_call_detail_zip_lands_every_event_as_generated(
    written: Any, config: Config, tmp_path: Path, report_type: str
) -> None:
    out, invoice, expected = written
    entry = next(e for e in expected if e.layout == USAGE[report_type].name)
    storage, summary = _ingest(config, tmp_path, out / entry.file)
    result = summary.files[0]
    assert (result.status, result.carrier, result.rows_rejected) == ("ingested", "rogers", 0)
    assert result.layouts == (USAGE[report_type].name,)
    landed = _landed(storage, result, "usage_events")
    truth = pl.concat(report_events(report_type, c) for c in usage_chunks(invoice, 12, SEED))
    assert landed.height == truth.height == entry.rows > 0
    per_period = truth.group_by(pl.col("event_time").dt.strftime("%Y-%m").alias("period")).len()
    assert dict(landed.group_by("period").len().iter_rows()) == dict(per_period.iter_rows())
    assert sorted(landed["event_time"].to_list()) == sorted(truth["event_time"].to_list())
    assert str(landed["charge"].sum()) == str(
        pl.Series([entry.sums["charge"]]).cast(pl.Decimal(18, 2))[0]
    )
    for measure in ("minutes", "messages", "data_kb"):
        assert float(landed[measure].fill_null(0).sum()) == pytest.approx(
            float(entry.sums[measure]), abs=1e-6
        )
    assert set(landed["wireless_number"]) == set(truth["wireless_number"])
    assert set(landed["account_number"]) == {invoice.account.number}
    assert set(landed["kind"]) == {truth["kind"][0]}
    assert set(landed["user_name"]) <= {ln.person.full_name.upper() for ln in invoice.account.lines}
    if "Period End Date" in FIELDS[report_type]:
        assert set(landed["bill_cycle_date"]) == {CYCLE}
    if "Called Number" in FIELDS[report_type]:  # `*` is an unknown number: null, never "*"
        assert landed["other_number"].null_count() > 0
        assert not landed["other_number"].str.contains(r"\*").any()
    extras = json.loads(landed["extras"][0])
    assert extras["invoice_no"] == invoice.number
    if "Province" in FIELDS[report_type]:
        assert (extras["from_province"], extras["to_province"]) == ("ON", "QC")


def test_the_custom_report_lands_one_invoice_line_per_subscriber(
    written: Any, config: Config, tmp_path: Path
) -> None:
    out, invoice, expected = written
    entry = next(e for e in expected if e.layout == "rogers_custom")
    storage, summary = _ingest(config, tmp_path, out / entry.file)
    result = summary.files[0]
    assert (result.status, result.layouts, result.rows_rejected) == (
        "ingested",
        ("rogers_custom",),
        0,
    )
    landed = _landed(storage, result, "invoice_lines")
    assert landed.height == entry.rows == len(invoice.account.lines)
    assert set(landed["period"]) == {"2026-10"} and set(landed["bill_cycle_date"]) == {CYCLE}
    assert sorted(landed["wireless_number"]) == sorted(ln.number for ln in invoice.account.lines)
    assert str(landed["charge"].sum()) == entry.sums["charge"]
    assert str(landed["tax"].sum()) == entry.sums["tax"]
    assert json.loads(landed["extras"][0])["report_level"] == "Subscriber"


def _rewrite(source: Path, target: Path, change: Any) -> None:
    """Copy a Rogers zip, letting change(spec_lines, data_rows, names) rewrite its members."""
    with zipfile.ZipFile(source) as zf:
        members = {m: zf.read(m).decode() for m in zf.namelist()}
    spec_name = next(m for m in members if m.startswith("Header"))
    data_name = next(m for m in members if m.startswith("ALL_CALLS"))
    spec, data = members.pop(spec_name).splitlines(), members.pop(data_name).splitlines()
    spec_name, spec, data_name, data = change(spec_name, spec, data_name, data)
    with zipfile.ZipFile(target, "w") as zf:
        zf.writestr(spec_name, "\r\n".join(spec) + "\r\n")
        zf.writestr(data_name, "\n".join(data) + "\n")


def test_field_order_and_set_come_from_the_delivered_spec(
    written: Any, config: Config, tmp_path: Path
) -> None:
    out, _, expected = written
    entry = next(e for e in expected if e.layout == "rogers_sms")

    def shuffled(spec_name: str, spec: list[str], data_name: str, data: list[str]) -> Any:
        title, fields = spec[:2], spec[2:]
        order = list(range(len(fields)))
        random.Random(1).shuffle(order)
        fields = [fields[i] for i in order] + ["Cost Centre,10,Text"]
        rows = []
        for row in data:
            values = row.split("|")[:-1]
            rows.append("|".join([values[i] for i in order] + ["CC-77", ""]))
        return "HEADER-sms.TXT", title + fields, "ALL_CALLS-Sms.txt", rows

    path = tmp_path / "reordered.zip"
    _rewrite(out / entry.file, path, shuffled)
    original_storage, original = _ingest(config, tmp_path / "a", out / entry.file)
    storage, summary = _ingest(config, tmp_path / "b", path)
    result = summary.files[0]
    assert (result.status, result.rows_rejected) == ("ingested", 0), result.reason
    before = _landed(original_storage, original.files[0], "usage_events").drop("extras")
    after = _landed(storage, result, "usage_events")
    assert (
        after.drop("extras")
        .sort("event_time", "wireless_number")
        .equals(before.sort("event_time", "wireless_number"))
    )
    assert {json.loads(e)["cost_centre"] for e in after["extras"]} == {"CC-77"}


def test_a_call_detail_file_without_its_spec_is_quarantined_naming_it(
    written: Any, config: Config, tmp_path: Path
) -> None:
    out, _, expected = written
    entry = next(e for e in expected if e.layout == "rogers_voice")
    path = tmp_path / "Rogers_no_spec.zip"

    def second_data_member(spec_name: str, spec: list[str], data_name: str, data: list[str]) -> Any:
        return spec_name, spec, data_name, data

    _rewrite(out / entry.file, path, second_data_member)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("ALL_CALLS-SMS.txt", "1|2|\n")
    _, summary = _ingest(config, tmp_path, path)
    result = summary.files[0]
    assert (result.status, result.reason_code) == ("quarantined", "bad_header")
    assert "ALL_CALLS-SMS.txt" in (result.reason or "")


def _spec(member: str, title: str | None) -> Spec:
    return Spec(member, title, ("BAN",))


@pytest.mark.parametrize(
    ("data", "specs", "paired"),
    [
        (["ALL_CALLS-Voice.txt"], [("Header-Voice.txt", "Voice")], "Header-Voice.txt"),
        # The real roaming zips: the spec is named for the base type, its title says roaming.
        (["ALL_CALLS-VoiceRM.txt"], [("Header-Voice.txt", "Voice-RM")], "Header-Voice.txt"),
        (["ALL_CALLS-GPRS-Rm.txt"], [("Header-GPRS.txt", "GPRS-RM")], "Header-GPRS.txt"),
        # Two reports in one zip: each data file goes with the spec of its own type.
        (
            ["ALL_CALLS-VoiceRM.txt"],
            [("Header-Voice.txt", "Voice"), ("Header-VoiceRM.txt", "Voice-RM")],
            "Header-VoiceRM.txt",
        ),
        (
            ["ALL_CALLS-GPRS-Rm.txt"],
            [("Header-SMS.txt", "SMS"), ("Header-GPRS.txt", None)],
            "Header-GPRS.txt",
        ),
        # A lone data file goes with a lone spec whatever their names.
        (["ALL_CALLS.txt"], [("Header.txt", None)], "Header.txt"),
        (["ALL_CALLS-Voice.txt"], [("Header-SMS.txt", "SMS"), ("Header-GPRS.txt", "GPRS")], None),
    ],
)
def test_data_files_pair_with_the_spec_of_their_report_type(
    data: list[str], specs: list[tuple[str, str | None]], paired: str | None
) -> None:
    found = pair(data, [_spec(m, t) for m, t in specs])
    assert (found[data[0]].member if data[0] in found else None) == paired


@pytest.mark.parametrize(
    ("title", "report_type"),
    [
        ("Voice Type Type : 09/17/2026 - 10/16/2026", "Voice"),
        ("GPRS-RM Type : 09/17/2026 - 10/16/2026", "GPRS-RM"),
        ("\ufeffSMS Type Type : 09/17/2026 - 10/16/2026  ", "SMS"),
    ],
)
def test_spec_titles_name_the_report_type(title: str, report_type: str) -> None:
    spec = parse_spec("Header.txt", f"{title}\r\n\r\nBAN,9,Text\r\nDate,8,Date\r\n".encode())
    assert (spec.report_type, spec.fields) == (report_type, ("BAN", "Date"))


def test_repeated_spec_fields_are_named_after_the_field_before_them() -> None:
    names = field_names(("From", "Province", "To", "Province", "Seconds"))
    assert names == ("From", "From Province", "To", "To Province", "Seconds")
    assert len(set(field_names(FIELDS["Voice-RM"]))) == len(FIELDS["Voice-RM"])


def test_the_writer_writes_the_real_members_and_a_trailing_empty_field(written: Any) -> None:
    out, _, expected = written
    entry = next(e for e in expected if e.layout == "rogers_voice_roaming")
    with zipfile.ZipFile(out / entry.file) as zf:
        assert sorted(zf.namelist()) == ["ALL_CALLS-VoiceRM.txt", "Header-Voice.txt"]
        spec = zf.read("Header-Voice.txt").decode().splitlines()
        rows = io.StringIO(zf.read("ALL_CALLS-VoiceRM.txt").decode()).read().splitlines()
    assert spec[0].startswith("Voice-RM Type Type : ") and spec[1] == ""
    assert [line.split(",")[0] for line in spec[2:]] == list(FIELDS["Voice-RM"])
    assert all(row.endswith("|") and row.count("|") == len(FIELDS["Voice-RM"]) for row in rows)
