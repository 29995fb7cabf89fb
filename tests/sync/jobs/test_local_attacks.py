"""Attacks on the local backend through the files teachers can touch, run through the real cycle and
lock job: each now fails to change the ledger, and says why in English (logs, run summary).

* the manifest names a file outside the sheets folder (``../``, an absolute path, a symlink);
* a journal replaced by an xlsx bomb (a few MB that inflate to GBs).

The swapped hidden pupil id (both backends) is in ``test_hidden_id.py``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from sync.backends.local.backend import LocalBackend
from sync.backends.local.manifest import MANIFEST_NAME
from sync.backends.protocol import CellRange
from sync.jobs.cycle import run_cycle
from sync.jobs.locking import run_locks
from sync.jobs.service import Service
from sync.layout.journal.spec import parse_journal
from sync.layout.labels import RU
from sync.ledger.model import FileKind, FileRecord
from tests.sync.backend_helpers import local_teacher_edit
from tests.sync.backends.xlsx_bombs import cell_bomb
from tests.sync.engine_fixtures import DAY, at, school_for, setup_school

CLASS, SUBJECT, KEY = "7Б", "algebra", "7Б/algebra"
OTHER = ("7Б", "russian")
NEXT = date(2026, 9, 9)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class LocalRig:
    svc: Service
    backend: LocalBackend
    clock: Clock
    folder: Path

    def journal(self, class_id: str = CLASS, subject_id: str = SUBJECT) -> FileRecord:
        with self.svc.ledger.snapshot() as tx:
            record = tx.file_for(FileKind.JOURNAL, f"{class_id}/{subject_id}")
        assert record is not None
        return record

    def mark_cell(self, pupil: str, class_id: str = CLASS, subject_id: str = SUBJECT
                  ) -> CellRange:
        school = self.svc.school
        lessons = sorted(school.lessons()[(class_id, subject_id)],
                         key=lambda x: (x.day, x.lesson_no))
        lesson = next(x for x in lessons if x.day == DAY)
        titles = [p.name for p in school.year.periods] + [RU.lessons_tab]
        file_id = self.journal(class_id, subject_id).id
        reading = parse_journal(self.backend.read(file_id, titles), school, class_id, subject_id,
                                lessons)
        where = reading.map.cell(pupil, (DAY, lesson.lesson_no))
        assert where is not None
        return where

    def entries(self) -> list[tuple[str, str, int, str]]:
        with self.svc.ledger.snapshot() as tx:
            return sorted((e.pupil_id, e.day.isoformat(), e.lesson_no, e.value)
                          for key in (KEY, "/".join(OTHER)) for e in tx.entries(key))


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[LocalRig]:
    school = school_for(tmp_path / "var" / "ledger.sqlite3", journals=[(CLASS, SUBJECT), OTHER])
    clock = Clock(at(DAY, 8))
    folder = tmp_path / "sheets"
    backend = LocalBackend(folder, settle_seconds=0)
    with Service.open(school, backend=backend, clock=clock) as svc:
        setup_school(svc)
        run_cycle(svc)
        yield LocalRig(svc, backend, clock, folder)


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(),
                                         p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def point_manifest(folder: Path, file_id: str, path: str) -> None:
    manifest = folder / MANIFEST_NAME
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["files"][file_id]["path"] = path
    manifest.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def type_at(path: Path, where: CellRange, value: str) -> None:
    """Typed into a copy outside the folder: no protection to stop it there."""
    wb = openpyxl.load_workbook(path)
    wb[where.tab].cell(where.start_row + 1, where.start_col + 1).value = value
    wb.save(path)


# --------------------------------------------------------------------------- manifest paths


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink"])
def test_a_manifest_path_out_of_the_folder_changes_nothing_and_says_why(
        rig: LocalRig, tmp_path: Path, caplog: pytest.LogCaptureFixture, kind: str) -> None:
    """The attacker copies a journal outside, types a «5» there (no protection outside) and points
    the manifest at the copy; sync and the lock job refuse the file: no mark accepted, the copy
    neither read nor rewritten (the lock job would protect it), the other journal still synced."""
    journal = rig.journal()
    pupil = rig.svc.school.pupils_in(CLASS)[0].id
    where = rig.mark_cell(pupil)
    outside = tmp_path / "outside"
    outside.mkdir()
    evil = outside / "evil.xlsx"
    shutil.copyfile(rig.backend.path(journal.id), evil)
    type_at(evil, where, "5")
    if kind == "symlink":
        (rig.folder / "link.xlsx").symlink_to(evil)
    path = {"dotdot": "../outside/evil.xlsx", "absolute": str(evil), "symlink": "link.xlsx"}[kind]
    point_manifest(rig.folder, journal.id, path)
    before_outside, before_entries = snapshot(outside), rig.entries()

    rig.clock.now = at(DAY, 10)
    other_pupil = rig.svc.school.pupils_in(OTHER[0])[1].id
    other = rig.mark_cell(other_pupil, *OTHER)
    local_teacher_edit(rig.backend, rig.journal(*OTHER).id, other.tab, other.start_row,
                       other.start_col, "4")
    with caplog.at_level(logging.WARNING):
        summary = run_cycle(rig.svc)
        rig.clock.now = at(NEXT, 0, 15)
        locks = run_locks(rig.svc)

    expected = f"its path in the manifest ({path!r}) is not a relative path inside the sheets"
    for data in (summary.to_json(), locks.to_json()):
        assert [f["file"] for f in data["failed"]] == [journal.id], data["failed"]
        assert expected in data["failed"][0]["error"]
    assert any(expected in r.getMessage() for r in caplog.records)
    assert rig.entries() == sorted([*before_entries,
                                    (other_pupil, DAY.isoformat(), other_lesson(rig), "4")])
    assert snapshot(outside) == before_outside
    assert rig.svc.ledger.audit_verify().ok


def other_lesson(rig: LocalRig) -> int:
    lessons = rig.svc.school.lessons()[OTHER]
    return next(x.lesson_no for x in lessons if x.day == DAY)


# --------------------------------------------------------------------------- xlsx bomb


def test_a_journal_replaced_by_an_xlsx_bomb_is_refused_and_the_others_still_sync(
        rig: LocalRig, caplog: pytest.LogCaptureFixture) -> None:
    """A 3 MB workbook whose sheet inflates to ~3 GB sits where the journal was: the cycle and the
    lock job refuse it before inflating anything, the ledger keeps what it had, and the other
    journal is read and accepted as usual (the RSS of the same refusal: ``test_local_caps``)."""
    journal = rig.journal()
    path = rig.backend.path(journal.id)
    bomb = cell_bomb(path.read_bytes(), inflated=3 * 2**30)
    path.write_bytes(bomb)
    assert len(bomb) < 4 * 2**20
    before = rig.entries()

    rig.clock.now = at(DAY, 10)
    other_pupil = rig.svc.school.pupils_in(OTHER[0])[2].id
    other = rig.mark_cell(other_pupil, *OTHER)
    local_teacher_edit(rig.backend, rig.journal(*OTHER).id, other.tab, other.start_row,
                       other.start_col, "3")
    with caplog.at_level(logging.WARNING):
        summary = run_cycle(rig.svc)
        rig.clock.now = at(NEXT, 0, 15)
        locks = run_locks(rig.svc)
    for data in (summary.to_json(), locks.to_json()):
        assert [f["file"] for f in data["failed"]] == [journal.id], data["failed"]
        assert "too large to be a spreadsheet of ejournal" in data["failed"][0]["error"]
    assert rig.entries() == sorted([*before, (other_pupil, DAY.isoformat(), other_lesson(rig),
                                              "3")])
    assert path.read_bytes() == bomb  # refused, not "repaired" over the teacher's file
