"""Busy vs damaged on the local backend: a journal overwritten with garbage is set aside, not retried.

A simulated clock (the rig of ``test_local_attacks``: settled at once): the teacher's mark is read
and accepted, then the file is overwritten with garbage; the next cycle moves the garbage to
``.trash/`` (kept, byte for byte) and rebuilds the journal from the ledger under its own name, with
the mark the teacher had typed. The cycle after that is clean.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.backends.local.backend import LocalBackend
from sync.jobs.cycle import run_cycle
from sync.jobs.service import Service
from sync.layout.journal.spec import parse_journal
from sync.layout.labels import RU
from sync.ledger.model import FileKind, FileRecord
from tests.sync.backend_helpers import local_teacher_edit
from tests.sync.engine_fixtures import DAY, at, school_for, setup_school

CLASS, SUBJECT = "7Б", "algebra"
GARBAGE = b"garbage\n" * 64


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Service]:
    school = school_for(tmp_path / "var" / "ledger.sqlite3", journals=[(CLASS, SUBJECT)])
    backend = LocalBackend(tmp_path / "sheets", settle_seconds=0, clock=lambda: at(DAY, 10))
    with Service.open(school, backend=backend, clock=lambda: at(DAY, 10)) as service:
        setup_school(service)
        run_cycle(service)
        yield service


def journal(svc: Service) -> FileRecord:
    with svc.ledger.snapshot() as tx:
        record = tx.file_for(FileKind.JOURNAL, f"{CLASS}/{SUBJECT}")
    assert record is not None
    return record


def marks_shown(svc: Service, file_id: str) -> dict[str, str]:
    school = svc.school
    lessons = school.lessons()[(CLASS, SUBJECT)]
    titles = [p.name for p in school.year.periods] + [RU.lessons_tab]
    reading = parse_journal(svc.backend.read(file_id, titles), school, CLASS, SUBJECT, lessons)
    return {e.pupil_id: str(e.raw) for e in reading.entries if e.day == DAY}


def test_a_journal_overwritten_with_garbage_is_set_aside_and_rebuilt_with_its_read_cells(
    svc: Service,
) -> None:
    backend = svc.backend
    assert isinstance(backend, LocalBackend)
    old = journal(svc)
    pupil = svc.school.pupils_in(CLASS, on=DAY)[0].id
    lesson = next(x for x in svc.school.lessons()[(CLASS, SUBJECT)] if x.day == DAY)
    school = svc.school
    titles = [p.name for p in school.year.periods] + [RU.lessons_tab]
    reading = parse_journal(backend.read(old.id, titles), school, CLASS, SUBJECT,
                            school.lessons()[(CLASS, SUBJECT)])
    cell = reading.map.cell(pupil, (DAY, lesson.lesson_no))
    assert cell is not None
    local_teacher_edit(backend, old.id, cell.tab, cell.start_row, cell.start_col, "5")
    assert run_cycle(svc).tally.entries_accepted == 1

    path = backend.path(old.id)
    name = path.name
    path.write_bytes(GARBAGE)
    summary = run_cycle(svc)

    new = journal(svc)
    assert new.id != old.id
    assert (summary.set_aside, summary.rebuilt, summary.failed) == ([old.id], [new.id], [])
    assert summary.skipped_busy == []  # damaged, not "busy"
    kept = list((path.parent / ".trash").iterdir())
    assert [p.read_bytes() for p in kept] == [GARBAGE]
    assert backend.path(new.id).name == name  # its own name, never «(2)»
    assert not [p.name for p in path.parent.glob("*.xlsx") if "(2)" in p.name]
    assert marks_shown(svc, new.id) == {pupil: "5"}  # the cell the service had read

    again = run_cycle(svc)
    assert (again.set_aside, again.failed, again.skipped_busy) == ([], [], [])
