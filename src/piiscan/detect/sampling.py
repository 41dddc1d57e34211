"""Sampling column values, bounding what a sample proves, and masking what a report shows."""

from __future__ import annotations

import math
import re

import polars as pl

from piiscan import entities


def sample_values(series: pl.Series, size: int, seed: int) -> list[str]:
    """Up to `size` distinct non-null values as text, in a seed-determined order."""
    if series.dtype in (pl.Date, pl.Datetime, pl.Time, pl.Duration, pl.Boolean, pl.Null):
        return []
    if series.dtype.is_float():
        whole = series.drop_nulls()
        whole = whole.filter(whole == whole.floor())
        series = whole.cast(pl.Int64, strict=False)
    elif isinstance(series.dtype, pl.Decimal):
        return []
    text = series.cast(pl.String, strict=False).drop_nulls().str.strip_chars()
    distinct = text.filter(text != "").unique()
    order = distinct.hash(seed=seed % (2**32))
    return distinct.gather(order.arg_sort()).head(size).to_list()


def wilson_lower(share: float, n: int, z: float = 1.96) -> float:
    """Lower bound of the true share given n sampled values: few values prove little."""
    if n == 0:
        return 0.0
    z2 = z * z
    centre = share + z2 / (2 * n)
    spread = z * math.sqrt(share * (1 - share) / n + z2 / (4 * n * n))
    return max(0.0, (centre - spread) / (1 + z2 / n))


def mask(value: str, entity: str | None) -> str:
    """A value with everything but a few characters hidden: ***-***-0147, J*** S****."""
    known = entities.get(entity) if entity else None
    style = known.mask if known else "tail"
    if style == "letters":
        return re.sub(r"(?<=\w)\w", "*", value)
    if style == "email" and "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    keep = 4 if len(value) > 8 else 2
    head = re.sub(r"[0-9A-Za-z]", "*", value[:-keep])
    return head + value[-keep:]


_PLACEHOLDER = re.compile(
    r"^(?:#?n/?a|none|null|nil|nan|unknown|unassigned|not assigned|not available|tbd|tba|pending|"
    r"redacted|\[redacted\]|<redacted>|masked|withheld|hidden|private|removed|see notes|"
    r"-+|_+|\.+|\?+|#+|0+|9+|x+|\*+)$",
    re.IGNORECASE,
)
_MASK_RUN = re.compile(r"[*•#]{2,}|[xX]{3,}")


def uninformative(value: str) -> bool:
    """A value that cannot confirm what its header says: a placeholder (N/A, TBD, 0000) or a
    masked value (***-***-0147, XXXX-XXXX-1234, J*** D**)."""
    text = value.strip()
    if _PLACEHOLDER.match(text):
        return True
    runs = _MASK_RUN.findall(text)
    if not runs:
        return False
    hidden = sum(len(run) for run in runs)
    shown = sum(1 for c in text if c.isalnum()) - sum(len(r) for r in runs if r[0] in "xX")
    return hidden >= shown
