"""Recognising a delivered file's layout from its name and its header."""

from __future__ import annotations

from piiscan.errors import EncodingError, LayoutError, SchemaError
from piiscan.ingest.reader import Header, decode_head, find_header, missing_columns
from piiscan.layouts import LAYOUTS, Layout, normalize


def detect_text(name: str, head: bytes) -> tuple[Layout, Header]:
    """The layout and header of a delimited text file, from its name and first lines."""
    # A reference layout (no dataset) comes last: its few required columns may also head a
    # dataset's files (Verizon's three shared ones), whose rows must not be skipped as reference.
    text_layouts = sorted(
        (lay for lay in LAYOUTS if lay.format == "csv"), key=lambda lay: lay.dataset is None
    )
    named = [lay for lay in text_layouts if lay.matches_name(name)]
    for layout in named:
        header = find_header(decode_head(head, layout, name), layout, name)
        if header is not None and layout.dataset is None:  # a dataset's header wins
            datasets = [lay for lay in text_layouts if lay.dataset is not None]
            return _by_header(datasets, name, head) or (layout, header)
        if header is not None:
            return layout, header
    if named:
        layout = named[0]
        missing = missing_columns(decode_head(head, layout, name), layout)
        raise SchemaError(
            name,
            f"header lacks required column(s) {', '.join(map(repr, missing))} of layout "
            f"{layout.name}",
        )
    found = _by_header(text_layouts, name, head)  # a renamed file: its header alone
    if found is None:
        raise LayoutError(name, "no known layout matches the file name or the header")
    return found


def _by_header(layouts: list[Layout], name: str, head: bytes) -> tuple[Layout, Header] | None:
    """The first of these layouts whose header the file has."""
    for layout in layouts:
        try:
            header = find_header(decode_head(head, layout, name), layout, name)
        except EncodingError:
            continue
        if header is not None:
            return layout, header
    return None


def detect_columns(name: str, columns: tuple[str, ...], fmt: str) -> Layout:
    """The layout of an XLSX or Parquet file from its name and column names."""
    normalized = [normalize(c) for c in columns]
    repeated = sorted({c for c in columns if normalized.count(normalize(c)) > 1})
    if repeated:
        raise SchemaError(name, f"column {repeated[0]!r} appears more than once in the header")
    candidates = [lay for lay in LAYOUTS if lay.format == fmt]
    named = [lay for lay in candidates if lay.matches_name(name)]
    ordered = [*named, *[c for c in candidates if c not in named]]
    for layout in sorted(ordered, key=lambda lay: lay.dataset is None):  # reference last
        if {normalize(h) for h in layout.signature} <= set(normalized):
            return layout
    if named:
        missing = [h for h in named[0].signature if normalize(h) not in normalized]
        raise SchemaError(
            name,
            f"lacks required column(s) {', '.join(map(repr, missing))} of layout {named[0].name}",
        )
    raise LayoutError(name, "no known layout matches the file name or the columns")
