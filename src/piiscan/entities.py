"""The entities piiscan detects: one registry entry each, small frozen data.

An entry says everything the detector, the Presidio recognizers and the policy need about its
entity: the validator of one value, the regular expressions that find it in free text, the
header words for it and against it, its context words, and how it gives way when it collides
with another entity. Entries are listed most specific first; that order breaks ties.

The detector (piiscan.detect), the recognizers (piiscan.recognizers), the NLP engine and the
policy iterate the registry and name no entity themselves: adding an entity is one entry here
and its action in configs/actions.yaml. This module is imported at start-up and by the policy:
no Presidio, no spaCy.

Header words are ASCII-folded lower-case whole words (headers.header_words splits headers the
same way), in English, German, French and Spanish.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Literal

from piiscan import validators as v

Validator = Callable[[str], bool]
RecognizedBy = Literal["validator", "customer_patterns", "ner"]
MaskStyle = Literal["tail", "letters", "email"]
FREE_TEXT = "FREE_TEXT"  # not an entity: the action for free-text columns, whatever they hold


def words(text: str) -> frozenset[str]:
    """A vocabulary written as space-separated words."""
    return frozenset(text.split())


@dataclass(frozen=True)
class Pattern:
    """A regular expression that finds the entity in free text, and the score a match starts at."""

    name: str
    regex: str
    score: float


@dataclass(frozen=True)
class Span:
    """Where an entity was found in one text: offsets and score, never the value."""

    entity: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Entity:
    """One entity: how its values, its headers and its mentions in free text are recognised."""

    name: str  # Presidio's entity name where Presidio has one
    description: str
    # validator: the values pass `validator`; customer_patterns: the customer's configured
    # patterns (or, under a header naming it, `validator`); ner: the spaCy model reads the names.
    recognized_by: RecognizedBy = "validator"
    validator: Validator | None = None  # one value: is it valid? (pure; called per distinct value)
    # A looser check of the value's form (numbering rules, not assigned ranges): it counts only
    # when nearly every sampled value of a column passes it, which a column of random ids does not.
    structure: Validator | None = None
    # With needs_header: values of this distinctive form count without the header (an SSN
    # written 536-90-4399, an ID written EMP-12345), when nearly every sampled value has it.
    unaided: Validator | None = None
    # Under a header naming the entity, values this looser check accepts count as well (any
    # Luhn-valid 13-19 digits under "Card Number"), whatever they collide with.
    under_header: Validator | None = None
    patterns: tuple[Pattern, ...] = ()  # free text, our recognizer: matches must pass validator
    presidio: str | None = None  # free text, Presidio's predefined recognizer (class name) instead
    context: frozenset[str] = frozenset()  # words near a free-text match that raise its score
    header_words: frozenset[str] = frozenset()  # a header with one of these names the entity
    weak_header_words: frozenset[str] = frozenset()  # ... unless it also has a NOT_PII_WORDS word
    header_vetoes: frozenset[str] = frozenset()  # with one of these the header names a thing
    # Words that name the entity alone ("Name") or after one of `name_qualifiers` ("User Name");
    # after another noun ("Country Name", "Pool Name") they name a thing, and count against it.
    name_words: frozenset[str] = frozenset()
    name_qualifiers: frozenset[str] = frozenset()
    # Words that name the identifier outright: under one, a column whose values cannot confirm
    # it (empty, masked, placeholders) is still flagged, from the header alone, for review.
    id_header_words: frozenset[str] = frozenset()
    header_collisions: tuple[str, ...] = ()  # entities whose header words rule this one out
    value_collisions: tuple[str, ...] = ()  # a value valid as one of these is not this entity
    needs_header: bool = False  # the validator collides with others: a column needs its header
    marks_data_row: bool = False  # a valid value is never a header cell (sniffing header lines)
    whole_text: bool = False  # free text without the model: validate the whole value, not words
    mask: MaskStyle = "tail"  # how report evidence hides a value
    examples: tuple[str, ...] = ()  # values the validator accepts (tests/test_entities.py)
    decoys: tuple[str, ...] = ()  # look-alikes it rejects

    def __post_init__(self) -> None:
        if self.recognized_by != "ner" and self.validator is None:
            raise ValueError(f"entity {self.name}: a validator is needed unless names are read")

    @property
    def all_header_words(self) -> frozenset[str]:
        """Every header word that can name the entity."""
        return self.header_words | self.weak_header_words | self.name_words


# Header words for a non-PII meaning ("Account Number", "Invoice Total"): a column whose header
# has one loses confidence unless the header also names the entity, and weak words go unheard.
NOT_PII_WORDS = words(
    "account acct amount ban bestellung betrag case charge charges commande compte cost count "
    "cuenta cycle date datum duration factura facture fan fecha fee frais gb importe invoice kb "
    "konto kosten mb min minutes montant order pedido period plan price qty quantity rate "
    "rechnung ref reference remit remittance tax taxes ticket time total transaction txn usage"
)
# Nouns that head a thing's name, not a person's: a name span of free text ending in one
# ("Flex Pool Tier", "Bill" of "Bill cycle") is no name.
THING_NOUNS = words(
    "account bill billing bundle center centre charge charges device feature group invoice "
    "model network package plan plans pool portal product program service share store team "
    "tier unit usage"
)
# Words a header may hold between the words that matter ("Nom de famille", "Name of user").
FILLER_WORDS = words("a de del der des di du e el la las le les los of the und y")

_BUILT_IN = (
    Entity(
        "IMEI",
        "A device identifier: IMEI (Luhn), IMEISV or MEID, all reported as IMEI.",
        validator=v.is_device_id,
        patterns=(
            Pattern("imei", r"\b\d{15}\b", 0.5),
            Pattern("imei dashed", r"\b\d{2}-\d{6}-\d{6}-\d\b", 0.7),
            Pattern("imeisv", r"\b\d{16}\b", 0.3),
            Pattern("meid", r"\b[A-Fa-f0-9]{14}\b", 0.3),
        ),
        context=words("imei imeisv meid device handset serial gerät appareil"),
        header_words=words("esn geratekennung imei imeisv meid"),
        id_header_words=words("esn imei imeisv meid"),
        marks_data_row=True,
        examples=("490154203237518", "49-015420-323751-8", "3539111012345601", "A0000012345678"),
        decoys=("490154203237519", "111111111111111", "12345678901234", "4111 1111 1111 1111"),
    ),
    Entity(
        "ICCID",
        "A SIM card's ICCID.",
        validator=v.is_iccid,
        patterns=(Pattern("iccid", r"\b89\d{16,18}[Ff]?\b", 0.6),),
        context=words("iccid sim card karte carte tarjeta"),
        header_words=words("iccid sim simkarte simnummer"),
        id_header_words=words("iccid simcard simid simkarte simno simnum simnumber simnummer"),
        marks_data_row=True,
        examples=("89014103211118510720", "89014103211118510720F", "8901410321111851072"),
        decoys=("89014103211118510721", "79014103211118510720", "89014"),
    ),
    Entity(
        "IMSI",
        "A subscriber's IMSI, with a known MCC/MNC.",
        validator=v.is_imsi,
        patterns=(Pattern("imsi", r"\b\d{14,15}\b", 0.4),),
        context=words("imsi subscriber sim"),
        header_words=words("imsi"),
        id_header_words=words("imsi"),
        value_collisions=("IMEI",),  # 15 digits that pass Luhn too are taken for an IMEI
        examples=("310410123456789", "234150123456789", "262020123456789"),
        decoys=("999990123456789", "3104101234"),
    ),
    Entity(
        "PHONE_NUMBER",
        "A telephone number in national or international form (US, CA, GB, DE, FR).",
        validator=v.is_phone,
        structure=v.is_phone_shaped,
        under_header=v.is_phone_possible,
        patterns=(
            Pattern(
                "nanp",
                r"(?<![\d-])(?:\+?1[ .-]?)?\(?[2-9]\d{2}\)?[ .-]?\d{3}[ .-]?\d{4}(?![\d-])",
                0.4,
            ),
            Pattern("international", r"(?<!\d)(?:\+|00)[1-9][\d ().-]{6,17}\d(?!\d)", 0.5),
        ),
        context=words(
            "phone mobile cell wireless number tel msisdn telefon handy téléphone portable "
            "teléfono móvil celular"
        ),
        header_words=words(
            "called caller cell cellular celular ctn dialed dialled fax handy handynummer mdn "
            "mobile mobilfunknummer mobilnummer movil msisdn party phone portable rufnummer "
            "subscriber tel telefon telefonnummer telefono telephone wireless"
        ),
        weak_header_words=words("numero nummer"),  # "Konto Nummer" is an account number
        id_header_words=words(
            "cellnumber cellphone ctn handynummer mdn mobilenumber mobilephone mobilfunknummer "
            "mobilnummer msisdn phone phonenumber rufnummer tel telefon telefonnummer telefono "
            "telephone wirelessnumber"
        ),
        marks_data_row=True,
        examples=("212-555-0147", "(212) 555-0147", "+44 20 7946 0958", "030 901820"),
        decoys=("1234567890", "555-0147", "9494"),
    ),
    Entity(
        "EMAIL_ADDRESS",
        "An e-mail address.",
        validator=v.is_email,
        presidio="EmailRecognizer",
        header_words=words("correo courriel email emailaddress mail"),
        id_header_words=words("correo courriel email emailaddress"),
        marks_data_row=True,
        mask="email",
        examples=("jane.doe@acme.example.com",),
        decoys=("jane.doe@localhost", "jane.doe"),
    ),
    Entity(
        "IP_ADDRESS",
        "An IPv4 or IPv6 address.",
        validator=v.is_ip,
        presidio="IpRecognizer",
        header_words=words("ip ipaddress ipv4 ipv6"),
        id_header_words=words("ipaddress ipv4 ipv6"),
        marks_data_row=True,
        examples=("10.20.30.40", "2001:db8::1"),
        decoys=("300.1.1.1", "10.20.30"),
    ),
    Entity(
        "EMPLOYEE_ID",
        "A customer's employee ID: its configured patterns, or an ID shape under an HR header.",
        recognized_by="customer_patterns",
        validator=v.is_id_shaped,
        unaided=v.is_prefixed_employee_id,
        needs_header=True,
        context=words(
            "employee emp staff personnel badge hr mitarbeiter personalnummer matricule salarié "
            "empleado"
        ),
        header_words=words(
            "badge emp empid empleado employe employee empno empnum hr legajo matricule "
            "mitarbeiter mitarbeiternummer payroll personalnr personalnummer personnel salarie "
            "staff userid worker"
        ),
        id_header_words=words(
            "badgeid empid empno empnum employeeid employeeno employeenumber matricule "
            "mitarbeiternummer personalnr personalnummer"
        ),
        examples=("E123456", "EMP-0042", "jdoe", "jane.doe@acme.example.com"),
        decoys=("12", "12.50", "two words"),
    ),
    Entity(
        "CREDIT_CARD",
        "A payment card number: Luhn and a brand's issuer prefix and length (Presidio's "
        "recognizer in free text).",
        validator=v.is_card_number,
        under_header=v.is_credit_card,
        presidio="CreditCardRecognizer",
        header_words=words("card carte cc ccn ccnum credit creditcard kreditkarte pan tarjeta"),
        id_header_words=words("cardnumber ccn ccnum creditcard creditcardnumber kreditkarte pan"),
        header_collisions=("ICCID",),  # "SIM card", "carte SIM"
        value_collisions=("IMEI",),  # an IMEI's TAC and Luhn digit can look like a card's
        examples=("4111111111111111", "4111 1111 1111 1111", "5555555555554444"),
        decoys=("4111111111111112", "411111", "490154203237518", "89014103211118510720"),
    ),
    Entity(
        "IBAN",
        "An international bank account number (mod-97 check digits, the country's format).",
        validator=v.is_iban,
        presidio="IbanRecognizer",
        header_words=words("iban"),
        id_header_words=words("iban"),
        marks_data_row=True,
        examples=("DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432"),
        decoys=("DE89 3704 0044 0532 0130 01", "GB82"),
    ),
    Entity(
        "US_SSN",
        "A US social security number the SSA could have issued.",
        validator=v.is_ssn,
        unaided=v.is_ssn_written,  # 9 bare digits are an account number as often
        presidio="UsSsnRecognizer",
        needs_header=True,
        header_words=words("social sozialversicherungsnummer ssn"),
        id_header_words=words("socialsecuritynumber sozialversicherungsnummer ssn"),
        examples=("536-90-4399", "536904399"),
        decoys=("666-90-4399", "536-00-4399", "936-90-4399"),
    ),
    Entity(
        "PERSON",
        "A person's name, read by the spaCy model.",
        recognized_by="ner",
        # In free text: the model's spans that can be names (no codes, not a thing's name).
        validator=partial(v.is_name_span, things=THING_NOUNS),
        presidio="SpacyRecognizer",
        patterns=(  # in free text: a capitalised name after a contact phrase the model misses
            Pattern(
                "name after a contact phrase",
                # Case-sensitive inside Presidio's IGNORECASE: the capitals are the evidence.
                r"(?-i:(?:(?<=\bwith )|(?<=\bback )|(?<=\bfor )|(?<=\bby )|(?<=\bUser )"
                r"|(?<=\bcall ))[A-Z][a-z]+(?: [A-Z][a-z]+){1,2}\b)",
                0.6,
            ),
        ),
        header_words=words(
            "apellido apellidos contact display familienname first firstname fname forename "
            "fullname given holder last lastname lname manager nachname owner prenom surname "
            "vorname"
        ),
        name_words=words("name names nom nombre"),
        name_qualifiers=words(
            "addressee agent apellido applicant assignee benutzer beneficiary beneficiario "
            "candidate cardholder caller client consignee contact creditor customer debtor "
            "display driver emp employee empleado employe famille family first full given guest "
            "holder insured last manager member middle mitarbeiter owner passenger patient "
            "payee payer person preferred primary recipient reporter requester sender signer "
            "staff student subscriber supervisor tenant titular usuario user utilisateur worker"
        ),
        header_vetoes=words(  # "device name", "plan name": a thing's name
            "account carrier city company device feature file host item login model plan "
            "product rate server street vendor"
        ),
        id_header_words=words(
            "firstname fname forename fullname lastname lname nachname prenom surname username "
            "vorname"
        ),
        mask="letters",
        examples=("Jane Doe", "DOE, JANE", "Bill Smith", "Ana María Pérez"),
        decoys=("ORD-95547957", "INC2040913", "GB", "Flex Pool Tier", "Bill"),
    ),
    Entity(
        "LOCATION",
        "A street address (US house number and street type, or European street words).",
        validator=v.is_street_address,
        header_words=words(
            "addr address adresse anschrift calle direccion domicilio rue ship shipping strasse "
            "street"
        ),
        id_header_words=words("address adresse anschrift direccion domicilio homeaddress"),
        patterns=(  # in free text: a house number, up to four words and a street type
            Pattern(
                "street address",
                r"\b\d{1,5}[A-Za-z]?\s+(?:[A-Z][\w.'-]*\s+){1,4}(?:" + v.STREET_TYPES + r")\b\.?",
                0.6,
            ),
        ),
        whole_text=True,
        mask="letters",
        examples=("742 Evergreen Terrace", "Hauptstraße 5, 10115 Berlin", "12 rue de la Paix"),
        decoys=("Business Unlimited Plus", "Main Street"),
    ),
)
_REGISTRY: dict[str, Entity] = {entity.name: entity for entity in _BUILT_IN}


def registered() -> tuple[Entity, ...]:
    """Every entity, most specific first (the order breaks ties between equal evidence)."""
    return tuple(_REGISTRY.values())


def get(name: str) -> Entity | None:
    """The registered entity of that name, if any."""
    return _REGISTRY.get(name)


def names() -> tuple[str, ...]:
    """Every registered entity's name, most specific first."""
    return tuple(_REGISTRY)


def policy_names() -> frozenset[str]:
    """The names configs/ may give an action or a reviewer may set: the entities and FREE_TEXT."""
    return frozenset((*_REGISTRY, FREE_TEXT))


def register(entity: Entity) -> Entity:
    """Add an entity after the registered ones (so it loses ties); its name must be new."""
    if entity.name in _REGISTRY or entity.name == FREE_TEXT:
        raise ValueError(f"entity {entity.name} is already registered")
    _REGISTRY[entity.name] = entity
    return entity


def unregister(name: str) -> None:
    """Remove an entity added with register (a built-in one stays)."""
    if name in {entity.name for entity in _BUILT_IN}:
        raise ValueError(f"entity {name} is built in")
    _REGISTRY.pop(name, None)


def validator(entity: Entity, among: Iterable[Entity] | None = None) -> Validator:
    """The entity's validator with its value collisions applied (an IMSI that is an IMEI is not)."""
    check = entity.validator
    if check is None:
        raise ValueError(f"entity {entity.name} has no validator")
    by_name = {e.name: e for e in (registered() if among is None else among)}
    rivals = [
        rival.validator
        for name in entity.value_collisions
        if (rival := by_name.get(name)) is not None and rival.validator is not None
    ]
    if not rivals:
        return check

    def without_collisions(value: str) -> bool:
        return check(value) and not any(rival(value) for rival in rivals)

    return without_collisions
