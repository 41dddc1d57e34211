"""The report index across customers and runs: build_index (pure, `now` injected), failure
records and the index in the lake, `piiscan report index` and `report show` over a real lake,
and index.html in a headless Chromium."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from piiscan.cli import app
from piiscan.index import RECENT_RUNS, CustomerRecords, build_index, render_index
from piiscan.lake import keys
from piiscan.lake.reports import (
    failure_keys,
    latest_failure,
    report_keys,
    write_failure,
    write_index,
    write_report,
)
from piiscan.report import build_report
from piiscan.storage import LocalStorage, MemoryStorage
from piiscan.testing.stage import stage_fixtures

from .chromium import opened
from .conftest import CONFIGS
from .pii_values import raw_values
from .test_report_drift import CUSTOMER, Nights

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CUSTOMERS = ["acme", "globex", "initech"]


def run_id(at: datetime, suffix: str = "abc123") -> str:
    return f"{at:%Y%m%dT%H%M%SZ}-{suffix}"


def document(customer: str, at: datetime, review_items: int = 0, **ingest: int) -> dict[str, Any]:
    """A report document as a run writes it (no dataset), review items pending if asked."""
    counts = {"files_ingested": 2, "files_quarantined": 0, "files_skipped": 0, "rows_rejected": 0}
    report = build_report(
        customer,
        run_id(at),
        at,
        ingest={**counts, **ingest, "rows": {}, "files": []},
        datasets={},
        purge={"rows_deleted": 7, "rows_kept": {}, "ledger_seq": 3},
    )
    pending = [
        {"dataset": "devices", "column": f"c{i}", "kinds": ["new_column"], "first_seen": "r"}
        for i in range(review_items)
    ]
    report["review"]["pending"] = pending
    report["needs_review"] = bool(pending)
    return report


def failure(customer: str, at: datetime, reason: str = "StorageError: lake unreachable") -> Any:
    return {"customer": customer, "run_id": run_id(at, "fff000"), "failed_at": at.isoformat(),
            "reason": reason}  # fmt: skip


def entry(index: dict[str, Any], customer: str) -> dict[str, Any]:
    [found] = [c for c in index["customers"] if c["customer"] == customer]
    return found


# -- build_index ---------------------------------------------------------------------------------

HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("records", "status"),
    [
        (CustomerRecords(), "no_report"),
        (CustomerRecords(reports=[document("acme", NOW - HOUR)]), "ok"),
        (CustomerRecords(reports=[document("acme", NOW - HOUR, review_items=2)]), "needs_review"),
        (CustomerRecords(reports=[document("acme", NOW - 37 * HOUR)]), "stale"),
        (CustomerRecords(reports=[document("acme", NOW - 35 * HOUR)]), "ok"),
        (CustomerRecords(failures=[failure("acme", NOW - HOUR)]), "failed"),
        (
            CustomerRecords(
                reports=[document("acme", NOW - 2 * HOUR)], failures=[failure("acme", NOW - HOUR)]
            ),
            "failed",
        ),
        (
            CustomerRecords(
                reports=[document("acme", NOW - HOUR)], failures=[failure("acme", NOW - 2 * HOUR)]
            ),
            "ok",
        ),
        (
            CustomerRecords(
                reports=[document("acme", NOW - 40 * HOUR, review_items=1)],
                failures=[failure("acme", NOW - 50 * HOUR)],
            ),
            "stale",
        ),
    ],
    ids=[
        "nothing: no_report",
        "fresh report: ok",
        "review items pending: needs_review",
        "report older than 36 h: stale",
        "report 35 h old: still ok",
        "only a failure: failed",
        "failure newer than the report: failed",
        "failure older than the report: ok",
        "old report, older failure: stale",
    ],
)
def test_status_of_a_customer(records: CustomerRecords, status: str) -> None:
    index = build_index({"acme": records}, NOW, ["acme"])
    assert entry(index, "acme")["status"] == status
    assert index["counts"][status] == 1 and sum(index["counts"].values()) == 1


def test_stale_after_hours_can_be_set() -> None:
    records = {"acme": CustomerRecords(reports=[document("acme", NOW - 5 * HOUR)])}
    assert entry(build_index(records, NOW, ["acme"], stale_after_hours=4), "acme")["status"] == (
        "stale"
    )
    assert entry(build_index(records, NOW, ["acme"]), "acme")["status"] == "ok"


def test_a_failure_newer_than_the_latest_report_is_shown_and_an_older_one_is_not() -> None:
    report = document("acme", NOW - 2 * HOUR, review_items=1)
    newer = build_index(
        {"acme": CustomerRecords([report], [failure("acme", NOW - HOUR, "SchemaError: x")])},
        NOW,
        ["acme"],
    )
    acme = entry(newer, "acme")
    assert acme["failure"] == {
        "run_id": run_id(NOW - HOUR, "fff000"),
        "failed_at": (NOW - HOUR).isoformat(),
        "reason": "SchemaError: x",
    }
    assert acme["latest"]["run_id"] == report["run_id"]  # the last good report stays linked
    older = build_index(
        {"acme": CustomerRecords([report], [failure("acme", NOW - 3 * HOUR)])}, NOW, ["acme"]
    )
    assert entry(older, "acme")["failure"] is None
    assert entry(older, "acme")["status"] == "needs_review"


def test_latest_run_carries_the_summary_counts_and_a_relative_link() -> None:
    report = document("globex", NOW - HOUR, review_items=2, files_quarantined=3, rows_rejected=9)
    index = build_index({"globex": CustomerRecords([report])}, NOW, ["globex"])
    assert entry(index, "globex")["latest"] == {
        "run_id": report["run_id"],
        "generated_at": report["generated_at"],
        "needs_review": True,
        "review_items": 2,
        "files_quarantined": 3,
        "rows_rejected": 9,
        "rows_deleted": 7,
        "html": f"globex/{report['run_id']}.html",
    }


def test_recent_runs_are_the_ten_latest_newest_first() -> None:
    reports = [document("acme", NOW - (12 - n) * HOUR) for n in range(12)]
    index = build_index({"acme": CustomerRecords(list(reversed(reports)))}, NOW, ["acme"])
    recent = entry(index, "acme")["recent_runs"]
    assert len(recent) == RECENT_RUNS == 10
    assert [r["run_id"] for r in recent] == [r["run_id"] for r in reversed(reports[2:])]
    assert set(recent[0]) == {"run_id", "generated_at", "needs_review", "review_items", "html"}
    assert entry(index, "acme")["latest"]["run_id"] == reports[-1]["run_id"]


def test_every_configured_customer_in_order_with_counts_per_status_on_top() -> None:
    records = {
        "initech": CustomerRecords([document("initech", NOW - HOUR)]),
        "unconfigured": CustomerRecords([document("unconfigured", NOW - HOUR)]),
    }
    index = build_index(records, NOW, CUSTOMERS)
    assert [c["customer"] for c in index["customers"]] == CUSTOMERS
    assert index["index_version"] == 1 and index["generated_at"] == "2026-12-01T12:00:00+00:00"
    assert index["counts"] == {
        "failed": 0,
        "stale": 0,
        "needs_review": 0,
        "ok": 1,
        "no_report": 2,
    }


def test_render_index_escapes_and_links_relatively() -> None:
    records = {
        "acme": CustomerRecords([document("acme", NOW - HOUR)]),
        "globex": CustomerRecords(failures=[failure("globex", NOW, "SchemaError: <b>bad</b>")]),
    }
    page = render_index(build_index(records, NOW, CUSTOMERS))
    assert page.startswith("<!doctype html>")
    assert f'href="acme/{run_id(NOW - HOUR)}.html"' in page
    assert "&lt;b&gt;bad&lt;/b&gt;" in page and "<b>bad</b>" not in page
    assert "http://" not in page and "https://" not in page


# -- the lake: failure records and the index -----------------------------------------------------


def test_failure_records_sit_beside_reports_and_are_not_reports() -> None:
    storage = MemoryStorage()
    write_report(storage, document("acme", NOW - HOUR))
    key = write_failure(storage, "acme", run_id(NOW, "fff000"), "StorageError: gone", NOW)
    assert (
        key
        == f"reports/acme/{run_id(NOW, 'fff000')}.failed.json"
        == keys.failure("acme", run_id(NOW, "fff000"))
    )
    assert keys.is_failure(key) and not keys.is_failure(keys.report("acme", "r1"))
    assert keys.report_run(key) == run_id(NOW, "fff000")
    assert report_keys(storage, "acme") == [keys.report("acme", run_id(NOW - HOUR))]
    assert failure_keys(storage, "acme") == [key]
    assert latest_failure(storage, "acme") == {
        "customer": "acme",
        "run_id": run_id(NOW, "fff000"),
        "failed_at": "2026-12-01T12:00:00+00:00",
        "reason": "StorageError: gone",
    }


def test_a_failure_never_overrules_the_report_of_its_run() -> None:
    storage = MemoryStorage()
    report = document("acme", NOW)
    write_report(storage, report)
    assert write_failure(storage, "acme", report["run_id"], "late failure", NOW) is None
    assert failure_keys(storage, "acme") == []


def test_write_index_writes_json_and_html_in_reports() -> None:
    storage = MemoryStorage()
    for hours in range(12, 0, -1):
        write_report(storage, document("acme", NOW - hours * HOUR))
    write_failure(storage, "globex", run_id(NOW), "CustomerFailed: x", NOW)
    json_key, html_key = write_index(storage, CUSTOMERS, NOW)
    assert (json_key, html_key) == ("reports/index.json", "reports/index.html")
    assert (json_key, html_key) == (keys.report_index("json"), keys.report_index("html"))
    index = json.loads(storage.read_bytes(json_key))
    assert [c["status"] for c in index["customers"]] == ["ok", "failed", "no_report"]
    assert len(entry(index, "acme")["recent_runs"]) == RECENT_RUNS
    assert storage.read_bytes(html_key).decode().startswith("<!doctype html>")
    assert report_keys(storage, "acme")[-1] == keys.report("acme", run_id(NOW - HOUR))


# -- over a real lake: the CLI, the page in a browser, the nightly flow --------------------------

FAILED_RUN = "20261121T020000Z-dead01"
FAILED_AT = datetime(2026, 11, 21, 2, 5, tzinfo=UTC)
LATER = "2026-11-21T12:00:00Z"  # the day of initech's second night: its report is fresh


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory, fixture_tree: Path) -> Nights:
    """initech: two real nights (reports); globex: a failed run, no report; acme: nothing."""
    nights = Nights(tmp_path_factory.mktemp("index"), fixture_tree)
    nights.run()
    nights.run()
    write_failure(nights.storage, "globex", FAILED_RUN, "StorageError: lake unreachable", FAILED_AT)
    return nights


def cli(nights: Nights, *args: str) -> Any:
    common = ["--lake", str(nights.lake), "--config", str(nights.configs)]
    return CliRunner().invoke(app, [*args, *common])


@pytest.mark.integration
def test_report_index_writes_the_page_and_prints_every_customer(
    nights: Nights, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIISCAN_NOW", LATER)
    result = cli(nights, "report", "index")
    assert result.exit_code == 0, result.output
    latest = report_keys(nights.storage, CUSTOMER)[-1]
    lines = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line}
    assert lines["customer"] == ["customer", "status", "latest", "run", "review", "items",
                                 "failure", "reason"]  # fmt: skip
    assert lines["acme"] == ["acme", "no_report", "-", "-", "-"]
    assert lines["globex"] == ["globex", "failed", "-", "-", "run", f"{FAILED_RUN}:",
                               "StorageError:", "lake", "unreachable"]  # fmt: skip
    assert lines[CUSTOMER] == [CUSTOMER, "ok", keys.report_run(latest), "0", "-"]  # id uncut
    page = nights.lake / "reports" / "index.html"
    assert f"html: {page}" in result.stdout
    assert page.is_file() and (nights.lake / "reports" / "index.json").is_file()


@pytest.mark.integration
def test_report_index_json_and_stale_hours(nights: Nights) -> None:
    # The pinned clock (2026-11-28) is a week after initech's last night: its report is stale.
    stale = json.loads(cli(nights, "report", "index", "--json").stdout)
    assert {c["customer"]: c["status"] for c in stale["customers"]} == {
        "acme": "no_report",
        "globex": "failed",
        CUSTOMER: "stale",
    }
    assert stale["counts"] == {"failed": 1, "stale": 1, "needs_review": 0, "ok": 0, "no_report": 1}
    assert stale["generated_at"] == "2026-11-28T09:00:00+00:00"
    initech = entry(stale, CUSTOMER)
    assert [r["run_id"] for r in initech["recent_runs"]] == [
        keys.report_run(k) for k in reversed(report_keys(nights.storage, CUSTOMER))
    ]
    assert entry(stale, "globex")["failure"] == {
        "run_id": FAILED_RUN,
        "failed_at": "2026-11-21T02:05:00+00:00",
        "reason": "StorageError: lake unreachable",
    }
    week = json.loads(cli(nights, "report", "index", "--json", "--stale-hours", "200").stdout)
    assert entry(week, CUSTOMER)["status"] == "ok" and week["stale_after_hours"] == 200
    on_disk = json.loads((nights.lake / "reports" / "index.json").read_text())
    assert on_disk == week
    values = raw_values(nights.lake)
    text = json.dumps(on_disk) + (nights.lake / "reports" / "index.html").read_text()
    assert values and not [v for v in values if v in text]


@pytest.mark.integration
def test_report_show_exits_1_after_a_failure_and_lists_customers_without_a_report(
    nights: Nights,
) -> None:
    shown = cli(nights, "report", "show")
    assert shown.exit_code == 1, shown.output
    out = shown.stdout
    assert "acme · no report yet" in out
    assert (
        f"globex · run {FAILED_RUN} · failed 2026-11-21T02:05:00+00:00: StorageError: lake"
        " unreachable\n  no good report yet" in out
    )
    assert f"{CUSTOMER} · run {keys.report_run(report_keys(nights.storage, CUSTOMER)[-1])}" in out
    alone = cli(nights, "report", "show", "--customer", CUSTOMER)
    assert alone.exit_code == 0, alone.output
    failed = cli(nights, "report", "show", "--customer", "globex", "--json")
    assert failed.exit_code == 1 and json.loads(failed.stdout)["reason"].startswith("Storage")


@pytest.mark.integration
def test_report_show_names_the_last_good_report_of_a_customer_whose_newest_run_failed(
    tmp_path: Path,
) -> None:
    storage = LocalStorage(tmp_path / "lake")
    good = document("acme", NOW - 2 * HOUR)
    write_report(storage, good)
    write_failure(storage, "acme", run_id(NOW - HOUR, "bad000"), "SchemaError: no header", NOW)
    result = CliRunner().invoke(
        app, ["report", "show", "--lake", str(tmp_path / "lake"), "--config", str(CONFIGS)]
    )
    assert result.exit_code == 1, result.output
    assert f"acme · run {run_id(NOW - HOUR, 'bad000')} · failed" in result.stdout
    assert f"  last good report · run {good['run_id']} · nothing to review" in result.stdout
    assert "globex · no report yet" in result.stdout and "initech · no report yet" in result.stdout
    write_report(storage, document("acme", NOW + HOUR))  # the next night went well
    again = CliRunner().invoke(
        app, ["report", "show", "--lake", str(tmp_path / "lake"), "--config", str(CONFIGS)]
    )
    assert again.exit_code == 0 and "failed" not in again.stdout


@pytest.mark.integration
def test_the_index_page_shows_badges_and_links_to_existing_reports(
    nights: Nights, browser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIISCAN_NOW", LATER)
    assert cli(nights, "report", "index").exit_code == 0
    page = nights.lake / "reports" / "index.html"
    with opened(browser, page) as (view, requests):
        badges = {
            c: view.locator(f"#table-customers tr[data-customer='{c}'] .badge").inner_text()
            for c in ("acme", "globex", CUSTOMER)
        }
        assert badges == {"acme": "no report", "globex": "failed", CUSTOMER: "ok"}
        assert view.locator("#count-failed b").inner_text() == "1"
        assert (
            "StorageError: lake unreachable"
            in view.locator("#table-customers tr[data-customer='globex'] td.failure").inner_text()
        )
        assert view.locator("table.runs[data-customer='initech'] tbody tr").count() == 2
        link = view.locator(f"#table-customers tr[data-customer='{CUSTOMER}'] a.latest")
        href = link.get_attribute("href")
        latest = keys.report_run(report_keys(nights.storage, CUSTOMER)[-1])
        assert href == f"{CUSTOMER}/{latest}.html"  # relative: works from disk and from S3
        assert (page.parent / href).is_file()
        assert requests == [page.as_uri()]  # nothing left the page
        policy = view.locator("meta[http-equiv='Content-Security-Policy']").get_attribute("content")
        assert policy is not None and "default-src 'none'" in policy
        link.click()
        view.wait_for_load_state("load")
        assert view.url == (page.parent / href).as_uri()
        assert view.locator("header h1").inner_text() == f"piiscan report · {CUSTOMER}"


def _artifact(key: str) -> str:
    """The latest data of a Prefect artifact, read back from the (temporary) server."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
            sort=ArtifactSort.CREATED_DESC,
            limit=1,
        )
    assert found, f"no artifact {key}"
    return str(found[0].data)


@pytest.mark.integration
def test_the_nightly_records_a_failed_customer_and_refreshes_the_index(
    fixture_tree: Path, tmp_path: Path
) -> None:
    from flows.nightly import nightly

    lake = tmp_path / "lake"
    stage_fixtures(LocalStorage(lake), fixture_tree)
    (lake / "state" / "ingested").mkdir(parents=True)
    (lake / "state" / "ingested" / "globex.json").write_text("{broken")
    state = nightly(lake=str(lake), config_dir=str(CONFIGS), return_state=True)
    assert state.is_failed()
    [record] = (lake / "reports" / "globex").glob("*.failed.json")
    failure = json.loads(record.read_text())
    assert failure["reason"].startswith("StorageError") and "not valid JSON" in failure["reason"]
    assert failure["failed_at"] == "2026-11-28T09:00:00+00:00"
    index = json.loads((lake / "reports" / "index.json").read_text())
    assert {c["customer"]: c["status"] for c in index["customers"]} == {
        "acme": "needs_review",  # its damaged carrier files are review items
        "globex": "failed",
        "initech": "ok",
    }
    assert entry(index, "globex")["failure"]["run_id"] == failure["run_id"]
    assert str(lake / "reports" / "index.html") in _artifact("report-index")
    assert entry(index, "acme")["latest"]["html"] in _artifact("report-acme")
