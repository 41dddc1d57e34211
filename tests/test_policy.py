"""Configuration: valid files load; every kind of mistake names the file and the key."""

from __future__ import annotations

import shutil
import typing
from pathlib import Path

import pytest
import yaml

from piiscan.errors import ConfigError, UnknownCustomerError
from piiscan.layouts import LAYOUTS
from piiscan.policy import load_config
from piiscan.schema import DATASET_NAMES, DATASETS, PERIOD_COLUMN, REGISTRY, DatasetName
from piiscan.subject import PURPOSES

from .conftest import CONFIGS

RETENTION = (CONFIGS / "retention.yaml").read_text()
GOOD_CUSTOMER = """customers:
  - id: acme
    name: Acme
    carriers: [verizon]
"""


def write(tmp_path: Path, customers: str) -> Path:
    (tmp_path / "customers.yaml").write_text(customers)
    return tmp_path


@pytest.fixture
def configs(tmp_path: Path) -> Path:
    """A copy of the repository's configs folder, to break one file of."""
    folder = tmp_path / "configs"
    shutil.copytree(CONFIGS, folder)
    return folder


def test_repository_config_loads() -> None:
    config = load_config(CONFIGS)
    assert [c.id for c in config.customers] == ["acme", "globex", "initech"]
    assert config.customer("globex").carriers == ("tmobile", "bell", "att", "mdm")
    assert REGISTRY["usage_events"].period_column == "event_time"


@pytest.mark.parametrize(
    ("customers", "key", "problem"),
    [
        (
            GOOD_CUSTOMER.replace("name: Acme", "name: Acme\n    nmae: typo"),
            "customers[0].nmae",
            "Extra inputs",
        ),
        (
            GOOD_CUSTOMER.replace("[verizon]", "[verizon, sprint]"),
            "customers[0].carriers[1]",
            "Input should be",
        ),
        (
            GOOD_CUSTOMER.replace("    carriers: [verizon]\n", ""),
            "customers[0].carriers",
            "Field required",
        ),
        (GOOD_CUSTOMER.replace("id: acme", "id: Acme Corp"), "customers[0].id", "should match"),
        (
            GOOD_CUSTOMER + "    employee_id_patterns: ['E(\\d']\n",
            "customers[0].employee_id_patterns",
            "not a regular expression",
        ),
        (GOOD_CUSTOMER + GOOD_CUSTOMER.replace("customers:\n", ""), "customers", "repeated: acme"),
        ("customers: [\n", "line", "not valid YAML"),
        ("customers: []\n", "customers", "at least 1"),
    ],
)
def test_bad_customers_file_names_file_and_key(
    tmp_path: Path, customers: str, key: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, customers))
    assert info.value.file.endswith("customers.yaml")
    assert info.value.key.startswith(key)
    assert problem in info.value.problem
    assert "customers.yaml" in str(info.value) and key in str(info.value)


def test_unknown_dataset_is_rejected(configs: Path) -> None:
    bad = RETENTION.replace("datasets:\n", "datasets:\n  calls: {keep_months: 1, clock: y}\n", 1)
    (configs / "retention.yaml").write_text(bad)
    with pytest.raises(ConfigError) as info:
        load_config(configs)
    assert info.value.file.endswith("retention.yaml")
    assert info.value.key.startswith("datasets.calls")


def test_missing_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "customers.yaml").write_text(GOOD_CUSTOMER)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert info.value.file.endswith("actions.yaml")
    assert info.value.problem == "missing"


@pytest.mark.parametrize(
    ("datasets", "key"),
    [
        (
            "datasets:\n  invoice_lines:\n    description: One row per line per bill cycle.\n"
            "    date_column: bill_cycle_date\n",
            "datasets.invoice_lines.date_column",
        ),
        (
            "datasets:\n  devices:\n    date_column: activation_date\n",
            "datasets.devices.date_column",
        ),
        ("datasets:\n  devices:\n    description: Devices.\n", "<file>"),
        ("datasets: [\n", "<file>"),
    ],
)
def test_an_old_datasets_file_fails_saying_the_period_column_is_fixed(
    configs: Path, datasets: str, key: str
) -> None:
    (configs / "datasets.yaml").write_text(datasets)
    with pytest.raises(ConfigError) as info:
        load_config(configs)
    assert info.value.file.endswith("datasets.yaml") and info.value.key == key
    assert "period column is fixed per dataset" in info.value.problem
    assert "docs/DESIGN.md" in info.value.problem
    assert "datasets.yaml" in str(info.value) and key in str(info.value)


@pytest.mark.parametrize(
    ("old", "new", "key", "would_do"),
    [
        (  # misspelled: the rows would never expire
            "usage_events: {keep_months: 18, clock: event_time}",
            "usage_events: {keep_months: 18, clock: event_tme}",
            "datasets.usage_events.clock",
            "event_time, bill_cycle_date",
        ),
        (  # a column of the dataset, but not a date
            "invoice_lines: {keep_months: 24, clock: bill_cycle_date}",
            "invoice_lines: {keep_months: 24, clock: charge}",
            "datasets.invoice_lines.clock",
            "bill_cycle_date",
        ),
        (  # a date column of another dataset
            "charge_items: {keep_months: 24, clock: bill_cycle_date}",
            "charge_items: {keep_months: 24, clock: event_time}",
            "datasets.charge_items.clock",
            "bill_cycle_date",
        ),
        (
            "clock_fallback: report_date",
            "clock_fallback: report_dat",
            "datasets.devices.clock_fallback",
            "activation_date, deactivation_date, report_date",
        ),
        (
            "clock_fallback: report_date",
            "clock_fallback: imei",
            "datasets.devices.clock_fallback",
            "activation_date, deactivation_date, report_date",
        ),
        (  # a customer's own rule is checked too
            "usage_events: {keep_months: 12, clock: event_time}",
            "usage_events: {keep_months: 12, clock: eventtime}",
            "customers.initech.datasets.usage_events.clock",
            "event_time, bill_cycle_date",
        ),
    ],
)
def test_a_clock_that_is_not_a_date_column_of_its_dataset_fails(
    configs: Path, old: str, new: str, key: str, would_do: str
) -> None:
    assert RETENTION.count(old) == 1
    (configs / "retention.yaml").write_text(RETENTION.replace(old, new))
    with pytest.raises(ConfigError) as info:
        load_config(configs)
    assert info.value.file.endswith("retention.yaml") and info.value.key == key
    column = new.rsplit(" ", 1)[-1].rstrip("}")
    assert f"'{column}' is not a date or datetime column" in info.value.problem
    assert f"(one of {would_do})" in info.value.problem


def test_configs_lake_keys_and_registry_name_the_same_datasets() -> None:
    registry = set(REGISTRY)
    retention = yaml.safe_load(RETENTION)
    assert set(retention["datasets"]) == registry  # every dataset has a retention rule
    assert {layout.dataset for layout in LAYOUTS} - {None} == registry  # restricted/<dataset>/
    assert set(typing.get_args(DatasetName)) == registry == set(DATASET_NAMES)
    assert set(DATASETS) == set(PERIOD_COLUMN) == set(PURPOSES) == registry
    policy = load_config(CONFIGS).retention
    assert policy is not None and set(policy.tax.datasets) <= registry
    assert not (CONFIGS / "datasets.yaml").exists()


def test_unknown_customer_lists_the_known_ones() -> None:
    with pytest.raises(UnknownCustomerError, match="configured: acme, globex, initech"):
        load_config(CONFIGS).customer("wayne")
