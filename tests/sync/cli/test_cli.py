"""The CLI contract: help texts, exit codes, `ejournal check` on the example school and on broken copies."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from sync.cli.main import cli, main

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "config" / "example"


def all_commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        found.append((full, command))
        if isinstance(command, click.Group):
            found.extend(all_commands(command, prefix=f"{full} "))
    return found


COMMANDS = all_commands(cli)


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_command_has_help_ending_with_an_example(name: str, command: click.Command) -> None:
    assert command.help, f"{name} has no help text"
    assert re.search(r"Example:\s*\n\s+ejournal ", command.help), f"{name}'s help ends with no example"


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_no_example_writes_into_the_packages_example_folder(
    name: str, command: click.Command
) -> None:
    """Only ``check`` (which writes nothing) may name config/example: the others would put a
    ledger and spreadsheets into the installed package."""
    example = (command.help or "").rpartition("Example:")[2]
    if name != "check":
        assert "config/example" not in example, name


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_command_is_in_the_readme(name: str, command: click.Command) -> None:
    assert f"ejournal {name}" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_help_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "Example:" in capsys.readouterr().out


def test_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--no-such-option"]) == 2
    assert "No such option" in capsys.readouterr().err


def test_missing_config_file_is_an_error_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--config", str(tmp_path / "absent.toml")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ")
    assert "Traceback" not in err


def test_console_script_runs_as_a_module() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sync", "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert "ejournal" in done.stdout


def copy_example(tmp_path: Path) -> Path:
    target = tmp_path / "school"
    shutil.copytree(EXAMPLE, target)
    return target


def test_check_accepts_the_example_school(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--config", str(EXAMPLE / "school.toml")]) == 0
    out = capsys.readouterr().out
    assert "Classes: 3 · pupils: 73" in out
    assert "journals: 44" in out  # 45 assignment rows, 7Б English split into two groups
    assert re.search(r"1 четверть: \d+", out)
    assert "OK: configuration is valid." in out


def test_check_warns_that_a_local_school_without_a_private_folder_applies_no_correction(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    school = copy_example(tmp_path)
    replace_in(school / "school.toml", 'private_folder = "var/private"', '# private_folder = "x"')
    assert main(["check", "--config", str(school / "school.toml")]) == 0
    lines = capsys.readouterr().out.splitlines()
    warning = next(i for i, x in enumerate(lines) if "backend.private_folder" in x)
    assert lines[warning].startswith("Warning: ") and "no correction is applied" in lines[warning]
    assert lines[warning + 1].startswith('Hint: set private_folder = "var/private" under [backend]')

    replace_in(school / "school.toml", '# private_folder = "x"', 'private_folder = "private"')
    assert main(["check", "--config", str(school / "school.toml")]) == 0
    assert "private_folder" not in capsys.readouterr().out


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_check_names_four_mistakes_of_different_kinds_with_their_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    school = copy_example(tmp_path)
    replace_in(school / "school.toml", 'timezone = "Europe/Moscow"', 'timezone = "Europe/Moskva"')
    replace_in(school / "pupils.csv", "s0002,5А,", "s0001,5А,")  # duplicate pupil id
    replace_in(school / "parents.csv", "antonova.kv.example@gmail.com", "antonova.kv.example@")
    replace_in(school / "timetable.csv", "1,1,10А,algebra,", "1,1,10А,alchemy,")  # unknown subject

    assert main(["check", "--config", str(school / "school.toml")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: configuration has")
    lines = err.splitlines()
    for file, fragment in [
        ("school.toml", "Europe/Moskva"),
        ("pupils.csv", "s0001"),
        ("parents.csv", "antonova.kv.example@"),
        ("timetable.csv", "alchemy"),
    ]:
        assert any(file in line and fragment in line for line in lines), (file, fragment, err)
    assert "Hint:" in err
    assert "Traceback" not in err
