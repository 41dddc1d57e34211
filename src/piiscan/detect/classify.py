"""The Detector: candidates per entity scored on a column's sample, the best one decided."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from piiscan import entities as registry
from piiscan.detect.headers import HeaderEvidence, read_header
from piiscan.detect.sampling import mask, sample_values, uninformative, wilson_lower
from piiscan.entities import Entity, Validator
from piiscan.nlp import ner_unused


class Models(Protocol):
    """The NLP side a detector may use (piiscan.nlp.Engines); loaded only when needed."""

    def nlp(self) -> Any:
        """A spaCy Language."""
        ...

    def analyze_texts(self, texts: Sequence[str]) -> list[list[tuple[str, float]]]:
        """Presidio's entities and scores per text."""
        ...


HEADER_BOOST = 0.2
HEADER_PENALTY = 0.45
HEADER_ONLY_CONFIDENCE = 0.5  # below any value-based finding: the values could not confirm it
NEARLY_ALL = 0.95  # share of values a structural or unaided form needs before it counts
STRUCTURE_WEIGHT = 0.9  # a well-formed number is less proof than a number in an assigned range
UNINFORMATIVE_SHARE = 0.9  # values that cannot confirm a header (placeholders, masked)
# Validators run in rounds over the sample: after each round a column far from the entity
# (under LOW of the values so far) or plainly of it (every value so far, CERTAIN of them at
# least) is decided on the values read; the rest are not validated.
ROUND = 50
LOW = 0.3
CERTAIN = 100
NAME_SHAPE = re.compile(r"^[^\W\d_][^\W\d_'.-]*(?:[ '.-]+[^\W\d_][^\W\d_'.-]*){0,4}\.?$")
_LETTER = re.compile(r"[A-Za-z]")
_TWO_LETTERS = re.compile(r"[^\W\d_]{2}")
NAMES_REMEMBERED = 100_000  # texts whose NER verdict a detector keeps (then it starts afresh)
MIN_FIXED_WIDTH_SAMPLE = 30  # values needed before an all-digit ID pattern counts unaided
LAST_FIRST = re.compile(r"^\s*([^,]+),\s*([^,]+)$")
# Words of free text a validator may read: a number written in groups ("(212) 555-0147",
# "+44 20 7946 0958") is one word; a word before it is not part of it.
_TOKEN = re.compile(r"\+?\(?\d[\d().-]*(?: \(?\d[\d().-]*)*|[\w.@+:%'-]+")


@dataclass(frozen=True)
class Settings:
    """How columns are sampled and decided."""

    sample_size: int = 200  # distinct non-null values examined per column
    threshold: float = 0.6  # confidence at which a column is tagged
    seed: int = 20261128  # sampling order; same seed, same sample
    free_text_tokens: float = 8.0  # mean words per value above which a column is free text
    free_text_sample: int = 200  # free-text values analysed (Presidio analyzer, spaCy batched)
    # A free-text column is personal data when an entity is found in this share of its sampled
    # values, or (when free_text_values is set) in that many distinct sampled values; never on
    # fewer than free_text_min_values (one hit, such as a carrier's PO box, never decides).
    free_text_share: float = 0.02
    free_text_values: int = 0
    free_text_min_values: int = 2
    ner_sample: int = 60  # values per candidate column the NER model reads


@dataclass(frozen=True)
class ColumnFinding:
    """The decision for one column."""

    name: str
    entity: str | None
    confidence: float
    evidence: dict[str, Any]
    action: str
    # detection | header (the header alone: its values could not confirm it; needs review) |
    # review (a reviewer's override in configs/)
    source: str = "detection"
    detected_entity: str | None = None  # what detection said, when a review overrides it
    review: dict[str, Any] | None = None  # the override: decision, reason, decided_by, decided_at
    kind: str = "values"  # values | free_text (sentences: the entity is the one most found)

    @property
    def policy_entity(self) -> str | None:
        """The name the policy's actions know the column by: FREE_TEXT for free text that holds
        personal data (it is redacted in place, whatever entity it holds), else the entity."""
        if self.kind == "free_text" and self.entity is not None and self.source != "review":
            return registry.FREE_TEXT
        return self.entity

    def as_json(self) -> dict[str, Any]:
        """The scan contract's column object (a review shows in the evidence)."""
        evidence = self.evidence
        if self.review is not None:
            evidence = {**evidence, "review": self.review}
        return {
            "name": self.name,
            "entity": self.entity,
            "confidence": round(self.confidence, 3),
            "evidence": evidence,
            "action": self.action,
        }

    def report_json(self) -> dict[str, Any]:
        """The report's column object: the scan contract plus where the decision came from."""
        return {
            "name": self.name,
            "entity": self.entity,
            "confidence": round(self.confidence, 3),
            "evidence": self.evidence,
            "action": self.action,
            "source": self.source,
            "detected_entity": self.detected_entity if self.review else self.entity,
            "review": self.review,
            "kind": self.kind,
        }


@dataclass
class _Candidate:
    entity: str
    share: float
    matches: int
    confidence: float
    examples: list[str] = field(default_factory=list)


def _zero_padded_ids(configured: list[str], values: list[str]) -> bool:
    """Every sampled value matches an all-digit ID pattern, at one width, some with leading
    zeros: identifiers kept as text, not counters, amounts or YYYYMMDD dates."""
    return (
        len(configured) == len(values) >= MIN_FIXED_WIDTH_SAMPLE
        and len({len(v) for v in values}) == 1
        and any(v.startswith("0") for v in values)
    )


def _configured(patterns: Sequence[str]) -> Validator:
    """Whether a value matches one of a customer's patterns in full."""
    compiled = [re.compile(p) for p in patterns]

    def configured(value: str) -> bool:
        return any(p.fullmatch(value) for p in compiled)

    return configured


class Detector:
    """Classifies the columns of frames; holds the optional spaCy pipeline once loaded.

    The entities are the registry's (piiscan.entities) unless given; their order breaks ties.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        employee_id_patterns: Sequence[str] = (),
        actions: Mapping[str, str] | None = None,
        models: Models | None = None,
        entities: Sequence[Entity] | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.actions = dict(actions or {})
        self.models = models
        self._nlp: Any = None
        self.entities = tuple(registry.registered() if entities is None else entities)
        self._priority = {e.name: i for i, e in enumerate(self.entities)}
        self.employee_id_patterns = tuple(employee_id_patterns)
        self._configured = _configured(employee_id_patterns)
        self.validators: dict[str, Validator] = {
            e.name: registry.validator(e, self.entities)
            for e in self.entities
            if e.recognized_by == "validator"
        }
        # Found by the customer's patterns; the entity's own validator only under its header.
        self._patterned = {
            e.name: registry.validator(e, self.entities)
            for e in self.entities
            if e.recognized_by == "customer_patterns"
        }
        self._needs_header = frozenset(e.name for e in self.entities if e.needs_header)
        self._structure = {e.name: e.structure for e in self.entities if e.structure is not None}
        self._unaided = {e.name: e.unaided for e in self.entities if e.unaided is not None}
        self._under_header = {
            e.name: e.under_header for e in self.entities if e.under_header is not None
        }
        self._whole_text = frozenset(e.name for e in self.entities if e.whole_text)
        # The entity the spaCy model's names are (PERSON): name-shaped values, read in one pass.
        self._names = next((e.name for e in self.entities if e.recognized_by == "ner"), None)
        self._named: dict[str, bool] = {}  # text -> the model tags a name in it (_read_names)

    def identity(self) -> str:
        """A digest of everything this detector's findings depend on: its settings, the
        customer's patterns, the actions, each entity's definition, whether a model reads
        names (and which), and the detection code itself. Two detectors with one identity
        classify one frame alike, so findings made by one can stand for the other's."""
        parts = {
            "detector": f"{type(self).__module__}.{type(self).__qualname__}",
            "settings": dataclasses.asdict(self.settings),
            "patterns": list(self.employee_id_patterns),
            "actions": sorted(self.actions.items()),
            "entities": [_entity_identity(e) for e in self.entities],
            "model": _model_identity() if self.models is not None else None,
            "code": _code_identity(),
        }
        text = _ADDRESS.sub("", json.dumps(parts, sort_keys=True, default=str))
        return hashlib.sha256(text.encode()).hexdigest()

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
        validated = {name: self._validated(name, values) for name, values in samples.items()}
        # The model only reads columns no validator already settles, and only a sub-sample; a
        # column without one name-shaped value gives the name candidate no match (it cannot
        # count, whatever the model says), so the model does not read it either.
        unresolved = {
            name: values[: self.settings.ner_sample]
            for name, values in samples.items()
            if values
            and max((c.confidence for c in validated[name]), default=0.0) < self.settings.threshold
            and any(NAME_SHAPE.match(_as_written_name(v)) for v in values)
        }
        person = self._person_scores(unresolved)
        return [
            self._decide(name, samples[name], validated[name], person.get(name))
            for name in frame.columns
        ]

    def _validated(self, name: str, values: list[str]) -> list[_Candidate]:
        """Every validator's candidate for a column (the customer-pattern ones included)."""
        if not values:
            return []
        header = read_header(name, self.entities)
        candidates = [
            self._score(entity, validator, values, header)
            for entity, validator in self.validators.items()
        ]
        return [
            *candidates,
            *(
                self._patterns(entity, validator, values, header)
                for entity, validator in self._patterned.items()
            ),
        ]

    # -- names need the model: one batched pass over every candidate column --------------------

    def _person_scores(self, samples: Mapping[str, list[str]]) -> dict[str, tuple[float, float]]:
        candidates = {
            name: values
            for name, values in samples.items()
            if values and _could_be_names(values, self.settings.free_text_tokens)
        }
        if self._names is None:
            return {}
        if not candidates or self.nlp is None:
            return {name: (0.0, _shape_share(values)) for name, values in candidates.items()}
        texts = {
            name: [_as_written_name(value) for value in values]
            for name, values in candidates.items()
        }
        named = self._read_names([text for column in texts.values() for text in column])
        hits = {name: sum(1 for text in column if named[text]) for name, column in texts.items()}
        return {
            name: (hits[name] / len(values), _shape_share(values))
            for name, values in candidates.items()
        }

    def _read_names(self, texts: list[str]) -> dict[str, bool]:
        """Whether the model tags a name in each text: every distinct text read once, in one
        batch, and remembered for the detector's later frames (a nightly scan meets the same
        cities, plans and names file after file); the memory is bounded. The verdicts returned
        are this call's own, whatever another thread does to the memory meanwhile."""
        verdicts: dict[str, bool] = {}
        wanted: list[str] = []
        for text in dict.fromkeys(texts):
            known = self._named.get(text)
            if known is None:
                wanted.append(text)
            else:
                verdicts[text] = known
        if wanted:
            # Only the entity recognizer (and what it reads) runs: no tagger, parser, lemmatizer.
            docs = self.nlp.pipe(wanted, batch_size=1024, disable=ner_unused(self.nlp))
            for text, doc in zip(wanted, docs, strict=True):
                verdicts[text] = any(ent.label_ == self._names for ent in doc.ents)
            if len(self._named) + len(wanted) > NAMES_REMEMBERED:
                self._named.clear()
            self._named.update((text, verdicts[text]) for text in wanted)
        return verdicts

    # -- the decision ---------------------------------------------------------------------------

    def _decide(
        self,
        name: str,
        values: list[str],
        validated: list[_Candidate],
        person: tuple[float, float] | None,
    ) -> ColumnFinding:
        header = read_header(name, self.entities)
        evidence: dict[str, Any] = {"sampled": len(values)}
        if header.supported:
            evidence["header_supports"] = sorted(header.supported)
        if header.not_pii or header.against:
            evidence["header_contradicts"] = True
        if not values:  # nothing to read (a dropped column): nothing personal either
            evidence["reason"] = "no values to sample"
            return ColumnFinding(name, None, 0.0, evidence, self.action_for(None))

        candidates = list(validated)
        if person is not None and self._names is not None:
            candidates.append(self._person(self._names, values, person, header))
        live = [c for c in candidates if c.matches]
        best = max(live, key=lambda c: (c.confidence, -self._priority[c.entity]), default=None)
        mean_words = sum(len(v.split()) for v in values) / len(values)
        if mean_words > self.settings.free_text_tokens and (
            best is None or best.confidence < self.settings.threshold
        ):
            return self._free_text(name, values, evidence)

        evidence["scores"] = {
            c.entity: {
                "share": round(c.share, 3),
                "distinct_matches": c.matches,
                "confidence": round(c.confidence, 3),
            }
            for c in sorted(live, key=lambda c: -c.confidence)[:4]
        }
        if best is None or best.confidence < self.settings.threshold:
            return self._header_only(name, values, header, evidence, best.confidence if best else 0)
        evidence["recognizer"] = best.entity
        evidence["examples"] = [mask(v, best.entity) for v in best.examples[:3]]
        return ColumnFinding(
            name, best.entity, best.confidence, evidence, self.action_for(best.entity)
        )

    def _header_only(
        self,
        name: str,
        values: list[str],
        header: HeaderEvidence,
        evidence: dict[str, Any],
        confidence: float,
    ) -> ColumnFinding:
        """A header that names an identifier outright over values that cannot confirm it
        (placeholders such as N/A or 0000, masked values): flagged with the header's entity, for
        review; else not PII."""
        blank = sum(1 for v in values if uninformative(v))
        outright = [e.name for e in self.entities if e.name in header.outright]
        if not outright or blank < UNINFORMATIVE_SHARE * len(values):
            return ColumnFinding(name, None, confidence, evidence, self.action_for(None))
        entity = outright[0]
        evidence["header_only"] = True
        evidence["uninformative"] = blank
        evidence["recognizer"] = "header"
        return ColumnFinding(
            name,
            entity,
            HEADER_ONLY_CONFIDENCE,
            evidence,
            self.action_for(entity),
            source="header",
        )

    def _score(
        self, entity: str, validator: Validator, values: list[str], header: HeaderEvidence
    ) -> _Candidate:
        if entity in header.supported and entity in self._under_header:
            validator = self._under_header[entity]
        matched: list[str] = []
        read = 0
        for read, value in enumerate(values, start=1):
            if validator(value):
                matched.append(value)
            if read % ROUND == 0 and (
                len(matched) < LOW * read or (len(matched) == read >= CERTAIN)
            ):
                break
        share = len(matched) / read
        shaped = self._structure.get(entity)
        if shaped is not None and share < NEARLY_ALL:
            # Numbering rules decided over the whole column: random ids fail them too often.
            formed = [v for v in values if shaped(v)]
            if len(formed) >= NEARLY_ALL * len(values):
                share = max(share, STRUCTURE_WEIGHT * len(formed) / len(values))
                matched, read = formed, len(values)
        confidence = _adjust(share, entity, read, header)
        if entity in self._needs_header and entity not in header.supported:
            unaided = self._unaided_share(entity, values)
            if unaided >= NEARLY_ALL:
                confidence = _adjust(unaided, entity, len(values), header) * 0.95
            else:
                confidence = min(confidence, self.settings.threshold - 0.01)
        return _Candidate(entity, share, len(matched), confidence, matched)

    def _unaided_share(self, entity: str, values: list[str]) -> float:
        """The share of values in the entity's distinctive form (0 without one)."""
        check = self._unaided.get(entity)
        if check is None:
            return 0.0
        return sum(1 for v in values if check(v)) / len(values)

    def _patterns(
        self, entity: str, validator: Validator, values: list[str], header: HeaderEvidence
    ) -> _Candidate:
        configured = [v for v in values if self._configured(v)]
        if entity in header.supported:
            known = set(configured)  # each value matched against the patterns once
            matched = [v for v in values if v in known or validator(v)]
            share = len(matched) / len(values)
            confidence = _adjust(share, entity, len(values), header)
            return _Candidate(entity, share, len(matched), confidence, matched)
        # Without the header only a distinctive configured pattern counts: one with letters, or
        # an all-digit one that every sampled value matches at one fixed width (zero-padded IDs
        # stored as text; counters, amounts and integer columns vary in width); or, configured
        # or not, a prefix HR systems use (EMP-12345) on nearly every value.
        distinctive = [v for v in configured if _LETTER.search(v)]
        if not distinctive and _zero_padded_ids(configured, values):
            distinctive = configured
        if self._unaided_share(entity, values) >= NEARLY_ALL and len(values) >= 10:
            check = self._unaided[entity]
            earlier = set(distinctive)
            distinctive = [v for v in values if check(v) or v in earlier]
        share = len(distinctive) / len(values)
        confidence = _adjust(share, entity, len(values), header) * 0.95
        return _Candidate(entity, share, len(distinctive), confidence, distinctive)

    def _person(
        self, entity: str, values: list[str], scores: tuple[float, float], header: HeaderEvidence
    ) -> _Candidate:
        ner, shape = scores
        share = 0.65 * ner + 0.35 * shape
        sampled = min(len(values), self.settings.ner_sample)
        if entity in header.supported:
            # The small model misses many lone given names and surnames; a name header and
            # name-shaped values agreeing is evidence enough.
            share = max(share, 0.8 * shape)
        shaped = [v for v in values if NAME_SHAPE.match(_as_written_name(v))]
        return _Candidate(
            entity, share, len(shaped), _adjust(share, entity, sampled, header), shaped
        )

    def _free_text(self, name: str, values: list[str], evidence: dict[str, Any]) -> ColumnFinding:
        """Free text: the share of sampled values holding each entity; personal data when one
        reaches the threshold (a share, or a number of distinct values), redacted in place."""
        counts: dict[str, int] = {}
        texts = values[: self.settings.free_text_sample]
        if self.models is not None:
            per_text = [
                {entity for entity, _ in found} for found in self.models.analyze_texts(texts)
            ]
        else:  # no model: our validators over the words
            per_text = [
                {
                    e
                    for e, validator in self.validators.items()
                    if e not in self._needs_header
                    and any(validator(token) for token in self._tokens_for(e, value))
                }
                for value in texts
            ]
        for found in per_text:
            for entity in found:
                counts[entity] = counts.get(entity, 0) + 1
        evidence.pop("header_contradicts", None)
        evidence["free_text"] = True
        evidence["sampled"] = len(texts)
        evidence["entities"] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        evidence["shares"] = {e: round(n / len(texts), 4) for e, n in evidence["entities"].items()}
        settings = self.settings
        evidence["threshold"] = (
            {"share": settings.free_text_share, "values": settings.free_text_values}
            if settings.free_text_values
            else {"share": settings.free_text_share}
        )
        personal = {
            entity: hits
            for entity, hits in counts.items()
            if hits >= settings.free_text_min_values
            and (
                hits >= settings.free_text_share * len(texts)
                or (settings.free_text_values and hits >= settings.free_text_values)
            )
        }
        if not personal:
            top = max(counts.values(), default=0) / len(texts)
            return ColumnFinding(
                name, None, round(top, 3), evidence, self.action_for(None), kind="free_text"
            )
        entity, _ = max(
            personal.items(),
            key=lambda kv: (kv[1], -self._priority.get(kv[0], len(self._priority))),
        )
        evidence["recognizer"] = "free_text"
        confidence = min(1.0, self.settings.threshold + 2 * sum(personal.values()) / len(texts))
        action = self.actions.get(registry.FREE_TEXT, "drop")
        return ColumnFinding(name, entity, confidence, evidence, action, kind="free_text")

    def _tokens_for(self, entity: str, text: str) -> list[str]:
        """Candidate substrings of free text for a validator."""
        if entity in self._whole_text:
            return [text]
        return [t.strip(".,;:") for t in _TOKEN.findall(text)]


def _adjust(share: float, entity: str, sampled: int, header: HeaderEvidence) -> float:
    confidence = wilson_lower(share, sampled)
    if entity in header.supported:
        confidence += HEADER_BOOST
    elif entity in header.against:
        confidence -= HEADER_PENALTY
    elif header.not_pii:
        # A generic word ("account", "ref", "tax") says little against values that nearly
        # all validate: an IBAN under "Debtor account", EMP-12345 under "ref".
        unanimous = share >= NEARLY_ALL and sampled >= MIN_FIXED_WIDTH_SAMPLE
        confidence -= HEADER_PENALTY / 3 if unanimous else HEADER_PENALTY
    return max(0.0, min(1.0, confidence))


def _could_be_names(values: list[str], free_text_tokens: float) -> bool:
    letters = sum(1 for v in values if _TWO_LETTERS.search(v))
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


def _plain(value: Any) -> Any:
    """A value of an entity's definition as plain data that reads the same in every process:
    functions by their qualified names, partials by function and arguments, sets sorted."""
    if isinstance(value, functools.partial):
        keywords = sorted((k, _plain(v)) for k, v in value.keywords.items())
        return [_plain(value.func), [_plain(a) for a in value.args], keywords]
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '')}.{value.__qualname__}"
    if isinstance(value, frozenset | set):
        return sorted(map(str, value))
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return _ADDRESS.sub("", repr(value))


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")  # an object's address: differs per process


def _entity_identity(entity: Entity) -> dict[str, Any]:
    """An entity's definition as plain data (see _plain)."""
    return {f.name: _plain(getattr(entity, f.name)) for f in dataclasses.fields(entity)}


# The modules whose code decides findings: any change to them makes earlier findings stale.
_DECIDING = ("detect", "entities.py", "validators.py", "recognizers.py", "nlp.py", "phones.py")


@cache
def _code_identity() -> str:
    """A digest of the detection code's source (read once per process)."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for name in _DECIDING:
        path = root / name
        for source in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            if source.exists():
                digest.update(source.relative_to(root).as_posix().encode() + b"\0")
                digest.update(source.read_bytes())
    return digest.hexdigest()


@cache
def _model_identity() -> str:
    """The spaCy model package and its version (what reads the names)."""
    from importlib.metadata import PackageNotFoundError, version

    from piiscan.nlp import MODEL

    try:
        return f"{MODEL} {version(MODEL.replace('_', '-'))}"
    except PackageNotFoundError:
        return f"{MODEL} (not installed)"
