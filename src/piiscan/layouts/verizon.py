"""Verizon's Raw Data Download: four tab-separated reports, in a zip per bill month or loose.

Headers are the real exports' (`carriers/REAL_EXPORTS.md`); files come named
`<Report>_YYYYMM.txt`, `<Report>_test.txt` or anything else. Every report carries
`Bill Cycle Date`, `Account Number` and `Invoice Number`, so each one lands on its own, with or
without its AccountSummary. The AccountSummary requires only those three; detection never takes a
file whose header also matches a line-level report for it.
"""

from __future__ import annotations

from piiscan.layouts.model import Column, Layout, c

_CYCLE = "%b %d, %Y"  # Aug 16, 2021
_DUE = "%m/%d/%y"  # 09/08/21


def _shared(*, due: bool) -> tuple[Column, ...]:
    """The columns every report opens with (the line-level details have no Date Due/Bill Period)."""
    return (
        c("ECPD Profile ID", "ecpd_profile_id"),
        c("Bill Cycle Date", "bill_cycle_date", "date", required=True, fmt=_CYCLE),
        c("Account Number", "account_number", "id", required=True),
        *((c("Date Due", "date_due", "date", fmt=_DUE),) if due else ()),
        c("Invoice Number", "invoice_number", "id", required=True),
        *((c("Bill Period", "bill_period"),) if due else ()),  # "Jul 17 -Aug 16 "
    )


VERIZON_ACCOUNT_SUMMARY = Layout(
    name="verizon_account_summary",
    carrier="verizon",
    dataset=None,
    file_pattern=r"^AccountSummary",
    separator="\t",
    description="Verizon raw data download: one row per billing account (no line-level data)",
    columns=(
        *_shared(due=True),
        c("Bill Name", "bill_name"),
        c("Previous Balance", "previous_balance", "money"),
        c("Payments", "payments", "money"),
        c("Adjustments", "adjustments", "money"),
        c("Balance Forward", "balance_forward", "money"),
        c("Account Charges and Credits", "account_charges_and_credits", "money"),
        c("Charges for Third-Party Services to Account", "third_party_account_charges", "money"),
        c("Monthly Charges", "monthly_charges", "money"),
        c("Late Fee", "late_fee", "money"),
        c("Usage Charges - Voice", "usage_charges_voice", "money"),
        c("Usage Charges - Messaging", "usage_charges_messaging", "money"),
        c("Usage Charges - Data", "usage_charges_data", "money"),
        c("Usage Charges - Roaming", "usage_charges_roaming", "money"),
        c("Usage Charges - International", "usage_charges_international", "money"),
        c("Usage Charges - Purchases", "usage_charges_purchases", "money"),
        c("Usage and Purchase Charges", "usage_and_purchase_charges", "money"),
        c("Equipment Charges", "equipment_charges", "money"),
        c("Surcharges and OC&Cs", "surcharges_and_occs", "money"),
        c("Taxes, Governmental Surcharges, and Fees", "tax", "money"),
        c("Charges for Third-Party Services to Lines", "third_party_line_charges", "money"),
        c("Total Current Charges", "total_current_charges", "money"),
        c("Total Amount Due", "total_amount_due", "money"),
        # Where the customer sends payment: Verizon's own address, not a person's (and not a
        # ship-to address).
        c("Remittance Address", "remittance_address"),
    ),
)

VERIZON_WIRELESS_SUMMARY = Layout(
    name="verizon_wireless_summary",
    carrier="verizon",
    dataset="invoice_lines",
    file_pattern=r"^Account & Wireless Summary",
    separator="\t",
    description="Verizon raw data download: one row per line per bill cycle",
    columns=(
        *_shared(due=True),
        c("Wireless Number", "wireless_number", "phone", required=True),
        c("User Name", "user_name"),
        c("Cost Center", "cost_center"),  # 0012345678:0000123456
        c("User ID", "employee_id", "id"),
        c("Your Calling Plan", "plan"),
        c("Account Charges and Credits", "account_charges_and_credits", "money"),
        c("Monthly Charges", "monthly_charges", "money"),
        c("Usage and Purchase Charges", "usage_and_purchase_charges", "money"),
        c("Equipment Charges", "equipment_charges", "money"),
        c("Total Surcharges and Other Charges and Credits", "surcharges", "money"),
        c("Taxes, Governmental Surcharges and Fees", "tax", "money"),
        c("Third Party Charges", "third_party_charges", "money"),
        # The line's total: charges, surcharges, taxes and third-party charges together.
        c("Total Charges", "charge", "money", required=True),
        c("Voice Plan Usage", "minutes", "number"),  # 167.000000000000000
        c("Messaging Usage", "messages", "int"),
        # One of the three is filled; the carrier step makes data_kb of it.
        c("Data Usage (KB)", "data_usage_kb", "number"),
        c("Data Usage (MB)", "data_usage_mb", "number"),
        c("Data Usage (GB)", "data_usage_gb", "number"),
        c("Voice Roaming", "voice_roaming", "number"),
        c("Messaging Roaming", "messaging_roaming", "number"),
        c("Data Roaming (KB)", "data_roaming_kb", "number"),
        c("Data Roaming (MB)", "data_roaming_mb", "number"),
        c("Data Roaming (GB)", "data_roaming_gb", "number"),
    ),
)

VERIZON_CHARGES_DETAIL = Layout(
    name="verizon_charges_detail",
    carrier="verizon",
    dataset="charge_items",
    file_pattern=r"^Acct & Wireless Charges Detail Summary Usage",
    separator="\t",
    description="Verizon raw data download: one row per line per charge item",
    columns=(
        *_shared(due=False),
        c("Wireless Number", "wireless_number", "phone", required=True),
        c("User Name", "user_name"),
        c("Cost Center", "cost_center"),
        c("User ID", "employee_id", "id"),
        c("Item Category", "item_category", required=True),
        c("Date", "item_date"),
        c("Item Type", "item_type"),
        c("Item Description", "item_description"),
        c("Vendor Name / Contact Information", "vendor"),
        c("Share Description", "share_description"),
        c("Share Voice", "share_voice"),
        c("Share Messaging", "share_messaging"),
        c("Share Data", "share_data"),
        c("Usage Period", "usage_period"),
        c("Allowance", "allowance"),  # 6.000(shared) / unlimited
        c("Used", "used", "number"),
        c("Billable", "billable", "number"),
        c("Cost", "charge", "money", required=True),
        c("Order Details", "order_details"),
    ),
)

VERIZON_USAGE_DETAIL = Layout(
    name="verizon_usage_detail",
    carrier="verizon",
    dataset="usage_events",
    file_pattern=r"^Wireless Usage Detail",
    separator="\t",
    description="Verizon raw data download: one row per call, message or data session",
    columns=(
        *_shared(due=False),
        c("Wireless Number", "wireless_number", "phone", required=True),
        c("User Name", "user_name"),
        c("Usage Category", "kind", required=True),
        c("Account Authorization Code", "account_authorization_code"),
        c("Date", "date_mmdd", required=True),  # 07/21: the year comes from the bill cycle
        c("Time", "time_hmp", required=True),  # 7:15A
        c("Number", "other_number", "dialed"),
        c("Rate", "rate"),
        c("Usage Type", "usage_type"),
        c("Description", "description"),
        c("Origination", "origination"),
        c("Destination", "destination"),  # a place, or "Incoming CL" for a received call
        c("Intl. Call Type", "intl_call_type"),
        c("Min", "minutes", "number"),
        c("Charge", "airtime_charge", "money"),
        c("Long Dist./Other Charges", "long_distance_charges", "money"),
        c("Total", "charge", "money", required=True),
    ),
)

LAYOUTS = (
    VERIZON_ACCOUNT_SUMMARY,
    VERIZON_WIRELESS_SUMMARY,
    VERIZON_CHARGES_DETAIL,
    VERIZON_USAGE_DETAIL,
)
