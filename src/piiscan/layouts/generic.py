"""Extracts already in a dataset's canonical columns (Parquet, XLSX, CSV, TSV, pipe)."""

from __future__ import annotations

from piiscan.layouts.model import Column, Format, Kind, Layout
from piiscan.schema import DATASETS

_GENERIC_KINDS: dict[str, Kind] = {
    "account_number": "id",
    "invoice_number": "id",
    "wireless_number": "phone",
    "employee_id": "id",
    "other_number": "dialed",
    "imei": "id",
    "iccid": "id",
    "imsi": "id",
    "charge": "money",
    "tax": "money",
    "minutes": "number",
    "data_kb": "number",
    "messages": "int",
    "used": "number",
    "billable": "number",
    "bill_cycle_date": "date",
    "activation_date": "date",
    "deactivation_date": "date",
    "report_date": "date",
    "event_time": "datetime",
}
_GENERIC_REQUIRED = {
    "invoice_lines": ("wireless_number", "bill_cycle_date", "charge"),
    "usage_events": ("wireless_number", "event_time", "kind"),
    "devices": ("wireless_number", "report_date"),
    "charge_items": ("wireless_number", "bill_cycle_date", "item_category", "charge"),
}
_GENERIC_FORMATS: tuple[tuple[str, Format, str, str], ...] = (
    ("parquet", "parquet", ",", r"\.parquet$"),
    ("xlsx", "xlsx", ",", r"\.xlsx$"),
    ("csv", "csv", ",", r"\.csv$"),
    ("tsv", "csv", "\t", r"\.(tsv|txt)$"),
    ("pipe", "csv", "|", r"\.(psv|pipe|txt)$"),
)


def _generic(dataset: str, label: str, fmt: Format, separator: str, suffix: str) -> Layout:
    """A layout for an extract already in the canonical columns of a dataset."""
    required = _GENERIC_REQUIRED[dataset]
    columns = []
    for name in DATASETS[dataset]:
        kind = _GENERIC_KINDS.get(name, "text")
        fmt_text = "%Y-%m-%d" if kind == "date" else None
        columns.append(Column(name, name, kind, required=name in required, fmt=fmt_text))
    return Layout(
        name=f"generic_{dataset}_{label}",
        carrier="generic",
        dataset=dataset,
        file_pattern=rf"{dataset}.*{suffix}",
        columns=tuple(columns),
        format=fmt,
        separator=separator,
        description=f"An extract already in canonical {dataset} columns ({label})",
    )


LAYOUTS = tuple(_generic(dataset, *variant) for dataset in DATASETS for variant in _GENERIC_FORMATS)
GENERIC_INVOICE_LINES = next(g for g in LAYOUTS if g.name == "generic_invoice_lines_parquet")
