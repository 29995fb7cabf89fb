"""A swapped hidden pupil id, through the real cycle on both backends.

Someone who can get past the protection (the drive's organizer on Google; anyone who unprotects
the sheet in LibreOffice on the local backend) gives Ivanov's row Petrov's hidden id, so that what
the teacher types next to «Иванов» would land on Petrov. The cycle refuses the row: Petrov's
entries do not move, neither do Ivanov's; «Замечания» names the row; the hidden id is put back; and
at the next read of the journal the mark typed next to Ivanov's name is Ivanov's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from config.school import School
from sync.backends.local.backend import LocalBackend
from sync.backends.protocol import Backend, CellRange, Grid
from sync.jobs.cycle import run_cycle
from sync.jobs.service import Service
from sync.layout.journal.spec import JournalReading, parse_journal
from sync.layout.labels import RU
from sync.ledger.model import FileKind
from tests.sync.backend_helpers import local_teacher_edit
from tests.sync.engine_fixtures import DAY, ORGANIZER, EngineRig, at, make_rig, school_for
from tests.sync.engine_fixtures import setup_school as set_up

CLASS, SUBJECT, KEY = "7Б", "algebra", "7Б/algebra"


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


class Journal:
    """One journal on either backend: the teacher's and the attacker's edits, and reads."""

    def __init__(self, svc: Service, backend: Backend, set_now: Any,
                 google: EngineRig | None = None) -> None:
        self.svc, self.backend, self.set_now, self.google = svc, backend, set_now, google
        with svc.ledger.snapshot() as tx:
            record = tx.file_for(FileKind.JOURNAL, KEY)
        assert record is not None
        self.id = record.id

    @property
    def school(self) -> School:
        return self.svc.school

    def reading(self) -> JournalReading:
        titles = [p.name for p in self.school.year.periods] + [RU.lessons_tab]
        lessons = sorted(self.school.lessons()[(CLASS, SUBJECT)],
                         key=lambda x: (x.day, x.lesson_no))
        return parse_journal(self.read(titles), self.school, CLASS, SUBJECT, lessons)

    def read(self, titles: list[str]) -> dict[str, Grid]:
        if self.google is not None:
            return self.google.inspector.read(self.id, titles)
        return self.backend.read(self.id, titles)

    def teacher_types(self, where: CellRange, value: str) -> None:
        if self.google is not None:
            self.google.type(self.google.teacher_email(CLASS, SUBJECT), self.id, where, value)
        else:
            local_teacher_edit(self.backend, self.id, where.tab, where.start_row,
                               where.start_col, value)

    def attacker_types(self, where: CellRange, value: str) -> None:
        """Past the protection: the organizer on Google, an unprotecting owner in LibreOffice."""
        if self.google is not None:
            self.google.type(ORGANIZER, self.id, where, value)
            return
        assert isinstance(self.backend, LocalBackend)
        path = self.backend.path(self.id)
        wb = openpyxl.load_workbook(path)
        ws = wb[where.tab]
        ws.protection.sheet = False
        ws.cell(where.start_row + 1, where.start_col + 1).value = value
        wb.save(path)

    def findings(self) -> list[str]:
        grid = self.read([RU.findings_tab])[RU.findings_tab]
        return [" ".join(str(v) for v in row) for row in grid]

    def entries(self) -> list[tuple[str, str, int, str]]:
        with self.svc.ledger.snapshot() as tx:
            return sorted((e.pupil_id, e.day.isoformat(), e.lesson_no, e.value)
                          for e in tx.entries(KEY))


@pytest.fixture(params=["google", "local"])
def journal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Journal]:
    if request.param == "google":
        rig = make_rig(tmp_path, journals=[(CLASS, SUBJECT)])
        run_cycle(rig.svc)
        yield Journal(rig.svc, rig.svc.backend, rig.set_now, google=rig)
        rig.close()
        assert rig.emu.bugs == []
        return
    school = school_for(tmp_path / "ledger.sqlite3", journals=[(CLASS, SUBJECT)])
    clock = Clock(at(DAY, 8))
    backend = LocalBackend(tmp_path / "sheets", settle_seconds=0)
    with Service.open(school, backend=backend, clock=clock) as svc:
        set_up(svc)
        run_cycle(svc)

        def set_now(when: datetime) -> None:
            clock.now = when

        yield Journal(svc, backend, set_now)


def test_a_swapped_hidden_id_sends_no_mark_to_another_pupil(journal: Journal) -> None:
    ivanov, petrov = (p for p in journal.school.pupils_in(CLASS)[2:4])
    lesson = next(x for x in journal.school.lessons()[(CLASS, SUBJECT)] if x.day == DAY)
    key = (DAY, lesson.lesson_no)
    before = journal.reading().map
    mark = before.cell(ivanov.id, key)
    assert mark is not None
    row = mark.start_row
    tab = before.periods[mark.tab]
    hidden = CellRange(mark.tab, row, tab.id_col, row + 1, tab.id_col + 1)

    journal.set_now(at(DAY, 10))
    journal.teacher_types(mark, "2")
    run_cycle(journal.svc)
    assert (ivanov.id, DAY.isoformat(), lesson.lesson_no, "2") in journal.entries()
    accepted = journal.entries()

    journal.set_now(at(DAY, 11))
    journal.attacker_types(hidden, petrov.id)
    journal.teacher_types(mark, "5")  # next to Ivanov's name, in the row now holding Petrov's id
    summary = run_cycle(journal.svc)

    assert journal.entries() == accepted  # Petrov got nothing, Ivanov's «2» still stands
    assert summary.tally.entries_accepted == 0 and summary.tally.violations == 0
    (finding,) = [f for f in journal.findings() if "скрытый код ученика" in f]
    assert f"Лист «{mark.tab}», строка {row + 1}: скрытый код ученика не совпадает с именем " \
           f"«{ivanov.full_name}» в этой строке; отметки строки не приняты." in finding
    grids = journal.read([mark.tab])
    assert grids[mark.tab][row][tab.id_col] == ivanov.id  # the hidden id is back
    assert grids[mark.tab][row][mark.start_col] == "5"  # and the teacher's mark is still there
    with journal.svc.ledger.snapshot() as tx:
        (record,) = [f for f in tx.findings(KEY) if f.rule == "layout_id_mismatch"]
    assert record.cell == f"'{mark.tab}'!C{row + 1}"  # the visible name's cell

    journal.set_now(at(DAY, 12))  # the journal stayed dirty: the next cycle reads it again
    summary = run_cycle(journal.svc)
    assert summary.tally.journals_read == 1
    now = journal.entries()
    assert (ivanov.id, DAY.isoformat(), lesson.lesson_no, "5") in now
    assert [e for e in now if e[0] == petrov.id] == [e for e in accepted if e[0] == petrov.id]
    assert not [f for f in journal.findings() if "скрытый код ученика" in f]
    assert journal.svc.ledger.audit_verify().ok
