"""Fixtures of the CLI tests: the example school in a temporary folder, set up (and synced once)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sync.cli.cli_helpers import example_school


@pytest.fixture
def set_up_config(tmp_path: Path) -> Path:
    """``school.toml`` of the example school after ``setup`` (no cycle run yet)."""
    return example_school(tmp_path / "school", synced=False)


@pytest.fixture
def synced_config(tmp_path: Path) -> Path:
    """``school.toml`` of the example school after ``setup`` and a first ``sync``."""
    return example_school(tmp_path / "school")
