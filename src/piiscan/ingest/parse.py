"""Parsing one delivered file: rows converted, checked, routed to outputs or rejections.

Outputs stay in a local folder until the caller commits them, so a file that fails half-way
leaves nothing behind. Whatever a file holds, reading it ends in rows or an IngestError naming
the file (the archive member, the sheet) and what was expected: a damaged or hostile file never
raises anything else, so one bad file never stops a batch. A fault of the machine (OSError: a
full disk) and a fault of piiscan (a TypeError, an AssertionError) are not the file's and are
raised as they are.

A workbook is read sheet by sheet, each with its own layout, like the members of a zip: it is
all-or-nothing too, so a sheet no layout fits quarantines the workbook with every such sheet
named (an empty sheet holds nothing to lose and is passed over).
"""

from __future__ import annotations

import contextlib
import threading
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from queue import Full, Queue
from typing import IO, Any, cast

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from polars.io.plugins import register_io_source

from piiscan.errors import EncodingError, IngestError
from piiscan.ingest import rogers, telus
from piiscan.ingest.carriers import POST_ERROR, SKIP, FileContext, post_process
from piiscan.ingest.convert import cleaned, convert_distinct, convert_error
from piiscan.ingest.detection import Candidate, detect_columns, detect_text
from piiscan.ingest.reader import (
    HEAD_BYTES,
    LINE,
    RAGGED,
    BoundedMember,
    checked_members,
    excel_sheets,
    parquet_frames,
    prefetched,
    read_head,
    sniff,
    text_frames,
)
from piiscan.layouts import LAYOUTS, Column, Layout, normalize
from piiscan.layouts.model import TIME_OF
from piiscan.policy import IngestLimits
from piiscan.schema import PERIOD_COLUMN, conform, snake_case
from piiscan.types import LayoutChoice

MAX_LISTED_REJECTIONS = 1000
# Partitions of one file written by polars' streaming writer (a thread each); a file spread over
# more months (wrong years, mangled dates) writes the rest with pyarrow's writer.
MAX_STREAMING_SINKS = 32


class Stopped(Exception):
    """Parsing ended early because the caller no longer needs the file's rows."""


class _Sink:
    """A Parquet file written by polars' streaming writer (in its own thread) from frames handed
    over one at a time; appending waits while the frame before is still being taken in."""

    def __init__(self, path: Path, schema: pl.Schema) -> None:
        self._schema = schema
        self._frames: Queue[pl.DataFrame | None] = Queue(maxsize=1)
        self._error: BaseException | None = None
        lazy = register_io_source(self._source, schema=schema)
        self._thread = threading.Thread(
            target=self._run, args=(lazy, path), name="piiscan-parquet", daemon=True
        )
        self._thread.start()

    def append(self, frame: pl.DataFrame) -> None:
        """Queue rows for the file; raises what writing raised."""
        self._put(_conformed(frame, self._schema))
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        """End the file; raises what writing raised."""
        self._put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def _put(self, frame: pl.DataFrame | None) -> None:
        while self._thread.is_alive():
            try:
                self._frames.put(frame, timeout=0.1)
                return
            except Full:
                continue

    def _source(
        self,
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        n_rows: int | None,
        batch_size: int | None,
    ) -> Iterator[pl.DataFrame]:
        while (frame := self._frames.get()) is not None:
            if with_columns is not None:
                frame = frame.select(with_columns)
            yield frame if predicate is None else frame.filter(predicate)

    def _run(self, lazy: pl.LazyFrame, path: Path) -> None:
        try:
            lazy.sink_parquet(path, compression="snappy")
        except BaseException as exc:  # handed to the thread appending
            self._error = exc


def _conformed(frame: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """The frame in the file's schema (the first frame's); a missing or extra column is a bug."""
    if frame.columns != schema.names():
        raise AssertionError(f"rows for one file differ in columns: {frame.columns}")
    return frame if frame.schema == schema else frame.cast(schema)


class _ArrowSink:
    """The same file written by pyarrow's ParquetWriter in the caller's thread."""

    def __init__(self, path: Path, schema: pl.Schema) -> None:
        self._schema = schema
        self._writer: pq.ParquetWriter | None = None
        self._path = path

    def append(self, frame: pl.DataFrame) -> None:
        table = _conformed(frame, self._schema).to_arrow()
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._path, table.schema, compression="snappy")
        self._writer.write_table(table)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


@dataclass
class Outputs:
    """Parquet files being written for one delivered file, kept local until commit.

    Each dataset partition is written by polars' streaming Parquet writer in a thread of its
    own, several times faster than appending Arrow tables with pyarrow, while the caller
    converts the next block.
    """

    folder: Path
    stop: Callable[[], bool] = lambda: False  # asked between blocks: True ends the parse
    # (dataset, period) -> the file's writer and the local file
    writers: dict[tuple[str, str], tuple[_Sink | _ArrowSink, Path]] = field(default_factory=dict)
    rejected: dict[str, tuple[_ArrowSink, Path]] = field(default_factory=dict)

    def write(self, dataset: str, frame: pl.DataFrame) -> None:
        """Append rows with a `period` column: their date or date-time truncated to the month."""
        periods = frame["period"]
        one = periods.null_count() == 0 and periods.min() == periods.max()
        for part in [frame] if one else frame.partition_by("period"):
            period = part.select(pl.col("period").first().dt.strftime("%Y-%m")).item()
            rows = part.drop("period")
            if (dataset, period) not in self.writers:
                path = self.folder / f"{len(self.writers)}.parquet"
                kind = _Sink if len(self.writers) < MAX_STREAMING_SINKS else _ArrowSink
                self.writers[(dataset, period)] = (kind(path, rows.schema), path)
            sink, _ = self.writers[(dataset, period)]
            sink.append(rows)

    def reject(self, unit: str, frame: pl.DataFrame) -> None:
        """Append rejected rows of a file or archive member."""
        if unit not in self.rejected:
            path = self.folder / f"rejected-{len(self.rejected)}.parquet"
            self.rejected[unit] = (_ArrowSink(path, frame.schema), path)
        self.rejected[unit][0].append(frame)

    def finish(self) -> None:
        """Complete every file; raises what writing raised."""
        sinks, self.writers = self.writers, {}
        try:
            for sink, _ in sinks.values():
                sink.close()
        finally:
            self.writers = sinks

    def close(self) -> None:
        """Close every file (after finish, or to give up on them)."""
        for sink, _ in self.writers.values():
            # Giving up: what the writer raised (a polars panic too) must not mask the cause.
            with contextlib.suppress(Exception, pl.exceptions.PanicException):
                sink.close()
        for writer, _ in self.rejected.values():
            writer.close()

    def partitions(self) -> list[tuple[str, str, Path]]:
        """Dataset, period and local file of each dataset partition written."""
        return [(dataset, period, path) for (dataset, period), (_, path) in self.writers.items()]


@dataclass
class Tally:
    """Rows of one delivered file: delivered = landed (rows) + rejected + reference."""

    rows: dict[str, int] = field(default_factory=dict)  # landed, per dataset
    rejected: int = 0
    reference: int = 0  # reference and summary rows (they inform other rows, land nowhere)
    delivered: int = 0  # data rows read (blank lines are not rows)
    rejections: list[dict[str, Any]] = field(default_factory=list)
    layouts: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)  # reference files and members read
    choices: list[LayoutChoice] = field(default_factory=list)

    def chose(self, unit: str, best: Candidate, runner_up: Candidate | None) -> None:
        """Record the layout chosen for a file or archive member, and why."""
        self.choices.append(
            LayoutChoice(
                unit,
                best.layout.name,
                best.score,
                best.known,
                len(best.names),
                best.name_match,
                runner_up.layout.name if runner_up else None,
                runner_up.score if runner_up else None,
            )
        )

    def read_by(self, unit: str, layout: Layout, names: tuple[str, ...]) -> None:
        """Record a layout taken by a reader of its own (a Rogers field spec, a Telus report
        title): the file says which it is, so no other layout competed."""
        known = sum(1 for n in names if normalize(n) in layout.fields)
        self.choices.append(LayoutChoice(unit, layout.name, float(known), known, len(names), True))


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
    """Converted values and one error message per row (null: none). Text columns are only
    cleaned, row by row; the others are converted once per distinct value."""
    converted: list[pl.Series] = []
    errors: list[pl.Expr] = []
    if frame[RAGGED].any():
        errors.append(
            pl.when(pl.col(RAGGED)).then(
                pl.lit(f"row has a different number of fields than the header ({len(plan)})")
            )
        )
    texts = []
    for i, (source, column) in enumerate(plan):
        if column.kind == "text":
            texts.append(cleaned(source).alias(column.target))
            if column.required:  # a text value is never invalid, only missing
                target = pl.col(column.target)
                errors.append(convert_error(target, target, column))
            continue
        values, error = convert_distinct(frame[source], column)
        converted.append(values.alias(column.target))
        if error is not None:
            converted.append(error.alias(f"_e{i}"))
            errors.append(pl.col(f"_e{i}"))
    present = {column.target for _, column in plan}
    missing = [
        pl.lit(None, pl.String).alias(c.target) for c in layout.columns if c.target not in present
    ]  # optional columns the file does not have
    row_error = pl.lit(None, pl.String)
    if errors:
        joined = pl.concat_str(errors, separator="; ", ignore_nulls=True)
        row_error = pl.when(joined == "").then(None).otherwise(joined)
    # One with_columns: every expression reads the delivered columns before any is replaced.
    return _with_times(
        frame.with_columns(*texts, *converted)
        .lazy()
        .select(
            *[pl.col(column.target) for _, column in plan],
            *missing,
            pl.col(LINE),
            row_error.alias("_error"),
        )
        .collect()
    )


def _with_times(frame: pl.DataFrame) -> pl.DataFrame:
    """Times of day joined to the dates of their target (a date alone is its midnight)."""
    times = [c for c in frame.columns if c.startswith(TIME_OF)]
    if not times:
        return frame
    joined = []
    for name in times:
        target = name.removeprefix(TIME_OF)
        day = pl.col(target).cast(pl.Date)
        joined.append(
            day.dt.combine(pl.col(name).cast(pl.Time).fill_null(pl.time(0)), "us").alias(target)
        )
    return frame.with_columns(joined).drop(times)


def _process_unit(
    unit: str,
    layout: Layout,
    header: tuple[str, ...],
    frames: Iterator[pl.DataFrame],
    context: FileContext,
    outputs: Outputs,
    tally: Tally,
) -> None:
    """Convert, check and route every row of one file or archive member."""
    plan = _plan(layout, header)
    tally.layouts.append(layout.name)
    if layout.dataset is None:
        tally.references.append(layout.description or layout.name)
    raw_names = {source: column.header for source, column in plan}
    for raw in frames:
        if outputs.stop():
            raise Stopped(unit)
        tally.delivered += raw.height
        frame = post_process(layout, _convert(raw, plan, layout), context)
        if SKIP in frame.columns:
            skip = frame[SKIP].fill_null(False)
            tally.reference += int(skip.sum())
            frame, raw = frame.filter(~skip), raw.filter(~skip)
        if POST_ERROR in frame.columns and frame[POST_ERROR].null_count() < frame.height:
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
            tally.reference += good.height
        else:
            placed = PERIOD_COLUMN[layout.dataset]
            frame = frame.with_columns(pl.col(placed).dt.truncate("1mo").alias("period"))
            if frame["period"].null_count():
                frame = frame.with_columns(
                    pl.when(pl.col("period").is_null() & pl.col("_error").is_null())
                    .then(pl.lit(f"no {placed} to place the row in a period"))
                    .otherwise(pl.col("_error"))
                    .alias("_error")
                )
            clean = frame["_error"].null_count() == frame.height
            good = frame if clean else frame.filter(pl.col("_error").is_null())
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
    outputs: Outputs,
    tally: Tally,
    unit: str,
    layouts: Sequence[Layout],
    limits: IngestLimits,
) -> None:
    if b"\n" not in head and b"\r" in head.rstrip(b"\r"):
        raise IngestError(
            unit,
            "lines end with a carriage return alone (classic Mac OS); expected LF or CRLF "
            "line ends",
        )
    title = telus.report_title(head)  # report-style text, not a table: a reader of its own
    if title is not None:
        for index, (layout, names, frames) in enumerate(telus.report_tables(name, stream, title)):
            table_unit = unit if index == 0 else f"{unit} ({layout.dataset})"
            tally.read_by(table_unit, layout, names)
            _process_unit(table_unit, layout, names, frames, context, outputs, tally)
        return
    layout, header, best, runner_up = detect_text(name, head, layouts)
    tally.chose(unit, best, runner_up)
    frames = prefetched(text_frames(stream, layout, header, unit, limits.max_line_bytes))
    _process_unit(unit, layout, header.names, frames, context, outputs, tally)


def _ingest_zip(
    name: str,
    path: Path,
    outputs: Outputs,
    tally: Tally,
    layouts: Sequence[Layout],
    limits: IngestLimits,
) -> None:
    context = FileContext(name=name)
    try:
        with zipfile.ZipFile(path) as archive:
            members = checked_members(
                archive, name, limits.max_member_bytes, limits.max_archive_bytes
            )
            if not members:
                raise IngestError(name, "archive has no files", code="bad_archive")
            # Reference files first: their rows complete their siblings' rows.
            members.sort(
                key=lambda m: not m.filename.rsplit("/", 1)[-1].startswith("AccountSummary")
            )
            # Rogers call detail has no header line: its members are read with their spec.
            paired, members = rogers.paired_members(archive, members, name)
            for member in [*(archive.getinfo(m) for m in paired), *members]:
                member_name = member.filename.rsplit("/", 1)[-1]
                unit = f"{name}/{member_name}"
                context.name = member_name

                def opened(member: zipfile.ZipInfo = member, unit: str = unit) -> IO[bytes]:
                    bounded = BoundedMember(archive.open(member), unit, limits.max_member_bytes)
                    return cast(IO[bytes], bounded)

                with opened() as stream:
                    head = stream.read(HEAD_BYTES)
                    kind = sniff(head, unit)
                    if kind == "utf16":
                        raise EncodingError(unit, "UTF-16 text; carrier layouts are 8-bit text")
                    if kind != "text":
                        raise IngestError(
                            unit, f"nested {kind} files are not supported", code="bad_archive"
                        )
                    head = read_head(stream, unit, limits.max_line_bytes, head)
                with opened() as stream:
                    try:
                        if member.filename in paired:
                            spec = paired[member.filename]
                            layout = rogers.layout_for(member_name, spec)
                            names, frames = rogers.usage_frames(
                                member_name, head, stream, layout, spec, limits.max_line_bytes
                            )
                            tally.read_by(unit, layout, names)
                            _process_unit(
                                unit, layout, names, prefetched(frames), context, outputs, tally
                            )
                        else:
                            _ingest_text(
                                member_name,
                                stream,
                                head,
                                context,
                                outputs,
                                tally,
                                unit,
                                layouts,
                                limits,
                            )
                    except IngestError as exc:
                        if not exc.file.startswith(unit):
                            exc.file = unit  # name the member, not just the archive
                        raise
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile) as exc:
        raise IngestError(
            name, f"damaged or truncated zip archive ({type(exc).__name__})", code="bad_archive"
        ) from None


def _ingest_workbook(
    name: str,
    path: Path,
    outputs: Outputs,
    tally: Tally,
    layouts: Sequence[Layout],
    limits: IngestLimits,
) -> None:
    """Every sheet of an XLSX workbook with its own layout (a sheet is a unit, `name/Sheet`,
    when the workbook has more than one); sheets no layout fits quarantine the workbook."""
    try:
        with zipfile.ZipFile(path) as archive:  # an XLSX is a zip: a bomb is refused unopened
            checked_members(archive, name, limits.max_member_bytes, limits.max_archive_bytes)
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile) as exc:
        raise IngestError(
            name, f"damaged or truncated XLSX workbook ({type(exc).__name__})", code="bad_archive"
        ) from None
    sheets = excel_sheets(str(path), name)
    if not sheets:
        raise IngestError(name, "workbook has no sheet holding cells", code="empty")
    chosen = []
    failed: list[IngestError] = []
    for sheet in sheets:
        unit = name if len(sheets) == 1 else f"{name}/{sheet.name}"
        try:
            chosen.append((unit, sheet, *detect_columns(name, sheet.header, "xlsx", layouts)))
        except IngestError as exc:
            exc.file = unit
            failed.append(exc)
    if failed:
        if len(sheets) == 1:
            raise failed[0]
        codes = Counter(exc.code for exc in failed)
        listed = "; ".join(
            f"sheet {exc.file.rsplit('/', 1)[-1]!r}: {exc.problem}" for exc in failed
        )
        raise IngestError(
            name,
            f"{len(failed)} of {len(sheets)} sheets fit no layout, so none of the workbook "
            f"lands: {listed}",
            code=codes.most_common(1)[0][0],
        )
    for unit, sheet, layout, best, runner_up in chosen:
        tally.chose(unit, best, runner_up)
        _process_unit(unit, layout, sheet.header, sheet.frames(), FileContext(name), outputs, tally)


# Content a reader or a conversion step cannot take, beyond what raises IngestError: polars and
# Arrow refusing values, decoders, numbers out of range, a polars panic. An OSError is the
# machine's (a full disk), not the file's, and is raised as it is.
_CONTENT_ERRORS = (
    pl.exceptions.PolarsError,
    pa.ArrowException,
    UnicodeError,
    ValueError,
    ArithmeticError,
    pl.exceptions.PanicException,
)


def parse_file(
    name: str,
    path: Path,
    outputs: Outputs,
    tally: Tally,
    layouts: Sequence[Layout] = LAYOUTS,
    limits: IngestLimits | None = None,
) -> None:
    """Parse one delivered file with the layout its evidence names (of `layouts`); whatever
    the content, a file that cannot be read raises IngestError (see the module docstring)."""
    limits = limits or IngestLimits()
    try:
        _parse(name, path, outputs, tally, layouts, limits)
    except (IngestError, Stopped, OSError):
        raise
    except _CONTENT_ERRORS as exc:  # its message may quote a value: only its type is told
        raise IngestError(
            name,
            f"content cannot be read ({type(exc).__name__}); expected {_expected(tally)}",
        ) from None


def _expected(tally: Tally) -> str:
    if tally.layouts:
        return f"rows of layout {', '.join(dict.fromkeys(tally.layouts))}"
    return "delimited text, a zip archive, an XLSX workbook or a Parquet file of a known layout"


def _parse(
    name: str,
    path: Path,
    outputs: Outputs,
    tally: Tally,
    layouts: Sequence[Layout],
    limits: IngestLimits,
) -> None:
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
        kind = sniff(head, name)
        if kind == "text":
            head = read_head(handle, name, limits.max_line_bytes, head)
    if kind == "zip" and name.lower().endswith(".xlsx"):
        _ingest_workbook(name, path, outputs, tally, layouts, limits)
    elif kind == "parquet":
        header, frames = parquet_frames(str(path), name, max_bytes=limits.max_member_bytes)
        layout, best, runner_up = detect_columns(name, header, "parquet", layouts)
        tally.chose(name, best, runner_up)
        _process_unit(name, layout, header, frames, FileContext(name), outputs, tally)
    elif kind == "zip":
        _ingest_zip(name, path, outputs, tally, layouts, limits)
    elif kind == "utf16":
        raise EncodingError(
            name, "UTF-16 text; carrier layouts are delivered as 8-bit text (UTF-8 or ISO-8859-1)"
        )
    else:
        with path.open("rb") as stream:
            _ingest_text(
                name, stream, head, FileContext(name), outputs, tally, name, layouts, limits
            )
