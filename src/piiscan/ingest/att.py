"""AT&T steps: what the columns of the raw data, usage detail, pooling and device exports mean
together.

User-defined labels (UDLs) are the customer's own line attributes. In the raw data a FAN record
names them (`FAN User Defined Label n`: "COST CENTER", "FILE NUMBER") and each line record holds
their values (`Service ID n (UDL n - CTN Level)`); in the pooling report the label names are the
headers themselves. Either way a value lands in the canonical column its label names
(`LABEL_TARGETS`, by normalised label name); labels not named there stay extras.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from types import MappingProxyType

import polars as pl

from piiscan.ingest.convert import by_distinct, date_time
from piiscan.ingest.steps import SKIP, FileContext, Step, add_error, direction, with_kind
from piiscan.layouts.att import RAW_KB_COLUMNS, RAW_MESSAGE_COLUMNS
from piiscan.schema import snake_case

# Label name (lower case, words split on anything but letters and digits) -> canonical column.
# "File number" is the payroll (ADP) number of an employee.
LABEL_TARGETS: Mapping[str, str] = MappingProxyType(
    {
        "cost center": "cost_center",
        "cost centre": "cost_center",
        "cost center code": "cost_center",
        "employee id": "employee_id",
        "employee number": "employee_id",
        "employee no": "employee_id",
        "emp id": "employee_id",
        "file number": "employee_id",
    }
)
# A Section_n value naming what the next section field holds, in raw-data records.
SECTION_TARGETS: Mapping[str, str] = MappingProxyType(
    {"user name": "user_name", "employee name": "user_name"}
)
LEVELS = ("FAN", "BAN", "CTN")
UDLS = range(1, 5)
SECTIONS = range(1, 8)


def _normalized(text: pl.Expr) -> pl.Expr:
    """A label as compared: lower case, words split on anything but letters and digits."""
    return text.str.to_lowercase().str.replace_all(r"[^a-z0-9]+", " ").str.strip_chars()


def _label_name(text: str) -> str:
    return " ".join("".join(ch if ch.isalnum() else " " for ch in text.lower()).split())


def _targets_of(labels: pl.Series, targets: Mapping[str, str]) -> pl.Series:
    """Per row, the canonical column a label names (null: none)."""
    return by_distinct(
        labels,
        lambda v: _normalized(v).replace_strict(
            dict(targets), default=None, return_dtype=pl.String
        ),
    )


def _remember_labels(frame: pl.DataFrame, context: FileContext) -> None:
    """Label names given in this block (FAN records) serve the line records that follow."""
    for n in UDLS:
        named = frame[f"user_defined_label_{n}"].drop_nulls()
        if named.len():
            context.labels[f"udl{n}"] = str(named[-1])


def _fill(frame: pl.DataFrame, column: str, value: pl.Expr) -> pl.DataFrame:
    """The canonical column as delivered where it has a value, else `value`."""
    current = pl.col(column) if column in frame.columns else pl.lit(None, pl.String)
    return frame.with_columns(pl.coalesce(current.cast(pl.String), value).alias(column))


def _udl_values(
    frame: pl.DataFrame, context: FileContext, targets: Mapping[str, str]
) -> pl.DataFrame:
    """Service ID values moved into the canonical columns their labels name."""
    _remember_labels(frame, context)
    named: dict[int, pl.Series] = {}  # UDL n -> per row, the canonical column its label names
    for n in UDLS:
        known = context.labels.get(f"udl{n}")
        fallback = targets.get(_label_name(known)) if known else None
        target = _targets_of(frame[f"user_defined_label_{n}"], targets)
        target = target.fill_null(fallback) if fallback else target
        if target.null_count() < frame.height:  # else the values stay extras (service_id_n)
            named[n] = target
    for canonical in set(targets.values()):
        values = [
            pl.when(target == canonical).then(pl.col(f"service_id_{n}"))
            for n, target in named.items()
        ]
        if values:
            frame = _fill(frame, canonical, pl.coalesce(values))
    return frame.with_columns(
        pl.when(target.is_null()).then(pl.col(f"service_id_{n}")).alias(f"service_id_{n}")
        for n, target in named.items()
    )


def _section_values(frame: pl.DataFrame, targets: Mapping[str, str]) -> pl.DataFrame:
    """Where Section_k names a field (`User Name`), Section_k+1 holds its value: moved into the
    canonical column, so a person's name does not sit in a generic extras column."""
    for k in SECTIONS[:-1]:
        here, after = f"section_{k}", f"section_{k + 1}"
        target = _targets_of(frame[here], targets)
        if target.null_count() == frame.height:
            continue
        frame = frame.with_columns(target.alias("_target"))
        for canonical in set(targets.values()):
            frame = _fill(
                frame, canonical, pl.when(pl.col("_target") == canonical).then(pl.col(after))
            )
        frame = frame.with_columns(
            pl.when(pl.col("_target").is_null()).then(pl.col(after)).alias(after)
        ).drop("_target")
    return frame


def _total(columns: list[str]) -> pl.Expr:
    """The sum of columns, null where all are null."""
    present = pl.any_horizontal([pl.col(c).is_not_null() for c in columns])
    return pl.when(present).then(pl.sum_horizontal(columns))


def raw_data(
    frame: pl.DataFrame,
    context: FileContext,
    targets: Mapping[str, str] = LABEL_TARGETS,
) -> pl.DataFrame:
    """Line (CTN) records are invoice lines; FAN and BAN records are account summaries, counted
    as skipped. UDL and section values land in the canonical columns they name."""
    level = pl.col("billing_entity_level").str.to_uppercase()
    frame = frame.with_columns(level.is_in(["FAN", "BAN"]).alias(SKIP))
    frame = add_error(
        frame,
        pl.when(level.is_not_null() & ~level.is_in(LEVELS)).then(
            pl.lit("column 'Billing Entity Level': expected FAN, BAN or CTN")
        ),
    )
    frame = _section_values(_udl_values(frame, context, targets), SECTION_TARGETS)
    kb = [snake_case(h) for h in RAW_KB_COLUMNS]
    messages = [snake_case(h) for h in RAW_MESSAGE_COLUMNS]
    return frame.with_columns(
        pl.coalesce("invoice_number", "fan_invoice_number").alias("invoice_number"),
        _total(kb).alias("data_kb"),
        _total(messages).alias("messages"),
    )


def usage_detail(frame: pl.DataFrame, context: FileContext) -> pl.DataFrame:
    """Date and 24-hour time make the event time; Source (Voice/Data/Messaging) the kind, inferred
    from the other columns where blank; a message's other party is its MSG sent to/received from."""
    stamp = date_time(frame["event_date"], frame["event_clock"], "%m/%d/%Y", "%H:%M")
    frame = frame.with_columns(stamp.alias("event_time"))
    if stamp.null_count():
        frame = add_error(
            frame,
            pl.when(pl.col("event_time").is_null()).then(
                pl.lit("columns 'Date'/'Time': expected MM/DD/YYYY and 24-hour HH:MM")
            ),
        )
    sent, received = pl.col("msg_sent_to"), pl.col("msg_received_from")
    delivered = direction(frame, {"IN": "in", "OUT": "out", "I": "in", "O": "out"})
    frame = frame.with_columns(
        pl.coalesce(
            delivered,
            pl.when(sent.is_not_null()).then(pl.lit("out")),
            pl.when(received.is_not_null()).then(pl.lit("in")),
        ).alias("direction")
    )
    messaging = sent.is_not_null() | received.is_not_null()
    inferred = (
        pl.when(messaging)
        .then(pl.lit("Messaging"))
        .when(pl.col("data_kb").fill_null(0) > 0)
        .then(pl.lit("Data"))
        .when(pl.col("minutes").fill_null(0) > 0)
        .then(pl.lit("Voice"))
    )
    frame = frame.with_columns(
        pl.coalesce(pl.col("kind"), inferred).alias("kind"),
        pl.coalesce(
            pl.col("other_number"),
            pl.when(pl.col("direction") == "in").then(received).otherwise(sent),
            received,
        ).alias("other_number"),
    )
    frame = add_error(
        frame,
        pl.when(pl.col("kind").is_null()).then(
            pl.lit("column 'Source': blank, and no usage to tell voice, data or messaging")
        ),
    )
    kinds = {"Voice": "voice", "Data": "data", "Messaging": "sms", "Text": "sms", "SMS": "sms"}
    events = pl.col("total_number_of_events")
    return (
        with_kind(frame.with_columns(pl.lit(0, pl.Int64).alias("messages")), kinds, "Source")
        .with_columns(
            pl.when(pl.col("kind") == "sms")
            .then(pl.when(events > 0).then(events).otherwise(1))
            .otherwise(0)
            .cast(pl.Int64)
            .alias("messages")
        )
        .drop("event_date", "event_clock", "msg_sent_to", "msg_received_from")
    )


def pooling(
    frame: pl.DataFrame,
    context: FileContext,
    targets: Mapping[str, str] = LABEL_TARGETS,
) -> pl.DataFrame:
    """One row per line per cycle. The cycle is the market cycle end date (else the period end
    date); the charge is the line's gross pooled usage, Data charges + Airtime charges, before the
    pooling credits (kept as extras, so the net is charge + total data/voice pooling credit).
    Columns headed by a UDL name land in the canonical column it names."""
    account = pl.col("account_and_descriptions").str.extract(r"^\s*([^\s(]+)", 1)
    charges = ["data_charges", "airtime_charges"]
    frame = frame.with_columns(
        pl.coalesce("account_number", account).alias("account_number"),
        pl.coalesce("market_cycle_end_date", "period_end_date").alias("bill_cycle_date"),
        _total(charges).alias("charge"),
    )
    frame = add_error(
        frame,
        pl.when(pl.col("bill_cycle_date").is_null()).then(
            pl.lit("columns 'Market cycle end date'/'Period end date': one of them is required")
        ),
    )
    for column in list(frame.columns):
        target = targets.get(_label_name(column))
        if target is not None and target != column:
            frame = _fill(frame, target, pl.col(column)).drop(column)
    return frame


def devices(frame: pl.DataFrame, context: FileContext) -> pl.DataFrame:
    """The report date and account come from the file name."""
    return frame.with_columns(
        pl.lit(context.name_date(), pl.Date).alias("report_date"),
        pl.lit(context.name_match(r"^ATT_DeviceReport_(\d+)_")).alias("account_number"),
    )


def with_label_targets(targets: Mapping[str, str]) -> dict[str, Step]:
    """The steps of the layouts with UDLs, mapping label names by `targets` instead of the
    defaults (a customer whose labels are named otherwise)."""
    return {
        "att_premier_raw_data": partial(raw_data, targets=targets),
        "att_pooling": partial(pooling, targets=targets),
    }
