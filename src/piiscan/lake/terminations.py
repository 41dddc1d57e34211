"""A customer's termination as a state in the lake (state/terminations/<customer>.json), so every
later run knows the account ended without anyone editing retention.yaml.

`scheduled`: an effective date (from `terminate --apply` before that day, or retention.yaml's
`terminated:`); nothing is deleted until the nightly of that day applies it. `applied`: each
application (when, the digest of the plan applied, the ledger entry, the certificate) and the
certificates written. The key's state: `in_use` until the termination, `kept` while raw rows or
holds may still need it (and why), `retiring` while it is being destroyed, `retired` once it is
(where it lived, when). No personal value is ever part of the record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from piiscan.errors import StorageError
from piiscan.lake import keys
from piiscan.storage import Storage

SCHEDULED, APPLIED = "scheduled", "applied"
KEY_IN_USE, KEY_KEPT, KEY_RETIRING, KEY_RETIRED = "in_use", "kept", "retiring", "retired"


def _key_state(state: str, detail: str = "", at: str | None = None) -> dict[str, Any]:
    return {"state": state, "detail": detail, "at": at}


@dataclass(frozen=True)
class TerminationRecord:
    """A customer's account end: scheduled or applied, its certificates and its key's state."""

    customer: str
    effective: date
    status: str  # scheduled | applied
    requested_at: str
    requested_by: str  # what asked for it: "terminate --apply", "retention.yaml", a flow
    applications: tuple[dict[str, Any], ...] = ()
    certificates: tuple[str, ...] = ()
    key: dict[str, Any] = field(default_factory=lambda: _key_state(KEY_IN_USE))

    @property
    def applied(self) -> bool:
        """Whether the termination has been applied (at least once)."""
        return self.status == APPLIED

    @property
    def key_state(self) -> str:
        """in_use, kept, retiring or retired."""
        return str(self.key.get("state", KEY_IN_USE))

    def due(self, today: date) -> bool:
        """Whether a scheduled termination is due on this date."""
        return self.status == SCHEDULED and self.effective <= today

    def with_key(self, state: str, detail: str, at: str) -> TerminationRecord:
        """The record with the key in a new state."""
        return replace(self, key=_key_state(state, detail, at))

    def as_json(self) -> dict[str, Any]:
        """JSON form (ids, dates, digests and lake keys only)."""
        return {
            "customer": self.customer,
            "effective_date": self.effective.isoformat(),
            "status": self.status,
            "requested_at": self.requested_at,
            "requested_by": self.requested_by,
            "applied_at": self.applications[0]["at"] if self.applications else None,
            "applications": list(self.applications),
            "certificates": list(self.certificates),
            "key": dict(self.key),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TerminationRecord:
        """The record as_json wrote."""
        return cls(
            customer=data["customer"],
            effective=date.fromisoformat(data["effective_date"]),
            status=data["status"],
            requested_at=data["requested_at"],
            requested_by=data["requested_by"],
            applications=tuple(data.get("applications", ())),
            certificates=tuple(data.get("certificates", ())),
            key=dict(data.get("key") or _key_state(KEY_IN_USE)),
        )


def scheduled(customer: str, effective: date, at: str, by: str) -> TerminationRecord:
    """A new scheduled termination."""
    return TerminationRecord(customer, effective, SCHEDULED, at, by)


def load_termination(storage: Storage, customer: str) -> TerminationRecord | None:
    """The customer's termination record (None: no termination was ever recorded)."""
    key = keys.termination(customer)
    if not storage.exists(key):
        return None
    try:
        return TerminationRecord.from_json(json.loads(storage.read_bytes(key)))
    except (ValueError, KeyError, TypeError) as exc:
        raise StorageError(
            storage.uri(key), f"termination record unreadable ({type(exc).__name__})"
        ) from None


def save_termination(storage: Storage, record: TerminationRecord) -> None:
    """Write the record atomically."""
    body = json.dumps(record.as_json(), indent=1) + "\n"
    storage.write_bytes(keys.termination(record.customer), body.encode())
