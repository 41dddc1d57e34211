"""Deletion certificates for the controller at account termination (JSON and HTML, no PII)."""

from __future__ import annotations

import html
from collections import Counter
from datetime import date
from typing import Any


def build_certificate(
    customer: str,
    effective: date,
    entry: dict[str, Any],
    remaining: dict[str, int],
    key_status: str,
) -> dict[str, Any]:
    """What was deleted, what remains under which hold, and the ledger entry that proves it."""
    deleted: Counter[str] = Counter()
    for record in entry["files"]:
        deleted[f"{record['zone']}/{record['dataset']}"] += record["rows_deleted"]
    return {
        "certificate": "deletion at end of contract (GDPR Art. 28(3)(g))",
        "customer": customer,
        "effective_date": effective.isoformat(),
        "issued_at": entry["at"],
        "policy_version": entry["policy_version"],
        "rows_deleted": dict(sorted(deleted.items())),
        "objects_deleted": len(entry["other_objects_removed"])
        + sum(1 for r in entry["files"] if r["action"] == "drop"),
        "rows_remaining_under_hold": remaining,
        "pseudonymization_key": key_status,
        "ledger": {"seq": entry["seq"], "hash": entry["hash"], "prev_hash": entry["prev_hash"]},
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
<h2>Rows kept under a hold</h2><table>{rows(c["rows_remaining_under_hold"])}</table>
<p>Objects deleted: {c["objects_deleted"]}. Pseudonymization key: {key}.
Policy version {version}; issued {html.escape(c["issued_at"])}.</p>
<h2>Proof</h2><p>Ledger entry {seq}: <code>{digest}</code>, chained to <code>{previous}</code>.
<code>piiscan ledger verify</code> recomputes the chain.</p>
</body></html>
"""
