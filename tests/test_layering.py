"""`subscriptions` and `routing` never import `notifier`, nor each other; `domain` imports
none of ours."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
FORBIDDEN = {
    "subscriptions": {"notifier", "routing"},
    "routing": {"notifier", "subscriptions"},
    "domain": {"notifier", "routing", "subscriptions"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_keeps_its_layer(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): bad
        for path in (ROOT / package).rglob("*.py")
        if (bad := imported_packages(path) & FORBIDDEN[package])
    }
    assert offenders == {}


def test_the_console_never_imports_the_composition_root() -> None:
    """notifier/console sits with the web layer: the app factory wires it with what the
    composition root built, so the arrows run one way."""
    top = {"notifier.compose", "notifier.app", "notifier.cli", "notifier.commands"}
    offenders = {
        str(path.relative_to(ROOT)): modules
        for path in (ROOT / "notifier" / "console").rglob("*.py")
        if (modules := imported_modules(path) & top)
    }
    assert offenders == {}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
    }
