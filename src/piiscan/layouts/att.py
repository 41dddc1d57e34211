"""AT&T Premier exports: raw data, usage detail, device report."""

from __future__ import annotations

from piiscan.layouts.model import Layout, c

ATT_RAW_DATA = Layout(
    name="att_premier_raw_data",
    carrier="att",
    dataset="invoice_lines",
    file_pattern=r"^ATT_Premier_RawData_\d+_\d{8}\.txt$",
    separator="|",
    description="AT&T Premier raw-data export: record types by Section ID and entity level",
    columns=(
        c("Section ID", "section_id", required=True),
        c("Billing Entity Level", "billing_entity_level", required=True),
        c("Foundation Account Number", "foundation_account_number", "id"),
        c("Billing Account Number", "account_number", "id", required=True),
        c("Invoice Number", "invoice_number", "id"),
        c("Period End Date", "bill_cycle_date", "date", required=True, fmt="%Y%m%d"),
        c("Wireless Number", "wireless_number", "phone"),
        c("User Name", "user_name"),
        c("Rate Plan", "plan"),
        c("User Defined Label 1", "cost_center"),
        c("User Defined Label 2", "employee_id", "id"),
        c("User Defined Label 3", "user_defined_label_3"),
        c("User Defined Label 4", "user_defined_label_4"),
        c("Total Monthly Charges", "monthly_charges", "money"),
        c("Total Usage Charges", "usage_charges", "money"),
        c("Total Taxes and Surcharges", "tax", "money"),
        c("Total Current Charges", "charge", "money", required=True),
        c("Minutes Used", "minutes", "number"),
        c("Messages Used", "messages", "int"),
        c("KB Used", "data_kb", "number"),
        c("MB Used", "mb_used", "number"),
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
        c("Wireless number", "wireless_number", "phone", required=True),
        c("Market cycle end date", "bill_cycle_date", "date", required=True, fmt="%m/%d/%Y"),
        c("Date", "event_date", required=True),
        c("Time", "event_clock", required=True),
        c("Dialed number", "other_number", "dialed"),
        c("In/out", "direction"),
        c("Usage type", "kind"),  # not in every export: inferred from minutes and KB
        c("Minutes usage", "minutes", "number"),
        c("KB usage", "data_kb", "number"),
        c("Total charges", "charge", "money", required=True),
    ),
)

ATT_DEVICE_REPORT = Layout(
    name="att_device_report",
    carrier="att",
    dataset="devices",
    file_pattern=r"^ATT_DeviceReport_\d+_\d{8}\.csv$",
    description="AT&T Premier device report",
    columns=(
        c("Wireless number", "wireless_number", "phone", required=True),
        c("Wireless user name", "user_name"),
        c("Device make", "make"),
        c("Device model", "model"),
        c("Device IMEI", "imei", "id", required=True),
        c("SIM number", "iccid", "id"),
        c("Activation date", "activation_date", "date", fmt="%m/%d/%Y"),
        c("Contract end date", "contract_end_date", "date", fmt="%m/%d/%Y"),
    ),
)

LAYOUTS = (ATT_RAW_DATA, ATT_USAGE_DETAIL, ATT_DEVICE_REPORT)
