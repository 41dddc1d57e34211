"""The report index: one page across every customer and run, `reports/index.json` and `.html`.

Per configured customer its latest run (counts from `report.summary`), its last failure when
that is newer than the latest report, a status and its recent runs. Links are relative to
reports/ (`<customer>/<run id>.html`), so the folder works from disk and from S3 alike. Like the
reports it is built from, it holds counts, names and PII-free failure reasons, never a value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from piiscan.html import environment
from piiscan.report import summary

INDEX_VERSION = 1
RECENT_RUNS = 10  # runs listed per customer
STALE_AFTER_HOURS = 36  # a nightly customer whose latest report is older has missed a night
# Worst first: a failure hides everything else, an old report hides an old review.
STATUSES = ("failed", "stale", "needs_review", "ok", "no_report")


@dataclass(frozen=True)
class CustomerRecords:
    """What the lake holds for one customer: report documents and failure records, any order."""

    reports: Sequence[Mapping[str, Any]] = ()
    failures: Sequence[Mapping[str, Any]] = ()


def _at(stamp: str) -> datetime:
    """An ISO time of a report or failure record (UTC when it names no offset)."""
    when = datetime.fromisoformat(stamp)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def report_link(customer: str, run_id: str) -> str:
    """A run's HTML report, relative to reports/."""
    return f"{customer}/{run_id}.html"


def _run(document: Mapping[str, Any]) -> dict[str, Any]:
    """A report as one line of the index."""
    counts = summary(document)
    return {
        "run_id": document["run_id"],
        "generated_at": document["generated_at"],
        "needs_review": counts["needs_review"],
        "review_items": counts["review_items"],
        "files_quarantined": counts["files_quarantined"],
        "rows_rejected": counts["rows_rejected"],
        "rows_deleted": int(counts["purge"]["rows_deleted"] or 0),
        "html": report_link(document["customer"], document["run_id"]),
    }


def failure_after(
    latest: Mapping[str, Any] | None, failures: Sequence[Mapping[str, Any]]
) -> dict[str, Any] | None:
    """The last failure (run_id, failed_at, reason) when it is newer than the latest report
    (by time, then run id), else None: a report written since means the customer recovered."""
    if not failures:
        return None
    last = max(failures, key=lambda f: (_at(f["failed_at"]), f["run_id"]))
    if latest is not None and (_at(last["failed_at"]), last["run_id"]) <= (
        _at(latest["generated_at"]),
        latest["run_id"],
    ):
        return None
    return {k: last[k] for k in ("run_id", "failed_at", "reason")}


def _customer(
    customer: str, records: CustomerRecords, now: datetime, stale_after: timedelta
) -> dict[str, Any]:
    """One customer's entry: latest run, newer failure, status, recent runs."""
    runs = sorted(records.reports, key=lambda d: (_at(d["generated_at"]), d["run_id"]))
    latest = _run(runs[-1]) if runs else None
    failure = failure_after(latest, records.failures)
    if failure is not None:
        status = "failed"
    elif latest is None:
        status = "no_report"
    elif now - _at(latest["generated_at"]) > stale_after:
        status = "stale"
    else:
        status = "needs_review" if latest["needs_review"] else "ok"
    recent = [
        {k: run[k] for k in ("run_id", "generated_at", "needs_review", "review_items", "html")}
        for run in map(_run, reversed(runs[-RECENT_RUNS:]))
    ]
    return {
        "customer": customer,
        "status": status,
        "latest": latest,
        "failure": failure,
        "recent_runs": recent,
    }


def build_index(
    records: Mapping[str, CustomerRecords],
    now: datetime,
    configured_customers: Sequence[str],
    stale_after_hours: float = STALE_AFTER_HOURS,
) -> dict[str, Any]:
    """The index document: per configured customer (in configured order) its status, latest
    run, newer failure and RECENT_RUNS latest runs (newest first); counts per status on top."""
    stale_after = timedelta(hours=stale_after_hours)
    customers = [
        _customer(c, records.get(c, CustomerRecords()), now, stale_after)
        for c in configured_customers
    ]
    counts = {status: 0 for status in STATUSES}
    for entry in customers:
        counts[entry["status"]] += 1
    return {
        "index_version": INDEX_VERSION,
        "generated_at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "stale_after_hours": stale_after_hours,
        "counts": counts,
        "customers": customers,
    }


def render_index(index: Mapping[str, Any]) -> str:
    """The index document as one self-contained HTML page (relative links, no request)."""
    template = environment().get_template("index.html.j2")
    return template.render(index=index, statuses=STATUSES)
