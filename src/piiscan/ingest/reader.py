"""Reading delivered files as all-string frames, in bounded chunks, with their line numbers.

Text files are read in blocks of whole lines: decoded from the layout's encoding, their field
counts checked against the header with numpy (ragged rows), then parsed by polars with every
column as a string. Memory stays bounded by the block size, whatever the file size.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from piiscan.errors import EncodingError, IngestError
from piiscan.layouts import Layout

BLOCK_BYTES = 8 * 1024 * 1024  # bounds peak memory: a block and its converted frame
HEAD_BYTES = 64 * 1024
LINE = "_line"
RAGGED = "_ragged"


@dataclass(frozen=True)
class Header:
    """Where the header is and what it says."""

    names: tuple[str, ...]  # as delivered (stripped, no BOM)
    data_line: int  # 1-based line number of the first data row
    data_offset: int  # byte offset of the first data row in the UTF-8 text


def sniff(head: bytes, file: str) -> str:
    """'zip', 'parquet', 'utf16' or 'text' from the first bytes; raises for empty and binary."""
    if not head:
        raise IngestError(file, "file is empty", code="empty")
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf16"
    sample = head[:8192]
    if b"\x00" in sample or sum(b < 9 or 13 < b < 32 for b in sample) > len(sample) // 20:
        raise IngestError(file, "binary content where delimited text was expected", code="binary")
    return "text"


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


def _utf8_blocks(stream: IO[bytes], encoding: str, skip: int) -> Iterator[bytes]:
    """The stream as UTF-8 blocks of whole lines, after skipping `skip` bytes of UTF-8 text."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    pending = b""
    to_skip = skip
    first = True
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
                yield pending if pending.endswith(b"\n") else pending + b"\n"
            return
        cut = pending.rfind(b"\n")
        if cut >= 0:
            yield pending[: cut + 1]
            pending = pending[cut + 1 :]


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
    # Per-line counts in one pass each (reduceat over the line starts; a blank line's segment
    # is just its newline, which is neither a separator nor a quote).
    n_seps = np.add.reduceat((array == ord(separator)).view(np.uint8), starts, dtype=np.int64)
    ragged = (n_seps != expected_fields - 1) & ~blank
    quotes = array == 34
    if quotes.any():
        # A quoted field may hold the separator; polars parses those lines, so only unquoted
        # lines are checked here.
        ragged &= np.add.reduceat(quotes.view(np.uint8), starts, dtype=np.int64) == 0
    return blank, ragged


def _quoted_ragged(block: bytes, separator: str, expected_fields: int) -> np.ndarray | None:
    """Per line of a block, whether a line with quotes has another field count than the header,
    counting only separators outside quotes; None when the block has no quotes. A line with an
    odd number of quotes (a field spanning lines) is left to the parser."""
    array = np.frombuffer(block, dtype=np.uint8)
    quotes = array == 34
    if not quotes.any():
        return None
    ends = np.flatnonzero(array == 10)  # blocks end with a newline
    starts = np.concatenate(([0], ends[:-1] + 1))
    before = np.cumsum(quotes, dtype=np.int64) - quotes  # quotes before each byte
    line_of = np.repeat(np.arange(len(ends)), ends - starts + 1)
    inside = (before - before[starts][line_of]) % 2 == 1
    separators = (array == ord(separator)) & ~inside
    n_seps = np.add.reduceat(separators.view(np.uint8), starts, dtype=np.int64)
    n_quotes = np.add.reduceat(quotes.view(np.uint8), starts, dtype=np.int64)
    ragged: np.ndarray = (n_quotes > 0) & (n_quotes % 2 == 0) & (n_seps != expected_fields - 1)
    return ragged


def text_frames(
    stream: IO[bytes], layout: Layout, header: Header, file: str
) -> Iterator[pl.DataFrame]:
    """All-string frames of the data rows, columns c0..cN, with _line and _ragged."""
    n = len(header.names)
    names = [f"c{i}" for i in range(n)]
    line_no = header.data_line
    try:
        for block in _utf8_blocks(stream, layout.encoding, header.data_offset):
            blank, ragged = _line_stats(block, layout.separator, n)
            quoted = _quoted_ragged(block, layout.separator, n)
            if quoted is not None:  # a short row with a quoted field is ragged too
                ragged = ragged | quoted
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
    except pl.exceptions.ComputeError as exc:
        raise IngestError(
            file, f"cannot parse delimited text near line {line_no}: {type(exc).__name__}"
        ) from None


def prefetched(frames: Iterator[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    """The frames, each read by a background thread while the caller works on the one before
    (reading, checking and parsing a block keep a second core busy)."""
    with ThreadPoolExecutor(1, thread_name_prefix="piiscan-read") as pool:
        pending = pool.submit(next, frames, None)
        while (frame := pending.result()) is not None:
            pending = pool.submit(next, frames, None)
            yield frame


def excel_frames(path: str, file: str) -> tuple[tuple[str, ...], Iterator[pl.DataFrame]]:
    """Header and all-string rows of the first sheet of an XLSX workbook."""
    try:
        frame = pl.read_excel(path, engine="calamine", infer_schema_length=0)
    except Exception as exc:  # calamine raises its own error types
        raise IngestError(file, f"not a readable XLSX workbook ({type(exc).__name__})") from None
    header = tuple(frame.columns)
    renamed = frame.rename({c: f"c{i}" for i, c in enumerate(header)})
    out = renamed.with_columns(
        pl.int_range(2, renamed.height + 2, dtype=pl.Int64).alias(LINE),
        pl.lit(False).alias(RAGGED),
    )
    return header, iter([out])


def parquet_frames(
    path: str, file: str, batch_rows: int = 1_000_000
) -> tuple[tuple[str, ...], Iterator[pl.DataFrame]]:
    """Header and all-string row batches of a Parquet file; _line is the 1-based row number."""
    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:
        raise IngestError(file, f"not a readable Parquet file ({type(exc).__name__})") from None
    header = tuple(parquet.schema_arrow.names)

    def batches() -> Iterator[pl.DataFrame]:
        row = 1
        for batch in parquet.iter_batches(batch_size=batch_rows):
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            frame = frame.select(
                [pl.col(c).cast(pl.String).alias(f"c{i}") for i, c in enumerate(header)]
            ).with_columns(
                pl.int_range(row, row + frame.height, dtype=pl.Int64).alias(LINE),
                pl.lit(False).alias(RAGGED),
            )
            row += frame.height
            yield frame

    return header, batches()
