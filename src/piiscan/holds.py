"""Audit and legal holds: a registry per customer in state/holds/, with its history.

A hold names a customer, optionally a dataset, wireless numbers and periods, a reason and an end
date. Wireless numbers are stored as the customer's pseudonymization tokens, never raw, so the
registry and everything that prints it hold no personal value; it also means the key stays while
a hold refers to it.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from typing import Any, Literal

from piiscan.errors import PiiscanError
from piiscan.storage import Storage, join

HoldKind = Literal["legal", "audit"]


@dataclass(frozen=True)
class Hold:
    """One audit or legal hold."""

    id: str
    kind: HoldKind
    customer: str
    reason: str
    dataset: str | None = None  # None: every dataset
    number_tokens: tuple[str, ...] = ()  # empty: every line
    periods: tuple[str, ...] = ()  # YYYY-MM; empty: every period
    until: date | None = None  # None: until released
    created_at: str = ""
    released_at: str | None = None

    def active(self, as_of: date) -> bool:
        """Whether the hold still keeps rows on this date."""
        return self.released_at is None and (self.until is None or self.until >= as_of)

    def as_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        data = asdict(self)
        data["until"] = self.until.isoformat() if self.until else None
        data["number_tokens"] = list(self.number_tokens)
        data["periods"] = list(self.periods)
        return data


@dataclass
class Registry:
    """A customer's holds and the history of adds and releases."""

    customer: str
    holds: list[Hold] = field(default_factory=list)
    history: list[dict[str, str]] = field(default_factory=list)

    def active(self, as_of: date) -> list[Hold]:
        """Holds in force on a date."""
        return [h for h in self.holds if h.active(as_of)]


def _key(customer: str) -> str:
    return join("state", "holds", f"{customer}.json")


def load_registry(storage: Storage, customer: str) -> Registry:
    """The customer's registry (empty if none was ever written)."""
    key = _key(customer)
    if not storage.exists(key):
        return Registry(customer)
    data = json.loads(storage.read_bytes(key))
    holds = [
        Hold(
            **{
                **h,
                "until": date.fromisoformat(h["until"]) if h["until"] else None,
                "number_tokens": tuple(h["number_tokens"]),
                "periods": tuple(h["periods"]),
            }
        )
        for h in data["holds"]
    ]
    return Registry(customer, holds, data["history"])


def save_registry(storage: Storage, registry: Registry) -> None:
    """Write the registry atomically."""
    body = {
        "customer": registry.customer,
        "holds": [h.as_json() for h in registry.holds],
        "history": registry.history,
    }
    storage.write_bytes(_key(registry.customer), (json.dumps(body, indent=1) + "\n").encode())


def add_hold(
    storage: Storage,
    customer: str,
    kind: HoldKind,
    reason: str,
    now: datetime,
    *,
    dataset: str | None = None,
    number_tokens: tuple[str, ...] = (),
    periods: tuple[str, ...] = (),
    until: date | None = None,
) -> Hold:
    """Register a hold and record it in the history."""
    registry = load_registry(storage, customer)
    hold = Hold(
        f"{kind}-{secrets.token_hex(4)}",
        kind,
        customer,
        reason,
        dataset,
        number_tokens,
        periods,
        until,
        now.isoformat(timespec="seconds"),
    )
    registry.holds.append(hold)
    registry.history.append({"at": hold.created_at, "event": "add", "hold": hold.id})
    save_registry(storage, registry)
    return hold


def release_hold(storage: Storage, customer: str, hold_id: str, now: datetime) -> Hold:
    """Release a hold; it stays in the registry with its release time."""
    registry = load_registry(storage, customer)
    for index, hold in enumerate(registry.holds):
        if hold.id == hold_id and hold.released_at is None:
            released = replace(hold, released_at=now.isoformat(timespec="seconds"))
            registry.holds[index] = released
            registry.history.append(
                {"at": released.released_at or "", "event": "release", "hold": hold_id}
            )
            save_registry(storage, registry)
            return released
    raise PiiscanError(f"no active hold {hold_id!r} for customer {customer!r}")
