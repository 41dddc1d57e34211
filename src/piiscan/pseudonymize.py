"""Pseudonymize: the restricted zone mirrored into the analytics zone, one action per column.

Actions by name: keep, hmac (keyed HMAC-SHA256 token that still joins), drop (the column stays,
all null, so the zone keeps one schema), mask (keep the last digits), generalize (address to state
and ZIP3, date to month), redact (free text kept, every span a finder locates replaced in place
by `<ENTITY token>` or `<ENTITY>`). Keys of the JSON `extras` column get the same actions one by
one; keys detection never saw are left out. Tokens are `<key version>-<32 hex>` computed once
per distinct value (once per dataset run: its files share a TokenMap); the same value under the
same key gives the same token in every dataset and run; nulls stay null. Redaction too runs once
per distinct text, so its cost follows distinct values, not rows. Fail closed: a PII column
without an action, a missing or short key, or redact without a span finder, stops the dataset
before anything is written.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import polars as pl

from piiscan.entities import Span
from piiscan.errors import KeyMaterialError, PolicyError
from piiscan.phones import canonical_number
from piiscan.schema import EXTRAS, KNOWN_ENTITIES

MIN_KEY_BYTES = 32
TOKEN_HEX = 32
DATE_TYPES = (pl.Date, pl.Datetime)


@dataclass(frozen=True)
class Key:
    """One version of a customer's secret; repr never shows the secret."""

    customer: str
    version: str
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"k\d{1,4}", self.version):
            raise KeyMaterialError(self.customer, "version must look like k1, k2, ...")
        if len(self.secret) < MIN_KEY_BYTES:
            raise KeyMaterialError(
                self.customer, f"too short: {len(self.secret)} bytes, at least {MIN_KEY_BYTES}"
            )


def parse_keyring(customer: str, text: str) -> Key:
    """The current key from a key file: {"current": "k2", "keys": {"k1": hex, "k2": hex}}."""
    try:
        data = json.loads(text)
        version = data["current"]
        secret = bytes.fromhex(data["keys"][version])
    except (ValueError, KeyError, TypeError) as exc:
        problem = type(exc).__name__
        raise KeyMaterialError(
            customer, f"key file must be JSON {{current, keys: {{version: hex}}}} ({problem})"
        ) from None
    return Key(customer, version, secret)


def new_keyring(previous: str | None = None) -> str:
    """A key file with a fresh 32-byte key as the next version (rotation keeps old versions)."""
    import secrets

    data: dict[str, Any] = json.loads(previous) if previous else {"keys": {}}
    versions = [int(v[1:]) for v in data["keys"]]
    version = f"k{max(versions, default=0) + 1}"
    data["keys"][version] = secrets.token_hex(MIN_KEY_BYTES)
    data["current"] = version
    return json.dumps(data, indent=1) + "\n"


def tokens(values: Iterable[str], key: Key, entity: str) -> dict[str, str]:
    """value -> token, one HMAC per distinct value; the entity keeps kinds apart."""
    prefix = f"{entity}\x1f".encode()
    return {
        value: f"{key.version}-"
        + hmac.new(key.secret, prefix + value.encode("utf-8"), hashlib.sha256).hexdigest()[
            :TOKEN_HEX
        ]
        for value in values
    }


# Per TokenMap, all entities together: a million phone numbers with their tokens take about 60 MB.
MAX_CACHED_VALUES = 1_000_000


@dataclass(frozen=True, repr=False)  # no repr: it would show raw values
class _Issued:
    """Distinct values of one entity and their tokens, row for row; `codes` is an Enum of the
    values, so a column's cells find their row by one cast (no hash join, no second pass)."""

    values: pl.Series
    tokens: pl.Series
    codes: pl.Enum

    @classmethod
    def of(cls, values: pl.Series, issued: pl.Series) -> _Issued:
        """values (distinct, no null) and their tokens."""
        return cls(values, issued, pl.Enum(values))

    def extended(self, more: _Issued) -> _Issued:
        """These values and `more` (none of them among these)."""
        values = pl.concat([self.values, more.values], rechunk=True)
        return _Issued.of(values, pl.concat([self.tokens, more.tokens], rechunk=True))

    def map(self, text: pl.Series) -> tuple[pl.Series, pl.Series]:
        """Each cell's token (null for a null or a value not here), and the cells not here."""
        codes = text.cast(self.codes, strict=False).to_physical()
        if codes.null_count() == text.null_count():  # every value is here (null counts are kept)
            return self.tokens.gather(codes), text.clear()
        return self.tokens.gather(codes), text.filter(codes.is_null() & text.is_not_null())


class TokenMap:
    """value -> token of one key, per entity, kept across the files of one dataset run so that
    each distinct value is HMAC'd once per run, not once per file. In memory only: it maps raw
    values, so it is never persisted, logged or shown (its repr gives counts alone). Bounded: past
    `max_values` cached values, tokens of further values are computed per call as without it."""

    __slots__ = ("_known", "_size", "key", "max_values")

    def __init__(self, key: Key, max_values: int = MAX_CACHED_VALUES) -> None:
        """An empty map for `key`."""
        self.key = key
        self.max_values = max_values
        self._known: dict[str, _Issued] = {}
        self._size = 0

    def __repr__(self) -> str:
        """The key version and how many values are cached; never a value or a token."""
        return f"TokenMap(key={self.key.version}, values={self._size})"

    @property
    def size(self) -> int:
        """How many values are cached, all entities together."""
        return self._size

    def _issue(self, values: pl.Series, entity: str) -> _Issued:
        """Tokens of values (distinct, no null) not issued yet."""
        issued = tokens(values.to_list(), self.key, entity)
        return _Issued.of(
            pl.Series(list(issued), dtype=pl.String),
            pl.Series(list(issued.values()), dtype=pl.String),
        )

    def map(self, series: pl.Series, entity: str) -> pl.Series:
        """Every cell's token (a String series; nulls stay null), HMACs only for values this map
        has not seen under `entity`."""
        text = series.cast(pl.String)
        known = self._known.get(entity)
        if known is None:
            fresh = self._issue(text.drop_nulls().unique(), entity)
            out, _ = fresh.map(text)
            if self._size + fresh.values.len() <= self.max_values:
                self._known[entity] = fresh
                self._size += fresh.values.len()
            return out.alias(series.name)
        out, missing = known.map(text)
        if missing.is_empty():
            return out.alias(series.name)
        every = known.extended(self._issue(missing.unique(), entity))
        if self._size + every.values.len() - known.values.len() <= self.max_values:
            self._known[entity] = every
            self._size = self._size + every.values.len() - known.values.len()
        out, _ = every.map(text)
        return out.alias(series.name)


def _token_expr(
    series: pl.Series, key: Key, entity: str, token_map: TokenMap | None = None
) -> pl.Series:
    """The column's tokens; through token_map when given (it must hold the same key)."""
    if token_map is None:
        token_map = TokenMap(key)
    elif token_map.key != key:
        raise ValueError("the token map holds another key")
    return token_map.map(series, entity)


def _mask(series: pl.Series) -> pl.Series:
    text = series.cast(pl.String)
    keep = 4
    hidden = text.str.slice(0, text.str.len_chars() - keep).str.replace_all(r"[0-9A-Za-z]", "*")
    return (hidden + text.str.slice(-keep)).alias(series.name)


class SpanFinder(Protocol):
    """What finds entities in free text (piiscan.nlp.Engines: Presidio's analyzer with ours)."""

    def find_spans(self, texts: Sequence[str]) -> list[list[Span]]:
        """Per text, the entities found in it, not overlapping, in text order."""
        ...


@dataclass(frozen=True)
class Redaction:
    """How `redact` replaces a span: `token` (keyed, `<PERSON k1-…>`) or `tag` (`<PERSON>`)."""

    finder: SpanFinder
    style: str = "token"


def _span_key(entity: str, text: str) -> str:
    """The form a span is tokenized in: a phone number canonical (its token joins the hmac'd
    wireless_number column), an e-mail lower-cased, anything else as written."""
    if entity == "PHONE_NUMBER":
        return canonical_number(text) or text
    return text.lower() if entity == "EMAIL_ADDRESS" else text


def redact_texts(texts: Sequence[str], key: Key, redaction: Redaction) -> list[str]:
    """Each text with every span the finder locates replaced in place."""
    found = redaction.finder.find_spans(texts)
    per_entity: dict[str, set[str]] = {}
    if redaction.style == "token":
        for text, spans in zip(texts, found, strict=True):
            for span in spans:
                per_entity.setdefault(span.entity, set()).add(
                    _span_key(span.entity, text[span.start : span.end])
                )
    issued = {entity: tokens(sorted(values), key, entity) for entity, values in per_entity.items()}
    out = []
    for text, spans in zip(texts, found, strict=True):
        parts, at = [], 0
        for span in spans:
            parts.append(text[at : span.start])
            if redaction.style == "token":
                value = _span_key(span.entity, text[span.start : span.end])
                parts.append(f"<{span.entity} {issued[span.entity][value]}>")
            else:
                parts.append(f"<{span.entity}>")
            at = span.end
        parts.append(text[at:])
        out.append("".join(parts))
    return out


def _redact(series: pl.Series, key: Key, redaction: Redaction | None, dataset: str) -> pl.Series:
    if redaction is None:
        raise PolicyError(dataset, series.name, "redact needs the NLP engines (a span finder)")
    text = series.cast(pl.String)
    distinct = text.drop_nulls().unique().to_list()
    mapping = dict(zip(distinct, redact_texts(distinct, key, redaction), strict=True))
    return text.replace_strict(mapping, default=None, return_dtype=pl.String).alias(series.name)


def _generalize(series: pl.Series, entity: str | None, dataset: str) -> pl.Series:
    if series.dtype in DATE_TYPES or isinstance(series.dtype, pl.Datetime):
        return series.dt.truncate("1mo")
    if entity == "LOCATION":
        found = series.cast(pl.String).str.extract_groups(
            r"\b([A-Z]{2})\s+(\d{3})\d{2}(?:-\d{4})?\s*$"
        )
        state, zip3 = found.struct.field("1"), found.struct.field("2")
        return (state + " " + zip3).alias(series.name)
    raise PolicyError(
        dataset,
        series.name,
        f"generalize is defined for addresses and dates, not {entity or 'this column'}",
    )


def apply(
    series: pl.Series,
    action: str,
    entity: str | None,
    key: Key,
    dataset: str,
    redaction: Redaction | None = None,
    token_map: TokenMap | None = None,
) -> pl.Series:
    """The column after its action. A dropped column stays, all null, so that every file of a
    dataset keeps one analytics schema whatever each customer's policy drops. token_map: the
    tokens already issued in this run (hmac), else a fresh map for this column alone."""
    if action == "keep":
        return series
    if action == "drop":
        return pl.Series(series.name, [], dtype=series.dtype).extend_constant(None, len(series))
    if action == "hmac":
        return _token_expr(series, key, entity or "VALUE", token_map).alias(series.name)
    if action == "mask":
        return _mask(series)
    if action == "generalize":
        return _generalize(series, entity, dataset)
    if action == "redact":
        return _redact(series, key, redaction, dataset)
    raise PolicyError(dataset, series.name, f"unknown action {action!r}")


@dataclass(frozen=True)
class ColumnPlan:
    """What happens to one column, and why (for the report)."""

    column: str
    entity: str | None
    action: str
    source: str  # design | detection | review (configs/overrides.yaml) | override (actions.yaml)


def plan_columns(
    dataset: str,
    columns: Iterable[str],
    detected: Mapping[str, str | None],
    entity_actions: Mapping[str, str],
    column_actions: Mapping[str, str],
    reviewed: Collection[str] = (),
) -> list[ColumnPlan]:
    """Per column: its entity (review, design, then detection) and its action (override, then
    entity). A reviewed column's entity is in `detected` and wins over the design's."""
    plans = []
    for column in columns:
        review = column in reviewed
        entity = (
            detected.get(column) if review else KNOWN_ENTITIES.get(column) or detected.get(column)
        )
        if column in column_actions:
            plans.append(ColumnPlan(column, entity, column_actions[column], "override"))
            continue
        if entity is None:
            plans.append(ColumnPlan(column, None, "keep", "review" if review else "design"))
            continue
        action = entity_actions.get(entity)
        if action is None:
            raise PolicyError(dataset, column, f"tagged {entity} but no action is configured")
        source = "review" if review else "design" if column in KNOWN_ENTITIES else "detection"
        plans.append(ColumnPlan(column, entity, action, source))
    return plans


def pseudonymize_frame(
    frame: pl.DataFrame,
    plans: list[ColumnPlan],
    key: Key,
    dataset: str,
    extras_plans: list[ColumnPlan] | None = None,
    redaction: Redaction | None = None,
    token_map: TokenMap | None = None,
) -> pl.DataFrame:
    """The frame with every column's action applied; extras keys get their own plans.
    token_map: share one across the files of a run so each value is HMAC'd once (same tokens)."""
    if token_map is None:
        token_map = TokenMap(key)
    out: list[pl.Series] = []
    for plan in plans:
        column = frame[plan.column]
        if plan.column == EXTRAS and extras_plans is not None:
            out.append(
                _pseudonymize_extras(column, extras_plans, key, dataset, redaction, token_map)
            )
            continue
        out.append(apply(column, plan.action, plan.entity, key, dataset, redaction, token_map))
    return pl.DataFrame(out)


def _pseudonymize_extras(
    series: pl.Series,
    plans: list[ColumnPlan],
    key: Key,
    dataset: str,
    redaction: Redaction | None = None,
    token_map: TokenMap | None = None,
) -> pl.Series:
    """Layout-specific columns inside the JSON `extras`: the same actions, key by key."""
    if series.null_count() == len(series) or not plans:
        return series
    decoded = series.str.json_decode(infer_schema_length=None)
    if not isinstance(decoded.dtype, pl.Struct):
        return series
    frame = decoded.struct.unnest()
    kept = []
    for plan in plans:  # keys no plan covers (never sampled by detection) are left out
        name = plan.column.removeprefix(f"{EXTRAS}.")
        if name in frame.columns and plan.action != "drop":
            series = frame[name].cast(pl.String)
            kept.append(apply(series, plan.action, plan.entity, key, dataset, redaction, token_map))
    if not kept:
        return pl.Series(EXTRAS, [None] * len(series), dtype=pl.String)
    return pl.DataFrame(kept).select(pl.struct(pl.all()).struct.json_encode().alias(EXTRAS))[EXTRAS]


@dataclass(frozen=True)
class DatasetResult:
    """PII-free outcome for one dataset of one customer."""

    dataset: str
    files: int
    rows: int
    columns: tuple[ColumnPlan, ...]
    outputs: tuple[str, ...]
    files_written: int | None = None  # None: every file (no incremental record)
