"""Rogers (Canada) exports: call detail per report type, and the Custom charges report.

Call detail comes as a zip per report type holding `ALL_CALLS-<type>.txt` (pipe, no header line,
a trailing empty field) and `Header-<type>.txt`, the field spec that names its fields in order
(piiscan.ingest.rogers reads it). The field order and set differ per type, so a layout here is
only the mapping of field names; the order always comes from the delivered spec. The spec names
`Province` twice (after `From` and after `To`): the reader names a repeated field after the field
before it, `From Province` and `To Province`.
"""

from __future__ import annotations

import re

from piiscan.layouts.model import Column, Layout, c

# Fields per report type, in the order of the sample specs (REAL_EXPORTS.md). Fixture writers
# write these; ingest reads the order from each delivered spec instead.
_CALL = (
    "BAN",
    "Invoice No.",
    "In Care Of",
    "User Name",
    "User Number",
    "Date",
    "Time",
    "Called Number",
    "From",
    "Province",
    "To",
    "Province",
    "Rate Period",
    "Call Type",
    "Seconds",
    "Airtime Cost",
    "LD Indicator",
    "LD Charges",
)
_SUBSCRIBER_IDS = ("Subscriber ID 4", "Subscriber ID 3", "Subscriber ID 2", "Subscriber ID 1")
_CARRIER = ("Carrier Name", "Carrier City", "Carrier State")
_VOICE = (
    *_CALL,
    "LD Rate",
    "Access Charges",
    "Airtime Rate",
    "Total Call Charges",
    "Period End Date",
    "Roaming Indicator",
)
_GPRS = (
    "BAN",
    "Invoice No.",
    "In Care Of",
    "User Name",
    "User Number",
    "Date",
    "Rate Period",
    "Volume (KB)",
    "Airtime Rate",
    "Total Call Charges",
    "Roaming Indicator",
    "Roaming Type Indicator",
)
FIELDS: dict[str, tuple[str, ...]] = {
    "Voice": (*_VOICE, *_SUBSCRIBER_IDS),
    "Voice-RM": (*_VOICE, *_CARRIER, *_SUBSCRIBER_IDS),
    "SMS": (
        *_CALL,
        "Access Charges",
        "Airtime Rate",
        "Total Call Charges",
        "Period End Date",
        "Roaming Indicator",
        "Premium Indicator",
        *_SUBSCRIBER_IDS,
    ),
    "GPRS": _GPRS,
    "GPRS-RM": (*_GPRS, *_CARRIER),
}
# Spec field types (Text, Date, Time, Currency) of the fields that are not Text.
FIELD_TYPES: dict[str, str] = {
    "Date": "Date",
    "Period End Date": "Date",
    "Time": "Time",
    **{
        name: "Currency"
        for name in (
            "Airtime Cost",
            "LD Charges",
            "LD Rate",
            "Access Charges",
            "Airtime Rate",
            "Total Call Charges",
        )
    },
}
KINDS = {"Voice": "voice", "Voice-RM": "voice", "SMS": "sms", "GPRS": "data", "GPRS-RM": "data"}

_MAPPED: dict[str, Column] = {
    col.header: col
    for col in (
        c("BAN", "account_number", "id", required=True),
        c("Invoice No.", "invoice_no", "id"),
        c("User Name", "user_name"),
        c("User Number", "wireless_number", "phone", required=True),
        c("Date", "event_date", "date", required=True, fmt="%m%d%Y"),
        c("Time", "event_clock", required=True),  # HHMMSS; with Date it makes event_time
        c("Called Number", "other_number", "dialed"),  # `*` when unknown
        c("Seconds", "seconds", "number"),
        c("Volume (KB)", "data_kb", "number"),
        c("Total Call Charges", "charge", "money", required=True),
        c("Period End Date", "bill_cycle_date", "date", fmt="%m%d%Y"),
    )
}


def _extra(header: str) -> Column:
    """A column kept as an extra, as delivered (its snake_case name in `extras`)."""
    return Column(header, re.sub(r"[^0-9a-z]+", "_", header.lower()).strip("_"))


def field_names(spec: tuple[str, ...]) -> tuple[str, ...]:
    """Spec field names made unique: a repeated name is prefixed with the field before it
    (`From`, `Province`, `To`, `Province` -> ..., `From Province`, ..., `To Province`)."""
    names: list[str] = []
    for index, name in enumerate(spec):
        repeated = spec.count(name) > 1 and index > 0
        unique = f"{spec[index - 1]} {name}" if repeated else name
        while unique in names:
            unique += " 2"
        names.append(unique)
    return tuple(names)


def _usage_layout(report_type: str) -> Layout:
    return Layout(
        name="rogers_" + report_type.lower().replace("-rm", "_roaming"),
        carrier="rogers",
        dataset="usage_events",
        file_pattern=r"^ALL_CALLS-",
        format="report",
        separator="|",
        description=f"Rogers {report_type} call detail: headerless pipe rows, fields per spec",
        columns=tuple(_MAPPED.get(n) or _extra(n) for n in field_names(FIELDS[report_type])),
    )


USAGE: dict[str, Layout] = {report_type: _usage_layout(report_type) for report_type in FIELDS}

_CUSTOM_CHARGES = (
    "Monthly Service Fee",
    "Data Monthly Service Fee",
    "Text Messaging Monthly Service Fee",
    "Activation Fee",
    "Call Display",
    "Voice Mail",
    "911 Fee",
    "Directory Assistance",
    "System Access Fee",
    "System Access Fee Credit",
    "Gov't Regulatory Recovery Fee",
    "Gov't Regulatory Recovery Fee Credit",
    "Essential Value Packs",
    "Equipment Charges",
    "Airtime Overage Charge",
    "Canadian Long Distance Charge",
    "US Long Distance Charge",
    "International Long Distance Charge",
    "US Airtime Roaming Charges",
    "International Airtime Roaming Charges",
    "US Roaming Long Distance Charge",
    "International Roaming Long Distance Charges",
    "Canadian Roaming Airtime Charges",
    "Canadian Roaming LD Charges",
    "Non Roaming Text Sent Charges",
    "Non Roaming Text Received Charges",
    "US Text Sent",
    "US Text Received",
    "International Text Sent",
    "International Text Received",
    "Data Overage Charges",
    "US Data Roaming Charges",
    "International Data Roaming Charges",
    "Canadian Data Roaming Charges",
    "Early Cancellation Payment",
    "Premium Services",
    "Roaming Packages",
    "Temporary Suspension Charge",
    "Shared Minutes Monthly Fee",
    "Early Upgrade Fee",
    "Unlocking Charge",
    "Other Charges",
    "Credits and Discounts",
    "WiFi Hotspot Charges",
    "UMA US Voice Charges",
    "UMA INT Voice Charges",
    "UMA US Voice Roaming Tax",
    "UMA INT Voice Roaming Tax",
    "UMA Local Charges",
    "UMA Long Distance Charges",
    "MMS Canadian Charges",
    "MMS US/International Charges",
)
CUSTOM_TAXES = ("GST", "PST", "HST", "QST")
CUSTOM_HEADER = (
    "Billing Period End Date",
    "Report Level",
    "Billing Account",
    "User Number",
    "User Name",
    *_CUSTOM_CHARGES,
    "Subtotal",
    *CUSTOM_TAXES,
    "Total Current Charges Non-Taxable",
    "Total Current Charges Taxable",
    "Total Current Charges",
)
_CUSTOM_MAPPED: dict[str, Column] = {
    col.header: col
    for col in (
        c("Billing Period End Date", "bill_cycle_date", "date", required=True, fmt="%m%d%Y"),
        c("Billing Account", "account_number", "id", required=True),
        c("User Number", "wireless_number", "phone", required=True),
        c("User Name", "user_name"),
        c("Subtotal", "charge", "money"),
        *(c(name, name.lower(), "money") for name in CUSTOM_TAXES),
        c("Total Current Charges", "total_current_charges", "money", required=True),
    )
}


ROGERS_CUSTOM = Layout(
    name="rogers_custom",
    carrier="rogers",
    dataset="invoice_lines",
    file_pattern=r"^ALL_CALLS-Custom\.txt$",
    separator="|",
    max_preamble=4,  # two title lines, sometimes a blank one
    description="Rogers Custom report: one row per line per bill period, a column per charge",
    columns=tuple(_CUSTOM_MAPPED.get(h) or _extra(h) for h in CUSTOM_HEADER),
)

LAYOUTS = (*USAGE.values(), ROGERS_CUSTOM)
