"""Quiet nights: what a night with nothing new skips (delivered files, detection, configs), and
that skipping changes nothing.

Detection reuses its findings while a dataset's restricted files and the detector are those it
last saw; the config folder is read once per process until a file of it changes."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from piiscan.detect import Detector, Settings
from piiscan.lake import keys
from piiscan.lake.detections import load_detections
from piiscan.pipeline.ingest import collect_files, ingest_paths
from piiscan.pipeline.nightly import detect_datasets, is_quiet
from piiscan.pipeline.scan import detector_for, zone_files
from piiscan.policy import Config, load_config
from piiscan.storage import LocalStorage

from .conftest import CONFIGS


def plain(findings: dict[str, Any]) -> str:
    return json.dumps(
        {d: [asdict(f) for f in found] for d, found in findings.items()}, sort_keys=True
    )


@pytest.fixture
def lake(fixture_tree: Path, config: Config, tmp_path: Path) -> LocalStorage:
    storage = LocalStorage(tmp_path / "lake")
    ingest_paths(storage, config.customer("acme"), collect_files([fixture_tree / "acme"]), "r1")
    return storage


class Counting:
    """Wraps a detector's classify: counts the frames it is asked to classify."""

    def __init__(self, detector: Detector) -> None:
        self.calls = 0
        self.inner = detector.classify

    def __call__(self, frame: Any) -> Any:
        self.calls += 1
        return self.inner(frame)


def test_detection_reuses_its_findings_while_files_and_detector_are_unchanged(
    lake: LocalStorage, config: Config
) -> None:
    detector = detector_for(config, "acme")
    first = detect_datasets(lake, "acme", detector, config)
    assert set(load_detections(lake, "acme")) == set(first)
    again = detector_for(config, "acme")
    counting = Counting(again)
    again.classify = counting  # type: ignore[method-assign]
    assert plain(detect_datasets(lake, "acme", again, config)) == plain(first)
    assert counting.calls == 0
    assert again._nlp is None  # the model never loaded
    # A restricted file written again (same rows): only its dataset is sampled again.
    [file_key, *_] = zone_files(lake, "restricted", "invoice_lines", "acme")
    path = Path(lake.uri(file_key))
    shutil.copy(path, path.with_name("copy"))
    path.with_name("copy").replace(path)
    assert plain(detect_datasets(lake, "acme", again, config)) == plain(first)
    assert counting.calls == 1
    # Another detector (other settings) samples every dataset again.
    other = Detector(Settings(threshold=0.7))
    recount = Counting(other)
    other.classify = recount  # type: ignore[method-assign]
    detect_datasets(lake, "acme", other, config)
    assert recount.calls == len(first)


def test_detector_identity_names_what_decides_findings(config: Config) -> None:
    base = Detector(Settings())
    assert base.identity() == Detector(Settings()).identity()
    assert base.identity() != Detector(Settings(sample_size=100)).identity()
    assert base.identity() != Detector(Settings(), employee_id_patterns=[r"E\d{6}"]).identity()
    assert base.identity() != Detector(Settings(), actions={"EMAIL_ADDRESS": "drop"}).identity()
    assert detector_for(config, "acme").identity() != base.identity()  # model and patterns


def test_a_removed_dataset_leaves_the_record(lake: LocalStorage, config: Config) -> None:
    detector = detector_for(config, "acme")
    found = detect_datasets(lake, "acme", detector, config)
    for key in zone_files(lake, "restricted", "devices", "acme"):
        lake.delete(key)
    assert "devices" in found
    assert "devices" not in detect_datasets(lake, "acme", detector, config)
    assert "devices" not in load_detections(lake, "acme")


def test_the_config_is_read_once_until_a_file_changes(tmp_path: Path) -> None:
    root = tmp_path / "configs"
    shutil.copytree(CONFIGS, root)
    first = load_config(root)
    assert load_config(root) is first
    customers = root / "customers.yaml"
    customers.write_text(customers.read_text().replace("name: Acme", "name: Acme Two", 1))
    second = load_config(root)
    assert second is not first and second != first
    (root / "layouts").mkdir(exist_ok=True)
    (root / "layouts" / "broken.yaml").write_text("name: [")
    with pytest.raises(Exception, match=r"broken\.yaml"):
        load_config(root)
    (root / "layouts" / "broken.yaml").unlink()
    assert load_config(root) == second


def test_a_customer_is_quiet_without_new_deliveries_or_a_termination_due(
    fixture_tree: Path, config: Config, tmp_path: Path
) -> None:
    from datetime import date

    from piiscan.pipeline.ingest import deliver, ingest_landing

    storage = LocalStorage(tmp_path / "lake")
    acme = config.customer("acme")
    for path in collect_files([fixture_tree / "acme" / "att"]):
        deliver(storage, "acme", "att", path)
    today = date(2026, 11, 28)
    assert not is_quiet(storage, config, "acme", today)
    ingest_landing(storage, acme, "n1")
    assert is_quiet(storage, config, "acme", today)
    storage.write_bytes(keys.landing("acme", "att", "new.csv"), b"x")
    assert not is_quiet(storage, config, "acme", today)


def test_a_detectors_identity_is_the_same_in_every_process() -> None:
    """Findings recorded by one night's process stand for the next one's only if both compute
    one identity (no object address, no set order may leak into it)."""
    import subprocess
    import sys

    from .conftest import REPO

    code = (
        "from piiscan.pipeline.scan import detector_for; from piiscan.policy import load_config;"
        f"print(detector_for(load_config({str(CONFIGS)!r}), 'acme').identity())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "random"}
    seen = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            cwd=REPO,
        ).stdout.strip()
        for _ in range(3)
    }
    assert len(seen) == 1 and len(next(iter(seen))) == 64
