"""AT&T Premier exports: raw data, usage detail, pooling report, device report.

Headers are the real ones, in order (docs: /work/shared/carriers/REAL_EXPORTS.md). Columns with a
canonical meaning map onto it; every other column is listed too, as text under its snake_case
name, so `Layout.headers` is the whole header a fixture writer must produce.
"""

from __future__ import annotations

from piiscan.layouts.model import Column, Layout, c
from piiscan.schema import snake_case


def _with_extras(headers: tuple[str, ...], mapped: tuple[Column, ...]) -> tuple[Column, ...]:
    """The header in delivered order: mapped columns as given, the rest as text extras."""
    by_header = {column.header: column for column in mapped}
    unknown = set(by_header) - set(headers)
    if unknown:
        raise AssertionError(f"mapped columns not in the header: {sorted(unknown)}")
    return tuple(by_header.get(h) or Column(h, snake_case(h)) for h in headers)


# --- Premier raw data ("rawdataoutput"): pipe, UTF-8, LF, 133 columns ---------------------------

RAW_DATA_HEADERS = (
    "Section ID",
    "Billing Entity Level",
    "Foundation Account Type",
    "Remit To (address)",
    "Due Date",
    "Foundation Account Number",
    "Foundation Account Name",
    "Billing Account Number",
    "Billing Account Name",
    "BAN Invoice Number",
    "Period End Date",
    "Wireless Number",
    "Group ID",
    "User Name",
    "FAN Invoice Number",
    "FAN Invoice Date",
    "FAN Invoice Previous Balance",
    "FAN Invoice Total Payments",
    "FAN Invoice Payment Date",
    "FAN Invoice Past Due",
    "Adjustment to Previous Balance Description",
    "Adjustment to Previous Balance Amount",
    "Adjustment Type",
    "FAN Level NBS Charges and Credits Description",
    "FAN Level NBS Charges and Credits Amount",
    "FAN Invoice Total Current Charges",
    "FAN Invoice Amount Due",
    *(
        header
        for n in range(1, 5)
        for header in (f"FAN User Defined Label {n}", f"Service ID {n} (UDL {n} - CTN Level)")
    ),
    "Voice Pooling Rate Plan Code",
    "Voice Pool Name",
    "Pooling MOU Contribution",
    "Pooling Bucket MOU Used",
    "Airtime Over",
    "Airtime Under",
    "Voice Allocation Factor",
    "Allocated Back Minutes",
    "Additional Minutes Rate",
    "Voice Allocated Back Credit",
    "Total Voice Tax Credit",
    "Total Voice Pooling Credit",
    "Voice MAC Adjustment",
    "Data Pooling Rate Plan Code",
    "Data Pool Name",
    "Pooling KB Contribution",
    "Pooling Bucket KB Used",
    "KB Over",
    "KB Under",
    "Data Allocation Factor",
    "Allocated Back KB",
    "Additional KB rate",
    "Data Allocated Back Credit",
    "Total Data Tax Credit",
    "Total Data Pooling Credit",
    "Data MAC Adjustment",
    *(f"Section_{n}" for n in range(1, 8)),
    "Period",
    "Prorated Charge",
    "Monthly Charge",
    "Amount",
    "Total",
    "Total Charge",
    "Monthly Service",
    "Usage Charges",
    "Credits Adj & Other Charges",
    "Government Fees & Taxes",
    "Non-Comm Related Charges",
    "Minutes Included in Plan",
    "Minutes Used",
    "Billed Minutes",
    "Billed Rate",
    "Msg/KB/MB Included In Plan",
    "MSG/KB/MB Used",
    "Billed Msg/KB/MB",
    "Shared Text Msgs",
    "Shared MMS Msgs",
    "Shared KBs",
    "Other Shared Minutes",
    "Billed Text Msgs",
    "Billed MMS Msgs",
    "Billed KBs",
    "Billed Charges",
    "BAN Pooling Type",
    "BAN Pooling Rate Plan Code",
    "BAN Pooling Allowance (Min/KB)",
    "BAN Pooling Used (Min/KB)",
    "BAN Pooling Allocated Back (Min/KB)",
    "BAN Pooling Adjustment Amount ($)",
    "Left (Min)",
    "Exp Date",
    "Rollover Minutes",
    "FAN Contract Reference Number",
    "CLIN",
    "CLIN Total Due",
    "Quantity",
    "Equipment Transaction Date",
    "Equipment Transaction Number",
    "Equipment Item Description",
    "Equipment Item ID",
    "Equipment Unit Price",
    "Item Number",
    "CoPay Allowance Amount",
    "CoPay Employee Name",
    "Wireless Line Credit To Number",
    "Wireless Line Credit Date of Call",
    "Wireless Line Credit Time of Call",
    "Wireless Line Credit Call To",
    "Wireless Line Credit for Number Called",
    "Date",
    "Item Description",
    "Short Code",
    "Type",
    "Content provider",
    "Merchant Name",
    "Merchant Contact",
    "Item ID",
    "Renew Date",
    "Cost",
    "Tax",
    "Soc Code",
    "Feature Code",
)
RAW_DATE = "%Y%m%d"
# Measures of a line (CTN) record that add up to its canonical usage; see ingest.att.
RAW_KB_COLUMNS = ("Shared KBs", "Billed KBs")
RAW_MESSAGE_COLUMNS = ("Shared Text Msgs", "Shared MMS Msgs", "Billed Text Msgs", "Billed MMS Msgs")

ATT_RAW_DATA = Layout(
    name="att_premier_raw_data",
    carrier="att",
    dataset="invoice_lines",
    file_pattern=r"^(ATT_Premier_RawData_\d+_\d{8}\.txt|rawdataoutput.*\.(csv|txt))$",
    separator="|",
    description="AT&T Premier raw data: records typed by Section ID and FAN/BAN/CTN level",
    columns=_with_extras(
        RAW_DATA_HEADERS,
        (
            c("Section ID", "section_id", required=True),
            c("Billing Entity Level", "billing_entity_level", required=True),
            c("Due Date", "due_date", "date", fmt=RAW_DATE),
            c("Foundation Account Number", "foundation_account_number", "id"),
            c("Billing Account Number", "account_number", "id", required=True),
            c("BAN Invoice Number", "invoice_number", "id"),
            c("Period End Date", "bill_cycle_date", "date", required=True, fmt=RAW_DATE),
            c("Wireless Number", "wireless_number", "phone", required=True),
            c("User Name", "user_name"),
            c("FAN Invoice Number", "fan_invoice_number", "id"),
            c("FAN Invoice Date", "fan_invoice_date", "date", fmt=RAW_DATE),
            c("FAN Invoice Total Current Charges", "fan_invoice_total_current_charges", "money"),
            c("FAN Invoice Amount Due", "fan_invoice_amount_due", "money"),
            *(
                c(f"Service ID {n} (UDL {n} - CTN Level)", f"service_id_{n}", "id")
                for n in range(1, 5)
            ),
            *(c(f"FAN User Defined Label {n}", f"user_defined_label_{n}") for n in range(1, 5)),
            c("Period", "charge_period"),  # "period" is the lake's partition column
            c("Total Charge", "charge", "money"),
            c("Monthly Service", "monthly_service", "money"),
            c("Usage Charges", "usage_charges", "money"),
            c("Credits Adj & Other Charges", "credits_adj_other_charges", "money"),
            c("Government Fees & Taxes", "tax", "money"),
            c("Minutes Used", "minutes", "number"),
            *(c(h, snake_case(h), "number") for h in RAW_KB_COLUMNS),
            *(c(h, snake_case(h), "int") for h in RAW_MESSAGE_COLUMNS),
            c("Tax", "item_tax", "money"),  # a purchase's tax, not the line's
            c("Cost", "item_cost", "money"),
        ),
    ),
)

# --- usage detail ("ENC1 Detail"): comma, UTF-8, CRLF, every header quoted -----------------------

USAGE_DETAIL_HEADERS = (
    "Foundation account",
    "Account number",
    "Wireless number",
    "Market cycle end date",
    "Roam home intl. description",
    "Date",
    "Time",
    "Rate code",
    "Rating period",
    "Charge description",
    "Originating city/state",
    "Called city/state",
    "Dialed number",
    "In/out",
    "Feature used",
    "Minutes usage",
    "KB usage",
    "Total number of events",
    "MSG sent to",
    "MSG received from",
    "Total charges",
    "Source",
    "International call indicator",
    "LD charges",
)
US_DATE = "%m/%d/%Y"

ATT_USAGE_DETAIL = Layout(
    name="att_usage_detail",
    carrier="att",
    dataset="usage_events",
    file_pattern=r"(^ATT_UsageDetail_\d+_\d{6}|\bDetail\b[^/]*)\.csv$",
    description="AT&T usage detail (ADE export): one row per call, message or data session",
    columns=_with_extras(
        USAGE_DETAIL_HEADERS,
        (
            c("Foundation account", "foundation_account", "id"),
            c("Account number", "account_number", "id", required=True),
            c("Wireless number", "wireless_number", "phone", required=True),
            c("Market cycle end date", "bill_cycle_date", "date", required=True, fmt=US_DATE),
            c("Date", "event_date", required=True),  # with Time: the event time (ingest.att)
            c("Time", "event_clock", required=True),  # 24-hour HH:MM
            c("Dialed number", "other_number", "dialed"),
            c("In/out", "direction"),
            c("Feature used", "feature_used"),
            c("Minutes usage", "minutes", "number"),
            c("KB usage", "data_kb", "number"),
            c("Total number of events", "total_number_of_events", "int"),
            c("MSG sent to", "msg_sent_to", "dialed"),
            c("MSG received from", "msg_received_from", "dialed"),
            c("Total charges", "charge", "money", required=True),
            c("Source", "kind"),  # Voice / Data / Messaging; inferred where blank
            c("LD charges", "ld_charges", "money"),
        ),
    ),
)

# --- pooling report ("ENC1 Pooling"): comma, UTF-8, LF, one row per line per cycle ---------------

# Customer-defined label columns: their headers are the labels' names (here FILE NUMBER and
# COST CENTER); ingest.att maps them by name (LABEL_TARGETS).
POOLING_LABEL_HEADERS = ("FILE NUMBER", "COST CENTER", "UDL 3", "UDL 4")
POOLING_HEADERS = (
    "Account and descriptions",
    "Wireless number and descriptions",
    "User name",
    "Data charges",
    "Pooling bucket KB used",
    "Pooling KB contribution",
    "Allocated back KB",
    "Additional KB rate",
    "KB over",
    "KB under",
    "Data allocated back credit",
    "Data allocation factor",
    "Data MAC adjustment",
    "Total data pooling credit",
    "Total data tax credit",
    "Account description 1",
    "Account description 2",
    "Account number",
    "Additional minutes rate",
    "Air time over",
    "Air time under",
    "Airtime charges",
    "Allocated back minutes",
    "Billing account name",
    "Cost center name",
    "Foundation account",
    "Foundation account name",
    "Invoice date",
    "Market cycle end date",
    "Month",
    "Period end date",
    "Pool name",
    "Pool type",
    "Pooling bucket minutes used",
    "Pooling minutes contribution",
    "Pooling rate plan code",
    "Pooling source",
    "Quarter",
    "Total voice pooling credit",
    "Total voice tax credit",
    *POOLING_LABEL_HEADERS,
    "Voice allocated back credit",
    "Voice allocation factor",
    "Voice MAC adjustment",
    "Wireless number",
    "Wireless number description 1",
    "Wireless number description 2",
    "Year",
    *(
        header
        for level in range(1, 10)
        for header in (
            f"Level {level} GL code",
            # sic: the real export capitalises this one header
            f"Level {level} {'Node' if level == 5 else 'node'} description",
            f"Level {level} node description 1",
            f"Level {level} node description 2",
        )
    ),
    "Node description",
    "Node description 1",
    "Node description 2",
)

ATT_POOLING = Layout(
    name="att_pooling",
    carrier="att",
    dataset="invoice_lines",
    file_pattern=r"(^ATT_Pooling_\d+_\d{6}|\bPooling\b[^/]*)\.csv$",
    description="AT&T pooling report: one row per line per cycle, pooled usage and credits",
    columns=_with_extras(
        POOLING_HEADERS,
        (
            c("Account and descriptions", "account_and_descriptions", required=True),
            c(
                "Wireless number and descriptions",
                "wireless_number_and_descriptions",
                required=True,
            ),
            c("User name", "user_name"),
            c("Data charges", "data_charges", "money", required=True),
            c("Pooling bucket KB used", "data_kb", "number"),
            c("Data allocated back credit", "data_allocated_back_credit", "money"),
            c("Data MAC adjustment", "data_mac_adjustment", "money"),
            c("Total data pooling credit", "total_data_pooling_credit", "money"),
            c("Total data tax credit", "total_data_tax_credit", "money"),
            c("Account number", "account_number", "id"),
            c("Airtime charges", "airtime_charges", "money", required=True),
            c("Foundation account", "foundation_account", "id"),
            c("Invoice date", "invoice_date", "date", fmt=US_DATE),
            c("Market cycle end date", "market_cycle_end_date", "date", fmt=US_DATE),
            c("Period end date", "period_end_date", "date", fmt=US_DATE),
            c("Pooling bucket minutes used", "minutes", "number"),
            c("Total voice pooling credit", "total_voice_pooling_credit", "money"),
            c("Total voice tax credit", "total_voice_tax_credit", "money"),
            c("Voice allocated back credit", "voice_allocated_back_credit", "money"),
            c("Voice MAC adjustment", "voice_mac_adjustment", "money"),
            c("Wireless number", "wireless_number", "phone", required=True),
        ),
    ),
)

# --- device report --------------------------------------------------------------------------------

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
        c("Activation date", "activation_date", "date", fmt=US_DATE),
        c("Contract end date", "contract_end_date", "date", fmt=US_DATE),
    ),
)

LAYOUTS = (ATT_RAW_DATA, ATT_USAGE_DETAIL, ATT_POOLING, ATT_DEVICE_REPORT)
