"""Fixtures for the config tests: a private copy of the example school to break on purpose."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "example"


def copy_example(target: Path) -> Path:
    """Copy the example's config files (not the generator) into ``target``; return the folder."""
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("*.py", "__pycache__", "var"))
    return target


@pytest.fixture
def school_dir(tmp_path: Path) -> Path:
    return copy_example(tmp_path / "school")
