"""Setting up a Prefect server for piiscan: `keys push` (a customer's key into its Secret block)
and `automations create` (tell operators when a customer's night fails or runs too long). The
Prefect side is in flows/operations.py, imported only when these commands run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from piiscan.cli.app import JsonOption, app, console, fail, say
from piiscan.cli.ingest import keys_app
from piiscan.errors import PiiscanError

automations_app = typer.Typer(help="Prefect automations that watch the customers' nights.")
app.add_typer(automations_app, name="automations")


@keys_app.command("push")
def keys_push(
    customer: Annotated[str, typer.Option("--customer", "-c")],
    keys: Annotated[Path | None, typer.Option(help="Folder of key files.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Write a customer's key file into its Prefect Secret block (piiscan-key-<customer>), on
    the server PREFECT_API_URL names; the flows read it first, so workers need no key file.
    The key is never printed."""
    from flows.operations import push_key
    from piiscan.lake.keyring import key_file_text

    try:
        name = push_key(customer, key_file_text(customer, keys))
    except PiiscanError as exc:
        raise fail(exc) from None
    if as_json:
        console.print_json(json.dumps({"customer": customer, "block": name}))
        return
    say(f"{customer}'s key is in Secret block {name} (set PREFECT_SERVER_ENCRYPTION_KEY)")


@automations_app.command("create")
def automations_create(
    notify: Annotated[
        str | None,
        typer.Option(
            help="A notification block (type/name, e.g. slack-webhook/ops) to send to; "
            "without it a trigger is only recorded (UI: Automations, Event feed)."
        ),
    ] = None,
    overrun_minutes: Annotated[
        int, typer.Option(min=1, help="A customer's night running longer than this is reported.")
    ] = 120,
    as_json: JsonOption = False,
) -> None:
    """Create (or replace) the automations that watch every customer's night, on the server
    PREFECT_API_URL names: one fires when a customer-nightly run fails or crashes, one when
    it runs past --overrun-minutes."""
    from flows.operations import create_automations

    try:
        made = create_automations(notify, overrun_minutes)
    except PiiscanError as exc:
        raise fail(exc) from None
    if as_json:
        body = [{"name": name, "id": made_id} for name, made_id in made]
        console.print_json(json.dumps({"automations": body}))
        return
    for name, made_id in made:
        say(f"automation {name!r} ({made_id})")
