"""Registering holds: wireless numbers given in any written form are stored as the customer's
tokens of their canonical form, the same tokens ingest's rows carry."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime

import polars as pl

from piiscan.errors import PiiscanError
from piiscan.holds import Hold, HoldKind
from piiscan.lake import keys
from piiscan.lake.holds import add_hold
from piiscan.phones import EXPECTED, canonical_number
from piiscan.pipeline.scan import zone_files
from piiscan.pseudonymize import Key, tokens
from piiscan.schema import DATASETS
from piiscan.storage import Storage


def line_tokens(numbers: Sequence[str], key: Key | None) -> tuple[str, ...]:
    """The tokens of the lines a hold names; a value that is no wireless number is refused by
    its position (it is personal data: never echoed)."""
    canonical = [canonical_number(n) for n in numbers]
    if None in canonical:
        which = canonical.index(None) + 1
        raise PiiscanError(f"--number value {which} of {len(canonical)} is not {EXPECTED}")
    found = [n for n in canonical if n is not None]
    if not found:
        return ()
    assert key is not None, "a key is needed to hold lines"
    return tuple(tokens(found, key, "PHONE_NUMBER").values())


def rows_held(
    storage: Storage,
    customer: str,
    key: Key | None,
    dataset: str | None,
    number_tokens: tuple[str, ...],
    periods: Sequence[str],
) -> int:
    """How many restricted rows a hold of this scope keeps today."""
    total = 0
    for name in [dataset] if dataset else list(DATASETS):
        for file_key in zone_files(storage, "restricted", name, customer):
            if periods and keys.period_of(file_key) not in periods:
                continue
            if not number_tokens:  # the footer's row count: no need to fetch the data
                total += storage.parquet_metadata(file_key).num_rows
                continue
            with storage.local_copy(file_key) as local:
                numbers = pl.read_parquet(local, columns=["wireless_number"])["wireless_number"]
            assert key is not None
            mine = {
                n
                for n, t in tokens(
                    numbers.drop_nulls().unique().to_list(), key, "PHONE_NUMBER"
                ).items()
                if t in number_tokens
            }
            total += int(numbers.is_in(sorted(mine)).sum())
    return total


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
    allow_empty: bool = False,
) -> Hold:
    """Register a hold on a customer's rows (optionally one dataset, lines and periods). A hold
    that keeps no row today is refused unless allow_empty (registered ahead of a delivery): a
    misspelled scope would otherwise protect nothing, silently."""
    material = key() if numbers else None
    number_tokens = line_tokens(numbers, material)
    if not allow_empty and not rows_held(
        storage, customer, material, dataset, number_tokens, periods
    ):
        scope = ", ".join(
            part
            for part in (
                f"dataset {dataset}" if dataset else "",
                f"{len(number_tokens)} line(s)" if number_tokens else "",
                f"periods {', '.join(periods)}" if periods else "",
            )
            if part
        )
        raise PiiscanError(
            f"the hold ({scope or 'every row'}) keeps no row of {customer} today; check the "
            "scope, or add --allow-empty to register it ahead of a delivery"
        )
    return add_hold(
        storage,
        customer,
        kind,
        reason,
        now,
        dataset=dataset,
        number_tokens=number_tokens,
        periods=tuple(periods),
        until=until,
    )
