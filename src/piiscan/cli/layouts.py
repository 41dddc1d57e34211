"""`piiscan layouts suggest|check`: draft a layout for a new carrier's file, and see which layout
each file gets and what its first rows convert to (masked)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from piiscan.cli.app import ConfigOption, JsonOption, app, console, err, fail, load
from piiscan.errors import PiiscanError

if TYPE_CHECKING:
    from piiscan.pipeline.layouts import FileCheck

layouts_app = typer.Typer(help="Draft carrier layouts (configs/layouts/*.yaml) and check them.")
app.add_typer(layouts_app, name="layouts")


@layouts_app.command("suggest")
def suggest(
    file: Annotated[Path, typer.Argument(help="A sample of the carrier's file.", exists=True)],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the draft here (e.g. configs/layouts/NAME.yaml)."),
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite --out if it exists.")] = False,
    config: ConfigOption = Path("configs"),
) -> None:
    """Draft a layout from a file no layout fits; every guess says how sure it is."""
    from piiscan.pipeline.layouts import suggest_layout
    from piiscan.pipeline.scan import detector_for

    cfg = load(config)
    if out is not None and out.exists() and not force:
        raise fail(PiiscanError(f"{out} exists; pass --force to overwrite it"))
    try:
        suggestion = suggest_layout(file, detector_for(cfg, None), cfg.layouts)
    except PiiscanError as exc:
        raise fail(exc) from None
    draft = suggestion.draft
    if suggestion.fits is not None:
        err.print(
            f"note: {escape(suggestion.fits.summary())} already fits {escape(file.name)}; "
            "`piiscan layouts check` shows what it converts to"
        )
    text = draft.yaml()
    if out is None:
        console.print(escape(text), end="", highlight=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {escape(str(out))}")
    contracted = [c.id for c in cfg.customers if draft.carrier in c.carriers]
    if not contracted:
        err.print(
            f"note: no customer lists carrier {escape(draft.carrier)!r} in "
            f"{escape(str(config / 'customers.yaml'))}: add it to the carriers of each customer "
            "who sends these files (their files are quarantined carrier_not_contracted until then)"
        )
    mapped = len(draft.columns) - len(draft.unmapped)
    err.print(
        f"{mapped} of {len(draft.columns)} column(s) mapped, {len(draft.unmapped)} kept as "
        f"extras; {draft.flagged} line(s) marked CHECK to settle before use"
    )


@layouts_app.command("check")
def check(
    files: Annotated[list[Path], typer.Argument(help="Carrier files.", exists=True)],
    config: ConfigOption = Path("configs"),
    as_json: JsonOption = False,
) -> None:
    """Which layout each file gets, its score and the runner-up, and its first rows (masked)."""
    from piiscan.pipeline.layouts import check_files

    cfg = load(config)
    results = check_files(files, cfg.layouts)
    if as_json:
        console.print_json(json.dumps({"files": [r.as_json() for r in results]}))
    else:
        for result in results:
            _print_check(result)
    if any(r.reason_code for r in results):
        raise typer.Exit(code=1)


def _print_check(result: FileCheck) -> None:
    console.print(f"[bold]{escape(result.file)}[/bold]")
    for choice in result.choices:
        runner = (
            f"runner-up {choice.runner_up} ({choice.runner_up_score:g})"
            if choice.runner_up
            else "no runner-up"
        )
        named = ", file name matches" if choice.name_match else ""
        console.print(
            f"  {escape(choice.unit)}: layout [green]{choice.layout}[/green] score "
            f"{choice.score:g} ({choice.columns_known}/{choice.columns} columns{named}); {runner}"
        )
    if result.reason:
        console.print(f"  [red]{escape(result.reason_code or '')}[/red]: {escape(result.reason)}")
    if result.rows_delivered:
        console.print(
            f"  {result.rows_delivered} row(s) read: landed {result.rows}, "
            f"{result.rows_rejected} rejected, {result.rows_reference} reference"
        )
    for line in result.rejections:
        console.print(f"  [yellow]rejected[/yellow] {escape(line)}")
    for number, row in enumerate(result.sample, 1):
        shown = ", ".join(f"{k}={v}" for k, v in row.items())
        console.print(f"  row {number} (masked): {escape(shown)}", highlight=False)
