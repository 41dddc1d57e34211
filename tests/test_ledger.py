"""The ledger under attack: every way of tampering with it is caught by `piiscan ledger verify`.

A lake holds acme's ledger (three signed entries), a run report anchoring entry 2, and the
deletion certificate of entry 3; globex has a ledger of its own. Each tamper form below changes the
lake the way an attacker with write access to it would; verify must exit 1 with a line naming
acme and what is wrong.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from piiscan.certificate import build_certificate
from piiscan.cli import app
from piiscan.errors import KeyMaterialError
from piiscan.lake import keys, ledger
from piiscan.lake.keyring import load_ledger_key, parse_ledger_key
from piiscan.lake.reports import write_certificate
from piiscan.pipeline.nightly import finish_report
from piiscan.policy import Config
from piiscan.report import report_schema
from piiscan.storage import LocalStorage

from .conftest import CONFIGS

runner = CliRunner()
NOW = datetime(2026, 11, 28, 2, tzinfo=UTC)
RUN = "20261128T020000Z-abcdef"
END = date(2026, 12, 31)


def entry(rows: int, kind: str = "purge") -> dict[str, Any]:
    """A PII-free entry shaped like apply_purge's."""
    return {
        "kind": kind,
        "at": NOW.isoformat(),
        "policy_version": "test-1",
        "rows_deleted": rows,
        "files": [],
        "other_objects_removed": [],
        "apply_ids": [f"a{rows}"],
    }


def no_purge() -> dict[str, Any]:
    return {
        "as_of": "2026-11-28",
        "policy_version": "test-1",
        "rows_deleted": 0,
        "rows_kept": {},
        "reasons": {},
        "ledger_seq": None,
        "applied": False,
    }


def no_ingest() -> dict[str, Any]:
    return {
        "files_ingested": 0,
        "files_quarantined": 0,
        "files_skipped": 0,
        "rows": {},
        "rows_rejected": 0,
        "files": [],
    }


class Lake:
    """A lake with acme's and globex's ledgers, a report and a certificate, and its key folder."""

    def __init__(self, root: Path, config: Config) -> None:
        self.root, self.keys = root / "lake", root / "keys"
        self.storage = LocalStorage(self.root)
        acme = load_ledger_key("acme", self.keys, create=True)
        for rows in (5, 7):
            ledger.append(self.storage, "acme", entry(rows), acme)
        self.report, _ = finish_report(
            self.storage,
            config,
            "acme",
            RUN,
            NOW,
            ingest=no_ingest(),
            datasets={},
            purge=no_purge(),
        )
        self.older = {  # a copy an attacker kept: the ledger and head record at entry 2
            k: self.storage.read_bytes(k) for k in (keys.ledger("acme"), keys.ledger_head("acme"))
        }
        last = ledger.append(self.storage, "acme", entry(11, "terminate"), acme)
        certificate = build_certificate("acme", END, last, {}, "deleted (test)")
        self.certificate = write_certificate(self.storage, certificate)[0]
        globex = load_ledger_key("globex", self.keys, create=True)
        for rows in (1, 2):
            ledger.append(self.storage, "globex", entry(rows), globex)

    def lines(self, customer: str = "acme") -> list[str]:
        return self.storage.read_bytes(keys.ledger(customer)).decode().splitlines()

    def write(self, lines: list[str], customer: str = "acme") -> None:
        self.storage.write_bytes(keys.ledger(customer), "".join(f"{x}\n" for x in lines).encode())

    def verify(self, customer: str = "acme") -> ledger.Verification:
        return ledger.verify(self.storage, customer, partial(load_ledger_key, customer, self.keys))

    def cli(self, *args: str) -> Any:
        return runner.invoke(
            app,
            [
                "ledger",
                "verify",
                "--lake",
                str(self.root),
                "--config",
                str(CONFIGS),
                "--keys",
                str(self.keys),
                *args,
            ],
        )


@pytest.fixture
def lake(tmp_path: Path, config: Config) -> Lake:
    return Lake(tmp_path, config)


def rechain(entries: list[dict[str, Any]], renumber: bool = False) -> list[str]:
    """What an attacker without the key can do: relink and recompute every hash (SHA-256)."""
    previous, out = ledger.GENESIS, []
    for number, item in enumerate(entries, start=1):
        item = {**item, "prev_hash": previous, **({"seq": number} if renumber else {})}
        item["hash"] = ledger.entry_hash(item)
        previous = item["hash"]
        out.append(json.dumps(item, sort_keys=True))
    return out


def delete_last_line(lake: Lake) -> None:
    lake.write(lake.lines()[:-1])


def delete_the_file(lake: Lake) -> None:
    lake.storage.delete(keys.ledger("acme"))


def edit_an_entry(lake: Lake) -> None:
    lines = lake.lines()
    lines[1] = lines[1].replace('"rows_deleted": 7', '"rows_deleted": 0')
    lake.write(lines)


def edit_and_recompute_every_hash(lake: Lake) -> None:
    entries = [json.loads(x) for x in lake.lines()]
    entries[1]["rows_deleted"] = 0
    lake.write(rechain(entries))


def downgrade_to_unkeyed_and_recompute(lake: Lake) -> None:
    entries = [json.loads(x) for x in lake.lines()]
    entries[1]["rows_deleted"] = 0
    lake.write(rechain([{k: v for k, v in e.items() if k != "chain"} for e in entries]))


def drop_an_entry_and_renumber(lake: Lake) -> None:
    entries = [json.loads(x) for x in lake.lines()]
    lake.write(rechain([entries[0], entries[2]], renumber=True))


def reorder_two_entries(lake: Lake) -> None:
    lines = lake.lines()
    lake.write([lines[1], lines[0], lines[2]])


def replace_with_another_customers(lake: Lake) -> None:
    lake.write(lake.lines("globex"))


def replace_with_an_older_copy(lake: Lake) -> None:
    for key, data in lake.older.items():  # the head record too: only the certificate is left
        lake.storage.write_bytes(key, data)


def delete_the_file_and_its_head_record(lake: Lake) -> None:
    lake.storage.delete(keys.ledger("acme"))
    lake.storage.delete(keys.ledger_head("acme"))


def cut_and_append_a_new_entry(lake: Lake) -> None:
    lines = lake.lines()
    lake.storage.delete(lake.certificate)  # no outside anchor: the next entry itself tells
    lake.write(lines[:-1])
    ledger.append(lake.storage, "acme", entry(13), load_ledger_key("acme", lake.keys))


def delete_the_head_record(lake: Lake) -> None:
    lake.storage.delete(keys.ledger_head("acme"))


def edit_the_head_record(lake: Lake) -> None:
    record = json.loads(lake.storage.read_bytes(keys.ledger_head("acme")))
    record["seq"] = 2
    lake.storage.write_bytes(keys.ledger_head("acme"), json.dumps(record).encode())


TAMPERING: list[tuple[Callable[[Lake], None], str]] = [
    (delete_last_line, "the head record names entry 3 ("),
    (delete_the_file, "but the ledger has no entries: cut short, deleted or replaced"),
    (edit_an_entry, "line 2: content was edited"),
    (edit_and_recompute_every_hash, "line 1: content was edited (or its hash recomputed without"),
    (downgrade_to_unkeyed_and_recompute, "the head record names entry 3 as"),
    (drop_an_entry_and_renumber, "line 1: content was edited (or its hash recomputed without"),
    (reorder_two_entries, "line 1: sequence 2 (lines removed or reordered)"),
    (replace_with_another_customers, "line 1: an entry of customer 'globex'"),
    (replace_with_an_older_copy, "certificate 2026-12-31.json names entry 3 ("),
    (delete_the_file_and_its_head_record, "certificate 2026-12-31.json names entry 3 ("),
    (cut_and_append_a_new_entry, "line 3: appended over a head record naming entry 3"),
    (delete_the_head_record, "head record state/ledger/acme.head.json is missing"),
    (edit_the_head_record, "head record state/ledger/acme.head.json is not acme's signed head"),
]


def test_an_untouched_ledger_verifies_against_its_anchors(lake: Lake) -> None:
    result = lake.verify()
    assert result.ok and result.entries == 3 and not result.unkeyed and not result.problems
    assert result.anchors == 3  # the head record, the report, the certificate
    assert result.head == ledger.head(lake.storage, "acme")
    done = lake.cli("-c", "acme", "-c", "globex")
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines() == [
        "acme: 3 entries, ok; 3 anchor(s) checked",
        "globex: 2 entries, ok; 1 anchor(s) checked",
    ]


@pytest.mark.parametrize(
    ("tamper", "problem"), TAMPERING, ids=[t.__name__.replace("_", " ") for t, _ in TAMPERING]
)
def test_tampering_is_detected(lake: Lake, tamper: Callable[[Lake], None], problem: str) -> None:
    tamper(lake)
    result = lake.verify()
    assert not result.ok and any(problem in p for p in result.problems), result.problems
    done = lake.cli("-c", "acme")
    assert done.exit_code == 1, done.output
    first = done.stdout.splitlines()[0]
    assert first.startswith("acme: ") and "BROKEN" in first, done.stdout
    assert problem in done.stdout
    assert lake.verify("globex").ok  # the other customer's ledger is not affected


def test_the_report_anchor_is_in_the_schema_and_catches_a_replaced_ledger(lake: Lake) -> None:
    document = json.loads(lake.storage.read_bytes(lake.report))
    jsonschema.validate(document, report_schema())
    anchor = document["purge"]["ledger"]
    assert anchor == {"seq": 2, "hash": json.loads(lake.lines()[1])["hash"]}
    # A ledger rebuilt from scratch with the same key by whoever holds it still differs.
    lake.storage.delete(keys.ledger("acme"))
    lake.storage.delete(keys.ledger_head("acme"))
    lake.storage.delete(lake.certificate)
    for rows in (5, 8, 11):
        ledger.append(lake.storage, "acme", entry(rows), load_ledger_key("acme", lake.keys))
    problems = lake.verify().problems
    assert problems == (
        f"report {RUN} names entry 2 as {anchor['hash'][:12]}…, the ledger's entry "
        f"2 is {json.loads(lake.lines()[1])['hash'][:12]}…: the ledger was "
        "replaced or rewritten",
    )


def legacy_append(lake: Lake, customer: str, item: dict[str, Any]) -> None:
    """How entries were written before the ledger was keyed: plain SHA-256, no head record."""
    entries = ledger.read_entries(lake.storage, customer)
    chained = {
        **item,
        "seq": len(entries) + 1,
        "customer": customer,
        "prev_hash": entries[-1]["hash"] if entries else ledger.GENESIS,
    }
    chained["hash"] = hashlib.sha256(
        json.dumps(chained, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    lines = [json.dumps(e, sort_keys=True) for e in [*entries, chained]]
    lake.write(lines, customer)


def test_entries_written_unkeyed_still_verify_and_are_named(lake: Lake) -> None:
    for rows in (3, 4):
        legacy_append(lake, "initech", entry(rows))
    # An old lake: no ledger key anywhere, no head record; verify needs neither.
    assert not (lake.keys / "initech.ledger.json").exists()
    old = lake.verify("initech")
    assert old.ok and old.unkeyed == (1, 2) and old.anchors == 0
    done = lake.cli("-c", "initech")
    assert done.exit_code == 0, done.output
    assert done.stdout.strip() == (
        "initech: 2 entries (2 entries unkeyed, 1-2: written before the ledger was keyed), ok; "
        "0 anchor(s) checked"
    )
    # The first keyed append creates the key and continues the chain.
    ledger.append(
        lake.storage, "initech", entry(5), load_ledger_key("initech", lake.keys, create=True)
    )
    mixed = lake.verify("initech")
    assert mixed.ok and mixed.entries == 3 and mixed.unkeyed == (1, 2)
    # An edit of an old entry is still caught, by its plain hash.
    lines = lake.lines("initech")
    lake.write([lines[0].replace('"rows_deleted": 3', '"rows_deleted": 0'), *lines[1:]], "initech")
    assert lake.verify("initech").problem == "line 1: content was edited"


def test_one_entry_is_one_entry_and_json_says_it_all(lake: Lake) -> None:
    ledger.append(lake.storage, "initech", entry(1), load_ledger_key("initech", lake.keys, True))
    done = lake.cli("-c", "initech")
    assert done.stdout.strip() == "initech: 1 entry, ok; 1 anchor(s) checked"
    delete_last_line(lake)
    done = lake.cli("--json")
    assert done.exit_code == 1, done.output
    body = json.loads(done.stdout)
    assert not body["ok"]
    found = {r["customer"]: r for r in body["ledgers"]}
    assert set(found) == {"acme", "globex", "initech"}
    assert not found["acme"]["ok"] and found["acme"]["problems"][0].startswith(
        "the head record names entry 3"
    )
    assert found["globex"]["ok"] and found["globex"]["head"]["seq"] == 2
    assert found["initech"]["entries"] == 1 and found["initech"]["unkeyed"] == []


def test_an_unknown_customer_exits_2_naming_it(lake: Lake) -> None:
    done = lake.cli("-c", "acmee")
    assert done.exit_code == 2
    assert "unknown customer 'acmee'" in done.stderr and "no ledger" in done.stderr


def test_a_customer_gone_from_the_config_keeps_a_verifiable_ledger(lake: Lake) -> None:
    ledger.append(lake.storage, "umbrella", entry(9), load_ledger_key("umbrella", lake.keys, True))
    done = lake.cli()
    assert done.exit_code == 0, done.output
    assert "umbrella: 1 entry, ok" in done.stdout
    assert lake.cli("-c", "umbrella").exit_code == 0


def test_a_missing_ledger_key_is_an_error_naming_where_it_was_looked_for(lake: Lake) -> None:
    (lake.keys / "acme.ledger.json").unlink()
    with pytest.raises(KeyMaterialError, match="PIISCAN_LEDGER_KEY_ACME"):
        lake.verify()
    done = lake.cli("-c", "acme")
    assert done.exit_code == 2
    assert "PIISCAN_LEDGER_KEY_ACME" in done.stderr
    assert str(lake.keys / "acme.ledger.json") in done.stderr.replace("\n", "")


def test_another_customers_key_does_not_verify(lake: Lake) -> None:
    globex = (lake.keys / "globex.ledger.json").read_text()
    with pytest.raises(KeyMaterialError, match="customer 'globex'"):
        parse_ledger_key("acme", globex)
    forged = json.loads(globex) | {"customer": "acme"}
    key = parse_ledger_key("acme", json.dumps(forged))
    assert ledger.verify(lake.storage, "acme", lambda: key).problem == (
        "line 1: content was edited (or its hash recomputed without the ledger key)"
    )


def test_a_head_record_left_behind_by_a_kill_is_a_note_not_a_break(lake: Lake) -> None:
    head = lake.storage.read_bytes(keys.ledger_head("acme"))
    ledger.append(lake.storage, "acme", entry(17), load_ledger_key("acme", lake.keys))
    lake.storage.write_bytes(keys.ledger_head("acme"), head)  # killed before the head write
    result = lake.verify()
    assert result.ok and result.notes == (
        "the head record is at entry 3 of 4 (a run killed after its ledger write; the next "
        "entry moves it on)",
    )
    ledger.append(lake.storage, "acme", entry(19), load_ledger_key("acme", lake.keys))
    assert lake.verify().ok and not lake.verify().notes


def test_the_ledger_key_is_its_own_file_and_never_replaced(lake: Lake) -> None:
    path = lake.keys / "acme.ledger.json"
    before = path.read_text()
    assert load_ledger_key("acme", lake.keys, create=True) == load_ledger_key("acme", lake.keys)
    assert path.read_text() == before and path.stat().st_mode & 0o777 == 0o600
    assert not (lake.keys / "acme.json").exists()  # the pseudonymization key is elsewhere
    assert "secret" not in repr(load_ledger_key("acme", lake.keys))


def test_a_first_run_killed_before_its_head_write_verifies_after_the_next_entry(
    lake: Lake,
) -> None:
    key = load_ledger_key("initech", lake.keys, create=True)
    ledger.append(lake.storage, "initech", entry(1), key)
    lake.storage.delete(keys.ledger_head("initech"))  # killed between the two writes
    first = lake.verify("initech")
    assert first.ok and first.notes == (
        "head record state/ledger/initech.head.json not written yet",
    )
    ledger.append(lake.storage, "initech", entry(2), key)
    assert lake.verify("initech").ok and not lake.verify("initech").notes
