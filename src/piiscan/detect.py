"""Column classification: which PII entity a column holds, how sure we are, and why.

Per column: a reproducible sample of distinct non-null values; per candidate entity the share of
sampled values that validate, the number of distinct matches and a score; the header's words as
evidence for or against (a header raises or lowers confidence, never decides alone, except the
entities that need one because their validators collide with telecom identifiers). spaCy runs
only on text columns whose values could be names, batched across columns. Evidence is masked.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import polars as pl

from piiscan import recognizers as rec

Validator = Callable[[str], bool]


class Models(Protocol):
    """The NLP side a detector may use (piiscan.nlp.Engines); loaded only when needed."""

    def nlp(self) -> Any:
        """A spaCy Language."""
        ...

    def analyze_texts(self, texts: Sequence[str]) -> list[list[tuple[str, float]]]:
        """Presidio's entities and scores per text."""
        ...


ENTITIES = (
    "IMEI",
    "ICCID",
    "IMSI",
    "PHONE_NUMBER",
    "EMAIL_ADDRESS",
    "IP_ADDRESS",
    "EMPLOYEE_ID",
    "CREDIT_CARD",
    "US_SSN",
    "PERSON",
    "LOCATION",
)
# When two entities fit equally well, the more specific one wins.
PRIORITY = {e: i for i, e in enumerate(ENTITIES)}

# Header words per entity in English, German, French and Spanish (accents stripped, lower case).
HEADER_WORDS: dict[str, frozenset[str]] = {
    "PHONE_NUMBER": frozenset(
        {
            "phone",
            "mobile",
            "cell",
            "cellular",
            "wireless",
            "msisdn",
            "tel",
            "telephone",
            "mdn",
            "ctn",
            "subscriber",
            "dialed",
            "dialled",
            "caller",
            "called",
            "party",
            "fax",
            "telefon",
            "telefonnummer",
            "handy",
            "handynummer",
            "mobilnummer",
            "rufnummer",
            "mobilfunknummer",
            "portable",
            "telefono",
            "movil",
            "celular",
            "numero",
            "nummer",
        }
    ),
    "IMEI": frozenset({"imei", "imeisv", "meid", "esn", "geratekennung"}),
    "ICCID": frozenset({"iccid", "sim", "simkarte", "simnummer"}),
    "IMSI": frozenset({"imsi"}),
    "EMPLOYEE_ID": frozenset(
        {
            "employee",
            "emp",
            "empid",
            "empno",
            "staff",
            "personnel",
            "payroll",
            "badge",
            "hr",
            "userid",
            "worker",
            "mitarbeiter",
            "personalnummer",
            "mitarbeiternummer",
            "personalnr",
            "matricule",
            "employe",
            "salarie",
            "empleado",
            "legajo",
        }
    ),
    "PERSON": frozenset(
        {
            "name",
            "names",
            "fullname",
            "first",
            "last",
            "surname",
            "given",
            "firstname",
            "lastname",
            "forename",
            "display",
            "owner",
            "holder",
            "contact",
            "manager",
            "vorname",
            "nachname",
            "familienname",
            "nom",
            "prenom",
            "nombre",
            "apellido",
            "apellidos",
        }
    ),
    "EMAIL_ADDRESS": frozenset({"email", "mail", "emailaddress", "courriel", "correo"}),
    "LOCATION": frozenset(
        {
            "address",
            "addr",
            "street",
            "ship",
            "shipping",
            "adresse",
            "anschrift",
            "strasse",
            "rue",
            "direccion",
            "domicilio",
            "calle",
        }
    ),
    "IP_ADDRESS": frozenset({"ip", "ipv4", "ipv6", "ipaddress"}),
    "CREDIT_CARD": frozenset({"card", "credit", "cc", "pan", "kreditkarte", "carte", "tarjeta"}),
    "US_SSN": frozenset({"ssn", "social", "sozialversicherungsnummer"}),
}
# Words that say a column is about something else: amounts, counts, dates, business keys.
NOT_PII_WORDS = frozenset(
    {
        "invoice",
        "account",
        "acct",
        "ban",
        "fan",
        "order",
        "amount",
        "total",
        "charge",
        "charges",
        "cost",
        "price",
        "tax",
        "taxes",
        "fee",
        "minutes",
        "min",
        "duration",
        "kb",
        "mb",
        "gb",
        "usage",
        "count",
        "qty",
        "quantity",
        "date",
        "time",
        "plan",
        "rate",
        "period",
        "cycle",
        "reference",
        "ref",
        "transaction",
        "txn",
        "ticket",
        "case",
        "rechnung",
        "konto",
        "betrag",
        "bestellung",
        "facture",
        "compte",
        "montant",
        "commande",
        "factura",
        "cuenta",
        "importe",
        "pedido",
        "kosten",
        "frais",
        "datum",
        "fecha",
    }
)
# Words that name a number without saying whose: they support nothing next to a business word.
GENERIC_WORDS = frozenset({"numero", "nummer", "number", "nr", "no", "num"})
# A sign the column holds identifiers of a kind other than `PERSON` (e.g. "device name").
PERSON_OBJECT_WORDS = frozenset(
    {
        "device",
        "plan",
        "file",
        "company",
        "product",
        "carrier",
        "rate",
        "model",
        "host",
        "login",
        "account",
        "feature",
        "item",
        "vendor",
        "city",
        "street",
        "server",
    }
)
HEADER_REQUIRED = frozenset({"CREDIT_CARD", "US_SSN"})
HEADER_BOOST = 0.2
HEADER_PENALTY = 0.45
NAME_SHAPE = re.compile(r"^[^\W\d_][^\W\d_'.-]*(?:[ '.-]+[^\W\d_][^\W\d_'.-]*){0,4}\.?$")
LAST_FIRST = re.compile(r"^\s*([^,]+),\s*([^,]+)$")


@dataclass(frozen=True)
class Settings:
    """How columns are sampled and decided."""

    sample_size: int = 200  # distinct non-null values examined per column
    threshold: float = 0.6  # confidence at which a column is tagged
    seed: int = 20261128  # sampling order; same seed, same sample
    free_text_tokens: float = 8.0  # mean words per value above which a column is free text
    free_text_sample: int = 50  # free-text values analysed with the full Presidio analyzer


@dataclass(frozen=True)
class ColumnFinding:
    """The decision for one column."""

    name: str
    entity: str | None
    confidence: float
    evidence: dict[str, Any]
    action: str

    def as_json(self) -> dict[str, Any]:
        """The scan contract's column object."""
        return {
            "name": self.name,
            "entity": self.entity,
            "confidence": round(self.confidence, 3),
            "evidence": self.evidence,
            "action": self.action,
        }


def strip_accents(text: str) -> str:
    """ASCII-folded lower-case text: 'Prénom' -> 'prenom'."""
    folded = unicodedata.normalize("NFKD", text)
    return "".join(c for c in folded if not unicodedata.combining(c)).lower()


def header_words(header: str) -> list[str]:
    """Whole words of a header: camelCase, snake_case, punctuation and accents handled."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", header)
    words = re.split(r"[^0-9a-z]+", strip_accents(spaced).replace("ß", "ss"))
    joined = "".join(words)
    return [w for w in words if w] + ([joined] if len(words) > 1 else [])


def header_evidence(header: str) -> tuple[set[str], bool]:
    """Entities the header names, and whether it names a non-PII meaning."""
    words = set(header_words(header))
    not_pii = bool(words & NOT_PII_WORDS)
    meaningful = words - GENERIC_WORDS if not_pii else words
    supported = {entity for entity, vocab in HEADER_WORDS.items() if meaningful & vocab}
    if "PERSON" in supported and words & PERSON_OBJECT_WORDS:
        supported.discard("PERSON")
    if "CREDIT_CARD" in supported and words & HEADER_WORDS["ICCID"]:
        supported.discard("CREDIT_CARD")
    return supported, not_pii


def mask(value: str, entity: str | None) -> str:
    """A value with everything but a few characters hidden: ***-***-0147, J*** S****."""
    if entity in ("PERSON", "LOCATION"):
        return re.sub(r"(?<=\w)\w", "*", value)
    if entity == "EMAIL_ADDRESS" and "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    keep = 4 if len(value) > 8 else 2
    head = re.sub(r"[0-9A-Za-z]", "*", value[:-keep])
    return head + value[-keep:]


def sample_values(series: pl.Series, size: int, seed: int) -> list[str]:
    """Up to `size` distinct non-null values as text, in a seed-determined order."""
    if series.dtype in (pl.Date, pl.Datetime, pl.Time, pl.Duration, pl.Boolean, pl.Null):
        return []
    if series.dtype.is_float():
        whole = series.drop_nulls()
        whole = whole.filter(whole == whole.floor())
        series = whole.cast(pl.Int64, strict=False)
    elif isinstance(series.dtype, pl.Decimal):
        return []
    text = series.cast(pl.String, strict=False).drop_nulls().str.strip_chars()
    distinct = text.filter(text != "").unique()
    order = distinct.hash(seed=seed % (2**32))
    return distinct.gather(order.arg_sort()).head(size).to_list()


@dataclass
class _Candidate:
    entity: str
    share: float
    matches: int
    confidence: float
    examples: list[str] = field(default_factory=list)


def _employee_validators(patterns: Sequence[str]) -> tuple[Validator, Validator]:
    """Customer patterns (strong), and generic ID shapes (need the header)."""
    compiled = [re.compile(p) for p in patterns]
    generic = re.compile(r"^[A-Za-z]{0,3}[-_]?\d{3,10}$|^[A-Za-z][A-Za-z0-9._-]{2,30}$")

    def configured(value: str) -> bool:
        return any(p.fullmatch(value) for p in compiled)

    def shaped(value: str) -> bool:
        return configured(value) or generic.match(value) is not None or rec.is_email(value)

    return configured, shaped


class Detector:
    """Classifies the columns of frames; holds the optional spaCy pipeline once loaded."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        employee_id_patterns: Sequence[str] = (),
        actions: Mapping[str, str] | None = None,
        models: Models | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.actions = dict(actions or {})
        self.models = models
        self._nlp: Any = None
        self._employee_configured, self._employee_shaped = _employee_validators(
            employee_id_patterns
        )
        self.validators: dict[str, Validator] = {
            "IMEI": lambda v: rec.is_imei(v) or rec.is_imeisv(v) or rec.is_meid(v),
            "ICCID": rec.is_iccid,
            "IMSI": lambda v: rec.is_imsi(v) and not rec.is_imei(v),
            "PHONE_NUMBER": rec.is_phone,
            "EMAIL_ADDRESS": rec.is_email,
            "IP_ADDRESS": rec.is_ip,
            "CREDIT_CARD": rec.is_credit_card,
            "US_SSN": rec.is_ssn,
            "LOCATION": rec.is_street_address,
        }

    @property
    def nlp(self) -> Any:
        """The spaCy pipeline, loaded on first use (None without models)."""
        if self._nlp is None and self.models is not None:
            self._nlp = self.models.nlp()
        return self._nlp

    def action_for(self, entity: str | None) -> str:
        """What policy does with a column of this entity."""
        if entity is None:
            return "keep"
        return self.actions.get(entity, "review")

    def classify(self, frame: pl.DataFrame) -> list[ColumnFinding]:
        """Findings for every column of frame, in column order."""
        samples = {
            name: sample_values(frame[name], self.settings.sample_size, self.settings.seed)
            for name in frame.columns
        }
        person = self._person_scores(samples)
        return [self._decide(name, samples[name], person.get(name)) for name in frame.columns]

    # -- names need the model: one batched pass over every candidate column --------------------

    def _person_scores(self, samples: Mapping[str, list[str]]) -> dict[str, tuple[float, float]]:
        candidates = {
            name: values
            for name, values in samples.items()
            if values and _could_be_names(values, self.settings.free_text_tokens)
        }
        if not candidates or self.nlp is None:
            return {name: (0.0, _shape_share(values)) for name, values in candidates.items()}
        texts: list[str] = []
        owners: list[str] = []
        for name, values in candidates.items():
            for value in values:
                texts.append(_as_written_name(value))
                owners.append(name)
        hits: dict[str, int] = dict.fromkeys(candidates, 0)
        for owner, doc in zip(owners, self.nlp.pipe(texts, batch_size=1024), strict=True):
            if any(ent.label_ == "PERSON" for ent in doc.ents):
                hits[owner] += 1
        return {
            name: (hits[name] / len(values), _shape_share(values))
            for name, values in candidates.items()
        }

    # -- the decision ---------------------------------------------------------------------------

    def _decide(
        self, name: str, values: list[str], person: tuple[float, float] | None
    ) -> ColumnFinding:
        supported, not_pii = header_evidence(name)
        evidence: dict[str, Any] = {"sampled": len(values)}
        if supported:
            evidence["header_supports"] = sorted(supported)
        if not_pii:
            evidence["header_contradicts"] = True
        if not values:
            evidence["reason"] = "no values to sample"
            return ColumnFinding(name, None, 0.0, evidence, self.action_for(None))

        mean_words = sum(len(v.split()) for v in values) / len(values)
        if mean_words > self.settings.free_text_tokens:
            return self._free_text(name, values, evidence)

        candidates = [
            self._score(entity, validator, values, supported, not_pii)
            for entity, validator in self.validators.items()
        ]
        candidates.append(self._employee(values, supported, not_pii))
        if person is not None:
            candidates.append(self._person(values, person, supported, not_pii))
        live = [c for c in candidates if c.matches]
        evidence["scores"] = {
            c.entity: {
                "share": round(c.share, 3),
                "distinct_matches": c.matches,
                "confidence": round(c.confidence, 3),
            }
            for c in sorted(live, key=lambda c: -c.confidence)[:4]
        }
        best = max(live, key=lambda c: (c.confidence, -PRIORITY[c.entity]), default=None)
        if best is None or best.confidence < self.settings.threshold:
            return ColumnFinding(
                name, None, best.confidence if best else 0.0, evidence, self.action_for(None)
            )
        evidence["recognizer"] = best.entity
        evidence["examples"] = [mask(v, best.entity) for v in best.examples[:3]]
        return ColumnFinding(
            name, best.entity, best.confidence, evidence, self.action_for(best.entity)
        )

    def _score(
        self,
        entity: str,
        validator: Validator,
        values: list[str],
        supported: set[str],
        not_pii: bool,
    ) -> _Candidate:
        matched = [v for v in values if validator(v)]
        share = len(matched) / len(values)
        confidence = _adjust(share, entity, len(values), supported, not_pii)
        if entity in HEADER_REQUIRED and entity not in supported:
            confidence = min(confidence, self.settings.threshold - 0.01)
        return _Candidate(entity, share, len(matched), confidence, matched)

    def _employee(self, values: list[str], supported: set[str], not_pii: bool) -> _Candidate:
        configured = [v for v in values if self._employee_configured(v)]
        if "EMPLOYEE_ID" in supported:
            matched = [v for v in values if self._employee_shaped(v)]
            share = len(matched) / len(values)
            confidence = _adjust(share, "EMPLOYEE_ID", len(values), supported, not_pii)
            return _Candidate("EMPLOYEE_ID", share, len(matched), confidence, matched)
        # Without the header only a distinctive configured pattern (one with letters) counts.
        distinctive = [v for v in configured if re.search(r"[A-Za-z]", v)]
        share = len(distinctive) / len(values)
        confidence = _adjust(share, "EMPLOYEE_ID", len(values), supported, not_pii) * 0.95
        return _Candidate("EMPLOYEE_ID", share, len(distinctive), confidence, distinctive)

    def _person(
        self, values: list[str], scores: tuple[float, float], supported: set[str], not_pii: bool
    ) -> _Candidate:
        ner, shape = scores
        share = 0.65 * ner + 0.35 * shape
        if "PERSON" in supported:
            # The small model misses many lone given names and surnames; a name header and
            # name-shaped values agreeing is evidence enough.
            share = max(share, 0.8 * shape)
        shaped = [v for v in values if NAME_SHAPE.match(_as_written_name(v))]
        return _Candidate(
            "PERSON",
            share,
            len(shaped),
            _adjust(share, "PERSON", len(values), supported, not_pii),
            shaped,
        )

    def _free_text(self, name: str, values: list[str], evidence: dict[str, Any]) -> ColumnFinding:
        """Free text: report every entity found in the sampled values."""
        counts: dict[str, int] = {}
        if self.models is not None:
            texts = values[: self.settings.free_text_sample]
            per_text = [
                {entity for entity, _ in found} for found in self.models.analyze_texts(texts)
            ]
        else:  # no model: our validators over the words
            texts = values
            per_text = [
                {
                    e
                    for e, validator in self.validators.items()
                    if e not in HEADER_REQUIRED
                    and any(validator(token) for token in _tokens_for(e, value))
                }
                for value in texts
            ]
        for found in per_text:
            for entity in found:
                counts[entity] = counts.get(entity, 0) + 1
        evidence["free_text"] = True
        evidence["sampled"] = len(texts)
        evidence["entities"] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        if not counts:
            return ColumnFinding(name, None, 0.0, evidence, self.action_for(None))
        entity, hits = max(counts.items(), key=lambda kv: (kv[1], -PRIORITY.get(kv[0], 99)))
        confidence = min(1.0, 0.5 + hits / len(texts))
        action = self.actions.get("FREE_TEXT", "drop")
        return ColumnFinding(name, entity, confidence, evidence, action)


def wilson_lower(share: float, n: int, z: float = 1.96) -> float:
    """Lower bound of the true share given n sampled values: few values prove little."""
    if n == 0:
        return 0.0
    z2 = z * z
    centre = share + z2 / (2 * n)
    spread = z * math.sqrt(share * (1 - share) / n + z2 / (4 * n * n))
    return max(0.0, (centre - spread) / (1 + z2 / n))


def _adjust(share: float, entity: str, sampled: int, supported: set[str], not_pii: bool) -> float:
    confidence = wilson_lower(share, sampled)
    if entity in supported:
        confidence += HEADER_BOOST
    elif not_pii:
        confidence -= HEADER_PENALTY
    return max(0.0, min(1.0, confidence))


def _could_be_names(values: list[str], free_text_tokens: float) -> bool:
    letters = sum(1 for v in values if re.search(r"[^\W\d_]{2}", v))
    words = sum(len(v.split()) for v in values) / len(values)
    return letters / len(values) >= 0.5 and words <= free_text_tokens


def _as_written_name(value: str) -> str:
    """'DOE, JANE' -> 'Jane Doe': the form the NER model knows best."""
    text = value.strip()
    found = LAST_FIRST.match(text)
    if found:
        text = f"{found.group(2)} {found.group(1)}"
    if text.isupper() or text.islower():
        text = text.title()
    return text


def _shape_share(values: list[str]) -> float:
    return sum(1 for v in values if NAME_SHAPE.match(_as_written_name(v))) / len(values)


_TOKEN = re.compile(r"[\w.@+:%'-]+(?:[ -]\d+)*")


def _tokens_for(entity: str, text: str) -> list[str]:
    """Candidate substrings of free text for a validator."""
    if entity == "LOCATION":
        return [text]
    return [t.strip(".,;:") for t in _TOKEN.findall(text)]
