"""What detection found per dataset, and from what (state/detections/<customer>.json): per
dataset, a digest of its restricted files' keys and fingerprints and of the detector's identity,
and the findings detection made from them (names, entities, confidences and masked evidence, as
in the report; never a value). A night whose restricted files and detector are unchanged reuses
the findings instead of sampling again: no file is read and the spaCy model is not loaded.
Reviewers' overrides are applied after, every night, so a decision takes effect at once."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from piiscan.errors import NotFoundError, StorageError
from piiscan.lake import keys
from piiscan.lake.provenance import made_from
from piiscan.storage import Storage

Detections = dict[str, dict[str, Any]]  # dataset -> {"inputs": digest, "findings": [...]}


def inputs_of(storage: Storage, files: Sequence[str], detector_identity: str) -> str:
    """The digest detection of these files depends on: each file's key and fingerprint (a
    rewritten file changes it), and the detector."""
    return made_from(detector_identity, sorted((k, storage.fingerprint(k)) for k in files))


def load_detections(storage: Storage, customer: str) -> Detections:
    """The customer's record; empty when there is none yet (every dataset is then sampled)."""
    key = keys.detections(customer)
    try:
        data = json.loads(storage.read_bytes(key))
    except NotFoundError:
        return {}
    except json.JSONDecodeError:
        raise StorageError(storage.uri(key), "detection record is not valid JSON") from None
    found: Detections = data.get("datasets", {})
    return found


def save_detections(
    storage: Storage, customer: str, detections: Mapping[str, Mapping[str, Any]]
) -> None:
    """Replace the customer's record."""
    body = json.dumps({"version": 1, "datasets": detections}, indent=1, sort_keys=True, default=str)
    storage.write_bytes(keys.detections(customer), (body + "\n").encode())
