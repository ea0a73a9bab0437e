"""The layers stay layers: no package or module of the app imports one that imports it back, the
pure core imports no adapter (nor Qt, SQL or HTTP), and the doors (the Qt layer and the CLI)
reach the app only through the façade, never through the store, connectors, scheduler, twin or
the composition root's internals. Read from the real code, as `test_funnel` does."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import tests.unit.test_layers as module

PACKAGE = Path(__file__).resolve().parents[2] / "skytwin_desktop"
CORE = {"domain", "errors", "clock", "text", "signals", "breaker", "outcomes", "guard", "policy", "proposers",
        "status", "settings_spec", "words"}
"""Plain functions and dataclasses: no adapter, no Qt, no SQL, no network."""
ADAPTERS = {"store", "connectors", "twin", "scheduler", "intents", "composition", "ui", "door", "cli", "demo",
            "sandbox", "glance"}
THIRD_PARTY_ADAPTERS = {"PySide6", "sqlalchemy", "alembic", "requests", "google", "google_auth_oauthlib", "keyring",
                        "apscheduler", "jeepney"}
DOORS_MAY_NOT_USE = {"store", "connectors", "scheduler", "twin"}
CLI_MAY_USE_FROM_COMPOSITION = {"open_app", "run_tray"}


def imports(path: Path) -> list[tuple[str, set[str]]]:
    """(module imported, names taken from it) for every import in the file, at any depth, except
    those only for type checkers."""
    tree = ast.parse(path.read_text(), filename=str(path))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(inner) for child in node.body for inner in ast.walk(child))
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [(alias.name, set()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, {alias.name for alias in node.names}))
    return found


def unit(name: str) -> str | None:
    """The package or top-level module of ours that a dotted name belongs to (None: not ours)."""
    parts = name.split(".")
    if parts[0] != "skytwin_desktop":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def unit_of(path: Path) -> str:
    relative = path.relative_to(module.PACKAGE)
    return relative.parts[0].removesuffix(".py") if len(relative.parts) > 1 or relative.stem != "__init__" \
        else "__init__"


def graph() -> dict[str, set[str]]:
    arrows: dict[str, set[str]] = {}
    for path in module.PACKAGE.rglob("*.py"):
        source = unit_of(path)
        for name, taken in imports(path):
            targets = {unit(name)} if name != "skytwin_desktop" else {
                unit(f"{name}.{item}") for item in taken
                if (module.PACKAGE / item).is_dir() or (module.PACKAGE / f"{item}.py").is_file()}
            for target in targets - {None, source, "__init__"}:
                arrows.setdefault(source, set()).add(target)  # type: ignore[arg-type]
    return arrows


def cycles(arrows: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for target in sorted(arrows.get(node, ())):
            if state.get(target) == "open":
                found.append([*trail[trail.index(target):], target])
            elif target not in state:
                visit(target, [*trail, target])
        state[node] = "done"

    for node in sorted(arrows):
        if node not in state:
            visit(node, [node])
    return found


def door_files() -> list[Path]:
    return [*sorted((module.PACKAGE / "ui").rglob("*.py")), module.PACKAGE / "cli.py"]


def test_no_package_imports_one_that_imports_it_back():
    assert cycles(graph()) == []


def test_the_core_imports_no_adapter():
    arrows = graph()
    leaks = {core: arrows.get(core, set()) & ADAPTERS for core in CORE if arrows.get(core, set()) & ADAPTERS}
    assert leaks == {}
    heavy = {}
    for path in module.PACKAGE.rglob("*.py"):
        if unit_of(path) in CORE:
            found = {name.split(".")[0] for name, _ in imports(path)} & THIRD_PARTY_ADAPTERS
            if found:
                heavy[str(path.relative_to(module.PACKAGE))] = found
    assert heavy == {}


def test_the_doors_use_only_the_facade():
    breaches = []
    for path in door_files():
        for name, taken in imports(path):
            target = unit(name)
            if target in DOORS_MAY_NOT_USE:
                breaches.append(f"{path.name}: {name}")
            if target == "composition" and (path.name != "cli.py" or not taken <= CLI_MAY_USE_FROM_COMPOSITION):
                breaches.append(f"{path.name}: {name} {sorted(taken)}")
    assert breaches == []


def test_the_scanner_finds_a_loop_and_a_breach(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The checks above are worth something only if they can see a bad import."""
    (tmp_path / "store").mkdir()
    (tmp_path / "connectors").mkdir()
    (tmp_path / "ui").mkdir()
    (tmp_path / "store" / "rows.py").write_text("from skytwin_desktop.connectors.signals import Signal\n")
    (tmp_path / "connectors" / "service.py").write_text("def f():\n    from skytwin_desktop.store import rows\n")
    (tmp_path / "ui" / "window.py").write_text("from skytwin_desktop.composition import AppContext\n"
                                               "from skytwin_desktop import store\n")
    (tmp_path / "cli.py").write_text("from skytwin_desktop.composition import build_context\n")
    (tmp_path / "domain.py").write_text("import sqlalchemy\nfrom skytwin_desktop.store import rows\n")
    monkeypatch.setattr(module, "PACKAGE", tmp_path)
    assert ["connectors", "store", "connectors"] in cycles(graph())
    with pytest.raises(AssertionError):
        test_the_doors_use_only_the_facade()
    with pytest.raises(AssertionError):
        test_the_core_imports_no_adapter()
