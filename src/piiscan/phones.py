"""Wireless numbers in the one form the lake stores them: 10 NANP digits.

Every carrier and customer piiscan serves is on the North American Numbering Plan (US carriers,
Bell and Rogers in Canada), so `wireless_number` holds area code + exchange + line, without the
country code 1, punctuation or an extension. Ingest, holds and subject requests all normalize
through `canonical_numbers`, so a number written `+1 (212) 555-0147` by a person and
`212.555.0147 x12` by a carrier is the same value and the same token.

A text that is no NANP number (too few digits, letters, an impossible area code, another
country's number such as `+44 20 7946 0000`) has no canonical form: None, never a guess. Taking
the last ten digits of `+44 20 7946 0000` would give 207-946-0000, a Maine number.
"""

from __future__ import annotations

import polars as pl

# What a wireless number must look like, for error messages (which never show the value).
EXPECTED = (
    "a 10-digit wireless number (US or Canada, NANP: area code, exchange and line, "
    "10 digits with or without +1 or 1 before them and an extension after them)"
)

# An extension at the end: x12, ext. 12, extension 12, #12, ;ext=12 (RFC 3966), ,12 (a pause).
_EXTENSION = r"(?i)\s*(?:;\s*ext=|,|#|x|ext\.?|extn\.?|extension)\s*[0-9]{1,6}$"
# Digits and the punctuation people and carriers write, a + only in front. ASCII digits only:
# the regex engine's \d is Unicode.
_WRITTEN = r"^\+?[0-9\s().\-/]+$"
# Area code: 2-9 first, not N11, not N9X (reserved); exchange: 2-9 first (libphonenumber's rule).
_NANP = r"[2-9](?:[02-8][0-9]|1[02-9])[2-9][0-9]{2}[0-9]{4}"
# The country code as written: +1, 001 (dialled from abroad), or a bare trunk 1.
_NUMBER = rf"^(?:\+1|001|1)?({_NANP})$"


def canonical_numbers(text: pl.Expr) -> pl.Expr:
    """Each string's canonical wireless number (null when it is none); elementwise, so it
    can run once per distinct value."""
    plain = text.str.strip_chars().str.replace(_EXTENSION, "")
    digits = plain.str.replace_all(r"[^0-9]", "")
    marked = pl.when(plain.str.starts_with("+")).then(pl.lit("+") + digits).otherwise(digits)
    return pl.when(plain.str.contains(_WRITTEN)).then(marked.str.extract(_NUMBER, 1))


def canonical_number(text: str) -> str | None:
    """The canonical wireless number of one text (see `canonical_numbers`), or None."""
    value: str | None = pl.select(canonical_numbers(pl.lit(text, dtype=pl.String))).item()
    return value
