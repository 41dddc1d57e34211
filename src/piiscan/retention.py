"""Retention decisions per row, as whole-column polars expressions (pure: no I/O, no clock).

Each row gets one decision: `active` (its clock has not run out), `delete` (expired, no hold), or
the strongest hold that keeps it, by precedence legal > audit > tax > billing. Legal and audit holds
keep rows as they are; tax and billing holds keep them with the personal columns they do not need
pseudonymized. When in doubt (no clock date) a row is kept and the plan says why.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from piiscan.holds import Hold
from piiscan.schema import PERIOD_COLUMN

DECISION = "_decision"
ACTIVE, DELETE, NO_CLOCK = "active", "delete", "no_clock"
HOLD_ORDER = ("legal", "audit", "tax", "billing")
KEEP_AS_IS = frozenset({ACTIVE, NO_CLOCK, "legal", "audit"})
PSEUDONYMIZE = frozenset({"tax", "billing"})


# (column, values) naming one person's rows, or (YYYY-MM, numbers) for recycled numbers.
Subject = tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class Rules:
    """Everything a decision depends on, for one customer's dataset."""

    dataset: str
    keep_months: int
    clock: str
    clock_fallback: str | None
    as_of: date
    terminated: date | None  # account end: everything expires from then on
    tax_years: int
    tax_datasets: tuple[str, ...]
    billing_statuses: tuple[str, ...]
    dispute_window_days: int
    holds: tuple[Hold, ...]
    open_invoices: tuple[tuple[str, date], ...] = ()  # (account, bill cycle) open or disputed
    # An erasure request: (column, values) naming one person's rows (raw values and their
    # tokens). Only those rows are decided, as if their clock had run out; others stay active.
    subject: Subject = ()
    # (YYYY-MM, wireless numbers): bill cycles in which the person's numbers were another
    # employee's (a recycled number); rows of those numbers billed then are not the person's.
    subject_elsewhere: Subject = ()


def subject_rows(subject: Subject, elsewhere: Subject, columns: Sequence[str]) -> pl.Expr:
    """Rows an erasure request names: one of its columns holds one of its values, unless the
    row names another employee, or is on one of the person's numbers in a bill cycle when
    another employee held it (`elsewhere`: (YYYY-MM, numbers); needs a period column)."""
    named = pl.lit(False)
    for column, values in subject:
        if column in columns and values:
            named |= pl.col(column).cast(pl.String).is_in(list(values)).fill_null(False)
    if not subject:
        return named
    if "employee_id" in columns:
        employee = pl.col("employee_id").cast(pl.String)
        ids = list(dict(subject).get("employee_id", ()))
        named &= employee.is_null() | employee.is_in(ids).fill_null(False)
    if elsewhere and {"period", "wireless_number"} <= set(columns):
        number = pl.col("wireless_number").cast(pl.String)
        month = cycle_month(columns)
        for period, numbers in elsewhere:
            taken = (month == period) & number.is_in(list(numbers))
            named &= ~taken.fill_null(False)
    return named.fill_null(False)


def cycle_month(columns: Sequence[str]) -> pl.Expr:
    """The month a row was billed in (YYYY-MM of its bill cycle date, else its partition's
    period): usage partitions hold events by month, but a line's holder is named per bill."""
    if "bill_cycle_date" not in columns:
        return pl.col("period")
    # A Date (as the lake stores it) or ISO text; cast through text, which never raises.
    billed = pl.col("bill_cycle_date").cast(pl.String).str.slice(0, 7)
    billed = pl.when(billed.str.contains(r"^\d{4}-\d{2}$")).then(billed)
    return pl.coalesce(billed, pl.col("period"))


def clock_date(rules: Rules, columns: Sequence[str]) -> pl.Expr:
    """The date a row's retention clock runs from."""

    def as_date(name: str) -> pl.Expr:
        return pl.col(name).cast(pl.Date) if name in columns else pl.lit(None, pl.Date)

    clock = as_date(rules.clock)
    if rules.clock_fallback:
        clock = pl.coalesce(clock, as_date(rules.clock_fallback))
    return clock


def _explicit(rules: Rules, kind: str, columns: Sequence[str], token_column: str | None) -> pl.Expr:
    """Rows an active audit or legal hold of this kind covers."""
    covered = pl.lit(False)
    for hold in rules.holds:
        if hold.kind != kind or not hold.active(rules.as_of):
            continue
        if hold.dataset not in (None, rules.dataset):
            continue
        match = pl.lit(True)
        if hold.periods:
            match &= pl.col("period").is_in(list(hold.periods))
        if hold.number_tokens:
            if token_column is None or token_column not in columns:
                continue
            match &= pl.col(token_column).is_in(list(hold.number_tokens))
        covered |= match
    return covered


def _tax(rules: Rules, columns: Sequence[str]) -> pl.Expr:
    if rules.dataset not in rules.tax_datasets or "bill_cycle_date" not in columns:
        return pl.lit(False)
    until = pl.col("bill_cycle_date").dt.offset_by(f"{rules.tax_years}y")
    return until.fill_null(date.max) > pl.lit(rules.as_of)


def billing_needed(rules: Rules, columns: Sequence[str]) -> pl.Expr:
    """Rows a billing dispute may still need (open/disputed, or inside the dispute window)."""
    return _billing(rules, columns)


def _billing(rules: Rules, columns: Sequence[str]) -> pl.Expr:
    if "bill_cycle_date" not in columns:
        return pl.lit(False)
    window = pl.col("bill_cycle_date") + pl.duration(days=rules.dispute_window_days)
    held = window > pl.lit(rules.as_of)
    if rules.dataset == "invoice_lines" and "invoice_status" in columns:
        held |= pl.col("invoice_status").str.to_lowercase().is_in(list(rules.billing_statuses))
    elif rules.open_invoices and "account_number" in columns:
        keys = [f"{account}|{cycle.isoformat()}" for account, cycle in rules.open_invoices]
        row_key = pl.col("account_number") + "|" + pl.col("bill_cycle_date").cast(pl.String)
        held |= row_key.is_in(keys)
    return held.fill_null(False)


def add_months(day: date, months: int) -> date:
    """The date `months` calendar months later (earlier when negative), on the same day of the
    month or that month's last day (polars' `offset_by("Nmo")`)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def expiry_cutoff(as_of: date, months: int) -> date:
    """The last date whose retention of `months` months is over on `as_of`: a date d expires
    exactly when d <= this (add_months(d, months) <= as_of; add_months keeps order)."""
    cutoff = add_months(as_of, -months)  # expires: back and forth again ends on or before as_of
    while add_months(cutoff + timedelta(days=1), months) <= as_of:
        cutoff += timedelta(days=1)
    return cutoff


def decide(rules: Rules, columns: Sequence[str], token_column: str | None = None) -> pl.Expr:
    """The decision expression for a frame with these columns (and a period column).

    token_column: a column holding the wireless number's token, for holds on lines.
    """
    clock = clock_date(rules, columns)
    # clock + keep_months <= as_of, as a comparison with one date: month offsets keep order,
    # so the rows that expire are those up to a cutoff (no calendar arithmetic per row).
    expires = clock <= pl.lit(expiry_cutoff(rules.as_of, rules.keep_months))
    if rules.subject or (rules.terminated is not None and rules.as_of >= rules.terminated):
        expires = pl.lit(True)
    expired = expires.fill_null(False)
    legal = _explicit(rules, "legal", columns, token_column)
    audit = _explicit(rules, "audit", columns, token_column)
    others = (
        ~subject_rows(rules.subject, rules.subject_elsewhere, columns)
        if rules.subject
        else pl.lit(False)
    )
    return (
        pl.when(others)
        .then(pl.lit(ACTIVE))
        .when(legal & (expired | clock.is_null()))
        .then(pl.lit("legal"))
        .when(audit & (expired | clock.is_null()))
        .then(pl.lit("audit"))
        .when(clock.is_null() & ~expired)
        .then(pl.lit(NO_CLOCK))
        .when(~expired)
        .then(pl.lit(ACTIVE))
        .when(_tax(rules, columns))
        .then(pl.lit("tax"))
        .when(_billing(rules, columns))
        .then(pl.lit("billing"))
        .otherwise(pl.lit(DELETE))
        .alias(DECISION)
    )


def partition_untouchable(rules: Rules, period: str) -> bool:
    """True when no row of a monthly partition can be due: its clock is the period itself, the
    month is inside retention, and the account is not terminated. Such partitions are not read."""
    if rules.clock != PERIOD_COLUMN.get(rules.dataset) or rules.clock_fallback:
        return False
    if rules.terminated is not None and rules.as_of >= rules.terminated:
        return False
    year, month = int(period[:4]), int(period[5:7])
    total = year * 12 + (month - 1) + rules.keep_months
    earliest_expiry = date(total // 12, total % 12 + 1, 1)
    return earliest_expiry > rules.as_of
