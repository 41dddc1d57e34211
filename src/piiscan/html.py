"""The report as one self-contained HTML page: no external asset, no request, opens from disk or S3.

Summary first (what needs review), then small charts drawn as inline SVG, then one sortable table
per dataset with changes since the previous run highlighted. Everything shown comes from the
JSON document, which holds no raw value; Jinja2 escapes every string it inserts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from piiscan.report import describe

BAR_WIDTH = 260
UNREAD = "not due (unread)"  # rows of partitions inside retention, counted from footers
ROW_HEIGHT = 22


@cache
def environment() -> Environment:
    """The Jinja environment of the HTML pages (templates/, autoescaped, report filters); one
    per process, so each template is compiled once, not once per report (Jinja reloads a
    template whose file changed)."""
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["evidence"] = evidence_text
    env.filters["describe"] = describe
    return env


def bar_chart(pairs: Sequence[tuple[str, int]], title: str, empty: str = "none") -> Markup:
    """A horizontal bar chart as inline SVG (labels escaped)."""
    if not pairs:
        return Markup('<p class="muted">{}</p>').format(empty)
    top = max(value for _, value in pairs) or 1
    height = ROW_HEIGHT * len(pairs) + 4
    parts = [
        f'<svg class="chart" role="img" width="{BAR_WIDTH + 230}" height="{height}" '
        f'viewBox="0 0 {BAR_WIDTH + 230} {height}">',
        f"<title>{escape(title)}</title>",
    ]
    for index, (label, value) in enumerate(pairs):
        y = index * ROW_HEIGHT + 2
        width = max(round(BAR_WIDTH * value / top), 1 if value else 0)
        parts.append(
            f'<text x="150" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="158" y="{y + 3}" width="{width}" height="{ROW_HEIGHT - 8}" rx="2"></rect>'
            f'<text x="{164 + width}" y="{y + 15}">{value:,}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def column_chart(pairs: Sequence[tuple[str, int]], title: str) -> Markup:
    """Vertical bars over time (one per run), labels under the first and last bar."""
    if not any(value for _, value in pairs):
        return Markup('<p class="muted">no rows purged in the last {} run(s)</p>').format(
            len(pairs)
        )
    top = max(value for _, value in pairs)
    step = max(min(24, 480 // len(pairs)), 6)
    width, height = step * len(pairs) + 40, 140
    parts = [
        f'<svg class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="12">{top:,}</text><line x1="30" y1="110" x2="{width}" y2="110"></line>',
    ]
    for index, (label, value) in enumerate(pairs):
        bar = round(90 * value / top)
        x = 34 + index * step
        parts.append(
            f'<rect x="{x}" y="{110 - bar}" width="{step - 3}" height="{bar}">'
            f"<title>{escape(label)}: {value:,}</title></rect>"
        )
    parts.append(f'<text x="34" y="128">{escape(pairs[0][0])}</text>')
    if len(pairs) > 1:
        parts.append(f'<text x="{width}" y="128" text-anchor="end">{escape(pairs[-1][0])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def evidence_text(evidence: Mapping[str, Any]) -> str:
    """The evidence in a few words: sample, the best scores, header, masked examples."""
    if evidence.get("free_text"):
        found = ", ".join(f"{e} x{n}" for e, n in evidence.get("entities", {}).items())
        return f"free text, {evidence.get('sampled', 0)} values read: {found or 'nothing found'}"
    parts = [f"{evidence.get('sampled', 0)} sampled"]
    for entity, score in list(evidence.get("scores", {}).items())[:2]:
        parts.append(
            f"{entity} {round(100 * score['share'])}% valid, {score['distinct_matches']} distinct"
        )
    if evidence.get("header_supports"):
        parts.append("header says " + "/".join(evidence["header_supports"]))
    if evidence.get("header_contradicts"):
        parts.append("header says otherwise")
    if evidence.get("examples"):
        parts.append("e.g. " + ", ".join(evidence["examples"]))
    if evidence.get("reason"):
        parts.append(str(evidence["reason"]))
    return "; ".join(parts)


def charts(document: Mapping[str, Any]) -> dict[str, Markup]:
    """The report's three charts."""
    pii = [
        (dataset, sum(1 for c in body["columns"] if c["entity"]))
        for dataset, body in document["datasets"].items()
    ]
    kept = sorted((document["purge"].get("rows_kept") or {}).items(), key=lambda kv: -kv[1])
    if document["purge"].get("rows_not_due_unread"):
        kept.append((UNREAD, document["purge"]["rows_not_due_unread"]))
    history = [(h["generated_at"][:10], h["rows_deleted"]) for h in document.get("history", [])]
    return {
        "pii": bar_chart(pii, "Personal-data columns per dataset", "no dataset"),
        "kept": bar_chart(kept, "Restricted rows kept, by hold or reason", "no rows read"),
        "purged": column_chart(history, "Rows purged per run"),
    }


def render_html(document: Mapping[str, Any]) -> str:
    """The report document as one HTML page."""
    template = environment().get_template("report.html.j2")
    pii_total = sum(
        1 for body in document["datasets"].values() for c in body["columns"] if c["entity"]
    )
    rejected_items = {  # a file's rejected rows, for its line in the ingest table
        item["file"]: item
        for item in document["review"].get("files", [])
        if item["kind"] == "rejected_rows"
    }
    return template.render(
        doc=document, charts=charts(document), pii_total=pii_total, rejected_items=rejected_items
    )
