"""The HTML report in a real headless Chromium (Debian's `chromium`, driven by Playwright).

The page comes from a real run that needs review (a new column of e-mails); the browser shows
the summary first, the tables sort and filter, and no request leaves the page.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from .chromium import opened
from .test_report_drift import CUSTOMER, Nights

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, fixture_tree: Path) -> Path:
    """The HTML of a run that flagged a new column of e-mails."""
    nights = Nights(tmp_path_factory.mktemp("html"), fixture_tree)
    nights.run()
    extract = pl.read_parquet(nights.extract)
    emails = [f"person{i}@{CUSTOMER}.example.com" for i in range(extract.height)]
    nights.land(
        extract.with_columns(pl.Series("contact_email", emails), pl.col("charge") * 2),
        "tem_invoice_lines_202611.parquet",
    )
    document = nights.run()
    assert document["needs_review"]
    return nights.lake / "reports" / CUSTOMER / f"{document['run_id']}.html"


@pytest.fixture
def page(browser: Any, report: Path) -> Iterator[tuple[Any, list[str]]]:
    with opened(browser, report) as loaded:
        yield loaded


def test_summary_comes_first_and_says_what_needs_review(page: tuple[Any, list[str]]) -> None:
    view, _ = page
    status = view.locator("#needs-review")
    assert status.inner_text() == "Needs review: 1 item(s)"
    first = view.locator("main section").first
    assert first.get_attribute("id") == "summary"
    items = view.locator("#review-items tbody tr")
    assert items.count() == 1
    assert "extras.contact_email" in items.first.inner_text()
    assert "new column, EMAIL_ADDRESS" in items.first.inner_text()
    assert view.locator("#charts figure").count() == 3
    assert "invoice_lines" in view.locator("#charts svg").first.inner_html()


def test_dataset_tables_highlight_changes_filter_and_sort(page: tuple[Any, list[str]]) -> None:
    view, _ = page
    table = view.locator("#table-invoice_lines")
    changed = table.locator("tbody tr.changed")
    assert changed.count() == 1
    assert changed.first.get_attribute("data-column") == "extras.contact_email"
    visible = table.locator("tbody tr:visible")
    shown = {visible.nth(i).get_attribute("data-column") for i in range(visible.count())}
    assert {"wireless_number", "user_name", "employee_id", "extras.contact_email"} <= shown
    assert "charge" not in shown  # columns without personal data wait behind the toggle

    view.locator("input[data-table='table-invoice_lines']").check()
    total = table.locator("tbody tr")
    assert table.locator("tbody tr:visible").count() == total.count() > len(shown)

    view.locator("#table-invoice_lines th", has_text="confidence").click()
    cells = table.locator("tbody td:nth-child(3)")
    values = [float(cells.nth(i).get_attribute("data-sort")) for i in range(cells.count())]
    assert values == sorted(values) and values[0] < values[-1]
    view.locator("#table-invoice_lines th", has_text="confidence").click()
    values = [float(cells.nth(i).get_attribute("data-sort")) for i in range(cells.count())]
    assert values == sorted(values, reverse=True)


def test_no_request_leaves_the_page(page: tuple[Any, list[str]], report: Path) -> None:
    view, requests = page
    view.locator("#table-ingest th", has_text="rows").click()  # scripts ran, still nothing
    assert requests == [report.as_uri()]
    external = view.evaluate(
        """() => Array.from(document.querySelectorAll('[src], [href]'))
              .map(e => e.getAttribute('src') || e.getAttribute('href'))"""
    )
    assert external == []
    policy = view.locator("meta[http-equiv='Content-Security-Policy']").get_attribute("content")
    assert policy is not None and "default-src 'none'" in policy


def test_screenshot_renders(page: tuple[Any, list[str]], tmp_path: Path) -> None:
    view, _ = page
    shot = tmp_path / "report.png"
    view.screenshot(path=str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_the_retention_table_accounts_for_partitions_not_read(
    page: tuple[Any, list[str]], report: Path
) -> None:
    view, _ = page
    document = json.loads(report.with_suffix(".json").read_text())
    unread = document["purge"]["rows_not_due_unread"]
    assert unread > 0 and document["purge"]["partitions_skipped_unread"] > 0
    row = view.locator('#table-purge tr[data-reason="unread"]')
    assert row.locator("td").nth(1).inner_text() == str(unread)
    assert "counted from the Parquet footers" in row.inner_text()
    assert "not due (unread)" in view.locator("#charts figure").nth(1).inner_html()
