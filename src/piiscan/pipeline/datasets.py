"""What each dataset holds in the restricted and the analytics zone: the lake's contract for the
people who read it (`piiscan datasets`, docs/DATASETS.md).

Columns, types and the period come from the registry (piiscan.schema); what analytics does with
a column comes from the configured actions, as a night would plan it for the columns whose
entity is known by design. Columns inside `extras` are planned per run, from detection.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from piiscan.policy import Config
from piiscan.pseudonymize import plan_columns
from piiscan.schema import EXTRAS, REGISTRY

ACTIONS = {
    "keep": "as delivered",
    "hmac": "keyed token (joins across files and nights; not reversible without the key)",
    "drop": "not in analytics",
    "mask": "last digits only",
    "generalize": "coarser value",
    "redact": "text with personal spans replaced",
}


def type_name(dtype: pl.DataType) -> str:
    """A column type in words a reader of any Parquet tool knows."""
    if isinstance(dtype, pl.Decimal):
        return f"decimal({dtype.precision},{dtype.scale})"
    if isinstance(dtype, pl.Datetime):
        return "timestamp (UTC, microseconds)"
    names = {pl.String: "string", pl.Date: "date", pl.Float64: "double", pl.Int64: "int64"}
    return next((shown for kind, shown in names.items() if isinstance(dtype, kind)), str(dtype))


def dataset_contract(config: Config) -> list[dict[str, Any]]:
    """Per dataset: grain, period, and per column its type, entity and analytics action."""
    entity_actions = config.entity_actions()
    described = []
    for dataset in REGISTRY.values():
        overrides = {c: str(a) for c, a in config.column_actions.get(dataset.name, {}).items()}
        plans = plan_columns(dataset.name, dataset.columns, {}, entity_actions, overrides)
        columns = [
            {
                "name": plan.column,
                "type": type_name(dataset.columns[plan.column]),
                "entity": plan.entity,
                "analytics": plan.action,
            }
            for plan in plans
        ]
        columns.append(
            {
                "name": EXTRAS,
                "type": "string (JSON object)",
                "entity": None,
                "analytics": "per key, as detected each night",
            }
        )
        described.append(
            {
                "dataset": dataset.name,
                "grain": dataset.grain,
                "period_column": dataset.period_column,
                "period": dataset.period_means,
                "columns": columns,
            }
        )
    return described


def contract_markdown(contract: list[dict[str, Any]]) -> str:
    """The contract as Markdown: a section per dataset, a table of its columns."""
    lines = [
        "# Datasets",
        "",
        "What each dataset of the lake holds (`piiscan datasets` prints this for your configs;",
        "this page is its output for the shipped `configs/`). Both zones are partitioned by",
        "`customer` and `period` (`YYYY-MM`); the analytics zone has the same rows, with each",
        "column's action applied. Actions: "
        + "; ".join(f"`{action}`: {meaning}" for action, meaning in ACTIONS.items())
        + ".",
    ]
    for entry in contract:
        lines += [
            "",
            f"## `{entry['dataset']}`",
            "",
            f"{entry['grain']} `period` is {entry['period']} (from `{entry['period_column']}`).",
            "",
            "| column | type | entity | analytics |",
            "| --- | --- | --- | --- |",
        ]
        for column in entry["columns"]:
            entity = f"`{column['entity']}`" if column["entity"] else ""
            action = column["analytics"]
            shown = f"`{action}`" if action in ACTIONS else action
            lines.append(f"| `{column['name']}` | {column['type']} | {entity} | {shown} |")
    return "\n".join(lines) + "\n"
