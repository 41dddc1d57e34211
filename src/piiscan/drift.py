"""Drift between scans: what changed in a customer's columns since the previous report.

Flagged (each change once, then carried as pending until a reviewer decides):
- `new_column`: a column the previous scan of the dataset did not have (a new carrier column,
  or a renamed header);
- `became_pii`: a column that was not personal data and now is;
- `entity_changed`: a personal-data column whose entity changed;
- `confidence_drop`: a tagged column whose confidence fell below the review threshold;
- `no_longer_pii`: a column that was personal data and no longer is (its values would reach the
  analytics zone untouched, so a person must agree).
- `detection_changed`: a column a reviewer decided (an override in configs/) on which detection
  now finds another entity than at the previous scan (or none, or one where it found none): the
  decision was made on other evidence, so it stands but needs another look. It stays pending
  until the override is decided again (`decided_at` on or after the day it was first seen).
- `header_only`: a column tagged from its header alone (`source: header`: its values are empty,
  masked or placeholders and cannot confirm it); flagged from the first scan on, and pending
  until a reviewer decides the column.
- `low_confidence`: a column detection tagged with a confidence under the review threshold
  (e.g. `extras.surname` at 0.705 against 0.8); flagged from the first scan on, while it holds
  and until a reviewer decides the column. A confidence that falls below the threshold is a
  `confidence_drop` first.
`header_only` and `low_confidence` are standing conditions: they are worked out again at every
scan (keeping the run they were first seen in) rather than carried.
A new dataset is one item; its personal-data columns are flagged as new columns. Columns a
reviewer decided are otherwise never flagged, and a decision clears what was pending for the
column. The first scan of a customer is the baseline: nothing is flagged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

KINDS = (
    "new_dataset",
    "new_column",
    "became_pii",
    "entity_changed",
    "confidence_drop",
    "no_longer_pii",
    "detection_changed",
    "header_only",
    "low_confidence",
)
STANDING = ("header_only", "low_confidence")  # worked out at every scan, never carried
NEEDS_A_LOOK = "needs review"


def _columns(datasets: Mapping[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (dataset, column["name"]): column
        for dataset, body in datasets.items()
        for column in body["columns"]
    }


def _kinds(previous: dict[str, Any] | None, current: dict[str, Any], threshold: float) -> list[str]:
    if previous is None:
        return ["new_column", "became_pii"] if current["entity"] else ["new_column"]
    before, now = previous["entity"], current["entity"]
    if before is None and now is not None:
        return ["became_pii"]
    if before is not None and now is None:
        return ["no_longer_pii"]
    if before != now:
        return ["entity_changed"]
    if now is not None and current["confidence"] < threshold <= previous["confidence"]:
        return ["confidence_drop"]
    return []


def _detected(column: Mapping[str, Any]) -> Any:
    """What detection found for a column, whatever a reviewer decided."""
    return column.get("detected_entity", column["entity"])


def _contradicted(
    previous: dict[str, Any] | None, current: dict[str, Any]
) -> dict[str, Any] | None:
    """The item for a reviewed column whose detection result changed since the previous scan."""
    if previous is None or _detected(previous) == _detected(current):
        return None
    decision = (current.get("review") or {}).get("decision")
    return {
        "kinds": ["detection_changed"],
        "previous": {"entity": _detected(previous), "confidence": None},
        "current": {"entity": _detected(current), "confidence": None, "decision": decision},
    }


def _brief(column: dict[str, Any] | None) -> dict[str, Any] | None:
    if column is None:
        return None
    return {"entity": column["entity"], "confidence": column["confidence"]}


def detect_drift(
    previous: Mapping[str, Any] | None,
    datasets: Mapping[str, Any],
    reviewed: Iterable[tuple[str, str]],
    run_id: str,
    threshold: float,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(new items, pending items) for a run; `reviewed` holds (dataset, column) with an override.

    `previous` is the previous report document (None for a customer's first scan); pending items
    are the new ones plus the previous report's pending items that no decision has cleared and
    whose column still exists.
    """
    decided = set(reviewed)
    if previous is None:  # the baseline: only the standing conditions are flagged
        baseline = _standing(datasets, decided, run_id, {}, threshold, [])
        return baseline, list(baseline)
    before = _columns(previous["datasets"])
    now = _columns(datasets)
    items: list[dict[str, Any]] = []
    for dataset in sorted(set(datasets) - set(previous["datasets"])):
        pii = [c["name"] for c in datasets[dataset]["columns"] if c["entity"]]
        items.append(
            {
                "dataset": dataset,
                "column": None,
                "kinds": ["new_dataset"],
                "previous": None,
                "current": {"columns": len(datasets[dataset]["columns"]), "pii_columns": len(pii)},
            }
        )
    for (dataset, name), column in sorted(now.items()):
        if column.get("source") == "review":
            contradicted = _contradicted(before.get((dataset, name)), column)
            if contradicted:
                items.append({"dataset": dataset, "column": name, **contradicted})
            continue
        if (dataset, name) in decided:
            continue
        if dataset not in previous["datasets"] and not column["entity"]:
            continue  # covered by the new_dataset item
        kinds = _kinds(before.get((dataset, name)), column, threshold)
        if kinds:
            items.append(
                {
                    "dataset": dataset,
                    "column": name,
                    "kinds": kinds,
                    "previous": _brief(before.get((dataset, name))),
                    "current": _brief(column),
                }
            )
    for item in items:
        item["first_seen"] = run_id
    earlier = previous.get("review", {}).get("pending", [])
    flagged = {(i["dataset"], i["column"]) for i in items}
    carried = []
    for item in earlier:  # standing kinds are worked out again below, the others carried
        kinds = [k for k in item["kinds"] if k not in STANDING]
        key = (item["dataset"], item["column"])
        if kinds and key not in flagged and _still_pending(item, now, datasets, decided):
            carried.append({**item, "kinds": kinds})
    by_column = {(i["dataset"], i["column"]): i for i in items + carried}
    for item in _standing(datasets, decided, run_id, before, threshold, earlier):
        found = by_column.get((item["dataset"], item["column"]))
        if found is None:
            items.append(item)
        elif "confidence_drop" not in found["kinds"]:  # one item per column
            found["kinds"] = [*found["kinds"], *item["kinds"]]
    pending = sorted(carried + items, key=lambda i: (i["dataset"], i["column"] or ""))
    return [i for i in items if i["first_seen"] == run_id], pending


def _standing_kinds(column: Mapping[str, Any], threshold: float) -> list[str]:
    if column.get("source") == "header":
        return ["header_only"]
    tagged = column.get("source") == "detection" and column["entity"]
    if tagged and column["confidence"] < threshold:
        return ["low_confidence"]
    return []


def _standing(
    datasets: Mapping[str, Any],
    decided: set[tuple[str, str]],
    run_id: str,
    before: Mapping[tuple[str, str], dict[str, Any]],
    threshold: float,
    earlier: Iterable[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """Items for the columns no reviewer has decided that are tagged from their header alone
    or under the review threshold; each keeps the run an earlier report first saw it in."""
    seen = {(i["dataset"], i["column"]): i["first_seen"] for i in earlier}
    items = []
    for (dataset, name), column in sorted(_columns(datasets).items()):
        kinds = _standing_kinds(column, threshold)
        if not kinds or (dataset, name) in decided:
            continue
        items.append(
            {
                "dataset": dataset,
                "column": name,
                "kinds": kinds,
                "previous": _brief(before.get((dataset, name))),
                "current": _brief(column),
                "first_seen": seen.get((dataset, name), run_id),
            }
        )
    return items


def _still_pending(
    item: Mapping[str, Any],
    now: Mapping[tuple[str, str], dict[str, Any]],
    datasets: Mapping[str, Any],
    decided: set[tuple[str, str]],
) -> bool:
    """Whether a previously flagged change still waits for a decision."""
    if item["column"] is None:
        return item["dataset"] in datasets and not _dataset_decided(item, datasets)
    key = (item["dataset"], item["column"])
    column = now.get(key)
    if column is not None and "detection_changed" in item["kinds"]:
        decided_at = (column.get("review") or {}).get("decided_at")
        return decided_at is not None and decided_at.replace("-", "") < item["first_seen"][:8]
    return column is not None and key not in decided and column.get("source") != "review"


def _dataset_decided(item: Mapping[str, Any], datasets: Mapping[str, Any]) -> bool:
    """A new_dataset item is settled once every personal-data column of it has a decision."""
    if item["column"] is not None:
        return False
    columns = datasets[item["dataset"]]["columns"]
    return all(c.get("source") == "review" for c in columns if c["entity"])
