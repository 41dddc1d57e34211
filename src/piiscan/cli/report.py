"""Run reports: summaries in the terminal, the HTML in a browser."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated

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
    load,
    load_report,
    plural,
)
from piiscan.storage import open_lake

report_app = typer.Typer(help="Run reports: the latest per customer, as a summary, JSON or HTML.")
app.add_typer(report_app, name="report")


@report_app.command("show")
def report_show(
    customer: CustomerFilter = None,
    run: RunOption = None,
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
    as_json: JsonOption = False,
) -> None:
    """Summarise the latest report of each customer: what needs review first, then counts."""
    from piiscan.lake import keys as lake_keys
    from piiscan.lake.reports import report_keys
    from piiscan.report import describe, describe_file, summary

    cfg = load(config)
    storage = open_lake(lake)
    documents = []
    for customer_id in customers_of(cfg, customer):
        keys = report_keys(storage, customer_id)
        if customer is None and not (keys if run is None else any(run in k for k in keys)):
            continue  # a customer without that run (or without any run yet)
        documents.append(load_report(storage, customer_id, run))
    if as_json:
        console.print_json(json.dumps(documents if customer is None else documents[0]))
        return
    if not documents:
        err.print(f"no report in {escape(storage.uri(lake_keys.area('reports')))} yet")
        raise typer.Exit(code=1)
    for document in documents:
        s = summary(document)
        status = (
            "[red]needs review[/red]" if s["needs_review"] else "[green]nothing to review[/green]"
        )
        console.print(f"[bold]{document['customer']}[/bold] · run {document['run_id']} · {status}")
        for item in document["review"]["pending"]:
            console.print(f"  - {escape(describe(item))} (since {item['first_seen']})")
        for item in document["review"].get("files", []):
            console.print(f"  - file {escape(describe_file(item))} (since {item['first_seen']})")
        if s["review_items"]:
            console.print(f"  settle with: piiscan review pending -c {document['customer']}")
        console.print(
            f"  ingest: {plural(s['files_ingested'], 'file')}, {s['files_quarantined']} "
            f"quarantined, {plural(s['rows_rejected'], 'row')} rejected; PII columns: "
            + (
                ", ".join(f"{e} {n}" for e, n in sorted(s["pii_columns_by_entity"].items()))
                or "none"
            )
        )
        purged = s["purge"]
        kept = ", ".join(f"{r}={n}" for r, n in (purged["rows_kept"] or {}).items()) or "none"
        console.print(
            f"  purge: {plural(purged['rows_deleted'] or 0, 'row')} deleted, kept by reason: {kept}"
        )
        html = storage.uri(lake_keys.report(document["customer"], document["run_id"], "html"))
        console.print(f"  html: {escape(html)}")


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
