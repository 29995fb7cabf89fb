"""``restore`` refuses another school's ledger (none of its spreadsheets is in this folder) unless
``--force``; the school's own backup is restored as before. Two copies of the example school, each
set up on the local backend in its own folder."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from sync.cli.main import main

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "config" / "example"

pytestmark = pytest.mark.slow


def school(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("var", "__pycache__"))
    config = folder / "school.toml"
    assert main(["setup", "--config", str(config)]) == 0
    assert main(["backup", "--config", str(config)]) == 0
    return config


def test_restore_refuses_another_schools_ledger_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ours, theirs = school(tmp_path, "ours"), school(tmp_path, "theirs")
    (their_backup,) = (theirs.parent / "var" / "backups").glob("ledger-*.sqlite3")
    (our_backup,) = (ours.parent / "var" / "backups").glob("ledger-*.sqlite3")
    ledger = ours.parent / "var" / "ledger.sqlite3"
    before = ledger.read_bytes()
    capsys.readouterr()

    code = main(["restore", "--config", str(ours), str(their_backup)])
    out, err = capsys.readouterr()
    assert code == 1, out + err
    (error,) = [line for line in err.splitlines() if line.startswith("Error: ")]
    assert "registers spreadsheets this school's folder does not hold" in error
    assert "add --force" in err and "Traceback" not in err
    assert ledger.read_bytes() == before  # nothing moved
    assert not list(ledger.parent.glob("*.before-restore-*"))

    assert main(["restore", "--config", str(ours), str(our_backup)]) == 0  # its own: restored
    time.sleep(1.1)  # the ledger moved aside is named by the second
    assert main(["restore", "--config", str(ours), str(their_backup), "--force"]) == 0
    out, _ = capsys.readouterr()
    assert f"Restored {ledger} from {their_backup}" in out
