"""The synthetic carrier files (fixtures) and the demo that runs the nightly flow on them."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from piiscan.cli.app import (
    ConfigOption,
    LakeOption,
    app,
    err,
    load,
    parse_date,
    plural,
    say,
)


def _missing_fixtures_extra(exc: ImportError, command: str) -> typer.Exit:
    """Exit 2 naming the extra when the generator's own dependencies are not installed."""
    missing = (exc.name or "").partition(".")[0]
    if missing not in {"faker", "xlsxwriter"}:
        raise exc
    install = escape("pip install 'piiscan[fixtures]'")
    err.print(
        f"[red]error:[/red] `piiscan {command}` needs the fixtures extra ({missing} is not "
        f"installed): {install}"
    )
    return typer.Exit(code=2)


@app.command()
def fixtures(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the fixture tree into.")],
    customers: Annotated[int, typer.Option(help="Number of customers (1-5).")] = 3,
    months: Annotated[int, typer.Option(help="Bill cycles per account.")] = 2,
    lines: Annotated[int, typer.Option(help="Lines per account.")] = 10,
    events_per_line: Annotated[int, typer.Option(help="Usage events per line per cycle.")] = 20,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same files.")] = 7,
    last_cycle: Annotated[
        str, typer.Option(help="Last bill cycle date, YYYY-MM-DD.")
    ] = "2026-10-16",
    broken: Annotated[bool, typer.Option(help="Also write the broken set.")] = True,
) -> None:
    """Generate synthetic carrier files in real layouts (and a broken set) with expected.json."""
    try:
        from piiscan.testing.generate import generate
    except ImportError as exc:
        raise _missing_fixtures_extra(exc, "fixtures") from None

    expected = generate(
        out,
        customers=customers,
        months=months,
        lines=lines,
        seed=seed,
        events_per_line=events_per_line,
        last_cycle=parse_date(last_cycle, "--last-cycle"),
        broken=broken,
    )
    files = len({e.file for e in expected})
    say(f"wrote {plural(files, 'file')} under {out} (expectations in {out / 'expected.json'})")


@app.command()
def demo(
    lake: LakeOption = "./lake",
    config: ConfigOption = Path("configs"),
    seed: Annotated[int, typer.Option(help="Fixture seed.")] = 7,
) -> None:
    """Generate carrier files into the lake's landing zone and run the nightly flow on them."""
    try:
        from piiscan.testing.generate import generate
        from piiscan.testing.stage import stage_fixtures
    except ImportError as exc:
        raise _missing_fixtures_extra(exc, "demo") from None
    from piiscan.cli.run import run_nightly
    from piiscan.lake import keys as lake_keys
    from piiscan.lake.keyring import create_key
    from piiscan.storage import open_lake

    cfg = load(config)
    storage = open_lake(lake)

    for customer in cfg.customers:  # demo keys; production keys come from a secret store
        create_key(customer.id)
    err.print("generating carrier files...", markup=False, highlight=False)
    with tempfile.TemporaryDirectory(prefix="piiscan-fixtures-") as tmp:
        generate(Path(tmp), customers=len(cfg.customers), months=2, lines=12, seed=seed)
        staged = stage_fixtures(storage, Path(tmp))
    say(f"staged {plural(staged, 'carrier file')} in {storage.uri(lake_keys.area('landing'))}")
    run_nightly(lake, config, None)
    say(f"analytics zone (pseudonymized): {storage.uri(lake_keys.area('analytics'))}")
