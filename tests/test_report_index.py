"""The report index across customers and runs: build_index (pure, `now` injected), failure
records and the index in the lake, `piiscan report index` and `report show` over a real lake,
and index.html in a headless Chromium."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

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
from piiscan.storage import MemoryStorage

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
