"""The synthetic carrier files (fixtures) and the demo that runs the nightly flow on them."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from piiscan.cli.app import (
    ConfigOption,
    LakeOption,
    app,
    console,
    err,
    load,
    parse_date,
)
from piiscan.lake import keys as lake_keys
from piiscan.storage import open_lake


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
        last_cycle=parse_date(last_cycle, "--last-cycle"),
        broken=broken,
    )
    files = len({e.file for e in expected})
    console.print(f"wrote {files} file(s) under {out} (expectations in {out / 'expected.json'})")


@app.command()
def demo(
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
    seed: Annotated[int, typer.Option(help="Fixture seed.")] = 7,
) -> None:
    """Generate carrier files into the lake's landing zone and run the nightly flow on them."""
    try:
        from piiscan.testing.generate import generate
        from piiscan.testing.stage import stage_fixtures
    except ImportError as exc:
        raise _missing_fixtures_extra(exc, "demo") from None
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    from flows.nightly import nightly  # Prefect is imported only where flows run

    cfg = load(config)
    storage = open_lake(lake)
    from piiscan.lake.keyring import create_key

    for customer in cfg.customers:  # demo keys; production keys come from a secret store
        create_key(customer.id)
    with tempfile.TemporaryDirectory(prefix="piiscan-fixtures-") as tmp:
        generate(Path(tmp), customers=len(cfg.customers), months=2, lines=12, seed=seed)
        staged = stage_fixtures(storage, Path(tmp))
    console.print(f"staged {staged} carrier file(s) in {storage.uri(lake_keys.area('landing'))}")
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
    console.print(f"analytics zone (pseudonymized): {storage.uri(lake_keys.area('analytics'))}")
