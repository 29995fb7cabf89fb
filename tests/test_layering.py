"""Imports flow one way: rules ← config ← reports ← sync (DESIGN.md §2). Parsed with ast, not imported."""

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
        "import os\nimport pandas as pd\nfrom sync.cli import main\nfrom .model import Pupil\n",
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
