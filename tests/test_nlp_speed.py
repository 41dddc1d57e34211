"""What the spaCy side skips to save time, and that skipping it changes nothing it finds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from piiscan.nlp import ner_unused


@dataclass
class _Pipe:
    listening_components: list[str] | None = None


@dataclass
class _Nlp:
    pipes: dict[str, _Pipe] = field(default_factory=dict)

    @property
    def pipe_names(self) -> list[str]:
        return list(self.pipes)

    def get_pipe(self, name: str) -> Any:
        pipe = self.pipes[name]
        if pipe.listening_components is None:
            return object()  # a component that embeds nothing for others
        return pipe


def test_the_shared_tok2vec_is_skipped_when_only_the_tagger_and_parser_listen() -> None:
    nlp = _Nlp(
        {
            "tok2vec": _Pipe(["tagger", "parser"]),
            "tagger": _Pipe(),
            "parser": _Pipe(),
            "lemmatizer": _Pipe(),
            "ner": _Pipe(),
        }
    )
    assert ner_unused(nlp) == ["tok2vec", "tagger", "parser", "lemmatizer"]


def test_a_tok2vec_the_ner_listens_to_is_kept() -> None:
    nlp = _Nlp({"tok2vec": _Pipe(["tagger", "ner"]), "tagger": _Pipe(), "ner": _Pipe()})
    assert ner_unused(nlp) == ["tagger"]


def test_a_pipeline_that_cannot_say_who_listens_keeps_its_tok2vec() -> None:
    class Opaque:
        pipe_names = ("tok2vec", "tagger", "ner")

    assert ner_unused(Opaque()) == ["tagger"]


@pytest.mark.integration
def test_the_real_model_finds_the_same_entities_without_the_shared_tok2vec() -> None:
    from piiscan.nlp import Engines

    nlp = Engines().nlp()
    unused = ner_unused(nlp)
    assert "tok2vec" in unused and "ner" not in unused
    texts = [
        "Called Jane Doe on (212) 555-0147 about the overage",
        "DOE, JANE",
        "Bill Smith",
        "Flex Pool Tier",
        "Ana María Pérez asked for a callback from Tom Baker at the Chicago store",
        "storm Katrina hit New Orleans",
    ]
    with_it = [p for p in unused if p != "tok2vec"]

    def ents(disable: list[str]) -> list[list[tuple[int, int, str]]]:
        docs = nlp.pipe(texts, disable=disable)
        return [[(e.start, e.end, e.label_) for e in doc.ents] for doc in docs]

    assert ents(unused) == ents(with_it)
