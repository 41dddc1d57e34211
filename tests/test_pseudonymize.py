"""The analytics zone: tokens that join, aggregates preserved, no raw value, fail closed."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from piiscan.detect import Detector, Settings
from piiscan.errors import KeyMaterialError, PolicyError
from piiscan.lake.keyring import create_key, load_key
from piiscan.pipeline.ingest import collect_files, ingest_paths
from piiscan.pipeline.nightly import detect_datasets, pseudonymize_customer
from piiscan.pipeline.pseudonymize import pseudonymize_dataset
from piiscan.policy import Config
from piiscan.pseudonymize import (
    ColumnPlan,
    Key,
    parse_keyring,
    pseudonymize_frame,
    tokens,
)
from piiscan.storage import LocalStorage, MemoryStorage

CUSTOMERS = ("acme", "globex", "initech")
IDENTIFIERS = ("wireless_number", "other_number", "imei", "iccid", "imsi", "employee_id")
DIRECT = ("user_name", "email", "ship_to_address")
KEY = Key("acme", "k1", b"0123456789abcdef0123456789abcdef")


@pytest.fixture(scope="module")
def lake(
    fixture_tree: Path, config: Config, tmp_path_factory: pytest.TempPathFactory
) -> LocalStorage:
    """Every fixture layout ingested and pseudonymized (detector without the model)."""
    storage = LocalStorage(tmp_path_factory.mktemp("lake"))
    for customer in CUSTOMERS:
        ingest_paths(
            storage, config.customer(customer), collect_files([fixture_tree / customer]), "r"
        )
        detector = Detector(Settings(), employee_id_patterns=config.employee_id_patterns(customer))
        findings = detect_datasets(storage, customer, detector, config)
        pseudonymize_customer(storage, config, customer, load_key(customer), findings)
    return storage


def zone(storage: LocalStorage, name: str, dataset: str) -> pl.DataFrame:
    return pl.scan_parquet(storage.uri(f"{name}/{dataset}"), hive_partitioning=True).collect()


@pytest.mark.parametrize("dataset", ["invoice_lines", "usage_events", "devices", "charge_items"])
def test_analytics_mirrors_restricted_file_for_file(lake: LocalStorage, dataset: str) -> None:
    restricted = [k.removeprefix("restricted/") for k in lake.list(f"restricted/{dataset}")]
    analytics = [k.removeprefix("analytics/") for k in lake.list(f"analytics/{dataset}")]
    assert restricted and restricted == analytics
    assert zone(lake, "analytics", dataset).height == zone(lake, "restricted", dataset).height


@pytest.mark.parametrize(
    ("dataset", "by"),
    [
        ("usage_events", ["customer", "period", "wireless_number"]),
        ("usage_events", ["customer", "other_number", "kind"]),
        ("invoice_lines", ["customer", "period", "wireless_number", "plan"]),
        ("invoice_lines", ["customer", "cost_center", "plan", "employee_id"]),
        ("charge_items", ["customer", "period", "wireless_number", "item_category"]),
    ],
)
def test_aggregates_per_token_equal_those_per_raw_value(
    lake: LocalStorage, dataset: str, by: list[str]
) -> None:
    measures = [
        m
        for m in ("minutes", "messages", "data_kb", "charge", "tax")
        if m in zone(lake, "restricted", dataset).columns
    ]

    def totals(name: str) -> list[tuple[Any, ...]]:
        frame = (
            zone(lake, name, dataset)
            .group_by(by)
            .agg([pl.len(), *[pl.col(m).sum() for m in measures]])
        )
        kept = [c for c in by if c not in IDENTIFIERS]  # tokens replace the raw keys 1:1
        return sorted(
            frame.drop([c for c in by if c in IDENTIFIERS])
            .select([*kept, "len", *measures])
            .rows(),
            key=repr,
        )

    assert totals("analytics") == totals("restricted")


@pytest.mark.parametrize(
    ("left", "right", "on"),
    [
        ("usage_events", "invoice_lines", ["customer", "wireless_number"]),
        ("devices", "invoice_lines", ["customer", "wireless_number"]),
        ("usage_events", "devices", ["customer", "wireless_number"]),
        ("invoice_lines", "invoice_lines", ["customer", "employee_id"]),
    ],
)
def test_joins_on_tokens_match_joins_on_raw_values(
    lake: LocalStorage, left: str, right: str, on: list[str]
) -> None:
    def count(name: str) -> int:
        a = zone(lake, name, left).select(on).drop_nulls()
        b = zone(lake, name, right).select(on).drop_nulls().unique()
        return a.join(b, on=on).height

    assert count("analytics") == count("restricted") > 0


def test_no_raw_value_reaches_the_analytics_zone(lake: LocalStorage) -> None:
    raw: set[str] = set()
    seen: set[str] = set()
    for dataset in ("invoice_lines", "usage_events", "devices", "charge_items"):
        restricted = zone(lake, "restricted", dataset)
        for column in (*IDENTIFIERS, *DIRECT):
            if column in restricted.columns:
                raw |= set(restricted[column].drop_nulls().cast(pl.String).to_list())
        analytics = zone(lake, "analytics", dataset)
        for column in analytics.columns:
            seen |= set(analytics[column].drop_nulls().cast(pl.String).to_list())
    assert len(raw) > 100
    assert not raw & seen
    assert not [v for v in raw if any(v in s for s in seen if s.startswith("{"))]  # extras


def test_direct_identifiers_are_gone_and_identifiers_are_tokens(lake: LocalStorage) -> None:
    devices = zone(lake, "analytics", "devices")
    assert devices["user_name"].null_count() == devices.height
    assert devices["imei"].drop_nulls().str.contains(r"^k1-[0-9a-f]{32}$").all()
    usage = zone(lake, "analytics", "usage_events")
    assert (
        usage["other_number"].null_count()
        == zone(lake, "restricted", "usage_events")["other_number"].null_count()
    )  # nulls stay null


def test_rescanning_the_analytics_zone_finds_no_direct_identifier(lake: LocalStorage) -> None:
    detector = Detector(Settings())
    for dataset in ("invoice_lines", "usage_events", "devices", "charge_items"):
        findings = detector.classify(zone(lake, "analytics", dataset).drop("customer", "period"))
        assert [f.name for f in findings if f.entity] == [], dataset


def test_same_value_same_token_everywhere_and_rotation_changes_every_token(
    tmp_path: Path,
) -> None:
    create_key("acme", tmp_path)
    first = load_key("acme", tmp_path)
    values = ["2125550147", "3125550101", "353911101234560"]
    assert tokens(values, first, "PHONE_NUMBER") == tokens(values[::-1], first, "PHONE_NUMBER")
    create_key("acme", tmp_path, rotate=True)
    second = load_key("acme", tmp_path)
    assert second.version == "k2"
    before, after = tokens(values, first, "PHONE_NUMBER"), tokens(values, second, "PHONE_NUMBER")
    assert all(before[v] != after[v] and after[v].startswith("k2-") for v in values)


def test_a_token_cannot_be_recomputed_without_the_key() -> None:
    token = tokens(["2125550147"], KEY, "PHONE_NUMBER")["2125550147"]
    plain = hashlib.sha256(b"2125550147").hexdigest()[:32]
    other = Key("acme", "k1", b"f" * 32)
    assert token.removeprefix("k1-") != plain
    assert token != tokens(["2125550147"], other, "PHONE_NUMBER")["2125550147"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"current": "k1", "keys": {"k1": "00ff"}}', "too short"),
        ('{"current": "k2", "keys": {"k1": "' + "ab" * 32 + '"}}', "key file must be JSON"),
        ("not json", "key file must be JSON"),
        ('{"current": "v1", "keys": {"v1": "' + "ab" * 32 + '"}}', "version must look like"),
    ],
)
def test_bad_keys_fail_closed(text: str, problem: str) -> None:
    with pytest.raises(KeyMaterialError, match=problem):
        parse_keyring("acme", text)


def test_a_missing_key_names_where_it_was_looked_for(tmp_path: Path) -> None:
    with pytest.raises(KeyMaterialError, match="PIISCAN_KEY_WAYNE_CORP or create"):
        load_key("wayne-corp", tmp_path)


def test_a_pii_column_without_an_action_stops_the_dataset_and_writes_nothing(
    lake: LocalStorage,
) -> None:
    storage = MemoryStorage()
    for key in lake.list("restricted/devices/customer=acme"):
        storage.write_bytes(key, lake.read_bytes(key))
    actions = {
        "PHONE_NUMBER": "hmac",
        "IMEI": "hmac",
        "ICCID": "hmac",
        "IMSI": "hmac",
        "EMPLOYEE_ID": "hmac",
        "EMAIL_ADDRESS": "drop",
        "LOCATION": "drop",
    }  # no PERSON
    with pytest.raises(PolicyError, match=r"devices\.user_name: tagged PERSON but no action"):
        pseudonymize_dataset(storage, "acme", "devices", KEY, {}, actions, {})
    assert list(storage.list("analytics")) == []


@pytest.mark.parametrize(
    ("action", "entity", "values", "expected"),
    [
        ("mask", "PHONE_NUMBER", ["2125550147", None], ["******0147", None]),
        ("generalize", "LOCATION", ["12 Main St, Springfield, IL 62701"], ["IL 627"]),
        ("keep", None, ["x"], ["x"]),
        ("drop", "PERSON", ["Jane Doe"], [None]),
    ],
)
def test_actions(action: str, entity: str | None, values: list[Any], expected: list[Any]) -> None:
    frame = pl.DataFrame({"c": values}, schema={"c": pl.String})
    out = pseudonymize_frame(frame, [ColumnPlan("c", entity, action, "override")], KEY, "d")
    assert out["c"].to_list() == expected


def test_generalize_is_refused_where_it_means_nothing() -> None:
    frame = pl.DataFrame({"imei": ["353911101234560"]})
    with pytest.raises(PolicyError, match="generalize is defined for addresses and dates"):
        pseudonymize_frame(frame, [ColumnPlan("imei", "IMEI", "generalize", "override")], KEY, "d")
