"""Bell (Canada): the ACC / DTL / MOB invoice CSVs of a bill cycle and the five Enterprise Center
XLSX reports, with the real exports' headers (piiscan.layouts.bell) and fictional values."""

from __future__ import annotations

import io
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import polars as pl
import xlsxwriter

from piiscan.layouts.bell import (
    BELL_ACCOUNT,
    BELL_CALL_DETAIL,
    BELL_COST_OVERVIEW,
    BELL_HARDWARE,
    BELL_INVOICE_CHARGES,
    BELL_MOBILE,
    BELL_USAGE_OVERVIEW,
    BELL_USER_PROFILE,
)
from piiscan.layouts.model import Kind, Layout
from piiscan.testing.common import Expected, add_sums, sums_of, write_text
from piiscan.testing.model import Invoice, Line, LineBill, World
from piiscan.testing.usage import usage_chunks, usage_totals

CENT = Decimal("0.01")

# Sales taxes by province as (column, rate %); the first ones are rounded, the last takes the rest.
GST = ("GST", Decimal(5))
PROVINCE_TAXES: dict[str, tuple[tuple[str, Decimal], ...]] = {
    "QC": (GST, ("QST", Decimal("9.975"))),
    "ON": (("HST", Decimal(13)),),
    "NB": (("HST", Decimal(15)),),
    "NS": (("HST", Decimal(14)),),
    "NL": (("HST", Decimal(15)),),
    "PE": (("HST", Decimal(15)),),
    "BC": (GST, ("PST", Decimal(7))),
    "MB": (GST, ("PST", Decimal(7))),
    "SK": (GST, ("PST", Decimal(6))),
}
# Where each tax goes in MOB / ACC and in the Cost overview report.
MOB_TAX_COLUMN = {"GST": "GST", "HST": "HST", "QST": "QST - Telec"}
REPORT_TAX_COLUMN = {"GST": "GST", "HST": "HST", "QST": "QST - telecom"}
PST_COLUMN = {"BC": "BC PST", "MB": "Manitoba", "SK": "Sask"}

# Width each kind of cell is padded to (at least the header's); numbers are right-aligned.
WIDTHS: dict[Kind, int] = {
    "text": 16,
    "id": 12,
    "phone": 10,
    "dialed": 10,
    "date": 10,
    "money": 11,
    "number": 11,
    "int": 7,
    "mmss": 8,
    "datetime": 19,
}
RIGHT: frozenset[Kind] = frozenset({"money", "number", "int", "mmss"})

# Characters fr_CA names may carry that ISO-8859-1 cannot encode.
LATIN1_FALLBACK = str.maketrans({"œ": "oe", "Œ": "OE", "’": "'", "‘": "'"})
PLACES = (("MONTRÉAL", "QC"), ("QUÉBEC", "QC"), ("TORONTO", "ON"), ("OTTAWA", "ON"))
EVENT_TYPES = {"voice": "Voice", "sms": "Text", "data": "Data"}
DESCRIPTIONS = {"voice": "Appel local", "sms": "Message texte", "data": "Données mobiles"}
GROUPS = ("Ventes", "Opérations", "Finance", "TI")
NETWORKS = ("LTE", "5G")
REPORT_EPOCH = time(6, 0)


def _rel(path: Path, out: Path) -> str:
    return path.relative_to(out).as_posix()


def _latin1(text: str) -> str:
    return text.translate(LATIN1_FALLBACK).encode("iso-8859-1", "replace").decode("iso-8859-1")


def province_taxes(province: str, total: Decimal) -> dict[str, Decimal]:
    """Split a line's tax into the province's GST/HST/QST/PST amounts, summing to total."""
    rates = PROVINCE_TAXES.get(province, (GST,))
    whole = sum((rate for _, rate in rates), Decimal(0))
    split: dict[str, Decimal] = {}
    for name, rate in rates[:-1]:
        split[name] = (total * rate / whole).quantize(CENT)
    split[rates[-1][0]] = total - sum(split.values(), Decimal(0))
    return split


def _tax_cells(province: str, total: Decimal, columns: dict[str, str]) -> dict[str, Decimal]:
    """The line's taxes under the export's column names."""
    cells: dict[str, Decimal] = {}
    for name, amount in province_taxes(province, total).items():
        column = PST_COLUMN.get(province, "BC PST") if name == "PST" else columns[name]
        cells[column] = cells.get(column, Decimal(0)) + amount
    return cells


def _widths(layout: Layout) -> list[tuple[int, bool]]:
    return [(max(len(c.header), WIDTHS[c.kind]), c.kind in RIGHT) for c in layout.columns]


def _padded_rows(layout: Layout, rows: list[dict[str, str]]) -> list[list[str]]:
    """Both header lines and the rows, every cell padded as Bell pads it."""
    widths = _widths(layout)
    english = [f"{c.header:<{w}}" for c, (w, _) in zip(layout.columns, widths, strict=True)]
    french = [f"{c.french or '':<{w}}" for c, (w, _) in zip(layout.columns, widths, strict=True)]
    out = [english, french]
    for values in rows:
        out.append(
            [
                f"{values.get(c.header, ''):{'>' if right else '<'}{w}}"
                for c, (w, right) in zip(layout.columns, widths, strict=True)
            ]
        )
    return out


def _csv(rows: list[list[str]]) -> str:
    return "".join(",".join(row) + "\n" for row in rows)


def _mmss(minutes: int, seconds: int) -> str:
    return f"{minutes}:{seconds:02d}"


def _bill_date(invoice: Invoice) -> str:
    return f"{invoice.bill_cycle_date:%Y/%m/%d}"


def bell_usage_rounded(chunk: pl.DataFrame) -> pl.DataFrame:
    """Usage as Bell's DTL bills it: air time in whole seconds, data in whole KB."""
    seconds = (pl.col("minutes") * 60).round(0).cast(pl.Int64)
    return chunk.with_columns(
        (seconds / 60).alias("minutes"), pl.col("data_kb").round(0).cast(pl.Float64)
    )


def _air_seconds(bill: LineBill) -> int:
    """The line's air time in whole seconds (its minutes are whole seconds summed)."""
    return int((bill.minutes * 60).to_integral_value())


def _mob_values(invoice: Invoice, line: Line, bill: LineBill) -> dict[str, str]:
    seconds = _air_seconds(bill)
    airtime = (bill.usage * Decimal("0.6")).quantize(CENT)
    return {
        "Acct Nbr": invoice.account.number,
        "Invc Date": _bill_date(invoice),
        "Mobile Nbr": line.number,
        "Surname": line.person.last_name,
        "Given Name": line.person.first_name,
        "Ref Nbr": line.person.employee_id,
        "Group Subscriber": "N",
        "Category": line.cost_center[-4:],
        "Adj App Ttl": "0.00",
        "Mth Chg Ttl": f"{bill.access}",
        "Ftr Chg Ttl": "0.00",
        "Air Dur": _mmss(seconds // 60, seconds % 60),
        "Airtime Chg": f"{airtime}",
        "Data Chg": f"{bill.usage - airtime}",
        "Roamer Chg": "0.00",
        "Roamer LD": "0.00",
        "LD Chg": "0.00",
        "Other Chgs": f"{bill.equipment}",
        "Disc Ttl": "0.00",
        "Ttl Charges": f"{bill.charge}",
        "Txt Msg": str(bill.messages),
        "Txt Msg Amt": "0.00",
        "Data Dur": "0:00",
        "LD Dur": "0:00",
        "Roam Dur": "0:00",
        "Rmdatdur": "0:00",
        "Rm datachrg": "0.00",
        "PktDtVol": str(int(bill.data_kb)),
        "Pkt Dat Amt": "0.00",
        **{k: f"{v}" for k, v in _tax_cells(line.person.state, bill.tax, MOB_TAX_COLUMN).items()},
        "Min day": str(int(bill.minutes)),
        "Min W/E": "0",
        "Min nght": "0",
    }


def write_bell_mobile(
    folder: Path, out: Path, invoice: Invoice, bills: list[LineBill], world: World
) -> Expected:
    """Write Bell_<account>_<YYYYMM>_MOB.csv: one padded row per line, ISO-8859-1. Its air
    time, texts and KB are the bills', which write_bell_invoice takes from the DTL's events."""
    path = folder / f"Bell_{invoice.account.number}_{invoice.bill_cycle_date:%Y%m}_MOB.csv"
    rows, seconds = [], 0
    for line, bill in zip(invoice.account.lines, bills, strict=True):
        # The air time's seconds were once drawn here; still drawn so that later draws stay put.
        world.rng.randint(0, 59)
        seconds += _air_seconds(bill)
        values = _mob_values(invoice, line, bill)
        rows.append({k: _latin1(v) for k, v in values.items()})
    write_text(path, _csv(_padded_rows(BELL_MOBILE, rows)), encoding=BELL_MOBILE.encoding)
    sums = {
        "minutes": str(round(seconds / 60, 4)),
        "messages": str(sum(b.messages for b in bills)),
        "data_kb": str(round(float(sum(int(b.data_kb) for b in bills)), 4)),
        "charge": str(sum((b.charge for b in bills), Decimal(0))),
        "tax": str(sum((b.tax for b in bills), Decimal(0))),
    }
    return Expected(
        _rel(path, out),
        invoice.account.customer,
        BELL_MOBILE.name,
        BELL_MOBILE.dataset,
        rows=len(bills),
        sums=sums,
    )


def _dtl_columns(invoice: Invoice) -> dict[str, pl.Expr]:
    """Usage chunk columns as DTL cells (unpadded), by header; the rest are blank."""
    seconds = (pl.col("minutes") * 60).round(0).cast(pl.Int64)
    place = pl.col("_place")
    return {
        "Acct Nbr": pl.lit(invoice.account.number),
        "Invc Date": pl.lit(_bill_date(invoice)),
        "Mobile Nbr": pl.col("wireless_number"),
        "CallSeq": pl.col("_seq").cast(pl.String),
        "Date": pl.col("event_time").dt.strftime("%m/%d"),
        "Time": pl.col("event_time").dt.strftime("%H:%M"),
        "Orig Place": place.replace_strict(dict(enumerate(p for p, _ in PLACES))),
        "PR": place.replace_strict(dict(enumerate(pr for _, pr in PLACES))),
        "Called Nbr": pl.col("other_number").fill_null(""),
        "Duration": (seconds // 60).cast(pl.String)
        + ":"
        + (seconds % 60).cast(pl.String).str.zfill(2),
        "Usage Amt": _cents(pl.col("charge_cents")),
        "LD Chg": pl.lit("0.00"),
        "Call Cost": _cents(pl.col("charge_cents")),
        "PktDvol": pl.col("data_kb").cast(pl.Int64).cast(pl.String),
        "Desc": pl.col("kind").replace_strict(DESCRIPTIONS, return_dtype=pl.String),
        "Event Type": pl.col("kind").replace_strict(EVENT_TYPES, return_dtype=pl.String),
        "Billed by": pl.lit("Bell Mobilité"),
        "Period": pl.lit("Jour"),
    }


def _cents(cents: pl.Expr) -> pl.Expr:
    sign = pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    absolute = cents.abs()
    return (
        sign
        + (absolute // 100).cast(pl.String)
        + "."
        + (absolute % 100).cast(pl.String).str.zfill(2)
    )


def write_bell_call_detail(
    folder: Path, out: Path, invoice: Invoice, events_per_line: int, seed: int
) -> Expected:
    """Write Bell_<account>_<YYYYMM>_DTL.csv: one fully quoted, padded row per event."""
    path = folder / f"Bell_{invoice.account.number}_{invoice.bill_cycle_date:%Y%m}_DTL.csv"
    cells = _dtl_columns(invoice)
    widths = _widths(BELL_CALL_DETAIL)
    header = _padded_rows(BELL_CALL_DETAIL, [])
    text = io.StringIO()
    text.write("".join(",".join(f'"{v}"' for v in row) + "\n" for row in header))
    rows, sequence = 0, 0
    sums: dict[str, str] = {}
    # Each column's cell; of the two `PR`, the first is the origin's province, the second blank.
    exprs = [cells.get(c.header, pl.lit("")) for c in BELL_CALL_DETAIL.columns]
    second_pr = [i for i, c in enumerate(BELL_CALL_DETAIL.columns) if c.header == "PR"][1]
    exprs[second_pr] = pl.lit("")
    padded = [
        (value.str.pad_start(width) if right else value.str.pad_end(width)).alias(f"c{i}")
        for i, (value, (width, right)) in enumerate(zip(exprs, widths, strict=True))
    ]
    for chunk in usage_chunks(invoice, events_per_line, seed):
        chunk = (
            bell_usage_rounded(chunk)
            .with_columns(pl.int_range(sequence + 1, sequence + chunk.height + 1).alias("_seq"))
            .with_columns((pl.col("_seq") % len(PLACES)).alias("_place"))
        )
        chunk.select(padded).write_csv(text, include_header=False, quote_style="always")
        rows += chunk.height
        sequence += chunk.height
        sums = add_sums(sums, sums_of(chunk))
    write_text(path, text.getvalue(), encoding=BELL_CALL_DETAIL.encoding)
    return Expected(
        _rel(path, out),
        invoice.account.customer,
        BELL_CALL_DETAIL.name,
        BELL_CALL_DETAIL.dataset,
        rows=rows,
        sums=sums,
    )


def write_bell_account(
    folder: Path, out: Path, invoice: Invoice, bills: list[LineBill], world: World
) -> Expected:
    """Write Bell_<account>_<YYYYMM>_ACC.csv: the account's totals, one row. Like the real
    file it is UTF-8 with U+FFFD where its French header had accents (damaged upstream)."""
    path = folder / f"Bell_{invoice.account.number}_{invoice.bill_cycle_date:%Y%m}_ACC.csv"
    previous = Decimal(world.rng.randint(50_000, 500_000)) / 100
    charges = sum((b.charge for b in bills), Decimal(0))
    taxes: dict[str, Decimal] = {}
    for line, bill in zip(invoice.account.lines, bills, strict=True):
        for column, amount in _tax_cells(line.person.state, bill.tax, MOB_TAX_COLUMN).items():
            taxes[column] = taxes.get(column, Decimal(0)) + amount
    current = charges + sum(taxes.values(), Decimal(0))
    values = {
        "Acct Nbr": invoice.account.number,
        "Invc Date": _bill_date(invoice),
        "Prev Bal": f"{previous}",
        "Paymt Recvd": f"{-previous}",
        "Bal Owing": "0.00",
        "Monthly Chg": f"{sum((b.access for b in bills), Decimal(0))}",
        "Other Chg": f"{sum((b.equipment for b in bills), Decimal(0))}",
        "Usage": f"{sum((b.usage for b in bills), Decimal(0))}",
        "Cur Chg Ttl": f"{current}",
        "Ttl Amt Due": f"{current}",
        "GST RefNbr": "100000001RT0001",
        "QST RefNbr": "1000000001TQ0001",
        **{column: f"{amount}" for column, amount in taxes.items()},
    }
    rows = _padded_rows(BELL_ACCOUNT, [values])
    write_text(path, _csv(rows), encoding="utf-8")
    return Expected(  # account totals only: recognised, quarantined as a reference file
        _rel(path, out),
        invoice.account.customer,
        BELL_ACCOUNT.name,
        BELL_ACCOUNT.dataset,
        outcome="quarantined",
        reason="reference_file",
    )


# --- Enterprise Center reports -----------------------------------------------------------------


def _line_cells(invoice: Invoice, line: Line, index: int) -> dict[str, object]:
    """Cells every report has for a line: numbers, dates and text as Excel holds them."""
    account = invoice.account
    upgrade = line.activation_date.replace(year=line.activation_date.year + 2)
    return {
        "Invoice date": invoice.bill_cycle_date,
        "Group ID": 1000 + index % len(GROUPS),
        "Group name": GROUPS[index % len(GROUPS)],
        "Account number": int(account.number),
        "Account name": f"{account.customer.title()} Inc.",
        "Account status": "Open",
        "Device type": "Smartphone",
        "Mobile number": int(line.number),
        "User last name": line.person.last_name,
        "User first name": line.person.first_name,
        "Status": "Cancelled" if line.status == "deactivated" else "Active",
        "Category": line.cost_center[-4:],
        "Reference #": line.person.employee_id,
        "Activation date": line.activation_date,
        "Deactivation date": line.deactivation_date,
        "Network Sub Type": NETWORKS[index % len(NETWORKS)],
        "ESN/IMEI": int(line.imei),
        "Model code": f"{line.make[:2].upper()}{index:03d}",
        "Model description": f"{line.make} {line.model}",
        "SIM number": line.iccid,  # 20 digits: more than an Excel number holds
        "Hardware upgrade eligibility date": upgrade,
        "Report Date": invoice.bill_cycle_date,
        "Rate plan code": f"BPLAN{index % 3}",
        "Rate plan name": line.plan,
    }


def _write_report(
    path: Path, layout: Layout, sheet_name: str, rows: list[dict[str, object]], created: date
) -> None:
    workbook = xlsxwriter.Workbook(str(path))
    # A fixed creation time (also used as 'modified') keeps the workbook byte-reproducible.
    workbook.set_properties({"created": datetime.combine(created, REPORT_EPOCH)})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet = workbook.add_worksheet(sheet_name)
    for col, header in enumerate(layout.headers):
        sheet.write_string(0, col, header)
    for row, values in enumerate(rows, start=1):
        for col, header in enumerate(layout.headers):
            value = values.get(header)
            if value is None or value == "":
                continue
            if isinstance(value, date):
                sheet.write_datetime(row, col, datetime.combine(value, time()), day)
            elif isinstance(value, int | float | Decimal):
                sheet.write_number(row, col, float(value))
            else:
                sheet.write_string(row, col, str(value))
    workbook.close()


def write_bell_reports(
    folder: Path, out: Path, invoice: Invoice, bills: list[LineBill]
) -> list[Expected]:
    """Write the five Enterprise Center reports of a bill cycle, `<prefix>-<Report>.xlsx`."""
    prefix = f"Bell_{invoice.account.number}_{invoice.bill_cycle_date:%Y%m}"
    customer = invoice.account.customer
    lines = list(zip(invoice.account.lines, bills, strict=True))
    base = [_line_cells(invoice, line, i) for i, (line, _) in enumerate(lines)]
    expected: list[Expected] = []

    def report(
        layout: Layout, sheet: str, rows: list[dict[str, object]], sums: dict[str, str]
    ) -> None:
        path = folder / f"{prefix}-{sheet}.xlsx"
        _write_report(path, layout, sheet, rows, invoice.bill_cycle_date)
        expected.append(
            Expected(
                _rel(path, out), customer, layout.name, layout.dataset, rows=len(rows), sums=sums
            )
        )

    report(BELL_HARDWARE, "Hardware report", base, {})
    profile = [
        {
            **cells,
            "Account address": "1 Carrefour Alexander-Graham-Bell, Verdun QC H3E 3B3",
            "Rate plan charges": bill.access,
            "Included minutes": 1000,
            "Included MB": 51200,
            "Feature charges": 0,
            "Total RC charges": bill.access,
            "Call Display ( SCDPF_OP )": 0,
            "5G Access - Corp ( SN5GTCORP )": 5,
        }
        for cells, (_, bill) in zip(base, lines, strict=True)
    ]
    report(BELL_USER_PROFILE, "Enhanced User profile report", profile, {})

    costs = []
    for cells, (line, bill) in zip(base, lines, strict=True):
        taxes = _tax_cells(line.person.state, bill.tax, REPORT_TAX_COLUMN)
        costs.append(
            {
                **cells,
                "Current adjustments": 0,
                "Rate plan charges": bill.access,
                "Feature charges": 0,
                "Other charges and credits": bill.equipment,
                "Total usage": bill.usage,
                **taxes,
                "Total taxes": bill.tax,
                "Total invoice": bill.charge + bill.tax,
                "Airtime charges": bill.usage,
                "Total roaming charges ": 0,
            }
        )
    report(
        BELL_COST_OVERVIEW,
        "Cost overview",
        costs,
        {
            "charge": str(sum((b.charge for b in bills), Decimal(0))),
            "tax": str(sum((b.tax for b in bills), Decimal(0))),
        },
    )

    items = []
    for cells, (line, bill) in zip(base, lines, strict=True):
        for kind, name, amount in (
            ("Monthly charges", line.plan, bill.access),
            ("Usage charges", "Airtime", bill.usage),
            ("Other charges and credits", "Device balance", bill.equipment),
        ):
            if amount:
                items.append(
                    {
                        **cells,
                        "Charge type": kind,
                        "Charge name": name,
                        "Charge amount": amount,
                        "ADJ/Discount": 0,
                        "Total before taxes": amount,
                        "Charge taxes": 0,
                        "From": invoice.start,
                        "To": invoice.bill_cycle_date,
                    }
                )
    charged = sum((Decimal(str(i["Total before taxes"])) for i in items), Decimal(0))
    report(BELL_INVOICE_CHARGES, "Invoice charge report", items, {"charge": str(charged)})

    usage, megabytes = [], Decimal(0)
    for cells, (_, bill) in zip(base, lines, strict=True):
        mb = (bill.data_kb / 1024).quantize(CENT)
        megabytes += mb
        usage.append(
            {
                **cells,
                "Total airtime minutes": int(bill.minutes),
                "Total outgoing minutes": int(bill.minutes),
                "Total day minutes": int(bill.minutes),
                "Domestic texts sent": bill.messages,
                "Total domestic text": bill.messages,
                "Total text": bill.messages,
                "On device domestic data MB": mb,
                "Total domestic data MB": mb,
                "Total roaming data": 0,
            }
        )
    report(
        BELL_USAGE_OVERVIEW,
        "Usage overview",
        usage,
        {
            "minutes": str(round(float(sum(int(b.minutes) for b in bills)), 4)),
            "messages": str(sum(b.messages for b in bills)),
            "data_kb": str(round(float(megabytes * 1024), 4)),
        },
    )
    return expected


def write_bell_invoice(
    folder: Path,
    out: Path,
    invoice: Invoice,
    world: World,
    events_per_line: int,
    seed: int,
    reports: bool = False,
) -> list[Expected]:
    """Write a bill cycle's MOB, DTL and ACC files (and, with reports, the five XLSX reports).
    The lines' minutes, texts and KB are what the DTL's events add up to, as Bell rounds them."""
    folder.mkdir(parents=True, exist_ok=True)
    usage = usage_totals(invoice, events_per_line, seed, bell_usage_rounded)
    bills = [world.line_bill(usage[line.number]) for line in invoice.account.lines]
    expected = [
        write_bell_mobile(folder, out, invoice, bills, world),
        write_bell_call_detail(folder, out, invoice, events_per_line, seed),
        write_bell_account(folder, out, invoice, bills, world),
    ]
    if reports:
        expected += write_bell_reports(folder, out, invoice, bills)
    return expected
