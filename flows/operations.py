"""What operators set up on a Prefect server for piiscan (called by `piiscan keys push` and
`piiscan automations create`): a customer's key in its Secret block, and the automations that
watch the customers' nights. Both act on the server PREFECT_API_URL names."""

from __future__ import annotations

from contextlib import suppress
from datetime import timedelta
from typing import Any, cast

from prefect.automations import Automation
from prefect.blocks.core import Block
from prefect.blocks.system import Secret
from prefect.events.actions import DoNothing, SendNotification
from prefect.events.schemas.automations import EventTrigger, Posture
from prefect.settings import PREFECT_API_URL

from piiscan.errors import PiiscanError
from piiscan.lake.keyring import secret_block_name

# The flow whose runs the automations watch: one customer's night (flows/nightly.py).
CUSTOMER_FLOW = "customer-nightly"
FAILED = "piiscan: a customer's night failed"
OVERRUN = "piiscan: a customer's night runs too long"
ENDED = frozenset(
    {
        "prefect.flow-run.Completed",
        "prefect.flow-run.Failed",
        "prefect.flow-run.Crashed",
        "prefect.flow-run.Cancelled",
    }
)


def require_server() -> str:
    """The server's API URL; PiiscanError when PREFECT_API_URL is not set (ephemeral mode keeps
    blocks and automations nowhere a worker would find them)."""
    url = PREFECT_API_URL.value()
    if not url:
        raise PiiscanError(
            "PREFECT_API_URL is not set: point it at the Prefect server "
            "(e.g. export PREFECT_API_URL=http://127.0.0.1:4200/api)"
        )
    return str(url)


def push_key(customer: str, key_file_json: str) -> str:
    """Write the key file JSON into the customer's Secret block (replacing it); its name."""
    require_server()
    name = secret_block_name(customer)
    Secret(value=key_file_json).save(name, overwrite=True)  # type: ignore[arg-type]
    return name


def _action(notify: str | None, subject: str) -> Any:
    """Send through the named notification block, or only record the trigger (it shows on the
    automation and in the event feed)."""
    if notify is None:
        return DoNothing()
    try:
        block = cast(Block, Block.load(notify))
    except ValueError as exc:
        raise PiiscanError(f"--notify {notify}: {exc}") from None
    block_id = block._block_document_id
    if block_id is None:
        raise PiiscanError(f"--notify {notify}: the block has no saved document")
    body = (
        "Flow run {{ flow_run.name }} of {{ flow.name }} is {{ flow_run.state.name }}: "
        "{{ flow_run|ui_url }}"
    )
    return SendNotification(
        block_document_id=block_id,
        subject=subject,
        body=body,
    )


def watch_automations(notify: str | None, overrun_minutes: int) -> list[Automation]:
    """The two automations: a customer run that failed or crashed, and one still running
    overrun_minutes after it started (reports name runs `<customer>-<run id>`: no person)."""
    run: dict[str, str] = {"prefect.resource.id": "prefect.flow-run.*"}
    flow: dict[str, str] = {"prefect.resource.role": "flow", "prefect.resource.name": CUSTOMER_FLOW}
    return [
        Automation(
            name=FAILED,
            description="A customer-nightly run failed or crashed (its reason is PII-free).",
            trigger=EventTrigger(
                match=run,  # type: ignore[arg-type]
                match_related=flow,  # type: ignore[arg-type]
                expect={"prefect.flow-run.Failed", "prefect.flow-run.Crashed"},
                for_each={"prefect.resource.id"},
                posture=Posture.Reactive,
                threshold=1,
                within=timedelta(0),
            ),
            actions=[_action(notify, FAILED)],
        ),
        Automation(
            name=OVERRUN,
            description=f"A customer-nightly run still running {overrun_minutes} min after start.",
            trigger=EventTrigger(
                match=run,  # type: ignore[arg-type]
                match_related=flow,  # type: ignore[arg-type]
                after={"prefect.flow-run.Running"},
                expect=set(ENDED),
                for_each={"prefect.resource.id"},
                posture=Posture.Proactive,
                threshold=1,
                within=timedelta(minutes=overrun_minutes),
            ),
            actions=[_action(notify, OVERRUN)],
        ),
    ]


def create_automations(notify: str | None, overrun_minutes: int) -> list[tuple[str, str]]:
    """Create the automations, replacing earlier ones of the same names; (name, id) of each."""
    require_server()
    made = []
    for automation in watch_automations(notify, overrun_minutes):
        with suppress(ValueError):  # none of that name yet
            cast(Automation, Automation.read(name=automation.name)).delete()
        created = cast(Automation, automation.create())
        made.append((created.name, str(created.id)))
    return made
