"""Scanning: the detector a customer's scan uses, reviewers' decisions over scan results, and
lake zones scanned per dataset (rows from the Parquet footers, a bounded sample spread over up
to 20 of its files, in any storage)."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import pyarrow.parquet as pq

from piiscan.detect import Detector, Settings
from piiscan.lake import keys
from piiscan.policy import Config
from piiscan.review import apply_overrides
from piiscan.scan import ROW_BUDGET, ScannedFile, Scanner, expand_extras, spread_rows
from piiscan.storage import Storage


def detector_for(config: Config, customer: str | None, sample: int | None = None) -> Detector:
    """A detector with the customer's employee-ID patterns (none: only the generic shapes),
    the configured actions, and the spaCy/Presidio engines (loaded when a column needs them)."""
    from piiscan.nlp import Engines

    patterns = config.employee_id_patterns(customer)
    return Detector(
        Settings() if sample is None else Settings(sample_size=sample),
        employee_id_patterns=patterns,
        actions=config.entity_actions(),
        models=Engines(patterns),
    )


def with_reviews(
    config: Config, customer: str | None, results: list[ScannedFile]
) -> list[ScannedFile]:
    """Scan results with the reviewers' overrides applied: by layout for carrier files, by
    dataset for lake datasets; without a customer only the overrides for '*' apply."""
    reviewed = []
    for result in results:
        dataset = None if result.layout else result.dataset
        overrides = config.overrides_for(customer, dataset, result.layout)
        columns = tuple(apply_overrides(result.columns, overrides, config.entity_actions()))
        reviewed.append(replace(result, columns=columns) if overrides else result)
    return reviewed


def zone_files(storage: Storage, zone: str, dataset: str, customer: str | None = None) -> list[str]:
    """The Parquet files of a dataset in a zone (all customers', or one customer's)."""
    return [
        k
        for k in storage.list(keys.dataset_folder(zone, dataset, customer))
        if keys.parse_partition_file(k) is not None
    ]


def sample_lake_files(storage: Storage, files: list[str], budget: int = ROW_BUDGET) -> pl.DataFrame:
    """Rows spread over up to 20 of a dataset's files, extras expanded."""
    if not files:
        return pl.DataFrame()
    step = max(len(files) // 20, 1)
    chosen = files[::step][:20]
    frames = []
    for key in chosen:
        with storage.local_copy(key) as local:
            frames.append(spread_rows(pq.ParquetFile(local), max(budget // len(chosen), 1)))
    return expand_extras(pl.concat(frames, how="diagonal_relaxed"))


def scan_lake(scanner: Scanner, storage: Storage, zone: str) -> list[ScannedFile]:
    """One entry per dataset of a lake zone."""
    datasets: dict[str, list[str]] = {}
    for key in storage.list(keys.area(zone)):
        parsed = keys.parse_partition_file(key)
        if parsed is not None:
            datasets.setdefault(parsed.dataset, []).append(key)
    results = []
    for dataset, files in sorted(datasets.items()):
        rows = sum(storage.parquet_metadata(key).num_rows for key in files)
        frame = sample_lake_files(storage, files, scanner.row_budget)
        findings = tuple(scanner.detector.classify(frame))
        where = storage.uri(keys.dataset_folder(zone, dataset))
        results.append(ScannedFile(where, dataset, rows, findings))
    return results
