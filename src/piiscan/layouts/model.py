"""The layout model: file-name pattern, header, and what each column maps onto.

A layout is recognised from the file name and its header signature (the required columns).
Header matching ignores case, surrounding spaces and a BOM. Columns of a file that the layout does
not list are kept as extra string columns under a snake_case name. A header may repeat only where
the layout lists it as often (Bell call detail's two `PR`); repeats are read as `PR (2)`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

Kind = Literal[
    "text",  # stripped string; N/A, NA and blanks become null
    "id",  # identifier string; scientific notation (Excel damage) is a row error
    "phone",  # a wireless number, canonical (piiscan.phones: 10 NANP digits)
    "dialed",  # the other party: digits only (short codes and international allowed)
    "money",  # $1,234.56 / (948.03) / ($948.03) / -12.00 -> Decimal(18, 2)
    "number",  # 167.000000000000000 / 1,234.5 -> Float64
    "int",  # 12 / 1,204 -> Int64
    "date",  # parsed with Column.fmt
    "mmss",  # Bell durations 1053:00 (minutes:seconds) -> minutes as Float64
    "datetime",  # ISO 8601 date-time (generic extracts), or parsed with Column.fmt
    "time",  # a time of day parsed with Column.fmt, joined to the date of the same target
    "duration",  # a duration in Column.fmt (seconds, minutes, mm:ss, hh:mm:ss) -> minutes
]
# "report": not a delimited table; read by a reader of its own (piiscan.ingest.rogers, .telus),
# never chosen by header matching.
Format = Literal["csv", "xlsx", "parquet", "report"]
# Column.fmt of money and number columns: how thousands and decimals are written.
NUMBER_FORMATS = ("1,234.56", "1.234,56", "1 234,56", "1234.56", "1234,56")
DURATION_FORMATS = ("seconds", "minutes", "mm:ss", "hh:mm:ss")
# A time-of-day column's frame name is this prefix and the target it completes (underscore
# names never reach the lake: the time joins its date column's value, then goes).
TIME_OF = "_time_of_"


@dataclass(frozen=True)
class Column:
    """One delivered column and where it goes."""

    header: str
    target: str
    kind: Kind = "text"
    required: bool = False
    fmt: str | None = None
    french: str | None = None  # Bell's second header row


@dataclass(frozen=True)
class Layout:
    """A carrier file layout and its mapping onto a canonical dataset."""

    name: str
    carrier: str
    dataset: str | None  # None: a reference file used by its siblings (Verizon AccountSummary)
    file_pattern: str  # regular expression searched in the file name, case-insensitive
    columns: tuple[Column, ...]
    format: Format = "csv"
    separator: str = ","
    encoding: str = "utf-8"
    header_rows: int = 1
    max_preamble: int = 0  # lines allowed before the header (T-Mobile metadata rows)
    description: str = ""
    origin: str = "built-in"  # or the configs/layouts file it was read from
    fields: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A header the carrier repeats (Bell call detail's two `PR`) is told apart by position.
        fields = {
            normalize(name): c if name == c.header else replace(c, header=name)
            for name, c in zip(numbered(self.headers), self.columns, strict=True)
        }
        object.__setattr__(self, "fields", fields)

    @property
    def headers(self) -> list[str]:
        """The header row as the carrier writes it."""
        return [c.header for c in self.columns]

    @property
    def signature(self) -> list[str]:
        """Headers that must be present for a file to be of this layout."""
        return [c.header for c in self.columns if c.required]

    @property
    def optional(self) -> list[str]:
        """Headers the layout knows that a file may lack."""
        return [c.header for c in self.columns if not c.required]

    def matches_name(self, file_name: str) -> bool:
        """Whether the file name looks like this layout's files."""
        return re.search(self.file_pattern, file_name, re.IGNORECASE) is not None


def normalize(header: str) -> str:
    """Header text as compared: no BOM, single spaces, lower case."""
    return " ".join(header.replace("\ufeff", "").split()).lower()


def numbered(headers: Sequence[str]) -> tuple[str, ...]:
    """Headers with repeats told apart: the second `PR` becomes `PR (2)`."""
    seen: Counter[str] = Counter()
    out = []
    for header in headers:
        seen[normalize(header)] += 1
        count = seen[normalize(header)]
        out.append(header if count == 1 else f"{header} ({count})")
    return tuple(out)


def c(header: str, target: str, kind: Kind = "text", **kw: object) -> Column:
    return Column(header, target, kind, **kw)  # type: ignore[arg-type]
