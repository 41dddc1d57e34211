"""Telus (Canada) reports: report-style text of tab-separated key/value lines, not tables.

A report has a preamble (client number, invoice date, invoice number, company name and address),
a title line, then one block per subscriber (`"C:"` and the number, `"Subscriber Name:"`,
references, sections like `"CURRENT CHARGES"` with `"<item>"<TAB>$5.00` lines). The reader
(piiscan.ingest.telus) turns an Individual Detail report into two tables, whose columns are the
names below: one row per subscriber block, and one row per charge item.
"""

from __future__ import annotations

from dataclasses import dataclass

from piiscan.layouts.model import Layout, c

INDIVIDUAL_DETAIL = "REPORT - INDIVIDUAL DETAILS"

# Preamble keys as the reader names them, whatever the delivered spelling.
CLIENT_NUMBER = "Client Number"
INVOICE_DATE = "Invoice Date"
INVOICE_NUMBER = "Invoice Number"
SUBSCRIBER = "C"  # the key of a block's first line, "C:" and the subscriber's number
CURRENT_CHARGES = "CURRENT CHARGES"  # the section whose items make a line's charge
TOTAL_CURRENT = "Total Current Charges"  # a block's charge: this line, or its items' sum
TOTAL_TAXES = "Total Taxes"  # a block's tax: this line, or the items of its TAXES section
# Columns of the charge-item table, after the preamble keys and the subscriber.
SECTION, ITEM, PERIOD, AMOUNT = "Section", "Item", "Period", "Amount"

_INVOICE = (
    c(CLIENT_NUMBER, "account_number", "id", required=True),
    c(INVOICE_DATE, "bill_cycle_date", "date", required=True, fmt="%d-%b-%y"),  # 06-Feb-23
    c(INVOICE_NUMBER, "invoice_number", "id"),
    c(SUBSCRIBER, "wireless_number", "phone", required=True),
    c("Subscriber Name", "user_name"),
)

TELUS_INDIVIDUAL_DETAIL = Layout(
    name="telus_individual_detail",
    carrier="telus",
    dataset="invoice_lines",
    file_pattern=r"",
    format="report",
    separator="\t",
    description="Telus Individual Detail report: one row per subscriber block",
    columns=(
        *_INVOICE,
        c("Rate Plan", "plan"),
        c(TOTAL_CURRENT, "charge", "money", required=True),
        c(TOTAL_TAXES, "tax", "money"),
        c("Total", "total", "money"),
    ),
)

TELUS_INDIVIDUAL_CHARGES = Layout(
    name="telus_individual_charges",
    carrier="telus",
    dataset="charge_items",
    file_pattern=r"",
    format="report",
    separator="\t",
    description="Telus Individual Detail report: one row per charge item of a subscriber",
    columns=(
        *_INVOICE,
        c(SECTION, "item_category"),
        c(ITEM, "item_description", required=True),
        c(PERIOD, "period_text"),  # 07-Feb-23 to 06-Mar-23
        c(AMOUNT, "charge", "money", required=True),
    ),
)


@dataclass(frozen=True)
class Unread:
    """A Telus report that is recognised but lands nothing: why, as a code and a sentence."""

    code: str
    reason: str


_TOTALS_ONLY = "report_without_line_data"
_NO_LAYOUT = "report_not_supported"
# Titles of the other Telus reports (compared in lower case) and why none of them lands.
UNREAD: dict[str, Unread] = {
    "group summary": Unread(
        _TOTALS_ONLY, "Telus Group Summary holds totals per group, no per-line rows"
    ),
    "invoice summary": Unread(
        _TOTALS_ONLY, "Telus Invoice Summary holds the invoice's totals, no per-line rows"
    ),
    "airtime detail": Unread(
        _NO_LAYOUT,
        "Telus Airtime Detail is recognised, but its call rows have no verified layout yet "
        "(only its title is known from real exports); send the Individual Detail report",
    ),
    "account detail": Unread(
        _NO_LAYOUT,
        "Telus Account Detail is recognised, but its rows have no verified layout yet "
        "(only its title is known from real exports); send the Individual Detail report",
    ),
    "dew report": Unread(
        _NO_LAYOUT,
        "Telus DEW Report is recognised, but its rows have no verified layout yet "
        "(only its title is known from real exports); send the Individual Detail report",
    ),
}

LAYOUTS = (TELUS_INDIVIDUAL_DETAIL, TELUS_INDIVIDUAL_CHARGES)
