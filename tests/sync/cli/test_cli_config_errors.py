"""A configuration file that failed to load is reported once, never as a cascade of errors about
what refers to it (a pupils.csv saved in cp1251 gave 97 «unknown pupil» lines before)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sync.cli.main import main

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "config" / "example"


@pytest.mark.parametrize("broken", ["pupils.csv", "teachers.csv"])
def test_a_file_that_failed_to_load_causes_no_cascade(
    broken: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    school = tmp_path / "school"
    shutil.copytree(EXAMPLE, school, ignore=shutil.ignore_patterns("var", "__pycache__"))
    path = school / broken
    path.write_bytes(path.read_text(encoding="utf-8").encode("cp1251"))  # Excel's «CSV»

    code = main(["check", "--config", str(school / "school.toml")])
    out, err = capsys.readouterr()
    assert code == 1, out
    problems = [line for line in err.splitlines() if line.startswith("  - ")]
    assert problems == [
        f"  - {path.resolve()}: line 2: is not UTF-8 text (in Excel: «Сохранить как» → "
        "«CSV UTF-8»)"  # the full path: the sysadmin may not be in that folder
    ]
    assert "Error: configuration has 1 problem" in err and "unknown" not in err
