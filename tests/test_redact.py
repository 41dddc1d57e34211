"""The redact action (issue 16): free text kept in the analytics zone with every span replaced
in place (a keyed token or the entity tag), computed once per distinct value. Unit tests use a
fake span finder that counts what it is asked; the integration tests run the real spaCy model
and Presidio's analyzer, and a whole night over a lake with a notes column."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import polars as pl
import pytest

from piiscan.entities import Span
from piiscan.errors import PolicyError
from piiscan.lake import keys
from piiscan.pipeline.pseudonymize import pseudonymize_dataset
from piiscan.policy import load_config
from piiscan.pseudonymize import (
    ColumnPlan,
    Key,
    Redaction,
    apply,
    pseudonymize_frame,
    redact_texts,
    tokens,
)
from piiscan.schema import DATASETS, EXTRAS
from piiscan.storage import MemoryStorage

from .conftest import CONFIGS

KEY = Key("acme", "k1", b"0123456789abcdef0123456789abcdef")
TOKEN = r"k1-[0-9a-f]{32}"
PLANTED = {  # what a finder would find: value -> entity
    "Jane Doe": "PERSON",
    "John Roe": "PERSON",
    "(212) 555-0147": "PHONE_NUMBER",
    "212-555-0147": "PHONE_NUMBER",
    "Jane.Doe@Acme.example.com": "EMAIL_ADDRESS",
    "jane.doe@acme.example.com": "EMAIL_ADDRESS",
    "490154203237518": "IMEI",
}


class CountingFinder:
    """Finds the PLANTED values by string search; records every batch it is given."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    @property
    def texts(self) -> list[str]:
        return [t for batch in self.batches for t in batch]

    def find_spans(self, texts: Sequence[str]) -> list[list[Span]]:
        self.batches.append(list(texts))
        found = []
        for text in texts:
            spans = [
                Span(entity, m.start(), m.end(), 0.9)
                for value, entity in PLANTED.items()
                for m in re.finditer(re.escape(value), text)
            ]
            found.append(sorted(spans, key=lambda s: s.start))
        return found


def notes(rows: int) -> list[str | None]:
    """Rows of notes: most plain, a minority naming a person, a number, an e-mail, an IMEI."""
    pool = [
        "Customer asked about roaming charges on the last bill",
        "Device upgrade approved by the cost center owner",
        "Called Jane Doe on (212) 555-0147 about the overage",
        "Sent the quote to Jane.Doe@Acme.example.com and to John Roe",
        "Old handset 490154203237518 returned to the depot",
        None,
        "Line suspended after the device was reported lost",
        "Jane Doe asked to move 212-555-0147 to the pooled plan",
    ]
    return [pool[i % len(pool)] for i in range(rows)]


def test_token_style_replaces_every_span_with_a_keyed_token() -> None:
    texts = ["Called Jane Doe on (212) 555-0147 about the overage"]
    (out,) = redact_texts(texts, KEY, Redaction(CountingFinder(), "token"))
    assert re.fullmatch(
        rf"Called <PERSON {TOKEN}> on <PHONE_NUMBER {TOKEN}> about the overage", out
    ), out
    assert "Jane" not in out and "555" not in out


def test_tag_style_replaces_every_span_with_its_entity() -> None:
    texts = [
        "Sent the quote to Jane.Doe@Acme.example.com and to John Roe",
        "Old handset 490154203237518 returned to the depot",
    ]
    out = redact_texts(texts, KEY, Redaction(CountingFinder(), "tag"))
    assert out == [
        "Sent the quote to <EMAIL_ADDRESS> and to <PERSON>",
        "Old handset <IMEI> returned to the depot",
    ]


def test_the_same_value_gets_the_same_token_and_numbers_join_their_column() -> None:
    texts = [
        "Called Jane Doe on (212) 555-0147",
        "Jane Doe asked to move 212-555-0147",
        "mail Jane.Doe@Acme.example.com or jane.doe@acme.example.com",
    ]
    out = redact_texts(texts, KEY, Redaction(CountingFinder(), "token"))
    found = [re.findall(r"<(\w+) (k1-[0-9a-f]{32})>", text) for text in out]
    person = {t for spans in found for e, t in spans if e == "PERSON"}
    phones = {t for spans in found for e, t in spans if e == "PHONE_NUMBER"}
    mails = {t for spans in found for e, t in spans if e == "EMAIL_ADDRESS"}
    assert len(person) == len(phones) == len(mails) == 1  # written two ways, one token
    # The number's token is the hmac'd wireless_number column's: analysts can join on it.
    assert phones == {tokens(["2125550147"], KEY, "PHONE_NUMBER")["2125550147"]}
    assert person != phones


def test_redact_runs_once_per_distinct_value_not_per_row() -> None:
    finder = CountingFinder()
    series = pl.Series("notes", notes(4000), dtype=pl.String)
    out = apply(series, "redact", "FREE_TEXT", KEY, "devices", Redaction(finder, "token"))
    assert len(finder.batches) == 1  # one batch: the model runs over it with nlp.pipe
    assert sorted(finder.texts) == sorted(series.drop_nulls().unique().to_list())
    assert len(finder.texts) == 7 and out.len() == 4000
    assert out.null_count() == series.null_count()  # nulls stay null
    kept = [t for t in out.drop_nulls().to_list() if "<" not in t]
    assert set(kept) == {
        "Customer asked about roaming charges on the last bill",
        "Device upgrade approved by the cost center owner",
        "Line suspended after the device was reported lost",
    }
    assert not [v for v in PLANTED for text in out.drop_nulls() if v in text]


def test_redact_without_a_span_finder_fails_closed() -> None:
    frame = pl.DataFrame({"notes": ["Called Jane Doe"]})
    plan = [ColumnPlan("notes", "FREE_TEXT", "redact", "detection")]
    with pytest.raises(PolicyError, match=r"d\.notes: redact needs the NLP engines"):
        pseudonymize_frame(frame, plan, KEY, "d")


def _restricted(storage: MemoryStorage, rows: int, period: str = "2026-10") -> str:
    """One restricted invoice_lines file whose extras hold a notes column."""
    columns: dict[str, Any] = {
        name: pl.Series(name, [None] * rows, dtype=dtype)
        for name, dtype in DATASETS["invoice_lines"].items()
    }
    columns["wireless_number"] = pl.Series(["2125550147"] * rows)
    columns["bill_cycle_date"] = pl.Series([datetime(2026, 10, 16).date()] * rows)
    extras = [json.dumps({"notes": n, "region": "East"}) for n in notes(rows)]
    frame = pl.DataFrame({**columns, EXTRAS: extras})
    key = keys.partition_file("restricted", "invoice_lines", "acme", period, "part-0")
    storage.write_bytes(key, _parquet(frame))
    return key


def _parquet(frame: pl.DataFrame) -> bytes:
    import io

    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


ACTIONS = {
    "PHONE_NUMBER": "hmac",
    "EMPLOYEE_ID": "hmac",
    "PERSON": "drop",
    "EMAIL_ADDRESS": "drop",
    "FREE_TEXT": "redact",
}
DETECTED = {"extras.notes": "FREE_TEXT", "extras.region": None}


def test_a_notes_column_in_extras_is_redacted_in_the_analytics_zone() -> None:
    storage = MemoryStorage()
    source = _restricted(storage, 800)
    finder = CountingFinder()
    result = pseudonymize_dataset(
        storage, "acme", "invoice_lines", KEY, DETECTED, ACTIONS, {}, finder=finder
    )
    assert result.files_written == 1
    plans = {p.column: p.action for p in result.columns}
    assert plans["extras.notes"] == "redact" and plans["extras.region"] == "keep"
    assert len(finder.texts) == 7  # 800 rows, 7 distinct notes
    analytics = pl.read_parquet(storage.read_bytes(keys.mirror(source, "analytics")))
    extras = [json.loads(e) for e in analytics[EXTRAS]]
    assert {e["region"] for e in extras} == {"East"}
    texts = [e["notes"] for e in extras if e["notes"] is not None]
    assert len(texts) == 700
    assert not [v for v in PLANTED for t in texts if v in t]
    number = tokens(["2125550147"], KEY, "PHONE_NUMBER")["2125550147"]
    assert set(analytics["wireless_number"]) == {number}
    assert any(f"<PHONE_NUMBER {number}>" in t for t in texts)  # joins the line


def test_changing_the_redaction_style_writes_the_files_again() -> None:
    storage = MemoryStorage()
    source = _restricted(storage, 40)
    sources: dict[str, Any] = {}

    def run(style: str) -> int | None:
        result = pseudonymize_dataset(
            storage,
            "acme",
            "invoice_lines",
            KEY,
            DETECTED,
            ACTIONS,
            {},
            sources=sources,
            finder=CountingFinder(),
            redaction=style,
        )
        return result.files_written

    assert run("token") == 1 and run("token") == 0
    assert run("tag") == 1
    analytics = pl.read_parquet(storage.read_bytes(keys.mirror(source, "analytics")))
    assert any("<PERSON>" in e for e in analytics[EXTRAS])


def test_the_redaction_style_is_configured_in_actions_yaml(tmp_path: Path) -> None:
    configs = tmp_path / "configs"
    shutil.copytree(CONFIGS, configs)
    assert load_config(configs).redaction == "token"
    assert load_config(configs).entity_actions()["FREE_TEXT"] == "redact"
    actions = configs / "actions.yaml"
    actions.write_text(actions.read_text().replace("redaction: token", "redaction: tag"))
    assert load_config(configs).redaction == "tag"
    actions.write_text(actions.read_text().replace("redaction: tag", "redaction: stars"))
    with pytest.raises(Exception, match="redaction"):
        load_config(configs)


# -- the real model ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def engines() -> Any:
    from piiscan.nlp import Engines

    return Engines()


@pytest.mark.integration
def test_the_engines_run_spacy_once_over_the_batch_with_nlp_pipe(
    engines: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    nlp = engines.nlp()
    calls: list[int] = []

    class Spy:
        pipe_names = nlp.pipe_names

        def pipe(self, texts: Any, **kw: Any) -> Any:
            texts = list(texts)
            calls.append(len(texts))
            return nlp.pipe(texts, **kw)

    def one_by_one(*_: Any, **__: Any) -> Any:
        raise AssertionError("the model ran once per text")

    monkeypatch.setattr(engines, "nlp", lambda: Spy())
    monkeypatch.setattr(engines.nlp_engine, "process_text", one_by_one)
    texts = [t for t in notes(8) if t is not None]
    found = engines.find_spans(texts)
    assert calls == [len(texts)]
    assert [s.entity for s in found[2]] == ["PERSON", "PHONE_NUMBER"]


@pytest.mark.integration
def test_presidio_and_our_recognizers_find_every_planted_span(engines: Any) -> None:
    texts = [
        "Called Jane Doe on (212) 555-0147 about the overage",
        "Sent the quote to jane.doe@acme.example.com today",
        "Old handset 490154203237518 returned to the depot",
        "Card on file 4111 1111 1111 1111 was declined",
        "Refund to IBAN DE89 3704 0044 0532 0130 00 approved",
        "Payroll check: SSN 536-90-4399 on the form",
    ]
    found = [
        [(s.entity, t[s.start : s.end]) for s in spans]
        for t, spans in zip(texts, engines.find_spans(texts), strict=True)
    ]
    assert ("PERSON", "Jane Doe") in found[0] and ("PHONE_NUMBER", "(212) 555-0147") in found[0]
    assert found[1] == [("EMAIL_ADDRESS", "jane.doe@acme.example.com")]
    assert found[2] == [("IMEI", "490154203237518")]  # a Luhn-valid IMEI is no card
    assert found[3] == [("CREDIT_CARD", "4111 1111 1111 1111")]
    assert found[4] == [("IBAN", "DE89 3704 0044 0532 0130 00")]
    assert found[5] == [("US_SSN", "536-90-4399")]


# -- a whole night over a lake with a notes column -----------------------------------------------

CUSTOMER = "initech"
NIGHT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def _night_notes(extract: pl.DataFrame, rows: int) -> tuple[pl.DataFrame, list[str]]:
    """The customer's extract grown to `rows` rows with a notes column in which one value in
    ten names the row's user, their number, an e-mail or an IMEI (the planted spans returned),
    and an ESN/IMEI column the carrier masks (header-only evidence)."""
    from piiscan.testing.model import World

    world = World(1616)
    grown = pl.concat([extract] * (rows // extract.height + 1)).head(rows)
    plain = [
        "Customer asked about the roaming charges on the last bill cycle, ticket {i}",
        "Device upgrade approved by the cost center owner for order {i} this week",
        "Line suspended after the device was reported lost by the branch, case {i}",
        "Plan moved to the pooled data plan from the next bill cycle onwards, ref {i}",
    ]
    texts, planted = [], []
    for i, (name, number) in enumerate(grown.select("user_name", "wireless_number").iter_rows()):
        if i % 10:
            texts.append(plain[i % len(plain)].format(i=i))
            continue
        imei, mail = world.imei(), f"user{i}@{CUSTOMER}.example.com"
        dashed = f"{number[:3]}-{number[3:6]}-{number[6:]}"
        first = name.split()[0].title() if " " in name else name.title()
        kind = (i // 10) % 4
        if kind == 0:
            text, spans = f"Called {name.title()} about line {dashed} and the overage", [dashed]
            spans.append(name.title())
        elif kind == 1:
            text, spans = f"Sent the new plan details to {mail} as the manager asked", [mail]
        elif kind == 2:
            text = f"Swapped the handset, old IMEI {imei} returned to the depot on Friday"
            spans = [imei]
        else:
            text = f"{name.title()} asked for a new SIM card, call back on {dashed} tomorrow"
            spans = [name.title(), dashed, first]
        texts.append(text)
        planted += spans
    frame = grown.with_columns(
        pl.Series("Notes", texts),
        pl.Series(
            "ESN/IMEI", ["N/A", "000000000000000", "unknown", "***********1234"] * (rows // 4)
        ),
    )
    return frame, planted


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory, fixture_tree: Path) -> dict[str, Any]:
    from piiscan.lake.keyring import load_key
    from piiscan.lake.keys import new_run_id
    from piiscan.pipeline.nightly import run_customer
    from piiscan.pipeline.scan import detector_for
    from piiscan.storage import LocalStorage
    from piiscan.testing.stage import stage_fixtures

    root = tmp_path_factory.mktemp("redact-night")
    only = root / "fixtures"
    shutil.copytree(fixture_tree / CUSTOMER, only / CUSTOMER)
    extract_path = next((only / CUSTOMER / "generic").glob("*.parquet"))
    frame, planted = _night_notes(pl.read_parquet(extract_path), 400)
    frame.write_parquet(extract_path)
    storage = LocalStorage(root / "lake")
    stage_fixtures(storage, only)
    config = load_config(CONFIGS)
    result = run_customer(
        storage,
        config,
        config.customer(CUSTOMER),
        new_run_id(NIGHT),
        NIGHT,
        load_key(CUSTOMER),
        detector_for(config, CUSTOMER),
    )
    report = json.loads(storage.read_bytes(result.report_key))
    return {"storage": storage, "report": report, "planted": planted, "key": load_key(CUSTOMER)}


def _column(report: dict[str, Any], name: str) -> dict[str, Any]:
    (column,) = [c for c in report["datasets"]["invoice_lines"]["columns"] if c["name"] == name]
    return column


@pytest.mark.integration
def test_the_night_classifies_the_notes_as_free_text_to_redact(night: dict[str, Any]) -> None:
    notes = _column(night["report"], "extras.notes")
    assert notes["kind"] == "free_text" and notes["action"] == "redact", notes
    evidence = notes["evidence"]
    assert evidence["free_text"] is True and evidence["threshold"] == {"share": 0.02}
    assert {"PERSON", "PHONE_NUMBER", "EMAIL_ADDRESS", "IMEI"} <= set(evidence["shares"])
    assert all(0.02 <= share <= 0.1 for share in evidence["shares"].values()), evidence


@pytest.mark.integration
def test_the_night_flags_the_masked_esn_column_from_its_header(night: dict[str, Any]) -> None:
    column = _column(night["report"], "extras.esn_imei")
    assert column["entity"] == "IMEI" and column["source"] == "header"
    assert column["confidence"] < 0.6 and column["evidence"]["header_only"] is True
    assert column["drift"] == ["header_only"]
    pending = night["report"]["review"]["pending"]
    assert {"dataset": "invoice_lines", "column": "extras.esn_imei"}.items() <= pending[0].items()
    assert night["report"]["needs_review"] is True


@pytest.mark.integration
def test_the_nights_report_with_free_text_and_header_only_columns_matches_the_schema(
    night: dict[str, Any],
) -> None:
    jsonschema.validate(
        night["report"],
        json.loads(
            (Path(__file__).parent.parent / "src/piiscan/schemas/report.schema.json").read_text()
        ),
    )
    text = json.dumps(night["report"])
    assert not [v for v in night["planted"] if v in text]


@pytest.mark.integration
def test_the_analytics_zone_keeps_the_notes_with_no_planted_span_left(
    night: dict[str, Any],
) -> None:
    storage = night["storage"]
    analytics = pl.scan_parquet(
        storage.uri("analytics/invoice_lines"), hive_partitioning=True
    ).collect()
    extras = [json.loads(e) for e in analytics.filter(pl.col("customer") == CUSTOMER)[EXTRAS]]
    texts = [e["notes"] for e in extras if e.get("notes")]
    assert len(texts) >= 400
    left = sorted({v for v in night["planted"] for t in texts if v in t})
    assert not left, left
    redacted = [t for t in texts if "<" in t]
    assert len(redacted) >= 40 and all(re.search(rf"<[A-Z_]+ {TOKEN[:2]}\d*-", t) for t in redacted)
    assert any(t.startswith("Customer asked about the roaming charges") for t in texts)
    # A number's token in the notes is the line's token in wireless_number.
    lines = set(analytics["wireless_number"].drop_nulls())
    phones = {m for t in texts for m in re.findall(r"<PHONE_NUMBER (k\d+-[0-9a-f]{32})>", t)}
    assert phones and phones <= lines
