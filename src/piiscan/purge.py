"""What a purge does to one file's rows (pure): each row's decision, the plan types, and the
rewrite that keeps held rows with only the columns their hold needs. piiscan.pipeline.purge reads
the lake, plans, applies and ledgers.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import polars as pl

from piiscan.errors import KeyMaterialError, PurgeError
from piiscan.holds import Hold
from piiscan.policy import Config
from piiscan.pseudonymize import Key, tokens
from piiscan.retention import DECISION, DELETE, PSEUDONYMIZE, Rules, billing_needed, decide
from piiscan.schema import KNOWN_ENTITIES

TOKEN = r"^k\d+-[0-9a-f]{32}$"
_TOKEN_COLUMN = "_line_token"
_BILLING = "_billing"
PERSONAL = tuple(KNOWN_ENTITIES)
_DROPPED = ("PERSON", "EMAIL_ADDRESS", "LOCATION")  # held rows lose these; others become tokens
TOKENISED = tuple(c for c in PERSONAL if KNOWN_ENTITIES[c] not in _DROPPED)


@dataclass(frozen=True)
class FilePlan:
    """One file's due rows."""

    zone: str
    dataset: str
    period: str
    key: str
    sha256: str
    rows: int
    decisions: dict[str, int]  # decision -> rows
    action: str  # drop | rewrite

    @property
    def deleted(self) -> int:
        """Rows this plan deletes."""
        return self.decisions.get(DELETE, 0)


@dataclass(frozen=True)
class Decided:
    """A planned file's row decisions, carried in memory from plan to apply so applying does
    not decide every row again; used only for the same content (sha256) under equal rules.
    Never serialised: a plan read back from JSON decides again."""

    rules: Rules
    sha256: str
    columns: pl.DataFrame  # DECISION and the billing flag, one row per row of the file


@dataclass(frozen=True)
class PurgePlan:
    """What a purge would do; applying it changes exactly this."""

    customer: str
    as_of: date
    policy_version: str
    terminated: date | None
    files: tuple[FilePlan, ...]
    kept: dict[str, int]  # restricted rows kept per hold/decision in the partitions read
    partitions_read: int
    partitions_skipped: int
    other_keys: tuple[str, ...]  # landing, quarantine and report objects past their period
    reasons: dict[str, str] = field(default_factory=dict)  # decision -> why, for people
    # A digest of every object of the customer the plan looked at: applying refuses a plan
    # whose lake has changed since (None: only the planned files' checksums are checked).
    listing: str | None = None
    # Rows kept per zone and decision in the partitions read (the analytics zone mirrors the
    # restricted one): what a termination certificate says remains.
    kept_by_zone: dict[str, dict[str, int]] = field(default_factory=dict)
    # Restricted rows in the partitions skipped unread (inside retention, counted from their
    # Parquet footers): with `kept` and what is deleted, every restricted row is accounted for.
    unread_rows: int = 0
    # file key -> its decisions, for files to rewrite (see Decided); not part of the plan's
    # identity or JSON form.
    decided: dict[str, Decided] = field(default_factory=dict, compare=False, repr=False)

    @property
    def nothing_due(self) -> bool:
        """True when applying would change nothing."""
        return not self.files and not self.other_keys

    def as_json(self) -> dict[str, Any]:
        """PII-free JSON form (keys hold ids, datasets, periods and checksums only)."""
        return {
            "customer": self.customer,
            "as_of": self.as_of.isoformat(),
            "policy_version": self.policy_version,
            "terminated": self.terminated.isoformat() if self.terminated else None,
            "partitions_read": self.partitions_read,
            "partitions_skipped_unread": self.partitions_skipped,
            "rows_not_due_unread": self.unread_rows,
            "rows_deleted": sum(f.deleted for f in self.files),
            "rows_kept": self.kept,
            "files": [asdict(f) for f in self.files],
            "other_objects": list(self.other_keys),
            "reasons": self.reasons,
            "listing": self.listing,
            "rows_kept_by_zone": self.kept_by_zone,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PurgePlan:
        """The plan as_json described (a flow passes plans between its tasks this way)."""
        return cls(
            customer=data["customer"],
            as_of=date.fromisoformat(data["as_of"]),
            policy_version=data["policy_version"],
            terminated=date.fromisoformat(data["terminated"]) if data["terminated"] else None,
            files=tuple(FilePlan(**f) for f in data["files"]),
            kept=dict(data["rows_kept"]),
            partitions_read=data["partitions_read"],
            partitions_skipped=data["partitions_skipped_unread"],
            other_keys=tuple(data["other_objects"]),
            reasons=dict(data["reasons"]),
            listing=data.get("listing"),
            kept_by_zone={z: dict(c) for z, c in data.get("rows_kept_by_zone", {}).items()},
            unread_rows=data.get("rows_not_due_unread", 0),
        )


REASONS = {
    "legal": "legal hold: kept exactly as it is",
    "audit": "audit hold: kept exactly as it is",
    "tax": "tax retention: kept, personal columns pseudonymized",
    "billing": "open or disputed invoice, or inside the dispute window: kept, personal columns "
    "other than the wireless number pseudonymized (the wireless number too once the account "
    "is terminated)",
    "no_clock": "no date to run the retention clock from: kept (when in doubt, keep)",
    "active": "inside its retention period",
    "delete": "retention period over (or account terminated) and no hold",
}


def rules_for(
    config: Config,
    customer: str,
    dataset: str,
    as_of: date,
    holds: list[Hold],
    open_invoices: tuple[tuple[str, date], ...],
    terminated: date | None,
) -> Rules:
    """The decision inputs for one dataset of one customer."""
    assert config.retention is not None
    rule = config.rule(customer, dataset)
    return Rules(
        dataset=dataset,
        keep_months=rule.keep_months,
        clock=rule.clock,
        clock_fallback=rule.clock_fallback,
        as_of=as_of,
        terminated=terminated,
        tax_years=config.tax_years(customer),
        tax_datasets=tuple(config.retention.tax.datasets),
        billing_statuses=config.retention.billing.statuses,
        dispute_window_days=config.retention.billing.dispute_window_days,
        holds=tuple(holds),
        open_invoices=open_invoices,
    )


def needed_columns(rules: Rules, schema: list[str]) -> list[str]:
    """The columns of a file's schema that its decisions depend on."""
    wanted = {
        rules.clock,
        rules.clock_fallback,
        "bill_cycle_date",
        "invoice_status",
        "account_number",
        "wireless_number",
        *PERSONAL,
    }
    return [c for c in schema if c in wanted]


def _with_tokens(frame: pl.DataFrame, zone: str, key: Key | None, rules: Rules) -> pl.DataFrame:
    """A column with each row's line token, for holds that name wireless numbers."""
    if not any(h.number_tokens for h in rules.holds) or "wireless_number" not in frame.columns:
        return frame
    if zone == "analytics":
        return frame.with_columns(pl.col("wireless_number").alias(_TOKEN_COLUMN))
    if key is None:
        raise KeyMaterialError(rules.holds[0].customer, "needed to match holds on wireless numbers")
    mapping = tokens(frame["wireless_number"].drop_nulls().unique().to_list(), key, "PHONE_NUMBER")
    return frame.with_columns(
        pl.col("wireless_number")
        .replace_strict(mapping, default=None, return_dtype=pl.String)
        .alias(_TOKEN_COLUMN)
    )


def _decisions(frame: pl.DataFrame, zone: str, key: Key | None, rules: Rules) -> pl.DataFrame:
    frame = _with_tokens(frame, zone, key, rules)
    token = _TOKEN_COLUMN if _TOKEN_COLUMN in frame.columns else None
    # Once the account has ended no raw wireless number is kept for a billing dispute: rows
    # kept for tax or billing are pseudonymized whole at termination.
    ended = rules.terminated is not None and rules.as_of >= rules.terminated
    billing = pl.lit(False) if ended else billing_needed(rules, frame.columns)
    # Lazy, so that sub-expressions shared by the decision's branches are computed once.
    return (
        frame.lazy()
        .with_columns(
            decide(rules, frame.columns, token),
            billing.alias(_BILLING),
        )
        .collect()
    )


def _raw_personal(frame: pl.DataFrame, zone: str) -> pl.Expr:
    """Rows that still hold a personal value a tax or billing hold does not need."""
    if zone == "analytics":
        return pl.lit(False)
    raw = pl.lit(False)
    for column in PERSONAL:
        if column in frame.columns:
            value = pl.col(column).cast(pl.String)
            needed = pl.col(_BILLING) if column == "wireless_number" else pl.lit(False)
            raw |= value.is_not_null() & ~value.str.contains(TOKEN) & ~needed
    return raw


def _pseudonymize_held(
    frame: pl.DataFrame, key: Key | None, customer: str, retired: bool = False
) -> pl.DataFrame:
    """Tax and billing rows keep only what their holds need: identifiers become tokens, names,
    e-mails and addresses go; a row a billing dispute may need keeps its wireless number (even
    when tax is the stronger reason to keep it). The key is needed only for raw values still to
    tokenise; retired: the customer's key was destroyed (after termination), so such a value
    is removed instead of tokenised (KeyMaterialError otherwise)."""
    held = pl.col(DECISION).is_in(list(PSEUDONYMIZE))
    columns = []
    for column in PERSONAL:
        if column not in frame.columns:
            continue
        entity = KNOWN_ENTITIES[column]
        keep_raw = pl.col(_BILLING) if column == "wireless_number" else pl.lit(False)
        if entity in _DROPPED:
            replacement = pl.lit(None, pl.String)
        else:
            wanted = frame.filter(held & ~keep_raw)[column].drop_nulls().cast(pl.String).unique()
            raw = [v for v in wanted.to_list() if not _is_token(v)]
            value = pl.col(column).cast(pl.String)
            if not raw:
                replacement = value  # tokens already: nothing needs the key
            elif key is not None:
                replacement = value.replace(tokens(raw, key, entity))
            elif retired:
                replacement = pl.when(value.str.contains(TOKEN)).then(value)
            else:
                raise KeyMaterialError(
                    customer, "needed to pseudonymize rows kept for tax or billing"
                )
        columns.append(
            pl.when(held & ~keep_raw).then(replacement).otherwise(pl.col(column)).alias(column)
        )
    return frame.with_columns(columns) if columns else frame


def raw_tokenisable_rows(frame: pl.DataFrame) -> int:
    """Rows holding a raw value (not a token) in a column that pseudonymizing would tokenise:
    the rows that may still need the customer's key (a restricted frame)."""
    raw = pl.lit(False)
    for column in TOKENISED:
        if column in frame.columns:
            value = pl.col(column).cast(pl.String)
            raw |= value.is_not_null() & ~value.str.contains(TOKEN)
    return int(frame.select(raw.fill_null(False).sum()).item())


def _is_token(value: str) -> bool:
    return re.fullmatch(TOKEN, value) is not None


def decide_file(
    frame: pl.DataFrame, period: str, zone: str, key: Key | None, rules: Rules
) -> tuple[dict[str, int], str, pl.DataFrame]:
    """Rows per decision of one file's frame, what applying does to it: drop (every row is
    due), rewrite (some rows go, or held rows still hold personal values their hold does not
    need) or none; and each row's decision and billing flag (what rewrite_frame needs)."""
    decided = _decisions(frame.with_columns(pl.lit(period).alias("period")), zone, key, rules)
    counts = dict(decided[DECISION].value_counts().iter_rows())
    pseudo = decided.filter(
        pl.col(DECISION).is_in(list(PSEUDONYMIZE)) & _raw_personal(decided, zone)
    )
    deleted = counts.get(DELETE, 0)
    columns = decided.select(pl.col(DECISION).cast(pl.Categorical), _BILLING)
    if deleted == decided.height:
        return counts, "drop", columns
    return counts, "rewrite" if deleted or pseudo.height else "none", columns


def rewrite_frame(
    item: FilePlan,
    frame: pl.DataFrame,
    rules: Rules,
    key: Key | None,
    customer: str,
    retired: bool = False,
    decided: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The file's new content: due rows gone, held restricted rows pseudonymized where their
    hold allows (retired: the key is destroyed, see _pseudonymize_held); PurgeError when rows
    or schema differ from the plan. decided: the rows' decisions from planning (decide_file)
    for this very content and rules; None decides them here."""
    if decided is not None and decided.height == frame.height:
        period = pl.lit(item.period).alias("period")
        decided = frame.with_columns(decided[DECISION].cast(pl.String), decided[_BILLING], period)
    else:
        decided = _decisions(
            frame.with_columns(pl.lit(item.period).alias("period")), item.zone, key, rules
        )
    kept = decided.filter(pl.col(DECISION) != DELETE)
    if item.zone == "restricted":
        kept = _pseudonymize_held(kept, key, customer, retired)
    result = kept.drop(DECISION, _BILLING, "period", _TOKEN_COLUMN, strict=False)
    if result.height != item.rows - item.deleted or dict(result.schema) != dict(frame.schema):
        raise PurgeError(f"{item.key}: rewrite check failed (rows or schema differ from plan)")
    return result
