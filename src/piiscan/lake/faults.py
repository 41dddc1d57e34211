"""Fault injection for the crash tests: named points where a test may kill the process."""

from __future__ import annotations

import os


def checkpoint(name: str) -> None:
    """A named point where the crash test may kill the process (PIISCAN_CRASH_AT)."""
    if os.environ.get("PIISCAN_CRASH_AT") == name:
        os._exit(70)
