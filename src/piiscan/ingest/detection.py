"""Recognising a delivered file's layout by evidence: its header and its name.

Every layout of the file's format is a candidate. A candidate is eligible when the header holds
all of its required columns; its score is the number of the file's columns it knows, plus
NAME_BONUS when the file name matches its pattern (a bonus decides between eligible layouts, it
never makes one eligible). The best eligible candidate wins, unless

- another eligible candidate of a different dataset scores the same (`ambiguous_layout`), or
- it is weak: it knows less than WEAK_SHARE of the file's columns and the file name does not
  match its pattern (`weak_layout`): a header that merely contains a layout's few required
  columns is not evidence enough.

A reference layout (no dataset: Verizon AccountSummary) therefore never wins on its header alone
against a dataset layout that knows more of the columns. Each file is decided once, from its
first lines, so this stays a few set operations per candidate.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from piiscan.errors import EncodingError, LayoutError, SchemaError
from piiscan.ingest.reader import Header, decode_head, split_fields
from piiscan.layouts import LAYOUTS, Layout, normalize
from piiscan.layouts.model import numbered

NAME_BONUS = 2.0  # a matching file name counts as two known columns
WEAK_SHARE = 0.25  # a best match knowing fewer of the file's columns needs its file name too
LISTED = 4  # columns named per candidate in a reason


@dataclass(frozen=True)
class Candidate:
    """How well one layout fits a file's header and name."""

    layout: Layout
    line: int  # 0-based index of the header line among the first lines (0 for XLSX/Parquet)
    names: tuple[str, ...]  # the header at that line, as delivered
    known: int  # the file's columns the layout knows
    missing_required: tuple[str, ...]
    missing_optional: tuple[str, ...]
    name_match: bool

    @property
    def eligible(self) -> bool:
        """Whether every required column is in the header."""
        return not self.missing_required

    @property
    def score(self) -> float:
        """Known columns, plus the name bonus."""
        return self.known + (NAME_BONUS if self.name_match else 0.0)

    @property
    def share(self) -> float:
        """The share of the file's columns the layout knows."""
        return self.known / max(len(self.names), 1)

    @property
    def weak(self) -> bool:
        """Eligible, but knows too few of the file's columns to be taken without its name."""
        return not self.name_match and self.share < WEAK_SHARE

    def summary(self) -> str:
        """`layout (score 7: 5/6 columns, file name)`, for reasons and reports."""
        named = ", file name" if self.name_match else ""
        known = f"{self.known}/{len(self.names)} columns{named}"
        return f"{self.layout.name} (score {self.score:g}: {known})"

    def lacks(self) -> str:
        """What the candidate misses, in words."""
        parts = []
        if self.missing_required:
            parts.append(f"required {_listed(self.missing_required)}")
        if self.missing_optional:
            parts.append(f"optional {_listed(self.missing_optional)}")
        unknown = len(self.names) - self.known
        if unknown:
            parts.append(f"{unknown} of the file's columns unknown to it")
        return "; ".join(parts) or "nothing"


def _listed(headers: Sequence[str]) -> str:
    shown = ", ".join(map(repr, headers[:LISTED]))
    return shown + (f" and {len(headers) - LISTED} more" if len(headers) > LISTED else "")


def _candidate(
    layout: Layout,
    line: int,
    names: tuple[str, ...],
    file_name: str,
    present: frozenset[str] | None = None,
) -> Candidate:
    present = present if present is not None else frozenset(normalize(n) for n in numbered(names))
    absent = [c for key, c in layout.fields.items() if key not in present]
    return Candidate(
        layout,
        line,
        names,
        len(layout.fields) - len(absent),
        tuple(c.header for c in absent if c.required),
        tuple(c.header for c in absent if not c.required),
        layout.matches_name(file_name),
    )


def _best_line(candidates: list[Candidate]) -> Candidate:
    """A layout's best header line: eligible first, then most columns known, then earliest."""
    return max(candidates, key=lambda c: (c.eligible, c.known, -c.line))


def rank_text(
    name: str, head: bytes, layouts: Sequence[Layout] = LAYOUTS
) -> tuple[list[Candidate], list[Layout]]:
    """Every delimited-text layout scored against a file's first lines, best first, and the
    layouts whose encoding the bytes are not in."""
    decoded: dict[str, str | None] = {}
    split: dict[tuple[str, str, int], tuple[tuple[str, ...], frozenset[str]]] = {}
    ranked: list[Candidate] = []
    undecodable: list[Layout] = []
    for layout in layouts:
        if layout.format != "csv":
            continue
        if layout.encoding not in decoded:
            try:
                decoded[layout.encoding] = decode_head(head, layout, name)
            except EncodingError:
                decoded[layout.encoding] = None
        text = decoded[layout.encoding]
        if text is None:
            undecodable.append(layout)
            continue
        lines = text.splitlines()[: layout.max_preamble + 1] or [""]
        options = []
        for index, line in enumerate(lines):
            key = (layout.encoding, layout.separator, index)
            if key not in split:
                names = tuple(split_fields(line, layout.separator))
                split[key] = (names, frozenset(normalize(n) for n in numbered(names)))
            names, present = split[key]
            options.append(_candidate(layout, index, names, name, present))
        ranked.append(_best_line(options))
    return _ordered(ranked), undecodable


def rank_columns(
    name: str, columns: tuple[str, ...], fmt: str, layouts: Sequence[Layout] = LAYOUTS
) -> list[Candidate]:
    """Every layout of an XLSX or Parquet format scored against the file's columns, best first."""
    return _ordered([_candidate(lay, 0, columns, name) for lay in layouts if lay.format == fmt])


def _ordered(candidates: list[Candidate]) -> list[Candidate]:
    """Eligible first, by score; then the rest by how many required columns they found."""
    return sorted(
        candidates,
        key=lambda c: (c.eligible, c.score, -len(c.missing_required), c.known),
        reverse=True,
    )


def choose(name: str, ranked: list[Candidate]) -> Candidate:
    """The layout the evidence names, or the reason no layout can be taken."""
    eligible = [c for c in ranked if c.eligible]
    if not eligible:
        named = [c for c in ranked if c.name_match]
        if named:
            raise SchemaError(
                name,
                f"header lacks required column(s) {', '.join(map(repr, named[0].missing_required))}"
                f" of layout {named[0].layout.name}",
            )
        closest = next((c for c in ranked if c.known), None)
        hint = (
            f"; closest is {closest.layout.name}, which lacks {closest.lacks()}"
            if closest is not None
            else ""
        )
        raise LayoutError(
            name,
            f"no known layout matches the file name or the header{hint}",
            code="unknown_layout",
        )
    best = eligible[0]
    if best.layout.dataset is None:
        # A reference file's rows are only read, never landed: a dataset layout that knows
        # more of the header wins whatever the file is called, so no line rows are swallowed.
        wider = [c for c in eligible if c.layout.dataset is not None and c.known > best.known]
        if wider:
            best = max(wider, key=lambda c: (c.known, c.name_match))
    tied = [
        c for c in eligible[1:] if c.score == best.score and c.layout.dataset != best.layout.dataset
    ]
    if tied:
        listed = "; ".join(f"{c.summary()} lacks {c.lacks()}" for c in [best, *tied])
        raise LayoutError(
            name,
            f"layouts of different datasets fit the file equally well: {listed}; rename the "
            "file to match one layout's pattern, or make the layouts' required columns differ",
            code="ambiguous_layout",
        )
    if best.weak:
        raise LayoutError(
            name,
            f"the best layout, {best.summary()}, knows only {best.known} of the file's "
            f"{len(best.names)} columns (less than {WEAK_SHARE:.0%}) and the file name does not "
            f"match its pattern {best.layout.file_pattern!r}; it lacks {best.lacks()}",
            code="weak_layout",
        )
    _refuse_repeats(name, best.names, best.layout)
    return best


def _refuse_repeats(name: str, names: tuple[str, ...], layout: Layout | None = None) -> None:
    """A header naming a column twice is refused, unless the layout lists it that often (Bell's
    DTL has two `PR` columns: the second is read as `PR (2)`)."""
    counts = Counter(normalize(n) for n in names)
    listed = Counter(normalize(h) for h in layout.headers) if layout else Counter()
    repeated = sorted({n for n in names if counts[normalize(n)] > max(1, listed[normalize(n)])})
    if repeated:
        raise SchemaError(name, f"column {repeated[0]!r} appears more than once in the header")


def header_of(candidate: Candidate, text: str) -> Header:
    """Where the chosen header is in the decoded first lines, and where its data starts."""
    lines = text.splitlines(keepends=True)
    end = candidate.line + candidate.layout.header_rows
    offset = sum(len(line.encode("utf-8")) for line in lines[:end])
    return Header(numbered(candidate.names), end + 1, offset)


def detect_text(
    name: str, head: bytes, layouts: Sequence[Layout] = LAYOUTS
) -> tuple[Layout, Header, Candidate, Candidate | None]:
    """The layout and header of a delimited text file, from its name and first lines, with the
    winning candidate and the runner-up."""
    ranked, undecodable = rank_text(name, head, layouts)
    if not any(c.eligible for c in ranked):
        # A file named like a layout whose encoding the bytes are not in: that is the problem.
        for layout in undecodable:
            if layout.matches_name(name):
                decode_head(head, layout, name)  # raises EncodingError naming the layout
    best = choose(name, ranked)
    text = decode_head(head, best.layout, name)
    return best.layout, header_of(best, text), best, _runner_up(ranked, best)


def detect_columns(
    name: str, columns: tuple[str, ...], fmt: str, layouts: Sequence[Layout] = LAYOUTS
) -> tuple[Layout, Candidate, Candidate | None]:
    """The layout of an XLSX or Parquet file from its name and column names."""
    _refuse_repeats(name, columns)
    ranked = rank_columns(name, columns, fmt, layouts)
    best = choose(name, ranked)
    return best.layout, best, _runner_up(ranked, best)


def _runner_up(ranked: list[Candidate], best: Candidate) -> Candidate | None:
    return next((c for c in ranked if c is not best and c.known), None)
