"""Layout choice by evidence, layouts as YAML, and `piiscan layouts suggest|check` as a new user
adding a regional carrier would run them."""

from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from piiscan.cli import app
from piiscan.errors import ConfigError, IngestError
from piiscan.ingest.detection import WEAK_SHARE, detect_text
from piiscan.layouts import LAYOUTS, Layout
from piiscan.layouts.model import Column
from piiscan.layouts.verizon import VERIZON_ACCOUNT_SUMMARY, VERIZON_WIRELESS_SUMMARY
from piiscan.policy import load_config

from .conftest import CONFIGS

runner = CliRunner()


def _layout(name: str, dataset: str | None, headers: str, required: str, pattern: str) -> Layout:
    needed = set(required.split(","))
    return Layout(
        name,
        "test",
        dataset,
        pattern,
        tuple(Column(h, f"c_{i}", required=h in needed) for i, h in enumerate(headers.split(","))),
    )


CALLS = _layout("calls", "usage_events", "Line,When,Cost,Dest", "Line,When", r"^calls_")
BILLS = _layout("bills", "invoice_lines", "Line,When,Cost,Plan", "Line,When", r"^bills_")


@pytest.mark.parametrize(
    ("file", "header", "chosen", "code"),
    [
        # more columns known wins; the file name is a bonus between eligible layouts
        ("x.csv", "Line,When,Cost,Dest", "calls", None),
        ("x.csv", "Line,When,Cost,Plan", "bills", None),
        ("bills_1.csv", "Line,When,Cost,Dest", "bills", None),  # bonus 2 beats one column
        # a tie between datasets: neither taken
        ("x.csv", "Line,When,Cost", None, "ambiguous_layout"),
        # a name alone is never enough: a named layout lacking required columns is bad_header
        ("calls_1.csv", "Region,Store", None, "bad_header"),
        ("x.csv", "Region,Store", None, "unknown_layout"),
        # best knows 3 of 13 columns, name not matching: too weak
        ("x.csv", "Line,When,Dest," + ",".join(f"X{i}" for i in range(10)), None, "weak_layout"),
        # ... the same header under the layout's file name is taken
        ("calls_1.csv", "Line,When,Dest," + ",".join(f"X{i}" for i in range(10)), "calls", None),
    ],
)
def test_layout_is_chosen_by_evidence(
    file: str, header: str, chosen: str | None, code: str | None
) -> None:
    head = f"{header}\n{','.join('1' for _ in header.split(','))}\n".encode()
    if code is None:
        layout, found, best, _ = detect_text(file, head, (CALLS, BILLS))
        assert layout.name == chosen and found.names == tuple(header.split(","))
        assert best.score == best.known + (2 if best.name_match else 0)
        return
    with pytest.raises(IngestError) as info:
        detect_text(file, head, (CALLS, BILLS))
    assert info.value.code == code and file in str(info.value)
    if code == "ambiguous_layout":  # names the candidates and what each lacks
        assert "calls" in str(info.value) and "bills" in str(info.value)
        assert "'Dest'" in str(info.value) and "'Plan'" in str(info.value)


def test_weak_threshold_is_a_share_of_the_files_columns() -> None:
    assert 0 < WEAK_SHARE < 0.5


def test_a_reference_layout_never_wins_on_its_header_alone() -> None:
    """A wireless summary that also carries Invoice Number holds AccountSummary's signature;
    renamed, it is still read as the dataset layout that knows more of its columns."""
    header = list(VERIZON_WIRELESS_SUMMARY.headers)
    if "Invoice Number" not in header:
        header.append("Invoice Number")
    head = ("\t".join(header) + "\n").encode()
    layout, _, best, runner_up = detect_text("export.txt", head, LAYOUTS)
    assert layout is VERIZON_WIRELESS_SUMMARY
    assert runner_up is not None and best.score > runner_up.score
    layout, _, _, _ = detect_text(
        "x.txt", ("\t".join(VERIZON_ACCOUNT_SUMMARY.headers) + "\n").encode(), LAYOUTS
    )
    assert layout is VERIZON_ACCOUNT_SUMMARY  # its own header, all of it: the reference layout


NORDTEL = """\
name: nordtel_usage
carrier: nordtel
dataset: usage_events
file_pattern: '^Nordtel_Usage_\\d+\\.csv$'
delimiter: ';'
columns:
  - {header: Line, canonical: wireless_number, kind: phone, required: true}
  - {header: Call Date, canonical: event_time, kind: date, format: '%d.%m.%Y', required: true}
  - {header: Call Time, canonical: event_time, kind: time, format: '%H:%M:%S'}
  - {header: Secs, canonical: minutes, kind: duration, format: seconds}
  - {header: Amount, canonical: charge, kind: money, format: '1.234,56', required: true}
extras:
  - {header: Cell, key: cell_id}
"""


@pytest.fixture
def configs(tmp_path: Path) -> Path:
    folder = tmp_path / "configs"
    shutil.copytree(CONFIGS, folder)
    (folder / "layouts").mkdir(exist_ok=True)
    return folder


def test_a_yaml_layout_loads_into_the_layout_model(configs: Path) -> None:
    (configs / "layouts" / "nordtel.yaml").write_text(NORDTEL)
    layouts = load_config(configs).layouts
    nordtel = next(lay for lay in layouts if lay.name == "nordtel_usage")
    assert isinstance(nordtel, Layout) and nordtel.separator == ";"
    assert nordtel.signature == ["Line", "Call Date", "Amount"]
    assert [c.target for c in nordtel.columns][-1] == "cell_id"
    assert len(layouts) == len(LAYOUTS) + 1


def test_a_users_layout_replaces_the_built_in_of_its_name(configs: Path) -> None:
    tmobile = NORDTEL.replace("name: nordtel_usage", "name: tmobile_usage_detail").replace(
        "carrier: nordtel", "carrier: tmobile"
    )
    (configs / "layouts" / "mine.yaml").write_text(f"- {tmobile.replace(chr(10), chr(10) + '  ')}")
    layouts = load_config(configs).layouts
    assert len(layouts) == len(LAYOUTS)
    mine = [lay for lay in layouts if lay.name == "tmobile_usage_detail"]
    assert len(mine) == 1 and mine[0].origin.endswith("mine.yaml")


@pytest.mark.parametrize(
    ("change", "key", "problem"),
    [
        (("canonical: minutes", "canonical: seconds"), "columns[3].canonical", "not a canonical"),
        (("kind: phone", "kind: telephone"), "columns[0].kind", "Input should be"),
        (("format: seconds", "format: hours"), "columns[3]", "duration"),
        (("format: '%d.%m.%Y', ", ""), "columns[1]", "needs its format"),
        (("delimiter: ';'", "separator: ';'"), "separator", "Extra inputs"),
        (("dataset: usage_events", "dataset: calls"), "dataset", "Input should be"),
        (("{header: Cell, key: cell_id}", "{header: Line}"), "<root>", "listed twice"),
    ],
)
def test_a_bad_yaml_layout_names_the_file_and_key(
    configs: Path, change: tuple[str, str], key: str, problem: str
) -> None:
    assert change[0] in NORDTEL
    (configs / "layouts" / "nordtel.yaml").write_text(NORDTEL.replace(*change))
    with pytest.raises(ConfigError) as info:
        load_config(configs)
    assert info.value.file.endswith("nordtel.yaml")
    assert info.value.key == key and problem in info.value.problem


def _regional_file(folder: Path, rows: int = 40) -> tuple[Path, dict[str, object]]:
    """A regional carrier's usage export: ';', DD.MM.YYYY dates, 1.234,56 money, seconds."""
    from faker import Faker

    fake, rng = Faker("de_DE"), random.Random(5)
    fake.seed_instance(5)
    lines = ["Acct No;Subscriber;Line;Call Date;Call Time;Dest;Secs;Amount"]
    cents = seconds = 0
    for _ in range(rows):
        amount, secs = rng.randint(0, 250_000), rng.randint(1, 3600)
        cents, seconds = cents + amount, seconds + secs
        money = f"{amount // 100:,}".replace(",", ".") + f",{amount % 100:02d}"
        lines.append(
            f"88001234;{fake.name()};212555{rng.randint(100, 199):04d};"
            f"{rng.randint(1, 28):02d}.10.2026;{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:"
            f"{rng.randint(0, 59):02d};646555{rng.randint(100, 199):04d};{secs};{money}"
        )
    path = folder / "Nordtel_Usage_202610.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, {"rows": rows, "cents": cents, "seconds": seconds}


def _settled(draft: str) -> str:
    """Settle only the lines the draft marks CHECK: what a new user edits by hand."""
    out = []
    for line in draft.splitlines():
        if "# CHECK:" in line:
            line = re.sub(r"^carrier: \S+", "carrier: nordtel", line)
            line = line.split("  # CHECK:")[0]  # reviewed: the guess is right
        out.append(line)
    return "\n".join(out) + "\n"


@pytest.mark.integration
def test_a_new_user_adds_a_regional_carrier_with_suggest_and_check(
    configs: Path, tmp_path: Path
) -> None:
    path, truth = _regional_file(tmp_path)
    out = configs / "layouts" / "nordtel.yaml"
    args = ["--config", str(configs)]
    result = runner.invoke(app, ["layouts", "suggest", str(path), "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    draft = out.read_text()
    flagged = [line for line in draft.splitlines() if "# CHECK:" in line]
    assert flagged and all(not line.startswith('  - {header: "Amount"') for line in flagged)
    for header, canonical in [
        ("Acct No", "account_number"),
        ("Line", "wireless_number"),
        ("Call Date", "event_time"),
        ("Dest", "other_number"),
        ("Secs", "minutes"),
        ("Amount", "charge"),
    ]:
        assert f'header: "{header}", canonical: {canonical}' in draft
    assert 'format: "%d.%m.%Y"' in draft and 'format: "1.234,56"' in draft
    assert "dataset: usage_events" in draft
    out.write_text(_settled(draft))
    assert [
        a for a, b in zip(draft.splitlines(), out.read_text().splitlines(), strict=True) if a != b
    ] == flagged

    # No customer has a contract with the new carrier yet: suggest said so, and ingest
    # quarantines the file saying where to add it.
    assert "no customer lists carrier 'nordtel'" in result.stderr
    lake = tmp_path / "lake"
    ingest = ["ingest", "-c", "acme", "--lake", str(lake), "--json", *args, str(path)]
    result = runner.invoke(app, ingest)
    assert result.exit_code == 0, result.output
    (refused,) = json.loads(result.stdout)["files"]
    assert refused["status"] == "quarantined"
    assert refused["reason_code"] == "carrier_not_contracted"
    assert "configs/customers.yaml" in refused["reason"]
    customers = configs / "customers.yaml"
    customers.write_text(
        customers.read_text().replace(
            "carriers: [verizon, att, mdm, generic]",
            "carriers: [verizon, att, mdm, generic, nordtel]",
        )
    )
    shutil.rmtree(lake)
    result = runner.invoke(app, ingest)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    (landed,) = summary["files"]
    assert landed["status"] == "ingested" and landed["rows"] == {"usage_events": truth["rows"]}
    assert landed["rows_delivered"] == truth["rows"] and landed["rows_rejected"] == 0
    assert landed["choices"][0]["layout"] == "nordtel_usage"
    rows = pl.scan_parquet(str(lake / "restricted" / "usage_events" / "**" / "*.parquet")).collect()
    assert str(rows["charge"].sum()) == f"{truth['cents'] // 100}.{truth['cents'] % 100:02d}"
    assert rows["minutes"].sum() == pytest.approx(truth["seconds"] / 60)
    assert rows["event_time"].dt.hour().n_unique() > 1  # the time of day joined its date
    assert set(rows["carrier"]) == {"nordtel"}

    result = runner.invoke(app, ["layouts", "check", str(path), *args])
    assert result.exit_code == 0, result.output
    assert "layout nordtel_usage score 10 (8/8 columns, file name matches)" in result.stdout
    numbers = pl.read_csv(path, separator=";", infer_schema=False)
    secrets = [*numbers["Line"], *numbers["Dest"], *numbers["Subscriber"]]
    assert "row 1 (masked)" in result.stdout
    assert not [s for s in secrets if s in result.stdout]


def test_check_names_the_reason_a_file_gets_no_layout(tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    path.write_text("Region,Store\nNorth,S1\n")
    result = runner.invoke(app, ["layouts", "check", str(path), "--config", str(CONFIGS)])
    assert result.exit_code == 1 and "unknown_layout" in result.stdout


@pytest.mark.parametrize(
    ("values", "kind", "fmt"),
    [
        (["4410022", "4410023", "5520019"], "int", None),  # account numbers, not %Y%m%d dates
        (["20261003", "20261004"], "date", "%Y%m%d"),
        (["03.10.2026", "04.10.2026"], "date", "%d.%m.%Y"),
        (["14:02:11", "09:15:00"], "time", "%H:%M:%S"),
        (["1.234,56", "0,99"], "money", "1.234,56"),
    ],
)
def test_suggest_reads_value_shapes_as_a_person_would(
    values: list[str], kind: str, fmt: str | None
) -> None:
    from piiscan.ingest.suggest import _value_shape

    shape = _value_shape(values)
    assert shape is not None and shape[:2] == (kind, fmt)


@pytest.mark.parametrize(
    ("canonical", "kind"),
    [("wireless_number", "phone"), ("other_number", "dialed"), ("account_number", "id")],
)
def test_suggest_gives_numbers_the_kind_that_stores_them_canonically(
    canonical: str, kind: str
) -> None:
    from piiscan.ingest.suggest import _kind_of

    assert _kind_of(canonical, "text") == kind
