"""`ejournal setup`, `sync`, `lock`, `status` and `rebuild` in process on the local backend.

A copy of the example school (local backend: .xlsx files under var/sheets) is set up once for the
module; the commands run through ``sync.cli.main.main`` with the real clock, so the checks compare the
commands' output with the ledger rather than with fixed dates.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from config import load_school
from sync.backends.local.backend import LocalBackend
from sync.cli.main import main
from sync.demo.teachers import type_into
from sync.layout.journal.spec import parse_journal
from sync.ledger.ledger import Ledger
from sync.ledger.model import FileKind

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "config" / "example"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    school = tmp_path_factory.mktemp("cli") / "school"
    shutil.copytree(EXAMPLE, school, ignore=shutil.ignore_patterns("var", "__pycache__"))
    path = school / "school.toml"
    assert main(["setup", "--config", str(path)]) == 0
    yield path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_setup_again_finds_everything_there(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "setup", "--config", str(config))
    assert code == 0, err
    assert out.startswith(
        "Setup: 49 spreadsheets: 0 created, 49 already there, 0 rebuilt, 0 failed"
    )
    # 49 = 44 journals + 3 class sheets + the board in var/sheets, the admin's in var/private
    assert len(list((config.parent / "var" / "sheets").glob("*.xlsx"))) == 48
    assert len(list((config.parent / "var" / "private").glob("*.xlsx"))) == 1


def test_sync_prints_a_summary_and_json(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "sync", "--config", str(config))
    assert code == 0, err
    assert out.startswith("Sync: ")
    assert "Findings: " in out and "Violations: 0" in out
    # the example's year began in September, its journal_start is unset: since then, every
    # lesson without a topic is a finding (44 journals × the lessons held)
    opened = int(re.search(r"Findings: (\d+) opened", out).group(1))  # type: ignore[union-attr]
    assert opened > 1000
    assert f"Hint: {opened} findings opened by the first sync: if the journals were kept on " \
        "paper until now, set [year] journal_start in school.toml" in out
    code, out, _ = run(capsys, "sync", "--config", str(config), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["hint"] is None  # not a first cycle
    assert data["kind"] == "sync" and data["ok"] is True
    assert (data["journals_read"], data["writes"], data["violations"]) == (0, 0, 0)  # idle


def test_tampering_after_the_lock_exits_3_and_is_reverted(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "lock", "--config", str(config))
    assert code == 0, err
    assert out.startswith("Locks: 44 journals")

    school = load_school(config)
    backend = LocalBackend.from_settings(school.backend)
    with Ledger.open(school.ledger_path) as ledger, ledger.snapshot() as tx:
        file = tx.file_for(FileKind.JOURNAL, "7Б/algebra")
        view = tx.locked("7Б/algebra")
    assert file is not None
    if not view.mark_lessons:
        pytest.skip("no day of the example year is over yet: nothing is locked")
    day, lesson_no = min(view.mark_lessons)
    lessons = school.lessons()[("7Б", "algebra")]
    tabs = [p.name for p in school.year.periods] + ["Уроки"]
    reading = parse_journal(backend.read(file.id, tabs), school, "7Б", "algebra", lessons)
    pupil = school.pupils_in("7Б", on=day)[0].id
    cell = reading.map.cell(pupil, (day, lesson_no))
    assert cell is not None
    edited = type_into(backend.path(file.id), [(cell, "5")], saved_at=datetime.now(UTC),
                       owner=True)
    assert edited == 1  # past the protection

    code, out, err = run(capsys, "sync", "--config", str(config))
    assert code == 3, out + err
    assert "Violations: 1 (reverted 1)" in out
    again = parse_journal(backend.read(file.id, tabs), school, "7Б", "algebra", lessons)
    assert not [e for e in again.entries if (e.pupil_id, e.day) == (pupil, day)]  # empty again

    code, out, _ = run(capsys, "status", "--config", str(config), "--json")
    assert code == 0
    status = json.loads(out)
    assert (status["violations"], status["violations_unreverted"]) == (1, 0)
    assert [r["kind"] for r in status["runs"][:3]] == ["sync", "lock", "sync"]


def test_rebuild_re_renders_a_deleted_journal(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    school = load_school(config)
    backend = LocalBackend.from_settings(school.backend)
    with Ledger.open(school.ledger_path) as ledger, ledger.snapshot() as tx:
        file = tx.file_for(FileKind.JOURNAL, "5А/math")
    assert file is not None
    backend.path(file.id).unlink()

    code, out, err = run(capsys, "rebuild", "--config", str(config), "--json")
    assert code == 0, err
    data = json.loads(out)
    math = "Журнал 5А · Математика · 2026/27"  # as a person knows it, not «journal 5А/math»
    assert data["rebuilt"] == [math] and data["failed"] == []
    assert "Журнал 7Б · Физика · 2026/27" in data["rerendered"]
    assert "diary of pupil s0001" in data["rerendered"]  # a diary by its pupil's id, no name
    assert "Антонов" not in out
    code, out, err = run(capsys, "rebuild", "--config", str(config))
    assert code == 0, err
    # 44 journals, the teachers' board and 73 pupils' diaries laid out again
    assert out.startswith("Rebuild: created 0, rebuilt 0, rerendered 118")
    assert "Rebuilt from the ledger" not in out  # nothing was gone this time
    with Ledger.open(school.ledger_path) as ledger, ledger.snapshot() as tx:
        rebuilt = tx.file_for(FileKind.JOURNAL, "5А/math")
    assert rebuilt is not None
    assert backend.path(rebuilt.id).is_file()
