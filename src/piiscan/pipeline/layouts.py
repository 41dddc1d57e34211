"""Layouts for people adding a carrier: draft one from a file (`suggest`), and see which layout
each file gets and what its first rows convert to, masked (`check`). Nothing reaches the lake.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from piiscan.detect import Detector
from piiscan.detect.sampling import mask
from piiscan.errors import IngestError
from piiscan.ingest.detection import Candidate, detect_text
from piiscan.ingest.parse import Outputs, Tally, parse_file
from piiscan.ingest.reader import HEAD_BYTES, sniff
from piiscan.ingest.suggest import Draft, draft_layout
from piiscan.layouts import LAYOUTS, Layout
from piiscan.pipeline.ingest import nothing_landed
from piiscan.schema import EXTRAS, KNOWN_ENTITIES
from piiscan.types import LayoutChoice

CHECK_LINES = 200  # data lines of a text file converted by `check`
SHOWN_ROWS = 3
# Canonical text columns that never hold personal data: shown as they are.
PLAIN_TEXT = frozenset(
    {"carrier", "kind", "direction", "invoice_status", "status", "item_category"}
)


@dataclass(frozen=True)
class Suggestion:
    """A drafted layout, and the layout that already fits the file, if one does."""

    draft: Draft
    fits: Candidate | None


def suggest_layout(
    path: Path, detector: Detector, layouts: Sequence[Layout] = LAYOUTS
) -> Suggestion:
    """A layout drafted from the first bytes of a delimited file."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    kind = sniff(head, path.name)
    if kind != "text":
        raise IngestError(path.name, f"layouts are drafted from delimited text, not {kind} files")
    try:
        _, _, fits, _ = detect_text(path.name, head, layouts)
    except IngestError:
        fits = None
    return Suggestion(draft_layout(path.name, head, detector), fits)


@dataclass(frozen=True)
class FileCheck:
    """Which layout a file gets and what its first rows convert to (masked), or why none."""

    file: str
    choices: tuple[LayoutChoice, ...] = ()
    rows: dict[str, int] = field(default_factory=dict)  # of the converted sample, per dataset
    rows_rejected: int = 0
    rows_reference: int = 0
    rows_delivered: int = 0
    sample: tuple[dict[str, str], ...] = ()  # first converted rows, every value masked or safe
    rejections: tuple[str, ...] = ()  # line and problem, never a value
    reason_code: str | None = None
    reason: str | None = None

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def check_files(paths: Sequence[Path], layouts: Sequence[Layout] = LAYOUTS) -> list[FileCheck]:
    """Each file's layout, score and runner-up, and its first rows converted, masked."""
    return [_check(path, layouts) for path in paths]


def _check(path: Path, layouts: Sequence[Layout]) -> FileCheck:
    tally = Tally()
    with tempfile.TemporaryDirectory(prefix="piiscan-check-") as tmp:
        source = _text_head(path, Path(tmp))
        outputs = Outputs(Path(tmp) / "out")
        outputs.folder.mkdir()
        try:
            parse_file(path.name, source, outputs, tally, layouts)
            outputs.finish()
        except IngestError as exc:
            return FileCheck(path.name, tuple(tally.choices), reason_code=exc.code, reason=str(exc))
        finally:
            outputs.close()
        sample: list[dict[str, str]] = []
        for _, _, local in outputs.partitions():
            room = SHOWN_ROWS - len(sample)
            if room > 0:
                sample += [_masked(row) for row in pl.read_parquet(local).head(room).to_dicts()]
    rejections = tuple(f"line {r['line']}: {r['problem']}" for r in tally.rejections[:10])
    empty = nothing_landed(path.name, tally)
    return FileCheck(
        path.name,
        tuple(tally.choices),
        dict(tally.rows),
        tally.rejected,
        tally.reference,
        tally.delivered,
        tuple(sample),
        rejections,
        empty.code if empty else None,
        str(empty) if empty else None,
    )


def _text_head(path: Path, folder: Path) -> Path:
    """A delimited text file's first lines under its own name (other files as they are)."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
        if sniff(head, path.name) != "text":
            return path
        lines = [handle.readline() for _ in range(CHECK_LINES)] if len(head) == HEAD_BYTES else []
    short = folder / path.name
    short.write_bytes(head + b"".join(lines))
    return short


def _masked(row: dict[str, Any]) -> dict[str, str]:
    """A converted row as text: identifiers and text masked, numbers and dates as they are."""
    shown: dict[str, str] = {}
    for name, value in row.items():
        if value is None:
            continue
        if name == EXTRAS:
            for key, extra in json.loads(value).items():
                if extra is not None:
                    shown[f"{EXTRAS}.{key}"] = mask(str(extra), None)
        elif name in KNOWN_ENTITIES:
            shown[name] = mask(str(value), KNOWN_ENTITIES[name])
        elif isinstance(value, str) and name not in PLAIN_TEXT:
            shown[name] = mask(value, None)
        else:
            shown[name] = str(value)
    return shown
