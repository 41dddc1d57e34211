"""The Typer app and what every command shares: options, console, errors, config."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from piiscan.errors import LockedError, PiiscanError
from piiscan.lake import clock
from piiscan.lake import keys as lake_keys
from piiscan.lake.locks import customer_lock
from piiscan.lake.reports import read_report, report_keys
from piiscan.policy import Config, load_config
from piiscan.storage import Storage

app = typer.Typer(
    name="piiscan",
    help="Find, pseudonymize and retire personal data in telecom expense data.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

LakeOption = Annotated[
    str,
    typer.Option(
        "--lake", envvar="PIISCAN_LAKE", help="Lake root: a folder or s3://bucket/prefix."
    ),
]
ConfigOption = Annotated[
    Path,
    typer.Option("--config", envvar="PIISCAN_CONFIG", help="Folder holding customers.yaml etc."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the machine-readable summary.")]


# Exit code of a command refused because another run holds the customer's lock: try again
# later (EX_TEMPFAIL); every other error exits 2.
EXIT_LOCKED = 75


def fail(error: PiiscanError) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(str(error))}")
    if isinstance(error, LockedError):
        err.print("nothing was changed; run the command again once the other run has finished")
        return typer.Exit(code=EXIT_LOCKED)
    return typer.Exit(code=2)


@contextmanager
def writing(storage: Storage, customer: str) -> Iterator[None]:
    """The customer's lock, held by a command while it writes the lake: one writer per
    customer at a time (a second one fails at once with LockedError, exit EXIT_LOCKED)."""
    with customer_lock(storage, customer, clock.now()):
        yield


def load(path: Path) -> Config:
    try:
        return load_config(path)
    except PiiscanError as exc:
        raise fail(exc) from None


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[item]}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


def parse_date(value: str, option: str) -> date:
    """A YYYY-MM-DD option value; exit 2 naming the option and the expected form otherwise."""
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise fail(PiiscanError(f"{option} {value!r}: expected a date YYYY-MM-DD")) from None


def load_report(storage: Storage, customer: str, run: str | None) -> dict[str, Any]:
    """A customer's report of that run, or its latest; a clear error when there is none."""
    from piiscan.errors import NotFoundError

    try:
        if run is not None:
            key = lake_keys.report(customer, run)
        else:
            found = report_keys(storage, customer)
            if not found:
                raise NotFoundError(storage.uri(lake_keys.reports(customer)))
            key = found[-1]
        return read_report(storage, key)
    except PiiscanError as exc:
        raise fail(exc) from None


def customers_of(cfg: Config, customer: str | None) -> list[str]:
    if customer is None:
        return [c.id for c in cfg.customers]
    try:
        return [cfg.customer(customer).id]
    except PiiscanError as exc:
        raise fail(exc) from None


RunOption = Annotated[
    str | None, typer.Option("--run", help="A run id (default: the latest report).")
]
CustomerFilter = Annotated[
    str | None, typer.Option("--customer", help="One customer (default: every configured one).")
]
