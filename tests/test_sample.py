"""The committed sample under fixtures/sample is exactly what the seeded generator writes."""

from __future__ import annotations

import re
from pathlib import Path

from piiscan.testing.generate import generate

from .conftest import REPO

SAMPLE = REPO / "fixtures" / "sample"


def _sample_args() -> dict[str, int]:
    makefile = (REPO / "Makefile").read_text()
    line = re.search(r"^SAMPLE_ARGS := (.*)$", makefile, re.MULTILINE)
    assert line, "Makefile defines SAMPLE_ARGS"
    pairs = re.findall(r"--([a-z-]+) (\d+)", line.group(1))
    return {name.replace("-", "_"): int(value) for name, value in pairs}


def test_committed_sample_matches_the_generator(tmp_path: Path) -> None:
    generate(tmp_path, **_sample_args())
    fresh = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    committed = {p.relative_to(SAMPLE): p.read_bytes() for p in SAMPLE.rglob("*") if p.is_file()}
    assert sorted(fresh) == sorted(committed)
    changed = [str(name) for name in fresh if fresh[name] != committed[name]]
    assert not changed, f"regenerate with `make fixtures`: {changed}"
