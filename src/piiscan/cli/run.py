"""Run a flow now, on this machine, in Prefect's ephemeral mode: `piiscan run nightly`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from piiscan.cli.app import (
    ConfigOption,
    CustomerFilter,
    LakeOption,
    app,
    console,
    customers_of,
    err,
    load,
    local_prefect,
    plural,
    say,
)

run_app = typer.Typer(help="Run a flow now, locally (Prefect's ephemeral mode, no server).")
app.add_typer(run_app, name="run")


def run_nightly(lake: str, config: Path, customers: list[str] | None) -> None:
    """The nightly flow for these customers (None: all), its outcome per customer; exit 1
    naming the customers that failed."""
    local_prefect()
    from flows.nightly import nightly  # Prefect is imported only where flows run

    err.print(
        f"nightly: {', '.join(customers) if customers else 'every customer'} "
        f"(lake {lake}, configs {config})",
        markup=False,
        highlight=False,
    )
    state = nightly(lake=lake, config_dir=str(config), customers=customers, return_state=True)
    result: Any = state.result(raise_on_failure=False)
    outcome = result if state.is_completed() else getattr(result, "outcome", {})
    for customer, summary in outcome.get("customers", {}).items():
        print_customer(customer, summary)
    if not state.is_completed():
        failed = outcome.get("failed") or {}
        for customer, why in sorted(failed.items()):
            err.print(f"[red]failed[/red]: {customer}: {why}", highlight=False)
        if not failed:
            err.print(f"[red]nightly flow ended {state.name}:[/red] {result}", highlight=False)
        names = ", ".join(sorted(failed)) or "the run"
        err.print(f"nightly failed for {names}", markup=False, highlight=False)
        raise typer.Exit(code=1)


def print_customer(customer: str, summary: dict[str, Any]) -> None:
    """One customer's outcome: counts, where its report is, whether it needs review."""
    console.print(
        f"[bold]{customer}[/bold]: {summary['files_ingested']} ingested, "
        f"{summary['files_quarantined']} quarantined, rows "
        + (", ".join(f"{d}={n}" for d, n in summary["rows"].items()) or "none"),
        highlight=False,
    )
    say(f"  report: {summary['report']}")
    say(f"  html:   {summary['html']}")
    if summary["needs_review"]:
        console.print(
            f"  [red]needs review[/red]: {plural(summary['review_items'], 'item')} "
            f"(piiscan report show -c {customer})",
            highlight=False,
        )


@run_app.command("nightly")
def run_nightly_command(
    customer: CustomerFilter = None,
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
) -> None:
    """Run the nightly flow now: ingest new landing files, detect, pseudonymize, purge, report."""
    cfg = load(config)
    chosen = customers_of(cfg, customer) if customer is not None else None
    run_nightly(lake, config, chosen)
