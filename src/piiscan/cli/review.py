"""Reviewer decisions about columns (configs/overrides.yaml)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from piiscan.cli.app import (
    ConfigOption,
    CustomerFilter,
    JsonOption,
    LakeOption,
    app,
    console,
    customers_of,
    err,
    fail,
    load,
    print_table,
    say,
)
from piiscan.errors import PiiscanError
from piiscan.lake import clock
from piiscan.storage import open_lake

if TYPE_CHECKING:
    from piiscan.policy import Config
    from piiscan.storage import Storage

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


def _pending_columns(
    cfg: Config, storage: Storage, customer: str
) -> tuple[str | None, list[dict[str, Any]]]:
    """(latest run, its pending column items) without those a decision settled since."""
    from piiscan.lake.reports import latest_report
    from piiscan.report import review_commands

    document = latest_report(storage, customer)
    if document is None:
        return None, []
    items = []
    for item in document["review"]["pending"]:
        decided = item["column"] is not None and item["column"] in cfg.overrides_for(
            customer, item["dataset"]
        )
        if not decided:
            items.append({**item, "commands": review_commands(customer, item)})
    return str(document["run_id"]), items


@review_app.command("pending")
def review_pending(
    customer: CustomerFilter = None,
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
    as_json: JsonOption = False,
) -> None:
    """Everything waiting for a person: columns (from the latest report, less what was decided
    since) and quarantined files or rejected rows (from the lake, now). Each item comes with
    the commands that settle it. Exits 1 while anything is pending, 0 when nothing is."""
    from piiscan.lake.quarantine import file_items
    from piiscan.report import describe, describe_file

    cfg = load(config)
    storage = open_lake(lake)
    found: list[dict[str, Any]] = []
    try:
        for customer_id in customers_of(cfg, customer):
            run, columns = _pending_columns(cfg, storage, customer_id)
            files = file_items(storage, customer_id)
            found.append(
                {"customer": customer_id, "latest_run": run, "columns": columns, "files": files}
            )
    except PiiscanError as exc:
        raise fail(exc) from None
    count = sum(len(f["columns"]) + len(f["files"]) for f in found)
    if as_json:
        console.print_json(json.dumps({"pending": count, "customers": found}))
    else:
        for entry in found:
            items = len(entry["columns"]) + len(entry["files"])
            if not items:
                say(f"{entry['customer']}: nothing pending")
                continue
            say(f"{entry['customer']}: {items} item(s) pending")
            for item in entry["columns"]:
                say(f"  - column {describe(item)} (since {item['first_seen']})")
                for command in item["commands"]:
                    say(f"      {command}")
            for item in entry["files"]:
                say(f"  - file {describe_file(item)} (item {item['id']})")
                for command in item["commands"]:
                    say(f"      {command}")
    if count:
        raise typer.Exit(code=1)


@review_app.command("resolve")
def review_resolve(
    customer: Annotated[str, typer.Option("--customer", "-c", help="The customer.")],
    item: Annotated[
        str,
        typer.Option(
            "--item", help="The item's id, <run id>/<file name>, as `review pending` shows it."
        ),
    ],
    reason: ReviewReason,
    by: ReviewBy,
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
    as_json: JsonOption = False,
) -> None:
    """Settle a quarantined file or rejected rows that need nothing more (the file was sent
    again fixed, or the rows do not matter): recorded in the lake with who, when and why.
    A file whose bytes later land, or a same-named file delivered later that lands whole, is
    settled without this."""
    from piiscan.lake.quarantine import resolve_item

    cfg = load(config)
    customer_id = customers_of(cfg, customer)[0]
    storage = open_lake(lake)
    try:
        record = resolve_item(storage, customer_id, item, reason=reason, by=by, now=clock.now())
    except PiiscanError as exc:
        raise fail(exc) from None
    if as_json:
        console.print_json(json.dumps({"customer": customer_id, **record}))
        return
    say(f"resolved: {customer_id} {item} by {by}")
