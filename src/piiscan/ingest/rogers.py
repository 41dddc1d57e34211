"""Rogers call detail: headerless pipe files read with the field spec delivered beside them.

A Rogers zip holds `ALL_CALLS-<type>.txt` (the rows) and `Header-<type>.txt` (the spec: a title
line `<type> Type : MM/DD/YYYY - MM/DD/YYYY`, a blank line, then `name,width,type` per field).
Member names are not consistent (`ALL_CALLS-GPRS-Rm.txt` with `Header-GPRS.txt`,
`ALL_CALLS-VoiceRM.txt` with `Header-Voice.txt`), so data files are paired with specs by the
report type their names and the spec titles carry. The rows then read as any delimited text
(piiscan.ingest.reader), with the field names of the spec as their header.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import polars as pl

from piiscan.errors import IngestError, LayoutError, SchemaError
from piiscan.ingest.reader import MAX_LINE_BYTES, RAGGED, Header, decode_head, text_frames
from piiscan.ingest.steps import FileContext, Step
from piiscan.layouts import Layout, normalize
from piiscan.layouts.rogers import KINDS, USAGE, field_names

SPEC_NAME = re.compile(r"^Header(?:[-_ ](?P<type>.+?))?\.txt$", re.IGNORECASE)
DATA_NAME = re.compile(r"^ALL_CALLS(?:[-_ ](?P<type>.+?))?\.txt$", re.IGNORECASE)
# "Voice-RM Type : 04/01/2023 - 04/30/2023"; real specs also write "Voice Type Type : ...".
TITLE = re.compile(
    r"^\s*(?P<type>.+?)(?:\s+Type)+\s*:\s*(?P<start>\d{2}/\d{2}/\d{4})\s*-\s*"
    r"(?P<end>\d{2}/\d{2}/\d{4})\s*$",
    re.IGNORECASE,
)
FIELD = re.compile(r"^(?P<name>.+),(?P<width>\d+),(?P<type>[A-Za-z]+)$")
CUSTOM = "custom"  # ALL_CALLS-Custom.txt has a header line of its own: a delimited table


def _key(report_type: str) -> str:
    """A report type as compared: 'Voice-RM', 'VoiceRM' and 'voice_rm' are one type."""
    return re.sub(r"[^a-z0-9]", "", report_type.lower())


_TYPES = {_key(t): t for t in KINDS}


@dataclass(frozen=True)
class Spec:
    """A parsed Header-<type>.txt."""

    member: str
    report_type: str | None  # as its title names it (Voice-RM), None without a title
    fields: tuple[str, ...]  # as delivered, repeated names included


def parse_spec(member: str, data: bytes) -> Spec:
    """The report type and field names of a spec file (member names it in errors)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("iso-8859-1")  # a spec is field names: a wrong accent harms none
    report_type = None
    fields: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip().lstrip("\ufeff")
        if not line:
            continue
        title = TITLE.match(line)
        if title and not fields and report_type is None:
            report_type = title.group("type").strip()
            continue
        field = FIELD.match(line)
        if field is None:
            raise SchemaError(member, f"line {number} of the field spec is not name,width,type")
        fields.append(field.group("name").strip())
    if not fields:
        raise SchemaError(member, "the field spec lists no fields")
    return Spec(member, report_type, tuple(fields))


def _name_type(member: str, pattern: re.Pattern[str]) -> str | None:
    found = pattern.match(member.rsplit("/", 1)[-1])
    return found.group("type") if found else None


def is_spec(member: str) -> bool:
    """Whether a member is named like a Rogers field spec (Header-Voice.txt)."""
    return SPEC_NAME.match(member.rsplit("/", 1)[-1]) is not None


def is_data(member: str) -> bool:
    """Whether a member is named like headerless Rogers call detail (not the Custom report)."""
    found = DATA_NAME.match(member.rsplit("/", 1)[-1])
    return found is not None and _key(found.group("type") or "") != CUSTOM


def pair(data: list[str], specs: list[Spec]) -> dict[str, Spec]:
    """Each data member whose report type a spec names, with that spec.

    A data member's type (from its name) is matched against each spec's title first, then the
    spec's name; a spec whose type begins the member's (`GPRS` for `GPRS-Rm`) matches last. A
    lone data member goes with a lone spec whatever their names.
    """
    pairs: dict[str, Spec] = {}
    for member in data:
        wanted = _key(_name_type(member, DATA_NAME) or "")
        scored = []
        for spec in specs:
            title = _key(spec.report_type or "")
            named = _key(_name_type(spec.member, SPEC_NAME) or "")
            score = (
                3
                if wanted and wanted == title
                else 2
                if wanted and wanted == named
                else 1
                if wanted and any(k and wanted.startswith(k) for k in (title, named))
                else 0
            )
            if score:
                scored.append((score, len(title or named), spec))
        if scored:
            pairs[member] = max(scored, key=lambda s: (s[0], s[1]))[2]
    if not pairs and len(data) == 1 and len(specs) == 1:
        pairs[data[0]] = specs[0]
    return pairs


def paired_members(
    archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], name: str
) -> tuple[dict[str, Spec], list[zipfile.ZipInfo]]:
    """Call-detail members (by name) with their field spec, and the members left to read as
    delimited text; the specs are read here. `name` is the archive's, for errors."""
    specs = []
    for member in members:
        if is_spec(member.filename):
            member_name = member.filename.rsplit("/", 1)[-1]
            try:
                specs.append(parse_spec(member_name, archive.read(member)))
            except IngestError as exc:
                exc.file = f"{name}/{member_name}"
                raise
    if not specs:
        return {}, members
    data = [m.filename for m in members if is_data(m.filename)]
    paired = pair(data, specs)
    unpaired = [d for d in data if d not in paired]
    if unpaired:
        raise IngestError(
            f"{name}/{unpaired[0]}",
            f"no field spec in the archive names this report type ({len(specs)} spec(s) found)",
            code="bad_header",
        )
    rest = [m for m in members if m.filename not in paired and not is_spec(m.filename)]
    return paired, rest


def layout_for(member: str, spec: Spec) -> Layout:
    """The usage layout of a data member: its spec's report type, else its own name's."""
    for candidate in (spec.report_type, _name_type(member, DATA_NAME)):
        report_type = _TYPES.get(_key(candidate or ""))
        if report_type is not None:
            return USAGE[report_type]
    raise LayoutError(
        member,
        f"Rogers report type {spec.report_type or _name_type(member, DATA_NAME)!r} is not one "
        f"of {', '.join(USAGE)}",
    )


def usage_frames(
    member: str,
    head: bytes,
    stream: IO[bytes],
    layout: Layout,
    spec: Spec,
    max_line: int = MAX_LINE_BYTES,
) -> tuple[tuple[str, ...], Iterator[pl.DataFrame]]:
    """The field names and all-string row frames of a data member, as text_frames gives them.

    Rows end with an empty field after the last one the spec names; it is dropped, and a row
    with a value there is ragged.
    """
    names = field_names(spec.fields)
    missing = [h for h in layout.signature if normalize(h) not in {normalize(n) for n in names}]
    if missing:
        raise SchemaError(
            spec.member,
            f"field spec lacks required field(s) {', '.join(map(repr, missing))} of layout "
            f"{layout.name}",
        )
    lines = [line for line in decode_head(head, layout, member).splitlines() if line.strip()]
    count = len(lines[0].split(layout.separator)) if lines else len(names) + 1
    if count not in (len(names), len(names) + 1):
        raise SchemaError(
            member,
            f"rows have {count} fields; the field spec {spec.member} lists {len(names)}",
        )
    trailing = count == len(names) + 1
    header = Header((*names, "")[:count], data_line=1, data_offset=0)

    def frames() -> Iterator[pl.DataFrame]:
        for frame in text_frames(stream, layout, header, member, max_line):
            if trailing:
                last = f"c{len(names)}"
                extra = pl.col(last).fill_null("").str.strip_chars() != ""
                frame = frame.with_columns((pl.col(RAGGED) | extra).alias(RAGGED)).drop(last)
            yield frame

    return names, frames()


def _usage(kind: str) -> Step:
    def step(frame: pl.DataFrame, context: FileContext) -> pl.DataFrame:
        """MMDDYYYY date and HHMMSS time make the event time; seconds become minutes."""
        day = pl.col("event_date")
        if "event_clock" in frame.columns:  # GPRS sessions have a date only
            clock = pl.col("event_clock").str.strip_chars().str.zfill(6)
            at = day.dt.combine(clock.str.strptime(pl.Time, "%H%M%S", strict=False), "us")
        else:
            at = day.cast(pl.Datetime("us"))
        derived = [
            at.alias("event_time"),
            pl.lit(kind).alias("kind"),
            pl.lit(int(kind == "sms")).cast(pl.Int64).alias("messages"),
        ]
        if "seconds" in frame.columns:
            derived.append((pl.col("seconds") / 60).alias("minutes"))
        if "other_number" in frame.columns:  # `*`: the number is unknown
            other = pl.col("other_number")
            unknown = other.str.contains(r"^\*+$")
            derived.append(pl.when(unknown).then(None).otherwise(other).alias("other_number"))
        return frame.with_columns(derived).drop(
            [c for c in ("event_date", "event_clock", "seconds") if c in frame.columns]
        )

    return step


def custom(frame: pl.DataFrame, context: FileContext) -> pl.DataFrame:
    """The four sales taxes add up to the line's tax."""
    taxes = [pl.col(t).fill_null(0) for t in ("gst", "pst", "hst", "qst") if t in frame.columns]
    return frame.with_columns(pl.sum_horizontal(taxes).alias("tax"))


STEPS: dict[str, Step] = {
    **{layout.name: _usage(KINDS[report_type]) for report_type, layout in USAGE.items()},
    "rogers_custom": custom,
}
