"""Telus reports: tab-separated key/value lines read into the tables a delimited file would give.

A report is recognised by its title line. The Individual Detail report is read block by block: a
block starts at its `"C:"` line (the subscriber's number) and holds `"Key:"<TAB>value` lines,
section headings (`"CURRENT CHARGES"`) and item lines whose last field is an amount (`$5.00`),
with an optional period (`07-Feb-23 to 06-Mar-23`). The preamble's client number, invoice date
and invoice number go on every row. Keys the reader does not know are kept as columns (extras);
blank lines, quotes or none, CRLF and padding do not matter.

Reports are a few lines per subscriber, so they are read whole and line by line; the tables then
go through the same conversion and checks as any delimited file (piiscan.ingest.parse).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO

import polars as pl

from piiscan.errors import IngestError
from piiscan.ingest.reader import LINE, RAGGED
from piiscan.layouts import Layout
from piiscan.layouts.telus import (
    AMOUNT,
    CLIENT_NUMBER,
    CURRENT_CHARGES,
    INDIVIDUAL_DETAIL,
    INVOICE_DATE,
    INVOICE_NUMBER,
    ITEM,
    PERIOD,
    SECTION,
    SUBSCRIBER,
    TELUS_INDIVIDUAL_CHARGES,
    TELUS_INDIVIDUAL_DETAIL,
    TOTAL_CURRENT,
    TOTAL_TAXES,
    UNREAD,
)

TITLE_LINES = 60  # a title further down is not a Telus report's
TITLES = {INDIVIDUAL_DETAIL.lower(), *UNREAD}
MONEY = re.compile(r"^\(?-?\$\s*-?[\d,]*\.?\d+\)?$")  # $5.00, -$5.00, ($5.00), $1,234.56
PERIOD_TEXT = re.compile(r"^\d{1,2}-[A-Za-z]{3}-\d{2,4}\s+to\s+\d{1,2}-[A-Za-z]{3}-\d{2,4}$")
# Preamble keys, in whatever spelling, as the layouts name them (first match wins).
PREAMBLE_KEYS = (
    (re.compile(r"invoice\s*date", re.IGNORECASE), INVOICE_DATE),
    (re.compile(r"invoice\s*(number|no\b|#)", re.IGNORECASE), INVOICE_NUMBER),
    (re.compile(r"client", re.IGNORECASE), CLIENT_NUMBER),
)

Table = tuple[Layout, tuple[str, ...], Iterator[pl.DataFrame]]


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # French names in a Windows export


def _cells(line: str) -> list[str]:
    """A line's fields, unquoted and stripped, without trailing empty ones."""
    cells = [c.strip().strip('"').strip() for c in line.rstrip("\r\n").split("\t")]
    while cells and not cells[-1]:
        cells.pop()
    return cells


def _key_value(cells: list[str]) -> tuple[str, list[str], bool]:
    """The key (no colon), the non-empty values, whether the key ended with a colon.

    `Invoice Date: 06-Feb-23` in one field is split at its first colon.
    """
    first, values = cells[0], [v for v in cells[1:] if v]
    if not values and ":" in first and not first.endswith(":"):
        first, _, rest = first.partition(":")
        return first.strip(), [rest.strip()], True
    keyed = first.endswith(":")
    return first.rstrip(":").strip(), values, keyed


def report_title(head: bytes) -> str | None:
    """The title of a Telus report in the first lines, lower-cased, or None."""
    for line in _decode(head).splitlines()[:TITLE_LINES]:
        cells = _cells(line)
        if len(cells) == 1 and " ".join(cells[0].split()).lower() in TITLES:
            return " ".join(cells[0].split()).lower()
    return None


@dataclass
class _Block:
    line: int
    fields: dict[str, str | None] = field(default_factory=dict)
    totals: dict[str, str] = field(default_factory=dict)
    items: list[tuple[int, str | None, str, str | None, str]] = field(default_factory=list)


def _amount(text: str) -> Decimal:
    negative = "-" in text or text.startswith("(")
    value = Decimal(re.sub(r"[^\d.]", "", text) or "0")
    return -value if negative else value


def _charge_of(block: _Block, section: str, total: str) -> str | None:
    """The block's total line, or the sum of its items in sections named like `section`."""
    if total.lower() in block.totals:
        return block.totals[total.lower()]
    amounts = [
        _amount(amount)
        for _, heading, _, _, amount in block.items
        if heading and section in heading.upper()
    ]
    return str(sum(amounts, Decimal(0))) if amounts else None


def _parse(text: str) -> tuple[dict[str, str | None], list[_Block]]:
    preamble: dict[str, str | None] = {}
    blocks: list[_Block] = []
    titled = False
    block: _Block | None = None
    section: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        cells = _cells(line)
        if not cells:
            continue
        if not titled:
            titled = len(cells) == 1 and " ".join(cells[0].split()).lower() in TITLES
            if not titled:
                key, values, keyed = _key_value(cells)
                if values or keyed:
                    name = next((n for p, n in PREAMBLE_KEYS if p.search(key)), key)
                    preamble.setdefault(name, values[0] if values else None)
            continue  # lines without a value are the company's name and address
        key, values, keyed = _key_value(cells)
        if key.upper() == SUBSCRIBER and (keyed or values):
            block, section = _Block(number, {SUBSCRIBER: values[0] if values else None}), None
            blocks.append(block)
        elif block is None:
            continue  # headings between the title and the first block
        elif values and MONEY.match(values[-1]) and key.lower().startswith("total"):
            block.totals.setdefault(key.lower(), values[-1])
        elif values and MONEY.match(values[-1]) and not keyed:
            period = next((v for v in values[:-1] if PERIOD_TEXT.match(v)), None)
            block.items.append((number, section, key, period, values[-1]))
        elif values or keyed:
            block.fields.setdefault(key, values[0] if values else None)
        else:
            section = key
    return preamble, blocks


Row = tuple[int, dict[str, str | None]]  # line number, values by column name


def _table(layout: Layout, rows: list[Row]) -> Table:
    """The rows as one all-string frame, columns c0..cN named by the header, as a file gives."""
    header = tuple(dict.fromkeys(name for _, row in rows for name in row))
    columns = {f"c{i}": [row.get(name) for _, row in rows] for i, name in enumerate(header)}
    frame = pl.DataFrame(
        {**columns, LINE: [line for line, _ in rows]},
        schema={**dict.fromkeys(columns, pl.String), LINE: pl.Int64},
    ).with_columns(pl.lit(False).alias(RAGGED))
    return layout, header, iter([frame])


def individual_detail(file: str, text: str) -> list[Table]:
    """An Individual Detail report as two tables: subscriber blocks and their charge items."""
    preamble, blocks = _parse(text)
    if not blocks:
        raise IngestError(file, "Telus Individual Detail report holds no subscriber block")
    lines: list[Row] = []
    items: list[Row] = []
    for block in blocks:
        row: dict[str, str | None] = {
            **preamble,
            **block.fields,
            **{key.title(): value for key, value in block.totals.items()},
            TOTAL_CURRENT: _charge_of(block, CURRENT_CHARGES, TOTAL_CURRENT),
            TOTAL_TAXES: _charge_of(block, "TAX", TOTAL_TAXES),
        }
        lines.append((block.line, row))
        common = {k: row.get(k) for k in (*preamble, SUBSCRIBER, "Subscriber Name")}
        for number, heading, item, period, amount in block.items:
            items.append(
                (number, {**common, SECTION: heading, ITEM: item, PERIOD: period, AMOUNT: amount})
            )
    tables = [_table(TELUS_INDIVIDUAL_DETAIL, lines)]
    return [*tables, _table(TELUS_INDIVIDUAL_CHARGES, items)] if items else tables


def report_tables(file: str, stream: IO[bytes], title: str) -> list[Table]:
    """The tables a Telus report lands as; raises for a report that lands nothing, saying why."""
    if title in UNREAD:
        unread = UNREAD[title]
        raise IngestError(file, unread.reason, code=unread.code)
    return individual_detail(file, _decode(stream.read()))
