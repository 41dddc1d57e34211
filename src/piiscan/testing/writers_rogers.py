"""Rogers exports: a zip per call-detail report type (rows + field spec), and the Custom report.

Written to REAL_EXPORTS.md: headerless pipe rows with a trailing empty field, `Header-<type>.txt`
specs (`<type> Type Type : MM/DD/YYYY - MM/DD/YYYY`, a blank line, `name,width,type`), dates
`MMDDYYYY`, times `HHMMSS`, durations in seconds, amounts like `.74`, `*` for an unknown number,
and the real members' inconsistent names (`ALL_CALLS-VoiceRM.txt` with `Header-Voice.txt`).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import polars as pl

from piiscan.layouts.rogers import CUSTOM_HEADER, FIELD_TYPES, FIELDS, ROGERS_CUSTOM, USAGE
from piiscan.testing.common import Expected, add_sums, sums_of
from piiscan.testing.model import Invoice, World
from piiscan.testing.usage import usage_chunks

_ZIP_DATE = (2026, 1, 1, 0, 0, 0)  # fixed member timestamps keep the zip reproducible
# Report type -> (zip name suffix, data member, spec member), as in the real sample zips.
MEMBERS = {
    "Voice": ("Voice", "ALL_CALLS-Voice.txt", "Header-Voice.txt"),
    "Voice-RM": ("Voice_RM", "ALL_CALLS-VoiceRM.txt", "Header-Voice.txt"),
    "SMS": ("SMS", "ALL_CALLS-SMS.txt", "Header-SMS.txt"),
    "GPRS": ("GPRS", "ALL_CALLS-GPRS.txt", "Header-GPRS.txt"),
    "GPRS-RM": ("GPRS_RM", "ALL_CALLS-GPRS-Rm.txt", "Header-GPRS.txt"),
}
KIND_OF = {"Voice": "voice", "Voice-RM": "voice", "SMS": "sms", "GPRS": "data", "GPRS-RM": "data"}
# Report type -> the Custom report's column that bills its events' charges (roaming is in the US).
CUSTOM_COLUMN_OF = {
    "Voice": "Airtime Overage Charge",
    "Voice-RM": "US Airtime Roaming Charges",
    "SMS": "Non Roaming Text Sent Charges",
    "GPRS": "Data Overage Charges",
    "GPRS-RM": "US Data Roaming Charges",
}
WIDTHS = {"Text": 30, "Date": 8, "Time": 6, "Currency": 11}
CITIES = (("TORONTO", "ON"), ("MONTREAL", "QC"), ("VANCOUVER", "BC"), ("OTTAWA", "ON"))
ROAMING_PARTNER = ("AT&T MOBILITY", "DALLAS", "TX")


def rogers_amount(cents: pl.Expr) -> pl.Expr:
    """Cents as Rogers prints money: .74, 12.50, -.30 (no leading zero)."""
    whole = (cents.abs() // 100).cast(pl.String)
    text = pl.when(whole == "0").then(pl.lit("")).otherwise(whole) + "."
    text = text + (cents.abs() % 100).cast(pl.String).str.zfill(2)
    return pl.when(cents < 0).then(pl.lit("-") + text).otherwise(text)


def _member(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


def spec_text(report_type: str, invoice: Invoice) -> str:
    """Header-<type>.txt: the title line, a blank line, then name,width,type per field."""
    title = (
        f"{report_type} Type Type : {invoice.start:%m/%d/%Y} - {invoice.bill_cycle_date:%m/%d/%Y}"
    )
    lines = [title, ""]
    for name in FIELDS[report_type]:
        kind = FIELD_TYPES.get(name, "Text")
        lines.append(f"{name},{WIDTHS[kind]},{kind}")
    return "\r\n".join(lines) + "\r\n"


def _rows(
    report_type: str,
    chunk: pl.DataFrame,
    invoice: Invoice,
    names: dict[str, str],
    ids: dict[str, str],
) -> pl.DataFrame:
    """A usage chunk in the report type's field order, as Rogers writes the values."""
    account = invoice.account
    roaming = report_type.endswith("-RM")
    city, province = CITIES[0]
    other = pl.col("other_number")
    # Every seventh call's other party is unknown: Rogers prints `*`.
    unknown = (pl.int_range(pl.len()) % 7) == 3
    seconds = (pl.col("minutes") * 60).round(0).cast(pl.Int64).cast(pl.String)
    charge = rogers_amount(pl.col("charge_cents"))
    values: dict[str, pl.Expr] = {
        "BAN": pl.lit(account.number),
        "Invoice No.": pl.lit(invoice.number),
        "In Care Of": pl.lit(f"{account.customer.upper()} ENGINEERING"),
        "User Name": pl.col("wireless_number").replace_strict(names, return_dtype=pl.String),
        "User Number": pl.col("wireless_number"),
        "Date": pl.col("event_time").dt.strftime("%m%d%Y"),
        "Time": pl.col("event_time").dt.strftime("%H%M%S"),
        "Called Number": pl.when(unknown).then(pl.lit("*")).otherwise(other),
        "From": pl.lit(city),
        "To": pl.lit(CITIES[1][0]),
        "Rate Period": pl.lit("DAY"),
        "Call Type": pl.when(pl.col("direction") == "in")
        .then(pl.lit("IN"))
        .otherwise(pl.lit("OUT")),
        "Seconds": seconds,
        "Airtime Cost": charge,
        "LD Indicator": pl.lit("N"),
        "LD Charges": pl.lit(".00"),
        "LD Rate": pl.lit(".00"),
        "Access Charges": pl.lit(".00"),
        "Airtime Rate": pl.lit(".00"),
        "Total Call Charges": charge,
        "Period End Date": pl.lit(f"{invoice.bill_cycle_date:%m%d%Y}"),
        "Roaming Indicator": pl.lit("Y" if roaming else "N"),
        "Roaming Type Indicator": pl.lit("US" if roaming else ""),
        "Premium Indicator": pl.lit("N"),
        "Carrier Name": pl.lit(ROAMING_PARTNER[0]),
        "Carrier City": pl.lit(ROAMING_PARTNER[1]),
        "Carrier State": pl.lit(ROAMING_PARTNER[2]),
        "Volume (KB)": pl.col("data_kb").cast(pl.Int64).cast(pl.String),
        "Subscriber ID 1": pl.col("wireless_number").replace_strict(ids, return_dtype=pl.String),
        "Subscriber ID 2": pl.lit(""),
        "Subscriber ID 3": pl.lit(""),
        "Subscriber ID 4": pl.lit(""),
    }
    provinces = iter((province, CITIES[1][1]))
    columns = [
        (values[name] if name != "Province" else pl.lit(next(provinces))).alias(f"f{i}")
        for i, name in enumerate(FIELDS[report_type])
    ]
    return chunk.select(*columns, pl.lit("").alias("trailing"))


def report_events(report_type: str, chunk: pl.DataFrame) -> pl.DataFrame:
    """The events of a usage chunk that a report type lists, as they land: one event in four of
    a kind is roaming (the -RM report); GPRS has no time of day, so sessions land at midnight."""
    frame = chunk.filter(pl.col("kind") == KIND_OF[report_type])
    frame = frame.filter(((pl.int_range(pl.len()) % 4) == 0) == report_type.endswith("-RM"))
    if KIND_OF[report_type] == "data":
        frame = frame.with_columns(pl.col("event_time").dt.truncate("1d"))
    return frame


def write_rogers_month(
    folder: Path, out: Path, invoice: Invoice, world: World, events_per_line: int, seed: int
) -> list[Expected]:
    """Write a zip per report type and the Custom report of one invoice; what each must land.
    The Custom report's usage charges are what each line's events of each report type cost."""
    account = invoice.account
    month = invoice.bill_cycle_date.strftime("%Y%m")
    folder.mkdir(parents=True, exist_ok=True)
    names = {line.number: line.person.full_name.upper() for line in account.lines}
    ids = {line.number: line.person.employee_id for line in account.lines}
    chunks = list(usage_chunks(invoice, events_per_line, seed))
    expected = []
    billed: dict[str, dict[str, Decimal]] = {}  # line -> Custom column -> its events' charges
    for report_type, (suffix, data_member, spec_member) in MEMBERS.items():
        column = CUSTOM_COLUMN_OF[report_type]
        path = folder / f"Rogers_{account.number}_{month}_{suffix}.zip"
        rows, sums = 0, dict[str, str]()
        buffer = io.BytesIO()
        for chunk in chunks:
            part = report_events(report_type, chunk)
            rows += part.height
            sums = add_sums(sums, sums_of(part))
            per_line = part.group_by("wireless_number").agg(pl.col("charge_cents").sum())
            for number, cents in per_line.iter_rows():
                columns = billed.setdefault(number, {})
                columns[column] = columns.get(column, Decimal(0)) + Decimal(cents) / 100
            _rows(report_type, part, invoice, names, ids).write_csv(
                buffer, separator="|", include_header=False, quote_style="never"
            )
        with zipfile.ZipFile(path, "w") as zf:
            _member(zf, data_member, buffer.getvalue())
            _member(zf, spec_member, spec_text(report_type, invoice).encode())
        expected.append(
            Expected(
                path.relative_to(out).as_posix(),
                account.customer,
                USAGE[report_type].name,
                "usage_events",
                data_member,
                rows,
                sums=sums,
            )
        )
    expected.append(write_rogers_custom(folder, out, invoice, world, billed))
    return expected


def write_rogers_custom(
    folder: Path,
    out: Path,
    invoice: Invoice,
    world: World,
    billed: Mapping[str, Mapping[str, Decimal]],
) -> Expected:
    """Rogers_<BAN>_<YYYYMM>_Custom.zip :: ALL_CALLS-Custom.txt: two title lines, a pipe header,
    one row per line with a column per charge. `billed` gives a line's usage charges by Custom
    column (CUSTOM_COLUMN_OF); the line's usage total is their sum."""
    account = invoice.account
    path = folder / f"Rogers_{account.number}_{invoice.bill_cycle_date:%Y%m}_Custom.zip"

    def amount(value: Decimal) -> str:
        text = f"{abs(value):.2f}".removeprefix("0")
        return f"-{text}" if value < 0 else text

    lines = [
        f"Custom Type : {invoice.start:%m/%d/%Y} - {invoice.bill_cycle_date:%m/%d/%Y}",
        f"{account.customer.upper()} ENGINEERING - Billing Account {account.number}",
        "|".join(CUSTOM_HEADER),
    ]
    charge, tax = Decimal(0), Decimal(0)
    for line in account.lines:
        usage = dict.fromkeys(CUSTOM_COLUMN_OF.values(), Decimal(0)) | dict(
            billed.get(line.number, {})
        )
        # The same draws as before, so that nothing else moves; the usage is the events'.
        bill = replace(world.line_bill(), usage=sum(usage.values(), Decimal(0)))
        row = dict.fromkeys(CUSTOM_HEADER, ".00")
        row |= {
            "Billing Period End Date": f"{invoice.bill_cycle_date:%m%d%Y}",
            "Report Level": "Subscriber",
            "Billing Account": account.number,
            "User Number": line.number,
            "User Name": line.person.full_name.upper(),
            "Monthly Service Fee": amount(bill.access),
            "Equipment Charges": amount(bill.equipment),
            **{column: amount(value) for column, value in usage.items()},
            "Subtotal": amount(bill.charge),
            "HST": amount(bill.tax),
            "Total Current Charges Taxable": amount(bill.charge),
            "Total Current Charges": amount(bill.charge + bill.tax),
        }
        lines.append("|".join(row[h] for h in CUSTOM_HEADER))
        charge, tax = charge + bill.charge, tax + bill.tax
    with zipfile.ZipFile(path, "w") as zf:
        _member(zf, "ALL_CALLS-Custom.txt", ("\r\n".join(lines) + "\r\n").encode())
    return Expected(
        path.relative_to(out).as_posix(),
        account.customer,
        ROGERS_CUSTOM.name,
        "invoice_lines",
        "ALL_CALLS-Custom.txt",
        len(account.lines),
        sums={"charge": str(charge), "tax": str(tax)},
    )
