"""The fixture generator is the `fixtures` extra: no runtime module needs it, and the two commands
that do say which extra to install instead of failing with a traceback."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import piiscan
from piiscan.cli import app

from .conftest import CONFIGS

SRC = Path(piiscan.__file__).parent
EXTRA = ("piiscan.testing", "faker", "xlsxwriter")
# The commands that generate fixtures, and may import the generator inside their body only.
LAZY = {"piiscan.cli.demo": {"fixtures", "demo"}}
INSTALL = "pip install 'piiscan[fixtures]'"


def _imported(node: ast.Import | ast.ImportFrom, package: str) -> list[str]:
    """The absolute module names an import statement loads (`from a import b` may load a.b)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        parts = package.split(".")[: len(package.split(".")) - node.level + 1]
        base = ".".join([*parts, base] if base else parts)
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def extra_imports(source: str, module: str, is_package: bool = False) -> list[str]:
    """`module:line imports name` for each import of the extra outside the allowed places."""
    allowed = LAZY.get(module, set())
    package = module if is_package else module.rpartition(".")[0]
    found = []

    def visit(node: ast.AST, function: str | None) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and function is None:
            function = node.name
        if isinstance(node, ast.Import | ast.ImportFrom):
            for name in _imported(node, package):
                root = next((e for e in EXTRA if name == e or name.startswith(f"{e}.")), None)
                lazy_ok = root == "piiscan.testing" and function in allowed
                if root and not lazy_ok:
                    found.append(f"{module}:{node.lineno} imports {name}")
                    break
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(ast.parse(source), None)
    return found


def runtime_modules() -> Iterator[tuple[str, bool, Path]]:
    """(name, is_package, path) for every runtime module: piiscan without piiscan.testing."""
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        if parts[:2] == ("piiscan", "testing"):
            continue
        is_package = parts[-1] == "__init__"
        yield ".".join(parts[:-1] if is_package else parts), is_package, path


def test_no_runtime_module_imports_the_fixtures_extra() -> None:
    modules = list(runtime_modules())
    assert any(name == "piiscan.cli.demo" for name, _, _ in modules)
    found = [
        hit
        for name, is_package, path in modules
        for hit in extra_imports(path.read_text(), name, is_package)
    ]
    assert not found, f"the fixtures extra is for piiscan.testing, tests and benchmarks: {found}"


@pytest.mark.parametrize(
    ("module", "source", "found"),
    [
        ("piiscan.scan", "import faker", ["piiscan.scan:1 imports faker"]),
        ("piiscan.scan", "from xlsxwriter import Workbook", ["piiscan.scan:1 imports xlsxwriter"]),
        (
            "piiscan.scan",
            "def f():\n    from piiscan.testing.model import World",
            ["piiscan.scan:2 imports piiscan.testing.model"],
        ),
        ("piiscan.scan", "from piiscan import testing", ["piiscan.scan:1 imports piiscan.testing"]),
        (
            "piiscan.ingest.engine",
            "from ..testing import generate",
            ["piiscan.ingest.engine:1 imports piiscan.testing"],
        ),
        ("piiscan.__init__", "from .testing import model", ["piiscan:1 imports piiscan.testing"]),
        ("piiscan.ingest.__init__", "from .testing import model", []),
        (
            "piiscan.cli.demo",
            "from piiscan.testing.generate import generate",
            ["piiscan.cli.demo:1 imports piiscan.testing.generate"],
        ),
        (
            "piiscan.cli.demo",
            "def fixtures():\n    from piiscan.testing.generate import generate",
            [],
        ),
        ("piiscan.cli.demo", "def demo():\n    import faker", ["piiscan.cli.demo:2 imports faker"]),
        (
            "piiscan.cli.demo",
            "def ingest():\n    import piiscan.testing",
            ["piiscan.cli.demo:2 imports piiscan.testing"],
        ),
        ("piiscan.scan", "import fakerish\nfrom piiscan import testingx", []),
    ],
)
def test_the_import_check_when_given_a_module(module: str, source: str, found: list[str]) -> None:
    package = module.removesuffix(".__init__")
    assert extra_imports(source, package, is_package=package != module) == found


@pytest.fixture(params=["faker", "xlsxwriter"])
def missing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Import as if the extra were not installed: the module is None in sys.modules."""

    def generator_modules() -> list[str]:
        return [
            n for n in sys.modules if n == "piiscan.testing" or n.startswith("piiscan.testing.")
        ]

    for name in generator_modules():  # so the command imports the generator afresh
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.delattr(piiscan, "testing", raising=False)
    monkeypatch.setitem(sys.modules, request.param, None)
    yield request.param
    for name in generator_modules():  # half-imported here; monkeypatch puts the originals back
        del sys.modules[name]


@pytest.mark.parametrize("command", ["fixtures", "demo"])
def test_generator_commands_name_the_extra_when_it_is_missing(
    command: str, missing: str, tmp_path: Path
) -> None:
    args = {
        "fixtures": ["fixtures", "--out", str(tmp_path / "out"), "--customers", "1"],
        "demo": ["demo", "--lake", str(tmp_path / "lake"), "--config", str(CONFIGS)],
    }[command]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert INSTALL in result.stderr and f"{missing} is not installed" in result.stderr
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []
