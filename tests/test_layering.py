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


# Inside notifier the sub-packages form a chain: the settings and the outbox's data at the
# bottom, then the channels and the kinds, the workers, the mail coming back and the web,
# the composition root on top (the operators' console sits on the web's parts). Each may
# import only those before it, so no two import each other.
NOTIFIER_LAYERS = [
    "settings",
    "outbox",
    "channels",
    "kinds",
    "workers",
    "inbound",
    "web",
    "console",
    "compose",
]


def subpackage_imports(package: str) -> dict[str, set[str]]:
    """Each sub-package of `package` → the sub-packages its modules import."""
    graph: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        parts = path.relative_to(ROOT / package).parts
        if len(parts) < 2:
            continue  # a module at the package's top: settings, db, the entry points
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        ] + [
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
        ]
        found = graph.setdefault(parts[0], set())
        for name in names:
            dotted = name.split(".")
            if dotted[0] == package and len(dotted) > 1 and dotted[1] != parts[0]:
                found.add(dotted[1])
    return graph


def test_notifier_subpackages_form_a_chain() -> None:
    graph = subpackage_imports("notifier")
    packages = {p.parent.name for p in (ROOT / "notifier").glob("*/__init__.py")}
    assert packages == set(NOTIFIER_LAYERS), "name each new sub-package's layer here"
    upward = {
        f"{low} imports {high}"
        for low, imported in graph.items()
        for high in imported
        if high in NOTIFIER_LAYERS and NOTIFIER_LAYERS.index(high) > NOTIFIER_LAYERS.index(low)
    }
    assert upward == set()


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
