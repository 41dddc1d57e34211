"""Audit and legal holds (the model; piiscan.lake.holds reads and writes the registry).

A hold names a customer, optionally a dataset, wireless numbers and periods, a reason and an end
date. Wireless numbers are stored as the customer's pseudonymization tokens, never raw, so the
registry and everything that prints it hold no personal value; it also means the key stays while
a hold refers to it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

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
