"""Ingest: delivered carrier files -> canonical Parquet in the restricted zone.

One delivered file (a zip counts as one) is all-or-nothing: its rows land, or the file goes to
quarantine with a reason and nothing of it lands. Rows that fail validation go to quarantine with
their line numbers while the file's good rows land. A file already ingested (same SHA-256) is
skipped, and output names derive from the checksum, so a rerun never duplicates rows.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import polars as pl
import pyarrow.parquet as pq

from piiscan.errors import EncodingError, IngestError, LayoutError, SchemaError, StorageError
from piiscan.ingest.carriers import POST_ERROR, SKIP, FileContext, post_process
from piiscan.ingest.convert import convert
from piiscan.ingest.layouts import LAYOUTS, Column, Layout, normalize
from piiscan.ingest.reader import (
    HEAD_BYTES,
    LINE,
    RAGGED,
    Header,
    decode_head,
    excel_frames,
    find_header,
    missing_columns,
    parquet_frames,
    sniff,
    text_frames,
)
from piiscan.policy import Customer
from piiscan.schema import PERIOD_COLUMN, conform, snake_case
from piiscan.storage import Storage, join
from piiscan.types import FileResult, IngestSummary

MAX_LISTED_REJECTIONS = 1000
Progress = Callable[[str], None]


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def new_run_id(now: datetime | None = None) -> str:
    """A sortable run id: 20261128T021500Z-<6 hex>."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{hashlib.sha256(str(datetime.now(UTC)).encode()).hexdigest()[:6]}"


# --- detection -----------------------------------------------------------------------------


def detect_text(name: str, head: bytes) -> tuple[Layout, Header]:
    """The layout and header of a delimited text file, from its name and first lines."""
    text_layouts = [lay for lay in LAYOUTS if lay.format == "csv"]
    named = [lay for lay in text_layouts if lay.matches_name(name)]
    for layout in named:
        header = find_header(decode_head(head, layout, name), layout, name)
        if header is not None:
            return layout, header
    if named:
        layout = named[0]
        missing = missing_columns(decode_head(head, layout, name), layout)
        raise SchemaError(
            name,
            f"header lacks required column(s) {', '.join(map(repr, missing))} of layout "
            f"{layout.name}",
        )
    for layout in text_layouts:  # a renamed file: recognise it by its header alone
        try:
            header = find_header(decode_head(head, layout, name), layout, name)
        except EncodingError:
            continue
        if header is not None:
            return layout, header
    raise LayoutError(name, "no known layout matches the file name or the header")


def detect_columns(name: str, columns: tuple[str, ...], fmt: str) -> Layout:
    """The layout of an XLSX or Parquet file from its name and column names."""
    normalized = [normalize(c) for c in columns]
    repeated = sorted({c for c in columns if normalized.count(normalize(c)) > 1})
    if repeated:
        raise SchemaError(name, f"column {repeated[0]!r} appears more than once in the header")
    candidates = [lay for lay in LAYOUTS if lay.format == fmt]
    named = [lay for lay in candidates if lay.matches_name(name)]
    for layout in [*named, *[c for c in candidates if c not in named]]:
        if {normalize(h) for h in layout.signature} <= set(normalized):
            return layout
    if named:
        missing = [h for h in named[0].signature if normalize(h) not in normalized]
        raise SchemaError(
            name,
            f"lacks required column(s) {', '.join(map(repr, missing))} of layout {named[0].name}",
        )
    raise LayoutError(name, "no known layout matches the file name or the columns")


# --- outputs -------------------------------------------------------------------------------


@dataclass
class _Outputs:
    """Parquet files being written for one delivered file, kept local until commit."""

    folder: Path
    customer: str
    stem: str
    writers: dict[tuple[str, str], tuple[pq.ParquetWriter, Path]] = field(default_factory=dict)
    rejected: dict[str, tuple[pq.ParquetWriter, Path]] = field(default_factory=dict)

    def write(self, dataset: str, frame: pl.DataFrame) -> None:
        for (period,), part in frame.partition_by("period", as_dict=True).items():
            key = join(
                "restricted",
                dataset,
                f"customer={self.customer}",
                f"period={period}",
                f"{self.stem}.parquet",
            )
            table = part.drop("period").to_arrow()
            if (dataset, key) not in self.writers:
                path = self.folder / f"{len(self.writers)}.parquet"
                self.writers[(dataset, key)] = (pq.ParquetWriter(path, table.schema), path)
            writer, _ = self.writers[(dataset, key)]
            writer.write_table(table.cast(writer.schema))

    def reject(self, unit: str, frame: pl.DataFrame) -> None:
        table = frame.to_arrow()
        if unit not in self.rejected:
            path = self.folder / f"rejected-{len(self.rejected)}.parquet"
            self.rejected[unit] = (pq.ParquetWriter(path, table.schema), path)
        writer, _ = self.rejected[unit]
        writer.write_table(table.cast(writer.schema))

    def close(self) -> None:
        for writer, _ in [*self.writers.values(), *self.rejected.values()]:
            writer.close()


@dataclass
class _Tally:
    rows: dict[str, int] = field(default_factory=dict)
    rejected: int = 0
    skipped: int = 0
    rejections: list[dict[str, Any]] = field(default_factory=list)
    layouts: list[str] = field(default_factory=list)


# --- parsing -------------------------------------------------------------------------------


def _plan(layout: Layout, header: tuple[str, ...]) -> list[tuple[str, Column]]:
    """Each delivered column (c0..cN) with what it maps onto; extras become text columns."""
    plan = []
    taken: set[str] = set()
    for i, name in enumerate(header):
        column = layout.fields.get(normalize(name))
        if column is None:
            target = snake_case(name)
            while target in taken or target in {c.target for c in layout.columns}:
                target += "_x"
            column = Column(name, target)
        taken.add(column.target)
        plan.append((f"c{i}", column))
    return plan


def _convert(frame: pl.DataFrame, plan: list[tuple[str, Column]], layout: Layout) -> pl.DataFrame:
    values, errors = [], []
    for source, column in plan:
        value, error = convert(source, column)
        values.append(value)
        errors.append(error)
    present = {column.target for _, column in plan}
    for column in layout.columns:  # optional columns the file does not have
        if column.target not in present:
            values.append(pl.lit(None, pl.String).alias(column.target))
    ragged = pl.when(pl.col(RAGGED)).then(
        pl.lit(f"row has a different number of fields than the header ({len(plan)})")
    )
    error = pl.concat_str([ragged, *errors], separator="; ", ignore_nulls=True)
    return frame.select(
        *values, pl.col(LINE), pl.when(error == "").then(None).otherwise(error).alias("_error")
    )


def _process_unit(
    unit: str,
    layout: Layout,
    header: tuple[str, ...],
    frames: Iterator[pl.DataFrame],
    context: FileContext,
    outputs: _Outputs,
    tally: _Tally,
) -> None:
    """Convert, check and route every row of one file or archive member."""
    plan = _plan(layout, header)
    tally.layouts.append(layout.name)
    raw_names = {source: column.header for source, column in plan}
    for raw in frames:
        frame = post_process(layout, _convert(raw, plan, layout), context)
        if SKIP in frame.columns:
            skip = frame[SKIP].fill_null(False)
            tally.skipped += int(skip.sum())
            frame, raw = frame.filter(~skip), raw.filter(~skip)
        if POST_ERROR in frame.columns:
            frame = frame.with_columns(
                pl.concat_str(
                    [pl.col("_error"), pl.col(POST_ERROR)], separator="; ", ignore_nulls=True
                )
                .replace("", None)
                .alias("_error")
            )
        if layout.dataset is None:  # a reference file: its rows inform its siblings
            good = frame.filter(pl.col("_error").is_null())
            for row in good.select(
                "account_number", "invoice_number", "bill_cycle_date"
            ).iter_rows():
                context.accounts[row[0]] = (row[1], row[2])
            tally.skipped += good.height
        else:
            period = pl.col(PERIOD_COLUMN[layout.dataset]).dt.strftime("%Y-%m")
            frame = frame.with_columns(period.alias("period"))
            frame = frame.with_columns(
                pl.when(pl.col("period").is_null() & pl.col("_error").is_null())
                .then(pl.lit(f"no {PERIOD_COLUMN[layout.dataset]} to place the row in a period"))
                .otherwise(pl.col("_error"))
                .alias("_error")
            )
            good = frame.filter(pl.col("_error").is_null())
            if good.height:
                outputs.write(layout.dataset, conform(good, layout.dataset))
                tally.rows[layout.dataset] = tally.rows.get(layout.dataset, 0) + good.height
        bad_mask = frame["_error"].is_not_null()
        if bad_mask.any():
            bad_raw = raw.filter(bad_mask).rename(raw_names).drop(RAGGED)
            errors = frame.filter(bad_mask).select(LINE, "_error")
            outputs.reject(unit, bad_raw.with_columns(errors["_error"]))
            tally.rejected += errors.height
            room = MAX_LISTED_REJECTIONS - len(tally.rejections)
            for line, problem in errors.head(max(room, 0)).iter_rows():
                tally.rejections.append({"unit": unit, "line": line, "problem": problem})


def _ingest_text(
    name: str,
    stream: IO[bytes],
    head: bytes,
    context: FileContext,
    outputs: _Outputs,
    tally: _Tally,
    unit: str,
) -> None:
    layout, header = detect_text(name, head)
    frames = text_frames(stream, layout, header, unit)
    _process_unit(unit, layout, header.names, frames, context, outputs, tally)


def _ingest_zip(name: str, path: Path, outputs: _Outputs, tally: _Tally) -> None:
    context = FileContext(name=name)
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if not members:
                raise IngestError(name, "archive has no files")
            # Reference files first: their rows complete their siblings' rows.
            members.sort(
                key=lambda m: not m.filename.rsplit("/", 1)[-1].startswith("AccountSummary")
            )
            for member in members:
                member_name = member.filename.rsplit("/", 1)[-1]
                unit = f"{name}/{member_name}"
                context.name = member_name
                with archive.open(member) as stream:
                    head = stream.read(HEAD_BYTES)
                with archive.open(member) as stream:
                    kind = sniff(head, unit)
                    if kind == "utf16":
                        raise EncodingError(unit, "UTF-16 text; carrier layouts are 8-bit text")
                    if kind != "text":
                        raise IngestError(unit, f"nested {kind} files are not supported")
                    try:
                        _ingest_text(member_name, stream, head, context, outputs, tally, unit)
                    except IngestError as exc:
                        exc.file = unit  # name the member, not just the archive
                        raise
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile) as exc:
        raise IngestError(
            name, f"damaged or truncated zip archive ({exc})", code="bad_archive"
        ) from None


def _parse_file(name: str, path: Path, outputs: _Outputs, tally: _Tally) -> None:
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    kind = sniff(head, name)
    if kind == "zip" and name.lower().endswith(".xlsx"):
        header, frames = excel_frames(str(path), name)
        layout = detect_columns(name, header, "xlsx")
        _process_unit(name, layout, header, frames, FileContext(name), outputs, tally)
    elif kind == "zip":
        _ingest_zip(name, path, outputs, tally)
    elif kind == "parquet":
        header, frames = parquet_frames(str(path), name)
        layout = detect_columns(name, header, "parquet")
        _process_unit(name, layout, header, frames, FileContext(name), outputs, tally)
    elif kind == "utf16":
        raise EncodingError(
            name, "UTF-16 text; carrier layouts are delivered as 8-bit text (UTF-8 or ISO-8859-1)"
        )
    else:
        with path.open("rb") as stream:
            _ingest_text(name, stream, head, FileContext(name), outputs, tally, name)


# --- the lake side -------------------------------------------------------------------------


def _manifest_key(customer: str) -> str:
    return join("state", "ingested", f"{customer}.json")


def load_manifest(storage: Storage, customer: str) -> dict[str, Any]:
    """Checksums already ingested for a customer, with what they produced."""
    key = _manifest_key(customer)
    if not storage.exists(key):
        return {}
    try:
        data: dict[str, Any] = json.loads(storage.read_bytes(key))
    except json.JSONDecodeError as exc:
        raise StorageError(
            storage.uri(key), f"ingest manifest is not valid JSON (line {exc.lineno})"
        ) from None
    return data


def _carrier_of(layouts: list[str]) -> str:
    carriers = {lay.carrier for lay in LAYOUTS if lay.name in layouts}
    return carriers.pop() if len(carriers) == 1 else "mixed"


def _landing_key(storage: Storage, customer: str, carrier: str, name: str, checksum: str) -> str:
    key = join("landing", customer, carrier, name)
    if storage.exists(key):
        stem, dot, ext = name.rpartition(".")
        key = join(
            "landing", customer, carrier, f"{stem or ext}.{checksum[:8]}{dot}{ext if stem else ''}"
        )
    return key


class Ingestor:
    """Ingests delivered files for one customer into a lake."""

    def __init__(self, storage: Storage, customer: Customer, run_id: str) -> None:
        self.storage = storage
        self.customer = customer
        self.run_id = run_id
        self.manifest = load_manifest(storage, customer.id)

    def ingest_file(
        self, path: Path, *, name: str | None = None, landing_key: str | None = None
    ) -> FileResult:
        """Ingest one local file; landing_key says where it already sits in the lake, if it does."""
        name = name or path.name
        checksum = sha256_file(path)
        if checksum in self.manifest:
            return FileResult(
                name,
                checksum,
                "skipped",
                reason=f"already ingested in run {self.manifest[checksum]['run_id']}",
                landing_key=landing_key,
            )
        tally = _Tally()
        with tempfile.TemporaryDirectory(prefix="piiscan-ingest-") as tmp:
            outputs = _Outputs(Path(tmp), self.customer.id, checksum[:16])
            try:
                _parse_file(name, path, outputs, tally)
            except IngestError as exc:
                return self._quarantine(path, name, checksum, exc, landing_key)
            finally:
                outputs.close()
            return self._commit(path, name, checksum, outputs, tally, landing_key)

    def _commit(
        self,
        path: Path,
        name: str,
        checksum: str,
        outputs: _Outputs,
        tally: _Tally,
        landing_key: str | None,
    ) -> FileResult:
        carrier = _carrier_of(tally.layouts)
        keys = []
        for (_, key), (_, local) in outputs.writers.items():
            self.storage.put_file(local, key)
            keys.append(key)
        quarantine_key = None
        if outputs.rejected:
            folder = join("quarantine", self.customer.id, self.run_id)
            rejected_files = {}  # file or archive member -> its rejected rows
            for index, (unit, (_, local)) in enumerate(outputs.rejected.items()):
                rejected_files[unit] = f"{name}.rejected-{index}.parquet"
                self.storage.put_file(local, join(folder, rejected_files[unit]))
            quarantine_key = join(folder, f"{name}.reason.json")
            self._write_reason(
                quarantine_key,
                {
                    "file": name,
                    "checksum": checksum,
                    "run_id": self.run_id,
                    "code": "rejected_rows",
                    "reason": f"{tally.rejected} row(s) failed validation; "
                    "the file's other rows landed",
                    "rows_rejected": tally.rejected,
                    "rejections": tally.rejections,
                    "rejected_rows_files": rejected_files,
                },
            )
        if landing_key is None:
            landing_key = _landing_key(self.storage, self.customer.id, carrier, name, checksum)
            self.storage.put_file(_copy_to_temp(path), landing_key)
        self.manifest[checksum] = {
            "file": name,
            "run_id": self.run_id,
            "layouts": tally.layouts,
            "rows": tally.rows,
            "outputs": keys,
            "landing": landing_key,
        }
        self.storage.write_bytes(
            _manifest_key(self.customer.id),
            json.dumps(self.manifest, indent=1, sort_keys=True).encode(),
        )
        return FileResult(
            name,
            checksum,
            "ingested",
            tuple(tally.layouts),
            carrier,
            tally.rows,
            tally.rejected,
            tally.skipped,
            landing_key=landing_key,
            quarantine_key=quarantine_key,
            outputs=tuple(keys),
        )

    def _quarantine(
        self, path: Path, name: str, checksum: str, exc: IngestError, landing_key: str | None
    ) -> FileResult:
        folder = join("quarantine", self.customer.id, self.run_id)
        self.storage.put_file(_copy_to_temp(path), join(folder, name))
        reason_key = join(folder, f"{name}.reason.json")
        self._write_reason(
            reason_key,
            {
                "file": name,
                "checksum": checksum,
                "run_id": self.run_id,
                "code": exc.code,
                "reason": str(exc),
            },
        )
        if landing_key is not None:  # the file moves from landing to quarantine
            self.storage.delete(landing_key)
        return FileResult(
            name,
            checksum,
            "quarantined",
            reason_code=exc.code,
            reason=str(exc),
            quarantine_key=reason_key,
        )

    def _write_reason(self, key: str, body: dict[str, Any]) -> None:
        self.storage.write_bytes(key, (json.dumps(body, indent=1, default=str) + "\n").encode())


def _copy_to_temp(path: Path) -> Path:
    """A temporary copy that storage.put_file may move away."""
    fd, tmp = tempfile.mkstemp(prefix="piiscan-copy-")
    os.close(fd)
    shutil.copyfile(path, tmp)
    return Path(tmp)


def ingest_paths(
    storage: Storage,
    customer: Customer,
    paths: list[Path],
    run_id: str,
    progress: Progress | None = None,
) -> IngestSummary:
    """Ingest local files delivered for a customer; each lands in landing/ or quarantine/."""
    ingestor = Ingestor(storage, customer, run_id)
    results = []
    for path in paths:
        if progress:
            progress(path.name)
        results.append(ingestor.ingest_file(path))
    return IngestSummary(customer.id, run_id, tuple(results))


def ingest_landing(
    storage: Storage, customer: Customer, run_id: str, progress: Progress | None = None
) -> IngestSummary:
    """Ingest the files waiting in landing/<customer>/ that are not ingested yet."""
    ingestor = Ingestor(storage, customer, run_id)
    results = []
    for key in list(storage.list(join("landing", customer.id))):
        name = key.rsplit("/", 1)[-1]
        if progress:
            progress(name)
        with storage.local_copy(key) as local:
            results.append(ingestor.ingest_file(local, name=name, landing_key=key))
    return IngestSummary(customer.id, run_id, tuple(results))


def collect_files(paths: list[Path]) -> list[Path]:
    """Files named directly, and files under named folders (sorted); skips expected.json."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.name != "expected.json")
        else:
            found.append(path)
    return found
