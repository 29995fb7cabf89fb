"""The nightly protection follows the journal's real layout, not the expected one (found by the
year simulation, 10.09): an owner inserted a column left of a journal's lessons; the service
reads the journal by its ids and dates and keeps working, but on a night when nothing of that
journal was due to lock (no read that night), the lock job placed today's opening at the
expected layout's position: one column left of today's, i.e. on last lesson's (locked) column.
The teacher could not type today's marks and could type into a closed lesson's column.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import gspread
import pytest

from sync.jobs.cycle import run_cycle
from sync.jobs.locking import run_locks
from tests.sync.engine_fixtures import DAY, ORGANIZER, EngineRig, at, make_rig

CLASS, SUBJECT = "7Б", "algebra"


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[EngineRig]:
    rig = make_rig(tmp_path, journals=[(CLASS, SUBJECT)])
    run_cycle(rig.svc)
    yield rig
    rig.close()
    assert rig.emu.bugs == []


def quiet_lesson_day(rig: EngineRig) -> date:
    """The first lesson day after DAY+1 whose eve closes nothing of the journal (no lesson the
    day before): that night's lock job has no reason to read it."""
    days = sorted({x.day for x in rig.lessons(CLASS, SUBJECT)})
    return next(d for d in days if d > DAY + timedelta(days=1) and d - timedelta(days=1)
                not in days)


def test_todays_marks_open_where_todays_column_is_after_a_column_was_inserted(
        rig: EngineRig) -> None:
    journal = rig.journal(CLASS, SUBJECT).id
    tab = rig.reading(CLASS, SUBJECT).map.cell(
        rig.school.pupils_in(CLASS)[0].id,
        (DAY, rig.lesson_on(CLASS, SUBJECT, DAY).lesson_no))
    assert tab is not None
    sheet = next(s for s in rig.emu.files[journal].spreadsheet.sheets if s.title == tab.tab)
    rig.set_now(at(DAY, 12))
    rig.client(ORGANIZER).http_client.batch_update(journal, {"requests": [{
        "insertDimension": {"range": {"sheetId": sheet.sheet_id, "dimension": "COLUMNS",
                                      "startIndex": 2, "endIndex": 3},
                            "inheritFromBefore": False}}]})
    assert run_cycle(rig.svc).ok
    day = quiet_lesson_day(rig)
    night = DAY + timedelta(days=1)
    while night <= day:  # every night's lock job and the morning's cycle, as the daemon runs
        rig.set_now(at(night, 0, 15))
        assert run_locks(rig.svc).ok
        rig.set_now(at(night, 0, 30))
        assert run_cycle(rig.svc).ok
        night += timedelta(days=1)
    rig.set_now(at(day, 11))
    pupil = rig.school.pupils_in(CLASS, on=day)[0].id
    where = rig.cell(CLASS, SUBJECT, pupil, day)  # today's cell where it really is

    try:
        rig.type(rig.teacher_email(CLASS, SUBJECT), journal, where, "5")
    except gspread.exceptions.APIError as exc:
        pytest.fail(f"today's mark cell {where.a1()} is protected: {exc}")
    assert run_cycle(rig.svc).ok
    with rig.svc.ledger.snapshot() as tx:
        (entry,) = [e for e in tx.entries(f"{CLASS}/{SUBJECT}")
                    if e.day == day and e.pupil_id == pupil]
    assert entry.value == "5"
