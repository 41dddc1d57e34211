"""Audit and legal holds, and the ledger that proves what purges did."""

from __future__ import annotations

import json
import re
from functools import partial
from pathlib import Path
from typing import Annotated, Any

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
    parse_date,
    plural,
    print_table,
    say,
    writing,
)
from piiscan.errors import PiiscanError
from piiscan.lake import clock
from piiscan.storage import open_lake

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
    allow_empty: Annotated[
        bool,
        typer.Option("--allow-empty", help="Register it even if it keeps no row today."),
    ] = False,
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
    keys: Annotated[Path | None, typer.Option(help="Folder of key files.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Register a hold; wireless numbers are stored as tokens, never raw."""

    from piiscan.lake.keyring import load_key
    from piiscan.pipeline.holds import add_line_hold
    from piiscan.schema import DATASET_NAMES

    cfg = load(config)
    if kind not in ("legal", "audit"):
        raise fail(PiiscanError(f"--kind must be legal or audit, not {kind!r}"))
    if dataset is not None and dataset not in DATASET_NAMES:
        raise fail(
            PiiscanError(f"--dataset {dataset!r}: expected one of {', '.join(DATASET_NAMES)}")
        )
    for value in period or ():
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
            raise fail(PiiscanError(f"--period {value!r}: expected a month YYYY-MM"))
    end = parse_date(until, "--until") if until else None
    try:
        cfg.customer(customer)
        storage = open_lake(lake)
        with writing(storage, customer):
            hold = add_line_hold(
                storage,
                customer,
                "legal" if kind == "legal" else "audit",
                reason,
                clock.now(),
                lambda: load_key(customer, keys),
                dataset=dataset,
                numbers=number or (),
                periods=period or (),
                until=end,
                allow_empty=allow_empty,
            )
    except PiiscanError as exc:
        raise fail(exc) from None
    if as_json:
        console.print_json(json.dumps(hold.as_json()))
        return
    lines = plural(len(hold.number_tokens), "line") if hold.number_tokens else "all lines"
    say(
        f"added {hold.id} ({hold.kind}) for {customer}: {lines}, "
        f"periods {', '.join(hold.periods) or 'all'}, until {hold.until or 'released'}"
    )


@holds_app.command("list")
def holds_list(
    customer: Annotated[str, typer.Option("--customer", "-c")],
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
    as_json: JsonOption = False,
) -> None:
    """Show a customer's holds (released ones too) and their history."""
    from piiscan.lake.holds import load_registry

    cfg = load(config)
    try:
        registry = load_registry(open_lake(lake), cfg.customer(customer).id)
    except PiiscanError as exc:
        raise fail(exc) from None
    if as_json:
        console.print_json(
            json.dumps(
                {"holds": [h.as_json() for h in registry.holds], "history": registry.history}
            )
        )
        return
    print_table(
        f"holds of {customer}",
        ("id", "kind", "dataset", "lines", "periods", "until", "released", "reason"),
        [
            (
                h.id,
                h.kind,
                h.dataset or "all",
                str(len(h.number_tokens) or "all"),
                ", ".join(h.periods) or "all",
                str(h.until or "-"),
                h.released_at or "-",
                h.reason,
            )
            for h in registry.holds
        ],
        empty=f"no holds for {customer}",
        whole=("id", "released"),
    )


@holds_app.command("release")
def holds_release(
    customer: Annotated[str, typer.Option("--customer", "-c")],
    hold_id: Annotated[str, typer.Argument(help="The hold's id (see holds list).")],
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
    as_json: JsonOption = False,
) -> None:
    """Release a hold; it stays in the registry with its release time."""
    from piiscan.lake.holds import release_hold

    cfg = load(config)
    try:
        storage = open_lake(lake)
        with writing(storage, cfg.customer(customer).id):
            hold = release_hold(storage, cfg.customer(customer).id, hold_id, clock.now())
    except PiiscanError as exc:
        raise fail(exc) from None
    if as_json:
        console.print_json(json.dumps(hold.as_json()))
        return
    say(f"released {hold.id} at {hold.released_at}")


ledger_app = typer.Typer(help="The signed, hash-chained record of applied purges.")
app.add_typer(ledger_app, name="ledger")


def _ranges(numbers: tuple[int, ...]) -> str:
    """1, 2, 3, 5 as '1-3, 5'."""
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def _plural(n: int) -> str:
    return f"{n} {'entry' if n == 1 else 'entries'}"


@ledger_app.command("verify")
def ledger_verify(
    customer: Annotated[list[str] | None, typer.Option("--customer", "-c")] = None,
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
    keys: Annotated[
        Path | None, typer.Option(help="Folder of key files (ledger keys: <customer>.ledger.json).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check every ledger's signed chain against its head record, reports and certificates;
    exit 1 on any edit, removal, reordering, cut or replacement, 2 when one cannot be checked."""
    from piiscan.lake import ledger
    from piiscan.lake.keyring import load_ledger_key

    cfg = load(config)
    storage = open_lake(lake)
    configured = [c.id for c in cfg.customers]
    in_lake = ledger.customers(storage)  # customers gone from the config keep their ledger
    for who in customer or []:
        if who not in configured and who not in in_lake:
            raise fail(
                PiiscanError(
                    f"unknown customer {who!r}: not configured ({', '.join(configured) or 'none'})"
                    " and the lake holds no ledger for it"
                )
            )
    results: list[dict[str, Any]] = []
    broken = unchecked = False
    for who in customer or list(dict.fromkeys([*configured, *in_lake])):
        try:
            result = ledger.verify(storage, who, partial(load_ledger_key, who, keys))
        except PiiscanError as exc:
            unchecked = True
            results.append({"customer": who, "ok": False, "error": str(exc)})
            if not as_json:
                err.print(f"{escape(who)}: [red]error[/red]: {escape(str(exc))}")
            continue
        broken |= not result.ok
        results.append(result.as_json())
        if not as_json:
            _print_verification(result)
    if as_json:
        console.print_json(json.dumps({"ok": not broken and not unchecked, "ledgers": results}))
    if broken or unchecked:
        raise typer.Exit(code=1 if broken else 2)


def _print_verification(result: Any) -> None:
    """One line per ledger, then each further problem and note indented."""
    unkeyed = (
        f" ({_plural(len(result.unkeyed))} unkeyed, {_ranges(result.unkeyed)}: written before "
        "the ledger was keyed)"
        if result.unkeyed
        else ""
    )
    anchors = f"; {result.anchors} anchor(s) checked"
    who = escape(result.customer)
    if result.ok:
        console.print(f"{who}: {_plural(result.entries)}{unkeyed}, ok{anchors}")
    else:
        console.print(
            f"{who}: {_plural(result.entries)}{unkeyed}, [red]BROKEN[/red]: "
            f"{escape(result.problem or '')}"
        )
        for problem in result.problems[1:]:
            console.print(f"  {who}: also {escape(problem)}")
    for note in result.notes:
        console.print(f"  {who}: note: {escape(note)}")
