"""A labelled corpus of carrier-style extracts for the detection benchmark.

Writes 15 files (CSV, TSV, pipe, XLSX, Parquet; 400-1000 rows each) into `<out>/files/` and
`<out>/labels.json` mapping {file name: {column name: entity or null}}. Every value is fictional:
people, numbers and device identifiers come from the fixture `World` (555-01xx numbers, Luhn-valid
IMEIs and ICCIDs, IMSIs with real MCC/MNC prefixes) and seeded Faker locales. Labels say what a
column holds, decided when the column is written; README.md says what each file exercises.

    .venv/bin/python benchmarks/detection/corpus.py --out benchmarks/data/detection
"""

from __future__ import annotations

import argparse
import json
import random
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter
from faker import Faker

from piiscan.testing.model import TACS, Line, Person, World, luhn_digit

ENTITIES = (
    "PHONE_NUMBER",
    "IMEI",
    "ICCID",
    "IMSI",
    "EMPLOYEE_ID",
    "PERSON",
    "EMAIL_ADDRESS",
    "LOCATION",
    "IP_ADDRESS",
)
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "data" / "detection"
FIRST_CYCLE = date(2026, 10, 16)
# Real area codes with the fictional 555-0100..0199 exchange, for the other party of a call.
OTHER_AREAS = ("212", "646", "718", "213", "305", "415", "773", "860", "901", "972", "503")
CITIES_US = ("NEW YORK NY", "CHICAGO IL", "SAN FRAN CA", "BOSTON MA", "SEATTLE WA", "DENVER CO")
CARRIERS = ("Verizon", "AT&T", "T-Mobile", "US Cellular")
PLANS = (
    "Business Unlimited Plus",
    "Flex Business 5GB",
    "AT&T Business Unlimited Performance",
    "Mobile Select Pooled 10GB",
    "Business Unlimited Advanced",
)
DEPARTMENTS = ("Finance", "Operations", "Sales", "Engineering", "Legal", "Logistics", "HR")
TITLES = ("Analyst", "Field Technician", "Account Manager", "Engineer", "Driver", "Director")


@dataclass(frozen=True)
class Col:
    """One column of a corpus file: header, values (None = empty cell), label, storage type."""

    header: str
    values: Sequence[Any]
    label: str | None
    dtype: Any = pl.String


@dataclass(frozen=True)
class CorpusFile:
    """A file to write: name, format and its columns."""

    name: str
    fmt: str  # csv | tsv | psv | xlsx | parquet
    columns: list[Col]
    separator: str = ","
    bom: bool = False
    mixed_newlines: bool = False


# -- value makers ----------------------------------------------------------------------------


def ascii_fold(text: str) -> str:
    """'Ménard' -> 'menard' for e-mail local parts."""
    folded = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in folded if not unicodedata.combining(c))
    return "".join(c for c in kept.lower() if c.isalnum() or c in ".-")


class Maker:
    """Seeded values shared by the file builders."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.fakers = {}
        for offset, locale in enumerate(("en_US", "de_DE", "fr_FR", "es_ES")):
            fk = Faker([locale])
            fk.seed_instance(seed + offset)
            self.fakers[locale] = fk
        self._worlds = 0

    def world(self) -> World:
        """A fresh fixture world (each has 1000 unused US numbers)."""
        self._worlds += 1
        return World(self.seed * 1000 + self._worlds)

    def lines(self, n: int, customer: str, carrier: str, style: str) -> list[Line]:
        """n lines of one account from a fresh world."""
        world = self.world()
        return list(world.account(customer, carrier, style, n, FIRST_CYCLE).lines)

    def pick(self, items: Sequence[Any]) -> Any:
        """A random item."""
        return self.rng.choice(items)

    def sparse(self, values: Sequence[Any], filled: float) -> list[Any]:
        """Values with about (1 - filled) of them blanked."""
        return [v if self.rng.random() < filled else None for v in values]

    def digits(self, n: int, first_nonzero: bool = True) -> str:
        """n random digits."""
        head = str(self.rng.randint(1, 9)) if first_nonzero else str(self.rng.randint(0, 9))
        return head + "".join(str(self.rng.randint(0, 9)) for _ in range(n - 1))

    def invoice_number(self) -> str:
        """10-digit invoice number (as the fixture world draws them)."""
        return self.digits(10)

    def account_number(self, n: int) -> str:
        """9- or 12-digit billing account number."""
        return self.digits(n)

    def order_ref(self) -> str:
        """15-digit order reference that is not a Luhn-valid IMEI."""
        while True:
            body = self.digits(15)
            if luhn_digit(body[:-1]) != body[-1]:
                return body

    def transaction_id(self) -> str:
        """20-digit transaction id that does not start with 89 (the ICCID prefix)."""
        while True:
            value = self.digits(20)
            if not value.startswith("89"):
                return value

    def cost_center(self) -> str:
        """Verizon-style cost center 0045250140:0000603900."""
        return f"{self.rng.randint(10**7, 10**9):010d}:{self.rng.randint(0, 999999):010d}"

    def other_number(self) -> str:
        """The other party of a call: a fictional NPA-555-01xx number."""
        return f"{self.pick(OTHER_AREAS)}55501{self.rng.randint(0, 99):02d}"

    def imeisv(self) -> str:
        """16 digits: TAC + serial + 2-digit software version."""
        return self.pick(TACS) + self.digits(6, False) + f"{self.rng.randint(1, 99):02d}"

    def meid(self) -> str:
        """14 hex digits, regional code A0-A2."""
        return self.pick(("A0", "A1", "A2")) + "".join(
            self.pick("0123456789ABCDEF") for _ in range(12)
        )

    def damaged_iccid(self, iccid: str) -> str:
        """A 20-digit ICCID as some feeds leak it: check digit dropped, or replaced by F."""
        return iccid[:19] if self.rng.random() < 0.5 else iccid[:19] + "F"

    def iccids(self, lines: Sequence[Line], damaged: float) -> list[str]:
        """The lines' ICCIDs, a few of them damaged."""
        return [
            self.damaged_iccid(ln.iccid) if self.rng.random() < damaged else ln.iccid
            for ln in lines
        ]

    def money(self, low: float, high: float) -> float:
        """An amount with cents."""
        return self.rng.randint(int(low * 100), int(high * 100)) / 100

    def day(self, start: date, span: int) -> date:
        """A day within span days after start."""
        return start + timedelta(days=self.rng.randint(0, span))

    def moment(self, start: date, span: int) -> datetime:
        """A second within span days after start."""
        base = datetime.combine(start, datetime.min.time())
        return base + timedelta(seconds=self.rng.randint(0, span * 86400))

    def ipv4(self) -> str:
        """A public IPv4 address."""
        return str(self.fakers["en_US"].ipv4_public())

    def ipv6(self) -> str:
        """An IPv6 address."""
        return str(self.fakers["en_US"].ipv6())

    def local_person(self, locale: str, domain: str) -> dict[str, str]:
        """A fictional person of a locale: first, last, e-mail, street address, city."""
        fk = self.fakers[locale]
        first, last = fk.first_name(), fk.last_name()
        if locale == "es_ES":
            last = f"{last} {fk.last_name()}"
        city, postcode = fk.city(), fk.postcode()
        street, number = fk.street_name(), fk.building_number()
        if locale == "de_DE":
            address = f"{street} {number}, {postcode} {city}"
        elif locale == "fr_FR":
            address = f"{number} {street}, {postcode} {city}"
        else:
            address = f"{street}, {number}, {postcode} {city}"
        local = f"{ascii_fold(first)}.{ascii_fold(last).replace(' ', '')}"
        return {
            "first": first,
            "last": last,
            "email": f"{local}@{domain}",
            "address": address,
            "city": city,
        }


def dashed(number: str) -> str:
    """2125550147 -> 212-555-0147."""
    return f"{number[:3]}-{number[3:6]}-{number[6:]}"


def dashed_imei(imei: str) -> str:
    """IMEI as AA-BBBBBB-CCCCCC-D."""
    return f"{imei[:2]}-{imei[2:8]}-{imei[8:14]}-{imei[14]}"


def dollars(amount: float) -> str:
    """$1,234.56, negative as ($1.20)."""
    text = f"${abs(amount):,.2f}"
    return f"({text})" if amount < 0 else text


def comma_decimal(amount: float) -> str:
    """German/French decimal: 1.234,50."""
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")


# -- the files -------------------------------------------------------------------------------


def verizon_summary(m: Maker) -> CorpusFile:
    """Verizon Account & Wireless Summary: one row per line, upper-case names, E###### IDs."""
    lines = m.lines(400, "acme", "verizon", "E######")
    n = len(lines)
    accounts = [m.account_number(9) for _ in range(3)]
    charges = [(m.money(20, 90), m.money(0, 25), m.money(0, 40), m.money(1, 15)) for _ in lines]
    minutes = [m.rng.randint(0, 1800) for _ in lines]
    return CorpusFile(
        "Account & Wireless Summary_202610.txt",
        "tsv",
        [
            Col("ECPD Profile ID", m.sparse(["4417025"] * n, 0.3), None),
            Col("Bill Cycle Date", ["Oct 16, 2026"] * n, None),
            Col("Account Number", [m.pick(accounts) for _ in lines], None),
            Col("Wireless Number", [ln.dashed for ln in lines], "PHONE_NUMBER"),
            Col("User Name", [ln.person.full_name.upper() for ln in lines], "PERSON"),
            Col(
                "Cost Center",
                [ln.cost_center if m.rng.random() > 0.15 else "N/A" for ln in lines],
                None,
            ),
            Col("User ID", [ln.person.employee_id for ln in lines], "EMPLOYEE_ID"),
            Col("Your Calling Plan", [ln.plan for ln in lines], None),
            Col("Monthly Access Charges", [f"{c[0]:.2f}" for c in charges], None),
            Col("Usage Charges", [f"{c[1]:.2f}" for c in charges], None),
            Col("Equipment Charges", [f"{c[2]:.2f}" for c in charges], None),
            Col("Total Charges", [f"{c[0] + c[1] + c[2]:.2f}" for c in charges], None),
            Col("Taxes, Governmental Surcharges and Fees", [f"{c[3]:.2f}" for c in charges], None),
            Col("Voice Plan Usage", [f"{v}.000000000000000" for v in minutes], None),
            Col("Messaging Usage", [str(m.rng.randint(0, 900)) for _ in lines], None),
            Col("Data Usage (KB)", [f"{m.rng.randint(0, 20_000_000)}.000" for _ in lines], None),
        ],
        separator="\t",
        bom=True,
        mixed_newlines=True,
    )


def _events(m: Maker, lines: Sequence[Line], n: int) -> list[tuple[Line, str]]:
    kinds = ("Voice", "Messaging", "Data")
    return [(m.pick(lines), m.rng.choices(kinds, (5, 3, 2))[0]) for _ in range(n)]


def verizon_usage(m: Maker) -> CorpusFile:
    """Verizon Wireless Usage Detail: dialed numbers, MM/DD dates, cities, minutes, KB."""
    lines = m.lines(80, "acme", "verizon", "E######")
    events = _events(m, lines, 1000)
    account = m.account_number(9)
    minutes = [m.rng.randint(1, 45) if k == "Voice" else None for _, k in events]
    kb = [m.rng.randint(1, 250_000) if k == "Data" else None for _, k in events]
    charge = [m.money(0, 3) if m.rng.random() < 0.1 else 0.0 for _ in events]
    times = [m.moment(date(2026, 9, 17), 29) for _ in events]
    return CorpusFile(
        "Wireless Usage Detail_202610.txt",
        "tsv",
        [
            Col("ECPD Profile ID", [None] * len(events), None),
            Col("Account Number", [account] * len(events), None),
            Col("Wireless Number", [ln.dashed for ln, _ in events], "PHONE_NUMBER"),
            Col("User Name", [ln.person.full_name for ln, _ in events], "PERSON"),
            Col("Usage Category", [k for _, k in events], None),
            Col("Date", [f"{t:%m/%d}" for t in times], None),
            Col(
                "Time",
                [f"{t.hour % 12 or 12}:{t:%M}{'A' if t.hour < 12 else 'P'}" for t in times],
                None,
            ),
            Col(
                "Number",
                [dashed(m.other_number()) if k != "Data" else None for _, k in events],
                "PHONE_NUMBER",
            ),
            Col("Origination", [m.pick(CITIES_US) for _ in events], None),
            Col(
                "Destination",
                [m.pick((*CITIES_US, "INCOMING")) if k == "Voice" else None for _, k in events],
                None,
            ),
            Col("Min", [None if v is None else str(v) for v in minutes], None),
            Col("KB", [None if v is None else str(v) for v in kb], None),
            Col("Charge", [f"{c:.2f}" for c in charge], None),
            Col("Total", [f"{c:.2f}" for c in charge], None),
        ],
        separator="\t",
        bom=True,
        mixed_newlines=True,
    )


def att_usage(m: Maker) -> CorpusFile:
    """AT&T Premier usage detail: plain numbers, (NPA) dialed numbers, $ and ($) money."""
    lines = m.lines(80, "globex", "att", "########")
    events = _events(m, lines, 1000)
    times = [m.moment(date(2026, 9, 17), 29) for _ in events]
    charges = [
        m.money(0, 5) * (-1 if m.rng.random() < 0.03 else 1) if m.rng.random() < 0.2 else 0.0
        for _ in events
    ]
    return CorpusFile(
        "ATT_UsageDetail_287301664512_202610.csv",
        "csv",
        [
            Col("Wireless number", [ln.number for ln, _ in events], "PHONE_NUMBER"),
            Col("Market cycle end date", ["10/16/2026"] * len(events), None),
            Col("Date", [f"{t:%m/%d/%Y}" for t in times], None),
            Col("Time", [f"{t:%H:%M}" for t in times], None),
            Col(
                "Dialed number",
                [
                    "({}) {}-{}".format(*(lambda n: (n[:3], n[3:6], n[6:]))(m.other_number()))
                    if k != "Data"
                    else None
                    for _, k in events
                ],
                "PHONE_NUMBER",
            ),
            Col(
                "In/out", [m.pick(("IN", "OUT")) if k != "Data" else None for _, k in events], None
            ),
            Col("Usage type", [{"Messaging": "Text"}.get(k, k) for _, k in events], None),
            Col(
                "Minutes usage",
                [f"{m.rng.randint(1, 60)}.0" if k == "Voice" else "0.0" for _, k in events],
                None,
            ),
            Col(
                "KB usage",
                [str(m.rng.randint(1, 300_000)) if k == "Data" else "0" for _, k in events],
                None,
            ),
            Col("Total charges", [dollars(c) for c in charges], None),
        ],
    )


def att_devices(m: Maker) -> CorpusFile:
    """AT&T device report: "Last, First" names, IMEIs, ICCIDs with a few damaged."""
    lines = m.lines(500, "globex", "att", "########")
    return CorpusFile(
        "ATT_DeviceReport_287301664512_20261016.csv",
        "csv",
        [
            Col("Wireless number", [ln.dashed for ln in lines], "PHONE_NUMBER"),
            Col(
                "Wireless user name",
                [f"{ln.person.last_name}, {ln.person.first_name}" for ln in lines],
                "PERSON",
            ),
            Col("Device make", [ln.make for ln in lines], None),
            Col("Device model", [ln.model for ln in lines], None),
            Col(
                "Device type", [m.pick(("Smartphone", "Smartphone", "Tablet")) for _ in lines], None
            ),
            Col("Device IMEI", [ln.imei for ln in lines], "IMEI"),
            Col("SIM number", m.iccids(lines, 0.06), "ICCID"),
            Col("Activation date", [f"{ln.activation_date:%m/%d/%Y}" for ln in lines], None),
            Col(
                "Contract end date",
                [f"{ln.activation_date + timedelta(days=730):%m/%d/%Y}" for ln in lines],
                None,
            ),
        ],
    )


def intune(m: Maker) -> CorpusFile:
    """MDM inventory (XLSX): E.164 numbers, MEIDs (sparse), asset-tag device names."""
    lines = m.lines(600, "acme", "verizon", "E######")
    has_imei = [m.rng.random() < 0.9 for _ in lines]
    return CorpusFile(
        "Intune_Devices_20261020.xlsx",
        "xlsx",
        [
            Col("Device name", [f"ACME-MOB-{m.rng.randint(0, 99999):05d}" for _ in lines], None),
            Col(
                "IMEI",
                [ln.imei if ok else None for ln, ok in zip(lines, has_imei, strict=True)],
                "IMEI",
            ),
            Col("MEID", [m.meid() if m.rng.random() < 0.35 else None for _ in lines], "IMEI"),
            Col(
                "ICCID",
                [ln.iccid if ok else None for ln, ok in zip(lines, has_imei, strict=True)],
                "ICCID",
            ),
            Col("Phone number", [f"+1{ln.number}" for ln in lines], "PHONE_NUMBER"),
            Col("Primary user email address", [ln.person.email for ln in lines], "EMAIL_ADDRESS"),
            Col("Primary user display name", [ln.person.full_name for ln in lines], "PERSON"),
            Col("Manufacturer", [ln.make for ln in lines], None),
            Col("Model", [ln.model for ln in lines], None),
            Col(
                "OS version",
                [m.pick(("17.6.1", "18.0", "14", "15", "18.1.1")) for _ in lines],
                None,
            ),
            Col(
                "Last check-in",
                [f"{m.moment(date(2026, 10, 1), 19):%Y-%m-%dT%H:%M:%S}Z" for _ in lines],
                None,
            ),
            Col(
                "Compliance",
                [m.pick(("Compliant", "Noncompliant", "In grace period")) for _ in lines],
                None,
            ),
            Col("Ownership", [m.pick(("Corporate", "Personal")) for _ in lines], None),
        ],
    )


def sim_inventory(m: Maker) -> CorpusFile:
    """SIM inventory (Parquet): Int64 phone columns with and without country code, IMEISV."""
    lines = m.lines(800, "initech", "tmobile", "@@-#####")
    return CorpusFile(
        "sim_inventory_2026-10.parquet",
        "parquet",
        [
            Col("msisdn", [int("1" + ln.number) for ln in lines], "PHONE_NUMBER", pl.Int64),
            Col(
                "callback_number",
                m.sparse([int(m.other_number()) for _ in lines], 0.8),
                "PHONE_NUMBER",
                pl.Int64,
            ),
            Col("imsi", [ln.imsi for ln in lines], "IMSI"),
            Col("iccid", m.iccids(lines, 0.03), "ICCID"),
            Col("imeisv", [m.imeisv() for _ in lines], "IMEI"),
            Col("carrier", [m.pick(CARRIERS) for _ in lines], None),
            Col("rate_plan", [ln.plan for ln in lines], None),
            Col(
                "sim_status",
                [m.pick(("active", "active", "suspended", "deactivated")) for _ in lines],
                None,
            ),
            Col("mrc", [m.money(10, 95) for _ in lines], None, pl.Float64),
            Col("activation_date", [ln.activation_date for ln in lines], None, pl.Date),
            Col("ban", [int(m.account_number(12)) for _ in lines], None, pl.Int64),
            Col("last_invoice_number", [int(m.invoice_number()) for _ in lines], None, pl.Int64),
            Col("cost_center", [ln.cost_center for ln in lines], None),
        ],
    )


def german(m: Maker) -> CorpusFile:
    """German invoice detail: ';', BOM, German headers, split names, comma decimals."""
    lines = m.lines(500, "globex", "att", "########")
    people = [m.local_person("de_DE", "globex.example.de") for _ in lines]
    return CorpusFile(
        "Mobilfunk_Rechnung_2026-10.csv",
        "csv",
        [
            Col(
                "Rufnummer", [f"+1 {ln.number[:3]} {ln.number[3:]}" for ln in lines], "PHONE_NUMBER"
            ),
            Col("Vorname", [p["first"] for p in people], "PERSON"),
            Col("Nachname", [p["last"] for p in people], "PERSON"),
            Col("Personalnummer", [ln.person.employee_id for ln in lines], "EMPLOYEE_ID"),
            Col("E-Mail", [p["email"] for p in people], "EMAIL_ADDRESS"),
            Col("Anschrift", [p["address"] for p in people], "LOCATION"),
            Col("Kostenstelle", [ln.cost_center for ln in lines], None),
            Col("Tarif", [ln.plan for ln in lines], None),
            Col("Gerät", [ln.model for ln in lines], None),
            Col("Rechnungsnummer", [m.invoice_number() for _ in lines], None),
            Col("Kundennummer", [m.account_number(9) for _ in lines], None),
            Col("Betrag (EUR)", [comma_decimal(m.money(5, 180)) for _ in lines], None),
            Col("Rechnungsdatum", ["16.10.2026"] * len(lines), None),
            Col("Minuten", [str(m.rng.randint(0, 1500)) for _ in lines], None),
            Col(
                "Datenvolumen (MB)",
                [comma_decimal(m.rng.randint(0, 20_000_000) / 1000) for _ in lines],
                None,
            ),
            Col("Ort", [p["city"] for p in people], None),
        ],
        separator=";",
        bom=True,
    )


def french(m: Maker) -> CorpusFile:
    """French pipe file: accented headers, upper-case surnames, AB-12345 IDs, decoy refs."""
    lines = m.lines(450, "initech", "verizon", "@@-#####")
    people = [m.local_person("fr_FR", "initech.example.fr") for _ in lines]
    return CorpusFile(
        "facturation_mobile_2026-10.psv",
        "psv",
        [
            Col("Numéro de mobile", [f"+1 {ln.dashed}" for ln in lines], "PHONE_NUMBER"),
            Col("Prénom", [p["first"] for p in people], "PERSON"),
            Col("Nom", [p["last"].upper() for p in people], "PERSON"),
            Col("Matricule", [ln.person.employee_id for ln in lines], "EMPLOYEE_ID"),
            Col("Courriel", [p["email"] for p in people], "EMAIL_ADDRESS"),
            Col("Adresse", [p["address"] for p in people], "LOCATION"),
            Col("Forfait", [ln.plan for ln in lines], None),
            Col(
                "Opérateur",
                [m.pick(("Orange Business", "SFR Business", "Bouygues Telecom")) for _ in lines],
                None,
            ),
            Col("Montant TTC", [comma_decimal(m.money(5, 150)) for _ in lines], None),
            Col("Date de facture", ["2026-10-16"] * len(lines), None),
            Col("N° de facture", [m.invoice_number() for _ in lines], None),
            Col("Référence commande", [m.order_ref() for _ in lines], None),
            Col("Ville", [p["city"] for p in people], None),
            Col("Statut", [m.pick(("actif", "actif", "suspendu", "résilié")) for _ in lines], None),
        ],
        separator="|",
    )


def spanish(m: Maker) -> CorpusFile:
    """Spanish XLSX: numeric phone cells, two surnames, EMP-###### IDs, decoy numbers."""
    lines = m.lines(400, "acme", "att", "EMP-######")
    people = [m.local_person("es_ES", "acme.example.es") for _ in lines]
    return CorpusFile(
        "lineas_moviles_2026_10.xlsx",
        "xlsx",
        [
            Col("Teléfono móvil", [int(ln.number) for ln in lines], "PHONE_NUMBER", pl.Int64),
            Col("Nombre", [p["first"] for p in people], "PERSON"),
            Col("Apellidos", [p["last"] for p in people], "PERSON"),
            Col("Correo", [p["email"] for p in people], "EMAIL_ADDRESS"),
            Col("Dirección", [p["address"] for p in people], "LOCATION"),
            Col("Número de empleado", [ln.person.employee_id for ln in lines], "EMPLOYEE_ID"),
            Col("Importe", [m.money(5, 160) for _ in lines], None, pl.Float64),
            Col("Fecha de alta", [ln.activation_date for ln in lines], None, pl.Date),
            Col("Plan", [ln.plan for ln in lines], None),
            Col("Ciudad", [p["city"] for p in people], None),
            Col("Número de factura", [m.invoice_number() for _ in lines], None),
            Col("Número de cuenta", [m.account_number(12) for _ in lines], None),
            Col("Minutos", [m.rng.randint(0, 1500) for _ in lines], None, pl.Int64),
            Col("Modelo", [ln.model for ln in lines], None),
        ],
    )


def _opaque(m: Maker, names: Callable[[int], str], cols: list[Col]) -> list[Col]:
    """Columns shuffled and renamed to opaque headers."""
    order = list(range(len(cols)))
    m.rng.shuffle(order)
    return [
        Col(names(i), cols[j].values, cols[j].label, cols[j].dtype) for i, j in enumerate(order)
    ]


def opaque_csv(m: Maker) -> CorpusFile:
    """Headers col_1..col_16: every kind must be told from its values alone."""
    lines = m.lines(600, "acme", "verizon", "E######")
    cols = [
        Col("", [ln.dashed for ln in lines], "PHONE_NUMBER"),
        Col("", [dashed_imei(ln.imei) for ln in lines], "IMEI"),
        Col("", [ln.iccid for ln in lines], "ICCID"),
        Col("", [ln.imsi for ln in lines], "IMSI"),
        Col("", [ln.person.full_name for ln in lines], "PERSON"),
        Col("", [ln.person.email for ln in lines], "EMAIL_ADDRESS"),
        Col("", [m.ipv4() for _ in lines], "IP_ADDRESS"),
        Col("", [ln.person.address for ln in lines], "LOCATION"),
        Col("", [m.invoice_number() for _ in lines], None),
        Col("", [m.account_number(9) for _ in lines], None),
        Col("", [m.order_ref() for _ in lines], None),
        Col("", [m.transaction_id() for _ in lines], None),
        Col("", [str(m.rng.randint(0, 1800)) for _ in lines], None),
        Col("", [dollars(m.money(0, 250)) for _ in lines], None),
        Col("", [m.day(date(2026, 9, 17), 29).isoformat() for _ in lines], None),
        Col("", [ln.plan for ln in lines], None),
    ]
    return CorpusFile("export_7731.csv", "csv", _opaque(m, lambda i: f"col_{i + 1}", cols))


def opaque_parquet(m: Maker) -> CorpusFile:
    """Headers f1..f13 in Parquet: Int64 phones, IMEISV, 'LAST, FIRST', IPv6, 8-digit IDs."""
    lines = m.lines(700, "globex", "tmobile", "########")
    cols = [
        Col("", [int(ln.number) for ln in lines], "PHONE_NUMBER", pl.Int64),
        Col("", [m.imeisv() for _ in lines], "IMEI"),
        Col("", [ln.imei for ln in lines], "IMEI"),
        Col("", m.iccids(lines, 0.05), "ICCID"),
        Col(
            "", [f"{ln.person.last_name}, {ln.person.first_name}".upper() for ln in lines], "PERSON"
        ),
        Col("", [m.ipv6() for _ in lines], "IP_ADDRESS"),
        Col("", [ln.person.employee_id for ln in lines], "EMPLOYEE_ID"),
        Col("", [ln.person.email for ln in lines], "EMAIL_ADDRESS"),
        Col("", [m.rng.randint(0, 20_000_000) for _ in lines], None, pl.Int64),
        Col("", [m.money(0, 200) for _ in lines], None, pl.Float64),
        Col("", [int(m.account_number(12)) for _ in lines], None, pl.Int64),
        Col("", [m.transaction_id() for _ in lines], None),
        Col("", [ln.status for ln in lines], None),
    ]
    return CorpusFile("extract_f.parquet", "parquet", _opaque(m, lambda i: f"f{i + 1}", cols))


def opaque_tsv(m: Maker) -> CorpusFile:
    """Headers attr_a..attr_n: MEIDs, E.164 numbers, 'Last, First', E###### IDs, decoys."""
    lines = m.lines(450, "acme", "att", "E######")
    cols = [
        Col("", [m.meid() for _ in lines], "IMEI"),
        Col("", [f"+1{ln.number}" for ln in lines], "PHONE_NUMBER"),
        Col("", [f"{ln.person.last_name}, {ln.person.first_name}" for ln in lines], "PERSON"),
        Col("", [ln.person.employee_id for ln in lines], "EMPLOYEE_ID"),
        Col("", [ln.person.street for ln in lines], "LOCATION"),
        Col("", [ln.person.email for ln in lines], "EMAIL_ADDRESS"),
        Col("", [ln.cost_center for ln in lines], None),
        Col("", [m.order_ref() for _ in lines], None),
        Col("", [ln.make for ln in lines], None),
        Col("", [ln.model for ln in lines], None),
        Col("", [m.pick(CARRIERS) for _ in lines], None),
        Col("", [ln.person.city for ln in lines], None),
        Col("", [f"{m.day(date(2026, 9, 17), 29):%m/%d/%Y}" for _ in lines], None),
        Col("", [str(m.rng.randint(0, 20_000_000)) for _ in lines], None),
    ]
    letters = "abcdefghijklmnopqrstuvwxyz"
    return CorpusFile(
        "feed_attr.tsv", "tsv", _opaque(m, lambda i: f"attr_{letters[i]}", cols), separator="\t"
    )


def hr_sparse(m: Maker) -> CorpusFile:
    """HR directory: sparse (90% empty) phone, e-mail, address, manager, badge and IMEI."""
    world = m.world()
    people: list[Person] = [world.person("globex", "########", False) for _ in range(900)]
    managers = [p.full_name for p in people[:60]]
    return CorpusFile(
        "hr_directory_export.csv",
        "csv",
        [
            Col("Employee Number", [p.employee_id for p in people], "EMPLOYEE_ID"),
            Col("Full Name", [p.full_name for p in people], "PERSON"),
            Col("Department", [m.pick(DEPARTMENTS) for _ in people], None),
            Col("Job Title", [m.pick(TITLES) for _ in people], None),
            Col("Cost Center", [m.cost_center() for _ in people], None),
            Col("Mobile Phone", m.sparse([m.other_number() for _ in people], 0.1), "PHONE_NUMBER"),
            Col(
                "Personal Email",
                m.sparse(
                    [
                        f"{ascii_fold(p.first_name)}{m.rng.randint(1, 99)}@mail.example.net"
                        for p in people
                    ],
                    0.1,
                ),
                "EMAIL_ADDRESS",
            ),
            Col("Home Address", m.sparse([p.address for p in people], 0.1), "LOCATION"),
            Col("Manager Name", m.sparse([m.pick(managers) for _ in people], 0.1), "PERSON"),
            Col(
                "Badge ID",
                m.sparse([f"B{m.rng.randint(10000, 99999)}" for _ in people], 0.1),
                "EMPLOYEE_ID",
            ),
            Col("Last Device IMEI", m.sparse([world.imei() for _ in people], 0.1), "IMEI"),
            Col(
                "Termination Date",
                m.sparse([m.day(date(2025, 1, 1), 600).isoformat() for _ in people], 0.1),
                None,
            ),
            Col("VIP", [m.pick(("N", "N", "N", "Y")) for _ in people], None),
            Col(
                "Office", [m.pick(("Chicago", "Dallas", "Newark", "Denver")) for _ in people], None
            ),
            Col("Hire Date", [m.day(date(2010, 1, 1), 5000).isoformat() for _ in people], None),
        ],
    )


def email_ids(m: Maker) -> CorpusFile:
    """Employee IDs that are e-mail addresses (header decides), next to an e-mail column."""
    lines = m.lines(400, "umbrella", "att", "email")
    return CorpusFile(
        "mobility_users_umbrella.psv",
        "psv",
        [
            Col("Employee ID", [ln.person.employee_id for ln in lines], "EMPLOYEE_ID"),
            Col("User Name", [ln.person.full_name for ln in lines], "PERSON"),
            Col("Email", [ln.person.email for ln in lines], "EMAIL_ADDRESS"),
            Col("Wireless Number", [ln.dashed for ln in lines], "PHONE_NUMBER"),
            Col("Device IMEI", [ln.imei for ln in lines], "IMEI"),
            Col("SIM ICCID", [ln.iccid for ln in lines], "ICCID"),
            Col("Plan", [ln.plan for ln in lines], None),
            Col("Status", [ln.status for ln in lines], None),
            Col("Last Login IP", [m.ipv4() for _ in lines], "IP_ADDRESS"),
            Col("Account Number", [m.account_number(12) for _ in lines], None),
            Col("Data Used (KB)", [str(m.rng.randint(0, 20_000_000)) for _ in lines], None),
            Col("Charges", [dollars(m.money(20, 150)) for _ in lines], None),
            Col("Upgrade Date", [f"{m.day(date(2026, 11, 1), 700):%m/%d/%Y}" for _ in lines], None),
        ],
        separator="|",
    )


def vpn_sessions(m: Maker) -> CorpusFile:
    """Mobile VPN sessions: IPv4 and IPv6, 11-digit MSISDNs, 20-digit session ids."""
    lines = m.lines(150, "acme", "verizon", "E######")
    rows = [m.pick(lines) for _ in range(1000)]
    return CorpusFile(
        "vpn_sessions_202610.csv",
        "csv",
        [
            Col("session_id", [m.transaction_id() for _ in rows], None),
            Col(
                "start_time",
                [f"{m.moment(date(2026, 10, 1), 27):%Y-%m-%d %H:%M:%S}" for _ in rows],
                None,
            ),
            Col("user_email", [ln.person.email for ln in rows], "EMAIL_ADDRESS"),
            Col("client_ip", [m.ipv4() for _ in rows], "IP_ADDRESS"),
            Col("assigned_ipv6", [m.ipv6() for _ in rows], "IP_ADDRESS"),
            Col("msisdn", ["1" + ln.number for ln in rows], "PHONE_NUMBER"),
            Col("device_imei", [ln.imei for ln in rows], "IMEI"),
            Col(
                "apn", [m.pick(("vzwinternet", "we01.vzwstatic", "broadband")) for _ in rows], None
            ),
            Col("duration_min", [f"{m.rng.randint(1, 6000) / 10:.1f}" for _ in rows], None),
            Col("bytes_kb", [str(m.rng.randint(1, 900_000)) for _ in rows], None),
            Col(
                "gateway",
                [f"gw-{m.pick(('chi', 'dal', 'nyc'))}-0{m.rng.randint(1, 4)}" for _ in rows],
                None,
            ),
        ],
    )


BUILDERS: tuple[Callable[[Maker], CorpusFile], ...] = (
    verizon_summary,
    verizon_usage,
    att_usage,
    att_devices,
    intune,
    sim_inventory,
    german,
    french,
    spanish,
    opaque_csv,
    opaque_parquet,
    opaque_tsv,
    hr_sparse,
    email_ids,
    vpn_sessions,
)


# -- writing ---------------------------------------------------------------------------------


def to_frame(spec: CorpusFile) -> pl.DataFrame:
    """The file's columns as a typed polars frame."""
    return pl.DataFrame([pl.Series(c.header, list(c.values), dtype=c.dtype) for c in spec.columns])


def write(spec: CorpusFile, folder: Path) -> Path:
    """Write one corpus file in its format."""
    path = folder / spec.name
    frame = to_frame(spec)
    if spec.fmt == "parquet":
        frame.write_parquet(path)
    elif spec.fmt == "xlsx":
        with xlsxwriter.Workbook(str(path)) as workbook:
            # A fixed creation time keeps the workbook byte-reproducible.
            workbook.set_properties({"created": datetime(2026, 10, 20, 6, 0)})
            frame.write_excel(workbook, worksheet="Sheet1", autofit=False)
    else:
        text = frame.write_csv(separator=spec.separator, null_value="")
        rows = text.splitlines()
        if spec.mixed_newlines:  # Verizon files mix CRLF and LF; every third row ends in LF
            body = "".join(r + ("\n" if i % 3 == 2 else "\r\n") for i, r in enumerate(rows))
        else:
            body = "\n".join(rows) + "\n"
        path.write_bytes((b"\xef\xbb\xbf" if spec.bom else b"") + body.encode("utf-8"))
    return path


def write_labelled(
    out: Path, specs: Iterable[CorpusFile], rows_at_least: int, entities: Sequence[str] = ENTITIES
) -> dict[str, dict[str, str | None]]:
    """Write every file under out/files (emptied first) and the labels to out/labels.json;
    each file has rows_at_least to 1000 rows, each label is None or one of entities."""
    folder = out / "files"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    labels: dict[str, dict[str, str | None]] = {}
    for spec in specs:
        rows = {len(c.values) for c in spec.columns}
        assert len(rows) == 1 and rows_at_least <= rows.pop() <= 1000, spec.name
        assert all(c.label in (None, *entities) for c in spec.columns), spec.name
        write(spec, folder)
        labels[spec.name] = {c.header: c.label for c in spec.columns}
    (out / "labels.json").write_text(json.dumps(labels, indent=2, ensure_ascii=False) + "\n")
    return labels


def build(out: Path, seed: int = 20261128) -> dict[str, dict[str, str | None]]:
    """Write every corpus file under out/files and the labels to out/labels.json."""
    maker = Maker(seed)
    return write_labelled(out, (builder(maker) for builder in BUILDERS), 400)


def main() -> None:
    """Command line: write the corpus."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--seed", type=int, default=20261128)
    args = parser.parse_args()
    labels = build(args.out, args.seed)
    pii = sum(1 for cols in labels.values() for v in cols.values() if v)
    other = sum(1 for cols in labels.values() for v in cols.values() if not v)
    print(f"wrote {len(labels)} files to {args.out / 'files'}: {pii} PII and {other} other columns")


if __name__ == "__main__":
    main()
