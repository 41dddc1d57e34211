"""The Typer app and what every command shares: options, console, errors, config, output.

Output reads the same in a terminal and in a log: tables become plain aligned lines when
stdout is not a terminal (nothing is cut to the width), and progress bars become plain lines.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import typer.core
from rich.console import Console
from rich.markup import escape

import piiscan
from piiscan.errors import LockedError, PiiscanError
from piiscan.lake import clock

if TYPE_CHECKING:  # start-up: polars, pydantic and the lake are imported by the commands
    from rich.progress import Progress

    from piiscan.policy import Config
    from piiscan.storage import Storage

app = typer.Typer(
    name="piiscan",
    help="Find, pseudonymize and retire personal data in telecom expense data.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _usage_name(self: typer.core.TyperArgument) -> str:
    """click's usage form, PATHS... or [PATHS]... (Typer 0.29 writes {paths}...)."""
    name = (self.metavar or self.name or "").upper()
    name = name if self.required else f"[{name}]"
    return f"{name}..." if self.nargs != 1 else name


_typer_option_type = typer.core.TyperOption.display_type_rich


def _option_type(self: typer.core.TyperOption, ctx: Any) -> str | None:
    """No type column for a flag (Typer 0.29 writes <bool> beside --json)."""
    return None if self.is_flag else _typer_option_type(self, ctx)


typer.core.TyperArgument._usage_display_name = _usage_name  # type: ignore[method-assign]
typer.core.TyperOption.display_type_rich = _option_type  # type: ignore[method-assign]


def _print_version(value: bool) -> None:
    if value:
        console.print(f"piiscan {piiscan.__version__}", markup=False, highlight=False)
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """Find, pseudonymize and retire personal data in telecom expense data."""


# -- where the configs are ------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigFound:
    """The configs folder a command uses, and how it was found (or where it was looked for)."""

    path: Path
    how: str
    found: bool
    looked: tuple[Path, ...] = ()


def find_config(given: Path, source: str, cwd: Path) -> ConfigFound:
    """--config or PIISCAN_CONFIG as given (source COMMANDLINE, ENVIRONMENT); else ./configs;
    else the first configs/ holding a customers.yaml in the current folder or one above it."""
    if source == "COMMANDLINE":
        return ConfigFound(given, "--config", (given / "customers.yaml").is_file())
    if source == "ENVIRONMENT":
        return ConfigFound(given, "PIISCAN_CONFIG", (given / "customers.yaml").is_file())
    if given.is_dir():
        return ConfigFound(given, "./configs", (given / "customers.yaml").is_file())
    looked = (cwd, *cwd.parents)
    for folder in looked:
        if (folder / "configs" / "customers.yaml").is_file():
            return ConfigFound(folder / "configs", f"found above {cwd}", True)
    return ConfigFound(given, "not found", False, looked)


_found: dict[Path, ConfigFound] = {}  # what this command's --config callback found


def _config_callback(ctx: typer.Context, param: typer.CallbackParam, value: Path) -> Path:
    source = ctx.get_parameter_source(param.name or "")
    found = find_config(value, getattr(source, "name", "DEFAULT"), Path.cwd())
    _found[found.path] = found
    return found.path


def config_found(path: Path) -> ConfigFound:
    """How this command's configs were found (for messages and doctor)."""
    return _found.get(path) or ConfigFound(path, "--config", (path / "customers.yaml").is_file())


def config_missing(found: ConfigFound) -> str:
    """Where configs were looked for, and how to name them."""
    if found.looked:
        where = (
            f"no configs/customers.yaml in {found.looked[0]} or any folder above it "
            f"(up to {found.looked[-1]})"
        )
    else:
        where = f"{found.path / 'customers.yaml'} (from {found.how}) does not exist"
    return f"{where}; give the configs folder with --config DIR or PIISCAN_CONFIG=DIR"


LakeOption = Annotated[
    str,
    typer.Option(
        "--lake", envvar="PIISCAN_LAKE", help="Lake root: a folder or s3://bucket/prefix."
    ),
]
ConfigOption = Annotated[
    Path,
    typer.Option(
        "--config",
        envvar="PIISCAN_CONFIG",
        callback=_config_callback,
        help="Folder holding customers.yaml etc. (default ./configs, else the first "
        "configs/customers.yaml found walking up from here).",
    ),
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
    from piiscan.lake.locks import customer_lock

    with customer_lock(storage, customer, clock.now()):
        yield


def load(path: Path) -> Config:
    """The validated configs, or exit 2 naming the file and key (or where configs were sought)."""
    from piiscan.policy import load_config

    found = config_found(path)
    if not found.found:
        raise fail(PiiscanError(config_missing(found)))
    try:
        return load_config(path)
    except PiiscanError as exc:
        raise fail(exc) from None


def plural(count: int, singular: str, many: str | None = None) -> str:
    """'1 entry', '2 entries', '0 rows'."""
    if count == 1:
        return f"{count} {singular}"
    if many is None:
        many = singular[:-1] + "ies" if singular.endswith("y") else singular + "s"
    return f"{count} {many}"


def say(text: str) -> None:
    """A line of plain text (no markup, no highlighting, never wrapped or cut)."""
    console.print(text, markup=False, highlight=False)


def print_table(
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    empty: str,
    whole: Sequence[str] = (),
) -> None:
    """A table of plain strings: a sentence when empty; a rich table in a terminal when it fits
    without splitting a word or a value of the `whole` columns; else aligned plain lines as
    wide as their values (always off a terminal: logs, cron, CI)."""
    if not rows:
        say(empty)
        return
    # Never split a word (a column name, an id) nor a `whole` value: each column at least that
    # wide, and plain lines when those widths do not fit the terminal.
    widest = {
        name: max(
            len(name),
            *(len(r[i]) if name in whole else max(map(len, r[i].split()), default=0) for r in rows),
        )
        for i, name in enumerate(columns)
    }
    if console.is_terminal and sum(widest.values()) + 3 * len(columns) + 1 <= console.width:
        from rich.table import Table

        table = Table(title=escape(title), title_justify="left")
        for name in columns:
            table.add_column(name, overflow="fold", min_width=widest[name])
        for row in rows:
            table.add_row(*(escape(v) for v in row))
        console.print(table)
        return
    widths = [max(len(name), *(len(r[i]) for r in rows)) for i, name in enumerate(columns)]
    say(title)
    for line in (columns, *rows):
        say("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())


def progress_bar() -> Progress:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[item]}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


@contextmanager
def progress(description: str, total: int) -> Iterator[Callable[[str], None]]:
    """A step callback: a rich bar on a terminal, else one plain line per step on stderr."""
    if err.is_terminal:
        with progress_bar() as bar:
            task = bar.add_task(description, total=total, item="")
            yield lambda item: bar.update(task, advance=1, item=escape(item))
        return
    done = 0

    def step(item: str) -> None:
        nonlocal done
        done += 1
        err.print(f"{description} {done}/{total}: {item}", markup=False, highlight=False)

    yield step


def local_prefect() -> None:
    """Prefect's ephemeral mode without telemetry (before flows/ imports Prefect)."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")


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
    from piiscan.lake import keys as lake_keys
    from piiscan.lake.reports import read_report, report_keys

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
    str | None,
    typer.Option("--customer", "-c", help="One customer (default: every configured one)."),
]
