"""A second labelled corpus, not drawn from our fixture world: look-alikes of public test tables.

Each file copies the *shape* of a public labelled or sample table that other PII tools and
tutorials use (headers, kinds of columns, how values are written; README.md names each source
and its address) and fills it with values regenerated here from a seed: Faker names and streets,
numbers drawn by the numbering rules, check digits computed. No value of a source table is
copied. Writes `<out>/files/` and `<out>/labels.json` ({file: {column: entity or null}}), the
same layout as corpus.py, so evaluate.py scores both corpora the same way.

Labels say what a column holds, decided when the column is written. A free-text column is
labelled with the entity planted in most of its values (or null when nothing personal is
planted); a column of placeholders or masked values under a header that names an identifier is
labelled with that identifier (the column is the identifier's, even where this extract hid it).

    .venv/bin/python benchmarks/detection/corpus2.py --out benchmarks/data/detection2
"""

from __future__ import annotations

import argparse
import random
import string
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from faker import Faker
from stdnum import iban as stdnum_iban

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import Col, CorpusFile, ascii_fold, write_labelled

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
    "CREDIT_CARD",
    "IBAN",
    "US_SSN",
)
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "data" / "detection2"
SEED = 20261203
# Type allocation codes of handsets (not the fixture world's list).
TACS2 = ("35209900", "35332011", "35698210", "01215800", "35161508", "86891504", "35446211")
# NANP area codes: long-standing ones and some added since 2020 (libphonenumber may lag).
AREAS = ("201", "312", "404", "512", "617", "702", "713", "206", "303", "614", "919", "480")
NEW_AREAS = ("326", "350", "363", "448", "472", "557", "621", "645", "728", "826", "835", "861")
IBAN_COUNTRIES = {
    "DE": "18n",
    "FR": "23x",
    "GB": "4a14n",
    "NL": "4a10n",
    "ES": "20n",
    "IT": "1a22x",
}
CARD_PREFIXES = (("4", 16), ("51", 16), ("53", 16), ("2221", 16), ("6011", 16), ("4", 13))


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split())


COMPANIES_SUFFIX = ("Inc", "LLC", "Group", "Ltd", "PLC", "and Sons", "Holdings")
STORMS = _split(
    "ALEX BONNIE COLIN DANIELLE EARL FIONA GASTON HERMINE IAN JULIA KARL LISA MARTIN NICOLE "
    "OWEN PAULA RICHARD SHARY TOBIAS VIRGINIE WALTER ARLENE BRET CINDY DON EMILY FRANKLIN GERT "
    "HAROLD IDALIA JOSE KATIA LEE MARGOT NIGEL OPHELIA PHILIPPE RINA SEAN TAMMY VINCE WHITNEY"
)
COUNTRIES = _split(
    "Germany France Spain Italy Canada Mexico Brazil Japan India Kenya Norway Chile Peru Ghana "
    "Poland Egypt Vietnam Portugal Ireland Austria"
)
PLANS2 = (
    "Unlimited Elite Pool",
    "Business Data 50GB Shared",
    "Mobile Share Plus 100GB",
    "IoT Connect 5MB Pooled",
    "Flex Pool Tier 2",
    "Magenta Business Core",
)
POOLS = ("POOL-A1 Sales", "Corporate Pool 3", "Field Ops Share", "Exec Unlimited Pool")
SOURCES = ("Web Form", "Trade Show", "Partner Referral", "Cold Call", "Newsletter", "Webinar")
STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won", "Closed Lost")
JOBS = ("Analyst", "Engineer", "Sales Manager", "Technician", "Accountant", "Nurse", "Designer")
DEPARTMENTS = ("Finance", "Operations", "Sales", "Engineering", "Legal", "HR", "Facilities")
MODELS = ("iPhone 15 Pro", "Galaxy S24", "Pixel 8a", "Galaxy XCover6 Pro", "iPhone SE", "Moto G")
REMIT_BOXES = (
    "PO Box 660108, Dallas, TX 75266-0108",
    "P.O. Box 6463, Carol Stream, IL 60197-6463",
    "PO Box 742596, Cincinnati, OH 45274-2596",
    "PO BOX 15062 ALBANY NY 12212-5062",
)
TICKET_SUBJECTS = (
    "Roaming charges on last bill",
    "Device not activating",
    "Port-in request stuck",
    "Invoice total looks wrong",
    "Need a replacement SIM",
    "Hotspot not working",
    "Plan change request",
)
# Notes with nothing personal: plan, device, amounts, ticket and order numbers, dates.
PLAIN_NOTES = (
    "Customer asked why the {month} invoice went up by ${amount}; explained the proration.",
    "Upgraded the line to {plan} effective {day}; no change to the device.",
    "Replacement SIM shipped with order {order}, tracking sent by the portal.",
    "Credit of ${amount} applied to the account for the outage on {day}.",
    "Ticket {ticket} closed after the device was reset to factory settings.",
    "International day pass added for travel to {country} from {day} for two weeks.",
    "Bill cycle moved to the 16th at the customer's request; next invoice {day}.",
    "Hotspot throttled after 50GB; recommended {plan} instead of the current plan.",
    "Port-in completed, temporary number released, case {ticket} resolved.",
    "Duplicate charge of ${amount} reversed; reference {order} noted on the account.",
)


class Values:
    """Seeded look-alike values for every file."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fake = Faker(["en_US"])
        self.fake.seed_instance(seed)
        self.eu = {loc: Faker([loc]) for loc in ("de_DE", "fr_FR", "en_GB", "nl_NL", "es_ES")}
        for offset, fk in enumerate(self.eu.values(), start=1):
            fk.seed_instance(seed + offset)

    def pick(self, items: Sequence[Any]) -> Any:
        """One item at random."""
        return self.rng.choice(items)

    def digits(self, n: int, first_nonzero: bool = True) -> str:
        """n random digits."""
        head = str(self.rng.randint(1, 9)) if first_nonzero else str(self.rng.randint(0, 9))
        return head + "".join(str(self.rng.randint(0, 9)) for _ in range(n - 1))

    def sparse(self, values: Sequence[Any], filled: float) -> list[Any]:
        """Values with about (1 - filled) of them emptied."""
        return [v if self.rng.random() < filled else None for v in values]

    # -- people ------------------------------------------------------------------------------

    def person(self) -> tuple[str, str]:
        """A first and a last name."""
        return self.fake.first_name(), self.fake.last_name()

    def email(self, first: str, last: str, domain: str | None = None) -> str:
        """An e-mail address built like the sample tables' (first.last, initials, digits)."""
        local = self.pick(
            (
                f"{ascii_fold(first)}.{ascii_fold(last)}",
                f"{ascii_fold(first)[0]}{ascii_fold(last)}",
                f"{ascii_fold(last)}{ascii_fold(first)}",
                f"{ascii_fold(first)}{self.rng.randint(1, 99)}",
            )
        )
        return f"{local}@{domain or self.fake.free_email_domain()}"

    def street(self) -> str:
        """A US street address line (house number, street, suffix, maybe a unit)."""
        return str(self.fake.street_address())

    def company(self) -> str:
        """A company name (surnames plus a legal suffix)."""
        last = self.fake.last_name()
        return self.pick(
            (
                f"{last} {self.pick(COMPANIES_SUFFIX)}",
                f"{last}, {self.fake.last_name()} and {self.fake.last_name()}",
                f"{last}-{self.fake.last_name()}",
            )
        )

    # -- numbers -----------------------------------------------------------------------------

    def nanp(self, new_area: float = 0.2, fictional: float = 0.3) -> str:
        """Ten NANP digits by the numbering rules: some fictional 555-01xx, some new codes."""
        area = self.pick(NEW_AREAS) if self.rng.random() < new_area else self.pick(AREAS)
        if self.rng.random() < fictional:
            return f"{area}55501{self.rng.randint(0, 99):02d}"
        exchange = f"{self.rng.randint(2, 9)}{self.rng.randint(0, 9)}{self.rng.randint(2, 9)}"
        return area + exchange + self.digits(4, False)

    def phone_written(self, number: str, style: str) -> str:
        """A NANP number written as a sample table writes it."""
        a, b, c = number[:3], number[3:6], number[6:]
        ext = f"{self.rng.randint(1, 99999)}"
        return {
            "paren": f"({a}) {b}-{c}",
            "dash": f"{a}-{b}-{c}",
            "dot": f"{a}.{b}.{c}",
            "plus": f"+1-{a}-{b}-{c}",
            "plain": number,
            "one": "1" + number,
            "ext": self.pick((f"{a}-{b}-{c}x{ext}", f"({a}){b}-{c}x{ext}", f"{a}.{b}.{c} x{ext}")),
            "intl": f"001-{a}-{b}-{c}",
        }[style]

    def phone_mixed(self, styles: Sequence[str]) -> str:
        """A NANP number in one of several styles."""
        return self.phone_written(self.nanp(), self.pick(styles))

    def e164(self) -> str:
        """An international mobile number: +44 7700 9xx, +49 15x, +33 6, +1."""
        kind = self.rng.randint(0, 3)
        if kind == 0:
            return f"+44 7700 9{self.digits(5, False)}"
        if kind == 1:
            return f"+49 15{self.rng.randint(1, 9)} {self.digits(8, False)}"
        if kind == 2:
            return f"+33 6 {self.digits(2, False)} {self.digits(2, False)} {self.digits(4, False)}"
        return "+1 " + self.phone_written(self.nanp(), "dash")

    def luhn_complete(self, body: str) -> str:
        """body + its Luhn check digit."""
        total = 0
        for i, ch in enumerate(reversed(body)):
            d = int(ch) * (2 if i % 2 == 0 else 1)
            total += d - 9 if d > 9 else d
        return body + str((10 - total % 10) % 10)

    def imei(self) -> str:
        """A 15-digit IMEI: a handset TAC, a serial and the Luhn digit."""
        return self.luhn_complete(self.pick(TACS2) + self.digits(6, False))

    def iccid(self) -> str:
        """A 20-digit ICCID: 89, country 01, issuer, account, Luhn digit."""
        return self.luhn_complete(
            "8901" + self.pick(("260", "410", "480", "120")) + self.digits(12)
        )

    def imsi(self) -> str:
        """A 15-digit IMSI of a US operator (310-260, 310-410, 311-480)."""
        return self.pick(("310260", "310410", "311480")) + self.digits(9, False)

    def card(self) -> str:
        """A payment card number of a brand's prefix and length, Luhn-valid."""
        prefix, length = self.pick(CARD_PREFIXES)
        return self.luhn_complete(prefix + self.digits(length - len(prefix) - 1, False))

    def iban(self) -> str:
        """A valid IBAN of a SEPA country, written plain or in groups of four."""
        while True:
            country = self.pick(tuple(IBAN_COUNTRIES))
            bban = self._bban(IBAN_COUNTRIES[country])
            check = stdnum_iban.calc_check_digits(country + "00" + bban)
            number = country + check + bban
            if stdnum_iban.is_valid(number):
                break
        if self.rng.random() < 0.5:
            return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
        return number

    def _bban(self, spec: str) -> str:
        out, count = [], ""
        for ch in spec:
            if ch.isdigit():
                count += ch
                continue
            n, count = int(count), ""
            pool = {"n": string.digits, "a": string.ascii_uppercase, "x": string.digits}[ch]
            out.append("".join(self.pick(pool) for _ in range(n)))
        return "".join(out)

    def ssn(self, dashed: bool = True) -> str:
        """A US SSN the SSA could issue (area not 000, 666 or 9xx; group and serial non-zero)."""
        area = self.pick([a for a in range(1, 900) if a != 666])
        number = f"{area:03d}{self.rng.randint(1, 99):02d}{self.rng.randint(1, 9999):04d}"
        return f"{number[:3]}-{number[3:5]}-{number[5:]}" if dashed else number

    def random_id(self, n: int) -> str:
        """Uniformly random digits of a fixed length (account, event and invoice ids)."""
        return self.digits(n)

    def hex_id(self, n: int) -> str:
        """Mixed-case hex like a sample table's customer id (DD37Cf93aecA6Dc)."""
        return "".join(self.pick("0123456789abcdefABCDEF") for _ in range(n))

    def money(self, low: float, high: float) -> str:
        """An amount with cents."""
        return f"{self.rng.randint(int(low * 100), int(high * 100)) / 100:.2f}"

    def day(self, start: date, span: int) -> str:
        """An ISO date within span days after start."""
        return (start + timedelta(days=self.rng.randint(0, span))).isoformat()

    def moment(self, start: date, span: int) -> str:
        """An ISO timestamp within span days after start."""
        base = datetime.combine(start, datetime.min.time())
        return (base + timedelta(seconds=self.rng.randint(0, span * 86400))).isoformat()

    def plain_note(self) -> str:
        """A note with nothing personal in it."""
        return self.pick(PLAIN_NOTES).format(
            month=self.pick(("March", "April", "May", "June", "July")),
            amount=self.money(1, 300),
            plan=self.pick(PLANS2),
            day=self.day(date(2026, 3, 1), 200),
            order=f"ORD-{self.digits(8)}",
            ticket=f"INC{self.digits(7)}",
            country=self.pick(COUNTRIES),
        )


# -- the files -------------------------------------------------------------------------------


def people(v: Values, n: int) -> list[tuple[str, str]]:
    """n (first, last) pairs."""
    return [v.person() for _ in range(n)]


def customers(v: Values) -> CorpusFile:
    """Customers table of sample CSV sets: Faker-style phones with extensions and 001- prefixes."""
    n = 600
    names = people(v, n)
    styles = ("paren", "dash", "dot", "plus", "ext", "intl")
    return CorpusFile(
        "customers-600.csv",
        "csv",
        [
            Col("Index", [str(i + 1) for i in range(n)], None),
            Col("Customer Id", [v.hex_id(15) for _ in range(n)], None),
            Col("First Name", [f for f, _ in names], "PERSON"),
            Col("Last Name", [last for _, last in names], "PERSON"),
            Col("Company", [v.company() for _ in range(n)], None),
            Col("City", [v.fake.city() for _ in range(n)], None),
            Col("Country", [v.fake.country() for _ in range(n)], None),
            Col("Phone 1", [v.phone_mixed(styles) for _ in range(n)], "PHONE_NUMBER"),
            Col("Phone 2", [v.phone_mixed(styles) for _ in range(n)], "PHONE_NUMBER"),
            Col("Email", [v.email(f, last) for f, last in names], "EMAIL_ADDRESS"),
            Col("Subscription Date", [v.day(date(2020, 1, 1), 2000) for _ in range(n)], None),
            Col("Website", [f"https://{v.fake.domain_name()}/" for _ in range(n)], None),
        ],
    )


def leads(v: Values) -> CorpusFile:
    """CRM leads: an owner, two phones, two e-mails, source, stage, notes with nothing personal."""
    n = 500
    names = people(v, n)
    owners = [f"{f} {last}" for f, last in people(v, 12)]
    return CorpusFile(
        "leads-500.csv",
        "csv",
        [
            Col("Account Id", [v.hex_id(15) for _ in range(n)], None),
            Col("Lead Owner", [v.pick(owners) for _ in range(n)], "PERSON"),
            Col("First Name", [f for f, _ in names], "PERSON"),
            Col("Last Name", [last for _, last in names], "PERSON"),
            Col("Company", [v.company() for _ in range(n)], None),
            Col(
                "Phone 1",
                [v.phone_mixed(("dash", "dot", "paren")) for _ in range(n)],
                "PHONE_NUMBER",
            ),
            Col("Phone 2", v.sparse([v.e164() for _ in range(n)], 0.5), "PHONE_NUMBER"),
            Col("Email 1", [v.email(f, last) for f, last in names], "EMAIL_ADDRESS"),
            Col("Email 2", v.sparse([v.email(f, last) for f, last in names], 0.3), "EMAIL_ADDRESS"),
            Col("Website", [f"http://www.{v.fake.domain_name()}" for _ in range(n)], None),
            Col("Source", [v.pick(SOURCES) for _ in range(n)], None),
            Col("Deal Stage", [v.pick(STAGES) for _ in range(n)], None),
            Col("Notes", [v.plain_note() for _ in range(n)], None),
        ],
    )


def people_file(v: Values) -> CorpusFile:
    """People: user id, names, sex, e-mail, phone, date of birth, job title (tab-separated)."""
    n = 500
    names = people(v, n)
    return CorpusFile(
        "people-500.tsv",
        "tsv",
        [
            Col("User Id", [v.hex_id(15) for _ in range(n)], None),
            Col("First Name", [f for f, _ in names], "PERSON"),
            Col("Last Name", [last for _, last in names], "PERSON"),
            Col("Sex", [v.pick(("Male", "Female")) for _ in range(n)], None),
            Col("Email", [v.email(f, last, "example.org") for f, last in names], "EMAIL_ADDRESS"),
            Col(
                "Phone",
                [v.phone_mixed(("ext", "dot", "plus", "intl")) for _ in range(n)],
                "PHONE_NUMBER",
            ),
            Col("Date of birth", [v.day(date(1955, 1, 1), 17000) for _ in range(n)], None),
            Col("Job Title", [v.pick(JOBS) for _ in range(n)], None),
        ],
        separator="\t",
    )


def structured(v: Values) -> CorpusFile:
    """Presidio's structured sample: id, name, email, street, city, state, non_pii."""
    n = 400
    names = people(v, n)
    return CorpusFile(
        "test_structured.csv",
        "csv",
        [
            Col("id", [str(i + 1) for i in range(n)], None),
            Col("name", [f"{f} {last}" for f, last in names], "PERSON"),
            Col("email", [v.email(f, last, "example.com") for f, last in names], "EMAIL_ADDRESS"),
            Col("street", [v.fake.street_address() for _ in range(n)], "LOCATION"),
            Col("city", [v.fake.city() for _ in range(n)], None),
            Col("state", [v.fake.state_abbr() for _ in range(n)], None),
            Col(
                "non_pii",
                [f"reallynot{v.pick(('pii', 'apii', 'sensitive'))}{i}" for i in range(n)],
                None,
            ),
        ],
    )


def user_queries(v: Values) -> CorpusFile:
    """Presidio's notebook sample with a free-text user query holding phone numbers, SSNs and
    cards in most rows."""
    n = 400
    names = people(v, n)
    queries = []
    for _ in range(n):
        phone = v.phone_written(v.nanp(), v.pick(("dash", "paren")))
        pick = v.rng.random()
        if pick < 0.35:
            text = f"My phone number is {phone} and my SSN is {v.ssn()}."
        elif pick < 0.6:
            text = f"Please call me at {phone}; my card {v.card()} was charged twice."
        elif pick < 0.85:
            text = f"Call me back at {phone} about the roaming charges on my last bill."
        else:
            text = "I would like to change my plan to the unlimited one next month please."
        queries.append(text)
    return CorpusFile(
        "user_queries.csv",
        "csv",
        [
            Col("name", [f"{f} {last}" for f, last in names], "PERSON"),
            Col("email", [v.email(f, last, "example.com") for f, last in names], "EMAIL_ADDRESS"),
            Col("street", [v.fake.street_address() for _ in range(n)], "LOCATION"),
            Col("city", [v.fake.city() for _ in range(n)], None),
            Col("state", [v.fake.state_abbr() for _ in range(n)], None),
            Col("non_pii", [f"npii-{i:02d}" for i in range(n)], None),
            Col("user_query", queries, "PHONE_NUMBER"),
        ],
    )


def orders(v: Values) -> CorpusFile:
    """Shop orders of a data-privacy book's examples: user handle, e-mail, street address."""
    n = 500
    names = people(v, n)
    handles = [
        v.pick((f"{ascii_fold(f)}{v.rng.randint(1, 99)}", f"{ascii_fold(f)[0]}{ascii_fold(last)}"))
        for f, last in names
    ]
    return CorpusFile(
        "orders.csv",
        "csv",
        [
            Col("order_number", [str(v.rng.randint(1, 999)) for _ in range(n)], None),
            Col("user_id", handles, "EMPLOYEE_ID"),
            Col("email", [v.email(f, last) for f, last in names], "EMAIL_ADDRESS"),
            Col("street_address", [v.fake.street_address() for _ in range(n)], "LOCATION"),
            Col("city", [v.fake.city() for _ in range(n)], None),
            Col("state", [v.fake.state() for _ in range(n)], None),
            Col("num_items", [str(v.rng.randint(1, 9)) for _ in range(n)], None),
            Col("total_price", [str(v.rng.randint(10, 200)) for _ in range(n)], None),
            Col("timestamp", [v.moment(date(2022, 7, 1), 300) for _ in range(n)], None),
        ],
    )


def employees(v: Values) -> CorpusFile:
    """HR export like DLP test pages: full name, SSN, mailing address; abbreviated headers."""
    n = 450
    names = people(v, n)
    managers = [f"EMP-{v.digits(5)}" for _ in range(20)]
    return CorpusFile(
        "employees_hr.csv",
        "csv",
        [
            Col(
                "emp_no",
                [f"{10000 + i * 7 + v.rng.randint(0, 6)}" for i in range(n)],
                "EMPLOYEE_ID",
            ),
            Col("Employee Full Name", [f"{f} {last}" for f, last in names], "PERSON"),
            Col("fname", [f for f, _ in names], "PERSON"),
            Col("lname", [last for _, last in names], "PERSON"),
            Col("Social Security Number", [v.ssn() for _ in range(n)], "US_SSN"),
            Col(
                "Primary Address (Mailing)",
                [
                    f"{v.street()} {v.fake.city()}, {v.fake.state()} {v.fake.zipcode()}"
                    for _ in range(n)
                ],
                "LOCATION",
            ),
            Col("dept", [v.pick(DEPARTMENTS) for _ in range(n)], None),
            Col("job_title", [v.pick(JOBS) for _ in range(n)], None),
            Col("hire_date", [v.day(date(2005, 1, 1), 7000) for _ in range(n)], None),
            Col("salary", [str(v.rng.randint(38, 190) * 1000) for _ in range(n)], None),
            Col("manager_emp_id", [v.pick(managers) for _ in range(n)], "EMPLOYEE_ID"),
        ],
    )


def hr_roster(v: Values) -> CorpusFile:
    """An HR roster with prefixed IDs under opaque headers and SSNs without dashes."""
    n = 400
    names = people(v, n)
    return CorpusFile(
        "hr_roster.psv",
        "psv",
        [
            Col("ref", [f"EMP{v.digits(5, False)}" for _ in range(n)], "EMPLOYEE_ID"),
            Col("alt_ref", [f"HR-{v.digits(6, False)}" for _ in range(n)], "EMPLOYEE_ID"),
            Col("ssn", [v.ssn(dashed=False) for _ in range(n)], "US_SSN"),
            Col("tax_id_written", [v.ssn() for _ in range(n)], "US_SSN"),
            Col("given_name", [f for f, _ in names], "PERSON"),
            Col("surname", [last for _, last in names], "PERSON"),
            Col("work_cell", [v.phone_written(v.nanp(), "dash") for _ in range(n)], "PHONE_NUMBER"),
            Col("cost_center", [f"CC-{v.rng.randint(100, 999)}" for _ in range(n)], None),
            Col(
                "location_code",
                [
                    f"{v.pick(('NYC', 'DAL', 'SEA', 'CHI'))}{v.rng.randint(1, 9):02d}"
                    for _ in range(n)
                ],
                None,
            ),
            Col("fte", [v.pick(("1.0", "0.5", "0.8")) for _ in range(n)], None),
        ],
        separator="|",
    )


def sepa_payments(v: Values) -> CorpusFile:
    """Bulk transfers: beneficiary name and IBAN, BIC, amount, remittance text."""
    n = 450
    names = people(v, n)
    return CorpusFile(
        "payments_sepa.csv",
        "csv",
        [
            Col("payment_id", [f"PMT{v.digits(9)}" for _ in range(n)], None),
            Col("beneficiary_name", [f"{f} {last}" for f, last in names], "PERSON"),
            Col("beneficiary_iban", [v.iban() for _ in range(n)], "IBAN"),
            Col(
                "bic",
                [
                    v.pick(("DEUTDEFF", "BNPAFRPP", "INGBNL2A", "NWBKGB2L", "CAIXESBB"))
                    for _ in range(n)
                ],
                None,
            ),
            Col("amount_cents", [str(v.rng.randint(100, 900000)) for _ in range(n)], None),
            Col("currency", ["EUR"] * n, None),
            Col("execution_date", [v.day(date(2026, 1, 1), 300) for _ in range(n)], None),
            Col(
                "remittance_info",
                [f"Invoice {v.rng.randint(2024, 2026)}-{v.digits(3)}" for _ in range(n)],
                None,
            ),
            Col("debtor_account", [v.iban() for _ in range(n)], "IBAN"),
        ],
    )


def card_payments(v: Values) -> CorpusFile:
    """Card transactions: ccn (abbreviated header), cardholder, expiry, amounts, decoy ids."""
    n = 500
    names = people(v, n)
    return CorpusFile(
        "card_payments.csv",
        "csv",
        [
            Col("txn_id", [v.random_id(16) for _ in range(n)], None),
            Col("ccn", [v.card() for _ in range(n)], "CREDIT_CARD"),
            Col("cardholder_name", [f"{f} {last}".upper() for f, last in names], "PERSON"),
            Col(
                "exp",
                [f"{v.rng.randint(1, 12):02d}/{v.rng.randint(26, 31)}" for _ in range(n)],
                None,
            ),
            Col("amount", [v.money(1, 2500) for _ in range(n)], None),
            Col("merchant_name", [v.company() for _ in range(n)], None),
            Col("auth_code", [v.hex_id(6).upper() for _ in range(n)], None),
            Col("terminal_id", [v.random_id(8) for _ in range(n)], None),
            Col(
                "card",
                [
                    " ".join(c[i : i + 4] for i in range(0, len(c), 4))
                    for c in (v.card() for _ in range(n))
                ],
                "CREDIT_CARD",
            ),
        ],
    )


def tickets(v: Values) -> CorpusFile:
    """Support tickets: requester e-mail, agent, subject, a description where a few hold a
    phone number, and internal notes with nothing personal."""
    n = 600
    names = people(v, n)
    agents = [f"{f} {last}" for f, last in people(v, 8)]
    descriptions = []
    for _ in range(n):
        roll = v.rng.random()
        if roll < 0.08:
            number = v.phone_written(v.nanp(), v.pick(("dash", "paren", "dot")))
            descriptions.append(
                f"{v.pick(TICKET_SUBJECTS)}. Best number to reach me is {number}, after 5pm."
            )
        else:
            descriptions.append(f"{v.pick(TICKET_SUBJECTS)}. {v.plain_note()}")
    return CorpusFile(
        "support_tickets.csv",
        "csv",
        [
            Col("ticket_id", [f"{100000 + i}" for i in range(n)], None),
            Col("created_at", [v.moment(date(2026, 5, 1), 120) for _ in range(n)], None),
            Col("requester_email", [v.email(f, last) for f, last in names], "EMAIL_ADDRESS"),
            Col("assignee", [v.pick(agents) for _ in range(n)], "PERSON"),
            Col("subject", [v.pick(TICKET_SUBJECTS) for _ in range(n)], None),
            Col("description", descriptions, "PHONE_NUMBER"),
            Col("internal_notes", [v.plain_note() for _ in range(n)], None),
            Col("priority", [v.pick(("low", "normal", "high", "urgent")) for _ in range(n)], None),
            Col(
                "queue",
                [v.pick(("Billing", "Devices", "Porting", "Network")) for _ in range(n)],
                None,
            ),
        ],
    )


def crm_contacts(v: Values) -> CorpusFile:
    """CRM contacts (XLSX): full name, account, international mobiles, mailing street."""
    n = 400
    names = people(v, n)
    return CorpusFile(
        "crm_contacts.xlsx",
        "xlsx",
        [
            Col("Contact ID", [f"003{v.hex_id(12)}" for _ in range(n)], None),
            Col("Full Name", [f"{f} {last}" for f, last in names], "PERSON"),
            Col("Title", [v.pick(JOBS) for _ in range(n)], None),
            Col("Account Name", [v.company() for _ in range(n)], None),
            Col("Mobile", [v.e164() for _ in range(n)], "PHONE_NUMBER"),
            Col("Email", [v.email(f, last) for f, last in names], "EMAIL_ADDRESS"),
            Col("Mailing Street", [v.fake.street_address() for _ in range(n)], "LOCATION"),
            Col("Mailing City", [v.fake.city() for _ in range(n)], None),
            Col("Mailing Country", [v.pick(COUNTRIES) for _ in range(n)], None),
            Col("Lead Source", [v.pick(SOURCES) for _ in range(n)], None),
            Col(
                "Contact Owner",
                [v.pick([f"{f} {last}" for f, last in people(v, 6)]) for _ in range(n)],
                "PERSON",
            ),
        ],
    )


def device_report(v: Values) -> CorpusFile:
    """A carrier's device report: wireless number, user, ESN/IMEI, SIM number, plan, pool."""
    n = 500
    names = people(v, n)
    return CorpusFile(
        "carrier_device_report.csv",
        "csv",
        [
            Col("Account number", [v.pick(["842103957", "842103958"]) for _ in range(n)], None),
            Col(
                "Wireless number",
                [v.phone_written(v.nanp(0.3, 0.4), "dash") for _ in range(n)],
                "PHONE_NUMBER",
            ),
            Col("User name", [f"{last.upper()}, {f.upper()}" for f, last in names], "PERSON"),
            Col("ESN/IMEI", [v.imei() for _ in range(n)], "IMEI"),
            Col("SIM number", [v.iccid() for _ in range(n)], "ICCID"),
            Col("Device model", [v.pick(MODELS) for _ in range(n)], None),
            Col("Price plan name", [v.pick(PLANS2) for _ in range(n)], None),
            Col("Pool name", [v.pick(POOLS) for _ in range(n)], None),
            Col("Contract end date", [v.day(date(2026, 1, 1), 900) for _ in range(n)], None),
            Col("Upgrade eligibility date", [v.day(date(2026, 1, 1), 700) for _ in range(n)], None),
        ],
    )


def masked_extract(v: Values) -> CorpusFile:
    """A carrier extract whose identifiers are masked or blank; remittance PO box; invoice ids."""
    n = 450
    names = people(v, n)
    return CorpusFile(
        "carrier_masked_extract.csv",
        "csv",
        [
            Col("Invoice number", [v.random_id(10) for _ in range(n)], None),
            Col(
                "Mobile number", [f"XXX-XXX-{v.digits(4, False)}" for _ in range(n)], "PHONE_NUMBER"
            ),
            Col(
                "ESN/IMEI",
                [v.pick(("", "N/A", "000000000000000")) or None for _ in range(n)],
                "IMEI",
            ),
            Col("SIM number", [f"************{v.digits(8, False)}" for _ in range(n)], "ICCID"),
            Col("User last name", [last[0] + "*" * (len(last) - 1) for _, last in names], "PERSON"),
            Col("Remit to", [v.pick(REMIT_BOXES) for _ in range(n)], None),
            Col("Bill cycle date", [v.day(date(2026, 1, 1), 300) for _ in range(n)], None),
            Col("Total charges", [f"${v.money(10, 400)}" for _ in range(n)], None),
            Col("Pool name", [v.pick(POOLS) for _ in range(n)], None),
        ],
    )


def iot_sims(v: Values) -> CorpusFile:
    """IoT subscription import: ICCID as IDENTIFIER, MSISDN, IMSI as NETWORK IDENTIFIER, IP."""
    n = 500
    return CorpusFile(
        "iot_subscriptions.csv",
        "csv",
        [
            Col("IDENTIFIER", [v.iccid() for _ in range(n)], "ICCID"),
            Col("MOBILE NUMBER", ["1" + v.nanp(0.2, 0.0) for _ in range(n)], "PHONE_NUMBER"),
            Col("NETWORK IDENTIFIER", [v.imsi() for _ in range(n)], "IMSI"),
            Col(
                "IP",
                [
                    f"10.{v.rng.randint(0, 255)}.{v.rng.randint(0, 255)}.{v.rng.randint(1, 254)}"
                    for _ in range(n)
                ],
                "IP_ADDRESS",
            ),
            Col("OPERATOR", [v.pick(("AT&T", "Verizon", "T-Mobile")) for _ in range(n)], None),
            Col(
                "LABELS",
                [v.pick(("fleet|east", "meters", "fleet|west", "kiosk")) for _ in range(n)],
                None,
            ),
            Col("KI", [v.hex_id(32).upper() for _ in range(n)], None),
            Col(
                "Description",
                [f"Telematics unit {v.digits(6)} rev {v.rng.randint(1, 9)}" for _ in range(n)],
                None,
            ),
        ],
    )


def mdm_devices(v: Values) -> CorpusFile:
    """An MDM provisioning upload: IMEI1, IMEI2 (mostly empty), serial number, owner e-mail."""
    n = 450
    names = people(v, n)
    return CorpusFile(
        "mdm_imei_upload.csv",
        "csv",
        [
            Col("IMEI1", [v.imei() for _ in range(n)], "IMEI"),
            Col("IMEI2", v.sparse([v.imei() for _ in range(n)], 0.2), "IMEI"),
            Col("serial number", [v.hex_id(11).upper() for _ in range(n)], None),
            Col(
                "owner",
                [v.email(f, last, "corp.example.com") for f, last in names],
                "EMAIL_ADDRESS",
            ),
            Col("group", [v.pick(("Drivers", "Warehouse", "Field Sales")) for _ in range(n)], None),
        ],
    )


def reference_tables(v: Values) -> CorpusFile:
    """Public reference data joined to usage: `<thing> name` headers and random 10-digit ids."""
    n = 500
    return CorpusFile(
        "storm_country_reference.csv",
        "csv",
        [
            Col("event_id", [v.random_id(10) for _ in range(n)], None),
            Col("episode_id", [v.random_id(10) for _ in range(n)], None),
            Col("storm_name", [v.pick(STORMS).title() for _ in range(n)], None),
            Col("country_name", [v.pick(COUNTRIES) for _ in range(n)], None),
            Col(
                "source_name",
                [
                    v.pick(
                        (
                            "NWS Storm Data",
                            "Trained Spotter",
                            "Emergency Manager",
                            "Public",
                            "Broadcast Media",
                        )
                    )
                    for _ in range(n)
                ],
                None,
            ),
            Col("plan_name", [v.pick(PLANS2) for _ in range(n)], None),
            Col("begin_date", [v.day(date(2025, 6, 1), 150) for _ in range(n)], None),
            Col(
                "damage_property",
                [f"{v.rng.randint(0, 900)}.{v.rng.randint(0, 9)}K" for _ in range(n)],
                None,
            ),
            Col("state_fips", [f"{v.rng.randint(1, 56):02d}" for _ in range(n)], None),
        ],
    )


def opaque_numbers(v: Values) -> CorpusFile:
    """Opaque headers over numbers: phones (555, new area codes, E.164) beside random ids."""
    n = 500
    return CorpusFile(
        "opaque_numbers.parquet",
        "parquet",
        [
            Col("c1", [v.random_id(10) for _ in range(n)], None),
            Col(
                "c2", [v.phone_written(v.nanp(0.0, 1.0), "plain") for _ in range(n)], "PHONE_NUMBER"
            ),
            Col(
                "c3", [v.phone_written(v.nanp(1.0, 0.0), "dash") for _ in range(n)], "PHONE_NUMBER"
            ),
            Col("c4", [v.e164().replace(" ", "") for _ in range(n)], "PHONE_NUMBER"),
            Col("c5", [v.random_id(10) for _ in range(n)], None),
            Col("c6", [v.money(0, 500) for _ in range(n)], None),
            Col("c7", [v.day(date(2026, 1, 1), 300).replace("-", "") for _ in range(n)], None),
            Col("c8", [v.ssn() for _ in range(n)], "US_SSN"),
            Col("c9", [v.card() for _ in range(n)], "CREDIT_CARD"),
            Col("c10", [v.random_id(16) for _ in range(n)], None),
        ],
    )


def ticket_comments(v: Values) -> CorpusFile:
    """Ticket comments: a few name the person spoken to or give an e-mail, most hold nothing
    personal; the reporter written "Last, First M."; a resolution text with nothing personal."""
    n = 600
    names = people(v, n)
    comments = []
    for first, last in names:
        roll = v.rng.random()
        if roll < 0.05:
            comments.append(
                v.pick(
                    (
                        f"Spoke with {first} {last} about the {v.pick(PLANS2)} renewal.",
                        f"{first} {last} from accounts payable asked for a copy of the invoice.",
                        f"Left a voicemail for {first} {last}; will try again tomorrow.",
                    )
                )
            )
        elif roll < 0.08:
            comments.append(f"Send the corrected invoice to {v.email(first, last)} please.")
        else:
            comments.append(v.plain_note())
    reporters = [f"{last}, {first} {v.pick(string.ascii_uppercase)}." for first, last in names]
    return CorpusFile(
        "ticket_comments.csv",
        "csv",
        [
            Col("comment_id", [f"{v.digits(12)}" for _ in range(n)], None),
            Col("reporter", reporters, "PERSON"),
            Col("comment", comments, "PERSON"),
            Col("resolution", [v.plain_note() for _ in range(n)], None),
            Col("msisdn", ["1" + v.nanp(0.3, 0.3) for _ in range(n)], "PHONE_NUMBER"),
            Col("status", [v.pick(("open", "pending", "solved")) for _ in range(n)], None),
        ],
    )


def uk_subscribers(v: Values) -> CorpusFile:
    """Subscribers of a UK reseller (Parquet): integer MSISDNs, UK addresses, a masked phone,
    date of birth, IPv6 of the last login, an ESN column left empty, a tariff name."""
    n = 400
    uk = v.eu["en_GB"]
    firsts = [uk.first_name() for _ in range(n)]
    lasts = [uk.last_name() for _ in range(n)]
    addresses = [
        v.pick(
            (
                f"Flat {v.rng.randint(1, 30)}, {uk.building_number()} {uk.street_name()}, "
                f"{uk.city()} {uk.postcode()}",
                f"{uk.building_number()} {uk.street_name()}, {uk.city()} {uk.postcode()}",
            )
        )
        for _ in range(n)
    ]
    return CorpusFile(
        "uk_subscribers.parquet",
        "parquet",
        [
            Col("subscriber_no", [int(v.digits(9)) for _ in range(n)], None, pl.Int64),
            Col(
                "msisdn",
                [int(f"447700900{v.digits(3, False)}") for _ in range(n)],
                "PHONE_NUMBER",
                pl.Int64,
            ),
            Col("forename", firsts, "PERSON"),
            Col("surname", lasts, "PERSON"),
            Col("home_address", addresses, "LOCATION"),
            Col(
                "alt_phone_masked",
                [f"(XXX) XXX-{v.digits(4, False)}" for _ in range(n)],
                "PHONE_NUMBER",
            ),
            Col("dob", [v.day(date(1950, 1, 1), 18000) for _ in range(n)], None),
            Col("last_login_ip", [str(v.fake.ipv6()) for _ in range(n)], "IP_ADDRESS"),
            Col("esn", [v.pick(("", "n/a", "-")) or None for _ in range(n)], "IMEI"),
            Col(
                "tariff_name",
                [
                    v.pick(("Business 30GB", "SIM Only Unlimited", "Data Pool 1TB"))
                    for _ in range(n)
                ],
                None,
            ),
            Col("monthly_fee", [float(v.money(8, 60)) for _ in range(n)], None, pl.Float64),
        ],
    )


BUILDERS: tuple[Callable[[Values], CorpusFile], ...] = (
    customers,
    leads,
    people_file,
    structured,
    user_queries,
    orders,
    employees,
    hr_roster,
    sepa_payments,
    card_payments,
    tickets,
    crm_contacts,
    device_report,
    masked_extract,
    iot_sims,
    mdm_devices,
    reference_tables,
    opaque_numbers,
    ticket_comments,
    uk_subscribers,
)


def build(out: Path, seed: int = SEED) -> dict[str, dict[str, str | None]]:
    """Write every file under out/files and the labels to out/labels.json."""
    values = Values(seed)
    return write_labelled(out, (builder(values) for builder in BUILDERS), 300, ENTITIES)


def main() -> None:
    """Command line: write the corpus."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    labels = build(args.out, args.seed)
    pii = sum(1 for cols in labels.values() for v in cols.values() if v)
    other = sum(1 for cols in labels.values() for v in cols.values() if not v)
    print(f"wrote {len(labels)} files to {args.out / 'files'}: {pii} PII and {other} other columns")


if __name__ == "__main__":
    main()
