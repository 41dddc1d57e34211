"""Header words as evidence: which entity a column header names, and which it rules out.

The vocabulary is the registry's (piiscan.entities): each entity's header words, weak words
and vetoes, and the words for non-PII meanings.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from piiscan import entities
from piiscan.entities import NOT_PII_WORDS, Entity


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


def header_evidence(header: str, among: Sequence[Entity] | None = None) -> tuple[set[str], bool]:
    """Entities the header names (of the registered ones, or `among`), and whether it names a
    non-PII meaning."""
    known = entities.registered() if among is None else among
    by_name = {e.name: e for e in known}
    words = set(header_words(header))
    not_pii = bool(words & NOT_PII_WORDS)
    supported: set[str] = set()
    for entity in known:
        vocabulary = entity.header_words if not_pii else entity.all_header_words
        if not words & vocabulary:
            continue
        ruled_out = words & entity.header_vetoes or any(  # "device name", "SIM card"
            words & by_name[other].all_header_words
            for other in entity.header_collisions
            if other in by_name
        )
        if not ruled_out:
            supported.add(entity.name)
    return supported, not_pii
