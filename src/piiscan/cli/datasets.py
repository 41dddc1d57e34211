"""`piiscan datasets`: what each dataset holds, what its period is, and what analytics gets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from piiscan.cli.app import ConfigOption, JsonOption, app, console, load


@app.command("datasets")
def datasets(
    config: ConfigOption = Path("configs"),
    json_out: JsonOption = False,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print Markdown (docs/DATASETS.md is this).")
    ] = False,
) -> None:
    """Each dataset's grain, period and columns, and what the analytics zone does with each."""
    from piiscan.pipeline.datasets import contract_markdown, dataset_contract

    contract = dataset_contract(load(config))
    if json_out:
        console.print_json(json.dumps(contract))
        return
    if markdown:
        typer.echo(contract_markdown(contract), nl=False)
        return
    for entry in contract:
        console.print(f"[bold]{entry['dataset']}[/]")
        console.print(f"  {entry['grain']}", markup=False)
        console.print(f"  period, from {entry['period_column']}:", markup=False)
        console.print(f"    {entry['period']}", markup=False)
        for column in entry["columns"]:
            entity = f" [{column['entity']}]" if column["entity"] else ""
            console.print(
                f"  {column['name']:<16} {column['type']:<18} {column['analytics']}{entity}",
                markup=False,
                highlight=False,
            )
