"""Subject rights on the fixtures: export one employee's rows from every dataset and zone, erase
them where no hold applies, and never let the identifier out of the restricted zone."""

from __future__ import annotations

import json
import os
import shutil
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from piiscan.cli import app
from piiscan.detect import Detector, Settings
from piiscan.lake import ledger
from piiscan.lake.holds import add_hold
from piiscan.lake.keyring import load_key
from piiscan.pipeline.ingest import collect_files, ingest_paths
from piiscan.pipeline.nightly import detect_datasets, pseudonymize_customer
from piiscan.policy import Config
from piiscan.pseudonymize import tokens
from piiscan.storage import LocalStorage
from piiscan.subject import RequestError, Selector, lookback_start

from .conftest import CONFIGS

CUSTOMER = "acme"
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def template(fixture_tree: Path, config: Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every customer ingested and pseudonymized (the other customers must stay untouched)."""
    root = tmp_path_factory.mktemp("subject-lake")
    storage = LocalStorage(root)
    for customer in ("acme", "globex", "initech"):
        ingest_paths(
            storage,
            config.customer(customer),
            collect_files([fixture_tree / customer, fixture_tree / "broken"])
            if customer == CUSTOMER
            else collect_files([fixture_tree / customer]),
            "20261120T020000Z-aaaaaa",
        )
        detector = Detector(Settings(), employee_id_patterns=config.employee_id_patterns(customer))
        findings = detect_datasets(storage, customer, detector, config)
        pseudonymize_customer(storage, config, customer, load_key(customer), findings)
    return root


@pytest.fixture
def lake(template: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "lake"
    shutil.copytree(template, copy)
    return copy


def zone(lake: Path, name: str, dataset: str, customer: str = CUSTOMER) -> pl.DataFrame:
    folder = lake / name / dataset / f"customer={customer}"
    if not folder.exists():
        return pl.DataFrame()
    return pl.concat(
        [
            pl.read_parquet(p).with_columns(pl.lit(p.parent.name.split("=", 1)[1]).alias("period"))
            for p in sorted(folder.rglob("*.parquet"))
        ],
        how="diagonal_relaxed",
    )


def person(lake: Path) -> dict[str, Any]:
    """An employee with invoice lines, usage and a device with an e-mail, and what identifies
    them (the oracle: plain polars over the restricted zone)."""
    devices = zone(lake, "restricted", "devices")
    lines = zone(lake, "restricted", "invoice_lines")
    usage = zone(lake, "restricted", "usage_events")
    for employee in sorted(lines["employee_id"].drop_nulls().unique()):
        numbers = set(lines.filter(pl.col("employee_id") == employee)["wireless_number"])
        numbers |= set(devices.filter(pl.col("employee_id") == employee)["wireless_number"])
        owned = devices.filter(
            pl.col("wireless_number").is_in(numbers) | (pl.col("employee_id") == employee)
        )
        emails = set(owned["email"].drop_nulls())
        if emails and usage.filter(pl.col("wireless_number").is_in(numbers)).height:
            named = lines.filter(pl.col("employee_id") == employee)["user_name"]
            return {
                "employee_id": employee,
                "numbers": numbers,
                "emails": emails,
                "imeis": set(owned["imei"].drop_nulls()),
                "names": set(named.drop_nulls()) | set(owned["user_name"].drop_nulls()),
            }
    raise AssertionError("no employee with invoice lines, usage and a device in the fixtures")


def mine(frame: pl.DataFrame, who: dict[str, Any]) -> pl.Expr:
    """The oracle's rows of the person in a restricted frame."""
    named = pl.lit(False)
    for column, values in (
        ("employee_id", {who["employee_id"]}),
        ("wireless_number", who["numbers"]),
        ("email", who["emails"]),
        ("imei", who["imeis"]),
    ):
        if column in frame.columns:
            named |= pl.col(column).is_in(list(values)).fill_null(False)
    return named


def expected_datasets(lake: Path) -> list[str]:
    folder = lake / "restricted"
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.exists() else []


def identifiers(who: dict[str, Any]) -> list[str]:
    return [who["employee_id"], *who["numbers"], *who["emails"], *who["imeis"]]


def erase(lake: Path, *args: str) -> dict[str, Any]:
    """`piiscan subject erase` for acme with these selector and flag arguments, as JSON."""
    result = cli("subject", "erase", "--customer", CUSTOMER, *args, "--lake", str(lake), "--json")
    answer: dict[str, Any] = json.loads(result.output)
    return answer


def export(lake: Path, out: Path, *args: str) -> dict[str, Any]:
    """`piiscan subject export` for acme with these selector arguments into out, as JSON."""
    result = cli(
        "subject",
        "export",
        "--customer",
        CUSTOMER,
        *args,
        "--out",
        str(out),
        "--lake",
        str(lake),
        "--json",
    )
    answer: dict[str, Any] = json.loads(result.output)
    return answer


def cli(*args: str) -> Any:
    result = CliRunner().invoke(app, [*args, "--config", str(CONFIGS)])
    assert result.exit_code == 0, result.output
    return result


def test_selectors_are_normalized_and_checked() -> None:
    assert Selector.of("number", "+1 (212) 555-0147").value == "2125550147"
    assert Selector.of("email", " Jane.Doe@Acme.example.com ").value == "jane.doe@acme.example.com"
    assert "2125550147" not in repr(Selector.of("number", "212-555-0147"))
    with pytest.raises(RequestError, match="10 digits"):
        Selector.of("number", "555-0147")
    with pytest.raises(RequestError, match="unknown selector"):
        Selector.of("ssn", "123")
    assert lookback_start(NOW.date(), 12).isoformat() == "2025-11-01"


def test_export_finds_every_row_of_the_person_and_nothing_else(
    lake: Path, tmp_path: Path, fixture_tree: Path, config: Config
) -> None:
    who = person(lake)
    out = tmp_path / "bundle"
    record = export(lake, out, "--employee-id", who["employee_id"])
    folder = out / record["request_id"]
    rows = record["outcome"]["rows"]
    expected = {
        f"restricted/{d}": frame.filter(mine(frame, who))
        for d in ("devices", "invoice_lines", "usage_events", "charge_items")
        if (frame := zone(lake, "restricted", d)).height
    }
    assert set(expected) >= {"restricted/devices", "restricted/usage_events"}
    for name, frame in expected.items():
        assert rows[name] == frame.height > 0, name
        exported = pl.read_csv(folder / f"{name.replace('/', '_')}.csv", infer_schema=False)
        assert set(exported["wireless_number"]) <= who["numbers"]
        analytics = name.replace("restricted/", "analytics/")
        assert rows[analytics] == frame.height  # the pseudonymized copies of the same rows
    # Nothing of anyone else: no other employee's ID, number, e-mail or name in the bundle.
    text = "".join(p.read_text(errors="replace") for p in folder.iterdir())
    strangers: set[str] = set()
    for dataset in ("devices", "invoice_lines"):
        frame = zone(lake, "restricted", dataset)
        others = frame.filter(~mine(frame, who))
        for column in ("employee_id", "email", "wireless_number", "user_name"):
            if column in others.columns:
                strangers |= set(others[column].drop_nulls())
    strangers -= who["names"]  # two people may share a name
    assert len(strangers) > 20 and not [s for s in strangers if s in text]
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["lookback_months"] == 12 and set(summary["purposes"]) >= {"invoice_lines"}
    # The delivered files that hold the person: each fixture file ingested on its own.
    holding = 0
    for number, path in enumerate(collect_files([fixture_tree / CUSTOMER])):
        alone = LocalStorage(tmp_path / f"alone-{number}")
        ingest_paths(alone, config.customer(CUSTOMER), [path], "20261120T020000Z-bbbbbb")
        frames = [zone(alone.root, "restricted", d) for d in expected_datasets(alone.root)]
        holding += any(f.filter(mine(f, who)).height for f in frames)
    assert record["outcome"]["landing"]["files"] == holding > 0
    goes = max(date(2027, 2, 18), datetime.now(UTC).date())  # ingested 2026-11-20, 90 days
    assert record["outcome"]["landing"]["until"] == f"deleted by the purge from {goes}"
    # The request is recorded with a keyed hash, and its selector left the restricted zone.
    record_file = lake / "state" / "requests" / CUSTOMER / f"{record['request_id']}.json"
    stored = record_file.read_text()
    assert who["employee_id"] not in stored and json.loads(stored)["selector"]["hash"].startswith(
        "k1-"
    )
    assert not list((lake / "restricted" / "requests").rglob("*.json"))


@pytest.mark.parametrize(
    ("now", "periods"),
    [
        ("2026-11-28T09:00:00Z", {"2026-10"}),  # October is inside one month back from November
        ("2026-11-01T02:00:00+05:00", {"2026-09", "2026-10"}),  # still October in UTC
        ("2027-01-15T12:00:00Z", set()),  # the fixtures' months are all before December
    ],
)
def test_the_lookback_limits_the_export(
    lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, now: str, periods: set[str]
) -> None:
    monkeypatch.setenv("PIISCAN_NOW", now)
    who = person(lake)
    record = export(lake, tmp_path, "--number", sorted(who["numbers"])[0], "--months", "1")
    assert bool(record["outcome"]["rows"]) == bool(periods)
    folder = tmp_path / record["request_id"]
    seen = set()
    for path in folder.glob("restricted_*.csv"):
        seen |= set(pl.read_csv(path, infer_schema=False)["period"])
    assert seen == periods


def test_erase_deletes_what_no_hold_needs_and_a_second_erase_does_nothing(lake: Path) -> None:
    who = person(lake)
    storage = LocalStorage(lake)
    key = load_key(CUSTOMER)
    held_number = sorted(who["numbers"])[0]
    token = tokens([held_number], key, "PHONE_NUMBER")[held_number]
    add_hold(
        storage, CUSTOMER, "legal", "case 77", NOW, dataset="usage_events", number_tokens=(token,)
    )
    before = {d: zone(lake, "restricted", d) for d in ("devices", "invoice_lines", "usage_events")}
    others_before = {d: zone(lake, "restricted", d, "globex").height for d in before}

    plan = erase(lake, "--employee-id", who["employee_id"])
    assert plan["applied"] is False and plan["rows_deleted"] > 0
    assert zone(lake, "restricted", "devices").height == before["devices"].height  # dry run

    applied = erase(lake, "--employee-id", who["employee_id"], "--apply")
    assert applied["applied"] and applied["ledger_seq"] and applied["rows_deleted"] > 0
    # The deliveries as received are not rewritten; the legal hold freezes them too.
    assert applied["landing"]["files"] > 0
    assert applied["landing"]["until"] == "kept while a legal hold lasts"

    devices = zone(lake, "restricted", "devices")
    assert devices.filter(mine(devices, who)).height == 0
    gone = before["devices"].filter(mine(before["devices"], who)).height
    assert gone and devices.height == before["devices"].height - gone  # nobody else's rows
    lines = zone(lake, "restricted", "invoice_lines")
    assert lines.filter(pl.col("employee_id") == who["employee_id"]).height == 0
    own_lines = before["invoice_lines"].filter(pl.col("employee_id") == who["employee_id"])
    kept = lines.filter(
        pl.col("wireless_number").is_in(who["numbers"])
        | pl.col("employee_id").str.starts_with("k1-")
    )
    assert kept.height == own_lines.height  # tax hold: kept, pseudonymized
    assert kept["user_name"].is_null().all() and kept["employee_id"].str.starts_with("k1-").all()
    usage = zone(lake, "restricted", "usage_events")
    frozen = before["usage_events"].filter(pl.col("wireless_number") == held_number)
    assert (
        usage.filter(pl.col("wireless_number") == held_number)
        .sort("event_time")
        .equals(frozen.sort("event_time"))
    )  # legal hold: kept as it was
    assert {d: zone(lake, "restricted", d, "globex").height for d in before} == others_before
    assert applied["quarantine_rows_deleted"] == plan["quarantine_rows_deleted"]
    rejected = [
        pl.read_parquet(p) for p in (lake / "quarantine" / CUSTOMER).rglob("*.rejected-*.parquet")
    ]
    text = "".join(frame.write_csv() for frame in rejected)
    digits = "".join(c for c in text if c.isdigit() or c == "\n")
    assert not [n for n in who["numbers"] if n in digits]
    assert not [v for v in [who["employee_id"], *who["emails"], *who["imeis"]] if v in text]

    again = erase(lake, "--employee-id", who["employee_id"], "--apply")
    assert again["nothing_to_do"] and again["rows_deleted"] == 0 and "ledger_seq" not in again
    assert ledger.verify(storage, CUSTOMER).ok
    text = (lake / "ledger" / f"{CUSTOMER}.jsonl").read_text()
    assert not [v for v in identifiers(who) + list(who["names"]) if v in text]
    entries = ledger.read_entries(storage, CUSTOMER)
    assert [e["kind"] for e in entries] == ["subject-erase"]
    assert entries[0]["selector_hash"].startswith("k1-") and entries[0]["request_id"]
    records = list((lake / "state" / "requests" / CUSTOMER).glob("*.json"))
    assert len(records) == 2 and not [
        v for v in identifiers(who) for r in records if v in r.read_text()
    ]


def test_rows_rejected_at_ingest_are_exported_and_erased(lake: Path, tmp_path: Path) -> None:
    files = sorted((lake / "quarantine" / CUSTOMER).rglob("ATT_UsageDetail_*.rejected-*.parquet"))
    before = pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed")
    delivered = before["Wireless number"].drop_nulls()[0]  # as delivered: (919) 555-0161
    number = "".join(c for c in delivered if c.isdigit())
    record = export(lake, tmp_path, "--number", delivered)
    rejected = before.filter(pl.col("Wireless number") == delivered).height
    assert record["outcome"]["rows"]["quarantine/rejected_rows"] == rejected >= 1
    erased = erase(lake, "--number", number, "--apply")
    assert erased["quarantine_rows_deleted"] == rejected
    left = [pl.read_parquet(f) for f in sorted((lake / "quarantine").rglob("*.rejected-*.parquet"))]
    remaining = pl.concat(left, how="diagonal_relaxed")
    assert delivered not in remaining["Wireless number"].to_list()
    assert remaining.height > 0  # other people's rejected rows stay for review
    entry = ledger.read_entries(LocalStorage(lake), CUSTOMER)[-1]
    assert entry["quarantine_files"] and number not in json.dumps(entry)


@pytest.mark.parametrize("point", ["quarantine-journaled-0", "before-ledger"])
def test_a_killed_erase_is_ledgered_by_the_rerun(lake: Path, tmp_path: Path, point: str) -> None:
    """Killed before the first quarantine change, or after every change but before the ledger
    entry: the rerun ends with the lake an uninterrupted erase gives, and the ledger counts
    each rejected row removed from quarantine once."""
    import subprocess
    import sys

    from .conftest import REPO

    files = sorted((lake / "quarantine" / CUSTOMER).rglob("ATT_UsageDetail_*.rejected-*.parquet"))
    rejected = pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed")
    delivered = rejected["Wireless number"].drop_nulls()[0]
    number = "".join(c for c in delivered if c.isdigit())
    expected = rejected.filter(pl.col("Wireless number") == delivered).height
    clean = tmp_path / "clean"
    shutil.copytree(lake, clean)
    erase(clean, "--number", number, "--apply")
    command = [sys.executable, "-m", "piiscan.cli", "subject", "erase", "--customer", CUSTOMER]
    command += ["--number", number, "--apply", "--config", str(CONFIGS), "--lake", str(lake)]
    killed = subprocess.run(
        command, cwd=REPO, env={**os.environ, "PIISCAN_CRASH_AT": point}, capture_output=True
    )
    assert killed.returncode == 70, killed.stderr
    assert not ledger.read_entries(LocalStorage(lake), CUSTOMER)
    rerun = erase(lake, "--number", number, "--apply")
    assert rerun["ledger_seq"] == 1

    def contents(root: Path) -> dict[str, bytes]:
        return {
            str(p.relative_to(root)): p.read_bytes()
            for folder in ("restricted", "analytics", "quarantine")
            for p in sorted((root / folder).rglob("*.parquet"))
        }

    assert contents(lake) == contents(clean)
    entries = ledger.read_entries(LocalStorage(lake), CUSTOMER)
    assert len(entries) == 1 and ledger.verify(LocalStorage(lake), CUSTOMER).ok
    (entry,) = entries
    assert sum(q["rows_deleted"] for q in entry["quarantine_files"]) == expected >= 1
    assert (
        entry["rows_deleted"]
        == ledger.read_entries(LocalStorage(clean), CUSTOMER)[0]["rows_deleted"]
    )
    assert number not in json.dumps(entry)


def test_bundles_in_the_lake_and_pending_requests_do_not_outlive_their_time(
    lake: Path, config: Config
) -> None:
    from datetime import timedelta

    from piiscan.lake.requests import create_request
    from piiscan.pipeline.purge import plan_purge
    from piiscan.pipeline.subject import run_request

    storage = LocalStorage(lake)
    key = load_key(CUSTOMER)
    who = person(lake)
    selector = Selector.of("employee_id", who["employee_id"])
    exported = create_request(storage, config, CUSTOMER, "export", selector, 12, NOW)
    record = run_request(storage, config, exported, key, NOW)  # no --out: into the lake
    bundle = f"restricted/exports/{CUSTOMER}/{exported}"
    assert record["outcome"]["bundle"].endswith(bundle)
    assert list(storage.list(bundle))
    pending = create_request(storage, config, CUSTOMER, "erase", selector, 12, NOW)
    soon = plan_purge(storage, config, CUSTOMER, NOW.date() + timedelta(days=30), key)
    assert not [k for k in soon.other_keys if k.startswith("restricted/")]
    later = plan_purge(storage, config, CUSTOMER, NOW.date() + timedelta(days=91), key)
    assert set(storage.list(bundle)) <= set(later.other_keys)
    assert f"restricted/requests/{CUSTOMER}/{pending}.json" not in later.other_keys
    ended = plan_purge(
        storage, config, CUSTOMER, date(2027, 1, 1), key, terminated=date(2027, 1, 1)
    )
    assert f"restricted/requests/{CUSTOMER}/{pending}.json" in ended.other_keys


@pytest.mark.integration
def test_the_subject_request_flow_keeps_the_identifier_out_of_prefect(
    lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        FlowRunFilter,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )

    from flows.subject_request import subject_request

    who = person(lake)
    email = sorted(who["emails"])[0]
    request_id = cli(
        "subject",
        "request",
        "--customer",
        CUSTOMER,
        "--action",
        "erase",
        "--email",
        email,
        "--lake",
        str(lake),
    ).output.strip()
    pending = (lake / "restricted" / "requests" / CUSTOMER / f"{request_id}.json").read_text()
    assert email in pending  # the selector waits in the restricted zone only
    monkeypatch.setenv("PIISCAN_LAKE", str(lake))
    monkeypatch.setenv("PIISCAN_CONFIG", str(CONFIGS))
    state = subject_request(request_id, return_state=True)
    assert state.is_completed(), state
    record = state.result()
    assert record["outcome"]["rows_deleted"] > 0 and record["status"] == "complete"
    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id)
        deadline = time.monotonic() + 30  # logs travel to the server in batches
        logs: list[Any] = []
        while time.monotonic() < deadline and len(logs) < 3:
            logs = client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id]))
            )
            time.sleep(0.5)
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(),
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])),
        )
    assert run.parameters == {"request_id": request_id}
    assert logs and artifacts
    text = json.dumps(run.parameters) + "".join(log.message for log in logs)
    text += "".join(str(a.data) for a in artifacts) + json.dumps(record)
    assert not [v for v in identifiers(who) + list(who["names"]) if v in text]
    assert not (lake / "restricted" / "requests" / CUSTOMER / f"{request_id}.json").exists()
    assert ledger.verify(LocalStorage(lake), CUSTOMER).ok


def billed(frame: pl.DataFrame, period: str | None = None) -> pl.Expr:
    """The bill cycle month of each row (devices: the month of their report)."""
    month = pl.lit(period) if period else pl.col("period")
    if "bill_cycle_date" not in frame.columns:
        return month
    return pl.coalesce(pl.col("bill_cycle_date").dt.strftime("%Y-%m"), month)


def recycle(lake: Path, config: Config) -> dict[str, Any]:
    """Give one of the person's numbers to a colleague from the last bill cycle on (every
    restricted row of that number billed then now names the colleague), then rebuild the
    analytics zone from the restricted zone."""
    who = person(lake)
    lines = zone(lake, "restricted", "invoice_lines")
    number = sorted(who["numbers"])[0]
    other = lines.filter(
        (pl.col("employee_id") != who["employee_id"]) & pl.col("employee_id").is_not_null()
    ).row(0, named=True)
    month = "2026-10"
    for path in sorted((lake / "restricted").rglob(f"customer={CUSTOMER}/period=*/*.parquet")):
        frame = pl.read_parquet(path)
        if "wireless_number" not in frame.columns:
            continue
        theirs = (pl.col("wireless_number") == number) & (
            billed(frame, path.parent.name.split("=", 1)[1]) == month
        )
        changes = {"employee_id": other["employee_id"], "user_name": other["user_name"]}
        frame = frame.with_columns(
            pl.when(theirs).then(pl.lit(v)).otherwise(pl.col(c)).alias(c)
            for c, v in changes.items()
            if c in frame.columns
        )
        if "email" in frame.columns:
            frame = frame.with_columns(
                pl.when(theirs).then(pl.lit(None)).otherwise(pl.col("email")).alias("email")
            )
        frame.write_parquet(path)
    shutil.rmtree(lake / "analytics")
    storage = LocalStorage(lake)
    detector = Detector(Settings(), employee_id_patterns=config.employee_id_patterns(CUSTOMER))
    findings = detect_datasets(storage, CUSTOMER, detector, config)
    pseudonymize_customer(storage, config, CUSTOMER, load_key(CUSTOMER), findings)
    return {**who, "number": number, "month": month, "other": other["employee_id"]}


def owned(lake: Path, who: dict[str, Any]) -> dict[str, pl.DataFrame]:
    """The oracle after a recycled number: rows naming the person's employee ID, and rows naming
    no employee on a number in a bill cycle when an invoice or device row gave it to them."""
    frames = {
        d: zone(lake, "restricted", d)
        for d in ("invoice_lines", "devices", "usage_events", "charge_items")
    }
    named = [
        f.filter(pl.col("employee_id") == who["employee_id"])
        for f in (frames["invoice_lines"], frames["devices"])
    ]
    held = pl.concat([f.select(billed(f).alias("month"), "wireless_number") for f in named])
    result = {}
    for dataset, frame in frames.items():
        on_held = (
            frame.with_columns(billed(frame).alias("month"))
            .join(held.unique(), on=["month", "wireless_number"], how="semi")
            .drop("month")
        )
        if "employee_id" in frame.columns:
            result[dataset] = pl.concat(
                [
                    frame.filter(pl.col("employee_id") == who["employee_id"]),
                    on_held.filter(pl.col("employee_id").is_null()),
                ]
            )
        else:
            result[dataset] = on_held
    return result


def test_a_recycled_number_is_not_the_person_in_the_cycles_it_was_someone_elses(
    lake: Path, config: Config, tmp_path: Path
) -> None:
    who = recycle(lake, config)
    expected = owned(lake, who)
    number, month = who["number"], who["month"]
    usage = zone(lake, "restricted", "usage_events")
    theirs = usage.filter((pl.col("wireless_number") == number) & (billed(usage) == month))
    assert theirs.height and expected["usage_events"].height  # both holders have usage
    assert expected["usage_events"]["user_name"].is_not_null().all()

    record = export(lake, tmp_path, "--employee-id", who["employee_id"])
    rows = record["outcome"]["rows"]
    for dataset, frame in expected.items():
        assert rows.get(f"restricted/{dataset}", 0) == frame.height, dataset
        assert rows.get(f"analytics/{dataset}", 0) == frame.height, dataset
    exported = pl.read_csv(
        tmp_path / record["request_id"] / "restricted_usage_events.csv", infer_schema=False
    )
    assert (
        exported.height
        and not exported.filter(pl.col("bill_cycle_date").str.starts_with(month)).height
    )

    # The number alone cannot say which holder is meant: refused, recorded, no value shown.
    result = CliRunner().invoke(
        app,
        [
            *("subject", "erase", "--customer", CUSTOMER, "--number", number, "--apply"),
            *("--lake", str(lake), "--config", str(CONFIGS)),
        ],
    )
    assert result.exit_code != 0 and "--employee-id" in result.output
    assert number not in result.output
    records = [
        json.loads(p.read_text()) for p in (lake / "state" / "requests" / CUSTOMER).glob("*.json")
    ]
    assert sorted(r["status"] for r in records) == ["complete", "rejected"]
    assert not [r for r in records if number in json.dumps(r)]
    assert not list((lake / "restricted" / "requests").rglob("*.json"))

    before = {d: zone(lake, "restricted", d) for d in expected}
    applied = erase(lake, "--employee-id", who["employee_id"], "--apply")
    # All of the person's rows here are inside the tax period or the dispute window: kept, with
    # their personal columns pseudonymized; the colleague's rows are not touched at all.
    assert sum(applied["rows_kept"].values()) == sum(f.height for f in expected.values())
    after = zone(lake, "restricted", "usage_events")
    kept = after.filter((pl.col("wireless_number") == number) & (billed(after) == month))
    assert kept.sort("event_time").equals(theirs.sort("event_time"))  # the colleague's, intact
    assert theirs["user_name"].is_not_null().all()
    pseudonymized = after.join(
        expected["usage_events"].select("event_time", "wireless_number"),
        on=["event_time", "wireless_number"],
        how="semi",
    )
    assert pseudonymized.height == expected["usage_events"].height
    assert pseudonymized["user_name"].is_null().all()
    colleague = pl.col("employee_id") == who["other"]
    assert (
        zone(lake, "restricted", "invoice_lines").filter(colleague).height
        == before["invoice_lines"].filter(colleague).height
    )
    assert ledger.verify(LocalStorage(lake), CUSTOMER).ok


# --- small hand-made lakes ---------------------------------------------------------------------


def _put(storage: Any, key: str, frame: pl.DataFrame) -> None:
    import io

    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    storage.write_bytes(key, buffer.getvalue())


def test_rejected_rows_on_a_recycled_number_are_not_taken_for_the_person() -> None:
    """The number was E000001's in the September cycle and E000002's in October: a rejected
    October row naming E000002 stays, one with nothing but the number is counted, not erased;
    a rejected row with E000001's ID goes with the person."""
    from piiscan.pipeline.subject import _quarantined, find, resolve
    from piiscan.storage import MemoryStorage

    storage = MemoryStorage()
    number = "2125550101"
    lines = pl.DataFrame(
        {
            "wireless_number": [number, number],
            "employee_id": ["E000001", "E000002"],
            "bill_cycle_date": [date(2026, 9, 16), date(2026, 10, 16)],
        }
    )
    _put(storage, "restricted/invoice_lines/customer=acme/period=2026-09/a.parquet", lines[:1])
    _put(storage, "restricted/invoice_lines/customer=acme/period=2026-10/a.parquet", lines[1:])
    rejected = pl.DataFrame(
        {
            "Wireless number": ["(212) 555-0101", "(212) 555-0101", "212.555.0101"],
            "Employee": ["E000002", None, "E000001"],
            "_line": [2, 3, 4],
        }
    )
    _put(storage, "quarantine/acme/20261120T020000Z-aaaaaa/x.csv.rejected-0.parquet", rejected)
    identity = resolve(storage, CUSTOMER, Selector.of("employee_id", "E000001"))
    found, unattributed = _quarantined(storage, CUSTOMER, identity)
    assert found is not None and found["_line"].to_list() == [4]
    assert unattributed == 1
    assert (
        find(storage, CUSTOMER, identity, load_key(CUSTOMER), None).counts()[
            "quarantine/rejected_rows"
        ]
        == 1
    )


def test_rows_linked_by_e_mail_only_bring_their_line_into_the_identity() -> None:
    """A second device row carries the person's e-mail but no employee ID: its number and IMEI
    are the person's too, so its analytics copy (no e-mail column) is found by token."""
    from piiscan.pipeline.subject import find, resolve
    from piiscan.storage import MemoryStorage

    storage = MemoryStorage()
    key = load_key(CUSTOMER)
    devices = pl.DataFrame(
        {
            "wireless_number": ["2125550101", "2125550102"],
            "employee_id": ["E000001", None],
            "email": ["P.Person@acme.example", "p.person@acme.example"],
            "imei": ["490154203237518", "356938035643809"],
        }
    )
    _put(storage, "restricted/devices/customer=acme/period=2026-10/d.parquet", devices)
    analytics = devices.drop("email").with_columns(
        pl.col(c).replace(tokens(devices[c].drop_nulls().to_list(), key, e))
        for c, e in (
            ("wireless_number", "PHONE_NUMBER"),
            ("employee_id", "EMPLOYEE_ID"),
            ("imei", "IMEI"),
        )
    )
    _put(storage, "analytics/devices/customer=acme/period=2026-10/d.parquet", analytics)
    identity = resolve(storage, CUSTOMER, Selector.of("employee_id", "E000001"))
    assert identity.values["wireless_number"] == {"2125550101", "2125550102"}
    counts = find(storage, CUSTOMER, identity, key, None).counts()
    assert counts["restricted/devices"] == counts["analytics/devices"] == 2


def test_an_interrupted_request_is_resumed_not_recorded_twice(config: Config) -> None:
    from piiscan.lake.requests import create_request
    from piiscan.storage import MemoryStorage

    storage = MemoryStorage()
    selector = Selector.of("number", "(212) 555-0101")
    first = create_request(storage, config, CUSTOMER, "erase", selector, 12, NOW)
    again = create_request(storage, config, CUSTOMER, "erase", selector, 12, NOW)
    other = create_request(storage, config, CUSTOMER, "export", selector, 12, NOW)
    assert first == again != other
    assert len(list(storage.list(f"restricted/requests/{CUSTOMER}"))) == 2
