"""Header words as evidence: which entity a column header names, and which it rules out.

The vocabulary is the registry's (piiscan.entities): each entity's header words, weak words,
name words with their qualifiers, vetoes, the words that name an identifier outright, and the
words for non-PII meanings.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from piiscan import entities
from piiscan.entities import FILLER_WORDS, NOT_PII_WORDS, Entity


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


@dataclass(frozen=True)
class HeaderEvidence:
    """What one header says: the entities it names, those it names outright (an identifier's
    own name), those it counts against (a thing's name), and whether it has a non-PII meaning."""

    supported: frozenset[str] = frozenset()
    outright: frozenset[str] = frozenset()
    against: frozenset[str] = frozenset()
    not_pii: bool = False
    words: tuple[str, ...] = field(default=())


def read_header(header: str, among: Sequence[Entity] | None = None) -> HeaderEvidence:
    """Everything the header says about the registered entities (or `among`)."""
    known = tuple(entities.registered() if among is None else among)
    return _read(header, known)


@lru_cache(maxsize=4096)
def _read(header: str, known: tuple[Entity, ...]) -> HeaderEvidence:
    by_name = {e.name: e for e in known}
    listed = header_words(header)
    words = set(listed)
    parts = [w for w in listed[:-1] if w not in FILLER_WORDS] if len(listed) > 1 else listed
    not_pii = bool(words & NOT_PII_WORDS)
    supported: set[str] = set()
    outright: set[str] = set()
    against: set[str] = set()
    for entity in known:
        named = _named(entity, words, parts)
        if named == AGAINST:
            against.add(entity.name)
            continue
        vocabulary = (
            entity.header_words if not_pii else entity.header_words | (entity.weak_header_words)
        )
        if not (words & vocabulary or named):
            continue
        ruled_out = words & entity.header_vetoes or any(  # "device name", "SIM card"
            words & by_name[other].all_header_words
            for other in entity.header_collisions
            if other in by_name
        )
        if ruled_out:
            continue
        supported.add(entity.name)
        if not not_pii and (words & entity.id_header_words or named == QUALIFIED):
            outright.add(entity.name)
    return HeaderEvidence(
        frozenset(supported), frozenset(outright), frozenset(against), not_pii, tuple(listed)
    )


NO_NAME, BARE, QUALIFIED, AGAINST = 0, 1, 2, 3


def _named(entity: Entity, words: set[str], parts: list[str]) -> int:
    """How the header's name words name the entity: BARE ("Name"), QUALIFIED ("User Name"),
    AGAINST after another noun ("Country Name", "Pool Name": a thing's name), NO_NAME."""
    if not words & entity.name_words:
        return NO_NAME
    others = [w for w in parts if w not in entity.name_words]
    if not others:
        return BARE
    if any(w in entity.name_qualifiers or w in entity.header_words for w in others):
        return QUALIFIED
    return AGAINST


def header_evidence(header: str, among: Sequence[Entity] | None = None) -> tuple[set[str], bool]:
    """Entities the header names (of the registered ones, or `among`), and whether it names a
    non-PII meaning."""
    found = read_header(header, among)
    return set(found.supported), found.not_pii
