"""Registering holds: wireless numbers given in any written form are stored as the customer's
tokens of their canonical form, the same tokens ingest's rows carry."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime

from piiscan.errors import PiiscanError
from piiscan.holds import Hold, HoldKind
from piiscan.lake.holds import add_hold
from piiscan.phones import EXPECTED, canonical_number
from piiscan.pseudonymize import Key, tokens
from piiscan.storage import Storage


def line_tokens(numbers: Sequence[str], key: Callable[[], Key]) -> tuple[str, ...]:
    """The tokens of the lines a hold names; a value that is no wireless number is refused by
    its position (it is personal data: never echoed). The key is loaded only when needed."""
    canonical = [canonical_number(n) for n in numbers]
    if None in canonical:
        which = canonical.index(None) + 1
        raise PiiscanError(f"--number value {which} of {len(canonical)} is not {EXPECTED}")
    found = [n for n in canonical if n is not None]
    return tuple(tokens(found, key(), "PHONE_NUMBER").values()) if found else ()


def add_line_hold(
    storage: Storage,
    customer: str,
    kind: HoldKind,
    reason: str,
    now: datetime,
    key: Callable[[], Key],
    *,
    dataset: str | None = None,
    numbers: Sequence[str] = (),
    periods: Sequence[str] = (),
    until: date | None = None,
) -> Hold:
    """Register a hold on a customer's rows (optionally one dataset, lines and periods)."""
    return add_hold(
        storage,
        customer,
        kind,
        reason,
        now,
        dataset=dataset,
        number_tokens=line_tokens(numbers, key),
        periods=tuple(periods),
        until=until,
    )
