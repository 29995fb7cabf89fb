"""The example school keeps the deputies' admin workbook apart from the teachers' folder.

``[backend] private_folder = "var/private"`` in the example: ``setup`` creates it 0700 with the
admin workbook and the manifest in it, the teachers' folder holds only what teachers read. A
deputy's correction row there is applied by ``sync``; a teacher who copies the workbook into the
teachers' folder and signs a row «да» of her own changes nothing.
"""

from __future__ import annotations

import json
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from config import load_school
from sync.cli.main import main
from sync.ledger.ledger import Ledger
from tests.sync.cli.test_cli_sync import run

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "config" / "example"
JOURNAL, TITLE = "7Б/algebra", "7Б · Алгебра"
DAY = "08.09.2026"  # a Tuesday with a 7Б algebra lesson, long past: locked by the first sync
DEPUTY_PUPIL, TEACHER_PUPIL = "s0027", "s0028"

pytestmark = pytest.mark.slow


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    school = tmp_path / "school"
    shutil.copytree(EXAMPLE, school, ignore=shutil.ignore_patterns("var", "__pycache__"))
    path = school / "school.toml"
    assert main(["setup", "--config", str(path)]) == 0
    yield path


def type_row(workbook: Path, row: int, values: list[str]) -> None:
    """Someone opens the workbook in LibreOffice and types a row of «Исправления» (B…I)."""
    wb = openpyxl.load_workbook(workbook)
    ws = wb["Исправления"]
    for offset, value in enumerate(values):
        ws.cell(row + 1, 2 + offset).value = value
    wb.save(workbook)


def marks_of(config: Path, pupil: str) -> list[str]:
    with Ledger.open(load_school(config).ledger_path) as ledger, ledger.snapshot() as tx:
        return [e.value for e in tx.entries(JOURNAL) if e.pupil_id == pupil and e.kind != "empty"]


def test_setup_puts_the_admin_workbook_in_a_private_folder_only_its_owner_may_enter(
    config: Path,
) -> None:
    var = config.parent / "var"
    private, sheets = var / "private", var / "sheets"
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    # the deputies' folder: the admin workbook and the manifest of every file, nothing else
    assert sorted(p.name for p in private.iterdir()) == [
        "ejournal-manifest.json", "Администрация · 2026-27.xlsx"]
    # the teachers' folder, counted from the example's configuration: 45 rows of assignments.csv,
    # 7Б English split into two groups = 44 journals; 3 classes in classes.csv = 3 class sheets;
    # the teachers' board
    assert len(list(sheets.glob("*.xlsx"))) == 44 + 3 + 1 == 48
    assert not list(sheets.glob("Администрация*")) and not (sheets / "ejournal-manifest.json").exists()


def test_the_deputys_row_is_applied_and_a_teachers_copy_signed_da_changes_nothing(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "sync", "--config", str(config))  # locks the past days, empty
    assert code == 0, err
    admin = config.parent / "var" / "private" / "Администрация · 2026-27.xlsx"
    order = ["ошибка при вводе", "45-к", "да"]
    type_row(admin, 1, [TITLE, DAY, DEPUTY_PUPIL, "отметка", "5", *order])
    forged = config.parent / "var" / "sheets" / "Администрация · 2026-27.xlsx"
    shutil.copy(admin, forged)  # a teacher's own copy of the workbook in the teachers' folder
    type_row(forged, 2, [TITLE, DAY, TEACHER_PUPIL, "отметка", "5", "ошибка", "99-к", "да"])

    code, out, err = run(capsys, "sync", "--config", str(config), "--json")

    assert code == 0, out + err
    assert json.loads(out)["corrections"]["applied"] == 1
    assert marks_of(config, DEPUTY_PUPIL) == ["5"]
    assert marks_of(config, TEACHER_PUPIL) == []  # the forged row was never read
    answers = openpyxl.load_workbook(admin)["Исправления"]
    assert answers.cell(2, 10).value == "применено"
    assert answers.cell(3, 2).value is None  # the teacher's row is not in the deputies' workbook
