"""Scanning files: a bounded sample of rows per source, then detection (piiscan.pipeline.scan
samples lake datasets the same way).

Cost is bounded by the sample, not the rows: Parquet row counts come from the footer and rows
are read from a few row groups spread over the file; text files are read up to the row budget.
Known carrier layouts are read with their own header, encoding and preamble rules; anything else
is sniffed (encoding, separator, header line).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from piiscan.detect import ColumnFinding, Detector
from piiscan.entities import registered, validator
from piiscan.errors import IngestError, PiiscanError
from piiscan.ingest.detection import detect_columns, detect_text
from piiscan.ingest.reader import HEAD_BYTES, sniff
from piiscan.layouts import LAYOUTS, Layout
from piiscan.schema import DATASETS, EXTRAS
from piiscan.validators import digits

ROW_BUDGET = 20_000
TEXT_SUFFIXES = (".csv", ".tsv", ".txt", ".psv", ".pipe", ".dat")


@dataclass(frozen=True)
class Source:
    """Sampled rows of one file, archive member or lake dataset."""

    path: str
    frame: pl.DataFrame
    rows: int | None
    dataset: str | None = None
    layout: str | None = None


@dataclass(frozen=True)
class ScannedFile:
    """The scan contract's file entry."""

    path: str
    dataset: str | None
    rows: int | None
    columns: tuple[ColumnFinding, ...] = ()
    layout: str | None = None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        """{"path", "dataset", "rows", "columns": [...]} or {"path", "error"}."""
        if self.error is not None:
            return {
                "path": self.path,
                "dataset": self.dataset,
                "rows": self.rows,
                "error": self.error,
                "columns": [],
            }
        return {
            "path": self.path,
            "dataset": self.dataset,
            "layout": self.layout,
            "rows": self.rows,
            "columns": [c.as_json() for c in self.columns],
        }


@dataclass
class Scanner:
    """Reads sources and classifies their columns."""

    detector: Detector
    row_budget: int = ROW_BUDGET
    layouts: Sequence[Layout] = LAYOUTS  # the built-in ones, or the configured set
    errors: list[ScannedFile] = field(default_factory=list)

    def scan(self, paths: list[Path]) -> list[ScannedFile]:
        """One entry per file, archive member or dataset folder; unreadable ones get an error."""
        results: list[ScannedFile] = []
        for path in paths:
            for item in self._sources(path):
                if isinstance(item, ScannedFile):
                    results.append(item)
                    continue
                findings = tuple(self.detector.classify(item.frame))
                results.append(
                    ScannedFile(item.path, item.dataset, item.rows, findings, item.layout)
                )
        return results

    def _sources(self, path: Path) -> Iterator[Source | ScannedFile]:
        if path.is_dir():
            if any(path.rglob("*.parquet")) and not any(
                p.suffix in (".csv", ".xlsx", ".zip") for p in path.rglob("*") if p.is_file()
            ):
                yield self._guard(str(path), lambda: self._dataset(path))
                return
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if child.name != "expected.json":
                    yield from self._sources(child)
            return
        yield from self._file(path)

    def _guard(self, where: str, read: Any) -> Source | ScannedFile:
        try:
            source: Source = read()
        except PiiscanError as exc:
            return ScannedFile(where, None, None, error=str(exc))
        except (OSError, pl.exceptions.PolarsError, ValueError) as exc:
            return ScannedFile(where, None, None, error=f"cannot read: {type(exc).__name__}")
        return source

    def _file(self, path: Path) -> Iterator[Source | ScannedFile]:
        name = str(path)
        try:
            with path.open("rb") as handle:
                head = handle.read(HEAD_BYTES)
            kind = sniff(head, path.name)
        except IngestError as exc:
            yield ScannedFile(name, None, None, error=exc.problem)
            return
        except OSError as exc:
            yield ScannedFile(name, None, None, error=f"cannot open: {exc.strerror}")
            return
        if kind == "zip" and path.suffix.lower() == ".xlsx":
            yield self._guard(name, lambda: self._excel(path))
        elif kind == "zip":
            yield from self._zip(path)
        elif kind == "parquet":
            yield self._guard(name, lambda: self._parquet(path))
        elif kind == "utf16":
            yield self._guard(name, lambda: self._text(path.name, name, path.read_bytes(), None))
        else:
            yield self._guard(name, lambda: self._text_file(path, head))

    def _zip(self, path: Path) -> Iterator[Source | ScannedFile]:
        try:
            with zipfile.ZipFile(path) as archive:
                members = [m for m in archive.infolist() if not m.is_dir()]
                for member in members:
                    where = f"{path}/{member.filename}"
                    with archive.open(member) as stream:
                        data = stream.read()  # members of carrier zips are reports, not lakes
                    yield self._guard(
                        where,
                        lambda d=data, m=member.filename, w=where: self._text(
                            m.rsplit("/", 1)[-1], w, d, None
                        ),
                    )
        except (zipfile.BadZipFile, EOFError) as exc:
            yield ScannedFile(str(path), None, None, error=f"damaged or truncated zip ({exc})")

    def _text_file(self, path: Path, head: bytes) -> Source:
        with path.open("rb") as handle:
            data = _head_lines(handle, self.row_budget + 16)
        rows = _count_lines(path)
        return self._text(path.name, str(path), data, rows)

    def _text(self, file_name: str, where: str, data: bytes, rows: int | None) -> Source:
        try:
            layout, header, _, _ = detect_text(file_name, data[:HEAD_BYTES], self.layouts)
        except IngestError:
            return self._sniffed(where, data, rows)
        text = data.decode(layout.encoding, errors="replace").lstrip("\ufeff")
        body = "\n".join(text.splitlines()[header.data_line - 1 :][: self.row_budget])
        frame = (
            pl.read_csv(
                io.StringIO(body),
                has_header=False,
                separator=layout.separator,
                new_columns=list(header.names),
                infer_schema=False,
                truncate_ragged_lines=True,
                missing_columns="insert",
            )
            if body
            else pl.DataFrame(
                {n: [] for n in header.names}, schema=dict.fromkeys(header.names, pl.String)
            )
        )
        data_rows = None if rows is None else max(rows - header.data_line + 1, 0)
        return Source(where, frame, data_rows, layout.dataset, layout.name)

    def _sniffed(self, where: str, data: bytes, rows: int | None) -> Source:
        """A delimited file of no known layout: guess encoding, separator and header line."""
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = data.decode("utf-16", errors="replace")
        else:
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = data.decode("iso-8859-1")
        lines = [line for line in text.splitlines() if line.strip()][: self.row_budget + 16]
        if not lines:
            raise IngestError(where, "no rows")
        separator = sniff_separator(lines[:50])
        counts = [len(next(csv.reader([line], delimiter=separator))) for line in lines[:50]]
        width = Counter(counts).most_common(1)[0][0]
        start = counts.index(width)  # preamble lines have another width
        first = next(csv.reader([lines[start]], delimiter=separator))
        has_header = looks_like_header(first)
        frame = pl.read_csv(
            io.StringIO("\n".join(lines[start:])),
            separator=separator,
            infer_schema=False,
            truncate_ragged_lines=True,
            has_header=has_header,
            # A headerless file's first row is data: its values must not become column names.
            new_columns=None if has_header else [f"column_{i + 1}" for i in range(len(first))],
        )
        data_rows = None if rows is None else max(rows - start - int(has_header), 0)
        return Source(where, frame, data_rows)

    def _excel(self, path: Path) -> Source:
        frame = pl.read_excel(path, engine="calamine")
        dataset, layout = _known(path.name, tuple(frame.columns), "xlsx", self.layouts)
        return Source(str(path), frame.head(self.row_budget), frame.height, dataset, layout)

    def _parquet(self, path: Path) -> Source:
        parquet = pq.ParquetFile(path)
        frame = spread_rows(parquet, self.row_budget)
        dataset, layout = _known(path.name, tuple(frame.columns), "parquet", self.layouts)
        rows = parquet.metadata.num_rows
        return Source(str(path), expand_extras(frame), rows, dataset, layout)

    def _dataset(self, folder: Path) -> Source:
        """A lake dataset folder: rows from the footers, a sample spread over its files."""
        files = sorted(folder.rglob("*.parquet"))
        per_file = max(self.row_budget // min(len(files), 20), 1)
        step = max(len(files) // 20, 1)
        frames, rows = [], 0
        for index, file in enumerate(files):
            parquet = pq.ParquetFile(file)
            rows += parquet.metadata.num_rows
            if index % step == 0:
                frames.append(spread_rows(parquet, per_file))
        frame = pl.concat(frames, how="diagonal_relaxed")
        dataset = folder.name if folder.name in DATASETS else None
        return Source(str(folder), expand_extras(frame), rows, dataset)


def _known(
    name: str, columns: tuple[str, ...], fmt: str, layouts: Sequence[Layout]
) -> tuple[str | None, str | None]:
    """(dataset, layout name) of an XLSX or Parquet file in a known layout, else (None, None)."""
    try:
        layout, _, _ = detect_columns(name, columns, fmt, layouts)
    except IngestError:
        return None, None
    return layout.dataset, layout.name


def spread_rows(parquet: pq.ParquetFile, budget: int) -> pl.DataFrame:
    """Up to budget rows taken from row groups spread across the file."""
    groups = parquet.metadata.num_row_groups
    if groups == 0:
        return pl.from_arrow(parquet.schema_arrow.empty_table())  # type: ignore[return-value]
    wanted = min(groups, 8)
    chosen = sorted({round(i * (groups - 1) / max(wanted - 1, 1)) for i in range(wanted)})
    per_group = max(budget // len(chosen), 1)
    frames: list[pl.DataFrame] = []
    for group in chosen:
        # Only the first batch of each group is decoded, whatever the group's size.
        batch = next(parquet.iter_batches(batch_size=per_group, row_groups=[group]), None)
        if batch is not None:
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            frames.append(frame)
    return pl.concat(frames, how="vertical_relaxed")


def expand_extras(frame: pl.DataFrame) -> pl.DataFrame:
    """Lake files keep layout-specific columns in JSON `extras`: scan them as columns too."""
    if EXTRAS not in frame.columns or frame[EXTRAS].null_count() == frame.height:
        return frame.drop(EXTRAS, strict=False)
    decoded = frame[EXTRAS].str.json_decode(infer_schema_length=None)
    if not isinstance(decoded.dtype, pl.Struct):
        return frame.drop(EXTRAS)
    extras = decoded.struct.unnest()
    extras = extras.rename({c: f"{EXTRAS}.{c}" for c in extras.columns})
    return pl.concat([frame.drop(EXTRAS), extras.cast(pl.String)], how="horizontal")


def looks_like_header(fields: list[str]) -> bool:
    """Whether a first row names columns rather than holding values (identifiers, numbers)."""
    values = [f.strip() for f in fields if f.strip()]
    if not values:
        return False
    checks = [validator(e) for e in registered() if e.marks_data_row]
    if any(check(v) for v in values for check in checks):
        return False
    numeric = sum(1 for v in values if digits(v).replace(",", "").isdigit())
    return numeric * 3 <= len(values)


def sniff_separator(lines: list[str]) -> str:
    """The delimiter (, tab | ;) most lines hold the same number of times."""
    scores = {
        sep: Counter(line.count(sep) for line in lines).most_common(1)[0]
        for sep in (",", "\t", "|", ";")
    }
    best = max(scores.items(), key=lambda kv: (kv[1][0] > 0, kv[1][1], kv[1][0]))
    return best[0]


def _head_lines(handle: Any, lines: int) -> bytes:
    chunks, seen = [], 0
    while seen < lines:
        block = handle.read(1 << 20)
        if not block:
            break
        chunks.append(block)
        seen += block.count(b"\n")
    return b"".join(chunks)


def _count_lines(path: Path) -> int:
    count = 0
    last = b"\n"
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 24), b""):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (0 if last == b"\n" else 1)
