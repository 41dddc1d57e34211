"""Layouts as YAML (configs/layouts/*.yaml): pydantic models that produce the same Layout the
built-in modules declare, so a layout a user adds needs no code.

Each column maps a delivered header onto a canonical column of the layout's dataset
(piiscan.schema), with a kind and, for dates, times, money and durations, the value format. A
header of no canonical meaning goes under `extras` (kept in the JSON `extras` column). A time of
day completes the date column of the same canonical name (`Call Date` + `Call Time` ->
`event_time`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from piiscan.layouts.model import (
    DURATION_FORMATS,
    NUMBER_FORMATS,
    TIME_OF,
    Column,
    Format,
    Kind,
    Layout,
    normalize,
)
from piiscan.schema import DATASETS, DatasetName, snake_case

LAYOUTS_FOLDER = "layouts"
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")]
# What a column's kind may map onto: its canonical columns' types (piiscan.schema).
_DATE_KINDS = ("date", "datetime", "time")


class KeyedError(ValueError):
    """A layout-wide check that fails at one key (`loc` below the layout), named in the error."""

    def __init__(self, loc: tuple[int | str, ...], problem: str) -> None:
        self.loc = loc
        super().__init__(problem)


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Frozen):
    """One delivered column mapped onto a canonical column."""

    header: Annotated[str, Field(min_length=1)] = Field(description="The header as delivered.")
    canonical: str = Field(description="A canonical column of the layout's dataset.")
    kind: Kind = Field(default="text", description="How values convert (piiscan.layouts.model).")
    required: bool = Field(default=False, description="The header identifies the layout.")
    format: str | None = Field(
        default=None,
        description="strptime format of a date/time/datetime (%d.%m.%Y), how money and numbers "
        f"are written ({', '.join(NUMBER_FORMATS)}), a duration's unit "
        f"({', '.join(DURATION_FORMATS)}).",
    )
    second_header: str | None = Field(
        default=None, description="The column's text in a second header row (Bell's French)."
    )

    @model_validator(mode="after")
    def _format_fits_kind(self) -> ColumnSpec:
        fmt = self.format
        if self.kind in ("date", "time") and fmt is None:
            raise ValueError(f"a {self.kind} column needs its format (a strptime pattern)")
        if fmt is None:
            return self
        if self.kind in _DATE_KINDS and "%" not in fmt:
            raise ValueError(f"format {fmt!r} is not a strptime pattern like %d.%m.%Y")
        if self.kind in ("money", "number", "int") and fmt not in NUMBER_FORMATS:
            raise ValueError(f"format of {self.kind} is one of {', '.join(NUMBER_FORMATS)}")
        if self.kind == "duration" and fmt not in DURATION_FORMATS:
            raise ValueError(f"format of a duration is one of {', '.join(DURATION_FORMATS)}")
        if self.kind not in (*_DATE_KINDS, "money", "number", "int", "duration"):
            raise ValueError(f"a {self.kind} column takes no format")
        return self

    def column(self) -> Column:
        """The model's column; a time of day gets the frame name that joins it to its date."""
        target = f"{TIME_OF}{self.canonical}" if self.kind == "time" else self.canonical
        return Column(
            self.header, target, self.kind, self.required, self.format, self.second_header
        )


class ExtraSpec(_Frozen):
    """A delivered column kept in `extras` under a key of its own."""

    header: Annotated[str, Field(min_length=1)]
    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")] | None = Field(
        default=None, description="The key in extras (default: the header in snake_case)."
    )
    second_header: str | None = None

    def column(self) -> Column:
        """A text column whose target is not canonical: it lands in extras."""
        return Column(self.header, self.key or snake_case(self.header), french=self.second_header)


class LayoutSpec(_Frozen):
    """One carrier file layout (configs/layouts/<name>.yaml)."""

    name: Name = Field(description="Unique; a built-in layout of that name is replaced.")
    carrier: Name = Field(description="The carrier (lake landing folder, run summaries).")
    dataset: DatasetName | None = Field(
        description="The canonical dataset its rows land in; null for a reference file."
    )
    file_pattern: str = Field(description="Regular expression searched in the file name.")
    format: Format = "csv"
    delimiter: Annotated[str, Field(min_length=1, max_length=1)] = ","
    encoding: str = "utf-8"
    header_lines: Annotated[int, Field(ge=1, le=2)] = Field(
        default=1, description="Header rows (2: a second, translated header row)."
    )
    preamble_lines: Annotated[int, Field(ge=0, le=50)] = Field(
        default=0, description="Lines allowed before the header (report titles, metadata)."
    )
    description: str = ""
    columns: tuple[ColumnSpec, ...] = Field(min_length=1)
    extras: tuple[ExtraSpec, ...] = ()

    @field_validator("file_pattern")
    @classmethod
    def _pattern_compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        import codecs

        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}") from None
        return value

    @model_validator(mode="after")
    def _columns_fit_dataset(self) -> LayoutSpec:
        allowed = _canonical(self.dataset)
        for index, spec in enumerate(self.columns):
            if spec.canonical not in allowed:
                where = self.dataset or "any dataset"
                raise KeyedError(
                    ("columns", index, "canonical"),
                    f"{spec.canonical!r} is not a canonical column of {where} (one of "
                    f"{', '.join(sorted(allowed))}); put a column of no canonical meaning "
                    "under extras",
                )
        targets = [c.column().target for c in self.columns]
        repeated = sorted({t for t in targets if targets.count(t) > 1})
        if repeated:
            raise ValueError(f"two columns map onto {repeated[0].removeprefix(TIME_OF)}")
        for index, spec in enumerate(self.columns):
            if spec.kind == "time" and spec.canonical not in targets:
                raise KeyedError(
                    ("columns", index, "canonical"),
                    f"a time of day needs a date column mapped onto {spec.canonical} too",
                )
        headers = [normalize(h) for h in (*_headers(self.columns), *_headers(self.extras))]
        twice = sorted({h for h in headers if headers.count(h) > 1})
        if twice:
            raise ValueError(f"header {twice[0]!r} is listed twice")
        if not any(c.required for c in self.columns):
            raise ValueError("mark at least one column required: the headers that identify it")
        return self

    def layout(self, origin: str) -> Layout:
        """The model's Layout."""
        return Layout(
            name=self.name,
            carrier=self.carrier,
            dataset=self.dataset,
            file_pattern=self.file_pattern,
            columns=(
                *(c.column() for c in self.columns),
                *(e.column() for e in self.extras),
            ),
            format=self.format,
            separator=self.delimiter,
            encoding=self.encoding,
            header_rows=self.header_lines,
            max_preamble=self.preamble_lines,
            description=self.description,
            origin=origin,
        )


def _headers(specs: Iterable[ColumnSpec | ExtraSpec]) -> list[str]:
    return [s.header for s in specs]


def _canonical(dataset: str | None) -> set[str]:
    """Canonical columns a layout of that dataset (None: a reference file) may map onto."""
    if dataset is not None:
        return set(DATASETS[dataset])
    return {name for columns in DATASETS.values() for name in columns}


def merged(builtins: Iterable[Layout], configured: Iterable[Layout]) -> tuple[Layout, ...]:
    """Built-in layouts with the configured ones: a configured layout replaces the built-in of
    its name (in its place), the others follow."""
    own = {layout.name: layout for layout in configured}
    kept = [own.pop(layout.name, layout) for layout in builtins]
    return (*kept, *own.values())
