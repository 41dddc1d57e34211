"""Column classification: which PII entity a column holds, how sure we are, and why.

Per column: a reproducible sample of distinct non-null values (sampling.py); per entity of the
registry (piiscan.entities) the share of sampled values that validate, bounded below for small
samples; the header's words for or against (headers.py, a header raises or lowers confidence
and never decides alone, except for the entities whose validators collide with telecom
identifiers); spaCy only for text that could be names, batched (classify.py). Evidence is masked.
"""

from piiscan.detect.classify import ColumnFinding, Detector, Models, Settings
from piiscan.detect.headers import HeaderEvidence, header_evidence, header_words, read_header
from piiscan.detect.sampling import mask, sample_values, uninformative, wilson_lower

__all__ = [
    "ColumnFinding",
    "Detector",
    "HeaderEvidence",
    "Models",
    "Settings",
    "header_evidence",
    "header_words",
    "mask",
    "read_header",
    "sample_values",
    "uninformative",
    "wilson_lower",
]
