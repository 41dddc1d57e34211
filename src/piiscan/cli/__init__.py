"""The `piiscan` command line: one module per group of commands, all on one Typer app.

Commands only parse options, call one pipeline (or lake) function and print; the work is in
piiscan.pipeline.
"""

from piiscan.cli import (  # noqa: F401 (commands)
    datasets,
    demo,
    doctor,
    holds,
    ingest,
    layouts,
    purge,
    report,
    review,
    run,
    server,
    subject,
)
from piiscan.cli.app import app

__all__ = ["app"]
