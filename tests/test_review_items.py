"""Review items for files: what ingest quarantined or rejected waits for a person, night after
night, until the lake or a reviewer settles it; `review pending` lists it with the commands that
settle it, and the HTML shows it (in a real headless Chromium).

One customer's lake over a sequence of nights: a file no layout fits and a file with a bad row
are delivered; both stay items on later nights (the report used to forget them); the fixed file
delivered again settles one, `review resolve` the other.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from piiscan.cli import app
from piiscan.report import report_schema, summary
from piiscan.testing.broken_kinds import NUMBERS, csv_text, rows

from .chromium import opened
from .test_report_drift import CUSTOMER, Nights

pytestmark = pytest.mark.integration

UNKNOWN = "carrier_extract_v9.csv"
DEVICES = "devices_202610.csv"
BAD_DATE = "16/10/2026"  # not the generic layout's YYYY-MM-DD


def _devices(bad: bool) -> str:
    body = rows(6)
    if bad:
        body[3] = [body[3][0], BAD_DATE, *body[3][2:]]
    return csv_text(body)


class Lake:
    """The nights, the landing folder, and the CLI over them."""

    def __init__(self, nights: Nights) -> None:
        self.nights = nights
        self.landing = nights.lake / "landing" / CUSTOMER / "generic"
        self.landing.mkdir(parents=True, exist_ok=True)
        self.reports: list[dict[str, Any]] = []

    def deliver(self, name: str, text: str) -> None:
        (self.landing / name).write_text(text, encoding="utf-8")

    def night(self) -> dict[str, Any]:
        document = self.nights.run()
        jsonschema.validate(document, report_schema())
        self.reports.append(document)
        return document

    def cli(self, *args: str, lake: bool = True) -> Any:
        common = ["--config", str(self.nights.configs)]
        if lake:
            common += ["--lake", str(self.nights.lake)]
        return CliRunner().invoke(app, [*args, *common], env={"COLUMNS": "80"})


def _files(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["file"]: item for item in document["review"]["files"]}


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory, fixture_tree: Path) -> Iterator[Lake]:
    lake = Lake(Nights(tmp_path_factory.mktemp("review-items"), fixture_tree))
    lake.night()  # the baseline: the fixtures' own files
    lake.deliver(UNKNOWN, "account;sub;amount\n1;2;3\n4;5;6\n")
    lake.deliver(DEVICES, _devices(bad=True))
    lake.night()
    lake.night()  # nothing delivered
    yield lake


def test_quarantined_files_and_rejected_rows_are_review_items(lake: Lake) -> None:
    first = lake.reports[1]
    assert first["needs_review"]
    files = _files(first)
    assert set(files) == {UNKNOWN, DEVICES}
    unknown, devices = files[UNKNOWN], files[DEVICES]
    assert unknown["kind"] == "quarantined_file" and unknown["code"] == "unknown_layout"
    assert UNKNOWN in unknown["reason"] and unknown["first_seen"] == first["run_id"]
    assert unknown["quarantined"] and Path(unknown["quarantined"]).is_file()
    assert devices["kind"] == "rejected_rows" and devices["rows_rejected"] == 1
    (rejection,) = devices["rejections"]
    assert rejection["line"] == 5  # the header is line 1, the fourth row line 5
    assert "report_date" in rejection["problem"] and BAD_DATE not in json.dumps(first)
    assert devices["quarantined"] is None and len(devices["rejected_rows_files"]) == 1
    assert summary(first)["files_to_review"] == 2
    assert summary(first)["review_items"] == 2 + len(first["review"]["pending"])


def test_items_carry_ready_to_paste_commands(lake: Lake) -> None:
    unknown = _files(lake.reports[1])[UNKNOWN]
    path = unknown["quarantined"]
    assert unknown["commands"] == [
        f"piiscan layouts check {path}",
        f"piiscan layouts suggest {path} --out configs/layouts/carrier_extract_v9.yaml",
        f"piiscan ingest -c {CUSTOMER} {path}",
        f"piiscan review resolve -c {CUSTOMER} --item {unknown['id']} "
        "--reason 'WHY' --by 'YOUR NAME'",
    ]
    checked = lake.cli("layouts", "check", path, lake=False)
    assert checked.exit_code == 1 and "unknown_layout" in checked.output
    drafted = lake.cli(
        "layouts", "suggest", path, "--out", str(lake.nights.lake.parent / "draft.yaml"), lake=False
    )
    assert drafted.exit_code == 0, drafted.output


def test_items_stay_on_later_nights_until_settled(lake: Lake) -> None:
    first, later = lake.reports[1], lake.reports[2]
    assert later["ingest"]["files_quarantined"] == 0  # nothing new this night
    assert later["needs_review"] and set(_files(later)) == {UNKNOWN, DEVICES}
    assert {i["first_seen"] for i in later["review"]["files"]} == {first["run_id"]}


def test_review_pending_lists_everything_and_exits_1(lake: Lake) -> None:
    shown = lake.cli("review", "pending", "-c", CUSTOMER)
    assert shown.exit_code == 1, shown.output
    assert f"{CUSTOMER}: " in shown.output and UNKNOWN in shown.output
    assert "line 5:" in shown.output and "report_date" in shown.output
    assert "piiscan review resolve" in shown.output
    assert "…" not in shown.output
    as_json = lake.cli("review", "pending", "-c", CUSTOMER, "--json")
    assert as_json.exit_code == 1
    body = json.loads(as_json.output)
    (entry,) = body["customers"]
    assert {f["file"] for f in entry["files"]} == {UNKNOWN, DEVICES}
    assert body["pending"] == len(entry["files"]) + len(entry["columns"])
    for item in entry["columns"]:
        assert item["commands"] and item["commands"][0].startswith("piiscan review ")


def test_the_lake_and_a_reviewer_settle_items(lake: Lake) -> None:
    # The carrier sends the devices file again, fixed: its rejected rows need nothing more.
    lake.deliver(DEVICES, _devices(bad=False))
    fixed = lake.night()
    assert set(_files(fixed)) == {UNKNOWN}
    item = _files(fixed)[UNKNOWN]["id"]
    refused = lake.cli(
        "review",
        "resolve",
        "-c",
        CUSTOMER,
        "--item",
        "20990101T000000Z-000000/nothing.csv",
        "--reason",
        "x",
        "--by",
        "me",
    )
    assert refused.exit_code == 2 and "no quarantine item" in refused.output
    resolved = lake.cli(
        "review",
        "resolve",
        "-c",
        CUSTOMER,
        "--item",
        item,
        "--reason",
        "test file the carrier sent by mistake",
        "--by",
        "j.reviewer",
        "--json",
    )
    assert resolved.exit_code == 0, resolved.output
    assert json.loads(resolved.output)["resolved_by"] == "j.reviewer"
    settled = lake.night()
    assert settled["review"]["files"] == []
    assert settled["needs_review"] == bool(settled["review"]["pending"])
    pending = lake.cli("review", "pending", "-c", CUSTOMER, "--json")
    assert json.loads(pending.output)["customers"][0]["files"] == []


def test_no_raw_value_in_items_or_output(lake: Lake) -> None:
    shown = lake.cli("review", "pending", "-c", CUSTOMER, "--json").output
    for document in lake.reports:
        text = json.dumps(document["review"]) + shown
        assert not [n for n in NUMBERS if n in text]


@pytest.fixture
def page(browser: Any, lake: Lake) -> Iterator[Any]:
    document = lake.reports[1]
    path = lake.nights.lake / "reports" / CUSTOMER / f"{document['run_id']}.html"
    with opened(browser, path) as (view, requests):
        yield view, requests, document


def test_the_html_shows_file_items_and_rejected_rows(page: Any, tmp_path: Path) -> None:
    view, requests, document = page
    banner = view.locator("#needs-review").inner_text()
    assert banner.startswith("Needs review")
    rows = view.locator("#review-files tbody tr")
    assert rows.count() == 2
    unknown = view.locator(f'#review-files tr[data-item="{_files(document)[UNKNOWN]["id"]}"]')
    assert "unknown_layout" in unknown.inner_text()
    assert "piiscan layouts suggest" in unknown.inner_text()
    devices = view.locator("#review-files tr", has_text=DEVICES)
    assert "line 5: " in devices.inner_text() and "report_date" in devices.inner_text()
    # The ingest table's reason cell of the file with a rejected row is no longer empty.
    cell = view.locator("#table-ingest tr", has_text=DEVICES).locator("td").nth(5)
    assert "failed validation" in cell.inner_text() and "line 5" in cell.inner_text()
    assert all(r.startswith("file://") for r in requests)
    view.screenshot(path=str(tmp_path / "review.png"), full_page=True)
    assert (tmp_path / "review.png").stat().st_size > 10_000
