"""Small frozen values passed between stages; none holds a raw personal value."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

FileStatus = Literal["ingested", "quarantined", "skipped"]


@dataclass(frozen=True)
class LayoutChoice:
    """The layout chosen for one file or archive member, its score and the runner-up's."""

    unit: str  # the file, or archive/member
    layout: str
    score: float  # columns known, plus a bonus when the file name matches the layout's pattern
    columns_known: int
    columns: int  # the file's columns
    name_match: bool
    runner_up: str | None = None
    runner_up_score: float | None = None


@dataclass(frozen=True)
class FileResult:
    """What happened to one delivered file (a zip counts as one file).

    Its rows add up: rows_delivered = sum(rows) + rows_rejected + rows_reference.
    """

    file: str
    checksum: str
    status: FileStatus
    layouts: tuple[str, ...] = ()
    carrier: str | None = None
    rows: dict[str, int] = field(default_factory=dict)  # dataset -> rows landed
    rows_rejected: int = 0  # rows sent to quarantine with their line numbers
    rows_reference: int = 0  # reference and summary rows: they inform other rows, land nowhere
    rows_delivered: int = 0  # data rows read from the file (all members of a zip)
    choices: tuple[LayoutChoice, ...] = ()
    reason_code: str | None = None
    reason: str | None = None
    landing_key: str | None = None
    quarantine_key: str | None = None
    outputs: tuple[str, ...] = ()  # lake keys written

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class IngestSummary:
    """One ingest run for one customer."""

    customer: str
    run_id: str
    files: tuple[FileResult, ...]

    def count(self, status: FileStatus) -> int:
        """Number of files with this status."""
        return sum(1 for f in self.files if f.status == status)

    @property
    def rows(self) -> dict[str, int]:
        """Rows landed per dataset."""
        totals: dict[str, int] = {}
        for result in self.files:
            for dataset, n in result.rows.items():
                totals[dataset] = totals.get(dataset, 0) + n
        return totals

    @property
    def rows_rejected(self) -> int:
        """Rows quarantined across files."""
        return sum(f.rows_rejected for f in self.files)

    @property
    def rows_delivered(self) -> int:
        """Data rows read across files."""
        return sum(f.rows_delivered for f in self.files)

    @property
    def rows_reference(self) -> int:
        """Reference and summary rows across files."""
        return sum(f.rows_reference for f in self.files)

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict with totals first."""
        return {
            "customer": self.customer,
            "run_id": self.run_id,
            "files_ingested": self.count("ingested"),
            "files_quarantined": self.count("quarantined"),
            "files_skipped": self.count("skipped"),
            "rows": self.rows,
            "rows_rejected": self.rows_rejected,
            "rows_delivered": self.rows_delivered,
            "rows_reference": self.rows_reference,
            "files": [f.as_json() for f in self.files],
        }
