"""Reviewer decisions about columns (configs/overrides.yaml)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from piiscan.cli.app import (
    ConfigOption,
    CustomerFilter,
    JsonOption,
    LakeOption,
    app,
    console,
    err,
    fail,
    load,
    print_table,
    say,
)
from piiscan.errors import PiiscanError
from piiscan.lake import clock
from piiscan.storage import open_lake

# piiscan.schema.DATASET_NAMES, written out so that --help needs no polars (tests/test_startup.py
# keeps the two equal).
DATASET_NAMES = ("invoice_lines", "usage_events", "devices", "charge_items")

review_app = typer.Typer(
    help="Reviewer decisions about columns, kept in configs/overrides.yaml (they win over "
    "detection in every report)."
)
app.add_typer(review_app, name="review")

ReviewCustomer = Annotated[
    str, typer.Option("--customer", "-c", help="A customer id, or '*' for every customer.")
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
    as_json: bool,
) -> None:
    from piiscan.review import new_override, overrides_path, record

    cfg = load(config)
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
        raise fail(exc) from None
    if as_json:
        body = {**override.model_dump(mode="json"), "written_to": str(overrides_path(config))}
        console.print_json(json.dumps(body))
        return
    target = dataset or f"layout {layout}"
    what = "not personal data" if decision == "reject" else entity
    say(f"{decision}: {customer} {target} {column} -> {what} (written to {overrides_path(config)})")


def _latest_columns(lake: str, customer: str, dataset: str) -> dict[str, dict[str, Any]]:
    """The columns of a dataset in the customer's latest report (empty without a report)."""
    from piiscan.lake.reports import latest_report

    document = latest_report(open_lake(lake), customer) or {"datasets": {}}
    columns = document["datasets"].get(dataset, {}).get("columns", [])
    return {c["name"]: c for c in columns}


def _detected_entity(lake: str, customer: str, dataset: str | None, column: str) -> str:
    """The entity the latest report shows for a column (what a confirm pins)."""
    found = _latest_columns(lake, customer, dataset or "").get(column)
    if found and found["entity"]:
        return str(found["entity"])
    raise fail(
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
    as_json: JsonOption = False,
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
        as_json=as_json,
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
    as_json: JsonOption = False,
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
        as_json=as_json,
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
    as_json: JsonOption = False,
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
        as_json=as_json,
    )


@review_app.command("list")
def review_list(
    customer: CustomerFilter = None,
    config: ConfigOption = Path("configs"),
    as_json: JsonOption = False,
) -> None:
    """The decisions in configs/overrides.yaml."""
    cfg = load(config)
    chosen = [o for o in cfg.review.overrides if customer in (None, o.customer, "*")]
    if as_json:
        console.print_json(json.dumps([o.model_dump(mode="json") for o in chosen]))
        return
    whose = f" for {customer}" if customer else ""
    print_table(
        f"reviewer decisions{whose} ({len(chosen)})",
        ("customer", "dataset/layout", "column", "decision", "entity", "by", "on", "reason"),
        [
            (
                o.customer,
                o.dataset or f"layout:{o.layout}",
                o.column,
                o.decision,
                o.entity or "-",
                o.decided_by,
                o.decided_at.isoformat(),
                o.reason,
            )
            for o in chosen
        ],
        empty=f"no reviewer decisions{whose} in {config / 'overrides.yaml'}",
        whole=("dataset/layout", "column"),
    )
