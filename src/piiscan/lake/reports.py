"""Run reports and deletion certificates in the lake (reports/ and certificates/)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from piiscan.certificate import render_html as render_certificate
from piiscan.errors import StorageError
from piiscan.html import render_html
from piiscan.lake import keys
from piiscan.storage import Storage


def report_keys(storage: Storage, customer: str) -> list[str]:
    """The customer's JSON report keys, oldest run first (run ids sort by time)."""
    return sorted(k for k in storage.list(keys.reports(customer)) if k.endswith(".json"))


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
