"""Header words as evidence: which entity a column header names, and which it rules out.

The vocabulary (English, German, French, Spanish) is data, in header_words.yaml beside this file.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import yaml

_VOCABULARY = yaml.safe_load((Path(__file__).with_name("header_words.yaml")).read_text("utf-8"))
HEADER_WORDS: dict[str, frozenset[str]] = {
    entity: frozenset(words) for entity, words in _VOCABULARY["entities"].items()
}
NOT_PII_WORDS = frozenset(_VOCABULARY["not_pii"])
GENERIC_WORDS = frozenset(_VOCABULARY["generic"])
PERSON_OBJECT_WORDS = frozenset(_VOCABULARY["person_objects"])


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
