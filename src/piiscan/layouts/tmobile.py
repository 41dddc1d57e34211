"""T-Mobile for Business usage detail."""

from __future__ import annotations

from piiscan.layouts.model import Layout, c

TMOBILE_USAGE = Layout(
    name="tmobile_usage_detail",
    carrier="tmobile",
    dataset="usage_events",
    file_pattern=r"^TMobile_Usage_\d+_\d{6}\.csv$",
    max_preamble=8,
    description="T-Mobile for Business usage detail, metadata rows before the header",
    columns=(
        c("Subscriber Number", "wireless_number", "phone", required=True),
        c("Date", "event_time_iso", required=True),
        c("Type", "kind", required=True),
        c("Party", "other_number", "dialed"),
        c("Direction", "direction"),
        c("Duration", "minutes", "number"),
        c("Data (KB)", "data_kb", "number"),
        c("Charge", "charge", "money", required=True),
    ),
)

LAYOUTS = (TMOBILE_USAGE,)
