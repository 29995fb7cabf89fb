"""Imports flow one way: rules ← config ← reports ← sync (DESIGN.md §2), and inside sync from room to
room downwards with no circle. Parsed with ast, not imported."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = {"rules", "config", "reports", "sync", "tests"}

# package → (project packages it may import, third-party top-level modules it may import)
ALLOWED: dict[str, tuple[set[str], set[str] | None]] = {
    "rules": ({"rules"}, set()),
    "config": ({"rules", "config"}, {"pydantic"}),
    "reports": ({"rules", "config", "reports"}, {"pandas", "xlsxwriter", "numpy"}),
    "sync": ({"rules", "config", "reports", "sync"}, None),  # any third-party library
}


def imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def violations(package: str, root: Path = ROOT) -> list[str]:
    project_ok, third_party_ok = ALLOWED[package]
    found = []
    for path in sorted((root / package).rglob("*.py")):
        for name in sorted(imported_top_levels(path)):
            if name in sys.stdlib_module_names or name == "__future__":
                continue
            if name in PROJECT:
                if name not in project_ok:
                    found.append(f"{path.relative_to(root)} imports {name}")
            elif third_party_ok is not None and name not in third_party_ok:
                found.append(f"{path.relative_to(root)} imports third-party {name}")
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_respect_layering(package: str) -> None:
    assert (ROOT / package / "__init__.py").is_file()
    assert violations(package) == []


def test_checker_catches_forbidden_imports(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "bad.py").write_text(
        "import os\nimport pandas as pd\nfrom sync.cli.main import main\nfrom .model import Pupil\n",
        encoding="utf-8",
    )
    assert violations("rules", root=tmp_path) == [
        "rules/bad.py imports third-party pandas",
        "rules/bad.py imports sync",
    ]


def test_rules_reads_no_clock() -> None:
    offenders = []
    for path in sorted((ROOT / "rules").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for needle in ("datetime.now(", "date.today(", "time.time(", "datetime.today(", "utcnow("):
            if needle in text:
                offenders.append(f"{path.relative_to(ROOT)}: {needle}")
    assert offenders == []


# --------------------------------------------------------------------------- rooms inside sync/

# room → the rooms it may import (besides itself). Rooms import downwards only:
# cli → demo → jobs → layout, ledger, backends.google, backends.local → backends (the protocol).
# Everything above the backends speaks to one through the protocol; only the service's wiring
# (WIRING) picks a concrete backend.
ROOM_IMPORTS: dict[str, set[str]] = {
    "sync": {"sync.cli"},  # __init__ and __main__ (python -m sync)
    "sync.cli": {"sync.demo", "sync.jobs", "sync.layout", "sync.ledger", "sync.backends"},
    "sync.demo": {"sync.jobs", "sync.layout", "sync.ledger", "sync.backends"},
    "sync.jobs": {"sync.layout", "sync.ledger", "sync.backends"},
    "sync.layout": {"sync.backends"},
    "sync.ledger": {"sync.backends"},
    "sync.backends.google": {"sync.backends"},
    "sync.backends.local": {"sync.backends"},
    "sync.backends": set(),
}
WIRING: dict[str, set[str]] = {"sync.jobs.service": {"sync.backends.google", "sync.backends.local"}}
MAX_LINES = 400


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def room_of(module: str) -> str:
    """The longest room name that is ``module`` or a package above it."""
    rooms = [r for r in ROOM_IMPORTS if module == r or module.startswith(r + ".")]
    return max(rooms, key=len)


def import_graph(root: Path = ROOT, package: str = "sync") -> dict[str, set[str]]:
    """Module → the modules of ``package`` it imports, anywhere in its body (a lazy import inside a
    function ties two modules as much as one at the top)."""
    paths = {module_name(p, root): p for p in sorted((root / package).rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        targets: set[str] = set()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names if a.name.split(".")[0] == package)
            elif isinstance(node, ast.ImportFrom) and node.module:
                if node.level:
                    raise AssertionError(f"{path.relative_to(root)}: relative import; use sync.…")
                if node.module.split(".")[0] != package:
                    continue
                for alias in node.names:  # ``from sync.ledger import schema``: the submodule
                    sub = f"{node.module}.{alias.name}"
                    targets.add(sub if sub in paths else node.module)
        graph[name] = {t for t in targets if t in paths and t != name}
    return graph


def room_violations(graph: dict[str, set[str]]) -> list[str]:
    found = []
    for module, targets in sorted(graph.items()):
        room = room_of(module)
        for target in sorted(targets):
            other = room_of(target)
            allowed = ROOM_IMPORTS[room] | WIRING.get(module, set())
            if other != room and other not in allowed:
                found.append(f"{module} ({room}) imports {target} ({other})")
    return found


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(cycles)


def test_sync_has_no_import_cycle() -> None:
    assert import_cycles(import_graph()) == []


def test_sync_rooms_import_downwards_only() -> None:
    graph = import_graph()
    assert {room_of(m) for m in graph} == set(ROOM_IMPORTS)  # every room exists and holds code
    assert room_violations(graph) == []


def test_room_checks_catch_cycles_and_upward_imports(tmp_path: Path) -> None:
    files = {
        "sync/__init__.py": "",
        "sync/ledger/__init__.py": "",
        "sync/ledger/files.py": "from sync.jobs.cycle import run_cycle\n",
        "sync/jobs/__init__.py": "",
        "sync/jobs/cycle.py": "def f():\n    from sync.jobs import repair\n",
        "sync/jobs/repair.py": "from sync.jobs.cycle import f\nfrom sync.backends import protocol\n",
        "sync/backends/__init__.py": "",
        "sync/backends/local/__init__.py": "",
        "sync/backends/local/io.py": "import sync.ledger.files\nfrom sync.backends import protocol\n",
        "sync/backends/protocol.py": "",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    graph = import_graph(tmp_path)
    assert graph["sync.jobs.cycle"] == {"sync.jobs.repair"}
    assert import_cycles(graph) == [["sync.jobs.cycle", "sync.jobs.repair"]]
    assert room_violations(graph) == [
        "sync.backends.local.io (sync.backends.local) imports sync.ledger.files (sync.ledger)",
        "sync.ledger.files (sync.ledger) imports sync.jobs.cycle (sync.jobs)",
    ]


def test_no_product_module_is_over_the_size_limit() -> None:
    """Small modules, one concept each (the example school's data generator is a script, not code
    the product runs)."""
    long = {}
    for package in ALLOWED:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.is_relative_to(ROOT / "config" / "example"):
                continue
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > MAX_LINES:
                long[str(path.relative_to(ROOT))] = lines
    assert long == {}
