"""The clock: PIISCAN_NOW pins it, always in UTC; a malformed value fails naming the variable."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from piiscan.errors import ConfigError
from piiscan.lake import clock


@pytest.mark.parametrize(
    ("pinned", "now", "today"),
    [
        ("2026-11-28T09:00:00Z", datetime(2026, 11, 28, 9, tzinfo=UTC), date(2026, 11, 28)),
        (
            "2026-12-01T01:30:00+05:00",
            datetime(2026, 11, 30, 20, 30, tzinfo=UTC),
            date(2026, 11, 30),
        ),
        ("2026-11-30T22:00:00-03:00", datetime(2026, 12, 1, 1, tzinfo=UTC), date(2026, 12, 1)),
    ],
)
def test_a_pinned_clock_is_read_in_utc(
    monkeypatch: pytest.MonkeyPatch, pinned: str, now: datetime, today: date
) -> None:
    monkeypatch.setenv(clock.ENV, pinned)
    assert clock.now() == now and clock.now().tzinfo == UTC
    assert clock.today() == today


@pytest.mark.parametrize("pinned", ["yesterday", "2026-13-01T00:00:00Z", "2026-11-28T09:00:00"])
def test_a_malformed_pin_names_the_variable(monkeypatch: pytest.MonkeyPatch, pinned: str) -> None:
    monkeypatch.setenv(clock.ENV, pinned)
    with pytest.raises(ConfigError, match="PIISCAN_NOW"):
        clock.now()


def test_without_a_pin_the_clock_is_the_real_one_in_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(clock.ENV)
    before = datetime.now(UTC)
    assert before <= clock.now() <= datetime.now(UTC)
    assert clock.now().tzinfo == UTC
