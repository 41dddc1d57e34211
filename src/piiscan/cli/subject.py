"""Subject rights: export and erase one person's data, record requests for the flow."""

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
    err,
    fail,
    load,
    plural,
    print_table,
    say,
    writing,
)
from piiscan.errors import PiiscanError
from piiscan.lake import clock
from piiscan.storage import open_lake

subject_app = typer.Typer(
    help="Subject rights: export what is held about one person, or erase it where no hold "
    "needs it. Name the person by exactly one identifier."
)
app.add_typer(subject_app, name="subject")

EmployeeIdOption = Annotated[str | None, typer.Option("--employee-id", help="Employee ID.")]
NumberOption = Annotated[str | None, typer.Option("--number", help="Wireless number.")]
EmailOption = Annotated[str | None, typer.Option("--email", help="E-mail address.")]
ImeiOption = Annotated[str | None, typer.Option("--imei", help="Device IMEI.")]
MonthsOption = Annotated[
    int, typer.Option("--months", help="Lookback of an export (CCPA: 12 months).")
]
ForceOption = Annotated[
    bool,
    typer.Option(
        "--force", help="Go on with an --employee-id that fits none of the customer's patterns."
    ),
]


def _check_employee_id(cfg: Any, customer: str, employee_id: str | None, force: bool) -> None:
    """Exit 2 when an employee ID fits none of the customer's patterns (it would find no row)."""
    import re

    if employee_id is None:
        return
    try:
        patterns = cfg.employee_id_patterns(cfg.customer(customer).id)
    except PiiscanError as exc:
        raise fail(exc) from None
    if not patterns or any(re.fullmatch(p, employee_id.strip()) for p in patterns):
        return
    message = (
        f"--employee-id matches none of {customer}'s employee-ID patterns "
        f"({', '.join(patterns)} in customers.yaml)"
    )
    if not force:
        raise fail(PiiscanError(f"{message}; check the value, or add --force to go on"))
    err.print(f"warning: {message}", markup=False, highlight=False)


def _selector(
    employee_id: str | None, number: str | None, email: str | None, imei: str | None
) -> Any:
    from piiscan.subject import Selector

    given = {
        k: v
        for k, v in {
            "employee_id": employee_id,
            "number": number,
            "email": email,
            "imei": imei,
        }.items()
        if v is not None
    }
    if len(given) != 1:
        raise fail(
            PiiscanError(
                "name the person by exactly one of --employee-id, --number, --email, --imei"
            )
        )
    ((kind, value),) = given.items()
    try:
        return Selector.of(kind, value)
    except PiiscanError as exc:
        raise fail(exc) from None


@subject_app.command("export")
def subject_export(
    customer: Annotated[str, typer.Option("--customer", "-c", help="The customer (controller).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the bundle (holds the data).")],
    employee_id: EmployeeIdOption = None,
    number: NumberOption = None,
    email: EmailOption = None,
    imei: ImeiOption = None,
    months: MonthsOption = 12,
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
    keys: Annotated[Path | None, typer.Option(help="Folder of key files.")] = None,
    force: ForceOption = False,
    as_json: JsonOption = False,
) -> None:
    """Write everything held about the person (every dataset and zone) to --out/<request id>/."""
    from piiscan.lake.keyring import load_key
    from piiscan.lake.requests import create_request
    from piiscan.pipeline.subject import run_request

    selector = _selector(employee_id, number, email, imei)
    cfg = load(config)
    _check_employee_id(cfg, customer, employee_id, force)
    try:
        storage = open_lake(lake)
        cfg.customer(customer)
        key = load_key(customer, keys)
        now = clock.now()
        with writing(storage, customer):
            request_id = create_request(storage, cfg, customer, "export", selector, months, now)
            record = run_request(storage, cfg, request_id, key, now, out=out)
    except PiiscanError as exc:
        raise fail(exc) from None
    if as_json:
        console.print_json(json.dumps(record))
        return
    rows = record["outcome"]["rows"]
    say(f"request {request_id}: {plural(sum(rows.values()), 'row')} of the person")
    for name, count in rows.items():
        console.print(f"  {name}: {count}")
    mentions = record["outcome"].get("mentions") or {}
    if mentions:
        console.print(
            f"mentioned in the free text of other rows: {plural(sum(mentions.values()), 'cell')} "
            "(only those cells are in the bundle, as mentions_*.csv)"
        )
    _print_landing(record["outcome"]["landing"])
    _print_unattributed(record["outcome"])
    console.print(f"bundle: {out / request_id}")


def _print_unattributed(outcome: dict[str, Any]) -> None:
    if outcome.get("quarantine_rows_unattributed"):
        console.print(
            f"[yellow]{plural(outcome['quarantine_rows_unattributed'], 'rejected row')} in "
            "quarantine[/] "
            "are on a number of the person's that another employee also held, with nothing else "
            "to tell whose they are: left in quarantine for a person to decide"
        )


def _print_landing(landing: dict[str, Any]) -> None:
    if landing["files"]:
        console.print(
            f"landing: {plural(landing['files'], 'delivered file')} hold the person as received "
            f"(not rewritten; {landing['until']})"
        )


@subject_app.command("erase")
def subject_erase(
    customer: Annotated[str, typer.Option("--customer", "-c", help="The customer (controller).")],
    employee_id: EmployeeIdOption = None,
    number: NumberOption = None,
    email: EmailOption = None,
    imei: ImeiOption = None,
    apply: Annotated[bool, typer.Option("--apply", help="Erase (default: show the plan).")] = False,
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
    keys: Annotated[Path | None, typer.Option(help="Folder of key files.")] = None,
    force: ForceOption = False,
    as_json: JsonOption = False,
) -> None:
    """Erase the person's rows where no hold applies (a dry run unless --apply).

    Tax and billing holds keep the rows with their personal columns pseudonymized; legal and
    audit holds keep them as they are. Applied erasures are ledgered.
    """
    from piiscan.lake.keyring import load_key
    from piiscan.lake.requests import create_request
    from piiscan.pipeline.subject import preview_erase, resolve, run_request

    selector = _selector(employee_id, number, email, imei)
    cfg = load(config)
    _check_employee_id(cfg, customer, employee_id, force)
    try:
        cfg.customer(customer)
        storage = open_lake(lake)
        key = load_key(customer, keys)
        now = clock.now()
        if not apply:
            identity = resolve(storage, customer, selector)
            _, outcome = preview_erase(storage, cfg, customer, identity, key, now.date())
            request_id = None
        else:
            with writing(storage, customer):
                request_id = create_request(storage, cfg, customer, "erase", selector, 12, now)
                outcome = run_request(storage, cfg, request_id, key, now)["outcome"]
    except PiiscanError as exc:
        raise fail(exc) from None
    if as_json:
        console.print_json(json.dumps({"request_id": request_id, "applied": apply, **outcome}))
        return
    verb = "erased" if apply else "would erase"
    kept = ", ".join(f"{r}={n}" for r, n in (outcome["rows_kept"] or {}).items()) or "none"
    say(
        f"{verb}: {plural(outcome['rows_deleted'], 'row')} deleted, kept under hold: {kept} "
        f"({plural(outcome['files_changed'], 'file')}); "
        f"{plural(outcome['quarantine_rows_deleted'], 'quarantined row')}"
    )
    for reason, words in outcome["reasons"].items():
        if reason in outcome["rows_kept"]:
            console.print(f"  {reason}: {words}")
    mentions = outcome.get("mentions_redacted" if apply else "mentions_to_redact") or 0
    if mentions:
        console.print(
            f"free text: the person's mentions in {plural(mentions, 'row')} "
            f"{'replaced' if apply else 'to replace'} in place (<ERASED>; the rows stay)"
        )
    _print_landing(outcome["landing"])
    _print_unattributed(outcome)
    if not apply:
        console.print("[yellow]dry run[/yellow]: nothing changed; add --apply")
    elif outcome.get("ledger_seq"):
        console.print(f"request {request_id}; ledger entry {outcome['ledger_seq']}")
    else:
        console.print(f"request {request_id}: nothing to erase")


@subject_app.command("request")
def subject_request(
    customer: Annotated[str, typer.Option("--customer", "-c", help="The customer (controller).")],
    action: Annotated[str, typer.Option("--action", help="export or erase.")],
    employee_id: EmployeeIdOption = None,
    number: NumberOption = None,
    email: EmailOption = None,
    imei: ImeiOption = None,
    months: MonthsOption = 12,
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
) -> None:
    """Record a request for the `subject-request` flow and print its id.

    The id is the flow's only parameter; the identifier stays in the restricted zone.
    """
    from piiscan.lake.requests import create_request

    selector = _selector(employee_id, number, email, imei)
    cfg = load(config)
    try:
        storage = open_lake(lake)
        with writing(storage, cfg.customer(customer).id):
            request_id = create_request(
                storage, cfg, customer, action, selector, months, clock.now()
            )
    except PiiscanError as exc:
        raise fail(exc) from None
    console.print(request_id)


@subject_app.command("list")
def subject_list(
    customer: Annotated[str, typer.Option("--customer", "-c", help="The customer.")],
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
    as_json: JsonOption = False,
) -> None:
    """Completed requests of a customer (kept 24 months; selectors as keyed hashes)."""
    from piiscan.lake.requests import completed_requests

    cfg = load(config)
    try:
        records = completed_requests(open_lake(lake), cfg.customer(customer).id)
    except PiiscanError as exc:
        raise fail(exc) from None
    if as_json:
        console.print_json(json.dumps(records))
        return
    rows = []
    for r in records:
        outcome = r["outcome"]
        if r["status"] == "rejected":
            brief = f"rejected: {outcome['rejected']}"
        elif r["action"] == "export":
            brief = f"{plural(sum(outcome['rows'].values()), 'row')} exported"
        else:
            kept = ", ".join(f"{k}={n}" for k, n in (outcome["rows_kept"] or {}).items())
            brief = f"{outcome['rows_deleted']} deleted, kept {kept or 'none'}"
        rows.append(
            (
                r["request_id"],
                r["action"],
                f"{r['selector']['kind']} {r['selector']['hash'][:12]}",
                r["received_at"],
                r["completed_at"],
                brief,
            )
        )
    print_table(
        f"subject requests of {customer} ({len(records)})",
        ("request", "action", "selector", "received", "completed", "outcome"),
        rows,
        empty=f"no completed subject requests for {customer}",
        whole=("request", "selector"),
    )
