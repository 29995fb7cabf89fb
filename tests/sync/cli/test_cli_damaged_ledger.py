"""Only a missing ledger is a new one: an empty or damaged ledger file is refused with the restore hint.

``status``, ``setup`` and ``sync`` on a set-up school whose ledger was truncated to 0 bytes or
overwritten with garbage (the audit anchor deleted too, so nothing but the file itself can tell):
exit code 1, one ``Error:`` and a restore ``Hint:``, and not one spreadsheet created beside the old
ones; ``restore`` of the backup then brings the school back.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sync.cli.main import main

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "config" / "example"

pytestmark = pytest.mark.slow


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("damage", ["empty", "garbage"])
def test_a_damaged_ledger_is_refused_not_taken_for_a_new_school(
    damage: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    school = tmp_path / "school"
    shutil.copytree(EXAMPLE, school, ignore=shutil.ignore_patterns("var", "__pycache__"))
    config = str(school / "school.toml")
    assert main(["setup", "--config", config]) == 0
    assert main(["backup", "--config", config]) == 0
    (backup,) = (school / "var" / "backups").glob("ledger-*.sqlite3")
    capsys.readouterr()
    sheets = school / "var" / "sheets"
    before = listing(sheets)
    # 44 journals, 3 class sheets, the board (the admin workbook lives in var/private)
    assert len([name for name in before if name.endswith(".xlsx")]) == 48

    ledger = school / "var" / "ledger.sqlite3"
    ledger.write_bytes(b"" if damage == "empty" else b"garbage\n" * 100)
    (school / "var-ledger.anchor").unlink()  # only the file itself can tell
    for command in ("status", "setup", "sync"):
        code = main([command, "--config", config])
        out, err = capsys.readouterr()
        assert code == 1, out + err
        (error,) = [line for line in err.splitlines() if line.startswith("Error: ")]
        if damage == "empty":
            assert error == f"Error: ledger {ledger} is empty (0 bytes): a damaged ledger, not a new one"
        else:
            assert error.startswith(f"Error: ledger {ledger} is not a SQLite database or is damaged")
        assert "Hint: restore the newest good backup" in err
        assert "Traceback" not in err and "run `ejournal setup` first" not in err
    assert listing(sheets) == before  # no «(2)» copies, nothing re-created
    assert ledger.stat().st_size == (0 if damage == "empty" else 800)  # kept as it was

    assert main(["restore", "--config", config, str(backup)]) == 0
    capsys.readouterr()
    assert main(["status", "--config", config, "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["files"]["journal_ok"] == 44
