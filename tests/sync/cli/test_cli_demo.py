"""`ejournal demo` from the command line: usage errors and refusals (the demo itself:
tests/sync/test_demo.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sync.cli.main import main


def test_demo_needs_its_folder(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 2
    assert "Missing option '--dir'" in capsys.readouterr().err


@pytest.mark.parametrize("days", ["0", "31", "many"])
def test_demo_days_must_be_a_sensible_number(
    tmp_path: Path, days: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--dir", str(tmp_path / "d"), "--days", days]) == 2
    assert "Invalid value for '--days'" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()


def test_demo_refuses_a_folder_that_is_not_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "keep.txt").write_text("x", encoding="utf-8")
    assert main(["demo", "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"Error: {tmp_path} exists and is not an empty folder")
    assert "Hint: choose a new folder" in err
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]
