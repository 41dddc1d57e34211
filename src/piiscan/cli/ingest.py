"""Commands that read carrier files and the lake: ingest, scan, pseudonymize, keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from piiscan.cli.app import (
    ConfigOption,
    JsonOption,
    LakeOption,
    app,
    console,
    err,
    fail,
    load,
    plural,
    print_table,
    progress,
    say,
    writing,
)
from piiscan.errors import PiiscanError
from piiscan.lake import clock
from piiscan.storage import open_lake

if TYPE_CHECKING:
    from piiscan.types import IngestSummary


def counts(rows: dict[str, int]) -> str:
    """dataset=n, ... (or none)."""
    return ", ".join(f"{d}={n}" for d, n in rows.items()) or "none"


def _print_ingest(summary: IngestSummary) -> None:
    print_table(
        f"ingest {summary.customer} · run {summary.run_id}",
        (
            "file",
            "status",
            "layout (score)",
            "delivered",
            "landed",
            "rejected",
            "reference",
            "reason",
        ),
        [
            (
                result.file,
                result.status,
                ", ".join(f"{c.layout} ({c.score:g})" for c in result.choices)
                or ", ".join(result.layouts),
                str(result.rows_delivered),
                counts(result.rows),
                str(result.rows_rejected or ""),
                str(result.rows_reference or ""),
                result.reason or "",
            )
            for result in summary.files
        ],
        empty=f"ingest {summary.customer}: no carrier file found",
        whole=("file", "layout (score)"),
    )
    say(
        f"{summary.count('ingested')} ingested, {summary.count('quarantined')} quarantined, "
        f"{summary.count('skipped')} skipped; {plural(summary.rows_delivered, 'row')} delivered: "
        f"landed {counts(summary.rows)}, {summary.rows_rejected} rejected, "
        f"{summary.rows_reference} reference"
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
    keys: Annotated[
        Path | None, typer.Option(help="Folder of key files (the ledger key, for superseding).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Ingest delivered carrier files into the restricted zone (bad files go to quarantine).

    Holds the customer's lock: while another run of the customer writes, it exits 75 and
    changes nothing; run it again then."""
    from piiscan.lake import keys as lake_keys
    from piiscan.lake.keyring import load_ledger_key
    from piiscan.lake.keys import new_run_id
    from piiscan.pipeline.ingest import collect_files, ingest_paths

    cfg = load(config)
    try:
        who = cfg.customer(customer)
        storage = open_lake(lake)
        files = collect_files(paths)
        with writing(storage, who.id), progress("ingest", len(files)) as step:
            now = clock.now()
            summary = ingest_paths(
                storage,
                who,
                files,
                new_run_id(now),
                step,
                cfg.layouts,
                cfg.ingest,
                now=now,
                ledger_key=load_ledger_key(who.id, keys, create=True) if keys else None,
            )
    except PiiscanError as exc:
        raise fail(exc) from None
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
    from piiscan.lake import keys as lake_keys
    from piiscan.pipeline.scan import detector_for, scan_lake, with_reviews
    from piiscan.scan import Scanner

    cfg = load(config)
    try:
        detector = detector_for(cfg, customer, sample)
    except PiiscanError as exc:
        raise fail(exc) from None
    scanner = Scanner(detector, layouts=cfg.layouts)
    try:
        if paths:
            found = scanner.scan(list(paths))
        else:
            if zone not in lake_keys.ZONES:
                raise PiiscanError(
                    f"--zone {zone!r}: unknown zone; expected {' or '.join(lake_keys.ZONES)}"
                )
            storage = open_lake(lake)
            found = scan_lake(scanner, storage, zone)
            if not found:
                where = storage.uri(lake_keys.area(zone))
                raise PiiscanError(f"nothing to scan: no datasets under {where}")
    except PiiscanError as exc:
        raise fail(exc) from None
    results = with_reviews(cfg, customer, found)
    if as_json:
        console.print_json(json.dumps({"files": [r.as_json() for r in results]}))
        return
    for result in results:
        title = (
            f"{result.path}  ·  {result.dataset or 'unknown dataset'}  ·  "
            f"{plural(result.rows or 0, 'row')}"
        )
        if result.error:
            console.print(f"[bold]{escape(result.path)}[/bold]: [red]{escape(result.error)}[/red]")
            continue
        rows = [
            (
                finding.name,
                finding.entity,
                f"{finding.confidence:.2f}",
                finding.action,
                ", ".join(finding.evidence.get("examples", []))
                or ", ".join(finding.evidence.get("entities", {})),
            )
            for finding in result.columns
            if finding.entity is not None
        ]
        print_table(
            title,
            ("column", "entity", "confidence", "action", "evidence"),
            rows,
            empty=f"{title}: no personal data found",
            whole=("column", "evidence"),
        )
        clean = sum(1 for f in result.columns if f.entity is None)
        say(f"  {plural(clean, 'column')} without personal data")


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
    from piiscan.lake import keys as lake_keys
    from piiscan.lake.keyring import load_key
    from piiscan.pipeline.nightly import detect_datasets, pseudonymize_customer
    from piiscan.pipeline.scan import detector_for

    cfg = load(config)
    try:
        cfg.customer(customer)
        key = load_key(customer, keys)
        storage = open_lake(lake)
        with writing(storage, customer):
            findings = detect_datasets(storage, customer, detector_for(cfg, customer), cfg)
            results = pseudonymize_customer(storage, cfg, customer, key, findings)
    except PiiscanError as exc:
        raise fail(exc) from None
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
    rows = []
    for r in results:
        by = {
            a: ", ".join(p.column for p in r.columns if p.action == a)
            for a in ("hmac", "drop", "mask", "generalize")
        }
        masked = ", ".join(x for x in (by["mask"], by["generalize"]) if x)
        rows.append((r.dataset, str(r.files), str(r.rows), by["hmac"], by["drop"], masked))
    print_table(
        f"pseudonymize {customer} (key {key.version})",
        ("dataset", "files", "rows", "hmac", "dropped", "masked/generalized"),
        rows,
        empty=f"pseudonymize {customer}: no dataset in the restricted zone yet",
        whole=("dataset",),
    )
    say(f"analytics zone: {storage.uri(lake_keys.area('analytics'))}")


keys_app = typer.Typer(help="Create and rotate per-customer pseudonymization keys.")
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(
    customer: Annotated[str, typer.Option("--customer", "-c")],
    keys: Annotated[Path | None, typer.Option(help="Folder of key files.")] = None,
    rotate: Annotated[
        bool, typer.Option("--rotate", help="Add a new version and make it current.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a customer's key file (never printed), or rotate it with --rotate."""
    from piiscan.lake.keyring import create_key, load_key

    try:
        path = create_key(customer, keys, rotate=rotate)
        version = load_key(customer, path.parent).version
    except PiiscanError as exc:
        raise fail(exc) from None
    if as_json:
        console.print_json(
            json.dumps({"customer": customer, "path": str(path), "version": version})
        )
        return
    say(f"{path}: current version {version}")
