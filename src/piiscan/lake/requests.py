"""Subject requests in the lake: pending ones (with their selector) in the restricted zone,
completed records (a keyed hash of the selector, no identifier) in state/requests/."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from piiscan.lake import keys
from piiscan.policy import Config
from piiscan.pseudonymize import Key
from piiscan.storage import Storage
from piiscan.subject import RequestError, Selector


def create_request(
    storage: Storage,
    config: Config,
    customer: str,
    action: str,
    selector: Selector,
    months: int,
    now: datetime,
) -> str:
    """Record a pending request in the restricted zone; returns its id."""
    config.customer(customer)
    if action not in ("export", "erase"):
        raise RequestError(f"unknown action {action!r}; expected export or erase")
    if not 1 <= months <= 120:
        raise RequestError("the lookback must be 1 to 120 months")
    for key in _finished(storage, keys.pending_requests(customer)):
        pending = json.loads(storage.read_bytes(key))
        asked = (pending["action"], pending["selector"], pending["months"])
        if asked == (action, {"kind": selector.kind, "value": selector.value}, months):
            return str(pending["request_id"])  # an interrupted run of the same request: resume it
    request_id = keys.new_run_id(now)
    body = {
        "request_id": request_id,
        "customer": customer,
        "action": action,
        "selector": {"kind": selector.kind, "value": selector.value},
        "months": months,
        "received_at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "status": "pending",
    }
    storage.write_bytes(
        keys.pending_request(customer, request_id), json.dumps(body, indent=1).encode()
    )
    return request_id


def save_request(storage: Storage, request: dict[str, Any]) -> None:
    """Rewrite a pending request (e.g. with the identity an erasure resolved before its first
    change, so that a rerun after a kill erases the same person's rows)."""
    key = keys.pending_request(request["customer"], request["request_id"])
    storage.write_bytes(key, json.dumps(request, indent=1).encode())


def load_request(storage: Storage, request_id: str) -> tuple[dict[str, Any], Selector]:
    """A pending request and its selector."""
    if not re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{6}", request_id):
        raise RequestError(f"{request_id!r} is not a request id")
    found = [
        k for k in _finished(storage, keys.pending_requests()) if keys.request_of(k) == request_id
    ]
    if not found:
        raise RequestError(f"request {request_id} is not pending (unknown or already complete)")
    key = found[0]
    body: dict[str, Any] = json.loads(storage.read_bytes(key))
    selector = Selector.of(body["selector"]["kind"], body["selector"]["value"])
    return body, selector


def complete_request(
    storage: Storage,
    request: dict[str, Any],
    selector: Selector,
    key: Key,
    outcome: dict[str, Any],
    now: datetime,
    status: str = "complete",
) -> dict[str, Any]:
    """Replace the pending request by its record: the selector becomes a keyed hash."""
    record = {
        "request_id": request["request_id"],
        "customer": request["customer"],
        "action": request["action"],
        "selector": {"kind": selector.kind, "hash": selector.token(key)},
        "months": request["months"],
        "received_at": request["received_at"],
        "completed_at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "status": status,
        "outcome": outcome,
    }
    storage.write_bytes(
        keys.request_record(request["customer"], request["request_id"]),
        json.dumps(record, indent=1).encode(),
    )
    storage.delete(keys.pending_request(request["customer"], request["request_id"]))
    return record


def completed_requests(storage: Storage, customer: str) -> list[dict[str, Any]]:
    """The customer's completed request records (no identifier), oldest first."""
    found = _finished(storage, keys.request_records(customer))
    return [json.loads(storage.read_bytes(k)) for k in found]


def _finished(storage: Storage, prefix: str) -> list[str]:
    """The keys under prefix, without staging objects (a write in progress or killed)."""
    return [k for k in storage.list(prefix) if not keys.is_staging(k)]
