"""Verizon's Raw Data Download reports (tab-separated, in a zip per bill month or loose)."""

from __future__ import annotations

from piiscan.layouts.model import Layout, c

VERIZON_ACCOUNT_SUMMARY = Layout(
    name="verizon_account_summary",
    carrier="verizon",
    dataset=None,
    file_pattern=r"^AccountSummary_\d{6}\.txt$",
    separator="\t",
    description="Verizon raw data download: one row per billing account",
    columns=(
        c("ECPD Profile ID", "ecpd_profile_id"),
        c("Bill Cycle Date", "bill_cycle_date", "date", required=True, fmt="%b %d, %Y"),
        c("Account Number", "account_number", "id", required=True),
        c("Invoice Number", "invoice_number", "id", required=True),
        c("Bill Period", "bill_period"),
        c("Monthly Charges", "monthly_charges", "money"),
        c("Usage Charges", "usage_charges", "money"),
        c("Equipment Charges", "equipment_charges", "money"),
        c("Taxes, Governmental Surcharges and Fees", "tax", "money"),
        c("Total Current Charges", "total_current_charges", "money"),
        c("Total Amount Due", "total_amount_due", "money"),
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
        c("ECPD Profile ID", "ecpd_profile_id"),
        c("Bill Cycle Date", "bill_cycle_date", "date", required=True, fmt="%b %d, %Y"),
        c("Account Number", "account_number", "id", required=True),
        c("Wireless Number", "wireless_number", "phone", required=True),
        c("User Name", "user_name", required=True),
        c("Cost Center", "cost_center"),
        c("User ID", "employee_id", "id"),
        c("Your Calling Plan", "plan"),
        c("Monthly Access Charges", "monthly_access_charges", "money"),
        c("Usage Charges", "usage_charges", "money"),
        c("Equipment Charges", "equipment_charges", "money"),
        c("Total Charges", "charge", "money", required=True),
        c("Taxes, Governmental Surcharges and Fees", "tax", "money"),
        c("Voice Plan Usage", "minutes", "number"),
        c("Messaging Usage", "messages", "int"),
        c("Data Usage (KB)", "data_kb", "number"),
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
        c("ECPD Profile ID", "ecpd_profile_id"),
        c("Bill Cycle Date", "bill_cycle_date", "date", required=True, fmt="%b %d, %Y"),
        c("Account Number", "account_number", "id", required=True),
        c("Wireless Number", "wireless_number", "phone", required=True),
        c("User Name", "user_name"),
        c("Item Category", "item_category", required=True),
        c("Item Description", "item_description"),
        c("Allowance", "allowance"),
        c("Used", "used", "number"),
        c("Billable", "billable", "number"),
        c("Cost", "charge", "money", required=True),
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
        c("ECPD Profile ID", "ecpd_profile_id"),
        c("Account Number", "account_number", "id", required=True),
        c("Wireless Number", "wireless_number", "phone", required=True),
        c("User Name", "user_name"),
        c("Usage Category", "kind", required=True),
        c("Date", "date_mmdd", required=True),  # MM/DD, year recovered from the bill cycle
        c("Time", "time_hmp", required=True),  # 7:15A
        c("Number", "other_number", "dialed"),
        c("Origination", "origination"),
        c("Destination", "destination"),
        c("Min", "minutes", "number"),
        c("KB", "data_kb", "number"),
        c("Charge", "airtime_charge", "money"),
        c("Total", "charge", "money", required=True),
    ),
)

LAYOUTS = (
    VERIZON_ACCOUNT_SUMMARY,
    VERIZON_WIRELESS_SUMMARY,
    VERIZON_CHARGES_DETAIL,
    VERIZON_USAGE_DETAIL,
)
