"""Mirroring a customer's restricted zone into the analytics zone, dataset by dataset: every file
of a dataset is pseudonymized and staged before any is published.

Incremental: an analytics file whose restricted source (its fingerprint), column plans (actions,
overrides, reviews, detection), key version and piiscan version are what it was made from, and
which is itself unchanged, is left as it is (piiscan.lake.provenance); a night with nothing
delivered and nothing due rewrites nothing."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Collection, Mapping
from dataclasses import asdict
from pathlib import Path

import polars as pl

import piiscan
from piiscan.errors import NotFoundError, PolicyError
from piiscan.lake import keys
from piiscan.lake.provenance import Sources, load_sources, made_from, save_sources
from piiscan.pipeline.scan import zone_files
from piiscan.pseudonymize import (
    DatasetResult,
    Key,
    Redaction,
    SpanFinder,
    plan_columns,
    pseudonymize_frame,
)
from piiscan.schema import DATASETS, EXTRAS
from piiscan.storage import Storage


def key_identity(key: Key) -> str:
    """The key's version and a one-way digest of its secret (never the secret): a rotated or
    replaced key makes every analytics file be written again."""
    digest = hashlib.sha256(b"piiscan analytics provenance\0" + key.secret).hexdigest()
    return f"{key.version}:{digest[:16]}"


def _unchanged(
    storage: Storage, target: str, record: Mapping[str, object] | None, digest: str
) -> bool:
    """Whether the analytics file at target was made from exactly these inputs and is itself
    as it was written."""
    if record is None or record.get("made_from") != digest:
        return False
    try:
        return storage.fingerprint(target) == record.get("fingerprint")
    except NotFoundError:
        return False


def pseudonymize_dataset(
    storage: Storage,
    customer: str,
    dataset: str,
    key: Key,
    detected: Mapping[str, str | None],
    entity_actions: Mapping[str, str],
    column_actions: Mapping[str, str],
    reviewed: Collection[str] = (),
    sources: Sources | None = None,
    finder: SpanFinder | None = None,
    redaction: str = "token",
) -> DatasetResult:
    """Mirror one dataset of one customer; all of its files, or none of them. sources: what the
    customer's analytics files were made from (updated in place for the files written; None:
    read and saved here). Free text to redact is read by `finder` (the spaCy/Presidio engines,
    loaded only when a column needs them)."""
    own_record = sources is None
    record = load_sources(storage, customer) if sources is None else sources
    files = zone_files(storage, "restricted", dataset, customer)
    columns = [*DATASETS[dataset], EXTRAS]
    plans = plan_columns(dataset, columns, detected, entity_actions, column_actions, reviewed)
    extras_names = sorted(c for c in detected if c.startswith(f"{EXTRAS}."))
    extras_plans = plan_columns(
        dataset, extras_names, detected, entity_actions, column_actions, reviewed
    )
    applied: list[dict[str, object]] = [asdict(p) for p in plans + extras_plans]
    redactor = None
    if any(p.action == "redact" for p in plans + extras_plans):
        applied.append({"redaction": redaction})  # a new mode writes the files again
        if finder is None:
            from piiscan.nlp import Engines

            finder = Engines()
        redactor = Redaction(finder, redaction)
    staged: list[tuple[Path, str, str, int]] = []
    rows = 0
    kept = 0
    with tempfile.TemporaryDirectory(prefix="piiscan-pseudo-") as tmp:
        for index, source in enumerate(files):
            target = keys.mirror(source, "analytics")
            digest = made_from(
                storage.fingerprint(source), applied, key_identity(key), piiscan.__version__
            )
            if _unchanged(storage, target, record.get(target), digest):
                rows += int(record[target]["rows"])
                kept += 1
                continue
            with storage.local_copy(source) as local:
                frame = pl.read_parquet(local)
            result = pseudonymize_frame(frame, plans, key, dataset, extras_plans, redactor)
            if result.height != frame.height:
                raise PolicyError(dataset, "*", "row count changed while pseudonymizing")
            path = Path(tmp) / f"{index}.parquet"
            result.write_parquet(path)
            staged.append((path, target, digest, result.height))
            rows += result.height
        for path, target, digest, height in staged:  # only once every file is ready
            storage.put_file(path, target)
            record[target] = {
                "made_from": digest,
                "fingerprint": storage.fingerprint(target),
                "rows": height,
            }
    if own_record and staged:
        save_sources(storage, customer, record)
    return DatasetResult(
        dataset,
        len(files),
        rows,
        tuple(plans + extras_plans),
        tuple(keys.mirror(f, "analytics") for f in files),
        files_written=len(staged),
    )
