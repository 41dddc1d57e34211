"""A customer's hold registry in state/holds/, with its history of adds and releases."""

from __future__ import annotations

import json
import secrets
from dataclasses import replace
from datetime import date, datetime

from piiscan.errors import PiiscanError
from piiscan.holds import Hold, HoldKind, Registry
from piiscan.lake import keys
from piiscan.storage import Storage


def load_registry(storage: Storage, customer: str) -> Registry:
    """The customer's registry (empty if none was ever written)."""
    key = keys.holds(customer)
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
    storage.write_bytes(keys.holds(registry.customer), (json.dumps(body, indent=1) + "\n").encode())


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
