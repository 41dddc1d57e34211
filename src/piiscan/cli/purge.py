"""Commands that delete: purge (retention) and terminate (account end), dry runs by default."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from piiscan.cli.app import (
    ConfigOption,
    JsonOption,
    LakeOption,
    app,
    console,
    fail,
    load,
    parse_date,
)
from piiscan.errors import PiiscanError
from piiscan.lake import clock
from piiscan.storage import open_lake


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


def _ledger_key(customer: str, keys: Path | None) -> Any:
    from piiscan.lake.keyring import load_ledger_key

    return load_ledger_key(customer, keys, create=True)  # beside the key files --keys names


@app.command()
def purge(
    customer: Annotated[str, typer.Option("--customer", "-c")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Date to judge by (YYYY-MM-DD); default today.")
    ] = None,
    allow_future: Annotated[
        bool, typer.Option("--allow-future", help="Allow an --as-of date after today.")
    ] = False,
    apply: Annotated[bool, typer.Option("--apply", help="Delete; without it, only plan.")] = False,
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
    keys: Annotated[Path | None, typer.Option(help="Folder of key files.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Plan (default) or apply the retention purge of a customer; applied purges are ledgered."""

    from piiscan.lake.keyring import key_source
    from piiscan.pipeline.purge import apply_purge, plan_purge
    from piiscan.pipeline.terminate import due_termination, is_terminated, settle_key

    cfg = load(config)
    try:
        cfg.customer(customer)
        storage = open_lake(lake)
        when = parse_date(as_of, "--as-of") if as_of else clock.today()
        if when > clock.today() and not allow_future:
            raise PiiscanError(
                f"--as-of {when} is after today ({clock.today()}): a purge judged by a future "
                "date deletes what is still inside its retention period; add --allow-future "
                "to mean it"
            )
        due = due_termination(storage, cfg, customer, when)
        if due is not None:
            raise PiiscanError(
                f"{customer}'s termination (effective {due[0]}) is due and not applied: run "
                f"`piiscan terminate -c {customer} --effective {due[0]} --apply` (or let the "
                "nightly apply it), which certifies it"
            )
        key = _key_or_none(customer, keys)
        plan = plan_purge(storage, cfg, customer, when, key)
        entry = None
        if apply:
            entry = apply_purge(
                storage, cfg, plan, key, clock.now(), ledger_key=_ledger_key(customer, keys)
            )
            if is_terminated(storage, customer):  # the key goes once nothing needs it
                settle_key(storage, customer, when, key_source(customer, keys), clock.now())
    except PiiscanError as exc:
        raise fail(exc) from None
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
    """Plan (default) or apply the deletion of all of a customer's personal data at account end.

    An effective date after today is scheduled by --apply (recorded in the lake, nothing
    deleted): the nightly of that day applies it. A rerun adds a certificate naming the first.
    """

    from piiscan.lake.keyring import key_source
    from piiscan.pipeline.terminate import plan_termination, schedule_termination
    from piiscan.pipeline.terminate import terminate as run_termination

    cfg = load(config)
    try:
        cfg.customer(customer)
        storage = open_lake(lake)
        end = parse_date(effective, "--effective")
        today = clock.today()
        key = _key_or_none(customer, keys)
        plan = plan_termination(storage, cfg, customer, end, today, key)
        if not apply:
            if as_json:
                body = {"plan": plan.as_json(), "applied": None, "scheduled": None}
                console.print_json(json.dumps(body))
            else:
                _plan_table(plan)
                if end > today:
                    console.print(
                        f"{end} is after today: --apply schedules it (nothing is deleted "
                        "before that day; the nightly of that day applies it)"
                    )
                console.print("[yellow]dry run[/yellow]: nothing changed; add --apply")
            return
        if end > today:
            record = schedule_termination(storage, customer, end, clock.now(), "terminate --apply")
            if as_json:
                console.print_json(json.dumps({"scheduled": record.as_json()}))
            else:
                console.print(
                    f"scheduled: {customer} terminates effective {end}; nothing deleted now, "
                    "the nightly of that day applies it"
                )
            return
        result = run_termination(
            storage,
            cfg,
            plan,
            key,
            clock.now(),
            key_source(customer, keys),
            _ledger_key(customer, keys),
        )
    except PiiscanError as exc:
        raise fail(exc) from None
    if as_json:
        console.print_json(
            json.dumps(
                {
                    "certificate": result.certificate,
                    "certificate_keys": list(result.certificate_keys),
                    "termination": result.record.as_json() if result.record else None,
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
