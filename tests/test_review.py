"""Reviewer overrides (configs/overrides.yaml) and drift between reports, without models."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from piiscan.detect import ColumnFinding
from piiscan.drift import detect_drift
from piiscan.errors import ConfigError
from piiscan.policy import load_config
from piiscan.pseudonymize import plan_columns
from piiscan.report import build_report, describe, markdown
from piiscan.review import apply_overrides, new_override, record

from .conftest import CONFIGS

DECISION = {
    "customer": "acme",
    "dataset": "devices",
    "column": "extras.asset_tag",
    "decision": "reject",
    "reason": "inventory tag, not a person",
    "decided_by": "j.reviewer",
    "decided_at": "2026-11-28",
}


@pytest.fixture
def configs(tmp_path: Path) -> Path:
    folder = tmp_path / "configs"
    shutil.copytree(CONFIGS, folder)
    (folder / "overrides.yaml").unlink(missing_ok=True)
    return folder


def _write(folder: Path, overrides: list[dict[str, Any]], **top: Any) -> None:
    (folder / "overrides.yaml").write_text(yaml.safe_dump({"overrides": overrides, **top}))


def test_a_missing_overrides_file_means_no_decisions(configs: Path) -> None:
    config = load_config(configs)
    assert config.review.overrides == () and config.review.confidence_threshold == 0.8


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        ({"entity": "IMEI"}, "overrides[0]", "a reject has no entity"),
        ({"decision": "set"}, "overrides[0]", "needs the entity"),
        ({"layout": "att_usage_detail"}, "overrides[0]", "exactly one of dataset or layout"),
        ({"column": "user_name"}, "overrides[0]", "cannot be rejected"),
        ({"customer": "umbrella"}, "overrides[0].customer", "not a customer"),
        ({"dataset": "calls"}, "overrides[0].dataset", "Input should be"),
        ({"decided_at": "yesterday"}, "overrides[0].decided_at", "valid date"),
        ({"reason": ""}, "overrides[0].reason", "at least 3"),
        ({"colour": "red"}, "overrides[0].colour", "Extra inputs"),
        ({"dataset": None, "layout": "att_bill"}, "overrides[0].layout", "not a known layout"),
    ],
)
def test_bad_overrides_fail_at_load_naming_file_and_key(
    configs: Path, change: dict[str, Any], key: str, words: str
) -> None:
    _write(configs, [{**DECISION, **change}])
    with pytest.raises(ConfigError) as caught:
        load_config(configs)
    assert caught.value.file.endswith("overrides.yaml")
    assert caught.value.key == key and words in caught.value.problem


def test_two_decisions_for_one_column_are_refused(configs: Path) -> None:
    _write(configs, [DECISION, {**DECISION, "reason": "changed my mind"}])
    with pytest.raises(ConfigError, match=r"two overrides for acme/devices/extras\.asset_tag"):
        load_config(configs)


def test_design_columns_cannot_be_rejected_but_can_be_retyped() -> None:
    with pytest.raises(ConfigError, match="cannot be rejected"):
        new_override(
            customer="acme",
            dataset="invoice_lines",
            column="wireless_number",
            decision="reject",
            reason="looks like a counter",
            decided_by="j.reviewer",
            decided_at=date(2026, 11, 28),
        )
    retyped = new_override(
        customer="acme",
        dataset="invoice_lines",
        column="employee_id",
        decision="set",
        entity="EMAIL_ADDRESS",
        reason="acme uses e-mails as employee IDs",
        decided_by="j.reviewer",
        decided_at=date(2026, 11, 28),
    )
    plans = plan_columns(
        "invoice_lines",
        ["employee_id", "user_name"],
        {"employee_id": retyped.entity},
        {"EMAIL_ADDRESS": "drop", "PERSON": "drop", "EMPLOYEE_ID": "hmac"},
        {},
        reviewed={"employee_id"},
    )
    assert [(p.column, p.entity, p.action, p.source) for p in plans] == [
        ("employee_id", "EMAIL_ADDRESS", "drop", "review"),
        ("user_name", "PERSON", "drop", "design"),
    ]


def test_review_record_writes_sorted_yaml_that_loads_back(configs: Path) -> None:
    for column, decision, entity in [
        ("extras.zeta", "set", "PERSON"),
        ("extras.alpha", "confirm", "EMAIL_ADDRESS"),
        ("extras.zeta", "reject", None),  # replaces the first decision about the column
    ]:
        override = new_override(
            customer="acme",
            dataset="devices",
            column=column,
            decision=decision,
            entity=entity,
            reason="checked with the customer",
            decided_by="j.reviewer",
            decided_at=date(2026, 11, 28),
        )
        record(configs, load_config(configs), override)
    text = (configs / "overrides.yaml").read_text()
    assert text.startswith("# Reviewer decisions")
    loaded = load_config(configs).review.overrides
    assert [(o.column, o.decision) for o in loaded] == [
        ("extras.alpha", "confirm"),
        ("extras.zeta", "reject"),
    ]


def test_cli_arguments_are_validated_with_the_argument_named() -> None:
    with pytest.raises(ConfigError) as caught:
        new_override(
            customer="acme",
            dataset="devices",
            column="extras.x",
            decision="set",
            entity="SHOE_SIZE",
            reason="because",
            decided_by="me",
            decided_at=date(2026, 11, 28),
        )
    assert caught.value.key == "entity"


def test_customer_decisions_beat_the_wildcard_and_apply_to_their_scope(configs: Path) -> None:
    _write(
        configs,
        [
            {**DECISION, "customer": "*", "decision": "set", "entity": "EMPLOYEE_ID"},
            DECISION,
            {**DECISION, "dataset": None, "layout": "mdm_inventory", "column": "Serial"},
        ],
    )
    config = load_config(configs)
    assert config.overrides_for("acme", "devices")["extras.asset_tag"].decision == "reject"
    assert config.overrides_for("globex", "devices")["extras.asset_tag"].decision == "set"
    assert config.overrides_for("acme", "invoice_lines") == {}
    assert set(config.overrides_for("acme", None, "mdm_inventory")) == {"Serial"}
    finding = ColumnFinding("extras.asset_tag", "IMEI", 0.91, {"sampled": 40}, "hmac")
    (applied,) = apply_overrides(
        [finding], config.overrides_for("globex", "devices"), {"EMPLOYEE_ID": "hmac"}
    )
    assert (applied.entity, applied.action, applied.source) == ("EMPLOYEE_ID", "hmac", "review")
    assert applied.detected_entity == "IMEI" and applied.review is not None
    assert applied.review["scope"] == "*"
    assert applied.as_json()["evidence"]["review"]["decision"] == "set"


def _column(name: str, entity: str | None, confidence: float = 0.95, **extra: Any) -> Any:
    return {
        "name": name,
        "entity": entity,
        "confidence": confidence,
        "evidence": {},
        "action": "keep",
        "source": "detection",
        "detected_entity": entity,
        "review": None,
        **extra,
    }


def _document(columns: dict[str, list[dict[str, Any]]], pending: Any = ()) -> dict[str, Any]:
    return {
        "run_id": "20261127T020000Z-aaaaaa",
        "datasets": {d: {"files": 1, "rows": 10, "columns": c} for d, c in columns.items()},
        "review": {"pending": list(pending)},
    }


def test_every_kind_of_drift_is_flagged() -> None:
    before = _document(
        {
            "devices": [
                _column("imei", "IMEI"),
                _column("extras.a", None),
                _column("extras.b", "PERSON"),
                _column("extras.c", "PHONE_NUMBER", 0.9),
                _column("extras.d", "EMAIL_ADDRESS"),
                _column("extras.same", "IMEI", 0.85),
            ]
        }
    )
    now = {
        "devices": {
            "columns": [
                _column("imei", "IMEI"),
                _column("extras.a", "EMAIL_ADDRESS"),
                _column("extras.b", "LOCATION"),
                _column("extras.c", "PHONE_NUMBER", 0.7),
                _column("extras.d", None),
                _column("extras.same", "IMEI", 0.83),
                _column("extras.new", None),
            ]
        },
        "usage_events": {
            "columns": [_column("other_number", "PHONE_NUMBER"), _column("kind", None)]
        },
    }
    drift, pending = detect_drift(before, now, [], "run2", 0.8)
    kinds = {(i["dataset"], i["column"]): i["kinds"] for i in drift}
    assert kinds == {
        ("devices", "extras.a"): ["became_pii"],
        ("devices", "extras.b"): ["entity_changed"],
        ("devices", "extras.c"): ["confidence_drop"],
        ("devices", "extras.d"): ["no_longer_pii"],
        ("devices", "extras.new"): ["new_column"],
        ("usage_events", None): ["new_dataset"],
        ("usage_events", "other_number"): ["new_column", "became_pii"],
    }
    assert pending == sorted(drift, key=lambda i: (i["dataset"], i["column"] or ""))
    assert all(i["first_seen"] == "run2" for i in drift)
    words = {describe(i) for i in drift}
    assert "devices.extras.b: PERSON -> LOCATION" in words
    assert "usage_events: new dataset (1 personal-data column(s))" in words


def test_pending_items_carry_over_until_a_decision_or_the_column_goes() -> None:
    columns = [_column("extras.a", "EMAIL_ADDRESS"), _column("extras.b", "PERSON")]
    waiting = [
        {
            "dataset": "devices",
            "column": c,
            "kinds": ["new_column", "became_pii"],
            "previous": None,
            "current": None,
            "first_seen": "run1",
        }
        for c in ("extras.a", "extras.b", "extras.gone")
    ]
    before = _document({"devices": columns}, waiting)
    drift, pending = detect_drift(before, {"devices": {"columns": columns}}, [], "run3", 0.8)
    assert drift == [] and [i["column"] for i in pending] == ["extras.a", "extras.b"]
    assert {i["first_seen"] for i in pending} == {"run1"}
    _, decided = detect_drift(
        before, {"devices": {"columns": columns}}, [("devices", "extras.a")], "run3", 0.8
    )
    assert [i["column"] for i in decided] == ["extras.b"]


def test_the_first_report_is_a_baseline_and_reviewed_columns_never_drift() -> None:
    reviewed = _column("extras.a", "PERSON", source="review", detected_entity=None)
    now = {"devices": {"columns": [reviewed]}}
    assert detect_drift(None, now, [], "run1", 0.8) == ([], [])
    before = _document({"devices": [_column("extras.a", None)]})
    assert detect_drift(before, now, [("devices", "extras.a")], "run2", 0.8) == ([], [])


def test_a_decision_made_on_other_evidence_is_flagged_until_decided_again() -> None:
    """A column rejected as not personal data in which detection now finds e-mails (the
    override would keep them out of pseudonymization silently), and a confirmed IMEI column
    that detection now reads as ICCIDs."""

    def decided(on: str, detected: str | None, decision: str, entity: str | None) -> Any:
        review = {"decision": decision, "reason": "r", "decided_by": "dpo", "decided_at": on}
        return _column(
            "extras.a" if decision == "reject" else "imei",
            entity,
            1.0,
            source="review",
            detected_entity=detected,
            review=review,
        )

    before = _document(
        {
            "devices": [
                decided("2026-11-20", None, "reject", None),
                decided("2026-11-20", "IMEI", "confirm", "IMEI"),
            ]
        }
    )
    now = {
        "devices": {
            "columns": [
                decided("2026-11-20", "EMAIL_ADDRESS", "reject", None),
                decided("2026-11-20", "ICCID", "confirm", "IMEI"),
            ]
        }
    }
    reviewed = [("devices", "extras.a"), ("devices", "imei")]
    drift, pending = detect_drift(before, now, reviewed, "20261127T020000Z-aaaaaa", 0.8)
    assert {(i["column"], tuple(i["kinds"])) for i in drift} == {
        ("extras.a", ("detection_changed",)),
        ("imei", ("detection_changed",)),
    }
    words = {describe(i) for i in drift}
    assert (
        "devices.extras.a: detection now finds EMAIL_ADDRESS (was no personal data) under the "
        "reviewer's reject: decide again" in words
    )
    assert (
        "devices.imei: detection now finds ICCID (was IMEI) under the reviewer's confirm: "
        "decide again" in words
    )
    # The next night: detection says the same, so nothing new, but both wait for a decision.
    later = {**_document({}), "datasets": now, "review": {"pending": pending}}
    drift, carried = detect_drift(later, now, reviewed, "20261128T020000Z-bbbbbb", 0.8)
    assert drift == [] and [i["column"] for i in carried] == ["extras.a", "imei"]
    # The reviewer decides the e-mail column again (the day after it was flagged): cleared.
    now["devices"]["columns"][0] = decided("2026-11-28", "EMAIL_ADDRESS", "set", "EMAIL_ADDRESS")
    _, carried = detect_drift(later, now, reviewed, "20261129T020000Z-cccccc", 0.8)
    assert [i["column"] for i in carried] == ["imei"]


def test_markdown_puts_review_first() -> None:
    from datetime import UTC, datetime

    before = _document({"devices": [_column("imei", "IMEI")]})
    datasets = {
        "devices": {
            "files": 1,
            "rows": 5,
            "columns": [_column("imei", "IMEI"), _column("extras.owner", "PERSON")],
        }
    }
    ingest = {
        "files_ingested": 1,
        "files_quarantined": 0,
        "files_skipped": 0,
        "rows": {"devices": 5},
        "rows_rejected": 0,
        "files": [],
    }
    purge = {"rows_deleted": 0, "rows_kept": {"active": 5}, "ledger_seq": None}
    document = build_report(
        "acme",
        "20261128T020000Z-bbbbbb",
        datetime(2026, 11, 28, tzinfo=UTC),
        ingest=ingest,
        datasets=datasets,
        purge=purge,
        previous=before,
    )
    text = markdown("acme", document)
    assert text.index("**Needs review: 1 item(s)**") < text.index("| stage | result |")
    assert "- devices.extras.owner: new column, PERSON" in text
    assert document["history"][-1]["rows_deleted"] == 0
