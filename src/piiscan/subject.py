"""Subject rights (the stage): who a request names, and which rows are theirs.

piiscan.pipeline.subject finds, exports and erases; piiscan.lake.requests keeps the records.

A request names one person of a customer by one identifier (employee ID, wireless number, e-mail
or IMEI). The person's other identifiers are found through the invoice, device and charge rows
that carry the identifier (employee ID first: a number or device names its holder's employee
ID, which names the person's other numbers, devices and e-mails). Their rows are then found in
every dataset of the restricted zone, in the analytics zone (by token) and among the rows
quarantined at ingest.

Erasure deletes the person's rows where no hold applies, pseudonymizes their personal columns
under a tax or billing hold, and keeps rows under a legal or audit hold as they are: the purge
machinery decides and applies (journaled, atomic, ledgered), with every row of the person
treated as if its retention clock had run out and every other row left alone.

Inside free text (notes and comments in `extras`, descriptions and addresses) the
person is found by their names, numbers as people write them, e-mails and IDs, and in the
analytics zone by the tokens redaction gave them (`mentions_of`); an export gives those cells
only, an erasure replaces each mention in place (`redact_mentions`).

Requests are recorded: while one is pending its selector lives only in the restricted zone
(`restricted/requests/<customer>/<id>.json`); once it completes,
`state/requests/<customer>/<id>.json` keeps what was asked, when, the outcome and a keyed hash of
the selector (kept 24 months), and the pending record is deleted. Nothing outside the restricted
zone and the export bundle holds the identifier.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from piiscan.errors import PiiscanError
from piiscan.phones import EXPECTED as EXPECTED_NUMBER
from piiscan.phones import canonical_number, canonical_numbers
from piiscan.pseudonymize import Key, tokens
from piiscan.purge import PurgePlan
from piiscan.retention import cycle_month

KINDS = {  # selector kind -> (canonical column, entity)
    "employee_id": ("employee_id", "EMPLOYEE_ID"),
    "number": ("wireless_number", "PHONE_NUMBER"),
    "email": ("email", "EMAIL_ADDRESS"),
    "imei": ("imei", "IMEI"),
}
# Columns that name a person's rows, and the entity of their tokens in the analytics zone.
IDENTIFYING = {
    "employee_id": "EMPLOYEE_ID",
    "wireless_number": "PHONE_NUMBER",
    "email": "EMAIL_ADDRESS",
    "imei": "IMEI",
    "iccid": "ICCID",
    "imsi": "IMSI",
}
LINKING = ("invoice_lines", "devices", "charge_items")  # datasets that tie identifiers together
PURPOSES = {
    "invoice_lines": "billing reconciliation and cost allocation for the customer; tax records",
    "charge_items": "billing reconciliation (charges per line)",
    "usage_events": "usage and cost analytics (pseudonymized); billing disputes",
    "devices": "device and SIM inventory for the customer's mobility management",
}


class RequestError(PiiscanError):
    """A subject request is malformed, unknown, or already complete."""


@dataclass(frozen=True)
class Selector:
    """One identifier of the person (normalized); repr never shows the value."""

    kind: str
    value: str = field(repr=False)

    @classmethod
    def of(cls, kind: str, value: str) -> Selector:
        if kind not in KINDS:
            raise RequestError(f"unknown selector {kind!r}; expected one of {', '.join(KINDS)}")
        text = value.strip()
        if kind == "number":
            number = canonical_number(text)
            if number is None:
                raise RequestError(f"a wireless number must be {EXPECTED_NUMBER}")
            text = number
        elif kind == "imei":
            text = re.sub(r"\D", "", text)
            if len(text) not in (14, 15, 16):
                raise RequestError("an IMEI needs 14 to 16 digits")
        elif kind == "email":
            text = text.lower()
            if "@" not in text:
                raise RequestError("an e-mail address needs an @")
        if not text:
            raise RequestError(f"an empty {kind}")
        return cls(kind, text)

    def token(self, key: Key) -> str:
        """The keyed hash that stands for the selector in records and the ledger."""
        return tokens([self.value], key, KINDS[self.kind][1])[self.value]


@dataclass
class Identity:
    """Everything that identifies the person, per column (raw values), and who held the
    person's numbers per month (for recycled numbers)."""

    values: dict[str, set[str]] = field(default_factory=dict)
    holders: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (bill month, number)

    def add(self, column: str, items: Iterator[Any] | list[Any]) -> None:
        self.values.setdefault(column, set()).update(str(v) for v in items if v is not None)

    def match(self, key: Key) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Rules.subject: per column the raw values and their tokens (for the analytics zone)."""
        pairs = []
        for column, entity in IDENTIFYING.items():
            raw = sorted(self.values.get(column, set()))
            if raw:
                hashed = tokens(raw, key, entity).values()
                pairs.append((column, tuple(raw) + tuple(sorted(hashed))))
        return tuple(pairs)

    def elsewhere(self, key: Key) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Rules.subject_elsewhere: per month the person's numbers (raw and tokens) that rows
        of that month give to other employees only."""
        raw = sorted(self.values.get("employee_id", set()))
        ids = set(raw) | set(tokens(raw, key, "EMPLOYEE_ID").values())
        months: dict[str, set[str]] = {}
        for (period, number), named in self.holders.items():
            if named and not named & ids:
                months.setdefault(period, set()).add(number)
        return tuple(
            (
                period,
                tuple(sorted(numbers | set(tokens(sorted(numbers), key, "PHONE_NUMBER").values()))),
            )
            for period, numbers in sorted(months.items())
        )

    def counts(self) -> dict[str, int]:
        return {c: len(v) for c, v in sorted(self.values.items()) if v}

    def as_json(self) -> dict[str, Any]:
        """JSON form (raw values: it belongs with the pending request, in the restricted zone)."""
        return {
            "values": {c: sorted(v) for c, v in sorted(self.values.items())},
            "holders": [[m, n, sorted(who)] for (m, n), who in sorted(self.holders.items())],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Identity:
        """The identity as_json wrote."""
        return cls(
            {c: set(v) for c, v in data["values"].items()},
            {(m, n): set(who) for m, n, who in data["holders"]},
        )


def identify(frames: list[pl.DataFrame], selector: Selector) -> Identity:
    """The person's identifiers, from restricted rows of the linking datasets (LINKING)."""
    column = KINDS[selector.kind][0]

    def carrying(frame: pl.DataFrame, col: str, values: set[str]) -> pl.DataFrame:
        if col not in frame.columns:
            return frame.clear()
        text = pl.col(col).cast(pl.String)
        return frame.filter(
            text.str.to_lowercase().is_in(list(values))
            if col == "email"
            else text.is_in(list(values))
        )

    anchors = [carrying(f, column, {selector.value}) for f in frames]
    if selector.kind == "email":  # customers that use e-mails as employee IDs
        anchors += [carrying(f, "employee_id", {selector.value}) for f in frames]
    identity = Identity({column: {selector.value}})

    def employees(frames: list[pl.DataFrame]) -> set[str]:
        return {
            v for f in frames if "employee_id" in f.columns for v in f["employee_id"].drop_nulls()
        }

    people = employees(anchors)
    if not people:  # e.g. a device row without an employee ID: its line's rows name them
        lines = {v for a in anchors if "wireless_number" in a.columns for v in a["wireless_number"]}
        people = employees([carrying(f, "wireless_number", lines - {None}) for f in frames])
    if len(people) > 1 and selector.kind != "employee_id":
        # A recycled number or a reassigned device: which holder is meant is not ours to guess.
        raise RequestError(
            f"the {selector.kind} names {len(people)} employees over time (a recycled number "
            "or a reassigned device); name the person by --employee-id"
        )
    rows = anchors + [carrying(f, "employee_id", people) for f in frames] if people else anchors
    for frame in rows:
        for col in (*IDENTIFYING, "user_name"):  # names: to find the person in free text
            if col in frame.columns:
                identity.add(col, frame[col].drop_nulls().to_list())
    # Rows naming no employee that carry one of the person's e-mails or device identifiers are
    # the person's too: their numbers and devices join the identity (the analytics zone has no
    # e-mails, so it is matched through them), until nothing new turns up.
    used: set[tuple[str, str]] = set()
    while True:
        before = identity.counts()
        for col in ("email", "imei", "iccid", "imsi"):
            fresh = {v for v in identity.values.get(col, set()) if (col, v) not in used}
            used |= {(col, v) for v in fresh}
            wanted = {v.lower() for v in fresh} if col == "email" else fresh
            for frame in frames:
                hit = carrying(frame, col, wanted)
                if "employee_id" in hit.columns:
                    named = pl.col("employee_id").cast(pl.String)
                    hit = hit.filter(named.is_null() | named.is_in(list(people)))
                for c in IDENTIFYING:
                    if c in hit.columns:
                        identity.add(c, hit[c].drop_nulls().to_list())
        if identity.counts() == before:
            break
    numbers = identity.values.get("wireless_number", set())
    for frame in frames:
        if numbers and {"employee_id", "wireless_number"} <= set(frame.columns):
            held = (
                carrying(frame, "wireless_number", numbers)
                .filter(pl.col("employee_id").is_not_null())
                .group_by(cycle_month(frame.columns).alias("month"), "wireless_number")
                .agg(pl.col("employee_id").cast(pl.String).unique())
            )
            for period, number, named in held.iter_rows():
                identity.holders.setdefault((period, number), set()).update(named)
    return identity


@dataclass
class Found:
    """The person's rows, per zone and dataset, within a lookback."""

    rows: dict[str, pl.DataFrame] = field(default_factory=dict)  # "<zone>/<dataset>" -> rows
    quarantined: pl.DataFrame | None = None
    unattributed: int = 0  # rejected rows on a recycled number of theirs, nothing else to tell
    other_party: int = 0  # usage rows of other lines where the person is the other number
    sources: set[str] = field(default_factory=set)  # restricted files holding the person's rows
    # Free text of other rows that mentions the person: "<zone>/<dataset>" -> period, column
    # and the text (only that cell: the rest of the row is someone else's).
    mentions: dict[str, pl.DataFrame] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        counts = {name: frame.height for name, frame in sorted(self.rows.items())}
        if self.quarantined is not None:
            counts["quarantine/rejected_rows"] = self.quarantined.height
        return counts


def quarantine_match(frame: pl.DataFrame, identity: Identity) -> tuple[pl.Expr, pl.Expr]:
    """Which rejected rows (kept as delivered) are the person's, and which are on a recycled
    number of theirs with nothing else to tell whose they are (left alone, counted).

    Values match as delivered, numbers in their canonical form (so (212) 555-0147 and
    212.555.0147 x12 count too). A row holding another holder's employee ID of one of the
    person's numbers is never the person's."""
    ids = identity.values.get("employee_id", set())
    others = sorted({e.lower() for named in identity.holders.values() for e in named - ids})
    recycled = {n for (_, n), named in identity.holders.items() if named - ids}
    numbers = identity.values.get("wireless_number", set())
    strong = sorted(  # a name alone is no identifier: namesakes exist
        v.lower()
        for column, values in identity.values.items()
        if column not in ("wireless_number", "user_name")
        for v in values
    )
    own, shared = sorted(numbers - recycled), sorted(numbers & recycled)
    found: dict[str, list[pl.Expr]] = {"strong": [], "own": [], "shared": [], "other": []}
    for column in frame.columns:
        text = pl.col(column).cast(pl.String).str.strip_chars()
        lowered = text.str.to_lowercase()
        national = canonical_numbers(text)
        found["strong"].append(lowered.is_in(strong).fill_null(False))
        found["own"].append(national.is_in(own).fill_null(False))
        found["shared"].append(national.is_in(shared).fill_null(False))
        found["other"].append(lowered.is_in(others).fill_null(False))
    if not frame.columns:
        return pl.lit(False), pl.lit(False)
    strong_hit, own_hit, shared_hit, other_hit = (
        pl.any_horizontal(found[k]) for k in ("strong", "own", "shared", "other")
    )
    hit = (strong_hit | own_hit) & ~other_hit
    unsure = shared_hit & ~strong_hit & ~own_hit & ~other_hit
    return hit, unsure


# Where free text lives: `extras`, the JSON of a layout's own columns (notes, comments), and the
# canonical columns written as prose. Never keys, codes or identifiers: an account number that
# happens to be the person's wireless number is the account's, not a mention of them.
FREE_TEXT = frozenset({"extras", "item_description", "ship_to_address"})
ERASED = "<ERASED>"  # what an erased mention becomes in the restricted zone


@dataclass(frozen=True)
class Mentions:
    """How the person is written inside free text: raw forms (restricted zone) as one regex,
    and the keyed tokens a redacted analytics text holds (`<PERSON k1-...>`); repr never
    shows a value. Empty when the identity gives nothing safe to search for."""

    raw: str | None = field(default=None, repr=False)
    tokens: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    def __bool__(self) -> bool:
        return self.raw is not None or bool(self.tokens)


def name_forms(name: str) -> set[str]:
    """The ways a person's name is written in a note: as stored, and `LAST, FIRST` turned
    round (`DOE, JANE` -> `JANE DOE`). Only names of two words or more: a first name alone
    names too many people to erase."""
    text = " ".join(name.split())
    forms = {text}
    if "," in text:
        last, _, first = text.partition(",")
        forms.add(f"{first.strip()} {last.strip()}")
    return {f for f in forms if len(f.split()) >= 2 and len(f) >= 5}


def _number_pattern(number: str) -> str:
    """A 10-digit NANP number as people write it (+1, brackets, dots, dashes, spaces)."""
    area, exchange, line = number[:3], number[3:6], number[6:]
    gap = r"[\s.\-]?"
    return rf"(?:\+?1{gap})?\(?{area}\)?{gap}{exchange}{gap}{line}"


def mentions_of(identity: Identity, key: Key) -> Mentions:
    """What to look for in free text: the person's names (two words or more), wireless
    numbers in any usual writing, e-mails, employee IDs and device identifiers (whole words);
    and, for the analytics zone, the tokens redaction gave the same values."""
    names = {f for n in identity.values.get("user_name", set()) for f in name_forms(n)}
    numbers = sorted(identity.values.get("wireless_number", set()))
    words = sorted(
        v
        for column in ("email", "employee_id", "imei", "iccid", "imsi")
        for v in identity.values.get(column, set())
        if len(v) >= 4  # a short ID would match inside ordinary words and amounts
    )
    parts = [r"\s+".join(re.escape(w) for w in n.split()) for n in sorted(names)]
    parts += [_number_pattern(n) for n in numbers if len(n) == 10]
    parts += [re.escape(w) for w in words]
    raw = rf"(?i)(^|[^0-9A-Za-z_])(?:{'|'.join(parts)})([^0-9A-Za-z_]|$)" if parts else None
    spelled = {f for n in names for f in (n, n.upper(), n.title(), n.lower())}
    emails = sorted({e.lower() for e in identity.values.get("email", set())})
    issued = {
        "PERSON": tuple(tokens(sorted(spelled), key, "PERSON").values()),
        "PHONE_NUMBER": tuple(tokens(numbers, key, "PHONE_NUMBER").values()),
        "EMAIL_ADDRESS": tuple(tokens(emails, key, "EMAIL_ADDRESS").values()),
        "EMPLOYEE_ID": tuple(
            tokens(sorted(identity.values.get("employee_id", set())), key, "EMPLOYEE_ID").values()
        ),
    }
    return Mentions(raw, {e: t for e, t in issued.items() if t})


def free_text_columns(schema: pl.Schema) -> list[str]:
    """The frame's text columns that may hold free text (see FREE_TEXT)."""
    return [c for c, t in schema.items() if t == pl.String and c in FREE_TEXT]


def _token_pattern(mentions: Mentions) -> str | None:
    """The analytics zone's redacted spans of the person: `<ENTITY token>`."""
    parts = [
        rf"<{entity} {re.escape(t)}>" for entity, issued in mentions.tokens.items() for t in issued
    ]
    return "|".join(parts) if parts else None


def mention_hit(schema: pl.Schema, mentions: Mentions, zone: str) -> pl.Expr:
    """Rows whose free text mentions the person (raw forms; in analytics, their tokens too)."""
    pattern = _token_pattern(mentions) if zone == "analytics" else None
    hits = []
    for column in free_text_columns(schema):
        text = pl.col(column)
        if mentions.raw is not None:
            hits.append(text.str.contains(mentions.raw).fill_null(False))
        if pattern is not None:
            hits.append(text.str.contains(pattern).fill_null(False))
    return pl.any_horizontal(hits) if hits else pl.lit(False)


def redact_mentions(frame: pl.DataFrame, mentions: Mentions, zone: str) -> pl.DataFrame:
    """The frame with every mention of the person in its free text replaced in place: raw
    forms by <ERASED>, an analytics token span by its bare tag (`<PERSON k1-...>` ->
    `<PERSON>`, the keyed token gone). The rest of each text, and every other column, stays."""
    out = []
    for column in free_text_columns(frame.schema):
        text = pl.col(column)
        if mentions.raw is not None:  # twice: two mentions one character apart share it
            for _ in range(2):
                text = text.str.replace_all(mentions.raw, f"${{1}}{ERASED}${{2}}")
        if zone == "analytics":
            for entity, issued in mentions.tokens.items():
                for token in issued:
                    text = text.str.replace_all(f"<{entity} {token}>", f"<{entity}>", literal=True)
        out.append(text.alias(column))
    return frame.with_columns(out) if out else frame


def lookback_start(today: date, months: int) -> date:
    """The first day of the month `months` months before today's month."""
    total = today.year * 12 + today.month - 1 - months
    return date(total // 12, total % 12 + 1, 1)


@dataclass(frozen=True)
class ErasePlan:
    """A purge plan for the person's rows, and the restricted files that hold any of them."""

    purge: PurgePlan
    sources: frozenset[str]


def erase_summary(plan: PurgePlan) -> dict[str, Any]:
    """The plan's counts: rows deleted, rows kept per hold, files changed (no values)."""
    restricted = [f for f in plan.files if f.zone == "restricted"]
    return {
        "rows_deleted": sum(f.deleted for f in restricted),
        "rows_deleted_analytics": sum(f.deleted for f in plan.files if f.zone == "analytics"),
        "rows_kept": plan.kept,
        "files_changed": len(plan.files),
        "reasons": plan.reasons,
        "nothing_to_do": not plan.files,
    }


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA = r"^[=+\-@\t\r]"
_NUMBER = r"^[+-]?\d+(\.\d+)?$"


def csv_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with every text cell a spreadsheet would run as a formula prefixed by a quote
    (`=HYPERLINK(...)` -> `'=HYPERLINK(...)`); signed numbers are left as they are."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(_FORMULA) & ~pl.col(c).str.contains(_NUMBER))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text
    )
