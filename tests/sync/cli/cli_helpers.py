"""Helpers of the CLI tests: the example school copied into a folder, ``ejournal`` run in-process
with its output captured, a registered journal's id and ``.xlsx`` path on the local backend.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from config import load_school
from sync.backends.local.backend import LocalBackend
from sync.cli.main import main
from sync.ledger.ledger import Ledger
from sync.ledger.model import FileKind

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "config" / "example"


def example_school(folder: Path, *, set_up: bool = True, synced: bool = True) -> Path:
    """The example school copied to ``folder``; ``setup`` and a first ``sync`` run unless told not
    to. Returns its ``school.toml``."""
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("var", "__pycache__"))
    path = folder / "school.toml"
    if set_up:
        assert main(["setup", "--config", str(path)]) == 0
    if set_up and synced:
        assert main(["sync", "--config", str(path)]) == 0  # the first cycle reads everything
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``ejournal *args`` in-process: exit code, stdout, stderr (of this call only)."""
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def journal_file(config: Path, key: str) -> tuple[str, Path]:
    """The ledger's file id of journal ``key`` («7Б/physics») and its path in the sheets folder."""
    school = load_school(config)
    with Ledger.open(school.ledger_path) as ledger, ledger.snapshot() as tx:
        record = tx.file_for(FileKind.JOURNAL, key)
    assert record is not None
    return record.id, LocalBackend.from_settings(school.backend).path(record.id)
