"""The nightly lock job over the emulator: protect first, then read and lock; grace windows of
written works; the period-mark window; uncertain protection writes re-checked before a retry; a
failing journal retried the next night; what a cell holds at the first read after its protection
is accepted — a typo left in it is kept as typed, not taken for tampering; a layout whose
positions moved is protected where the cells really are.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import gspread
import pytest
from sqlalchemy import text

from sync.backends.protocol import CellRange
from sync.jobs.cycle import run_cycle
from sync.jobs.locking import run_locks, same_cells
from sync.jobs.spreadsheets import ledger_values
from sync.jobs.summary import LockSummary
from sync.layout.journal.map import LessonField
from sync.layout.labels import RU
from sync.ledger.model import INVALID_KIND, FileKind, FindingRecord
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


def teacher_types(rig: EngineRig, pupil_id: str, day: date, value: str) -> CellRange:
    where = rig.cell(CLASS, SUBJECT, pupil_id, day)
    rig.type(rig.teacher_email(CLASS, SUBJECT), rig.journal(CLASS, SUBJECT).id, where, value)
    return where


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
    locked = locks_at(rig, date(2026, 9, 16))  # 08.09 + 7 days ended at 23:59 on 15.09
    assert locked.ok and lesson_locks(rig, DAY) == (True, True)
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
    classes = summary.class_protections_written  # the class spreadsheets' attendance days moved
    assert classes == 3 and summary.tally.classes_read == 3  # 01.09's reasons locked: read
    assert rig.calls()["sheets_write"] == writes + classes
    # the journals are unchanged since the cycle took them in: locked without a read (one Drive
    # question each); one protection re-read; the class spreadsheets read
    assert summary.locked_unread == 3 and summary.tally.journals_read == 0
    assert rig.calls()["sheets_read"] == 0 + 1 + 3
    assert refused(rig, lambda: teacher_types(rig, pupil(rig), DAY, "2"))
    file_id = rig.journal(CLASS, SUBJECT).id
    with rig.svc.ledger.snapshot() as tx:
        recorded = tx.recorded_open_ranges(file_id)
    assert recorded is not None
    assert same_cells(rig.svc.backend.open_ranges(file_id), _decode(recorded))


def _decode(text: str) -> dict[str, list]:  # type: ignore[type-arg]
    import json

    from sync.backends.protocol import CellRange

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
    assert summary.protections_written == 2  # the others, locked unread (unchanged since read)
    assert (summary.locked_unread, summary.tally.journals_read) == (2, 0)
    with rig.svc.ledger.snapshot() as tx:
        entry = next(e for e in tx.entries(KEY) if e.day == DAY)
    assert entry.locked_at is None  # never locked in the ledger before protection held

    rig.emu.faults.clear()
    retry = locks_at(rig, NEXT)
    assert retry.ok and (retry.protections_written, retry.locked_unread) == (1, 1)
    assert lesson_locks(rig, DAY) == (True, True)
    assert refused(rig, lambda: teacher_types(rig, pupil(rig), DAY, "2"))


def shown_at(rig: EngineRig, where: CellRange) -> str:
    """What a cell shows now, as text ("" when empty)."""
    grid = rig.grids(rig.journal(CLASS, SUBJECT).id, findings=False).get(where.tab, [])
    row = grid[where.start_row] if where.start_row < len(grid) else []
    return str(row[where.start_col] or "") if where.start_col < len(row) else ""


def audit_kinds(rig: EngineRig) -> list[tuple[str, dict[str, object]]]:
    with rig.svc.ledger.engine.connect() as db:
        rows = db.execute(text("SELECT kind, payload FROM audit ORDER BY id"))
        return [(r[0], json.loads(r[1])) for r in rows]


def sealed_finding(rig: EngineRig, pupil_id: str) -> FindingRecord:
    with rig.svc.ledger.snapshot() as tx:
        (found,) = [f for f in tx.findings(KEY) if (f.pupil_id, f.day) == (pupil_id, DAY)]
    return found


def test_a_typo_left_at_day_end_is_kept_as_typed_not_reverted_and_no_tampering(
        rig: EngineRig) -> None:
    """The teacher typed «отл» and never fixed it: the lock job keeps the text as an invalid entry
    (no mark), the next cycle neither reverts it nor records a violation, the finding stays with a
    note about «Исправления»; an owner's later edit IS tampering (reverted to «отл»); the deputy's
    correction replaces it and the finding goes."""
    p = pupil(rig)
    teacher_types(rig, p, DAY, "отл")
    run_cycle(rig.svc)
    assert "«отл»" in sealed_finding(rig, p).message

    locked = locks_at(rig, NEXT)
    assert locked.ok and locked.tally.entries_accepted == 0 and locked.tally.violations == 0
    rig.set_now(at(NEXT, 8))
    cycle = run_cycle(rig.svc)

    assert (cycle.tally.violations, cycle.reverts) == (0, 0)
    where = rig.cell(CLASS, SUBJECT, p, DAY)
    assert shown_at(rig, where) == "отл"
    finding = sealed_finding(rig, p)
    assert finding.rule == "invalid_value" and finding.resolved is None
    assert "«отл»" in finding.message and "клетка уже закрыта" in finding.message
    assert "заместителя директора (лист «Исправления»)" in finding.message
    tab = rig.findings_tab(rig.journal(CLASS, SUBJECT).id)
    assert [line[1] for line in tab[1:] if len(line) > 1 and "отл" in line[1]] == [finding.message]
    with rig.svc.ledger.snapshot() as tx:
        assert tx.violations(KEY) == []
        assert [e for e in tx.entries(KEY) if e.day == DAY] == []  # no mark: counts nowhere
        assert tx.pupil_entries(p) == []  # nor in the diary
        (kept,) = [e for e in tx.entries(KEY, include_empty=True) if e.day == DAY]
        assert tx.locked(KEY).mark(p, DAY, kept.lesson_no) == "отл"
        assert ledger_values(tx, KEY).entries[(p, DAY, kept.lesson_no)] == "отл"  # for repairs
    assert (kept.pupil_id, kept.raw, kept.value, kept.kind) == (p, "отл", "", INVALID_KIND)
    assert kept.locked_at == locked.started
    events = [e for e in audit_kinds(rig) if e[0] == "entry.locked_invalid"]
    assert [(e[1]["pupil"], e[1]["raw"], e[1]["value"]) for e in events] == [(p, "отл", "")]
    assert not [e for e in audit_kinds(rig) if e[0].startswith("violation.")]
    assert rig.svc.ledger.audit_verify().ok

    rig.set_now(at(NEXT, 10))
    journal = rig.journal(CLASS, SUBJECT).id
    rig.type(ORGANIZER, journal, where, "5")  # owner-level: the protection lets it through
    tampered = run_cycle(rig.svc)
    assert (tampered.tally.violations, tampered.reverts) == (1, 1)
    assert shown_at(rig, where) == "отл"
    with rig.svc.ledger.snapshot() as tx:
        (violation,) = tx.violations(KEY)
    assert (violation.locked_value, violation.attempted_value) == ("отл", "5")
    assert violation.reverted_at is not None
    assert sealed_finding(rig, p).id == finding.id  # still open, unchanged

    rig.set_now(at(NEXT, 11))
    with rig.svc.ledger.snapshot() as tx:
        (admin,) = tx.files(FileKind.ADMIN)
    row = ["7Б · Алгебра", "08.09.2026", p, "отметка", "4", "ошибка при вводе", "45-к", "да"]
    rig.client("zamestitel.uvr.example@gmail.com").http_client.values_update(  # the deputy
        admin.id, CellRange(RU.corrections_tab, 1, 1, 2, 1 + len(row)).a1(),
        params={"valueInputOption": "USER_ENTERED"}, body={"values": [row]})
    corrected = run_cycle(rig.svc)
    assert corrected.corrections is not None and corrected.corrections["applied"] == 1
    assert corrected.tally.violations == 0
    assert shown_at(rig, where) == "4"
    with rig.svc.ledger.snapshot() as tx:
        (entry,) = [e for e in tx.entries(KEY) if e.day == DAY]
        (record,) = tx.corrections()
    assert (entry.value, entry.kind, entry.locked_at) == ("4", "mark", kept.locked_at)
    assert (record.old_value, record.new_value) == ("отл", "4")

    # the correction's own write resolved the finding (the state after the cycle's work); the
    # corrected journal is re-read next cycle and finds nothing more to resolve
    after = run_cycle(rig.svc)
    assert after.tally.journals_read == 1 and after.tally.findings_resolved == 0
    assert after.tally.violations == 0
    with rig.svc.ledger.snapshot() as tx:
        assert [f for f in tx.findings(KEY) if f.pupil_id == p] == []
        assert [f.id for f in tx.findings(KEY, include_resolved=True) if f.pupil_id == p
                and f.resolved == corrected.started] == [finding.id]
    assert all("отл" not in str(line) for line in rig.findings_tab(journal))


def test_a_typo_over_an_accepted_mark_is_what_locks(rig: EngineRig) -> None:
    """The teacher's own overwrite before day end wins over the mark accepted earlier."""
    teacher_types(rig, pupil(rig), DAY, "5")
    run_cycle(rig.svc)
    rig.set_now(at(DAY, 20))
    teacher_types(rig, pupil(rig), DAY, "5-")
    locks_at(rig, NEXT)
    cycle = run_cycle(rig.svc)

    assert (cycle.tally.violations, cycle.reverts) == (0, 0)
    assert shown_at(rig, rig.cell(CLASS, SUBJECT, pupil(rig), DAY)) == "5-"
    with rig.svc.ledger.snapshot() as tx:
        assert [e for e in tx.entries(KEY) if e.day == DAY] == []
    (event,) = [e[1] for e in audit_kinds(rig) if e[0] == "entry.locked_invalid"]
    assert (event["raw"], event["old"], event["old_kind"]) == ("5-", "5", "mark")


def test_a_typo_in_a_period_mark_left_when_the_window_closes_is_kept_as_typed(
        rig: EngineRig) -> None:
    locks_at(rig, date(2026, 10, 16))  # the first quarter's period-mark window is open
    rig.set_now(at(date(2026, 10, 16), 12))
    where = rig.reading(CLASS, SUBJECT).map.period_mark_cell(pupil(rig), Q1)
    assert where is not None
    rig.type(rig.teacher_email(CLASS, SUBJECT), rig.journal(CLASS, SUBJECT).id, where, "отл")
    run_cycle(rig.svc)

    locked = locks_at(rig, date(2026, 10, 27))
    assert locked.periods_locked == 3 and locked.tally.entries_accepted == 0
    cycle = run_cycle(rig.svc)

    assert (cycle.tally.violations, cycle.reverts) == (0, 0)
    assert shown_at(rig, where) == "отл"
    with rig.svc.ledger.snapshot() as tx:
        assert tx.period_marks(KEY) == []  # no period mark: counts nowhere
        assert tx.locked(KEY).period_mark(pupil(rig), Q1) == "отл"
        (finding,) = [f for f in tx.findings(KEY) if f.pupil_id == pupil(rig)]
    assert finding.rule == "period_mark_invalid" and "клетка уже закрыта" in finding.message
    assert [e[1]["raw"] for e in audit_kinds(rig) if e[0] == "period_mark.locked_invalid"] == [
        "отл"]


def test_moved_columns_are_protected_where_the_cells_really_are(rig: EngineRig) -> None:
    """The drive's organizer inserts a column before the dates (not a repair case for the parser):
    the expected positions are off by one, but the job reads before it protects, so it protects
    once, at the real positions — yesterday's real cell is refused, today's real cell is open."""
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
    assert summary.class_protections_written == 3  # the class spreadsheets' attendance days
    assert rig.calls()["sheets_write"] == 3 + 3  # one protection write per journal, per class
    assert refused(rig, lambda: teacher_types(rig, pupil(rig), DAY, "2"))
    rig.set_now(at(NEXT, 9))
    teacher_types(rig, pupil(rig), NEXT, "4")  # today's real column is open
    with rig.svc.ledger.snapshot() as tx:
        recorded = tx.recorded_open_ranges(file_id)
    assert recorded is not None
    assert same_cells(_decode(recorded), rig.svc.backend.open_ranges(file_id))
