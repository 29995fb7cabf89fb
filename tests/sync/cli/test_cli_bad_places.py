"""Every command answers a bad place with one ``Error:`` line and a ``Hint:``, exit code 1, no traceback.

The places are real (``tests.sync.cli.places``): a config or ledger path under a file, a ledger
folder nobody may write, a demo folder that is read-only, read-only and empty, or under a file.
"""

from __future__ import annotations

import errno
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.cli.main import main
from sync.cli.oserrors import os_error_lines
from tests.sync.cli.places import read_only, under_a_file

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "config" / "example"
LEDGER_LINE = 'path = "var/ledger.sqlite3"'

pytestmark = pytest.mark.slow

# every command that takes --config (restore's BACKUP is appended), with the arguments it needs
COMMANDS = [
    ("setup",), ("sync",), ("lock",), ("status",), ("rebuild",), ("backup",), ("audit", "verify"),
    ("acl", "check"), ("acl", "fix"), ("report", "weekly", "--no-deliver"), ("restore",),
]


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The example school, set up (a ledger and its spreadsheets)."""
    folder = tmp_path_factory.mktemp("places") / "school"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("var", "__pycache__"))
    assert main(["setup", "--config", str(folder / "school.toml")]) == 0
    yield folder


def answered_cleanly(capsys: pytest.CaptureFixture[str], args: list[str]) -> str:
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert "Traceback" not in err + out
    lines = err.splitlines()
    assert len([line for line in lines if line.startswith("Error: ")]) == 1, err
    assert len([line for line in lines if line.startswith("Hint: ")]) == 1, err
    return err


def with_backup(command: tuple[str, ...], backup: Path) -> list[str]:
    return [*command, str(backup)] if command == ("restore",) else list(command)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_config_path_under_a_file(
    command: tuple[str, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = under_a_file(tmp_path) / "school.toml"
    err = answered_cleanly(capsys, [*with_backup(command, tmp_path / "b"), "--config", str(config)])
    assert "cannot be read: Not a directory" in err


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_ledger_path_under_a_file(
    command: tuple[str, ...], school: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "school"
    shutil.copytree(EXAMPLE, other, ignore=shutil.ignore_patterns("var", "__pycache__"))
    (other / "var").write_text("a file where the ledger's folder should be\n", encoding="utf-8")
    toml = other / "school.toml"
    assert LEDGER_LINE in toml.read_text(encoding="utf-8")
    backup = school / "var" / "ledger.sqlite3"
    err = answered_cleanly(capsys, [*with_backup(command, backup), "--config", str(toml)])
    assert str(other / "var") in err


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_ledger_folder_nobody_may_write(
    command: tuple[str, ...], school: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backup = tmp_path / "copy.sqlite3"
    shutil.copy2(school / "var" / "ledger.sqlite3", backup)
    before = sorted(p.name for p in (school / "var").iterdir())
    with read_only(school / "var"):
        answered_cleanly(
            capsys, [*with_backup(command, backup), "--config", str(school / "school.toml")]
        )
    assert sorted(p.name for p in (school / "var").iterdir()) == before  # nothing half-made


@pytest.mark.parametrize("place", ["read-only", "read-only and empty", "under a file"])
def test_demo_in_a_bad_place(place: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parent = tmp_path / "parent"
    parent.mkdir()
    if place == "under a file":
        err = answered_cleanly(capsys, ["demo", "--dir", str(under_a_file(tmp_path))])
        assert "Hint: a part of that path is a file, not a folder" in err
        return
    target = parent if place == "read-only and empty" else parent / "demo"
    with read_only(parent):
        err = answered_cleanly(capsys, ["demo", "--dir", str(target)])
    assert "may not write there" in err
    assert list(parent.iterdir()) == []


def test_a_full_disk_is_named_with_its_hint() -> None:
    message, hint = os_error_lines(OSError(errno.ENOSPC, "No space left on device", "/srv/x"))
    assert message == "cannot use /srv/x: No space left on device"
    assert hint.startswith("the disk is full: free some space")
