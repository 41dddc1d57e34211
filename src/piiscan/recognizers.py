"""Presidio recognizers built from the registry (piiscan.entities), for free text.

An entry with patterns becomes a pattern recognizer whose matches must pass the entry's
validator (the one the column classifier uses); an entry found by the customer's patterns
becomes one over those patterns; an entry that names a Presidio recognizer gets Presidio's,
under our collision rules: a match Presidio accepts must pass the entry's validator too (a
Luhn-valid IMEI is no credit card). spaCy's names are PERSON only: our LOCATION is a street
address (its own pattern), not every city the model knows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, predefined_recognizers

from piiscan import entities as registry
from piiscan.entities import Entity


class RegistryRecognizer(PatternRecognizer):
    """A registry entry's patterns and context words; its validator is the validation hook."""

    def __init__(self, entity: Entity, among: Sequence[Entity] | None = None) -> None:
        self.check = registry.validator(entity, among)
        super().__init__(
            supported_entity=entity.name,
            name=f"{entity.name} (piiscan)",
            patterns=[Pattern(p.name, p.regex, p.score) for p in entity.patterns],
            context=sorted(entity.context),
        )

    def validate_result(self, pattern_text: str) -> bool:
        return self.check(pattern_text)


class CustomerPatternRecognizer(PatternRecognizer):
    """A customer's own patterns for an entry (employee IDs); in free text they need context."""

    SCORE = 0.3

    def __init__(self, entity: Entity, patterns: Iterable[str]) -> None:
        super().__init__(
            supported_entity=entity.name,
            name=f"{entity.name} (customer patterns)",
            patterns=[
                Pattern(f"{entity.name.lower()} {i}", rf"\b{p}\b", self.SCORE)
                for i, p in enumerate(patterns)
            ],
            context=sorted(entity.context),
        )


def recognizer(name: str) -> RegistryRecognizer:
    """The pattern recognizer of one registered entity (which must have patterns)."""
    entity = registry.get(name)
    if entity is None or not entity.patterns:
        raise KeyError(f"no registered entity with patterns named {name}")
    return RegistryRecognizer(entity)


def analyzer_recognizers(
    customer_patterns: Iterable[str] = (), among: Sequence[Entity] | None = None
) -> list[EntityRecognizer]:
    """Every recognizer a Presidio registry needs for the registered entities (or `among`): ours,
    then Presidio's (one per class, over every entity that names it)."""
    known = registry.registered() if among is None else tuple(among)
    patterns = list(customer_patterns)
    ours: list[EntityRecognizer] = []
    presidio: dict[str, list[str]] = {}
    for entity in known:
        if entity.patterns:
            ours.append(RegistryRecognizer(entity, known))
        elif entity.recognized_by == "customer_patterns" and patterns:
            ours.append(CustomerPatternRecognizer(entity, patterns))
        if entity.presidio is not None:
            presidio.setdefault(entity.presidio, []).append(entity.name)
    return ours + [r for name, names in presidio.items() for r in _predefined(name, names, known)]


def _predefined(
    class_name: str, names: list[str], known: Sequence[Entity]
) -> list[EntityRecognizer]:
    """Presidio's predefined recognizer of that class for those entities: a pattern recognizer
    per entity (its matches checked by our validator), or one NER recognizer for all of them."""
    cls = getattr(predefined_recognizers, class_name)
    by_name = {e.name: e for e in known}
    if issubclass(cls, PatternRecognizer):
        return [_under_our_rules(cls, by_name[name], known) for name in names]
    checks = {name: check for name in names if (check := by_name[name].validator) is not None}
    if not checks:
        return [cls(supported_entities=names)]

    class Checked(cls):  # type: ignore[valid-type,misc]
        """The model's findings, each kept only if the entry's validator accepts its text."""

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> Any:
            found = super().analyze(text, entities, nlp_artifacts)
            return [
                r
                for r in found
                if (check := checks.get(r.entity_type)) is None or check(text[r.start : r.end])
            ]

    Checked.__name__ = Checked.__qualname__ = cls.__name__
    recognizer: EntityRecognizer = Checked(supported_entities=names)
    return [recognizer]


def _under_our_rules(
    cls: type[PatternRecognizer], entity: Entity, known: Sequence[Entity]
) -> PatternRecognizer:
    """Presidio's pattern recognizer whose matches must also pass the entry's validator with
    its collisions; a match that does keeps Presidio's own score."""
    check = registry.validator(entity, known) if entity.validator is not None else None

    class Ruled(cls):  # type: ignore[valid-type,misc]
        def validate_result(self, pattern_text: str) -> bool | None:
            result: bool | None = super().validate_result(pattern_text)
            if result is False or (check is not None and not check(pattern_text)):
                return False
            return result

    Ruled.__name__ = Ruled.__qualname__ = cls.__name__
    recognizer: PatternRecognizer = Ruled(supported_entity=entity.name)
    return recognizer
