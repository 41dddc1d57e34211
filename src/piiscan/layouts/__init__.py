"""Carrier layouts as data, one module per carrier; the model is piiscan.layouts.model.

A layout is recognised from the file name and its header signature (the required columns).
Header matching ignores case, surrounding spaces and a BOM. Columns of a file that the layout does
not list are kept as extra string columns under a snake_case name.
"""

from __future__ import annotations

from piiscan.layouts import att, bell, generic, mdm, rogers, telus, tmobile, verizon
from piiscan.layouts.model import Column, Format, Kind, Layout, normalize

LAYOUTS: tuple[Layout, ...] = (
    *verizon.LAYOUTS,
    *att.LAYOUTS,
    *tmobile.LAYOUTS,
    *bell.LAYOUTS,
    *rogers.LAYOUTS,
    *telus.LAYOUTS,
    *mdm.LAYOUTS,
    *generic.LAYOUTS,
)

__all__ = ["LAYOUTS", "Column", "Format", "Kind", "Layout", "normalize"]
