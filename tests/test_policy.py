"""Configuration: valid files load; every kind of mistake names the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from piiscan.errors import ConfigError, UnknownCustomerError
from piiscan.policy import load_config

from .conftest import CONFIGS

DATASETS = (CONFIGS / "datasets.yaml").read_text()
GOOD_CUSTOMER = """customers:
  - id: acme
    name: Acme
    carriers: [verizon]
"""


def write(tmp_path: Path, customers: str, datasets: str = DATASETS) -> Path:
    (tmp_path / "customers.yaml").write_text(customers)
    (tmp_path / "datasets.yaml").write_text(datasets)
    return tmp_path


def test_repository_config_loads() -> None:
    config = load_config(CONFIGS)
    assert [c.id for c in config.customers] == ["acme", "globex", "initech"]
    assert config.customer("globex").carriers == ("tmobile", "bell", "att", "mdm")
    assert config.datasets["usage_events"].date_column == "event_time"


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


def test_unknown_dataset_is_rejected(tmp_path: Path) -> None:
    bad = DATASETS + "  calls:\n    description: x\n    date_column: y\n"
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, GOOD_CUSTOMER, bad))
    assert info.value.file.endswith("datasets.yaml")
    assert info.value.key.startswith("datasets.calls")


def test_missing_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "customers.yaml").write_text(GOOD_CUSTOMER)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert info.value.file.endswith("datasets.yaml")
    assert info.value.problem == "missing"


def test_unknown_customer_lists_the_known_ones() -> None:
    with pytest.raises(UnknownCustomerError, match="configured: acme, globex, initech"):
        load_config(CONFIGS).customer("wayne")
