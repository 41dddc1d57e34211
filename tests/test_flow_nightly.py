"""The nightly flow in Prefect's ephemeral mode (a real, temporary Prefect server)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from piiscan.cli import app
from piiscan.errors import RECOGNISED_REPORTS
from piiscan.storage import LocalStorage
from piiscan.testing.stage import stage_fixtures

from .conftest import CONFIGS

pytestmark = pytest.mark.integration


@pytest.fixture
def staged_lake(fixture_tree: Path, tmp_path: Path) -> Path:
    lake = tmp_path / "lake"
    stage_fixtures(LocalStorage(lake), fixture_tree)
    return lake


def _values(fixture_tree: Path) -> list[str]:
    """Personal values of the fixtures that must never reach a report."""
    frames = [pl.read_parquet(p) for p in fixture_tree.glob("*/generic/*.parquet")]
    return [
        v
        for f in frames
        for c in ("user_name", "wireless_number", "employee_id")
        for v in f[c].to_list()
        if v
    ]


def test_nightly_ingests_every_customer_and_writes_reports(
    staged_lake: Path, fixture_tree: Path
) -> None:
    from flows.nightly import nightly

    state = nightly(lake=str(staged_lake), config_dir=str(CONFIGS), return_state=True)
    assert state.is_completed(), state
    result: dict[str, Any] = state.result()
    assert set(result["customers"]) == {"acme", "globex", "initech"} and result["failed"] == {}
    acme = result["customers"]["acme"]
    assert acme["files_quarantined"] == 8 and acme["rows"]["usage_events"] > 0
    for customer, summary in result["customers"].items():
        report = json.loads(Path(summary["report"]).read_text())
        assert report["customer"] == customer and report["run_id"] == result["run_id"]
        text = json.dumps(report)
        assert not [v for v in _values(fixture_tree) if v in text]
    lines = pl.scan_parquet(staged_lake / "restricted" / "invoice_lines", hive_partitioning=True)
    assert lines.select(pl.col("customer").n_unique()).collect().item() == 3
    tokens = pl.scan_parquet(staged_lake / "analytics" / "usage_events", hive_partitioning=True)
    assert tokens.select(pl.col("wireless_number").str.starts_with("k1-").all()).collect().item()
    assert {"email", "iccid", "imei", "user_name", "wireless_number"} <= set(
        acme["pii_columns"]["devices"]
    )
    assert acme["rows_pseudonymized"]["usage_events"] == acme["rows"]["usage_events"]

    again = nightly(lake=str(staged_lake), config_dir=str(CONFIGS), return_state=True)
    assert again.is_completed()
    assert all(s["files_ingested"] == 0 for s in again.result()["customers"].values())


def test_one_failing_customer_does_not_stop_the_others(staged_lake: Path) -> None:
    from flows.nightly import nightly

    (staged_lake / "state" / "ingested").mkdir(parents=True)
    (staged_lake / "state" / "ingested" / "globex.json").write_text("{broken")
    state = nightly(lake=str(staged_lake), config_dir=str(CONFIGS), return_state=True)
    assert state.is_failed()
    message = str(state.result(raise_on_failure=False))
    assert "1 customer(s) failed: globex: StorageError" in message and "not valid JSON" in message
    assert list((staged_lake / "reports" / "acme").glob("*.json"))
    assert list((staged_lake / "reports" / "initech").glob("*.json"))
    # globex has no report, only the record of its failed run (the report index shows it)
    [failed] = (staged_lake / "reports" / "globex").iterdir()
    assert failed.name.endswith(".failed.json") and "not valid JSON" in failed.read_text()


def test_demo_runs_the_nightly_flow_and_prints_where_the_reports_are(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["demo", "--lake", str(tmp_path / "lake"), "--config", str(CONFIGS)]
    )
    assert result.exit_code == 0, result.output
    reports = sorted((tmp_path / "lake" / "reports").glob("*/*.json"))
    assert len(reports) == 3
    for report in reports:
        assert f"report: {report}" in result.stdout


def _artifact(key: str) -> str:
    """The latest markdown of a Prefect artifact, read back from the (temporary) server."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
            sort=ArtifactSort.CREATED_DESC,
            limit=1,
        )
    assert found, f"no artifact {key}"
    return str(found[0].data)


def test_a_new_column_of_emails_marks_the_customer_needs_review(
    staged_lake: Path, fixture_tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.nightly import nightly

    first = nightly(lake=str(staged_lake), config_dir=str(CONFIGS), return_state=True)
    assert first.is_completed()
    # Night 1: acme's damaged files are review items (one per quarantined file or file with
    # rejected rows), not a green "nothing to review".
    before = first.result()["customers"]["acme"]
    report = json.loads(Path(before["report"]).read_text())
    damaged = [
        f
        for f in report["ingest"]["files"]
        if (f["status"] == "quarantined" and f["reason_code"] not in RECOGNISED_REPORTS)
        or f["rows_rejected"]
    ]
    assert len(damaged) >= 3 and before["files_to_review"] == len(damaged)
    assert "acme" in first.result()["needs_review"]
    assert f"| acme | **needs review** ({before['review_items']} item(s))" in _artifact(
        "nightly-summary"
    )

    extract = next((fixture_tree / "acme" / "generic").glob("*.parquet"))
    frame = pl.read_parquet(extract)
    emails = [f"member{i}@acme.example.com" for i in range(frame.height)]
    landing = staged_lake / "landing" / "acme" / "generic" / "tem_invoice_lines_202611.parquet"
    frame.with_columns(pl.Series("contact_email", emails), pl.col("charge") * 3).write_parquet(
        landing
    )
    monkeypatch.setenv("PIISCAN_NOW", "2026-11-29T02:00:00Z")  # the next night
    second = nightly(lake=str(staged_lake), config_dir=str(CONFIGS), return_state=True)
    assert second.is_completed()
    result: dict[str, Any] = second.result()
    assert "acme" in result["needs_review"]
    items = before["review_items"] + 1  # the files still wait; the new column joins them
    assert result["customers"]["acme"]["review_items"] == items
    assert result["customers"]["acme"]["files_to_review"] == len(damaged)
    assert not result["customers"]["globex"]["files_to_review"]
    summary = _artifact("nightly-summary")
    assert f"| acme | **needs review** ({items} item(s))" in summary
    acme = _artifact("nightly-acme")
    assert f"**Needs review: {items} item(s)**" in acme
    assert "invoice_lines.extras.contact_email: new column, EMAIL_ADDRESS" in acme
    html = Path(result["customers"]["acme"]["html"]).read_text()
    assert f"Needs review: {items} item(s)" in html
    assert not [v for v in [*_values(fixture_tree), *emails] if v in summary + acme + html]


def test_the_nightly_applies_a_termination_due_today_and_then_only_purges_and_reports(
    staged_lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: a terminated customer's next nightly failed on the missing key."""
    from flows.nightly import nightly
    from piiscan.lake.keyring import create_key
    from piiscan.lake.terminations import load_termination, save_termination, scheduled

    monkeypatch.setenv("PIISCAN_KEYS_DIR", str(tmp_path / "keys"))
    for customer in ("acme", "globex", "initech"):
        create_key(customer, tmp_path / "keys")
    storage = LocalStorage(staged_lake)
    first = nightly(lake=str(staged_lake), config_dir=str(CONFIGS), return_state=True)
    assert first.is_completed()
    record = scheduled("initech", date(2026, 11, 29), "2026-11-28T09:00:00+00:00", "test")
    save_termination(storage, record)
    monkeypatch.setenv("PIISCAN_NOW", "2026-11-29T02:00:00Z")
    second = nightly(lake=str(staged_lake), config_dir=str(CONFIGS), return_state=True)
    assert second.is_completed(), second
    applied = load_termination(storage, "initech")
    assert applied is not None and applied.applied and applied.key_state == "retired"
    assert not (tmp_path / "keys" / "initech.json").exists()
    assert not list(storage.list("landing/initech"))
    monkeypatch.setenv("PIISCAN_NOW", "2026-11-30T02:00:00Z")
    (staged_lake / "landing" / "initech" / "att").mkdir(parents=True, exist_ok=True)
    (staged_lake / "landing" / "initech" / "att" / "late.csv").write_text("late,file\n1,2\n")
    third = nightly(lake=str(staged_lake), config_dir=str(CONFIGS), return_state=True)
    assert third.is_completed(), third  # no key, nothing ingested, no failure
    result: dict[str, Any] = third.result()
    assert result["customers"]["initech"]["files_ingested"] == 0
    report = json.loads(Path(result["customers"]["initech"]["report"]).read_text())
    assert report["ingest"]["skipped"] == "customer terminated"
    assert report["purge"]["termination"]["status"] == "applied"


def test_a_quiet_batch_runs_in_one_task_and_goes_on_past_a_failure(
    staged_lake: Path,
) -> None:
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from flows.nightly import customer_nightly, nightly

    first = nightly(lake=str(staged_lake), config_dir=str(CONFIGS), return_state=True)
    assert first.is_completed(), first
    alone = first.result()["customers"]
    (staged_lake / "state" / "ingested" / "globex.json").write_text("{broken")
    state = customer_nightly(
        lake=str(staged_lake),
        config_dir=str(CONFIGS),
        customer="acme",
        batch=["globex", "initech"],
        run_id="r-quiet",
        return_state=True,
    )
    assert state.is_failed()
    assert "1 customer(s) failed: globex: StorageError" in str(state.result(raise_on_failure=False))
    for customer in ("acme", "initech"):  # the others reported, with what a run alone found
        report = json.loads((staged_lake / "reports" / customer / "r-quiet.json").read_text())
        assert report["ingest"]["files_ingested"] == 0
        assert sorted(report["datasets"]) == sorted(alone[customer]["pii_columns"])
        before = json.loads(Path(alone[customer]["report"]).read_text())
        for dataset, body in report["datasets"].items():  # the same findings; nothing rewritten
            assert body["columns"] == before["datasets"][dataset]["columns"], (customer, dataset)
            assert body["rows"] == before["datasets"][dataset]["rows"]
            assert body["files_written"] == 0
    assert (staged_lake / "reports" / "globex" / "r-quiet.failed.json").exists()
    with get_client(sync_client=True) as client:
        run_id = state.state_details.flow_run_id
        assert run_id is not None
        run_filter = FlowRunFilter(id=FlowRunFilterId(any_=[run_id]))
        tasks = client.read_task_runs(flow_run_filter=run_filter)
        artifacts = client.read_artifacts()
    names = [t.name.rsplit("-", 1)[0] for t in tasks]
    assert names == ["quiet-batch"], names  # one task run for the batch, not six per customer
    assert tasks[0].state_type is not None and tasks[0].state_type.value == "COMPLETED"
    progress = [a for a in artifacts if a.key == "progress-quiet-acme"]
    assert progress and float(str(progress[-1].data)) == 100.0


def test_secret_blocks_are_read_once_per_cached_block_and_forgotten_when_retired(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from prefect import flow
    from prefect.blocks.system import Secret

    from flows import common
    from piiscan.lake.keyring import secret_block_name
    from piiscan.pseudonymize import new_keyring

    reads: list[str] = []
    load = Secret.load

    def counting(name: str, *args: Any, **kwargs: Any) -> Any:
        reads.append(name)
        return load(name, *args, **kwargs)

    @flow
    def check() -> dict[str, Any]:
        name = secret_block_name("wayne")
        Secret(value=new_keyring()).save(name, overwrite=True)  # type: ignore[arg-type]
        monkeypatch.setattr(Secret, "load", counting)
        with common.secrets_cached():
            first = common.customer_key("wayne")
            again = common.customer_key("wayne")
            copies = common.customer_key_copies("wayne")
            cached_reads = len(reads)
            block = next(s for s in copies.sources if isinstance(s, common.SecretBlockKey))
            block.retire()
            after = common.customer_key_copies("wayne")
        outside = common.customer_key_or_none("wayne")  # a fresh read: the block is gone
        return {
            "same": first == again,
            "cached_reads": cached_reads,
            "after": [type(s).__name__ for s in after.sources],
            "outside": outside,
            "reads": len(reads),
        }

    result = check()
    assert result["same"] and result["cached_reads"] == 1  # three uses, one read
    assert "SecretBlockKey" not in result["after"]  # retired: read again, and absent
    assert result["reads"] == 3 and result["outside"] is None


def test_a_quiet_customer_is_retried_when_transient_and_not_when_permanent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flows import nightly as module
    from piiscan.errors import PiiscanError

    class Busy(PiiscanError):
        transient = True

    monkeypatch.setitem(module.RETRIES, "retry_delay_seconds", 0)
    calls: list[str] = []

    def flaky() -> dict[str, Any]:
        calls.append("flaky")
        if len(calls) < 3:
            raise Busy("the lake lock is held")
        return {"ok": True}

    from prefect import flow

    @flow
    def retrying(call: Any) -> Any:  # the retry warning goes to the run's logger
        return module._retrying("acme", call)

    assert retrying(flaky) == {"ok": True} and len(calls) == 3

    def broken() -> dict[str, Any]:
        calls.append("broken")
        raise PiiscanError("bad data")

    with pytest.raises(PiiscanError):
        retrying(broken)
    assert calls.count("broken") == 1  # permanent: not retried

    def always_busy() -> dict[str, Any]:
        calls.append("busy")
        raise Busy("still held")

    with pytest.raises(Busy):
        retrying(always_busy)
    assert calls.count("busy") == 1 + module.RETRIES["retries"]
