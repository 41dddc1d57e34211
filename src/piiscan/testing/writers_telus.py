"""Telus reports: report-style text of quoted keys, tabs and $ amounts, one block per subscriber.

REAL_EXPORTS.md describes the format in prose only: a preamble (client number, `Invoice Date:
06-Feb-23`, unique invoice number, company name and address lines), a title, then per subscriber
`"C:"` and the number, `"Subscriber Name:"`, references, and sections like `"CURRENT CHARGES"`
of `"<item>"<TAB>$5.00` lines with periods `07-Feb-23 to 06-Mar-23`. The writer varies what a
tolerant reader must take: CRLF, blank lines, a key and its value in one field, a block without
its total line, credits in parentheses.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from piiscan.layouts.telus import (
    INDIVIDUAL_DETAIL,
    TELUS_INDIVIDUAL_CHARGES,
    TELUS_INDIVIDUAL_DETAIL,
    UNREAD,
)
from piiscan.testing.common import Expected, write_text
from piiscan.testing.model import Invoice, World


def _date(day: object) -> str:
    return f"{day:%d-%b-%y}"  # 06-Feb-23


def _money(value: Decimal) -> str:
    return f"(${-value:,.2f})" if value < 0 else f"${value:,.2f}"


def _line(*cells: str) -> str:
    """Quoted keys and texts, bare $ amounts, tab-separated."""
    return "\t".join(c if c.startswith(("$", "($")) else f'"{c}"' for c in cells)


def _preamble(invoice: Invoice, title: str) -> list[str]:
    account = invoice.account
    return [
        _line("Client Number:", account.number),
        _line(f"Invoice Date: {_date(invoice.bill_cycle_date)}"),
        _line("Unique Invoice Number:", invoice.number),
        _line(f"{account.customer.upper()} ENGINEERING LTD"),
        _line("100 KING ST W SUITE 5600"),
        _line("TORONTO ON  M5X 1C9"),
        "",
        _line(title),
        "",
    ]


def _path(folder: Path, invoice: Invoice, report: str) -> Path:
    return folder / f"Telus_{report}_{invoice.account.number}_{invoice.bill_cycle_date:%Y%m}.txt"


def write_telus_individual_detail(
    folder: Path, out: Path, invoice: Invoice, world: World
) -> list[Expected]:
    """Telus_IndividualDetail_<client>_<YYYYMM>.txt and what its two tables must land."""
    lines = _preamble(invoice, INDIVIDUAL_DETAIL)
    period = f"{_date(invoice.start)} to {_date(invoice.bill_cycle_date)}"
    charge, tax, items_total, items = Decimal(0), Decimal(0), Decimal(0), 0
    for index, line in enumerate(invoice.account.lines):
        bill = world.line_bill()
        credit = -Decimal(world.rng.randint(100, 1000)) / 100 if index % 4 == 1 else Decimal(0)
        current = [
            ("Monthly Service", period, bill.access),
            ("Airtime and Usage", "", bill.usage),
            ("Device Balance", "", bill.equipment),
        ]
        if credit:
            current.append(("Loyalty Credit", "", credit))
        line_charge = bill.charge + credit
        gst = (line_charge * Decimal("0.05")).quantize(Decimal("0.01"))
        taxes = [("GST", gst), ("PST", bill.tax)]
        line_tax = gst + bill.tax
        lines += [
            _line("C:", line.dashed),
            _line("Subscriber Name:", line.person.full_name.upper()),
            _line("Reference 1:", line.person.employee_id),
            _line("Reference 2:", ""),
            _line("Rate Plan:", line.plan),
            "",
            _line("CURRENT CHARGES"),
            *(
                _line(item, when, _money(v)) if when else _line(item, _money(v))
                for item, when, v in current
            ),
        ]
        if index % 3 != 2:  # some blocks leave their total out: the items add up to it
            lines.append(_line("Total Current Charges", _money(line_charge)))
        lines += [
            _line("TAXES"),
            *(_line(name, _money(v)) for name, v in taxes),
            _line("Total Taxes", _money(line_tax)),
            _line("TOTAL", _money(line_charge + line_tax)),
            "",
        ]
        charge, tax = charge + line_charge, tax + line_tax
        items += len(current) + len(taxes)
        items_total += line_charge + line_tax
    path = _path(folder, invoice, "IndividualDetail")
    write_text(path, "\r\n".join(lines) + "\r\n")
    rel = path.relative_to(out).as_posix()
    customer = invoice.account.customer
    return [
        Expected(
            rel,
            customer,
            TELUS_INDIVIDUAL_DETAIL.name,
            "invoice_lines",
            rows=len(invoice.account.lines),
            sums={"charge": str(charge), "tax": str(tax)},
        ),
        Expected(
            rel,
            customer,
            TELUS_INDIVIDUAL_CHARGES.name,
            "charge_items",
            rows=items,
            sums={"charge": str(items_total)},
        ),
    ]


def write_telus_summary(folder: Path, out: Path, invoice: Invoice, title: str) -> Expected:
    """A Telus report that holds no per-line rows (Group Summary, ...), and its quarantine."""
    lines = _preamble(invoice, title)
    for group in ("HEAD OFFICE", "FIELD SERVICES"):
        lines += [
            _line("Group:", group),
            _line("Number of Subscribers:", "3"),
            _line("Total Current Charges", _money(Decimal("412.50"))),
            "",
        ]
    path = _path(folder, invoice, title.title().replace(" ", ""))
    write_text(path, "\r\n".join(lines) + "\r\n")
    return Expected(
        path.relative_to(out).as_posix(),
        invoice.account.customer,
        None,
        None,
        outcome="quarantined",
        reason=UNREAD[title.lower()].code,
    )
