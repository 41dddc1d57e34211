"""Validators: whether one candidate string is a valid identifier of a kind.

Pure functions over one value (check digits, stdnum, libphonenumber), no Presidio and no spaCy:
the registry (piiscan.entities) names them, the column classifier calls them once per distinct
sampled value, and the Presidio recognizers use them as their validation hook.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from functools import lru_cache

import phonenumbers
from phonenumbers import re_util
from stdnum import iban as stdnum_iban
from stdnum import imsi as stdnum_imsi

# libphonenumber recompiles its metadata patterns once they fall out of re's small cache; a
# column of numbers from several regions does that thousands of times. Keep them compiled.
re_util.enable_pattern_cache()

REGIONS = ("US", "CA", "GB", "DE", "FR")
_NON_DIGITS = re.compile(r"[\s().\-/+]")
_HEX14 = re.compile(r"[0-9A-F]{14}")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}$")
_SSN = re.compile(r"^(\d{3})([- .]?)(\d{2})\2(\d{4})$")
_SSN_WRITTEN = re.compile(r"^\d{3}-\d{2}-\d{4}$")
_GROUPED_4 = re.compile(r"^\d{4}([ -])\d{4}\1\d{4}\1\d{4}$")  # how cards are written
# NANP: area code 2-9 first, not N11 or N9X; exchange 2-9 first, not N11 (ATIS numbering rules).
_NANP_SHAPE = re.compile(r"^1?[2-9](?:[02-8]\d|1[02-9])[2-9](?:[02-9]\d|1[02-9])\d{4}$")
_WRITTEN_NUMBER = re.compile(r"^\+?[\d\s().\-/]+$")
_E164_CODES = frozenset(str(code) for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
# Payment card brands: issuer prefixes and the lengths each brand issues (ISO/IEC 7812).
_CARD_BRANDS = (
    (re.compile(r"^4"), (13, 16, 19)),  # Visa
    (re.compile(r"^(?:5[1-5]|222[1-9]|22[3-9]\d|2[3-6]\d\d|27[01]\d|2720)"), (16,)),  # Mastercard
    (re.compile(r"^3[47]"), (15,)),  # American Express
    (re.compile(r"^(?:6011|65|64[4-9])"), (16, 19)),  # Discover
    (re.compile(r"^35(?:2[89]|[3-8]\d)"), (16, 17, 18, 19)),  # JCB
    (re.compile(r"^3(?:0[0-5]|[689])"), (14, 16)),  # Diners Club
)
# USPS street suffixes (the common ones) and unit designators.
_STREET_TYPES = (
    "st|street|ave|avenue|rd|road|blvd|boulevard|dr|drive|ln|lane|way|ct|court|pl|place|pkwy|"
    "parkway|cir|circle|ter|terrace|hwy|highway|sq|square|trl|trail|loop|row|run|pass|crossing|"
    "xing|view|views|walk|path|pike|plaza|via|cres|crescent|aly|alley|bend|bluff|bluffs|branch|"
    "bridge|brook|brooks|burg|burgs|bypass|camp|canyon|cape|causeway|center|centers|cliff|"
    "cliffs|club|common|commons|corner|corners|course|courts|cove|coves|creek|crest|curve|dale|"
    "dam|divide|drives|estate|estates|expressway|extension|extensions|fall|falls|ferry|field|"
    "fields|flat|flats|ford|fords|forest|forge|forges|fork|forks|fort|freeway|garden|gardens|"
    "gateway|glen|glens|green|greens|grove|groves|harbor|harbors|haven|heights|hill|hills|"
    "hollow|inlet|island|islands|isle|junction|junctions|key|keys|knoll|knolls|lake|lakes|land|"
    "landing|light|lights|lock|locks|lodge|mall|manor|manors|meadow|meadows|mews|mill|mills|"
    "mission|motorway|mount|mountain|mountains|neck|orchard|oval|overpass|park|parks|parkways|"
    "plain|plains|point|points|port|ports|prairie|radial|ramp|ranch|rapid|rapids|rest|ridge|"
    "ridges|river|roads|route|shoal|shoals|shore|shores|skyway|spring|springs|spur|spurs|"
    "squares|station|stravenue|stream|streets|summit|throughway|trace|track|trafficway|tunnel|"
    "turnpike|underpass|union|unions|valley|valleys|viaduct|ville|vista|vistas|walks|wall|ways|"
    "well|wells|pine|pines|village|villages|rue|pointe|plaza|port|squares|underpass"
)
STREET_TYPES = _STREET_TYPES  # the free-text street pattern (piiscan.entities) uses them
_STREET = re.compile(
    rf"^\s*\d{{1,6}}[A-Za-z]?\s+(?:[A-Za-zÀ-ÿ0-9.'-]+\s+){{0,5}}(?:{_STREET_TYPES})\b\.?"
    r"|^\s*\d{1,6}\s+.+,\s*[^,]+,\s*[A-Z]{2}\s+\d{5}(?:-\d{4})?\s*$"  # ..., City, ST 12345
    # A unit after a house number and a street name; a unit alone ("telematics unit 1234",
    # "suite 3" of a product) is no address.
    r"|^\s*\d{1,6}[A-Za-z]?\s+(?:[A-Za-zÀ-ÿ.'-]+\s+){1,4}(?:apt|suite|ste|unit)\.?\s*#?\d+",
    re.IGNORECASE,
)
# European and Latin American street words: German ones end compound words (Hauptstraße,
# Pieperring); the others stand as words of their own.
_STREET_SUFFIXES_DE = r"stra(?:ß|ss)e|str\.|weg|platz|gasse|allee|ring|damm|ufer|chaussee|steig"
_STREET_WORDS_EU = (
    r"rue|avenue|boulevard|chemin|allée|impasse|place|quai|cours|route|montée|"
    r"calle|callejón|avenida|plaza|paseo|ronda|camino|pasaje|glorieta|carretera|cuesta|"
    r"alameda|vía|via|urbanización|rambla|travesía|diagonal|periférico|viaducto|"
    r"continuación|circuito|calzada|andador|cerrada|privada|prolongación|retorno|cañada|"
    r"acceso|pasadizo|corredor|eje vial"
)
_STREET_EU = re.compile(
    rf"(?:{_STREET_SUFFIXES_DE})(?![^\W\d_])|\b(?:{_STREET_WORDS_EU})\b", re.IGNORECASE
)
_HOUSE_NUMBER = re.compile(r"\b\d{1,5}")


def digits(value: str) -> str:
    """The value without the separators people put in identifiers and numbers."""
    return _NON_DIGITS.sub("", value)


def luhn_ok(number: str) -> bool:
    """Whether a digit string passes the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def is_imei(value: str) -> bool:
    """15-digit IMEI (TAC + serial + Luhn digit), plain or dashed; not all one digit."""
    number = digits(value)
    return len(number) == 15 and number.isdigit() and len(set(number)) > 1 and luhn_ok(number)


def is_imeisv(value: str) -> bool:
    """16-digit IMEISV: TAC + serial + software version (no check digit). A number written in
    four groups of four, or one that is a valid payment card number, is a card's."""
    number = digits(value)
    if _GROUPED_4.match(value.strip()) or is_card_number(number):
        return False
    return (
        len(number) == 16
        and number.isdigit()
        and len(set(number)) > 2
        and number[:2]
        in (
            "01",
            "35",
            "86",
            "99",
            "30",
            "33",
            "44",
            "45",
            "49",
            "50",
            "51",
            "52",
            "53",
            "54",
        )
    )


def is_meid(value: str) -> bool:
    """MEID: 14 hex digits with a regional code of A0 or more (decimal 14-digit is ambiguous)."""
    text = value.strip().upper()
    return (
        len(text) == 14
        and _HEX14.fullmatch(text) is not None
        and text[:2] >= "A0"
        and any(c in "ABCDEF" for c in text)
    )


def is_device_id(value: str) -> bool:
    """What carriers report as a device's IMEI: an IMEI, an IMEISV or an MEID."""
    return is_imei(value) or is_imeisv(value) or is_meid(value)


def is_iccid(value: str) -> bool:
    """ICCID: 89 + 17-18 digits with Luhn; a missing check digit or trailing F is tolerated."""
    text = digits(value).upper().removesuffix("F")
    if not (text.isdigit() and text.startswith("89")):
        return False
    if len(text) in (19, 20):
        return luhn_ok(text) or len(text) == 19  # 19 digits: some feeds drop the check digit
    return len(text) == 18  # 18 digits + leaked F, or no check digit on a 19-digit body


@lru_cache(maxsize=4096)
def _imsi_operator(prefix6: str) -> bool:
    try:
        info = stdnum_imsi.info(prefix6 + "0" * 9)
    except Exception:  # stdnum raises its own ValidationError family
        return False
    if info.get("mcc") in ("001", "999"):  # test networks and internal use
        return False
    return bool(info.get("operator") or info.get("brand"))


def is_imsi(value: str) -> bool:
    """IMSI: 14-15 digits whose MCC/MNC belongs to a known operator."""
    number = digits(value)
    return number.isdigit() and len(number) in (14, 15) and _imsi_operator(number[:6])


def _valid_number(text: str, region: str | None) -> bool:
    try:
        return bool(phonenumbers.is_valid_number(phonenumbers.parse(text, region)))
    except phonenumbers.NumberParseException:
        return False


def is_phone(value: str, regions: Iterable[str] = REGIONS) -> bool:
    """A telephone number: international (+ or 00), NANP (10 or 1+10 digits, formatted or bare),
    national with a trunk 0 (GB, DE, FR), or an international number that lost its + (integer
    columns). Validity is libphonenumber's, so the area code must exist."""
    text = value.strip()
    number = digits(text)
    if not number.isdigit() or not 7 <= len(number) <= 15:
        return False
    if text.startswith("+"):
        return _valid_number(text, None)
    if number.startswith("00"):
        return _valid_number("+" + number[2:], None)
    if number.startswith("0"):
        return any(_valid_number(number, r) for r in regions if r not in ("US", "CA"))
    nanp = len(number) == 10 or (len(number) == 11 and number[0] == "1")
    if nanp and _valid_number(number, "US"):
        return True
    return len(number) >= 10 and _valid_number("+" + number, None)


def is_phone_shaped(value: str) -> bool:
    """Written like a telephone number, whether or not libphonenumber knows its range: NANP
    (area code and exchange by the numbering rules: fictional 555 numbers and new area codes
    pass) or E.164 (+, a country code, 8 to 15 digits). One random 10-digit id in two passes:
    the detector counts this only when nearly every value of a column does."""
    text = value.strip()
    if not _WRITTEN_NUMBER.match(text):
        return False
    number = digits(text)
    if text.startswith("+"):
        if number.startswith("1"):
            return len(number) == 11 and _NANP_SHAPE.match(number) is not None
        return 8 <= len(number) <= 15 and any(number[:n] in _E164_CODES for n in (1, 2, 3))
    return len(number) in (10, 11) and _NANP_SHAPE.match(number) is not None


def is_phone_possible(value: str) -> bool:
    """Under a header naming a phone: a valid number, one shaped by the numbering rules, or an
    international number (with or without its +, as integer columns lose it) of a possible
    length for its country code, in a range libphonenumber does not list as assigned (UK
    07700 900xxx drama numbers, new ranges)."""
    if is_phone(value) or is_phone_shaped(value):
        return True
    number = digits(value.strip())
    if not number.isdigit() or not 8 <= len(number) <= 15 or number.startswith("0"):
        return False
    try:
        parsed = phonenumbers.parse("+" + number, None)
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_possible_number(parsed))


def is_email(value: str) -> bool:
    """An e-mail address."""
    return _EMAIL.match(value.strip()) is not None


def is_ip(value: str) -> bool:
    """An IPv4 or IPv6 address."""
    text = value.strip()
    if "." not in text and ":" not in text:  # neither form: no need to ask ipaddress
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def is_ssn(value: str) -> bool:
    """A US social security number that the SSA could have issued."""
    found = _SSN.match(value.strip())
    if not found:
        return False
    area, group, serial = found.group(1), found.group(3), found.group(4)
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def is_ssn_written(value: str) -> bool:
    """A social security number written AAA-GG-SSSS: the form that needs no header."""
    return _SSN_WRITTEN.match(value.strip()) is not None and is_ssn(value)


def is_credit_card(value: str) -> bool:
    """13-19 digits passing Luhn (collides with IMEIs and ICCIDs: needs a header)."""
    number = digits(value)
    return number.isdigit() and 13 <= len(number) <= 19 and luhn_ok(number)


def is_card_number(value: str) -> bool:
    """A payment card number: Luhn, and a brand's issuer prefix at a length that brand issues
    (an IMEI's 15 digits or an ICCID's 89 prefix are none)."""
    number = digits(value)
    if not (number.isdigit() and 13 <= len(number) <= 19 and len(set(number)) > 1):
        return False
    brand = any(p.match(number) and len(number) in lengths for p, lengths in _CARD_BRANDS)
    return brand and luhn_ok(number)


def is_iban(value: str) -> bool:
    """An IBAN: country code, check digits (mod 97) and the country's length and format."""
    text = value.strip()
    if not 15 <= len(text.replace(" ", "")) <= 34:
        return False
    # Every IBAN country is two letters: without them stdnum's registry look-up must fail.
    country = stdnum_iban.compact(text)[:2]
    if not (len(country) == 2 and country.isascii() and country.isalpha()):
        return False
    return bool(stdnum_iban.is_valid(text))


def is_street_address(value: str) -> bool:
    """A street address: house number and street type (US) or European street words."""
    if _HOUSE_NUMBER.search(value) is None:
        return False
    return _STREET.search(value) is not None or _STREET_EU.search(value) is not None


# A few letters and digits (E-12345), or a login (jdoe, jane.doe2); not a system's random key
# (4159892Bb42EBde: letters and digits mixed throughout).
_ID_SHAPE = re.compile(r"^[A-Za-z]{0,3}[-_]?\d{3,10}$|^[A-Za-z][A-Za-z._-]{1,30}\d{0,4}$")


_PREFIXED_ID = re.compile(r"^(?:EMP|EE|HR)[-_]?\d{4,8}$", re.IGNORECASE)


def is_prefixed_employee_id(value: str) -> bool:
    """An employee ID with a prefix only HR systems use (EMP-12345, HR004211); a lone letter
    (E123456) is as often an equipment or order code, so it needs the customer's pattern."""
    return _PREFIXED_ID.match(value.strip()) is not None


def is_id_shaped(value: str) -> bool:
    """Shaped like an identifier some HR system could issue: E-12345, jdoe, an e-mail."""
    return _ID_SHAPE.match(value) is not None or is_email(value)


_DIGIT = re.compile(r"\d")


def is_name_span(text: str, things: frozenset[str] = frozenset()) -> bool:
    """Whether a span the NER model tagged as a name can be one: no digits (ORD-95547957,
    INC2040913, a plan's tier 2), not only short capitals (GB, MB), and not headed by a thing's
    noun (`things`: "Flex Pool Tier", "Bill" of "Bill cycle"), the way a header's last word
    decides what a name names."""
    words = text.replace(",", " ").split()
    if not words or _DIGIT.search(text):
        return False
    if all(w.isupper() and len(w.strip(".")) <= 3 for w in words):
        return False
    return words[-1].strip(".'").lower() not in things
