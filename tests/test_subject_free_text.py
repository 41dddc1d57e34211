"""Subject rights inside free text: a note on someone else's row that names the person (their
name, a number written the way people write it, their employee ID) is exported as that cell
only, and erased in place: the mention becomes <ERASED> (restricted) or a bare tag (analytics),
the row and the rest of its text stay, and the ledger records the change without a value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from piiscan.lake import ledger
from piiscan.lake.keyring import load_key
from piiscan.pseudonymize import Key, tokens
from piiscan.storage import LocalStorage
from piiscan.subject import ERASED, Identity, mention_hit, mentions_of, name_forms, redact_mentions

from .test_subject import (  # noqa: F401  (template and lake are fixtures)
    CUSTOMER,
    erase,
    export,
    identifiers,
    lake,
    mine,
    person,
    template,
    zone,
)

KEY = Key("acme", "k1", b"\x07" * 32)


def spoken(number: str) -> str:
    """A 10-digit number as a person writes it in a note."""
    return f"+1 ({number[:3]}) {number[3:6]}.{number[6:]}"


def first_last(name: str) -> str:
    """'DOE, JANE' -> 'Jane Doe'; 'Jane Doe' stays."""
    if "," in name:
        last, first = (p.strip() for p in name.split(",", 1))
        name = f"{first} {last}"
    return name.title()


def test_names_numbers_and_e_mails_are_found_however_they_are_written() -> None:
    identity = Identity(
        {
            "user_name": {"DOE, JANE", "Jo"},
            "wireless_number": {"2125550147"},
            "email": {"Jane.Doe@example.com"},
            "employee_id": {"E-1234"},
        }
    )
    found = mentions_of(identity, KEY)
    texts = [
        "called jane doe back",  # the name turned round, any case
        "her cell (212) 555-0147 is off",
        "cc JANE.DOE@EXAMPLE.COM",
        "badge E-1234 returned",
        "Jo called",  # one word: a first name alone is no one in particular
        "ref 22125550147 and E-12345",  # inside longer numbers and IDs: no mention
        "Doe, Jane,2125550147",  # two mentions one character apart
        None,
    ]
    frame = pl.DataFrame({"extras": texts})
    hits = frame.select(mention_hit(frame.schema, found, "restricted")).to_series().to_list()
    assert hits == [True, True, True, True, False, False, True, False]
    redacted = redact_mentions(frame, found, "restricted")["extras"].to_list()
    assert redacted[:4] == [
        f"called {ERASED} back",
        f"her cell {ERASED} is off",
        f"cc {ERASED}",
        f"badge {ERASED} returned",
    ]
    assert redacted[4:6] == texts[4:6] and redacted[6] == f"{ERASED},{ERASED}"
    assert name_forms("DOE, JANE") == {"DOE, JANE", "JANE DOE"} and not name_forms("Jo")
    assert "2125550147" not in repr(found) and "Doe" not in repr(found)


def test_analytics_tokens_of_the_person_lose_their_key_and_others_keep_theirs() -> None:
    identity = Identity({"user_name": {"Jane Doe"}, "wireless_number": {"2125550147"}})
    found = mentions_of(identity, KEY)
    mine_ = tokens(["Jane Doe"], KEY, "PERSON")["Jane Doe"]
    number = tokens(["2125550147"], KEY, "PHONE_NUMBER")["2125550147"]
    other = tokens(["John Roe"], KEY, "PERSON")["John Roe"]
    frame = pl.DataFrame(
        {
            "extras": [
                f'{{"notes":"<PERSON {mine_}> at <PHONE_NUMBER {number}>"}}',
                f'{{"notes":"<PERSON {other}>"}}',
            ]
        }
    )
    assert frame.select(mention_hit(frame.schema, found, "analytics")).to_series().to_list() == [
        True,
        False,
    ]
    out = redact_mentions(frame, found, "analytics")["extras"].to_list()
    assert out == ['{"notes":"<PERSON> at <PHONE_NUMBER>"}', frame["extras"][1]]


def plant(lake: Path, who: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    """Notes on another employee's device row that mention the person: the raw note in the
    restricted zone and its redacted form (keyed tokens) in the analytics zone, in the same
    row of the same file. Returns where and what was written."""
    key = load_key(CUSTOMER)
    name = first_last(sorted(who["names"])[0])
    number = sorted(who["numbers"])[0]
    badge = who["employee_id"]
    note = f"Spare handset lent by {name}; call {spoken(number)} or badge {badge}. Box 4."
    token = tokens([name], key, "PERSON")[name]
    issued = tokens([number], key, "PHONE_NUMBER")[number]
    badged = tokens([badge], key, "EMPLOYEE_ID")[badge]
    redacted = (
        f"Spare handset lent by <PERSON {token}>; call <PHONE_NUMBER {issued}> "
        f"or badge <EMPLOYEE_ID {badged}>. Box 4."
    )
    for path in sorted(
        (lake / "restricted" / "devices" / f"customer={CUSTOMER}").rglob("*.parquet")
    ):
        frame = pl.read_parquet(path)
        others = frame.with_row_index("i").filter(
            ~mine(frame, who) & pl.col("wireless_number").is_not_null()
        )
        if others.height:
            row = int(others["i"][0])
            break
    else:
        raise AssertionError("no device row of another line")
    notes = pl.Series("extras", frame["extras"].to_list(), dtype=pl.String)
    notes[row] = json.dumps({"notes": note, "asset_tag": "A-77"})
    frame.with_columns(notes).write_parquet(path)
    mirror = lake / "analytics" / path.relative_to(lake / "restricted")
    analytics = pl.read_parquet(mirror)
    assert analytics.height == frame.height  # the mirror is row for row
    notes = pl.Series("extras", analytics["extras"].to_list(), dtype=pl.String)
    notes[row] = json.dumps({"notes": redacted, "asset_tag": "A-77"})
    analytics.with_columns(notes).write_parquet(mirror)
    return {
        "path": path,
        "mirror": mirror,
        "row": row,
        "other": frame["wireless_number"][row],  # the line the row is about
        "values": [name, number, badge, spoken(number), token, issued, badged],
    }


def test_export_gives_the_mentioning_cells_only(lake: Path, tmp_path: Path) -> None:  # noqa: F811
    who = person(lake)
    planted = plant(lake, who)
    out = tmp_path / "out"
    answer = export(lake, out, "--employee-id", who["employee_id"])["outcome"]
    assert answer["mentions"] == {"analytics/devices": 1, "restricted/devices": 1}, answer
    [bundle] = [p for p in out.iterdir() if p.is_dir()]
    cells = pl.read_csv(bundle / "mentions_restricted_devices.csv")
    assert cells.columns == ["period", "column", "text"]
    assert cells["column"].to_list() == ["extras.notes"]  # not the asset tag, not the row
    assert planted["values"][0] in cells["text"][0]
    assert planted["other"] not in (bundle / "mentions_restricted_devices.csv").read_text()
    summary = json.loads((bundle / "summary.json").read_text())
    assert summary["mentioned_in_free_text"] == answer["mentions"]


def test_erase_redacts_mentions_in_place_and_ledgers_them(lake: Path) -> None:  # noqa: F811
    who = person(lake)
    planted = plant(lake, who)
    before = pl.read_parquet(planted["path"])
    preview = erase(lake, "--employee-id", who["employee_id"])
    # The planted note and its analytics copy, and the person's own rows whose free text
    # holds their name or number (those a tax hold keeps are pseudonymized, text included).
    assert preview["mentions_to_redact"] >= 2
    assert pl.read_parquet(planted["path"]).equals(before)  # a dry run changes nothing

    applied = erase(lake, "--employee-id", who["employee_id"], "--apply")
    assert applied["mentions_redacted"] == preview["mentions_to_redact"]
    assert applied["mention_files_changed"] >= 2
    after = pl.read_parquet(planted["path"])
    gone = before.filter(mine(before, who)).height
    assert after.height == before.height - gone  # the other employee's row stays
    row = after.filter(pl.col("wireless_number") == planted["other"])
    note = json.loads(row["extras"].drop_nulls()[0])
    assert note == {
        "notes": f"Spare handset lent by {ERASED}; call {ERASED} or badge {ERASED}. Box 4.",
        "asset_tag": "A-77",
    }
    analytics = pl.read_parquet(planted["mirror"])
    text = analytics["extras"].drop_nulls().str.join("")[0]
    assert "lent by <PERSON>; call <PHONE_NUMBER> or badge <EMPLOYEE_ID>. Box 4." in text
    storage = LocalStorage(lake)
    assert ledger.verify(storage, CUSTOMER).ok
    [entry] = ledger.read_entries(storage, CUSTOMER)
    redactions = [f for f in entry["files"] if f.get("action") == "redact-mentions"]
    assert sorted(f["zone"] for f in redactions if f["key"].endswith(planted["path"].name)) == [
        "analytics",
        "restricted",
    ]
    assert all(f["rows_redacted"] >= 1 and f["rows_deleted"] == 0 for f in redactions)
    assert sum(f["rows_redacted"] for f in redactions) == applied["mentions_redacted"]
    text = (lake / "ledger" / f"{CUSTOMER}.jsonl").read_text()
    raw = planted["values"][:4]  # the ledger may hold keyed tokens (the selector's hash)
    assert not [v for v in raw + identifiers(who) if v in text]
    again = erase(lake, "--employee-id", who["employee_id"], "--apply")
    assert again["nothing_to_do"] and again["mentions_redacted"] == 0, json.dumps(again)


def test_a_legal_hold_keeps_mentions_as_they_are(lake: Path) -> None:  # noqa: F811
    from datetime import UTC, datetime

    from piiscan.lake.holds import add_hold

    who = person(lake)
    planted = plant(lake, who)
    add_hold(LocalStorage(lake), CUSTOMER, "legal", "case 12", datetime(2026, 11, 1, tzinfo=UTC))
    preview = erase(lake, "--employee-id", who["employee_id"])
    assert preview["mentions_to_redact"] == 0
    applied = erase(lake, "--employee-id", who["employee_id"], "--apply")
    assert applied["mentions_redacted"] == 0
    row = pl.read_parquet(planted["path"])["extras"][planted["row"]]
    assert planted["values"][0] in row


@pytest.mark.parametrize("name", ["Al", "", "X Y"])
def test_short_names_are_never_searched(name: str) -> None:
    assert not name_forms(name) or all(len(f) >= 5 for f in name_forms(name))


def test_keys_and_codes_are_never_taken_for_a_mention() -> None:
    identity = Identity({"user_name": {"Jane Doe"}, "wireless_number": {"2125550147"}})
    found = mentions_of(identity, KEY)
    frame = pl.DataFrame(
        {
            "account_number": ["2125550147"],  # an account numbered after its main line
            "invoice_number": ["2125550147"],
            "item_description": ["Replacement for Jane Doe"],
            "extras": [None],
        }
    )
    assert frame.select(mention_hit(frame.schema, found, "restricted")).item()
    out = redact_mentions(frame, found, "restricted")
    assert out["account_number"].to_list() == ["2125550147"]
    assert out["invoice_number"].to_list() == ["2125550147"]
    assert out["item_description"].to_list() == [f"Replacement for {ERASED}"]
