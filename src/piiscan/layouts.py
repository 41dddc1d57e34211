"""Carrier layouts as data: file-name pattern, header, and what each column maps onto.

A layout is recognised from the file name and its header signature (the required columns).
Header matching ignores case, surrounding spaces and a BOM. Columns of a file that the layout does
not list are kept as extra string columns under a snake_case name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from piiscan.schema import DATASETS

Kind = Literal[
    "text",  # stripped string; N/A, NA and blanks become null
    "id",  # identifier string; scientific notation (Excel damage) is a row error
    "phone",  # a wireless number, canonical (piiscan.phones: 10 NANP digits)
    "dialed",  # the other party: digits only (short codes and international allowed)
    "money",  # $1,234.56 / (948.03) / ($948.03) / -12.00 -> Decimal(18, 2)
    "number",  # 167.000000000000000 / 1,234.5 -> Float64
    "int",  # 12 / 1,204 -> Int64
    "date",  # parsed with Column.fmt
    "mmss",  # Bell durations 1053:00 (minutes:seconds) -> minutes as Float64
    "datetime",  # ISO 8601 date-time (generic extracts)
]
Format = Literal["csv", "xlsx", "parquet"]


@dataclass(frozen=True)
class Column:
    """One delivered column and where it goes."""

    header: str
    target: str
    kind: Kind = "text"
    required: bool = False
    fmt: str | None = None
    french: str | None = None  # Bell's second header row


@dataclass(frozen=True)
class Layout:
    """A carrier file layout and its mapping onto a canonical dataset."""

    name: str
    carrier: str
    dataset: str | None  # None: a reference file used by its siblings (Verizon AccountSummary)
    file_pattern: str  # regular expression searched in the file name, case-insensitive
    columns: tuple[Column, ...]
    format: Format = "csv"
    separator: str = ","
    encoding: str = "utf-8"
    header_rows: int = 1
    max_preamble: int = 0  # lines allowed before the header (T-Mobile metadata rows)
    description: str = ""
    fields: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", {normalize(c.header): c for c in self.columns})

    @property
    def headers(self) -> list[str]:
        """The header row as the carrier writes it."""
        return [c.header for c in self.columns]

    @property
    def signature(self) -> list[str]:
        """Headers that must be present for a file to be of this layout."""
        return [c.header for c in self.columns if c.required]

    def matches_name(self, file_name: str) -> bool:
        """Whether the file name looks like this layout's files."""
        return re.search(self.file_pattern, file_name, re.IGNORECASE) is not None


def normalize(header: str) -> str:
    """Header text as compared: no BOM, single spaces, lower case."""
    return " ".join(header.replace("\ufeff", "").split()).lower()


def _c(header: str, target: str, kind: Kind = "text", **kw: object) -> Column:
    return Column(header, target, kind, **kw)  # type: ignore[arg-type]


VERIZON_ACCOUNT_SUMMARY = Layout(
    name="verizon_account_summary",
    carrier="verizon",
    dataset=None,
    file_pattern=r"^AccountSummary_\d{6}\.txt$",
    separator="\t",
    description="Verizon raw data download: one row per billing account",
    columns=(
        _c("ECPD Profile ID", "ecpd_profile_id"),
        _c("Bill Cycle Date", "bill_cycle_date", "date", required=True, fmt="%b %d, %Y"),
        _c("Account Number", "account_number", "id", required=True),
        _c("Invoice Number", "invoice_number", "id", required=True),
        _c("Bill Period", "bill_period"),
        _c("Monthly Charges", "monthly_charges", "money"),
        _c("Usage Charges", "usage_charges", "money"),
        _c("Equipment Charges", "equipment_charges", "money"),
        _c("Taxes, Governmental Surcharges and Fees", "tax", "money"),
        _c("Total Current Charges", "total_current_charges", "money"),
        _c("Total Amount Due", "total_amount_due", "money"),
    ),
)

VERIZON_WIRELESS_SUMMARY = Layout(
    name="verizon_wireless_summary",
    carrier="verizon",
    dataset="invoice_lines",
    file_pattern=r"^Account & Wireless Summary_\d{6}\.txt$",
    separator="\t",
    description="Verizon raw data download: one row per line per bill cycle",
    columns=(
        _c("ECPD Profile ID", "ecpd_profile_id"),
        _c("Bill Cycle Date", "bill_cycle_date", "date", required=True, fmt="%b %d, %Y"),
        _c("Account Number", "account_number", "id", required=True),
        _c("Wireless Number", "wireless_number", "phone", required=True),
        _c("User Name", "user_name", required=True),
        _c("Cost Center", "cost_center"),
        _c("User ID", "employee_id", "id"),
        _c("Your Calling Plan", "plan"),
        _c("Monthly Access Charges", "monthly_access_charges", "money"),
        _c("Usage Charges", "usage_charges", "money"),
        _c("Equipment Charges", "equipment_charges", "money"),
        _c("Total Charges", "charge", "money", required=True),
        _c("Taxes, Governmental Surcharges and Fees", "tax", "money"),
        _c("Voice Plan Usage", "minutes", "number"),
        _c("Messaging Usage", "messages", "int"),
        _c("Data Usage (KB)", "data_kb", "number"),
    ),
)

VERIZON_CHARGES_DETAIL = Layout(
    name="verizon_charges_detail",
    carrier="verizon",
    dataset="charge_items",
    file_pattern=r"^Acct & Wireless Charges Detail Summary Usage_\d{6}\.txt$",
    separator="\t",
    description="Verizon raw data download: one row per line per charge item",
    columns=(
        _c("ECPD Profile ID", "ecpd_profile_id"),
        _c("Bill Cycle Date", "bill_cycle_date", "date", required=True, fmt="%b %d, %Y"),
        _c("Account Number", "account_number", "id", required=True),
        _c("Wireless Number", "wireless_number", "phone", required=True),
        _c("User Name", "user_name"),
        _c("Item Category", "item_category", required=True),
        _c("Item Description", "item_description"),
        _c("Allowance", "allowance"),
        _c("Used", "used", "number"),
        _c("Billable", "billable", "number"),
        _c("Cost", "charge", "money", required=True),
    ),
)

VERIZON_USAGE_DETAIL = Layout(
    name="verizon_usage_detail",
    carrier="verizon",
    dataset="usage_events",
    file_pattern=r"^Wireless Usage Detail_\d{6}\.txt$",
    separator="\t",
    description="Verizon raw data download: one row per call, message or data session",
    columns=(
        _c("ECPD Profile ID", "ecpd_profile_id"),
        _c("Account Number", "account_number", "id", required=True),
        _c("Wireless Number", "wireless_number", "phone", required=True),
        _c("User Name", "user_name"),
        _c("Usage Category", "kind", required=True),
        _c("Date", "date_mmdd", required=True),  # MM/DD, year recovered from the bill cycle
        _c("Time", "time_hmp", required=True),  # 7:15A
        _c("Number", "other_number", "dialed"),
        _c("Origination", "origination"),
        _c("Destination", "destination"),
        _c("Min", "minutes", "number"),
        _c("KB", "data_kb", "number"),
        _c("Charge", "airtime_charge", "money"),
        _c("Total", "charge", "money", required=True),
    ),
)

ATT_RAW_DATA = Layout(
    name="att_premier_raw_data",
    carrier="att",
    dataset="invoice_lines",
    file_pattern=r"^ATT_Premier_RawData_\d+_\d{8}\.txt$",
    separator="|",
    description="AT&T Premier raw-data export: record types by Section ID and entity level",
    columns=(
        _c("Section ID", "section_id", required=True),
        _c("Billing Entity Level", "billing_entity_level", required=True),
        _c("Foundation Account Number", "foundation_account_number", "id"),
        _c("Billing Account Number", "account_number", "id", required=True),
        _c("Invoice Number", "invoice_number", "id"),
        _c("Period End Date", "bill_cycle_date", "date", required=True, fmt="%Y%m%d"),
        _c("Wireless Number", "wireless_number", "phone"),
        _c("User Name", "user_name"),
        _c("Rate Plan", "plan"),
        _c("User Defined Label 1", "cost_center"),
        _c("User Defined Label 2", "employee_id", "id"),
        _c("User Defined Label 3", "user_defined_label_3"),
        _c("User Defined Label 4", "user_defined_label_4"),
        _c("Total Monthly Charges", "monthly_charges", "money"),
        _c("Total Usage Charges", "usage_charges", "money"),
        _c("Total Taxes and Surcharges", "tax", "money"),
        _c("Total Current Charges", "charge", "money", required=True),
        _c("Minutes Used", "minutes", "number"),
        _c("Messages Used", "messages", "int"),
        _c("KB Used", "data_kb", "number"),
        _c("MB Used", "mb_used", "number"),
    ),
)
# The real export has 133 columns; the rest are charge-hierarchy detail kept as extras.
ATT_RAW_DATA_FILLER = tuple(
    f"Charge Hierarchy Level {level} {part}"
    for level in range(1, 29)
    for part in ("Code", "Description", "Amount", "Quantity")
)

ATT_USAGE_DETAIL = Layout(
    name="att_usage_detail",
    carrier="att",
    dataset="usage_events",
    file_pattern=r"^ATT_UsageDetail_\d+_\d{6}\.csv$",
    description="AT&T Premier usage detail report",
    columns=(
        _c("Wireless number", "wireless_number", "phone", required=True),
        _c("Market cycle end date", "bill_cycle_date", "date", required=True, fmt="%m/%d/%Y"),
        _c("Date", "event_date", required=True),
        _c("Time", "event_clock", required=True),
        _c("Dialed number", "other_number", "dialed"),
        _c("In/out", "direction"),
        _c("Usage type", "kind"),  # not in every export: inferred from minutes and KB
        _c("Minutes usage", "minutes", "number"),
        _c("KB usage", "data_kb", "number"),
        _c("Total charges", "charge", "money", required=True),
    ),
)

ATT_DEVICE_REPORT = Layout(
    name="att_device_report",
    carrier="att",
    dataset="devices",
    file_pattern=r"^ATT_DeviceReport_\d+_\d{8}\.csv$",
    description="AT&T Premier device report",
    columns=(
        _c("Wireless number", "wireless_number", "phone", required=True),
        _c("Wireless user name", "user_name"),
        _c("Device make", "make"),
        _c("Device model", "model"),
        _c("Device IMEI", "imei", "id", required=True),
        _c("SIM number", "iccid", "id"),
        _c("Activation date", "activation_date", "date", fmt="%m/%d/%Y"),
        _c("Contract end date", "contract_end_date", "date", fmt="%m/%d/%Y"),
    ),
)

TMOBILE_USAGE = Layout(
    name="tmobile_usage_detail",
    carrier="tmobile",
    dataset="usage_events",
    file_pattern=r"^TMobile_Usage_\d+_\d{6}\.csv$",
    max_preamble=8,
    description="T-Mobile for Business usage detail, metadata rows before the header",
    columns=(
        _c("Subscriber Number", "wireless_number", "phone", required=True),
        _c("Date", "event_time_iso", required=True),
        _c("Type", "kind", required=True),
        _c("Party", "other_number", "dialed"),
        _c("Direction", "direction"),
        _c("Duration", "minutes", "number"),
        _c("Data (KB)", "data_kb", "number"),
        _c("Charge", "charge", "money", required=True),
    ),
)

BELL_MOBILE = Layout(
    name="bell_mobile",
    carrier="bell",
    dataset="invoice_lines",
    file_pattern=r"^Bell_MOB_\d+_\d{6}\.csv$",
    encoding="iso-8859-1",
    header_rows=2,
    description="Bell (Canada) mobile invoice detail: English and French header rows",
    columns=(
        _c("Acct Nbr", "account_number", "id", required=True, french="Num compte"),
        _c("Invoice Nbr", "invoice_number", "id", required=True, french="Num facture"),
        _c(
            "Bill Date",
            "bill_cycle_date",
            "date",
            required=True,
            fmt="%Y-%m-%d",
            french="Date facture",
        ),
        _c("Mobile Nbr", "wireless_number", "phone", required=True, french="Num mobile"),
        _c("Surname", "surname", french="Nom"),
        _c("Given Name", "given_name", french="Prénom"),
        _c("Price Plan", "plan", french="Forfait"),
        _c("Airtime", "minutes", "mmss", french="Temps d'antenne"),
        _c("Messages", "messages", "int", french="Messages"),
        _c("Data (MB)", "data_mb", "number", french="Données (Mo)"),
        _c("Charges", "charge", "money", required=True, french="Frais"),
        _c("GST", "gst", "money", french="TPS"),
        _c("HST", "hst", "money", french="TVH"),
        _c("QST", "qst", "money", french="TVQ"),
        _c("PST", "pst", "money", french="TVP"),
    ),
)

MDM_INVENTORY = Layout(
    name="mdm_inventory",
    carrier="mdm",
    dataset="devices",
    file_pattern=r"^Intune_Devices_\d{8}\.xlsx$",
    format="xlsx",
    description="MDM (Intune-style) device inventory export",
    columns=(
        _c("Device name", "device_name"),
        _c("IMEI", "imei", "id", required=True),
        _c("MEID", "meid", "id"),
        _c("ICCID", "iccid", "id"),
        _c("EID", "eid", "id"),
        _c("Phone number", "wireless_number", "phone", required=True),
        _c("Primary user email address", "email"),
        _c("Primary user display name", "user_name"),
        _c("Serial number", "serial_number", "id"),
        _c("Manufacturer", "make"),
        _c("Model", "model"),
        _c("Last check-in", "last_check_in"),
    ),
)


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


GENERIC_LAYOUTS = tuple(
    _generic(dataset, *variant) for dataset in DATASETS for variant in _GENERIC_FORMATS
)
GENERIC_INVOICE_LINES = next(
    g for g in GENERIC_LAYOUTS if g.name == "generic_invoice_lines_parquet"
)

LAYOUTS: tuple[Layout, ...] = (
    VERIZON_ACCOUNT_SUMMARY,
    VERIZON_WIRELESS_SUMMARY,
    VERIZON_CHARGES_DETAIL,
    VERIZON_USAGE_DETAIL,
    ATT_RAW_DATA,
    ATT_USAGE_DETAIL,
    ATT_DEVICE_REPORT,
    TMOBILE_USAGE,
    BELL_MOBILE,
    MDM_INVENTORY,
    *GENERIC_LAYOUTS,
)
