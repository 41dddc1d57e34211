"""Staging a generated fixture tree in a lake's landing zone, as carriers deliver files."""

from __future__ import annotations

from pathlib import Path

from piiscan.pipeline.ingest import collect_files, deliver
from piiscan.storage import Storage


def stage_fixtures(storage: Storage, fixture_root: Path) -> int:
    """Deliver every file of a fixture tree (<customer>/<carrier>/...; the broken set to acme)
    into landing/<customer>/<carrier>/; returns how many."""
    count = 0
    for path in collect_files([fixture_root]):
        parts = path.relative_to(fixture_root).parts
        customer, carrier = ("acme", "incoming") if parts[0] == "broken" else parts[:2]
        deliver(storage, customer, carrier, path)
        count += 1
    return count
