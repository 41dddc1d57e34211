"""Run reports: summaries in the terminal, the HTML in a browser."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from piiscan.cli.app import (
    ConfigOption,
    CustomerFilter,
    JsonOption,
    LakeOption,
    RunOption,
    app,
    console,
    customers_of,
    err,
    fail,
    load,
    load_report,
    plural,
    print_table,
    say,
)
from piiscan.lake import clock
from piiscan.storage import open_lake

if TYPE_CHECKING:
    from piiscan.storage import Storage

report_app = typer.Typer(help="Run reports: the latest per customer, as a summary, JSON or HTML.")
app.add_typer(report_app, name="report")


def _print_summary(storage: Storage, document: dict[str, Any], head: str) -> None:
    """A report's summary: its head line, what needs review, counts, where the HTML is."""
    from piiscan.lake import keys as lake_keys
    from piiscan.report import describe, describe_file, summary

    s = summary(document)
    status = "[red]needs review[/red]" if s["needs_review"] else "[green]nothing to review[/green]"
    console.print(f"{head} · run {document['run_id']} · {status}")
    for item in document["review"]["pending"]:
        console.print(f"  - {escape(describe(item))} (since {item['first_seen']})")
    for item in document["review"].get("files", []):
        console.print(f"  - file {escape(describe_file(item))} (since {item['first_seen']})")
    if s["review_items"]:
        console.print(f"  settle with: piiscan review pending -c {document['customer']}")
    console.print(
        f"  ingest: {plural(s['files_ingested'], 'file')}, {s['files_quarantined']} "
        f"quarantined, {plural(s['rows_rejected'], 'row')} rejected; PII columns: "
        + (", ".join(f"{e} {n}" for e, n in sorted(s["pii_columns_by_entity"].items())) or "none")
    )
    purged = s["purge"]
    kept = ", ".join(f"{r}={n}" for r, n in (purged["rows_kept"] or {}).items()) or "none"
    unread = purged.get("rows_not_due_unread") or 0
    console.print(
        f"  purge: {plural(purged['rows_deleted'] or 0, 'row')} deleted, kept by reason: {kept}"
        + (f"; {plural(unread, 'row')} not yet due (partitions not read)" if unread else "")
    )
    html = storage.uri(lake_keys.report(document["customer"], document["run_id"], "html"))
    console.print(f"  html: {escape(html)}")


@report_app.command("show")
def report_show(
    customer: CustomerFilter = None,
    run: RunOption = None,
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
    as_json: JsonOption = False,
) -> None:
    """Summarise the latest report of each customer: what needs review first, then counts. A
    customer whose newest run failed shows the failure and its last good report (exit 1)."""
    from piiscan.index import failure_after
    from piiscan.lake import keys as lake_keys
    from piiscan.lake.reports import latest_failure, report_keys

    cfg = load(config)
    storage = open_lake(lake)
    shown: list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]] = []
    for customer_id in customers_of(cfg, customer):
        keys = report_keys(storage, customer_id)
        if run is not None:
            if customer is None and not any(run in k for k in keys):
                continue  # a customer without that run
            shown.append((customer_id, load_report(storage, customer_id, run), None))
            continue
        last = latest_failure(storage, customer_id)
        document = None
        if keys or (last is None and customer is not None):  # one customer asked: say none
            document = load_report(storage, customer_id, None)
        failure = failure_after(document, [last] if last else [])
        shown.append((customer_id, document, failure))
    documents = [document for _, document, _ in shown if document is not None]
    failed = [(c, failure) for c, _, failure in shown if failure is not None]
    if as_json:
        chosen: object = documents if customer is None else (documents or [failed[0][1]])[0]
        console.print_json(json.dumps(chosen))
        raise typer.Exit(code=1 if failed else 0)
    if not documents and not failed:
        for customer_id, _, _ in shown:
            say(f"{customer_id} · no report yet")
        err.print(f"no report in {escape(storage.uri(lake_keys.area('reports')))} yet")
        raise typer.Exit(code=1)
    for customer_id, document, failure in shown:
        if failure is not None:
            console.print(
                f"[bold]{customer_id}[/bold] · run {failure['run_id']} · [red]failed[/red] "
                f"{failure['failed_at']}: {escape(failure['reason'])}"
            )
            if document is None:
                say("  no good report yet")
            else:
                _print_summary(storage, document, "  last good report")
        elif document is None:
            say(f"{customer_id} · no report yet")
        else:
            _print_summary(storage, document, f"[bold]{customer_id}[/bold]")
    if failed:
        raise typer.Exit(code=1)


@report_app.command("index")
def report_index(
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
    stale_hours: Annotated[
        int,
        typer.Option(
            "--stale-hours", min=1, help="A latest report older than this many hours is stale."
        ),
    ] = 36,
    as_json: JsonOption = False,
) -> None:
    """Write reports/index.json and index.html (every configured customer: status, latest run,
    failure, recent runs) and print it as a table."""
    from piiscan.errors import PiiscanError
    from piiscan.lake.reports import write_index

    cfg = load(config)
    storage = open_lake(lake)
    try:
        json_key, html_key = write_index(
            storage, [c.id for c in cfg.customers], clock.now(), stale_hours
        )
        index = json.loads(storage.read_bytes(json_key))
    except PiiscanError as exc:
        raise fail(exc) from None
    if as_json:
        console.print_json(json.dumps(index))
        return
    rows = []
    for entry in index["customers"]:
        latest, failure = entry["latest"] or {}, entry["failure"]
        rows.append(
            (
                entry["customer"],
                entry["status"],
                latest.get("run_id", "-"),
                str(latest.get("review_items", "-")),
                f"run {failure['run_id']}: {failure['reason']}" if failure else "-",
            )
        )
    counts = ", ".join(f"{n} {status}" for status, n in index["counts"].items() if n)
    print_table(
        f"report index ({counts or 'no customer'})",
        ("customer", "status", "latest run", "review items", "failure reason"),
        rows,
        empty=f"no customer configured in {config / 'customers.yaml'}",
        whole=("customer", "status", "latest run"),
    )
    say(f"html: {storage.uri(html_key)}")


@report_app.command("open")
def report_open(
    customer: Annotated[str, typer.Option("--customer", "-c", help="The customer.")],
    run: RunOption = None,
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
    print_only: Annotated[
        bool, typer.Option("--print-path", help="Only print the local path of the HTML.")
    ] = False,
) -> None:
    """Open a customer's HTML report in the browser (rendered from the JSON if missing)."""
    import webbrowser

    from piiscan.html import render_html
    from piiscan.lake import keys as lake_keys

    cfg = load(config)
    storage = open_lake(lake)
    document = load_report(storage, customers_of(cfg, customer)[0], run)
    key = lake_keys.report(document["customer"], document["run_id"], "html")
    if lake.startswith("s3://") or not storage.exists(key):
        # A remote or missing page: render the JSON locally (it holds no raw value).
        folder = Path(tempfile.mkdtemp(prefix="piiscan-report-"))
        path = folder / f"{document['customer']}-{document['run_id']}.html"
        path.write_text(render_html(document), encoding="utf-8")
    else:
        path = Path(storage.uri(key))
    console.print(str(path.resolve()))
    if not print_only and not webbrowser.open(path.resolve().as_uri()):
        err.print("no browser available here; open the file above")
