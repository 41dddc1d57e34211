"""Row decisions: a property test over random rows, policies, holds and dates, plus cases."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from piiscan.holds import Hold
from piiscan.retention import DECISION, Rules, decide, expiry_cutoff, partition_untouchable

BASE = date(2020, 1, 1)
STATUSES = ("paid", "open", "disputed")


def months_later(day: date, months: int) -> date:
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


rows = st.lists(
    st.tuples(
        st.one_of(st.none(), st.integers(0, 3000).map(lambda d: BASE + timedelta(days=d))),
        st.sampled_from(STATUSES),
        st.sampled_from(["tok-a", "tok-b", "tok-c", None]),
    ),
    min_size=1,
    max_size=40,
)
holds = st.lists(
    st.builds(
        Hold,
        id=st.just("h"),
        kind=st.sampled_from(["legal", "audit"]),
        customer=st.just("acme"),
        reason=st.just("case"),
        dataset=st.sampled_from([None, "invoice_lines", "usage_events"]),
        number_tokens=st.sampled_from([(), ("tok-a",), ("tok-b", "tok-c")]),
        periods=st.sampled_from([(), ("2021-03",), ("2022-01", "2022-02")]),
        until=st.one_of(st.none(), st.integers(0, 4000).map(lambda d: BASE + timedelta(days=d))),
    ),
    max_size=3,
)


def frame_of(data: list[tuple[date | None, str, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "bill_cycle_date": [d for d, _, _ in data],
            "invoice_status": [s for _, s, _ in data],
            "token": [t for _, _, t in data],
            "period": [d.strftime("%Y-%m") if d else "2020-01" for d, _, _ in data],
        },
        schema={
            "bill_cycle_date": pl.Date,
            "invoice_status": pl.String,
            "token": pl.String,
            "period": pl.String,
        },
    )


@settings(max_examples=300, deadline=None)
@given(
    data=rows,
    held=holds,
    keep_months=st.integers(1, 60),
    tax_years=st.integers(1, 10),
    window=st.integers(0, 400),
    as_of=st.integers(0, 5000).map(lambda d: BASE + timedelta(days=d)),
    terminated=st.one_of(st.none(), st.integers(0, 5000).map(lambda d: BASE + timedelta(days=d))),
    dataset=st.sampled_from(["invoice_lines", "usage_events"]),
)
def test_no_held_row_is_deleted_and_no_expired_unheld_row_remains(
    data: list[tuple[date | None, str, str | None]],
    held: list[Hold],
    keep_months: int,
    tax_years: int,
    window: int,
    as_of: date,
    terminated: date | None,
    dataset: str,
) -> None:
    rules = Rules(
        dataset,
        keep_months,
        "bill_cycle_date",
        None,
        as_of,
        terminated,
        tax_years,
        ("invoice_lines",),
        ("open", "disputed"),
        window,
        tuple(held),
    )
    frame = frame_of(data)
    decisions = frame.with_columns(decide(rules, frame.columns, "token"))[DECISION].to_list()
    ended = terminated is not None and as_of >= terminated
    for (day, status, token), decision in zip(data, decisions, strict=True):
        period = day.strftime("%Y-%m") if day else "2020-01"
        expired = ended or (day is not None and months_later(day, keep_months) <= as_of)
        legal = any(
            h.kind == "legal"
            and h.active(as_of)
            and h.dataset in (None, dataset)
            and (not h.periods or period in h.periods)
            and (not h.number_tokens or token in h.number_tokens)
            for h in held
        )
        audit = any(
            h.kind == "audit"
            and h.active(as_of)
            and h.dataset in (None, dataset)
            and (not h.periods or period in h.periods)
            and (not h.number_tokens or token in h.number_tokens)
            for h in held
        )
        # An invoice line without a date may still be inside its tax years: kept (in doubt).
        tax = dataset == "invoice_lines" and (
            day is None or months_later(day, 12 * tax_years) > as_of
        )
        billing = day is not None and (
            day + timedelta(days=window) > as_of
            or (dataset == "invoice_lines" and status in ("open", "disputed"))
        )
        if not expired:
            assert decision in ("active", "no_clock", "legal", "audit")  # untouched
            continue
        expected = (
            "legal"
            if legal
            else "audit"
            if audit
            else "tax"
            if tax
            else "billing"
            if billing
            else "delete"
        )
        assert decision == expected, (day, status, token, expected, decision)


@pytest.mark.parametrize(
    ("clock", "status", "as_of", "expected"),
    [
        (date(2024, 1, 16), "paid", date(2025, 1, 15), "active"),  # 12 months not over
        (date(2024, 1, 16), "paid", date(2025, 1, 16), "tax"),  # over, tax years remain
        (date(2024, 1, 16), "paid", date(2031, 1, 16), "delete"),  # 7 tax years over too
        (date(2024, 1, 16), "disputed", date(2031, 1, 16), "billing"),  # disputes outlive tax
        (None, "paid", date(2031, 1, 16), "no_clock"),  # when in doubt, keep
    ],
)
def test_invoice_line_cases(clock: date | None, status: str, as_of: date, expected: str) -> None:
    rules = Rules(
        "invoice_lines",
        12,
        "bill_cycle_date",
        None,
        as_of,
        None,
        7,
        ("invoice_lines",),
        ("open", "disputed"),
        90,
        (),
    )
    frame = frame_of([(clock, status, None)])
    assert frame.select(decide(rules, frame.columns)).item() == expected


def test_termination_expires_everything_but_holds() -> None:
    hold = Hold("h", "legal", "acme", "case", "usage_events", ("tok-a",))
    rules = Rules(
        "usage_events",
        18,
        "bill_cycle_date",
        None,
        date(2026, 12, 31),
        date(2026, 12, 31),
        7,
        ("invoice_lines",),
        ("open",),
        0,
        (hold,),
    )
    frame = frame_of([(date(2026, 12, 1), "paid", "tok-a"), (date(2026, 12, 1), "paid", "tok-b")])
    assert frame.with_columns(decide(rules, frame.columns, "token"))[DECISION].to_list() == [
        "legal",
        "delete",
    ]


@pytest.mark.parametrize(
    ("period", "as_of", "untouchable"),
    [
        ("2025-01", date(2026, 6, 30), True),
        ("2025-01", date(2026, 7, 1), False),
        ("2020-01", date(2026, 7, 1), False),
    ],
)
def test_partitions_inside_retention_are_not_read(
    period: str, as_of: date, untouchable: bool
) -> None:
    rules = Rules("usage_events", 18, "event_time", None, as_of, None, 7, (), (), 0, ())
    assert partition_untouchable(rules, period) is untouchable


@settings(max_examples=400, deadline=None)
@given(
    as_of=st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)),
    months=st.integers(min_value=0, max_value=240),
)
def test_the_expiry_cutoff_is_the_calendar_offset(as_of: date, months: int) -> None:
    """Every date around the cutoff expires exactly when polars' month offset says so."""
    cutoff = expiry_cutoff(as_of, months)
    days = pl.date_range(cutoff - timedelta(days=40), cutoff + timedelta(days=40), eager=True)
    by_offset = days.dt.offset_by(f"{months}mo") <= as_of
    assert (by_offset == (days <= cutoff)).all()
