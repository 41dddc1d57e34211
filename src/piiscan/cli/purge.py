"""Commands that delete: purge (retention) and terminate (account end), dry runs by default."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from piiscan.cli.app import (
    ConfigOption,
    JsonOption,
    LakeOption,
    app,
    console,
    fail,
    load,
    parse_date,
    plural,
    print_table,
    say,
)
from piiscan.errors import PiiscanError
from piiscan.lake import clock
from piiscan.storage import open_lake


def _plan_table(plan: Any, what: str = "purge plan") -> None:
    data = plan.as_json()
    rows = []
    for f in data["files"]:
        kept = ", ".join(f"{d}={n}" for d, n in f["decisions"].items() if d != "delete")
        rows.append(
            (
                f["zone"],
                f["dataset"],
                f["period"],
                f["action"],
                str(f["rows"]),
                str(f["decisions"].get("delete", 0)),
                kept,
            )
        )
    title = f"{what} {plan.customer} as of {plan.as_of} (policy {plan.policy_version})"
    print_table(
        title,
        ("zone", "dataset", "period", "action", "rows", "delete", "kept (why)"),
        rows,
        empty=f"{title}: no data file to change",
        whole=("dataset", "period"),
    )
    kept = ", ".join(f"{r}={n}" for r, n in data["rows_kept"].items()) or "none"
    say(
        f"{plural(data['rows_deleted'], 'row')} to delete; kept by reason: {kept}; "
        f"{plural(len(data['other_objects']), 'landing/quarantine/report object')} past "
        f"their period; {plural(data['partitions_read'], 'partition')} read, "
        f"{data['partitions_skipped_unread']} skipped unread"
    )
    for reason, why in data["reasons"].items():
        say(f"  {reason}: {why}")


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
        say(
            f"applied: {plural(entry['rows_deleted'], 'row')} deleted; ledger entry "
            f"{entry['seq']} (hash {entry['hash']})"
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
                _plan_table(plan, "termination plan")
                if end > today:
                    say(
                        f"{end} is after today: --apply schedules it (nothing is deleted "
                        "before that day; the nightly of that day applies it)"
                    )
                _termination_steps(storage, customer, end)
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
    say(
        f"terminated {customer} as of {end}: "
        f"{plural(result.entry['rows_deleted'], 'row')} deleted; ledger entry "
        f"{result.entry['seq']}"
    )
    say(f"key: {result.certificate['pseudonymization_key']}")
    for key_name in result.certificate_keys:
        say(f"certificate: {storage.uri(key_name)}")


def _termination_steps(storage: Any, customer: str, end: Any) -> None:
    """What --apply does beyond the plan's rows: the key and the certificate."""
    from piiscan.lake import keys as lake_keys
    from piiscan.lake.holds import load_registry

    by_token = [h.id for h in load_registry(storage, customer).active(end) if h.number_tokens]
    if by_token:
        say(f"with --apply: the key is kept (holds {', '.join(by_token)} name lines by token)")
    else:
        say(
            "with --apply: the customer's pseudonymization key is deleted once no held row "
            "keeps a raw identifier that may need it (the certificate says when)"
        )
    written = [
        k
        for k in storage.list(lake_keys.certificates(customer))
        if lake_keys.certificate_number(k) is not None
    ]
    stem = lake_keys.certificate_stem(end.isoformat(), len(written) + 1)
    certificate = storage.uri(lake_keys.certificate(customer, stem))
    say(f"and a deletion certificate is written: {certificate}")
