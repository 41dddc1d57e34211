"""Recognising a delivered file's layout from its name and its header."""

from __future__ import annotations

from piiscan.errors import EncodingError, LayoutError, SchemaError
from piiscan.ingest.reader import Header, decode_head, find_header, missing_columns
from piiscan.layouts import LAYOUTS, Layout, normalize


def detect_text(name: str, head: bytes) -> tuple[Layout, Header]:
    """The layout and header of a delimited text file, from its name and first lines."""
    text_layouts = [lay for lay in LAYOUTS if lay.format == "csv"]
    named = [lay for lay in text_layouts if lay.matches_name(name)]
    for layout in named:
        header = find_header(decode_head(head, layout, name), layout, name)
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
    for layout in text_layouts:  # a renamed file: recognise it by its header alone
        try:
            header = find_header(decode_head(head, layout, name), layout, name)
        except EncodingError:
            continue
        if header is not None:
            return layout, header
    raise LayoutError(name, "no known layout matches the file name or the header")


def detect_columns(name: str, columns: tuple[str, ...], fmt: str) -> Layout:
    """The layout of an XLSX or Parquet file from its name and column names."""
    normalized = [normalize(c) for c in columns]
    repeated = sorted({c for c in columns if normalized.count(normalize(c)) > 1})
    if repeated:
        raise SchemaError(name, f"column {repeated[0]!r} appears more than once in the header")
    candidates = [lay for lay in LAYOUTS if lay.format == fmt]
    named = [lay for lay in candidates if lay.matches_name(name)]
    for layout in [*named, *[c for c in candidates if c not in named]]:
        if {normalize(h) for h in layout.signature} <= set(normalized):
            return layout
    if named:
        missing = [h for h in named[0].signature if normalize(h) not in normalized]
        raise SchemaError(
            name,
            f"lacks required column(s) {', '.join(map(repr, missing))} of layout {named[0].name}",
        )
    raise LayoutError(name, "no known layout matches the file name or the columns")
