"""The `piiscan` command line."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from piiscan.errors import PiiscanError
from piiscan.lake import clock
from piiscan.lake import keys as lake_keys
from piiscan.lake.keys import new_run_id
from piiscan.lake.reports import read_report, report_keys
from piiscan.pipeline.ingest import collect_files, ingest_paths
from piiscan.policy import Config, load_config
from piiscan.schema import DATASET_NAMES
from piiscan.storage import Storage, open_lake
from piiscan.types import IngestSummary

app = typer.Typer(
    name="piiscan",
    help="Find, pseudonymize and retire personal data in telecom expense data.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

LakeOption = Annotated[
    str,
    typer.Option(
        "--lake", envvar="PIISCAN_LAKE", help="Lake root: a folder or s3://bucket/prefix."
    ),
]
ConfigOption = Annotated[
    Path,
    typer.Option("--config", envvar="PIISCAN_CONFIG", help="Folder holding customers.yaml etc."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the machine-readable summary.")]


def _fail(error: PiiscanError) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(str(error))}")
    return typer.Exit(code=2)


def _config(path: Path) -> Config:
    try:
        return load_config(path)
    except PiiscanError as exc:
        raise _fail(exc) from None


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[item]}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


def _print_ingest(summary: IngestSummary) -> None:
    table = Table(title=f"ingest {summary.customer} · run {summary.run_id}")
    for column in ("file", "status", "layouts", "rows", "rejected", "reason"):
        table.add_column(column)
    for result in summary.files:
        rows = ", ".join(f"{d}={n}" for d, n in result.rows.items())
        table.add_row(
            escape(result.file),
            result.status,
            ", ".join(result.layouts),
            rows,
            str(result.rows_rejected or ""),
            escape(result.reason or ""),
        )
    console.print(table)
    console.print(
        f"{summary.count('ingested')} ingested, {summary.count('quarantined')} quarantined, "
        f"{summary.count('skipped')} skipped; rows {summary.rows}; "
        f"{summary.rows_rejected} row(s) rejected"
    )


@app.command()
def ingest(
    paths: Annotated[
        list[Path], typer.Argument(help="Carrier files or folders of them.", exists=True)
    ],
    customer: Annotated[
        str, typer.Option("--customer", "-c", help="Customer the files belong to.")
    ],
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
    as_json: JsonOption = False,
) -> None:
    """Ingest delivered carrier files into the restricted zone (bad files go to quarantine)."""
    cfg = _config(config)
    try:
        who = cfg.customer(customer)
        storage = open_lake(lake)
        files = collect_files(paths)
        with _progress() as progress:
            task = progress.add_task("ingest", total=len(files), item="")

            def step(name: str) -> None:
                progress.update(task, advance=1, item=name)

            summary = ingest_paths(storage, who, files, new_run_id(clock.now()), step)
    except PiiscanError as exc:
        raise _fail(exc) from None
    if as_json:
        console.print_json(json.dumps(summary.as_json()))
    else:
        _print_ingest(summary)
    if summary.count("quarantined"):
        folder = storage.uri(lake_keys.quarantine(who.id, summary.run_id))
        err.print(f"quarantined files are under {folder}")


@app.command()
def scan(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files (CSV/TSV/pipe/XLSX/Parquet/zip) or folders; none: the lake."),
    ] = None,
    sample: Annotated[
        int, typer.Option("--sample", help="Distinct values sampled per column.")
    ] = 200,
    customer: Annotated[
        str | None,
        typer.Option("--customer", "-c", help="Use this customer's employee-ID patterns."),
    ] = None,
    zone: Annotated[
        str, typer.Option(help="Lake zone scanned when no path is given.")
    ] = "restricted",
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
    as_json: JsonOption = False,
) -> None:
    """Classify every column: PII entity, confidence, masked evidence and the policy action."""
    from piiscan.pipeline.scan import scan_lake
    from piiscan.scan import Scanner

    cfg = _config(config)
    try:
        detector = _detector(cfg, customer, sample)
    except PiiscanError as exc:
        raise _fail(exc) from None
    scanner = Scanner(detector)
    try:
        if paths:
            found = scanner.scan(list(paths))
        else:
            storage = open_lake(lake)
            found = scan_lake(scanner, storage, zone)
            if not found:
                raise PiiscanError(f"nothing to scan: no datasets under {storage.uri(zone)}")
    except PiiscanError as exc:
        raise _fail(exc) from None
    results = _reviewed(cfg, customer, found)
    if as_json:
        console.print_json(json.dumps({"files": [r.as_json() for r in results]}))
        return
    for result in results:
        title = f"{result.path}  ·  {result.dataset or 'unknown dataset'}  ·  {result.rows} rows"
        if result.error:
            console.print(f"[bold]{escape(result.path)}[/bold]: [red]{escape(result.error)}[/red]")
            continue
        table = Table(title=escape(title), title_justify="left")
        for column in ("column", "entity", "confidence", "action", "evidence"):
            table.add_column(column)
        for finding in result.columns:
            if finding.entity is None:
                continue
            shown = ", ".join(finding.evidence.get("examples", [])) or ", ".join(
                finding.evidence.get("entities", {})
            )
            table.add_row(
                escape(finding.name),
                finding.entity,
                f"{finding.confidence:.2f}",
                finding.action,
                escape(shown),
            )
        console.print(table)
        clean = sum(1 for f in result.columns if f.entity is None)
        console.print(f"  {clean} column(s) without personal data")


def _reviewed(cfg: Config, customer: str | None, results: list[Any]) -> list[Any]:
    """Scan results with the reviewers' overrides applied: by layout for carrier files, by
    dataset for lake datasets; without --customer only the overrides for '*' apply."""
    from dataclasses import replace

    from piiscan.review import apply_overrides

    actions = {str(entity): str(action) for entity, action in cfg.actions.items()}
    reviewed = []
    for result in results:
        dataset = None if result.layout else result.dataset
        overrides = cfg.overrides_for(customer, dataset, result.layout)
        columns = tuple(apply_overrides(result.columns, overrides, actions))
        reviewed.append(replace(result, columns=columns) if overrides else result)
    return reviewed


def _detector(cfg: Config, customer: str | None, sample: int = 200) -> Any:
    from piiscan.detect import Detector, Settings
    from piiscan.nlp import Engines

    patterns = cfg.employee_id_patterns(customer)
    actions = {str(entity): str(action) for entity, action in cfg.actions.items()}
    return Detector(
        Settings(sample_size=sample),
        employee_id_patterns=patterns,
        actions=actions,
        models=Engines(patterns),
    )


@app.command()
def pseudonymize(
    customer: Annotated[str, typer.Option("--customer", "-c", help="Customer to pseudonymize.")],
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
    keys: Annotated[
        Path | None, typer.Option(help="Folder of key files (default PIISCAN_KEYS_DIR or ./keys).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Write the analytics zone for a customer: tokens, drops and masks per column policy."""
    from piiscan.lake.keyring import load_key
    from piiscan.pipeline.nightly import detect_datasets, pseudonymize_customer

    cfg = _config(config)
    try:
        cfg.customer(customer)
        key = load_key(customer, keys)
        storage = open_lake(lake)
        findings = detect_datasets(storage, customer, _detector(cfg, customer), cfg)
        results = pseudonymize_customer(storage, cfg, customer, key, findings)
    except PiiscanError as exc:
        raise _fail(exc) from None
    if as_json:
        body = [
            {
                "dataset": r.dataset,
                "files": r.files,
                "rows": r.rows,
                "columns": {p.column: p.action for p in r.columns},
            }
            for r in results
        ]
        console.print_json(
            json.dumps({"customer": customer, "key_version": key.version, "datasets": body})
        )
        return
    table = Table(title=f"pseudonymize {customer} (key {key.version})")
    for column in ("dataset", "files", "rows", "hmac", "dropped", "masked/generalized"):
        table.add_column(column)
    for r in results:
        by = {
            a: ", ".join(p.column for p in r.columns if p.action == a)
            for a in ("hmac", "drop", "mask", "generalize")
        }
        table.add_row(
            r.dataset,
            str(r.files),
            str(r.rows),
            by["hmac"],
            by["drop"],
            ", ".join(x for x in (by["mask"], by["generalize"]) if x),
        )
    console.print(table)
    console.print(f"analytics zone: {storage.uri('analytics')}")


keys_app = typer.Typer(help="Create and rotate per-customer pseudonymization keys.")
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(
    customer: Annotated[str, typer.Option("--customer", "-c")],
    keys: Annotated[Path | None, typer.Option(help="Folder of key files.")] = None,
    rotate: Annotated[bool, typer.Option(help="Add a new version and make it current.")] = False,
) -> None:
    """Create a customer's key file (never printed), or rotate it with --rotate."""
    from piiscan.lake.keyring import create_key, load_key

    path = create_key(customer, keys, rotate=rotate)
    console.print(f"{path}: current version {load_key(customer, path.parent).version}")


def _plan_table(plan: Any) -> None:
    data = plan.as_json()
    table = Table(
        title=f"purge plan {plan.customer} as of {plan.as_of} (policy {plan.policy_version})"
    )
    for column in ("zone", "dataset", "period", "action", "rows", "delete", "kept (why)"):
        table.add_column(column)
    for f in data["files"]:
        kept = ", ".join(f"{d}={n}" for d, n in f["decisions"].items() if d != "delete")
        table.add_row(
            f["zone"],
            f["dataset"],
            f["period"],
            f["action"],
            str(f["rows"]),
            str(f["decisions"].get("delete", 0)),
            kept,
        )
    console.print(table)
    console.print(
        f"{data['rows_deleted']} row(s) to delete; kept by reason {data['rows_kept']}; "
        f"{len(data['other_objects'])} landing/quarantine/report object(s) past their period; "
        f"{data['partitions_read']} partition(s) read, {data['partitions_skipped_unread']} "
        "skipped unread"
    )
    for reason, why in data["reasons"].items():
        console.print(f"  {reason}: {why}")


def _key_or_none(customer: str, keys: Path | None) -> Any:
    from piiscan.lake.keyring import load_key

    try:
        return load_key(customer, keys)
    except PiiscanError:
        return None  # needed only for holds on numbers and tax/billing rows; fails there


@app.command()
def purge(
    customer: Annotated[str, typer.Option("--customer", "-c")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Date to judge by (YYYY-MM-DD); default today.")
    ] = None,
    apply: Annotated[bool, typer.Option("--apply", help="Delete; without it, only plan.")] = False,
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
    keys: Annotated[Path | None, typer.Option(help="Folder of key files.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Plan (default) or apply the retention purge of a customer; applied purges are ledgered."""

    from piiscan.pipeline.purge import apply_purge, plan_purge

    cfg = _config(config)
    try:
        cfg.customer(customer)
        storage = open_lake(lake)
        when = date.fromisoformat(as_of) if as_of else clock.today()
        key = _key_or_none(customer, keys)
        plan = plan_purge(storage, cfg, customer, when, key)
        entry = apply_purge(storage, cfg, plan, key, clock.now()) if apply else None
    except PiiscanError as exc:
        raise _fail(exc) from None
    if as_json:
        console.print_json(json.dumps({"plan": plan.as_json(), "applied": entry}))
        return
    _plan_table(plan)
    if entry is None:
        console.print("[yellow]dry run[/yellow]: nothing changed; add --apply to delete")
    elif plan.nothing_due:
        console.print(f"nothing due; ledger entry {entry['seq']} records the check")
    else:
        console.print(
            f"applied: {entry['rows_deleted']} row(s) deleted; ledger entry "
            f"{entry['seq']} ({entry['hash'][:12]}…)"
        )


@app.command()
def terminate(
    customer: Annotated[str, typer.Option("--customer", "-c")],
    effective: Annotated[str, typer.Option("--effective", help="Account end (YYYY-MM-DD).")],
    apply: Annotated[bool, typer.Option("--apply", help="Delete; without it, only plan.")] = False,
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
    keys: Annotated[Path | None, typer.Option(help="Folder of key files.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Plan (default) or apply the deletion of all of a customer's personal data at account end."""

    from piiscan.lake.keyring import key_source
    from piiscan.pipeline.purge import plan_purge
    from piiscan.pipeline.purge import terminate as run_termination

    cfg = _config(config)
    try:
        cfg.customer(customer)
        storage = open_lake(lake)
        end = date.fromisoformat(effective)
        key = _key_or_none(customer, keys)
        plan = plan_purge(storage, cfg, customer, end, key, terminated=end)
        if not apply:
            if as_json:
                console.print_json(json.dumps({"plan": plan.as_json(), "applied": None}))
            else:
                _plan_table(plan)
                console.print("[yellow]dry run[/yellow]: nothing changed; add --apply")
            return
        result = run_termination(storage, cfg, plan, key, clock.now(), key_source(customer, keys))
    except PiiscanError as exc:
        raise _fail(exc) from None
    if as_json:
        console.print_json(
            json.dumps(
                {
                    "certificate": result.certificate,
                    "certificate_keys": list(result.certificate_keys),
                }
            )
        )
        return
    console.print(
        f"terminated {customer} as of {end}: "
        f"{result.entry['rows_deleted']} row(s) deleted; ledger entry "
        f"{result.entry['seq']}"
    )
    console.print(f"key: {result.certificate['pseudonymization_key']}")
    for key_name in result.certificate_keys:
        console.print(f"certificate: {storage.uri(key_name)}")


holds_app = typer.Typer(help="Audit and legal holds: add, list, release.")
app.add_typer(holds_app, name="holds")


@holds_app.command("add")
def holds_add(
    customer: Annotated[str, typer.Option("--customer", "-c")],
    kind: Annotated[str, typer.Option(help="legal or audit.")],
    reason: Annotated[str, typer.Option(help="Why (a case or audit reference, not a person).")],
    dataset: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
    number: Annotated[list[str] | None, typer.Option(help="Only these wireless numbers.")] = None,
    period: Annotated[list[str] | None, typer.Option(help="Only these periods (YYYY-MM).")] = None,
    until: Annotated[str | None, typer.Option(help="End date (YYYY-MM-DD).")] = None,
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
    keys: Annotated[Path | None, typer.Option(help="Folder of key files.")] = None,
) -> None:
    """Register a hold; wireless numbers are stored as tokens, never raw."""

    from piiscan.lake.holds import add_hold
    from piiscan.lake.keyring import load_key
    from piiscan.phones import EXPECTED, canonical_number
    from piiscan.pseudonymize import tokens

    cfg = _config(config)
    if kind not in ("legal", "audit"):
        raise _fail(PiiscanError(f"--kind must be legal or audit, not {kind!r}"))
    numbers = [canonical_number(n) for n in number or []]
    if None in numbers:  # the value itself is personal data: say which one, not what it was
        which = numbers.index(None) + 1
        raise _fail(PiiscanError(f"--number value {which} of {len(numbers)} is not {EXPECTED}"))
    try:
        cfg.customer(customer)
        canonical = [n for n in numbers if n is not None]
        hashed = (
            tuple(tokens(canonical, load_key(customer, keys), "PHONE_NUMBER").values())
            if canonical
            else ()
        )
        hold = add_hold(
            open_lake(lake),
            customer,
            "legal" if kind == "legal" else "audit",
            reason,
            clock.now(),
            dataset=dataset,
            number_tokens=hashed,
            periods=tuple(period or ()),
            until=date.fromisoformat(until) if until else None,
        )
    except PiiscanError as exc:
        raise _fail(exc) from None
    console.print(
        f"added {hold.id} ({hold.kind}) for {customer}: {len(hashed)} line(s), "
        f"periods {list(hold.periods) or 'all'}, until {hold.until or 'released'}"
    )


@holds_app.command("list")
def holds_list(
    customer: Annotated[str, typer.Option("--customer", "-c")],
    lake: LakeOption = "./lake",
    as_json: JsonOption = False,
) -> None:
    """Show a customer's holds (released ones too) and their history."""
    from piiscan.lake.holds import load_registry

    registry = load_registry(open_lake(lake), customer)
    if as_json:
        console.print_json(
            json.dumps(
                {"holds": [h.as_json() for h in registry.holds], "history": registry.history}
            )
        )
        return
    table = Table(title=f"holds of {customer}")
    for column in ("id", "kind", "dataset", "lines", "periods", "until", "released", "reason"):
        table.add_column(column)
    for h in registry.holds:
        table.add_row(
            h.id,
            h.kind,
            h.dataset or "all",
            str(len(h.number_tokens) or "all"),
            ", ".join(h.periods) or "all",
            str(h.until or "-"),
            h.released_at or "-",
            escape(h.reason),
        )
    console.print(table)


@holds_app.command("release")
def holds_release(
    customer: Annotated[str, typer.Option("--customer", "-c")],
    hold_id: Annotated[str, typer.Argument(help="The hold's id (see holds list).")],
    lake: LakeOption = "./lake",
) -> None:
    """Release a hold; it stays in the registry with its release time."""

    from piiscan.lake.holds import release_hold

    try:
        hold = release_hold(open_lake(lake), customer, hold_id, clock.now())
    except PiiscanError as exc:
        raise _fail(exc) from None
    console.print(f"released {hold.id} at {hold.released_at}")


ledger_app = typer.Typer(help="The hash-chained record of applied purges.")
app.add_typer(ledger_app, name="ledger")


@ledger_app.command("verify")
def ledger_verify(
    customer: Annotated[list[str] | None, typer.Option("--customer", "-c")] = None,
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
) -> None:
    """Recompute every ledger's hash chain; exit 1 on any edit, removal or reordering."""
    from piiscan.lake.ledger import verify

    cfg = _config(config)
    storage = open_lake(lake)
    failed = False
    for who in customer or [c.id for c in cfg.customers]:
        result = verify(storage, who)
        status = "ok" if result.ok else f"[red]BROKEN[/red]: {escape(result.problem or '')}"
        console.print(f"{who}: {result.entries} entr(ies), {status}")
        failed |= not result.ok
    if failed:
        raise typer.Exit(code=1)


report_app = typer.Typer(help="Run reports: the latest per customer, as a summary, JSON or HTML.")
app.add_typer(report_app, name="report")


def _load_report(storage: Storage, customer: str, run: str | None) -> dict[str, Any]:
    """A customer's report of that run, or its latest; a clear error when there is none."""
    from piiscan.errors import NotFoundError

    if run is not None:
        key = lake_keys.report(customer, run)
    else:
        found = report_keys(storage, customer)
        if not found:
            raise _fail(NotFoundError(storage.uri(lake_keys.reports(customer))))
        key = found[-1]
    try:
        return read_report(storage, key)
    except PiiscanError as exc:
        raise _fail(exc) from None


def _customers(cfg: Config, customer: str | None) -> list[str]:
    if customer is None:
        return [c.id for c in cfg.customers]
    try:
        return [cfg.customer(customer).id]
    except PiiscanError as exc:
        raise _fail(exc) from None


RunOption = Annotated[
    str | None, typer.Option("--run", help="A run id (default: the latest report).")
]
CustomerFilter = Annotated[
    str | None, typer.Option("--customer", help="One customer (default: every configured one).")
]


@report_app.command("show")
def report_show(
    customer: CustomerFilter = None,
    run: RunOption = None,
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
    as_json: JsonOption = False,
) -> None:
    """Summarise the latest report of each customer: what needs review first, then counts."""
    from piiscan.report import describe, summary

    cfg = _config(config)
    storage = open_lake(lake)
    documents = []
    for customer_id in _customers(cfg, customer):
        keys = report_keys(storage, customer_id)
        if customer is None and not (keys if run is None else any(run in k for k in keys)):
            continue  # a customer without that run (or without any run yet)
        documents.append(_load_report(storage, customer_id, run))
    if as_json:
        console.print_json(json.dumps(documents if customer is None else documents[0]))
        return
    if not documents:
        err.print(f"no report in {escape(storage.uri('reports'))} yet")
        raise typer.Exit(code=1)
    for document in documents:
        s = summary(document)
        status = (
            "[red]needs review[/red]" if s["needs_review"] else "[green]nothing to review[/green]"
        )
        console.print(f"[bold]{document['customer']}[/bold] · run {document['run_id']} · {status}")
        for item in document["review"]["pending"]:
            console.print(f"  - {escape(describe(item))} (since {item['first_seen']})")
        console.print(
            f"  ingest: {s['files_ingested']} file(s), {s['files_quarantined']} quarantined, "
            f"{s['rows_rejected']} row(s) rejected; PII columns: "
            + ", ".join(f"{e} {n}" for e, n in sorted(s["pii_columns_by_entity"].items()))
        )
        console.print(
            f"  purge: {s['purge']['rows_deleted']} row(s) deleted, kept {s['purge']['rows_kept']}"
        )
        html = storage.uri(lake_keys.report(document["customer"], document["run_id"], "html"))
        console.print(f"  html: {escape(html)}")


@report_app.command("open")
def report_open(
    customer: Annotated[str, typer.Option("--customer", help="The customer.")],
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

    cfg = _config(config)
    storage = open_lake(lake)
    document = _load_report(storage, _customers(cfg, customer)[0], run)
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


review_app = typer.Typer(
    help="Reviewer decisions about columns, kept in configs/overrides.yaml (they win over "
    "detection in every report)."
)
app.add_typer(review_app, name="review")

ReviewCustomer = Annotated[
    str, typer.Option("--customer", help="A customer id, or '*' for every customer.")
]
ReviewDataset = Annotated[
    str | None, typer.Option("--dataset", help=f"A lake dataset ({', '.join(DATASET_NAMES)}).")
]
ReviewLayout = Annotated[
    str | None, typer.Option("--layout", help="Or a carrier layout, for `piiscan scan` of files.")
]
ReviewColumn = Annotated[
    str, typer.Option("--column", help="The column (extras.<key> for extras).")
]
ReviewReason = Annotated[str, typer.Option("--reason", help="Why (kept with the decision).")]
ReviewBy = Annotated[
    str,
    typer.Option("--by", envvar="PIISCAN_REVIEWER", help="Who decided (or PIISCAN_REVIEWER)."),
]


def _decide(
    decision: str,
    *,
    customer: str,
    dataset: str | None,
    layout: str | None,
    column: str,
    entity: str | None,
    reason: str,
    by: str,
    config: Path,
    lake: str,
) -> None:
    from piiscan.review import new_override, overrides_path, record

    cfg = _config(config)
    if dataset is not None and customer != "*":
        known = _latest_columns(lake, customer, dataset)
        if column not in known:
            err.print(
                f"note: the latest report of {customer} shows no column {escape(column)} "
                f"in {dataset}; the decision applies once it appears"
            )
    try:
        override = new_override(
            customer=customer,
            dataset=dataset,
            layout=layout,
            column=column,
            decision=decision,
            entity=entity,
            reason=reason,
            decided_by=by,
            decided_at=clock.today(),
        )
        record(config, cfg, override)
    except PiiscanError as exc:
        raise _fail(exc) from None
    target = dataset or f"layout {layout}"
    what = "not personal data" if decision == "reject" else entity
    console.print(
        f"{decision}: {customer} {target} {escape(column)} -> {what} "
        f"(written to {overrides_path(config)})"
    )


def _latest_columns(lake: str, customer: str, dataset: str) -> dict[str, dict[str, Any]]:
    """The columns of a dataset in the customer's latest report (empty without a report)."""
    storage = open_lake(lake)
    keys = report_keys(storage, customer)
    document = json.loads(storage.read_bytes(keys[-1])) if keys else {"datasets": {}}
    columns = document["datasets"].get(dataset, {}).get("columns", [])
    return {c["name"]: c for c in columns}


def _detected_entity(lake: str, customer: str, dataset: str | None, column: str) -> str:
    """The entity the latest report shows for a column (what a confirm pins)."""
    found = _latest_columns(lake, customer, dataset or "").get(column)
    if found and found["entity"]:
        return str(found["entity"])
    raise _fail(
        PiiscanError(
            f"{customer} {dataset}.{column}: the latest report tags no entity for it; "
            "give one with --entity or use `review set`"
        )
    )


@review_app.command("confirm")
def review_confirm(
    customer: ReviewCustomer,
    column: ReviewColumn,
    reason: ReviewReason,
    by: ReviewBy,
    dataset: ReviewDataset = None,
    layout: ReviewLayout = None,
    entity: Annotated[
        str | None, typer.Option("--entity", help="Default: what the latest report detected.")
    ] = None,
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
) -> None:
    """Confirm a column's entity: it stays whatever later scans say."""
    if entity is None:
        entity = _detected_entity(lake, customer, dataset, column)
    _decide(
        "confirm",
        customer=customer,
        dataset=dataset,
        layout=layout,
        column=column,
        entity=entity,
        reason=reason,
        by=by,
        config=config,
        lake=lake,
    )


@review_app.command("reject")
def review_reject(
    customer: ReviewCustomer,
    column: ReviewColumn,
    reason: ReviewReason,
    by: ReviewBy,
    dataset: ReviewDataset = None,
    layout: ReviewLayout = None,
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
) -> None:
    """Declare a column not personal data (it is kept as is in the analytics zone)."""
    _decide(
        "reject",
        customer=customer,
        dataset=dataset,
        layout=layout,
        column=column,
        entity=None,
        reason=reason,
        by=by,
        config=config,
        lake=lake,
    )


@review_app.command("set")
def review_set(
    customer: ReviewCustomer,
    column: ReviewColumn,
    entity: Annotated[str, typer.Option("--entity", help="The entity the column holds.")],
    reason: ReviewReason,
    by: ReviewBy,
    dataset: ReviewDataset = None,
    layout: ReviewLayout = None,
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
) -> None:
    """Set the entity of a column that detection missed or got wrong."""
    _decide(
        "set",
        customer=customer,
        dataset=dataset,
        layout=layout,
        column=column,
        entity=entity,
        reason=reason,
        by=by,
        config=config,
        lake=lake,
    )


@review_app.command("list")
def review_list(
    customer: CustomerFilter = None,
    config: ConfigOption = Path("configs"),
    as_json: JsonOption = False,
) -> None:
    """The decisions in configs/overrides.yaml."""
    cfg = _config(config)
    chosen = [o for o in cfg.review.overrides if customer in (None, o.customer, "*")]
    if as_json:
        console.print_json(json.dumps([o.model_dump(mode="json") for o in chosen]))
        return
    table = Table(title=f"reviewer decisions ({len(chosen)})")
    for name in (
        "customer",
        "dataset/layout",
        "column",
        "decision",
        "entity",
        "by",
        "on",
        "reason",
    ):
        table.add_column(name)
    for o in chosen:
        table.add_row(
            o.customer,
            o.dataset or f"layout:{o.layout}",
            escape(o.column),
            o.decision,
            o.entity or "-",
            escape(o.decided_by),
            o.decided_at.isoformat(),
            escape(o.reason),
        )
    console.print(table)


subject_app = typer.Typer(
    help="Subject rights: export what is held about one person, or erase it where no hold "
    "needs it. Name the person by exactly one identifier."
)
app.add_typer(subject_app, name="subject")

EmployeeIdOption = Annotated[str | None, typer.Option("--employee-id", help="Employee ID.")]
NumberOption = Annotated[str | None, typer.Option("--number", help="Wireless number.")]
EmailOption = Annotated[str | None, typer.Option("--email", help="E-mail address.")]
ImeiOption = Annotated[str | None, typer.Option("--imei", help="Device IMEI.")]
MonthsOption = Annotated[
    int, typer.Option("--months", help="Lookback of an export (CCPA: 12 months).")
]


def _selector(
    employee_id: str | None, number: str | None, email: str | None, imei: str | None
) -> Any:
    from piiscan.subject import Selector

    given = {
        k: v
        for k, v in {
            "employee_id": employee_id,
            "number": number,
            "email": email,
            "imei": imei,
        }.items()
        if v is not None
    }
    if len(given) != 1:
        raise _fail(
            PiiscanError(
                "name the person by exactly one of --employee-id, --number, --email, --imei"
            )
        )
    ((kind, value),) = given.items()
    try:
        return Selector.of(kind, value)
    except PiiscanError as exc:
        raise _fail(exc) from None


@subject_app.command("export")
def subject_export(
    customer: Annotated[str, typer.Option("--customer", "-c", help="The customer (controller).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the bundle (holds the data).")],
    employee_id: EmployeeIdOption = None,
    number: NumberOption = None,
    email: EmailOption = None,
    imei: ImeiOption = None,
    months: MonthsOption = 12,
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
    keys: Annotated[Path | None, typer.Option(help="Folder of key files.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Write everything held about the person (every dataset and zone) to --out/<request id>/."""
    from piiscan.lake.keyring import load_key
    from piiscan.lake.requests import create_request
    from piiscan.pipeline.subject import run_request

    selector = _selector(employee_id, number, email, imei)
    cfg = _config(config)
    try:
        storage = open_lake(lake)
        cfg.customer(customer)
        key = load_key(customer, keys)
        now = clock.now()
        request_id = create_request(storage, cfg, customer, "export", selector, months, now)
        record = run_request(storage, cfg, request_id, key, now, out=out)
    except PiiscanError as exc:
        raise _fail(exc) from None
    if as_json:
        console.print_json(json.dumps(record))
        return
    rows = record["outcome"]["rows"]
    console.print(f"request {request_id}: {sum(rows.values())} row(s) of the person")
    for name, count in rows.items():
        console.print(f"  {name}: {count}")
    _print_landing(record["outcome"]["landing"])
    _print_unattributed(record["outcome"])
    console.print(f"bundle: {out / request_id}")


def _print_unattributed(outcome: dict[str, Any]) -> None:
    if outcome.get("quarantine_rows_unattributed"):
        console.print(
            f"[yellow]{outcome['quarantine_rows_unattributed']} rejected row(s) in quarantine[/] "
            "are on a number of the person's that another employee also held, with nothing else "
            "to tell whose they are: left in quarantine for a person to decide"
        )


def _print_landing(landing: dict[str, Any]) -> None:
    if landing["files"]:
        console.print(
            f"landing: {landing['files']} delivered file(s) hold the person as received "
            f"(not rewritten; {landing['until']})"
        )


@subject_app.command("erase")
def subject_erase(
    customer: Annotated[str, typer.Option("--customer", "-c", help="The customer (controller).")],
    employee_id: EmployeeIdOption = None,
    number: NumberOption = None,
    email: EmailOption = None,
    imei: ImeiOption = None,
    apply: Annotated[bool, typer.Option("--apply", help="Erase (default: show the plan).")] = False,
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
    keys: Annotated[Path | None, typer.Option(help="Folder of key files.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Erase the person's rows where no hold applies (a dry run unless --apply).

    Tax and billing holds keep the rows with their personal columns pseudonymized; legal and
    audit holds keep them as they are. Applied erasures are ledgered.
    """
    from piiscan.lake.keyring import load_key
    from piiscan.lake.requests import create_request
    from piiscan.pipeline.subject import preview_erase, resolve, run_request

    selector = _selector(employee_id, number, email, imei)
    cfg = _config(config)
    try:
        cfg.customer(customer)
        storage = open_lake(lake)
        key = load_key(customer, keys)
        now = clock.now()
        if not apply:
            identity = resolve(storage, customer, selector)
            _, outcome = preview_erase(storage, cfg, customer, identity, key, now.date())
            request_id = None
        else:
            request_id = create_request(storage, cfg, customer, "erase", selector, 12, now)
            outcome = run_request(storage, cfg, request_id, key, now)["outcome"]
    except PiiscanError as exc:
        raise _fail(exc) from None
    if as_json:
        console.print_json(json.dumps({"request_id": request_id, "applied": apply, **outcome}))
        return
    verb = "erased" if apply else "would erase"
    console.print(
        f"{verb}: {outcome['rows_deleted']} row(s) deleted, kept under hold "
        f"{outcome['rows_kept'] or 'none'} ({outcome['files_changed']} file(s)); "
        f"{outcome['quarantine_rows_deleted']} quarantined row(s)"
    )
    for reason, words in outcome["reasons"].items():
        if reason in outcome["rows_kept"]:
            console.print(f"  {reason}: {words}")
    _print_landing(outcome["landing"])
    _print_unattributed(outcome)
    if not apply:
        console.print("[yellow]dry run[/yellow]: nothing changed; add --apply")
    elif outcome.get("ledger_seq"):
        console.print(f"request {request_id}; ledger entry {outcome['ledger_seq']}")
    else:
        console.print(f"request {request_id}: nothing to erase")


@subject_app.command("request")
def subject_request(
    customer: Annotated[str, typer.Option("--customer", "-c", help="The customer (controller).")],
    action: Annotated[str, typer.Option("--action", help="export or erase.")],
    employee_id: EmployeeIdOption = None,
    number: NumberOption = None,
    email: EmailOption = None,
    imei: ImeiOption = None,
    months: MonthsOption = 12,
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
) -> None:
    """Record a request for the `subject-request` flow and print its id.

    The id is the flow's only parameter; the identifier stays in the restricted zone.
    """
    from piiscan.lake.requests import create_request

    selector = _selector(employee_id, number, email, imei)
    cfg = _config(config)
    try:
        request_id = create_request(
            open_lake(lake), cfg, customer, action, selector, months, clock.now()
        )
    except PiiscanError as exc:
        raise _fail(exc) from None
    console.print(request_id)


@subject_app.command("list")
def subject_list(
    customer: Annotated[str, typer.Option("--customer", "-c", help="The customer.")],
    lake: LakeOption = "./lake",
    as_json: JsonOption = False,
) -> None:
    """Completed requests of a customer (kept 24 months; selectors as keyed hashes)."""
    storage = open_lake(lake)
    records = [
        json.loads(storage.read_bytes(k)) for k in storage.list(lake_keys.request_records(customer))
    ]
    if as_json:
        console.print_json(json.dumps(records))
        return
    table = Table(title=f"subject requests of {customer} ({len(records)})")
    for name in ("request", "action", "selector", "received", "completed", "outcome"):
        table.add_column(name)
    for r in records:
        outcome = r["outcome"]
        if r["status"] == "rejected":
            brief = f"rejected: {outcome['rejected']}"
        elif r["action"] == "export":
            brief = f"{sum(outcome['rows'].values())} row(s) exported"
        else:
            brief = f"{outcome['rows_deleted']} deleted, kept {outcome['rows_kept']}"
        table.add_row(
            r["request_id"],
            r["action"],
            f"{r['selector']['kind']} {r['selector']['hash'][:11]}…",
            r["received_at"],
            r["completed_at"],
            brief,
        )
    console.print(table)


def _missing_fixtures_extra(exc: ImportError, command: str) -> typer.Exit:
    """Exit 2 naming the extra when the generator's own dependencies are not installed."""
    missing = (exc.name or "").partition(".")[0]
    if missing not in {"faker", "xlsxwriter"}:
        raise exc
    install = escape("pip install 'piiscan[fixtures]'")
    err.print(
        f"[red]error:[/red] `piiscan {command}` needs the fixtures extra ({missing} is not "
        f"installed): {install}"
    )
    return typer.Exit(code=2)


@app.command()
def fixtures(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the fixture tree into.")],
    customers: Annotated[int, typer.Option(help="Number of customers (1-5).")] = 3,
    months: Annotated[int, typer.Option(help="Bill cycles per account.")] = 2,
    lines: Annotated[int, typer.Option(help="Lines per account.")] = 10,
    events_per_line: Annotated[int, typer.Option(help="Usage events per line per cycle.")] = 20,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same files.")] = 7,
    last_cycle: Annotated[
        str, typer.Option(help="Last bill cycle date, YYYY-MM-DD.")
    ] = "2026-10-16",
    broken: Annotated[bool, typer.Option(help="Also write the broken set.")] = True,
) -> None:
    """Generate synthetic carrier files in real layouts (and a broken set) with expected.json."""
    try:
        from piiscan.testing.generate import generate
    except ImportError as exc:
        raise _missing_fixtures_extra(exc, "fixtures") from None

    expected = generate(
        out,
        customers=customers,
        months=months,
        lines=lines,
        seed=seed,
        events_per_line=events_per_line,
        last_cycle=date.fromisoformat(last_cycle),
        broken=broken,
    )
    files = len({e.file for e in expected})
    console.print(f"wrote {files} file(s) under {out} (expectations in {out / 'expected.json'})")


def stage_fixtures(storage: Storage, fixture_root: Path) -> int:
    """Copy a fixture tree into landing/<customer>/<carrier>/ as a carrier delivery would."""
    count = 0
    for path in collect_files([fixture_root]):
        parts = path.relative_to(fixture_root).parts
        customer, carrier = ("acme", "incoming") if parts[0] == "broken" else parts[:2]
        fd, tmp = tempfile.mkstemp(prefix="piiscan-stage-")
        os.close(fd)
        shutil.copyfile(path, tmp)
        storage.put_file(Path(tmp), lake_keys.landing(customer, carrier, path.name))
        count += 1
    return count


@app.command()
def demo(
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
    seed: Annotated[int, typer.Option(help="Fixture seed.")] = 7,
) -> None:
    """Generate carrier files into the lake's landing zone and run the nightly flow on them."""
    try:
        from piiscan.testing.generate import generate
    except ImportError as exc:
        raise _missing_fixtures_extra(exc, "demo") from None
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    from flows.nightly import nightly  # Prefect is imported only where flows run

    cfg = _config(config)
    storage = open_lake(lake)
    from piiscan.lake.keyring import create_key

    for customer in cfg.customers:  # demo keys; production keys come from a secret store
        create_key(customer.id)
    with tempfile.TemporaryDirectory(prefix="piiscan-fixtures-") as tmp:
        generate(Path(tmp), customers=len(cfg.customers), months=2, lines=12, seed=seed)
        staged = stage_fixtures(storage, Path(tmp))
    console.print(f"staged {staged} carrier file(s) in {storage.uri('landing')}")
    state = nightly(lake=lake, config_dir=str(config), return_state=True)
    result: Any = state.result(raise_on_failure=False)
    if not state.is_completed():
        err.print(f"[red]nightly flow ended {state.name}:[/red] {result}")
        raise typer.Exit(code=1)
    for customer, summary in result["customers"].items():
        console.print(
            f"[bold]{customer}[/bold]: {summary['files_ingested']} ingested, "
            f"{summary['files_quarantined']} quarantined, rows {summary['rows']}"
        )
        console.print(f"  report: {summary['report']}")
        console.print(f"  html:   {summary['html']}")
        if summary["needs_review"]:
            console.print(f"  [red]needs review[/red]: {summary['review_items']} item(s)")
    console.print(f"analytics zone (pseudonymized): {storage.uri('analytics')}")


if __name__ == "__main__":
    app()
