"""The one place piiscan reads the wall clock; everything below the faces takes the time as a
parameter. `PIISCAN_NOW` (ISO 8601 with an offset, e.g. `2026-11-28T09:00:00Z`) pins it, so tests
and replays never depend on today's date or the machine's time zone."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

from piiscan.errors import ConfigError

ENV = "PIISCAN_NOW"


def now() -> datetime:
    """The current time in UTC, or the pinned `PIISCAN_NOW`."""
    pinned = os.environ.get(ENV, "").strip()
    if not pinned:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(pinned)
    except ValueError:
        raise ConfigError(
            ENV, "value", "expected an ISO 8601 time with an offset, e.g. 2026-11-28T09:00:00Z"
        ) from None
    if when.tzinfo is None:
        raise ConfigError(ENV, "value", "the time needs an offset (Z or +hh:mm)")
    return when.astimezone(UTC)


def today() -> date:
    """Today's date in UTC (the date retention and lookbacks count from)."""
    return now().date()
