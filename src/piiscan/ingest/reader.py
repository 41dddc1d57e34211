"""Reading delivered files as all-string frames, in bounded chunks, with their line numbers.

Text files are read in blocks of whole lines: decoded from the layout's encoding, their field
counts checked against the header with numpy (ragged rows), then parsed by polars with every
column as a string. Memory stays bounded by the block size and the longest line allowed
(`max_line`: a longer line is `too_large`), whatever the file size. Every failure to read is an
IngestError naming the file and what was expected, never a value of it.
"""

from __future__ import annotations

import codecs
import io
import lzma
import zipfile
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, Any

import fastexcel
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from piiscan.errors import EncodingError, IngestError
from piiscan.layouts import Layout

BLOCK_BYTES = 8 * 1024 * 1024  # bounds peak memory: a block and its converted frame
HEAD_BYTES = 64 * 1024  # read first; more when these bytes hold fewer than HEAD_LINES lines
HEAD_LINES = 64  # lines a layout may look at: a preamble (at most 50), headers, a Telus title
MAX_LINE_BYTES = 1024 * 1024  # the default longest line (configs: ingest.max_line_bytes)
LINE = "_line"
RAGGED = "_ragged"


@dataclass(frozen=True)
class Header:
    """Where the header is and what it says."""

    names: tuple[str, ...]  # as delivered (stripped, no BOM)
    data_line: int  # 1-based line number of the first data row
    data_offset: int  # byte offset of the first data row in the UTF-8 text


# Formats recognised by their first bytes only to say what they are: none can be read.
_MAGIC = (
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"BZh", "bzip2-compressed data"),
    (b"\xfd7zXZ\x00", "xz-compressed data"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "an OLE document (a legacy .xls or a password-protected workbook)",
    ),
    (b"%PDF-", "a PDF document"),
)
_READABLE = "delimited text, a zip archive, an XLSX workbook or a Parquet file"


def sniff(head: bytes, file: str) -> str:
    """'zip', 'parquet', 'utf16' or 'text' from the first bytes; raises for empty and binary."""
    if not head.removeprefix(codecs.BOM_UTF8).strip():
        shown = "holds only a byte-order mark or blank lines" if head else "is empty"
        raise IngestError(file, f"file {shown}", code="empty")
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"PK\x05\x06"):  # a zip's end record alone
        raise IngestError(file, "zip archive has no files", code="bad_archive")
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise EncodingError(
            file, "UTF-32 text; carrier layouts are 8-bit text (UTF-8 or ISO-8859-1)"
        )
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf16"
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise IngestError(file, f"{what} where {_READABLE} was expected", code="binary")
    sample = head[:8192]
    pairs = len(sample) // 2
    if pairs >= 8 and (sample[1::2].count(0) > pairs * 0.9 or sample[0::2].count(0) > pairs * 0.9):
        return "utf16"  # UTF-16 without a byte-order mark: every other byte of ASCII text is 0
    if b"\x00" in sample or sum(b < 9 or 13 < b < 32 for b in sample) > len(sample) // 20:
        raise IngestError(file, "binary content where delimited text was expected", code="binary")
    return "text"


def _too_long(file: str, line: int, length: int | None, max_line: int) -> IngestError:
    size = f"{length:,} bytes; lines are at most" if length is not None else "longer than"
    return IngestError(
        file, f"line {line} is {size} {max_line:,} bytes (ingest.max_line_bytes)", code="too_large"
    )


def _longest(data: bytes) -> tuple[int, int]:
    """The 0-based index and length of the longest newline-ended line of data."""
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    if not len(ends):
        return 0, 0
    lengths = np.diff(ends, prepend=-1) - 1
    index = int(lengths.argmax())
    return index, int(lengths[index])


def read_head(
    stream: IO[bytes], file: str, max_line: int = MAX_LINE_BYTES, head: bytes | None = None
) -> bytes:
    """The first bytes of a text file: HEAD_BYTES (or `head`, read from stream already), and
    more until they hold HEAD_LINES whole lines, so a header longer than HEAD_BYTES is read
    whole; a line over max_line is `too_large`."""
    head = stream.read(HEAD_BYTES) if head is None else head
    while head.count(b"\n") < HEAD_LINES:
        tail = len(head) - head.rfind(b"\n") - 1
        if tail > max_line:
            raise _too_long(file, head.count(b"\n") + 1, None, max_line)
        more = stream.read(HEAD_BYTES)
        if not more:
            break
        head += more
    index, length = _longest(head)
    if length > max_line:
        raise _too_long(file, index + 1, length, max_line)
    return head


def decode_head(head: bytes, layout: Layout, file: str) -> str:
    """The first lines of a text file in the layout's encoding (a cut last line is dropped)."""
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]
    cut = head.rfind(b"\n")
    complete = head if cut < 0 else head[: cut + 1]
    try:
        return complete.decode(layout.encoding)
    except UnicodeDecodeError as exc:
        raise EncodingError(
            file,
            f"not valid {layout.encoding} at byte {exc.start}; layout {layout.name} "
            f"is delivered in {layout.encoding}",
        ) from None


def split_fields(line: str, separator: str) -> list[str]:
    """A header line's fields, unquoted and stripped."""
    return [f.strip().strip('"').strip() for f in line.rstrip("\r\n").split(separator)]


def _utf8_blocks(
    stream: IO[bytes],
    encoding: str,
    skip: int,
    file: str,
    first_line: int,
    max_line: int = MAX_LINE_BYTES,
) -> Iterator[bytes]:
    """The stream as UTF-8 blocks of whole lines, after skipping `skip` bytes of UTF-8 text.
    A line longer than max_line (first_line: the number of the first line after the skip) is
    `too_large`: a line is never held whole beyond that."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    pending = b""
    to_skip = skip
    first = True
    line = first_line  # the number of pending's first line

    def checked(block: bytes) -> bytes:
        nonlocal line
        index, length = _longest(block)
        if length > max_line:
            raise _too_long(file, line + index, length, max_line)
        line += block.count(b"\n")
        return block

    while True:
        raw = stream.read(BLOCK_BYTES)
        final = not raw
        if first and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        first = False
        data = raw if encoding == "utf-8" else decoder.decode(raw, final=final).encode("utf-8")
        # Validates UTF-8 (raises UnicodeDecodeError); ASCII needs no check unless the block
        # before ended inside a character.
        if encoding == "utf-8" and not (raw.isascii() and not decoder.getstate()[0]):
            decoder.decode(raw, final=final)
        pending += data
        if to_skip:
            take = min(to_skip, len(pending))
            pending, to_skip = pending[take:], to_skip - take
        if final:
            if pending:
                yield checked(pending if pending.endswith(b"\n") else pending + b"\n")
            return
        cut = pending.rfind(b"\n")
        if cut >= 0:
            yield checked(pending[: cut + 1])
            pending = pending[cut + 1 :]
        if len(pending) > max_line and not to_skip:
            raise _too_long(file, line, None, max_line)


def _all_lines_full(array: np.ndarray, ends: np.ndarray, separator: str, per_line: int) -> bool:
    """Whether every line holds exactly `per_line` separators (so none is blank or ragged).

    The common case, checked without per-line counts: with as many separators as lines times
    `per_line`, every line has its share exactly when each line's first share lies after the
    previous line's end and its last share before its own end.
    """
    separators = np.flatnonzero(array == ord(separator))
    if len(separators) != per_line * len(ends):
        return False
    previous_ends = np.empty_like(ends)
    previous_ends[:1] = -1
    previous_ends[1:] = ends[:-1]
    firsts, lasts = separators[::per_line], separators[per_line - 1 :: per_line]
    return bool(((firsts > previous_ends) & (lasts < ends)).all())


def _line_stats(
    block: bytes, separator: str, expected_fields: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per line of a block: whether it is blank, and whether its field count is wrong."""
    array = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(array == 10)
    if expected_fields > 1 and _all_lines_full(array, ends, separator, expected_fields - 1):
        no = np.zeros(len(ends), dtype=bool)
        return no, no
    starts = np.concatenate(([0], ends[:-1] + 1))
    lengths = ends - starts
    has_cr = np.zeros(len(ends), dtype=bool)
    nonempty = lengths > 0
    has_cr[nonempty] = array[ends[nonempty] - 1] == 13
    blank = (lengths - has_cr) == 0
    n_seps = _per_line(array == ord(separator), ends)
    ragged = (n_seps != expected_fields - 1) & ~blank
    quotes = array == 34
    if quotes.any():
        # A quoted field may hold the separator; polars parses those lines, so only unquoted
        # lines are checked here.
        ragged &= _per_line(quotes, ends) == 0
    return blank, ragged


def _per_line(marks: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """How many marked bytes each line holds (ends: its newlines' offsets): the marks' offsets
    counted up to each newline, so the cost follows the marks and lines, not the bytes."""
    return np.diff(np.searchsorted(np.flatnonzero(marks), ends), prepend=0)


def _quoted_ragged(block: bytes, separator: str, expected_fields: int) -> np.ndarray | None:
    """Per line of a block, whether a line with quotes has another field count than the header,
    counting only separators outside quotes; None when the block has no quotes. A line with an
    odd number of quotes (a field spanning lines) is left to the parser.

    A separator is inside a quoted field when the quotes before it on its line are odd: a
    running XOR of the quote bytes, reset at each newline (the newline's byte is set to its
    line's quote parity), says so in one byte per byte of the block."""
    array = np.frombuffer(block, dtype=np.uint8)
    quotes = array == 34
    if not quotes.any():
        return None
    ends = np.flatnonzero(array == 10)  # blocks end with a newline
    n_quotes = _per_line(quotes, ends)
    flips = quotes.view(np.uint8).copy()
    flips[ends] = n_quotes % 2  # back to outside at every line's end
    inside = np.bitwise_xor.accumulate(flips)
    n_seps = _per_line((array == ord(separator)) & (inside == 0), ends)
    ragged: np.ndarray = (n_quotes > 0) & (n_quotes % 2 == 0) & (n_seps != expected_fields - 1)
    return ragged


def text_frames(
    stream: IO[bytes],
    layout: Layout,
    header: Header,
    file: str,
    max_line: int = MAX_LINE_BYTES,
) -> Iterator[pl.DataFrame]:
    """All-string frames of the data rows, columns c0..cN, with _line and _ragged."""
    n = len(header.names)
    names = [f"c{i}" for i in range(n)]
    line_no = block_line = header.data_line
    blocks = _utf8_blocks(
        stream, layout.encoding, header.data_offset, file, header.data_line, max_line
    )
    try:
        for block in blocks:
            blank, ragged = _line_stats(block, layout.separator, n)
            quoted = _quoted_ragged(block, layout.separator, n)
            if quoted is not None:  # a short row with a quoted field is ragged too
                ragged = ragged | quoted
            block_line = line_no  # the block's first line, for errors
            lines = np.arange(line_no, line_no + len(blank), dtype=np.int64)
            line_no += len(blank)
            if blank.all():
                continue
            if blank.any():
                parts = block.split(b"\n")
                block = b"\n".join(p for p, b in zip(parts, [*blank, True], strict=False) if not b)
                block += b"\n"
            frame = pl.read_csv(
                block,
                has_header=False,
                separator=layout.separator,
                schema={**{c: pl.String for c in names}, "_overflow": pl.String},
                missing_columns="insert",
                extra_columns="ignore",  # a first row longer than the header (its overflow shows)
                truncate_ragged_lines=True,
                empty_string_is_null=False,
            )
            keep = ~blank
            yield frame.with_columns(
                pl.Series(LINE, lines[keep]),
                # A missing trailing field reads as "", so only a non-empty overflow is seen here.
                (pl.Series(RAGGED, ragged[keep]) | (pl.col("_overflow").fill_null("") != "")),
            ).drop("_overflow")
    except UnicodeDecodeError:
        raise EncodingError(
            file,
            f"not valid {layout.encoding} near line {line_no}; layout {layout.name} "
            f"is delivered in {layout.encoding}",
        ) from None
    except pl.exceptions.PolarsError as exc:  # its message may quote a value: only its type
        raise IngestError(
            file,
            f"cannot parse delimited text in {_lines(block_line, line_no - 1)} as {layout.name} "
            f"({layout.separator!r}-separated, {layout.encoding}): {type(exc).__name__}",
        ) from None


def _lines(first: int, last: int) -> str:
    return f"line {first}" if last <= first else f"lines {first}-{last}"


def prefetched(frames: Iterator[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    """The frames, each read by a background thread while the caller works on the one before
    (reading, checking and parsing a block keep a second core busy)."""
    with ThreadPoolExecutor(1, thread_name_prefix="piiscan-read") as pool:
        pending = pool.submit(next, frames, None)
        while (frame := pending.result()) is not None:
            pending = pool.submit(next, frames, None)
            yield frame


@dataclass(frozen=True)
class Sheet:
    """One worksheet of an XLSX workbook that holds cells."""

    name: str
    header: tuple[str, ...]
    frames: Callable[[], Iterator[pl.DataFrame]]  # its all-string rows, loaded when called


def excel_sheets(path: str, file: str) -> list[Sheet]:
    """Every sheet of an XLSX workbook that holds cells (empty sheets hold nothing to lose),
    with its header (the first row); rows are loaded sheet by sheet, when asked for."""
    try:
        reader = fastexcel.read_excel(path)
        names = reader.sheet_names
    except Exception as exc:  # calamine raises its own error types
        raise IngestError(file, f"not a readable XLSX workbook ({type(exc).__name__})") from None
    sheets = []
    for index, name in enumerate(names):
        try:
            top = reader.load_sheet(index, header_row=0, n_rows=0, dtypes="string")
        except Exception as exc:
            raise IngestError(
                f"{file}/{name}", f"sheet is not a readable worksheet ({type(exc).__name__})"
            ) from None
        if top.width == 0:
            continue
        sheets.append(Sheet(name, tuple(top.to_polars().columns), _sheet_rows(reader, index, file)))
    return sheets


def _sheet_rows(
    reader: fastexcel.ExcelReader, index: int, unit: str
) -> Callable[[], Iterator[pl.DataFrame]]:
    def rows() -> Iterator[pl.DataFrame]:
        try:
            frame = reader.load_sheet(index, header_row=0, dtypes="string").to_polars()
        except Exception as exc:
            raise IngestError(
                unit, f"sheet is not a readable worksheet ({type(exc).__name__})"
            ) from None
        renamed = frame.rename({c: f"c{i}" for i, c in enumerate(frame.columns)})
        yield renamed.with_columns(
            pl.int_range(2, renamed.height + 2, dtype=pl.Int64).alias(LINE),
            pl.lit(False).alias(RAGGED),
        )

    return rows


def _scalar(kind: pa.DataType) -> bool:
    """Whether values of an Arrow type read as one text each (not nested, not raw bytes)."""
    if pa.types.is_dictionary(kind):
        return _scalar(kind.value_type)
    return not (
        pa.types.is_nested(kind)
        or pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
        or pa.types.is_fixed_size_binary(kind)
        or pa.types.is_binary_view(kind)
    )


def parquet_frames(
    path: str, file: str, batch_rows: int = 1_000_000, max_bytes: int | None = None
) -> tuple[tuple[str, ...], Iterator[pl.DataFrame]]:
    """Header and all-string row batches of a Parquet file; _line is the 1-based row number.
    Columns must be of scalar types; a row group over max_bytes decoded is `too_large`."""
    try:
        parquet = pq.ParquetFile(path)
        schema = parquet.schema_arrow
    except Exception as exc:
        raise IngestError(file, f"not a readable Parquet file ({type(exc).__name__})") from None
    header = tuple(schema.names)
    for column in schema:
        if not _scalar(column.type):
            raise IngestError(
                file,
                f"column {column.name!r} is of type {column.type}; expected columns of text, "
                "numbers, dates or times (no lists, structs, maps or binary)",
                code="bad_column_type",
            )
    metadata = parquet.metadata
    for group in range(metadata.num_row_groups):
        size = metadata.row_group(group).total_byte_size
        if max_bytes is not None and size > max_bytes:
            raise IngestError(
                file,
                f"row group {group} holds {size:,} bytes decoded; at most {max_bytes:,} "
                "(ingest.max_member_bytes)",
                code="too_large",
            )

    def batches() -> Iterator[pl.DataFrame]:
        row = 1
        read = parquet.iter_batches(batch_size=batch_rows)
        while True:
            try:
                batch = next(read, None)
                if batch is None:
                    return
                frame = pl.from_arrow(batch)
                assert isinstance(frame, pl.DataFrame)
                frame = frame.select(
                    [pl.col(c).cast(pl.String).alias(f"c{i}") for i, c in enumerate(header)]
                )
            except Exception as exc:  # damaged pages, values that are no text
                raise IngestError(
                    file, f"Parquet data cannot be read near row {row} ({type(exc).__name__})"
                ) from None
            yield frame.with_columns(
                pl.int_range(row, row + frame.height, dtype=pl.Int64).alias(LINE),
                pl.lit(False).alias(RAGGED),
            )
            row += frame.height

    return header, batches()


# Zip compression methods zipfile reads.
_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
_METHOD_NAMES = {
    9: "deflate64",
    12: "bzip2",
    14: "lzma",
    93: "zstd",
    95: "xz",
    98: "ppmd",
    99: "aes",
}


def checked_members(
    archive: zipfile.ZipFile, file: str, max_member: int, max_archive: int
) -> list[zipfile.ZipInfo]:
    """The files of a zip archive, once each is known readable and small enough: not
    encrypted, compressed by a method zipfile reads, named by a relative path, named once,
    each at most max_member bytes decompressed and all together at most max_archive."""
    members = [m for m in archive.infolist() if not m.is_dir()]
    seen: set[str] = set()
    total = 0
    for member in members:
        shown = member.filename if len(member.filename) <= 80 else member.filename[:80] + "..."
        parts = member.filename.replace("\\", "/").split("/")
        if member.filename.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
            raise IngestError(
                file,
                f"member {shown!r} is not a relative path inside the archive",
                code="bad_archive",
            )
        if member.filename in seen:
            raise IngestError(file, f"member {shown!r} appears twice", code="bad_archive")
        seen.add(member.filename)
        if member.flag_bits & 0x1:
            raise IngestError(
                file,
                f"member {shown!r} is encrypted; expected an archive without a password",
                code="bad_archive",
            )
        if member.compress_type not in _METHODS:
            method = _METHOD_NAMES.get(member.compress_type, "unknown")
            raise IngestError(
                file,
                f"member {shown!r} is compressed with method {member.compress_type} ({method}); "
                "expected stored, deflate, bzip2 or lzma",
                code="bad_archive",
            )
        if member.file_size > max_member:
            raise IngestError(
                file,
                f"member {shown!r} holds {member.file_size:,} bytes decompressed; at most "
                f"{max_member:,} per member (ingest.max_member_bytes)",
                code="too_large",
            )
        total += member.file_size
        if total > max_archive:
            raise IngestError(
                file,
                f"the archive holds more than {max_archive:,} bytes decompressed "
                "(ingest.max_archive_bytes)",
                code="too_large",
            )
    return members


# What reading a damaged member raises: bad CRCs, broken deflate, bzip2 and lzma streams.
_DAMAGED = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, NotImplementedError, OSError)


class BoundedMember(io.RawIOBase):
    """A zip member's stream that stops at max_bytes (`too_large`) and names decompression
    failures as a damaged archive (`bad_archive`)."""

    def __init__(self, stream: IO[bytes], unit: str, max_bytes: int) -> None:
        super().__init__()
        self._stream = stream
        self._unit = unit
        self._left = max_bytes
        self._max = max_bytes

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        try:
            data = self._stream.read(-1 if size is None else size)
        except _DAMAGED as exc:
            raise IngestError(
                self._unit, f"damaged compressed data ({type(exc).__name__})", code="bad_archive"
            ) from None
        self._left -= len(data)
        if self._left < 0:
            raise IngestError(
                self._unit,
                f"member holds more than {self._max:,} bytes decompressed "
                "(ingest.max_member_bytes)",
                code="too_large",
            )
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._stream.close()
        super().close()
