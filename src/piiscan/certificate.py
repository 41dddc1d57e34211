"""Deletion certificates for the controller at account termination (JSON and HTML, no PII)."""

from __future__ import annotations

import html
from collections import Counter
from datetime import date
from typing import Any


def _area(key: str) -> str:
    """The part of the lake an object was in: a zone, landing, quarantine, reports, exports..."""
    first, _, rest = key.partition("/")
    if first == "restricted" and rest.split("/", 1)[0] in ("requests", "exports"):
        return rest.split("/", 1)[0]
    return first


def build_certificate(
    customer: str,
    effective: date,
    entry: dict[str, Any],
    remaining: dict[str, int],
    key_status: str,
    *,
    entries: list[dict[str, Any]] | None = None,
    remaining_by_zone: dict[str, dict[str, int]] | None = None,
    objects_remaining: dict[str, int] | None = None,
    supersedes: str | None = None,
) -> dict[str, Any]:
    """What was deleted (per zone and dataset, and objects per area), what remains under which
    hold in each zone, and the ledger entries that prove it. entries: every ledger entry this
    certificate covers (default: entry, the last, which it anchors); supersedes: the
    certificate written before it for the customer, if any."""
    covered = entries or [entry]
    deleted: Counter[str] = Counter()
    by_zone: Counter[str] = Counter()
    objects: Counter[str] = Counter()
    for item in covered:
        for record in item["files"]:
            deleted[f"{record['zone']}/{record['dataset']}"] += record["rows_deleted"]
            by_zone[record["zone"]] += record["rows_deleted"]
            if record["action"] == "drop":
                objects[_area(record["key"])] += 1
        for record in item.get("quarantine_files", []):  # rejected rows (a subject erasure)
            deleted["quarantine/rejected rows"] += record["rows_deleted"]
            by_zone["quarantine"] += record["rows_deleted"]
            if record.get("written_sha256") is None:
                objects["quarantine"] += 1
        for other in item["other_objects_removed"]:
            objects[_area(other["key"])] += 1
    return {
        "certificate": "deletion at end of contract (GDPR Art. 28(3)(g))",
        "customer": customer,
        "effective_date": effective.isoformat(),
        "issued_at": entry["at"],
        "policy_version": entry["policy_version"],
        "rows_deleted": dict(sorted(deleted.items())),
        "rows_deleted_by_zone": dict(sorted(by_zone.items())),
        "objects_deleted": sum(objects.values()),
        "objects_deleted_by_area": dict(sorted(objects.items())),
        "rows_remaining_under_hold": remaining,
        "rows_remaining_by_zone": remaining_by_zone or {},
        "objects_remaining": objects_remaining or {},
        "pseudonymization_key": key_status,
        "ledger": {"seq": entry["seq"], "hash": entry["hash"], "prev_hash": entry["prev_hash"]},
        "ledger_entries": [item["seq"] for item in covered],
        "supersedes": supersedes,
    }


def render_html(certificate: dict[str, Any]) -> str:
    """A self-contained HTML page of the certificate."""

    def rows(mapping: dict[str, Any]) -> str:
        return (
            "".join(
                f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>"
                for k, v in mapping.items()
            )
            or "<tr><td colspan=2>none</td></tr>"
        )

    c = certificate
    who, when = html.escape(c["customer"]), html.escape(c["effective_date"])
    key, version = html.escape(c["pseudonymization_key"]), html.escape(c["policy_version"])
    seq, digest, previous = c["ledger"]["seq"], c["ledger"]["hash"], c["ledger"]["prev_hash"]
    zones = {
        f"{zone}: {reason}": n
        for zone, counts in c.get("rows_remaining_by_zone", {}).items()
        for reason, n in counts.items()
    }
    supersedes = c.get("supersedes")
    earlier = (
        f"This certificate follows <code>{html.escape(supersedes)}</code> (a rerun). "
        if supersedes
        else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Deletion certificate · {who}</title>
<style>body{{font:15px/1.5 system-ui,sans-serif;max-width:760px;margin:2em auto;color:#222}}
table{{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}}
td{{border-bottom:1px solid #ddd;padding:.3em .5em}}
code{{font-size:12px;word-break:break-all}}</style></head><body>
<h1>Deletion certificate</h1>
<p>Customer <b>{who}</b>: all personal data held on its behalf was deleted on <b>{when}</b>
(end of contract, GDPR Art. 28(3)(g)), except what the holds below still require.</p>
<h2>Rows deleted</h2><table>{rows(c["rows_deleted"])}</table>
<h2>Rows deleted per zone</h2><table>{rows(c.get("rows_deleted_by_zone", {}))}</table>
<h2>Objects deleted</h2><table>{rows(c.get("objects_deleted_by_area", {}))}</table>
<h2>Rows kept under a hold</h2><table>{rows(c["rows_remaining_under_hold"])}</table>
<h2>Rows remaining per zone</h2><table>{rows(zones)}</table>
<h2>Objects remaining (landing, quarantine)</h2>
<table>{rows(c.get("objects_remaining", {}))}</table>
<p>{earlier}Objects deleted: {c["objects_deleted"]}. Pseudonymization key: {key}.
Policy version {version}; issued {html.escape(c["issued_at"])}.</p>
<h2>Proof</h2><p>Ledger entries {html.escape(str(c.get("ledger_entries", [seq])))}; the last,
{seq}: <code>{digest}</code>, chained to <code>{previous}</code>.
<code>piiscan ledger verify</code> recomputes the chain.</p>
</body></html>
"""
