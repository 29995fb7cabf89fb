"""Time locks on the local backend: a journal held open in LibreOffice overnight, a period tab
renamed at 23:58, a damaged save at night — the protection cannot land, yet no later change of a
closed cell reaches the ledger (a violation when the day was locked from a proven read, a late
entry when nothing could be proven), and the lock is retried by the next cycles.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from sync.backends.local.backend import LocalBackend
from sync.backends.protocol import CellRange
from sync.jobs.cycle import run_cycle
from sync.jobs.locking import run_locks
from sync.jobs.service import Service
from sync.layout.journal.spec import parse_journal
from sync.ledger.model import FileKind
from tests.sync.backend_helpers import local_teacher_edit
from tests.sync.engine_fixtures import DAY, at, school_for, setup_school

CLASS, SUBJECT, KEY = "7Б", "algebra", "7Б/algebra"
NEXT = date(2026, 9, 9)
Q1 = "1 четверть"


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Local:
    svc: Service
    backend: LocalBackend
    clock: Clock
    file_id: str
    path: Path
    pupil: str
    where: CellRange

    def type(self, value: str, where: CellRange | None = None) -> None:
        at_ = where or self.where
        local_teacher_edit(self.backend, self.file_id, at_.tab, at_.start_row, at_.start_col, value)

    def mark(self) -> tuple[str | None, bool]:
        """(ledger value, locked) of the pupil's mark of DAY."""
        with self.svc.ledger.snapshot() as tx:
            found = [e for e in tx.entries(KEY) if e.pupil_id == self.pupil and e.day == DAY]
            locked = tx.locked_value(KEY, self.pupil, DAY, self.where_lesson())
        return (found[0].value if found else None), locked is not None

    def where_lesson(self) -> int:
        lesson = next(x for x in self.svc.school.lessons()[(CLASS, SUBJECT)] if x.day == DAY)
        return lesson.lesson_no

    def shown(self, tab: str = Q1) -> str:
        grid = self.backend.read(self.file_id, [tab])[tab]
        return str(grid[self.where.start_row][self.where.start_col] or "")

    def pending(self) -> set[str]:
        with self.svc.ledger.snapshot() as tx:
            return set(tx.pending_locks())

    def libreoffice_lock(self) -> Path:
        lock = self.path.parent / f".~lock.{self.path.name}#"
        lock.write_text("teacher,PC-12,12.09.2026 23:50\n", encoding="utf-8")
        return lock


@pytest.fixture
def local(tmp_path: Path) -> Iterator[Local]:
    school = school_for(tmp_path / "ledger.sqlite3", journals=[(CLASS, SUBJECT)])
    clock = Clock(at(DAY, 8))
    backend = LocalBackend(tmp_path / "sheets", settle_seconds=0, clock=clock)
    with Service.open(school, backend=backend, clock=clock) as svc:
        setup_school(svc)
        run_cycle(svc)
        with svc.ledger.snapshot() as tx:
            journal = tx.file_for(FileKind.JOURNAL, KEY)
        assert journal is not None
        lessons = sorted(school.lessons()[(CLASS, SUBJECT)], key=lambda x: (x.day, x.lesson_no))
        reading = parse_journal(backend.read(journal.id, [Q1]), school, CLASS, SUBJECT, lessons)
        pupil = school.pupils_in(CLASS)[0].id
        where = reading.map.cell(pupil, (DAY, lessons[[x.day for x in lessons].index(DAY)]
                                         .lesson_no))
        assert where is not None
        rig = Local(svc, backend, clock, journal.id, backend.path(journal.id), pupil, where)
        clock.now = at(DAY, 10)
        rig.type("2")
        assert run_cycle(svc).tally.entries_accepted == 1
        yield rig


def test_a_journal_open_in_libreoffice_overnight_keeps_yesterday_locked(local: Local) -> None:
    lock = local.libreoffice_lock()
    local.clock.now = at(NEXT, 0, 15)
    night = run_locks(local.svc)
    assert night.skipped_busy == [local.file_id]  # the protection write is refused: busy
    assert local.mark() == ("2", True)  # the ledger locked the day all the same
    assert local.pending() == {local.file_id}

    local.clock.now = at(NEXT, 14)
    local.type("5")  # yesterday's cell: LibreOffice lets her, its protection never landed
    afternoon = run_cycle(local.svc)
    assert afternoon.tally.violations == 1 and afternoon.tally.entries_accepted == 0
    assert local.mark() == ("2", True)
    assert local.shown() == "5"  # the revert waits: the file is still open
    assert local.pending() == {local.file_id}

    lock.unlink()  # she closes LibreOffice
    local.clock.now = at(NEXT, 14, 10)
    healed = run_cycle(local.svc)
    assert healed.locks_retried == 1 and local.pending() == set()
    assert local.shown() == "2" and local.mark() == ("2", True)
    with pytest.raises(PermissionError):
        local.type("5")  # protected now
    assert local.svc.ledger.audit_verify().ok


def test_a_period_tab_renamed_at_2358_does_not_reopen_the_day(local: Local) -> None:
    local.clock.now = at(DAY, 23, 58)
    book = openpyxl.load_workbook(local.path)
    book[Q1].title = "Четверть первая"
    book.save(local.path)
    local.clock.now = at(NEXT, 0, 15)
    run_locks(local.svc)
    assert local.mark() == ("2", True)

    local.clock.now = at(NEXT, 14)
    renamed = CellRange("Четверть первая", local.where.start_row, local.where.start_col,
                        local.where.start_row + 1, local.where.start_col + 1)
    local.type("5", renamed)  # the renamed tab kept yesterday's protection: the sheet lets her
    run_cycle(local.svc)  # renamed back (repair from the ledger), the change refused
    local.clock.now = at(NEXT, 14, 10)
    run_cycle(local.svc)
    assert local.mark() == ("2", True)
    assert local.shown() == "2"
    assert local.pending() == set()
    with local.svc.ledger.snapshot() as tx:
        assert [(v.locked_value, v.attempted_value) for v in tx.violations(KEY)] == [("2", "5")]


def test_a_damaged_save_at_night_then_a_changed_past_is_a_late_entry(local: Local) -> None:
    good = local.path.read_bytes()
    local.clock.now = at(DAY, 23, 30)
    local.path.write_bytes(b"PK\x03\x04 this is not a workbook any more")
    local.clock.now = at(NEXT, 0, 15)
    night = run_locks(local.svc)
    assert [f.file_id for f in night.failed] == [local.file_id]
    assert local.mark() == ("2", False)  # nothing read, nothing locked, nothing accepted
    assert local.pending() == {local.file_id}

    local.clock.now = at(NEXT, 9)
    local.path.write_bytes(good)  # she saves a good copy again — with yesterday's 2 made a 5
    local.type("5")
    morning = run_cycle(local.svc)
    assert morning.tally.late_entries == 1 and morning.tally.entries_accepted == 0
    assert local.mark() == ("2", True)
    with local.svc.ledger.snapshot() as tx:
        (late,) = tx.late_entries(KEY)
    assert (late.typed_value, late.ledger_value) == ("5", "2")
    local.clock.now = at(NEXT, 9, 10)
    run_cycle(local.svc)
    assert local.shown() == "2" and local.pending() == set()


def test_a_changed_past_with_its_mtime_set_back_is_still_a_late_entry(local: Local) -> None:
    """The time proof is when the service first saw the content, not the file's mtime: a copy
    saved at 09:00 with yesterday's 2 made a 5 and ``touch -d '23:00 yesterday'`` proves nothing."""
    good = local.path.read_bytes()
    local.clock.now = at(DAY, 23, 30)
    local.path.write_bytes(b"PK\x03\x04 damaged")
    local.clock.now = at(NEXT, 0, 15)
    run_locks(local.svc)
    assert local.mark() == ("2", False)
    local.clock.now = at(NEXT, 9)
    local.path.write_bytes(good)
    local.type("5")
    stamp = at(DAY, 23, 0).timestamp()
    os.utime(local.path, (stamp, stamp))  # touch -d '23:00 yesterday'
    morning = run_cycle(local.svc)
    assert (morning.tally.entries_accepted, morning.tally.late_entries) == (0, 1)
    assert local.mark() == ("2", True)
    with local.svc.ledger.snapshot() as tx:
        (late,) = tx.late_entries(KEY)
    assert (late.typed_value, late.ledger_value) == ("5", "2")


def test_the_proof_is_when_a_scan_first_saw_the_content_whatever_its_mtime(local: Local) -> None:
    """``modified`` of a local file is the moment the service first saw its content: an mtime
    moved (or set back) alone changes nothing; new content is unproven until a scan sees it."""
    local.clock.now = at(DAY, 15)
    local.type("4")
    assert run_cycle(local.svc).tally.entries_accepted == 1  # its scan saw «4» at 15:00
    assert local.backend.info(local.file_id).modified == at(DAY, 15)
    later = at(NEXT, 0, 5).timestamp()
    os.utime(local.path, (later, later))  # the same content, its mtime after the close
    local.clock.now = at(NEXT, 0, 10)
    local.backend.changes(local.backend.start_token())  # a scan sees the moved mtime
    assert local.backend.info(local.file_id).modified == at(DAY, 15)
    local.clock.now = at(NEXT, 9)
    local.type("5")
    earlier = at(DAY, 12).timestamp()
    os.utime(local.path, (earlier, earlier))  # new content, its mtime set back
    assert local.backend.info(local.file_id).modified is None  # no scan has seen it
    local.clock.now = at(NEXT, 9, 5)
    local.backend.changes(local.backend.start_token())
    assert local.backend.info(local.file_id).modified == at(NEXT, 9, 5)
