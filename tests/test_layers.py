"""Every piiscan module belongs to one layer of the import-linter contract (pyproject.toml), so a
new module cannot slip past the layering that `make lint` enforces."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import piiscan

REPO = Path(__file__).resolve().parent.parent
SRC = Path(piiscan.__file__).parent


def layered_modules() -> set[str]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))
    [contract] = [c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    return {name for layer in contract["layers"] for name in re.split(r"[\s:|]+", layer) if name}


def test_every_top_level_module_is_in_a_layer() -> None:
    modules = {
        f"piiscan.{p.stem if p.is_file() else p.name}"
        for p in SRC.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()
    }
    missing = sorted(modules - layered_modules())
    assert not missing, f"not in any layer of [tool.importlinter] in pyproject.toml: {missing}"


def test_the_layers_name_only_modules_that_exist() -> None:
    unknown = sorted(
        name
        for name in layered_modules()
        if name.startswith("piiscan.")
        and not (SRC / f"{name.removeprefix('piiscan.')}.py").is_file()
        and not (SRC / name.removeprefix("piiscan.") / "__init__.py").is_file()
    )
    assert not unknown, f"layers name modules that do not exist: {unknown}"
