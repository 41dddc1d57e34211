"""Run reports, failure records, the report index and deletion certificates in the lake
(reports/ and certificates/)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from piiscan.certificate import render_html as render_certificate
from piiscan.errors import StorageError
from piiscan.html import render_html
from piiscan.index import RECENT_RUNS, STALE_AFTER_HOURS, CustomerRecords, build_index, render_index
from piiscan.lake import keys
from piiscan.storage import Storage


def report_keys(storage: Storage, customer: str) -> list[str]:
    """The customer's JSON report keys, oldest run first (run ids sort by time); failure
    records and objects being written are not reports."""
    return sorted(
        k
        for k in storage.list(keys.reports(customer))
        if k.endswith(".json") and not keys.is_failure(k) and not keys.is_staging(k)
    )


def read_report(storage: Storage, key: str) -> dict[str, Any]:
    """A report document; StorageError naming the object when it is not a report."""
    try:
        document: dict[str, Any] = json.loads(storage.read_bytes(key))
    except ValueError as exc:
        raise StorageError(storage.uri(key), f"report unreadable: {exc}") from None
    return document


def latest_report(storage: Storage, customer: str) -> dict[str, Any] | None:
    """The customer's latest report, if any."""
    found = report_keys(storage, customer)
    return read_report(storage, found[-1]) if found else None


def previous_report(storage: Storage, customer: str, run_id: str) -> dict[str, Any] | None:
    """The customer's latest report written before run_id, if any."""
    earlier = [k for k in report_keys(storage, customer) if keys.report_run(k) < run_id]
    if not earlier:
        return None
    try:
        return read_report(storage, earlier[-1])
    except StorageError as exc:
        raise StorageError(exc.uri, f"previous report unreadable: {exc.problem}") from None


def write_report(storage: Storage, document: Mapping[str, Any]) -> str:
    """Write a run's JSON report and its HTML rendering beside it; returns the JSON's key."""
    key = keys.report(document["customer"], document["run_id"])
    storage.write_bytes(key, (json.dumps(document, indent=1, default=str) + "\n").encode())
    html_key = keys.report(document["customer"], document["run_id"], "html")
    storage.write_bytes(html_key, render_html(document).encode())
    return key


def failure_keys(storage: Storage, customer: str) -> list[str]:
    """The customer's failure records, oldest run first."""
    return sorted(
        k
        for k in storage.list(keys.reports(customer))
        if keys.is_failure(k) and not keys.is_staging(k)
    )


def latest_failure(storage: Storage, customer: str) -> dict[str, Any] | None:
    """The customer's latest failure record, if any (whether a report came after it or not)."""
    found = failure_keys(storage, customer)
    return read_report(storage, found[-1]) if found else None


def write_failure(
    storage: Storage, customer: str, run_id: str, reason: str, now: datetime
) -> str | None:
    """Record that the customer's run failed and why (reason: PII-free text, failure_reason);
    returns the key, or None when the run wrote its report (a report is never overruled)."""
    if storage.exists(keys.report(customer, run_id)):
        return None
    key = keys.failure(customer, run_id)
    record = {
        "customer": customer,
        "run_id": run_id,
        "failed_at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "reason": reason,
    }
    storage.write_bytes(key, (json.dumps(record, indent=1) + "\n").encode())
    return key


def write_index(
    storage: Storage,
    config_customers: Sequence[str],
    now: datetime,
    stale_after_hours: float = STALE_AFTER_HOURS,
) -> tuple[str, str]:
    """Write reports/index.json and index.html from every configured customer's latest
    RECENT_RUNS reports and its latest failure; returns both keys."""
    records = {}
    for customer in config_customers:
        latest = report_keys(storage, customer)[-RECENT_RUNS:]
        failure = latest_failure(storage, customer)
        records[customer] = CustomerRecords(
            reports=[read_report(storage, k) for k in latest],
            failures=[failure] if failure else [],
        )
    index = build_index(records, now, config_customers, stale_after_hours)
    json_key, html_key = keys.report_index("json"), keys.report_index("html")
    storage.write_bytes(json_key, (json.dumps(index, indent=1) + "\n").encode())
    storage.write_bytes(html_key, render_index(index).encode())
    return json_key, html_key


def certificate_keys(storage: Storage, customer: str) -> list[str]:
    """The customer's certificate JSON keys in the order they were written (date, then -n)."""
    found = [(keys.certificate_number(k), k) for k in storage.list(keys.certificates(customer))]
    return [k for number, k in sorted((n, k) for n, k in found if n is not None)]


def read_certificate(storage: Storage, key: str) -> dict[str, Any]:
    """A certificate document; StorageError naming the object when it is not one."""
    try:
        document: dict[str, Any] = json.loads(storage.read_bytes(key))
    except ValueError as exc:
        raise StorageError(storage.uri(key), f"certificate unreadable: {exc}") from None
    return document


def write_certificate(storage: Storage, certificate: Mapping[str, Any]) -> tuple[str, str]:
    """Write certificates/<customer>/<effective date>.json and .html, or <date>-2, -3... when
    the date has certificates already: one is never written over. Returns both keys."""
    customer, effective = certificate["customer"], certificate["effective_date"]
    taken = [keys.certificate_number(k) for k in certificate_keys(storage, customer)]
    number = 1 + max((n for date, n in (t for t in taken if t) if date == effective), default=0)
    body = (json.dumps(certificate, indent=1) + "\n").encode()
    while True:
        stem = keys.certificate_stem(effective, number)
        json_key = keys.certificate(customer, stem)
        if storage.create(json_key, body):
            break
        number += 1  # written meanwhile by another process (callers hold the customer lock)
    html_key = keys.certificate(customer, stem, "html")
    storage.write_bytes(html_key, render_certificate(dict(certificate)).encode())
    return json_key, html_key


def repair_certificate_pages(storage: Storage, customer: str) -> list[str]:
    """Write the HTML page of every certificate whose page is missing (a run killed between
    the two writes); returns the pages written."""
    written = []
    for json_key in certificate_keys(storage, customer):
        html_key = json_key.removesuffix(".json") + ".html"
        if not storage.exists(html_key):
            page = render_certificate(read_certificate(storage, json_key))
            storage.write_bytes(html_key, page.encode())
            written.append(html_key)
    return written
