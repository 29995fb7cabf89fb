"""The nightly lock job over the emulator: protect first, then read and lock; grace windows of
written works; the period-mark window; uncertain protection writes re-checked before a retry; a
failing journal retried the next night; what a cell holds at the first read after its protection
is accepted; a layout whose positions moved is protected where the cells really are.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import gspread
import pytest

from sync.engine import load_dirty, run_cycle
from sync.layout_journal_map import LessonField
from sync.locking import RANGES_KEY, run_locks, same_cells
from sync.summary import LockSummary
from tests.sync.engine_fixtures import DAY, ORGANIZER, SVC, EngineRig, at, make_rig

CLASS, SUBJECT = "7Б", "algebra"
KEY = "7Б/algebra"
NEXT = date(2026, 9, 9)
Q1 = "1 четверть"


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[EngineRig]:
    rig = make_rig(tmp_path)
    run_cycle(rig.svc)
    rig.set_now(at(DAY, 10))
    yield rig
    rig.close()
    assert rig.emu.bugs == []


def pupil(rig: EngineRig, n: int = 0) -> str:
    return rig.school.pupils_in(CLASS)[n].id


def teacher_types(rig: EngineRig, pupil_id: str, day: date, value: str) -> None:
    where = rig.cell(CLASS, SUBJECT, pupil_id, day)
    rig.type(rig.teacher_email(CLASS, SUBJECT), rig.journal(CLASS, SUBJECT).id, where, value)


def teacher_types_fact(rig: EngineRig, day: date, name: LessonField, value: str) -> None:
    lesson = rig.lesson_on(CLASS, SUBJECT, day)
    where = rig.reading(CLASS, SUBJECT).map.lesson_field((day, lesson.lesson_no), name)
    assert where is not None
    rig.type(rig.teacher_email(CLASS, SUBJECT), rig.journal(CLASS, SUBJECT).id, where, value)


def locks_at(rig: EngineRig, day: date) -> LockSummary:
    rig.set_now(at(day, 0, 15))
    return run_locks(rig.svc)


def lesson_locks(rig: EngineRig, day: date) -> tuple[bool, bool]:
    with rig.svc.ledger.snapshot() as tx:
        (lesson,) = [x for x in tx.lessons(KEY) if x.facts.day == day]
    return lesson.info_locked_at is not None, lesson.marks_locked_at is not None


def refused(rig: EngineRig, action: object) -> bool:
    try:
        action()  # type: ignore[operator]
    except gspread.exceptions.APIError as exc:
        return "protected" in str(exc)
    return False


def test_whatever_the_cell_holds_at_the_first_read_after_protection_is_accepted(
        rig: EngineRig) -> None:
    teacher_types(rig, pupil(rig), DAY, "5")
    run_cycle(rig.svc)
    rig.set_now(at(DAY, 23, 30))
    teacher_types(rig, pupil(rig, 1), DAY, "4")  # typed after the last cycle, before day end
    summary = locks_at(rig, NEXT)

    assert summary.ok and summary.tally.entries_accepted == 1
    with rig.svc.ledger.snapshot() as tx:
        late = next(e for e in tx.entries(KEY) if e.pupil_id == pupil(rig, 1) and e.day == DAY)
    assert (late.value, late.first_seen, late.locked_at) == ("4", summary.started, summary.started)
    assert lesson_locks(rig, DAY) == (True, True)
    assert refused(rig, lambda: teacher_types(rig, pupil(rig, 2), DAY, "3"))


def test_a_control_works_marks_stay_open_for_its_grace_while_the_topic_locks(
        rig: EngineRig) -> None:
    teacher_types_fact(rig, DAY, LessonField.WORK_TYPE, "Контрольная работа")  # grade 7: 7 days
    teacher_types_fact(rig, DAY, LessonField.TOPIC, "Контрольная работа № 1")
    run_cycle(rig.svc)
    locks_at(rig, NEXT)
    run_cycle(rig.svc)

    rig.set_now(at(date(2026, 9, 14), 16))
    teacher_types(rig, pupil(rig), DAY, "4")  # checked works marked days later: allowed
    assert refused(rig, lambda: teacher_types_fact(rig, DAY, LessonField.TOPIC, "другая"))
    assert lesson_locks(rig, DAY) == (True, False)
    summary = run_cycle(rig.svc)
    assert summary.tally.entries_accepted == 1 and summary.tally.violations == 0

    assert locks_at(rig, date(2026, 9, 15)).days_locked >= 1  # still in the grace window
    assert lesson_locks(rig, DAY) == (True, False)
    summary = locks_at(rig, date(2026, 9, 16))  # 08.09 + 7 days ended at 23:59 on 15.09
    assert summary.ok and lesson_locks(rig, DAY) == (True, True)
    assert refused(rig, lambda: teacher_types(rig, pupil(rig, 1), DAY, "5"))


def test_the_period_mark_column_opens_in_its_window_and_locks_after_it(rig: EngineRig) -> None:
    locks_at(rig, NEXT)
    run_cycle(rig.svc)
    reading = rig.reading(CLASS, SUBJECT)
    where = reading.map.period_mark_cell(pupil(rig), Q1)
    assert where is not None
    journal = rig.journal(CLASS, SUBJECT).id
    email = rig.teacher_email(CLASS, SUBJECT)
    rig.set_now(at(date(2026, 10, 15), 12))
    assert refused(rig, lambda: rig.type(email, journal, where, "5"))  # before the window

    locks_at(rig, date(2026, 10, 16))  # Q1 ends 23.10: open from 16.10 (7 days before)
    rig.set_now(at(date(2026, 10, 16), 12))
    rig.type(email, journal, where, "5")
    run_cycle(rig.svc)
    with rig.svc.ledger.snapshot() as tx:
        (mark,) = tx.period_marks(KEY)
    assert (mark.pupil_id, mark.period, mark.value, mark.locked_at) == (pupil(rig), Q1, "5", None)

    summary = locks_at(rig, date(2026, 10, 27))  # closed 3 days after the end, at 23:59 on 26.10
    assert (summary.periods_locked, summary.period_marks_locked) == (3, 1)  # 3 journals
    assert refused(rig, lambda: rig.type(email, journal, where, "4"))


def _protection_fault(rig: EngineRig, kind: str) -> None:
    file_id = rig.journal(CLASS, SUBJECT).id

    def match(method: str, path: str) -> bool:
        del method
        return file_id in path and path.endswith(":batchUpdate") and "/values" not in path

    rig.emu.faults.add(kind, match=match, times=1, principal=SVC)


@pytest.mark.parametrize(("fault", "writes"), [("timeout_after", 3), ("reset", 4)])
def test_an_uncertain_protection_write_is_rechecked_before_any_retry(
        rig: EngineRig, fault: str, writes: int) -> None:
    """``timeout_after``: applied, answer lost → re-read shows it landed: no second write.
    ``reset``: not applied → re-read shows the old state: written once more."""
    teacher_types(rig, pupil(rig), DAY, "5")
    run_cycle(rig.svc)
    _protection_fault(rig, fault)
    rig.set_now(at(NEXT, 0, 15))
    rig.emu.reset_counters()

    summary = run_locks(rig.svc)

    assert summary.ok, summary.to_json()
    assert (summary.protections_written, summary.protections_rechecked) == (3, 1)
    assert rig.calls()["sheets_write"] == writes
    assert rig.calls()["sheets_read"] == 3 + 1  # three journal reads, one protection re-read
    assert refused(rig, lambda: teacher_types(rig, pupil(rig), DAY, "2"))
    file_id = rig.journal(CLASS, SUBJECT).id
    with rig.svc.ledger.snapshot() as tx:
        recorded = tx.state_get(RANGES_KEY.format(file_id=file_id))
    assert recorded is not None
    assert same_cells(rig.svc.backend.open_ranges(file_id), _decode(recorded))


def _decode(text: str) -> dict[str, list]:  # type: ignore[type-arg]
    import json

    from sync.backend import CellRange

    return {tab: [CellRange(tab, *r) for r in ranges] for tab, ranges in json.loads(text).items()}


def test_a_journal_whose_protection_fails_is_neither_read_nor_locked_and_is_retried(
        rig: EngineRig) -> None:
    teacher_types(rig, pupil(rig), DAY, "5")
    run_cycle(rig.svc)
    file_id = rig.journal(CLASS, SUBJECT).id
    rig.emu.faults.add("500", match=lambda m, p: file_id in p and "/values" not in p,
                       times=None, principal=SVC)
    summary = locks_at(rig, NEXT)

    assert [p.file_id for p in summary.failed] == [file_id]
    assert summary.protections_written == 2 and summary.tally.journals_read == 2  # the others
    with rig.svc.ledger.snapshot() as tx:
        entry = next(e for e in tx.entries(KEY) if e.day == DAY)
    assert entry.locked_at is None  # never locked in the ledger before protection held

    rig.emu.faults.clear()
    retry = locks_at(rig, NEXT)
    assert retry.ok and (retry.protections_written, retry.tally.journals_read) == (1, 1)
    assert lesson_locks(rig, DAY) == (True, True)
    assert refused(rig, lambda: teacher_types(rig, pupil(rig), DAY, "2"))


def test_an_invalid_value_left_at_day_end_is_locked_out_by_the_next_cycle(rig: EngineRig) -> None:
    """Bad input is never accepted; at the lock the cell keeps the last valid value (here: none),
    the journal goes on the dirty list, and the next cycle writes the ledger value back."""
    teacher_types(rig, pupil(rig), DAY, "6")
    run_cycle(rig.svc)
    summary = locks_at(rig, NEXT)
    file_id = rig.journal(CLASS, SUBJECT).id
    assert file_id in summary.follow_up
    with rig.svc.ledger.snapshot() as tx:
        assert file_id in load_dirty(tx)
    rig.set_now(at(NEXT, 8))
    cycle = run_cycle(rig.svc)
    assert cycle.reverts == 1
    assert rig.reading(CLASS, SUBJECT).map.cell(pupil(rig), (DAY, 5)) is not None
    assert [e for e in rig.reading(CLASS, SUBJECT).entries if e.day == DAY] == []


def test_moved_columns_are_protected_where_the_cells_really_are(rig: EngineRig) -> None:
    """The drive's organizer inserts a column before the dates (not a repair case for the parser):
    the expected positions are off by one, so after its read the job protects again at the real
    positions — yesterday's real cell is refused, today's real cell is open."""
    teacher_types(rig, pupil(rig), DAY, "5")
    run_cycle(rig.svc)
    file_id = rig.journal(CLASS, SUBJECT).id
    sheet_id = next(s.id for s in rig.client(ORGANIZER).open_by_key(file_id).worksheets()
                    if s.title == Q1)
    rig.client(ORGANIZER).open_by_key(file_id).batch_update({"requests": [{"insertDimension": {
        "range": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": 3, "endIndex": 4},
        "inheritFromBefore": False}}]})
    assert not rig.reading(CLASS, SUBJECT).needs_repair  # read fine, at shifted positions
    rig.set_now(at(NEXT, 0, 15))
    rig.emu.reset_counters()
    summary = run_locks(rig.svc)
    assert summary.ok
    assert rig.calls()["sheets_write"] == 3 + 1  # one more protection write, for the moved tab
    assert refused(rig, lambda: teacher_types(rig, pupil(rig), DAY, "2"))
    rig.set_now(at(NEXT, 9))
    teacher_types(rig, pupil(rig), NEXT, "4")  # today's real column is open
    with rig.svc.ledger.snapshot() as tx:
        recorded = tx.state_get(RANGES_KEY.format(file_id=file_id))
    assert recorded is not None
    assert same_cells(_decode(recorded), rig.svc.backend.open_ranges(file_id))
