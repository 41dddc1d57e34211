"""The layout model: file-name pattern, header, and what each column maps onto.

A layout is recognised from the file name and its header signature (the required columns).
Header matching ignores case, surrounding spaces and a BOM. Columns of a file that the layout does
not list are kept as extra string columns under a snake_case name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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
    "datetime",  # ISO 8601 date-time (generic extracts)
]
# "report": not a delimited table; read by a reader of its own (piiscan.ingest.rogers, .telus),
# never chosen by header matching.
Format = Literal["csv", "xlsx", "parquet", "report"]


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
    fields: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", {normalize(c.header): c for c in self.columns})

    @property
    def headers(self) -> list[str]:
        """The header row as the carrier writes it."""
        return [c.header for c in self.columns]

    @property
    def signature(self) -> list[str]:
        """Headers that must be present for a file to be of this layout."""
        return [c.header for c in self.columns if c.required]

    def matches_name(self, file_name: str) -> bool:
        """Whether the file name looks like this layout's files."""
        return re.search(self.file_pattern, file_name, re.IGNORECASE) is not None


def normalize(header: str) -> str:
    """Header text as compared: no BOM, single spaces, lower case."""
    return " ".join(header.replace("\ufeff", "").split()).lower()


def c(header: str, target: str, kind: Kind = "text", **kw: object) -> Column:
    return Column(header, target, kind, **kw)  # type: ignore[arg-type]
