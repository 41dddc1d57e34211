"""Configuration models over configs/*.yaml: the only place YAML becomes objects.

Each file is validated once at load; unknown keys, missing keys and bad values fail with the
file and the key path named (ConfigError). Datasets are not configured: their names, columns and
period columns come from the registry in piiscan.schema. Carrier layouts a user adds live in
configs/layouts/*.yaml (piiscan.layouts.files) and join the built-in ones.
"""

from __future__ import annotations

import hashlib
import os
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ByteSize,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from piiscan.entities import policy_names
from piiscan.errors import ConfigError, UnknownCustomerError
from piiscan.layouts import LAYOUTS, Layout
from piiscan.layouts.files import LAYOUTS_FOLDER, KeyedError, LayoutSpec, merged
from piiscan.schema import DATASET_NAMES, KNOWN_ENTITIES, REGISTRY, DatasetName

# A carrier of a built-in or configured layout (checked at load against the layouts).
Carrier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")]
M = TypeVar("M", bound=BaseModel)
OVERRIDES_FILE = "overrides.yaml"
# Retired: datasets are declared in piiscan.schema.REGISTRY; a leftover file fails at load.
RETIRED_DATASETS_FILE = "datasets.yaml"
CustomerId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DaskSettings(_Frozen):
    """Pseudonymization and purge of one big customer fanned out file by file on Dask."""

    workers: int = Field(
        default=2, ge=1, description="Worker processes of the LocalCluster a run starts."
    )
    threads_per_worker: int = Field(default=1, ge=1, description="Threads in each worker.")
    address: str | None = Field(
        default=None,
        description="A running Dask scheduler to use instead (tcp://host:port); its workers "
        "must share the flow's TMPDIR (staged files) and reach the lake and the Prefect server.",
    )


class Customer(_Frozen):
    """A corporate customer (the controller) whose carrier files we process."""

    id: CustomerId = Field(description="Stable id used in lake paths (customer=<id>).")
    name: str = Field(description="Display name for reports.")
    carriers: tuple[Carrier, ...] = Field(
        min_length=1, description="Carriers whose files this customer sends."
    )
    employee_id_patterns: tuple[str, ...] = Field(
        default=(),
        description="Regular expressions an employee ID of this customer matches in full.",
    )
    dask: DaskSettings | None = Field(
        default=None,
        description="Fan this customer's file-level work out on Dask (None: serial, the default).",
    )

    @field_validator("employee_id_patterns")
    @classmethod
    def _patterns_compile(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return value


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):  # YAML's `yes` is no size
        raise ValueError("expected a size: bytes, or a number with a unit (1 MiB, 2 GiB)")
    return value


# A size: bytes, or a number with a unit ("512 KiB", "2 GiB"); at least 1 KiB.
Size = Annotated[ByteSize, BeforeValidator(_no_bool), Field(ge=1024)]
GIB = 1024**3


class IngestLimits(_Frozen):
    """How much one delivered file may hold; a file over a limit is quarantined `too_large`
    before it is read whole (configs/customers.yaml, `ingest:`)."""

    max_member_bytes: Size = Field(
        default=ByteSize(2 * GIB),
        description="Decompressed bytes of one zip member or XLSX part, or one Parquet row group.",
    )
    max_archive_bytes: Size = Field(
        default=ByteSize(4 * GIB),
        description="Decompressed bytes of all the members of one zip archive or XLSX workbook.",
    )
    max_line_bytes: Size = Field(
        default=ByteSize(1024 * 1024),
        description="Bytes of one line of delimited text, a header line too.",
    )


class CustomersFile(_Frozen):
    """configs/customers.yaml."""

    customers: tuple[Customer, ...] = Field(min_length=1)
    ingest: IngestLimits = Field(
        default_factory=IngestLimits, description="Limits on what one delivered file may hold."
    )

    @field_validator("customers")
    @classmethod
    def _ids_unique(cls, value: tuple[Customer, ...]) -> tuple[Customer, ...]:
        ids = [c.id for c in value]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"customer ids must be unique; repeated: {', '.join(duplicates)}")
        return value


def _known_entity(name: str) -> str:
    known = policy_names()
    if name not in known:
        raise ValueError(f"not a known entity (one of {', '.join(sorted(known))})")
    return name


# An entity of the registry (piiscan.entities), or FREE_TEXT.
EntityName = Annotated[str, AfterValidator(_known_entity)]
Action = Literal["keep", "hmac", "drop", "mask", "generalize", "redact"]
Redaction = Literal["token", "tag"]


class ActionsFile(_Frozen):
    """configs/actions.yaml: what happens to a column of each entity in the analytics zone."""

    entities: dict[EntityName, Action] = Field(
        description="Action per entity; every entity needs one (fail closed)."
    )
    columns: dict[DatasetName, dict[str, Action]] = Field(
        default_factory=dict,
        description="Per dataset and column, an action that overrides the entity's.",
    )
    redaction: Redaction = Field(
        default="token",
        description="What `redact` puts in place of a span found in free text: a keyed token "
        "(`<PERSON k1-…>`, the same for the same value) or the entity tag alone (`<PERSON>`).",
    )

    @field_validator("entities")
    @classmethod
    def _every_entity(cls, value: dict[str, str]) -> dict[str, str]:
        missing = sorted(policy_names() - set(value))
        if missing:
            raise ValueError(f"no action for {', '.join(missing)}")
        return value


class RetentionRule(_Frozen):
    """How long a dataset's rows live, counted from a date column."""

    keep_months: StrictInt = Field(
        ge=1, le=600, description="Months a row is kept after its clock."
    )
    clock: str = Field(
        description="Date or datetime column of the dataset the clock runs from (checked at load)."
    )
    clock_fallback: str | None = Field(
        default=None, description="Date or datetime column used where the clock column is null."
    )


class CustomerRetention(_Frozen):
    """Per-customer changes to the retention policy."""

    terminated: date | None = Field(
        default=None, description="Account end: all personal data goes after this date."
    )
    tax_years: StrictInt | None = Field(default=None, ge=1, le=30)
    datasets: dict[DatasetName, RetentionRule] = Field(default_factory=dict)


class TaxHold(_Frozen):
    """Invoice data kept for tax retention (IRS: 3-7 years; EU states: up to 10)."""

    years: StrictInt = Field(ge=1, le=30)
    datasets: tuple[DatasetName, ...] = ("invoice_lines", "charge_items")


class BillingHold(_Frozen):
    """Open or disputed invoices and the usage behind them (ePrivacy Art. 6(2))."""

    statuses: tuple[str, ...] = ("open", "disputed")
    dispute_window_days: StrictInt = Field(
        ge=0,
        le=3650,
        description="Days after the bill cycle during which a paid invoice may "
        "still be challenged (the settlement date is not in carrier data).",
    )


class RetentionFile(_Frozen):
    """configs/retention.yaml."""

    version: str = Field(min_length=1, description="Recorded in every ledger entry.")
    landing_days: StrictInt = Field(ge=1, description="Days raw carrier files stay in landing/.")
    reports_months: StrictInt = Field(ge=1, description="Months run reports are kept.")
    datasets: dict[DatasetName, RetentionRule]
    tax: TaxHold
    billing: BillingHold
    customers: dict[str, CustomerRetention] = Field(default_factory=dict)

    @field_validator("datasets")
    @classmethod
    def _every_dataset(cls, value: dict[str, RetentionRule]) -> dict[str, RetentionRule]:
        missing = sorted(set(DATASET_NAMES) - set(value))
        if missing:
            raise ValueError(
                f"no retention rule for {', '.join(missing)} (no rule is an error, "
                "not 'keep forever')"
            )
        return value


Decision = Literal["confirm", "reject", "set"]
# Columns whose entity the canonical schema fixes: a reviewer may retype them but not reject
# them, or their values would reach analytics.
DESIGN_PII_COLUMNS = frozenset(KNOWN_ENTITIES)


class Override(_Frozen):
    """A reviewer's decision about one column; wins over detection in every report."""

    customer: CustomerId | Literal["*"]
    dataset: DatasetName | None = None  # a lake dataset (nightly runs, `scan --lake`)
    layout: str | None = None  # or a carrier layout (`piiscan scan` of files)
    column: Annotated[str, Field(min_length=1)]
    decision: Decision
    entity: EntityName | None = None
    reason: Annotated[str, Field(min_length=3)]
    decided_by: Annotated[str, Field(min_length=1)]
    decided_at: date

    @model_validator(mode="after")
    def _consistent(self) -> Override:
        if (self.dataset is None) == (self.layout is None):
            raise ValueError("name exactly one of dataset or layout")
        if self.decision == "reject" and self.entity is not None:
            raise ValueError("a reject has no entity (the column is not personal data)")
        if self.decision != "reject" and self.entity is None:
            raise ValueError(f"a {self.decision} needs the entity the column holds")
        if self.decision == "reject" and self.column in DESIGN_PII_COLUMNS:
            raise ValueError(
                f"{self.column} holds personal data by design and cannot be rejected; "
                "set another entity, or give it an action under columns: in actions.yaml"
            )
        return self

    @property
    def scope(self) -> tuple[str, str, str]:
        """(customer, dataset or layout, column): at most one override per scope."""
        return (self.customer, self.dataset or f"layout:{self.layout}", self.column)

    def matches(self, customer: str | None, dataset: str | None, layout: str | None) -> bool:
        """Whether this override speaks about that customer's dataset or layout."""
        if self.customer not in ("*", customer):
            return False
        if self.dataset is not None:
            return self.dataset == dataset
        return self.layout == layout


class OverridesFile(_Frozen):
    """configs/overrides.yaml: reviewer decisions (written by `piiscan review`), and drift rules."""

    version: Literal[1] = 1
    confidence_threshold: Annotated[float, Field(ge=0.0, le=1.0)] = 0.8
    overrides: tuple[Override, ...] = ()

    @field_validator("overrides")
    @classmethod
    def _one_per_column(cls, value: tuple[Override, ...]) -> tuple[Override, ...]:
        seen: set[tuple[str, str, str]] = set()
        for override in value:
            if override.scope in seen:
                raise ValueError(f"two overrides for {'/'.join(override.scope)}")
            seen.add(override.scope)
        return value


class Config(_Frozen):
    """Everything read from configs/, validated."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    customers: tuple[Customer, ...]
    ingest: IngestLimits = Field(default_factory=IngestLimits)
    actions: dict[EntityName, Action]
    column_actions: dict[DatasetName, dict[str, Action]] = Field(default_factory=dict)
    redaction: Redaction = "token"
    retention: RetentionFile | None = None
    review: OverridesFile = Field(default_factory=OverridesFile)
    layouts: tuple[Layout, ...] = Field(
        default=LAYOUTS,
        description="The built-in layouts with configs/layouts/*.yaml (a configured one "
        "replaces the built-in of its name).",
    )

    def entity_actions(self) -> dict[str, str]:
        """The configured action of each entity."""
        return {str(entity): str(action) for entity, action in self.actions.items()}

    def overrides_for(
        self, customer: str | None, dataset: str | None = None, layout: str | None = None
    ) -> dict[str, Override]:
        """Overrides per column of a customer's dataset or layout; a customer's own beat '*'."""
        chosen: dict[str, Override] = {}
        for override in sorted(self.review.overrides, key=lambda o: o.customer != "*"):
            if override.matches(customer, dataset, layout):
                chosen[override.column] = override
        return chosen

    def rule(self, customer_id: str, dataset: str) -> RetentionRule:
        """The retention rule for a customer's dataset (customer override first)."""
        assert self.retention is not None
        override = self.retention.customers.get(customer_id)
        if override and dataset in override.datasets:
            return override.datasets[dataset]
        return self.retention.datasets[dataset]

    def tax_years(self, customer_id: str) -> int:
        """Tax retention years for a customer."""
        assert self.retention is not None
        override = self.retention.customers.get(customer_id)
        return (override.tax_years if override and override.tax_years else None) or (
            self.retention.tax.years
        )

    def terminated(self, customer_id: str) -> date | None:
        """The configured account end of a customer, if any."""
        assert self.retention is not None
        override = self.retention.customers.get(customer_id)
        return override.terminated if override else None

    def employee_id_patterns(self, customer_id: str | None = None) -> tuple[str, ...]:
        """One customer's employee-ID patterns, or every customer's."""
        chosen = [self.customer(customer_id)] if customer_id else list(self.customers)
        return tuple(dict.fromkeys(p for c in chosen for p in c.employee_id_patterns))

    def customer(self, customer_id: str) -> Customer:
        """The configured customer with this id, or UnknownCustomerError."""
        for customer in self.customers:
            if customer.id == customer_id:
                return customer
        raise UnknownCustomerError(customer_id, [c.id for c in self.customers])


def _key_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "<root>"


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a mapping that names a key twice (YAML would keep the last
    silently: a duplicated customer or rule would override the first without a word)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except FileNotFoundError:
        raise ConfigError(str(path), "<file>", "missing") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            str(path), "<file>", f"not UTF-8 text (byte {exc.start}): expected a YAML file"
        ) from None
    except IsADirectoryError:
        raise ConfigError(str(path), "<file>", "is a folder, expected a YAML file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "<file>"
        raise ConfigError(
            str(path), where, f"not valid YAML: {getattr(exc, 'problem', exc)}"
        ) from None


def _validate(model: type[M], path: Path) -> M:
    data = _load_yaml(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(str(path), _key_path(tuple(first["loc"])), first["msg"]) from None


def _refuse_datasets_file(root: Path) -> None:
    """A configs folder that still has datasets.yaml fails: its date_column was never read."""
    path = root / RETIRED_DATASETS_FILE
    if not path.exists():
        return
    try:
        data = _load_yaml(path)
    except ConfigError:
        data = None
    datasets = data.get("datasets") if isinstance(data, dict) else None
    named = [
        f"datasets.{name}.date_column"
        for name, entry in (datasets.items() if isinstance(datasets, dict) else [])
        if isinstance(entry, dict) and "date_column" in entry
    ]
    key = named[0] if named else "<file>"
    raise ConfigError(
        str(path),
        key,
        "datasets are no longer configured: the period column is fixed per dataset "
        "(the lake's partitioning; see docs/DESIGN.md, Canonical datasets) and retention "
        "clocks are set in retention.yaml; delete this file",
    )


def _check_clocks(path: Path, retention: RetentionFile) -> None:
    """Every retention clock (and fallback) is a date or datetime column of its dataset."""
    rules = [(f"datasets.{name}", name, rule) for name, rule in retention.datasets.items()]
    rules += [
        (f"customers.{customer_id}.datasets.{name}", name, rule)
        for customer_id, override in retention.customers.items()
        for name, rule in override.datasets.items()
    ]
    for where, name, rule in rules:
        dates = REGISTRY[name].date_columns
        for key, column in (("clock", rule.clock), ("clock_fallback", rule.clock_fallback)):
            if column is not None and column not in dates:
                raise ConfigError(
                    str(path),
                    f"{where}.{key}",
                    f"{column!r} is not a date or datetime column of {name} "
                    f"(one of {', '.join(dates)})",
                )


def _check_carriers(path: Path, customers: CustomersFile, carriers: set[str]) -> None:
    """Every customer's carrier is the carrier of a built-in or configured layout."""
    for index, customer in enumerate(customers.customers):
        for position, carrier in enumerate(customer.carriers):
            if carrier not in carriers:
                raise ConfigError(
                    str(path),
                    f"customers[{index}].carriers[{position}]",
                    f"Input should be the carrier of a built-in or configured layout "
                    f"({', '.join(sorted(carriers))}), not {carrier!r}",
                )


def load_layouts(folder: Path) -> tuple[Layout, ...]:
    """The layouts of configs/layouts/*.yaml (each file one layout or a list), in name order."""
    found: dict[str, tuple[Path, Layout]] = {}
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        data = _load_yaml(path)
        entries = data if isinstance(data, list) else [data]
        for index, entry in enumerate(entries):
            prefix: tuple[int | str, ...] = (index,) if isinstance(data, list) else ()
            try:
                layout = LayoutSpec.model_validate(entry).layout(str(path))
            except ValidationError as exc:
                first = exc.errors()[0]
                keyed = first.get("ctx", {}).get("error")
                loc, problem = (
                    ((*first["loc"], *keyed.loc), str(keyed))
                    if isinstance(keyed, KeyedError)
                    else (first["loc"], first["msg"])
                )
                raise ConfigError(str(path), _key_path((*prefix, *loc)), problem) from None
            if layout.name in found:
                raise ConfigError(
                    str(path),
                    _key_path((*prefix, "name")),
                    f"layout {layout.name} is also defined in {found[layout.name][0]}",
                )
            found[layout.name] = (path, layout)
    return tuple(layout for _, layout in found.values())


# (working folder, config_dir as given) -> (what its files were, the Config read from them)
_LOADED: dict[tuple[str, str], tuple[tuple[tuple[str, str], ...], Config]] = {}


def _stamp(root: Path) -> tuple[tuple[str, str], ...]:
    """Every file of the config folder and its layouts/ as it is now (name and content digest;
    a few small files): any edit, addition or removal changes it."""
    found = []
    for folder in (root, root / LAYOUTS_FOLDER):
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_file():
                    digest = hashlib.sha256(Path(entry.path).read_bytes()).hexdigest()
                    found.append((entry.path, digest))
            except OSError:
                continue
    return tuple(sorted(found))


def load_config(config_dir: str | Path) -> Config:
    """Read and validate configs/customers.yaml, actions.yaml, retention.yaml, overrides.yaml
    and layouts/*.yaml. A process reads them once: later calls return the same (frozen)
    Config until a file of the folder changes, is added or is removed."""
    cache_key = (str(Path.cwd()), str(config_dir))
    stamp = _stamp(Path(config_dir))
    known = _LOADED.get(cache_key)
    if known is not None and known[0] == stamp:
        return known[1]
    config = _load_config(config_dir)
    _LOADED[cache_key] = (stamp, config)
    return config


def _load_config(config_dir: str | Path) -> Config:
    root = Path(config_dir)
    _refuse_datasets_file(root)
    customers = _validate(CustomersFile, root / "customers.yaml")
    all_layouts = merged(LAYOUTS, load_layouts(root / LAYOUTS_FOLDER))
    _check_carriers(root / "customers.yaml", customers, {lay.carrier for lay in all_layouts})
    actions = _validate(ActionsFile, root / "actions.yaml")
    retention = _validate(RetentionFile, root / "retention.yaml")
    _check_clocks(root / "retention.yaml", retention)
    overrides_path = root / OVERRIDES_FILE
    review = (
        _validate(OverridesFile, overrides_path) if overrides_path.exists() else OverridesFile()
    )
    known = {c.id for c in customers.customers}
    for customer_id in retention.customers:
        if customer_id not in known:
            raise ConfigError(
                str(root / "retention.yaml"),
                f"customers.{customer_id}",
                "not a customer of customers.yaml",
            )
    layouts = {layout.name for layout in all_layouts}
    for index, override in enumerate(review.overrides):
        if override.customer != "*" and override.customer not in known:
            raise ConfigError(
                str(overrides_path),
                f"overrides[{index}].customer",
                "not a customer of customers.yaml",
            )
        if override.layout is not None and override.layout not in layouts:
            raise ConfigError(
                str(overrides_path),
                f"overrides[{index}].layout",
                f"not a known layout (one of {', '.join(sorted(layouts))})",
            )
    return Config(
        customers=customers.customers,
        ingest=customers.ingest,
        actions=actions.entities,
        column_actions=actions.columns,
        redaction=actions.redaction,
        retention=retention,
        review=review,
        layouts=all_layouts,
    )
