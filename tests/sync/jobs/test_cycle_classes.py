"""The class spreadsheets through the cycle and the lock job, over the Google emulator with the real
gspread client: the class teacher (as their own principal) records absence reasons on
"Посещаемость"; the cycle accepts valid ones into the ledger (audited), keeps bad input as findings
in the ledger only (the class spreadsheet has no "Замечания" tab) and writes nothing; the nightly
lock job moves the open days (one write per class spreadsheet), reads, locks the closed days (a
typo kept as typed); an owner-level edit of a locked day is reverted RAW, recorded and audited; a
damaged or deleted class spreadsheet is re-rendered with its reasons from the ledger.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import gspread
import pytest
from sqlalchemy import text

from sync.backends.protocol import CellRange, Grid
from sync.jobs.cycle import run_cycle
from sync.jobs.locking import run_locks
from sync.jobs.repair import rebuild_all
from sync.layout.class_sheet.spec import AttendanceMap, parse_class
from sync.layout.labels import RU
from sync.ledger.model import FileKind, FileRecord
from tests.sync.engine_fixtures import DAY, ORGANIZER, EngineRig, at, make_rig

CLASS = "7Б"
TAB = RU.attendance_tab
FIRST = date(2026, 9, 1)  # the first school day: its reasons close at the end of 08.09 (7 days)
NEXT = date(2026, 9, 9)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[EngineRig]:
    rig = make_rig(tmp_path)
    assert run_cycle(rig.svc).tally.classes_read == 3  # the first cycle reads every class too
    rig.set_now(at(DAY, 10))
    rig.emu.reset_counters()
    yield rig
    rig.close()
    assert rig.emu.bugs == []


def class_file(rig: EngineRig, class_id: str = CLASS) -> FileRecord:
    with rig.svc.ledger.snapshot() as tx:
        record = tx.file_for(FileKind.CLASS, class_id)
    assert record is not None
    return record


def class_teacher(rig: EngineRig, class_id: str = CLASS) -> str:
    school_class = rig.school.school_class(class_id)
    assert school_class is not None and school_class.class_teacher_id
    teacher = rig.school.teacher(school_class.class_teacher_id)
    assert teacher is not None
    return teacher.email


def attendance(rig: EngineRig, class_id: str = CLASS) -> tuple[Grid, AttendanceMap]:
    grid = rig.inspector.read(class_file(rig, class_id).id, [TAB])[TAB]
    where = parse_class({TAB: grid}, rig.school, class_id).map.attendance
    assert where is not None
    return grid, where


def cell(rig: EngineRig, pupil: str, day: date, class_id: str = CLASS) -> CellRange:
    found = attendance(rig, class_id)[1].cell(pupil, day)
    assert found is not None
    return found


def shown(rig: EngineRig, pupil: str, day: date) -> Any:
    grid, where = attendance(rig)
    found = where.cell(pupil, day)
    assert found is not None
    row = grid[found.start_row] if found.start_row < len(grid) else []
    return row[found.start_col] if found.start_col < len(row) else None


def type_reason(rig: EngineRig, pupil: str, day: date, value: str, *, who: str | None = None,
                class_id: str = CLASS) -> None:
    rig.type(who or class_teacher(rig, class_id), class_file(rig, class_id).id,
             cell(rig, pupil, day, class_id), value)


def a1_of(where: CellRange) -> str:
    """"H4" of a one-cell range (without its tab)."""
    return where.a1().split(":")[0].rpartition("!")[2]


def pupils(rig: EngineRig, n: int = 4) -> list[str]:
    return [p.id for p in rig.school.pupils_in(CLASS)[:n]]


def reasons(rig: EngineRig, class_id: str = CLASS) -> dict[tuple[str, date], tuple[str, str]]:
    with rig.svc.ledger.snapshot() as tx:
        return {(r.pupil_id, r.day): (r.reason, r.raw) for r in tx.absences(class_id)}


def findings(rig: EngineRig, class_id: str = CLASS) -> list[str]:
    with rig.svc.ledger.snapshot() as tx:
        return [f.message for f in tx.findings(class_id)]


def audit(rig: EngineRig, prefix: str) -> list[tuple[str, dict[str, Any]]]:
    with rig.svc.ledger.engine.connect() as db:
        rows = db.execute(text("SELECT kind, payload FROM audit WHERE kind LIKE :p ORDER BY id"),
                          {"p": prefix + "%"})
        return [(r[0], json.loads(r[1])) for r in rows]


def test_the_class_teachers_reasons_are_accepted_and_audited(rig: EngineRig) -> None:
    p = pupils(rig)
    type_reason(rig, p[0], DAY, "б")
    type_reason(rig, p[1], FIRST, "У")  # capital letter: forgiven
    type_reason(rig, p[2], date(2026, 9, 7), "н")
    rig.emu.reset_counters()

    summary = run_cycle(rig.svc)

    assert rig.calls() == {"drive": 1, "sheets_read": 1, "sheets_write": 0}
    assert summary.ok and summary.tally.classes_read == 1 and summary.tally.absences_accepted == 3
    assert summary.to_json()["absences_accepted"] == 3
    assert reasons(rig) == {(p[0], DAY): ("б", "б"), (p[1], FIRST): ("у", "У"),
                            (p[2], date(2026, 9, 7)): ("н", "н")}
    with rig.svc.ledger.snapshot() as tx:
        record = next(r for r in tx.absences(CLASS) if r.pupil_id == p[0])
    assert record.first_seen == at(DAY, 10) and record.locked_at is None
    assert [k for k, _ in audit(rig, "absence.")] == ["absence.accepted"] * 3
    assert findings(rig) == []

    rig.set_now(at(DAY, 12))
    type_reason(rig, p[0], DAY, "у")  # the sick note turned out to be an excuse
    rig.type(class_teacher(rig), class_file(rig).id, cell(rig, p[1], FIRST), "")  # erased
    again = run_cycle(rig.svc)
    assert again.tally.absences_accepted == 2
    assert reasons(rig) == {(p[0], DAY): ("у", "у"), (p[2], date(2026, 9, 7)): ("н", "н")}
    changed = [(k, e["pupil"], e["reason"], e["old"]) for k, e in audit(rig, "absence.changed")]
    assert changed == [("absence.changed", p[0], "у", "б"), ("absence.changed", p[1], "", "у")]
    assert rig.svc.ledger.audit_verify().ok


def test_bad_reasons_are_findings_on_the_class_page_and_change_nothing(rig: EngineRig) -> None:
    p = pupils(rig)
    type_reason(rig, p[0], DAY, "б")
    run_cycle(rig.svc)
    type_reason(rig, p[0], DAY, "болел")  # no such code: the accepted "б" stays in the ledger
    type_reason(rig, p[1], DAY, "x")
    type_reason(rig, p[2], date(2026, 9, 10), "б", who=ORGANIZER)  # a day still to come
    late = "s0003"  # 5А, enrolled on 16.11
    type_reason(rig, late, date(2026, 9, 7), "б", class_id="5А")
    rig.emu.reset_counters()

    summary = run_cycle(rig.svc)

    assert rig.calls()["sheets_write"] == 2  # the class pages' «Замечания», one write each
    assert rig.calls()["sheets_read"] == 2  # 7Б and 5А, one read each
    assert summary.tally.absences_accepted == 0 and summary.tally.findings_opened == 4
    assert reasons(rig) == {(p[0], DAY): ("б", "б")}
    assert reasons(rig, "5А") == {}
    messages = findings(rig)
    assert len(messages) == 3 and all(m.startswith("Лист «Посещаемость», ячейка ") for m in messages)
    assert sum("«болел» — нет такой причины пропуска" in m for m in messages) == 1
    assert sum("«x» — нет такой причины пропуска" in m for m in messages) == 1
    assert sum("10.09.2026 ещё не наступило" in m for m in messages) == 1
    assert findings(rig, "5А") == [
        f"Лист «Посещаемость», ячейка {a1_of(cell(rig, late, date(2026, 9, 7), '5А'))}"
        ": 07.09.2026 ученик не числился в классе: причина пропуска не принята."]
    assert shown(rig, p[1], DAY) == "x"  # nothing the class teacher typed was touched
    remarks = rig.inspector.read(class_file(rig, CLASS).id, ["Замечания"])["Замечания"]
    assert sorted(row[1] for row in remarks[1:]) == sorted(messages)

    type_reason(rig, p[1], DAY, "н")  # fixed
    fixed = run_cycle(rig.svc)
    assert fixed.tally.findings_resolved == 1 and fixed.tally.absences_accepted == 1


def test_the_lock_job_moves_the_open_days_then_reads_and_locks(rig: EngineRig) -> None:
    p = pupils(rig)
    type_reason(rig, p[0], FIRST, "б")
    type_reason(rig, p[1], FIRST, "болен")  # a typo nobody fixed before the day closed
    type_reason(rig, p[2], DAY, "у")
    run_cycle(rig.svc)
    assert reasons(rig) == {(p[0], FIRST): ("б", "б"), (p[2], DAY): ("у", "у")}
    rig.set_now(at(NEXT, 0, 15))
    rig.emu.reset_counters()

    summary = run_locks(rig.svc)

    assert summary.ok, summary.to_json()
    assert summary.classes == 3 and summary.class_protections_written == 3
    assert summary.tally.classes_read == 3 and summary.absence_days_locked == 3
    assert summary.absence_reasons_locked == 2  # "б" and the typo, kept as typed
    assert reasons(rig)[(p[1], FIRST)] == ("", "болен")
    with rig.svc.ledger.snapshot() as tx:
        locked = tx.absence_locked(CLASS)
    assert FIRST in locked.days and DAY not in locked.days
    assert locked.cell(p[0], FIRST) == "б" and locked.cell(p[3], FIRST) == ""
    events = audit(rig, "absence.lock")
    assert sorted(k for k, _ in events) == ["absence.locked"] * 3 + ["absence.locked_invalid"]
    assert [e["raw"] for k, e in events if k == "absence.locked_invalid"] == ["болен"]

    with pytest.raises(gspread.exceptions.APIError, match="protected"):
        type_reason(rig, p[3], FIRST, "н")  # the day is closed to the class teacher
    type_reason(rig, p[3], date(2026, 9, 2), "н")  # 02.09 is open until the end of 09.09
    rig.emu.reset_counters()
    again = run_locks(rig.svc)  # the same night: nothing moved
    assert again.class_protections_written == 0
    # the peek at the change feed finds the class sheet she just changed: read, not written
    assert rig.calls() == {"drive": 1, "sheets_read": 1, "sheets_write": 0}
    assert again.tally.absences_accepted == 1


def test_an_owner_level_edit_of_a_locked_day_is_reverted_and_audited(rig: EngineRig) -> None:
    p = pupils(rig)
    type_reason(rig, p[0], FIRST, "б")
    type_reason(rig, p[1], FIRST, "болен")
    run_cycle(rig.svc)
    rig.set_now(at(NEXT, 0, 15))
    run_locks(rig.svc)
    run_cycle(rig.svc)
    rig.set_now(at(NEXT, 9))
    type_reason(rig, p[0], FIRST, "у", who=ORGANIZER)  # a manager "fixes" a locked reason
    type_reason(rig, p[2], FIRST, "н", who=ORGANIZER)  # and fills a cell locked empty
    rig.emu.reset_counters()

    summary = run_cycle(rig.svc)

    assert summary.tally.violations == 2 and summary.reverts == 2
    assert rig.calls() == {"drive": 1, "sheets_read": 1, "sheets_write": 1}
    assert shown(rig, p[0], FIRST) == "б" and shown(rig, p[2], FIRST) in ("", None)
    assert shown(rig, p[1], FIRST) == "болен"  # the typo kept at the lock is no tampering
    with rig.svc.ledger.snapshot() as tx:
        found = {v.target.pupil_id: v for v in tx.violations(CLASS)}
    assert set(found) == {p[0], p[2]}
    assert (found[p[0]].locked_value, found[p[0]].attempted_value) == ("б", "у")
    assert (found[p[2]].locked_value, found[p[2]].attempted_value) == ("", "н")
    assert all(v.reverted_at is not None for v in found.values())
    kinds = [k for k, _ in audit(rig, "violation.")]
    assert kinds.count("violation.detected") == 2 and kinds.count("violation.reverted") == 2
    assert reasons(rig)[(p[0], FIRST)] == ("б", "б")
    rig.emu.reset_counters()
    assert run_cycle(rig.svc).tally.violations == 0  # own write: not re-read
    assert rig.calls()["sheets_read"] == 0
    assert rig.svc.ledger.audit_verify().ok


def test_a_deleted_attendance_tab_and_a_deleted_file_come_back_from_the_ledger(
        rig: EngineRig) -> None:
    p = pupils(rig)
    type_reason(rig, p[0], FIRST, "б")
    run_cycle(rig.svc)
    rig.set_now(at(NEXT, 0, 15))
    run_locks(rig.svc)  # 01.09 locked in the ledger
    run_cycle(rig.svc)
    rig.set_now(at(NEXT, 9))

    sheet = rig.client(ORGANIZER).open_by_key(class_file(rig).id)
    sheet.del_worksheet(sheet.worksheet(TAB))
    summary = run_cycle(rig.svc)
    assert class_file(rig).id in summary.repaired
    assert shown(rig, p[0], FIRST) == "б"  # re-rendered from the ledger
    run_cycle(rig.svc)  # re-read at the repaired positions

    old = class_file(rig)
    rig.client(ORGANIZER).del_spreadsheet(old.id)
    rebuilt = run_cycle(rig.svc)
    new = class_file(rig)
    assert new.id != old.id and rebuilt.rebuilt == [new.id]
    assert shown(rig, p[0], FIRST) == "б"
    assert rig.emu.role_of(class_teacher(rig), new.id) == "writer"

    rig.set_now(at(NEXT, 10))
    assert rebuild_all(rig.svc, now=rig.now()).failed == []
    assert shown(rig, p[0], FIRST) == "б"


def test_a_reason_typed_after_its_window_closed_is_a_late_entry(rig: EngineRig) -> None:
    """01.09's reasons close at the end of 08.09; the class teacher types one at 00:05 on 09.09,
    before the lock job moved the protection: the lock job's read cannot prove it was there in
    time, so it is kept as a late entry — the ledger keeps the cell empty."""
    p = pupils(rig)
    type_reason(rig, p[0], FIRST, "б")
    run_cycle(rig.svc)
    rig.set_now(at(NEXT, 0, 5))
    type_reason(rig, p[1], FIRST, "у")  # the sheet still lets her
    rig.set_now(at(NEXT, 0, 15))

    summary = run_locks(rig.svc)

    assert summary.tally.late_entries == 1 and summary.tally.violations == 0
    assert (p[1], FIRST) not in reasons(rig) and reasons(rig)[(p[0], FIRST)] == ("б", "б")
    with rig.svc.ledger.snapshot() as tx:
        (late,) = tx.late_entries(CLASS)
        assert FIRST in tx.absence_locked(CLASS).days
    assert (late.target.pupil_id, late.typed_value, late.ledger_value) == (p[1], "у", "")
    run_cycle(rig.svc)  # the follow-up writes the ledger's empty cell back
    assert shown(rig, p[1], FIRST) in (None, "")


def _needs_shown(rig: EngineRig, pupil: str) -> str:
    """The «Нужна причина» cell of the pupil's row on the class page, as the page shows it."""
    grid, where = attendance(rig)
    assert where.needs_col is not None
    row = grid[where.rows[pupil]]
    return str(row[where.needs_col] or "") if where.needs_col < len(row) else ""


def test_the_needs_column_the_night_moved_is_written_in_the_morning_without_a_read(
        rig: EngineRig) -> None:
    """«Нужна причина» changes every night a reason window closes: the lock job, which reads the
    class page to lock the day, leaves that column to the next cycle's follow-up writes at the
    positions it just read — no second read of the page in the morning (a revert or a finding
    still sends the page to the dirty list: the late-entry test above)."""
    p = pupils(rig, 1)[0]
    algebra = rig.journal(CLASS, "algebra")
    lesson = rig.lesson_on(CLASS, "algebra", DAY)
    where = rig.reading(CLASS, "algebra").map.cell(p, (DAY, lesson.lesson_no))
    assert where is not None
    rig.type(rig.teacher_email(CLASS, "algebra"), algebra.id, where, "н")
    run_cycle(rig.svc)
    assert _needs_shown(rig, p) == f"{DAY:%d.%m} (1 ур.)"
    closed = date(2026, 9, 16)  # DAY's reasons close at the end of 15.09
    rig.set_now(at(closed, 0, 15))

    night = run_locks(rig.svc)

    assert night.ok, night.to_json()
    assert night.tally.classes_read == 3  # the pages are read to lock their days
    assert class_file(rig).id not in night.follow_up
    assert _needs_shown(rig, p) == f"{DAY:%d.%m} (1 ур.)"  # not written at night
    rig.set_now(at(closed, 8))
    rig.emu.reset_counters()
    morning = run_cycle(rig.svc)
    assert morning.tally.classes_read == 0 and rig.calls()["sheets_read"] == 0
    assert _needs_shown(rig, p) == ""  # the day is closed: no reason is asked any more
    assert rig.calls()["sheets_write"] >= 1
