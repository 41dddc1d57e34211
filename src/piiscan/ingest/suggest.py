"""Drafting a layout for a delimited file no layout fits, from a sample of its lines.

The draft guesses the encoding, delimiter, preamble and header line (the sniffing of
piiscan.scan), then each column's canonical name from its header words (the entity registry's
and a small vocabulary of canonical synonyms below) and from its values (the detector: phone
numbers, IMEIs, e-mails...), its kind and value format from the data (dates, times, money with
a decimal comma or point, durations), and the dataset from the columns found. Every guess carries
a confidence; a guess worth a second look is marked CHECK. The YAML it renders loads as a
configs/layouts file (piiscan.layouts.files) once the CHECK lines are settled.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from dataclasses import dataclass, field

import polars as pl

from piiscan.detect import Detector
from piiscan.detect.headers import header_evidence, header_words
from piiscan.errors import IngestError
from piiscan.layouts import Kind
from piiscan.scan import looks_like_header, sniff_separator
from piiscan.schema import DATASETS, PERIOD_COLUMN, snake_case

SAMPLE_ROWS = 500
CHECK_BELOW = 0.75  # guesses less sure than this are marked CHECK
# Canonical columns by the header words that name them (after piiscan.detect.headers folding).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "account_number": ("acct", "account", "accountnumber", "acctno", "ban", "konto", "compte"),
    "invoice_number": ("invoice", "invoiceno", "bill number", "facture", "rechnung"),
    "invoice_status": ("status invoice", "invoice status", "paid"),
    "wireless_number": ("line", "mobile", "msisdn", "ctn", "wireless", "cell", "phone", "mdn"),
    "other_number": ("dest", "destination", "dialed", "called", "party", "to number", "other"),
    "user_name": ("subscriber", "user", "name", "employee name", "holder"),
    "employee_id": ("employee id", "emp id", "userid", "staff"),
    "cost_center": ("cost center", "cost centre", "costcenter", "department", "dept"),
    "plan": ("plan", "tariff", "rate plan", "package"),
    "charge": ("amount", "charge", "charges", "cost", "total", "price", "betrag", "montant"),
    "tax": ("tax", "taxes", "vat", "gst", "hst", "mwst"),
    "minutes": ("minutes", "min", "mins", "duration", "secs", "seconds", "sec", "airtime"),
    "messages": ("messages", "sms count", "msgs", "texts"),
    "data_kb": ("kb", "data", "volume", "mb", "bytes"),
    "kind": ("type", "usage type", "category", "service", "kind"),
    "direction": ("direction", "in out", "inout"),
    "make": ("make", "manufacturer", "brand"),
    "model": ("model", "device model"),
    "imei": ("imei",),
    "iccid": ("iccid", "sim"),
    "imsi": ("imsi",),
    "email": ("email", "mail"),
    "status": ("status", "state"),
    "item_category": ("item category",),
    "item_description": ("description", "item description"),
}
# Entities of values the detector finds, and the canonical column they name.
ENTITY_COLUMNS = {
    "IMEI": "imei",
    "ICCID": "iccid",
    "IMSI": "imsi",
    "EMAIL_ADDRESS": "email",
    "EMPLOYEE_ID": "employee_id",
    "PERSON": "user_name",
    "LOCATION": "ship_to_address",
}
# Columns that say which dataset a file is (its period column says it too).
DATASET_HINTS = {
    "usage_events": {"other_number", "kind", "direction", "_time", "_duration"},
    "invoice_lines": {"invoice_number", "plan", "cost_center", "tax", "employee_id"},
    "devices": {"imei", "iccid", "imsi", "make", "model", "email"},
    "charge_items": {"item_category", "item_description"},
}
DATE_FORMATS = (
    "%Y-%m-%d", "%d.%m.%Y", "%m/%d/%Y", "%d/%m/%Y", "%Y%m%d", "%b %d, %Y", "%d-%m-%Y",
    "%m/%d/%y", "%d.%m.%y", "%Y/%m/%d",
)  # fmt: skip
TIME_FORMATS = ("%H:%M:%S", "%H:%M", "%I:%M %p", "%I:%M:%S %p", "%I:%M%p")
DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%d.%m.%Y %H:%M", "%m/%d/%Y %H:%M")
MONEY_SHAPES = (
    ("1.234,56", r"^[-(]?[$€£]?\s?\d{1,3}(\.\d{3})*,\d{2}\)?$"),
    ("1 234,56", r"^[-(]?[$€£]?\s?\d{1,3}( \d{3})+,\d{2}\)?$"),
    ("1,234.56", r"^[-(]?[$€£]?\s?\d{1,3}(,\d{3})*\.\d{2}\)?$"),
    ("1234,56", r"^[-(]?[$€£]?\s?\d+,\d{2}\)?$"),
)


@dataclass(frozen=True)
class Guess:
    """What one delivered column is taken to be."""

    header: str
    canonical: str | None  # None: kept in extras
    kind: Kind = "text"
    fmt: str | None = None
    confidence: float = 0.0
    why: str = ""
    check: str | None = None  # what a person should look at
    required: bool = False


@dataclass(frozen=True)
class Draft:
    """A layout drafted from a file's sample; `yaml()` renders it for configs/layouts/."""

    file: str
    name: str
    carrier: str
    dataset: str | None
    dataset_confidence: float
    file_pattern: str
    delimiter: str
    encoding: str
    preamble_lines: int
    header_lines: int
    columns: tuple[Guess, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def unmapped(self) -> list[str]:
        """Headers kept as extras."""
        return [g.header for g in self.columns if g.canonical is None]

    @property
    def flagged(self) -> int:
        """Lines marked CHECK."""
        return self.yaml().count("# CHECK:")

    def yaml(self) -> str:
        """The draft as a configs/layouts YAML file, one column a line, a comment on each."""
        q = json.dumps  # a JSON string is a YAML double-quoted scalar
        lines = [
            f"# Drafted by `piiscan layouts suggest` from {self.file}. Settle every line marked",
            "# CHECK, then keep this file in configs/layouts/ (see README, Carrier layouts).",
            *[f"# {note}" for note in self.notes],
            f"name: {self.name}  # CHECK: the layout's name (from the file name)",
            f"carrier: {self.carrier}  # CHECK: the carrier (from the file name); the customers "
            "who send these files list it under carriers in customers.yaml",
            f"dataset: {self.dataset or 'null'}  # "
            + _comment("guessed from the columns", self.dataset_confidence),
            f"file_pattern: {q(self.file_pattern)}  # the file name with its digits generalised",
            "format: csv",
            f"delimiter: {q(self.delimiter)}",
            f"encoding: {self.encoding}",
            f"header_lines: {self.header_lines}",
            f"preamble_lines: {self.preamble_lines}",
            "columns:",
        ]
        for guess in self.columns:
            if guess.canonical is None:
                continue
            parts = [f"header: {q(guess.header)}", f"canonical: {guess.canonical}"]
            parts.append(f"kind: {guess.kind}")
            if guess.fmt:
                parts.append(f"format: {q(guess.fmt)}")
            parts.append(f"required: {'true' if guess.required else 'false'}")
            comment = _comment(f"guessed from {guess.why}", guess.confidence, guess.check)
            lines.append(f"  - {{{', '.join(parts)}}}  # {comment}")
        extras = [g for g in self.columns if g.canonical is None]
        if extras:
            lines.append("extras:  # columns of no canonical meaning found: kept in extras")
        for guess in extras:
            comment = f"CHECK: {guess.check}" if guess.check else "no canonical meaning found"
            lines.append(f"  - {{header: {q(guess.header)}}}  # {comment}")
        return "\n".join(lines) + "\n"


def _comment(why: str, confidence: float, check: str | None = None) -> str:
    if check is None and confidence < CHECK_BELOW:
        check = "not sure"
    base = f"{why}, {confidence:.2f}"
    return f"CHECK: {check}; {base}" if check else base


def decode_sample(data: bytes) -> tuple[str, str]:
    """The sample's text and its encoding: UTF-8 (a BOM allowed) or ISO-8859-1."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise IngestError("sample", "UTF-16 text; carrier layouts are 8-bit text")
    cut = data.rfind(b"\n")
    complete = data if cut < 0 else data[: cut + 1]
    try:
        return complete.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return complete.decode("iso-8859-1"), "iso-8859-1"


def draft_layout(file_name: str, data: bytes, detector: Detector) -> Draft:
    """A layout drafted from the first bytes of a delimited file."""
    text, encoding = decode_sample(data)
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise IngestError(file_name, "no lines to draft a layout from")
    delimiter = sniff_separator(lines[:50])
    widths = [len(_fields(line, delimiter)) for line in lines[:50]]
    width = Counter(widths).most_common(1)[0][0]
    start = widths.index(width)  # preamble lines have another width
    header = [h.strip() for h in _fields(lines[start], delimiter)]
    if not looks_like_header(header):
        raise IngestError(
            file_name, "its first full line holds values, not column names: a layout needs a header"
        )
    preamble = text.splitlines().index(lines[start]) if start else 0
    rows = [_fields(line, delimiter) for line in lines[start + 1 : start + 1 + SAMPLE_ROWS]]
    header_lines = 1
    notes = []
    if rows and looks_like_header(rows[0]) and not any(_is_number(v) for v in rows[0]):
        notes.append("CHECK: the line after the header looks like a second header row")
    cells = {h: [r[i].strip() if i < len(r) else "" for r in rows] for i, h in enumerate(header)}
    frame = pl.DataFrame([pl.Series(h, v, pl.String) for h, v in cells.items()])
    found = {f.name: f for f in detector.classify(frame)} if rows else {}
    guesses = [_guess(h, [v for v in cells[h] if v], found.get(h)) for h in header]
    dataset, confidence = _dataset_of(guesses)
    guesses = _settle(guesses, dataset)
    stem = re.sub(r"\.[^.]+$", "", file_name)
    carrier = snake_case(re.sub(r"\d+", " ", stem).split("_")[0].split()[0] if stem else "carrier")
    name = snake_case(re.sub(r"\d+", " ", stem)) or "layout"
    pattern = "^" + re.sub(r"\\d\+", r"\\d+", re.sub(r"\d+", r"\\d+", re.escape(file_name))) + "$"
    return Draft(
        file_name,
        name[:60] if name[0].isalpha() else f"x_{name}"[:60],
        carrier if carrier[:1].isalpha() and len(carrier) > 1 else "carrier",
        dataset,
        confidence,
        pattern,
        delimiter,
        encoding,
        preamble,
        header_lines,
        tuple(guesses),
        tuple(notes),
    )


def _fields(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def _is_number(text: str) -> bool:
    return bool(re.fullmatch(r"[-(]?[$€£]?\s?[\d.,' ]*\d\)?", text.strip()))


def _all(values: list[str], test: re.Pattern[str] | None = None, fmt: str | None = None) -> float:
    """Share of values matching a regex, or parsing with a strptime format."""
    if not values:
        return 0.0
    series = pl.Series(values)
    if fmt is not None:
        kind = pl.Time if fmt in TIME_FORMATS else pl.Date
        if fmt in DATETIME_FORMATS:
            parsed = series.str.strptime(pl.Datetime, fmt, strict=False)
        else:
            parsed = series.str.strptime(kind, fmt, strict=False)
        if kind is pl.Date or fmt in DATETIME_FORMATS:
            # A 7-digit account number parses as %Y%m%d (year 4410): dates of a carrier export
            # fall in a plausible span.
            plausible = parsed.dt.year().is_between(1970, 2100).fill_null(False)
            return float(plausible.sum()) / len(values)
        return 1.0 - parsed.null_count() / len(values)
    assert test is not None
    return sum(1 for v in values if test.fullmatch(v)) / len(values)


def _value_shape(values: list[str]) -> tuple[Kind, str | None, float, str] | None:
    """A kind and format the values all fit, its share and a note, or None (text)."""
    for fmt in DATETIME_FORMATS:
        if _all(values, fmt=fmt) == 1.0:
            return "datetime", fmt, 0.9, ""
    dates = [fmt for fmt in DATE_FORMATS if _all(values, fmt=fmt) == 1.0]
    if dates:
        note = f"{dates[0]} and {dates[1]} both fit: which is it?" if len(dates) > 1 else ""
        return "date", dates[0], 0.6 if note else 0.95, note
    for fmt in TIME_FORMATS:
        if _all(values, fmt=fmt) == 1.0:
            return "time", fmt, 0.95, ""
    if _all(values, re.compile(r"\d+:[0-5]\d")) == 1.0:
        return "duration", "mm:ss", 0.8, ""
    for fmt, shape in MONEY_SHAPES:
        if _all(values, re.compile(shape)) == 1.0:
            return "money", fmt, 0.9, ""
    if _all(values, re.compile(r"-?\d+")) == 1.0:
        return "int", None, 0.9, ""
    if _all(values, re.compile(r"-?\d+(\.\d+)?")) == 1.0:
        return "number", None, 0.9, ""
    return None


def _synonym(header: str) -> tuple[str | None, float]:
    """The canonical column the header's words name, and how sure: whole phrase 0.9, a word 0.7."""
    every = header_words(header)
    parts = every[:-1] if len(every) > 1 else every  # without the words run together
    folded = " ".join(parts)
    words = set(every)
    best: tuple[str | None, float] = (None, 0.0)
    for canonical, phrases in SYNONYMS.items():
        for phrase in phrases:
            if folded == phrase or folded.replace(" ", "") == phrase.replace(" ", ""):
                return canonical, 0.9
            if set(phrase.split()) <= words and best[1] < 0.7:
                best = (canonical, 0.7)
    return best


def _guess(header: str, values: list[str], finding: object) -> Guess:
    """One column's guess from its header words, its values' shape and the detector."""
    entity = getattr(finding, "entity", None)
    confidence = float(getattr(finding, "confidence", 0.0))
    shape = _value_shape(values)
    words = set(header_words(header))
    said, _ = header_evidence(header)
    synonym, sure = _synonym(header)
    phone_shaped = _all(values, re.compile(r"[+(]?\d[\d ()./-]{6,18}\d")) >= 0.8
    if entity == "PHONE_NUMBER" or ("PHONE_NUMBER" in said and phone_shaped):
        target = "other_number" if synonym == "other_number" else "wireless_number"
        why = "values (phone numbers)" if entity else "header words"
        return Guess(header, target, "phone", None, max(confidence, sure, 0.6), why)
    if entity in ENTITY_COLUMNS:
        kind: Kind = "id" if entity in ("IMEI", "ICCID", "IMSI", "EMPLOYEE_ID") else "text"
        return Guess(header, ENTITY_COLUMNS[entity], kind, None, confidence, f"values ({entity})")
    if shape is not None:
        kind, fmt, share, note = shape
        if kind in ("int", "number") and words & {"sec", "secs", "seconds", "sekunden"}:
            return Guess(header, "minutes", "duration", "seconds", 0.85, "header words and values")
        if kind == "duration":
            return Guess(header, "minutes", "duration", fmt, share, "values (mm:ss)")
        if kind in ("date", "datetime", "time"):  # which date column: settled with the dataset
            return Guess(header, "_date", kind, fmt, share, "values", note or None)
        if synonym is not None and _fits(synonym, kind):
            return Guess(
                header,
                synonym,
                _kind_of(synonym, kind),
                fmt,
                min(sure, share),
                "header words and values",
            )
        if kind == "money":
            return Guess(
                header,
                "charge",
                "money",
                fmt,
                0.5,
                "values (money)",
                "an amount: is it the charge?",
            )
    if synonym is not None and synonym in ("account_number", "invoice_number", "employee_id"):
        return Guess(header, synonym, "id", None, sure, "header words")
    if synonym is not None and shape is None:
        check = None
        if synonym == "user_name" and not all(re.fullmatch(r"[^\d@]+", v) for v in values):
            check = "the values do not look like names"
        elif synonym == "user_name" and "PHONE_NUMBER" in said:
            check = "the header may name a number, the values look like names"
        sure = sure if check is None else 0.5
        return Guess(header, synonym, _kind_of(synonym, "text"), None, sure, "header words", check)
    return Guess(header, None, "text", None, 0.0, "", None)


def _fits(canonical: str, kind: Kind) -> bool:
    """Whether values of that kind can be that canonical column."""
    numeric = {"charge", "tax", "minutes", "messages", "data_kb"}
    if canonical in numeric:
        return kind in ("money", "int", "number")
    return canonical in {"account_number", "invoice_number", "employee_id", "plan", "cost_center"}


def _kind_of(canonical: str, shape: Kind) -> Kind:
    if canonical in ("charge", "tax"):
        return "money"
    if canonical == "messages":
        return "int"
    if canonical in ("minutes", "data_kb"):
        return "number"
    if canonical == "wireless_number":
        return "phone"  # stored in its canonical form, whatever the file writes
    if canonical == "other_number":
        return "dialed"
    return "id" if canonical in ("account_number", "invoice_number", "employee_id") else "text"


def _dataset_of(guesses: list[Guess]) -> tuple[str | None, float]:
    """The dataset the mapped columns point to, and how clearly."""
    mapped = {g.canonical for g in guesses if g.canonical}
    if any(g.kind == "time" for g in guesses):
        mapped.add("_time")
    if any(g.kind == "duration" for g in guesses):
        mapped.add("_duration")
    scores = {d: len(hints & mapped) for d, hints in DATASET_HINTS.items()}
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    best, score = ranked[0]
    if score == 0:
        return ("invoice_lines", 0.3) if "charge" in mapped else (None, 0.0)
    runner = ranked[1][1]
    return best, round(0.95 if runner == 0 else score / (score + runner), 2)


def _settle(guesses: list[Guess], dataset: str | None) -> list[Guess]:
    """Date columns named for the dataset, columns outside it moved to extras, one column per
    canonical name, and the identifying columns required."""
    period = PERIOD_COLUMN.get(dataset or "", "bill_cycle_date")
    allowed = set(DATASETS[dataset]) if dataset else set()
    settled: list[Guess] = []
    taken: dict[str, int] = {}
    for guess in guesses:
        if guess.canonical == "_date":
            target = period if dataset else "bill_cycle_date"
            words = set(header_words(guess.header))
            for name in ("activation_date", "deactivation_date", "report_date"):
                if name in allowed and name.split("_")[0][:5] in " ".join(words):
                    target = name
            guess = Guess(guess.header, target, guess.kind, guess.fmt, guess.confidence,
                          "values and the dataset", guess.check)  # fmt: skip
        key = f"_time:{guess.canonical}" if guess.kind == "time" else guess.canonical
        if guess.canonical is not None and guess.canonical not in allowed:
            guess = Guess(guess.header, None, check=f"looks like {guess.canonical}, "
                          f"which {dataset or 'no dataset'} has not")  # fmt: skip
            key = None
        if key is not None and key in taken:
            other = settled[taken[key]]
            settled.append(Guess(guess.header, None, check=f"{other.header!r} also looks like "
                                 f"{guess.canonical}; kept as an extra"))  # fmt: skip
            continue
        if key is not None:
            taken[key] = len(settled)
        settled.append(guess)
    required = {period, "wireless_number", "charge"}
    return [
        Guess(g.header, g.canonical, g.kind, g.fmt, g.confidence, g.why, g.check, True)
        if g.canonical in required and g.kind != "time"
        else g
        for g in settled
    ]
