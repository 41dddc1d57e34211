"""Reviewer overrides: decisions about columns that win over detection, kept in configs/.

`configs/overrides.yaml` is version-controlled; `piiscan review` appends decisions to it so a
correction sticks across runs. An override names a customer (or '*'), a lake dataset or a carrier
layout, and a column: `confirm` pins the entity detection found, `reject` says the column is not
personal data, `set` gives the entity detection missed or got wrong. Each carries a reason, who
decided and when, and every report shows it beside what detection said.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

import yaml

from piiscan.detect import ColumnFinding
from piiscan.errors import ConfigError
from piiscan.policy import OVERRIDES_FILE, Config, Override, OverridesFile

HEADER = """\
# Reviewer decisions about columns; they win over detection in every run and report.
# Written by `piiscan review confirm|reject|set`; edit by hand if you like (validated at load).
#   customer: a customer id or '*'; dataset (lake) or layout (carrier files); column
#   decision: confirm (entity is right) | reject (not personal data) | set (entity given)
# confidence_threshold: a tagged column whose confidence falls below it needs review.
"""


def apply_overrides(
    findings: Sequence[ColumnFinding],
    overrides: Mapping[str, Override],
    actions: Mapping[str, str],
) -> list[ColumnFinding]:
    """Findings with the reviewers' decisions applied; overrides of absent columns are ignored."""
    out = []
    for finding in findings:
        override = overrides.get(finding.name)
        if override is None:
            out.append(finding)
            continue
        entity = None if override.decision == "reject" else override.entity
        out.append(
            replace(
                finding,
                entity=entity,
                confidence=1.0,
                action=actions.get(entity, "keep") if entity else "keep",
                source="review",
                detected_entity=finding.entity,
                review=review_json(override),
            )
        )
    return out


def review_json(override: Override) -> dict[str, str]:
    """How a report shows an override (no values: names, reasons, people, dates)."""
    return {
        "decision": override.decision,
        "reason": override.reason,
        "decided_by": override.decided_by,
        "decided_at": override.decided_at.isoformat(),
        "scope": override.customer,
    }


def overrides_path(config_dir: str | Path) -> Path:
    """Where the overrides of a config folder live."""
    return Path(config_dir) / OVERRIDES_FILE


def record(config_dir: str | Path, config: Config, override: Override) -> OverridesFile:
    """Add or replace the decision for the override's scope and rewrite overrides.yaml."""
    if override.customer != "*":
        config.customer(override.customer)
    kept = [o for o in config.review.overrides if o.scope != override.scope]
    document = config.review.model_copy(update={"overrides": (*kept, override)})
    save(config_dir, OverridesFile.model_validate(document.model_dump()))
    return document


def save(config_dir: str | Path, document: OverridesFile) -> None:
    """Write overrides.yaml in a stable order, so version control shows one change per decision."""
    path = overrides_path(config_dir)
    data = document.model_dump(mode="json", exclude_none=True)
    data["overrides"] = sorted(
        data["overrides"],
        key=lambda o: (o["customer"], o.get("dataset") or o["layout"], o["column"]),
    )
    text = HEADER + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    temporary = path.with_suffix(".yaml.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    except OSError as exc:
        raise ConfigError(str(path), "<file>", f"cannot write: {exc.strerror}") from None


def new_override(
    *,
    customer: str,
    column: str,
    decision: str,
    reason: str,
    decided_by: str,
    dataset: str | None = None,
    layout: str | None = None,
    entity: str | None = None,
    decided_at: date,
) -> Override:
    """A validated override from CLI arguments; errors name the argument that is wrong."""
    from pydantic import ValidationError

    try:
        return Override.model_validate(
            {
                "customer": customer,
                "dataset": dataset,
                "layout": layout,
                "column": column,
                "decision": decision,
                "entity": entity,
                "reason": reason,
                "decided_by": decided_by,
                "decided_at": decided_at,
            }
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "override"
        raise ConfigError("piiscan review", where, first["msg"]) from None
