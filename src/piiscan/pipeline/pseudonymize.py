"""Mirroring a customer's restricted zone into the analytics zone, dataset by dataset: every file
of a dataset is pseudonymized and staged before any is published.

Incremental: an analytics file whose restricted source (its fingerprint), column plans (actions,
overrides, reviews, detection), key version and piiscan version are what it was made from, and
which is itself unchanged, is left as it is (piiscan.lake.provenance); a night with nothing
delivered and nothing due rewrites nothing."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import polars as pl

import piiscan
from piiscan.errors import NotFoundError, PolicyError
from piiscan.lake import keys
from piiscan.lake.provenance import Sources, load_sources, made_from, save_sources
from piiscan.pipeline.scan import zone_files
from piiscan.pseudonymize import (
    ColumnPlan,
    DatasetResult,
    Key,
    Redaction,
    SpanFinder,
    TokenMap,
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


@dataclass(frozen=True)
class FileJob:
    """One restricted file to pseudonymize into a staged local file: lake keys, column plans
    and paths only (no frame, no key), so a Dask worker can do it from this alone."""

    customer: str
    dataset: str
    source: str
    staged: str
    plans: tuple[ColumnPlan, ...]
    extras_plans: tuple[ColumnPlan, ...]
    redaction: str | None  # the redaction style when a column is redacted, else None


# Runs every job and returns each one's row count, in order (the serial default, or Dask).
RunFiles = Callable[[Sequence[FileJob]], list[int]]


def pseudonymize_file(
    storage: Storage,
    job: FileJob,
    key: Key,
    redactor: Redaction | None = None,
    token_map: TokenMap | None = None,
) -> int:
    """Pseudonymize one restricted file into job.staged (not yet published); its row count.
    redactor: needed when job.redaction is set (Dask workers build their own). token_map: the
    tokens of this run so far (None: this file's own). The input frame is let go before the
    result is written, so the two are not held together while writing."""
    with storage.local_copy(job.source) as local:
        frame = pl.read_parquet(local)
    plans, extras = list(job.plans), list(job.extras_plans)
    result = pseudonymize_frame(frame, plans, key, job.dataset, extras, redactor, token_map)
    height = frame.height
    del frame
    if result.height != height:
        raise PolicyError(job.dataset, "*", "row count changed while pseudonymizing")
    result.write_parquet(job.staged)
    return height


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
    run_files: RunFiles | None = None,
) -> DatasetResult:
    """Mirror one dataset of one customer; all of its files, or none of them. sources: what the
    customer's analytics files were made from (updated in place for the files written; None:
    read and saved here). Free text to redact is read by `finder` (the spaCy/Presidio engines,
    loaded only when a column needs them). run_files: runs the files to write (pseudonymize_file
    each; None: one after another here, else e.g. on Dask workers sharing this host's TMPDIR)."""
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
    redacting = any(p.action == "redact" for p in plans + extras_plans)
    if redacting:
        applied.append({"redaction": redaction})  # a new mode writes the files again
    staged: list[tuple[FileJob, str, str]] = []
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
            job = FileJob(
                customer,
                dataset,
                source,
                str(Path(tmp) / f"{index}.parquet"),
                tuple(plans),
                tuple(extras_plans),
                redaction if redacting else None,
            )
            staged.append((job, target, digest))
        if run_files is None:
            redactor = None
            if redacting and staged:
                if finder is None:
                    from piiscan.nlp import Engines

                    finder = Engines()
                redactor = Redaction(finder, redaction)
            token_map = TokenMap(key)  # each value HMAC'd once in this run, not once per file
            heights = [
                pseudonymize_file(storage, job, key, redactor, token_map) for job, _, _ in staged
            ]
            del token_map
        else:
            heights = run_files([job for job, _, _ in staged]) if staged else []
        rows += sum(heights)
        for (job, target, digest), height in zip(staged, heights, strict=True):
            storage.put_file(Path(job.staged), target)  # only once every file is ready
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
