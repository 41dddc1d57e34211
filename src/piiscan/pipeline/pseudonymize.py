"""Mirroring a customer's restricted zone into the analytics zone, dataset by dataset: every file
of a dataset is pseudonymized and staged before any is published."""

from __future__ import annotations

import tempfile
from collections.abc import Collection, Mapping
from pathlib import Path

import polars as pl

from piiscan.errors import PolicyError
from piiscan.lake import keys
from piiscan.pipeline.scan import zone_files
from piiscan.pseudonymize import DatasetResult, Key, plan_columns, pseudonymize_frame
from piiscan.schema import DATASETS, EXTRAS
from piiscan.storage import Storage


def pseudonymize_dataset(
    storage: Storage,
    customer: str,
    dataset: str,
    key: Key,
    detected: Mapping[str, str | None],
    entity_actions: Mapping[str, str],
    column_actions: Mapping[str, str],
    reviewed: Collection[str] = (),
) -> DatasetResult:
    """Mirror one dataset of one customer; all of its files, or none of them."""
    sources = zone_files(storage, "restricted", dataset, customer)
    columns = [*DATASETS[dataset], EXTRAS]
    plans = plan_columns(dataset, columns, detected, entity_actions, column_actions, reviewed)
    extras_names = sorted(c for c in detected if c.startswith(f"{EXTRAS}."))
    extras_plans = plan_columns(
        dataset, extras_names, detected, entity_actions, column_actions, reviewed
    )
    staged: list[tuple[Path, str]] = []
    rows = 0
    with tempfile.TemporaryDirectory(prefix="piiscan-pseudo-") as tmp:
        for index, source in enumerate(sources):
            with storage.local_copy(source) as local:
                frame = pl.read_parquet(local)
            result = pseudonymize_frame(frame, plans, key, dataset, extras_plans)
            if result.height != frame.height:
                raise PolicyError(dataset, "*", "row count changed while pseudonymizing")
            path = Path(tmp) / f"{index}.parquet"
            result.write_parquet(path)
            staged.append((path, keys.mirror(source, "analytics")))
            rows += result.height
        for path, target in staged:  # only once every file of the dataset is ready
            storage.put_file(path, target)
    return DatasetResult(
        dataset, len(sources), rows, tuple(plans + extras_plans), tuple(t for _, t in staged)
    )
