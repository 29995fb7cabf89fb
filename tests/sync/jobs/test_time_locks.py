"""Time locks over the emulator (issue: locks that hold whatever the spreadsheet does).

A cell's lock is a fact of time held by the ledger: after its window closed, a value becomes an
accepted entry only when a read proves it was there before the window closed (Drive's
``modifiedTime`` asked right after the read). Each test below is one of the attacks that worked
before: a mark typed after ``day_end`` before the protection landed, a protection write answered
503 all night, a substitute let in on such a journal, a value of 23:58 nobody could read that
night — none of them changes the ledger; a late value is kept, shown and accepted only by the
deputy's correction.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import gspread
import pytest

from sync.backends.protocol import CellRange
from sync.jobs.cycle import run_cycle
from sync.jobs.locking import run_locks
from sync.layout.journal.map import LessonField
from sync.layout.labels import RU
from sync.ledger.model import FileKind
from tests.sync.engine_fixtures import DAY, ORGANIZER, SVC, EngineRig, at, make_rig
from tests.sync.jobs.test_locking import (
    lesson_locks,
    pupil,
    shown_at,
    teacher_types,
    teacher_types_fact,
)

DEPUTY = "zamestitel.uvr.example@gmail.com"
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


def ledger_mark(rig: EngineRig, pupil_id: str, day: date) -> tuple[str | None, bool]:
    """(value, locked) of the pupil's mark of ``day`` in the ledger."""
    with rig.svc.ledger.snapshot() as tx:
        found = [e for e in tx.entries(KEY) if e.pupil_id == pupil_id and e.day == day]
        locked = tx.locked_value(KEY, pupil_id, day, rig.lesson_on(CLASS, SUBJECT, day).lesson_no)
    value = found[0].value if found else None
    return value, locked is not None


def late_entries(rig: EngineRig) -> list[tuple[str, str, str]]:
    with rig.svc.ledger.snapshot() as tx:
        return [(e.target.pupil_id or "", e.typed_value, e.ledger_value)
                for e in tx.late_entries(KEY)]


def protect_fails(rig: EngineRig, file_id: str, kind: str = "503") -> None:
    """Every protection write of the file (a Sheets batchUpdate) answers ``kind``."""
    rig.emu.faults.add(kind, match=lambda m, p: file_id in p and p.endswith(":batchUpdate"),
                       times=None, principal=SVC)


def test_a_mark_typed_after_day_end_before_the_protection_landed_is_a_late_entry(
        rig: EngineRig) -> None:
    p = pupil(rig)
    where = teacher_types(rig, p, DAY, "2")
    run_cycle(rig.svc)
    rig.set_now(at(NEXT, 0, 5))  # the day closed at 23:59; its cells are still unprotected
    teacher_types(rig, p, DAY, "5")
    rig.set_now(at(NEXT, 0, 15))

    summary = run_locks(rig.svc)

    assert summary.ok, summary.to_json()
    assert (summary.tally.late_entries, summary.tally.violations) == (1, 0)
    assert summary.tally.entries_accepted == 0
    assert ledger_mark(rig, p, DAY) == ("2", True)
    assert late_entries(rig) == [(p, "5", "2")]
    rig.set_now(at(NEXT, 8))
    run_cycle(rig.svc)  # the lock job's follow-up: the ledger value back, the teacher told why
    assert shown_at(rig, where) == "2"
    findings = [row[1] for row in rig.findings_tab(rig.journal(CLASS, SUBJECT).id)]
    assert any("«5» внесено после закрытия клетки и не принято (осталось «2»)" in text
               for text in findings), findings
    assert rig.svc.ledger.audit_verify().ok


def test_a_mark_typed_before_day_end_and_not_yet_read_is_accepted_by_the_lock_read(
        rig: EngineRig) -> None:
    """The last cycle read at 23:50; the teacher typed at 23:58; nothing changed the file since:
    its modification time proves the value was there when the day closed."""
    p = pupil(rig)
    rig.set_now(at(DAY, 23, 50))
    run_cycle(rig.svc)
    rig.set_now(at(DAY, 23, 58))
    teacher_types(rig, p, DAY, "4")
    rig.set_now(at(NEXT, 0, 15))

    summary = run_locks(rig.svc)

    assert (summary.tally.entries_accepted, summary.tally.late_entries) == (1, 0)
    assert ledger_mark(rig, p, DAY) == ("4", True)
    assert late_entries(rig) == []


def test_a_protection_answered_503_all_night_leaves_the_ledger_locked_and_is_retried(
        rig: EngineRig) -> None:
    p = pupil(rig)
    where = teacher_types(rig, p, DAY, "2")
    run_cycle(rig.svc)
    file_id = rig.journal(CLASS, SUBJECT).id
    protect_fails(rig, file_id)
    rig.set_now(at(NEXT, 0, 15))

    night = run_locks(rig.svc)

    assert [f.file_id for f in night.failed] == [file_id] and not night.ok
    assert ledger_mark(rig, p, DAY) == ("2", True)  # locked in the ledger all the same
    with rig.svc.ledger.snapshot() as tx:
        assert set(tx.pending_locks()) == {file_id}
    rig.set_now(at(NEXT, 14))
    teacher_types(rig, p, DAY, "5")  # the sheet let her: its protection never landed
    again = run_cycle(rig.svc)  # still 503: the retry (and the revert) fail; refused all the same
    assert {f.file_id for f in again.failed} == {file_id}
    assert again.tally.violations == 1 and ledger_mark(rig, p, DAY) == ("2", True)

    rig.emu.faults.clear()
    rig.set_now(at(NEXT, 14, 10))
    healed = run_cycle(rig.svc)
    assert healed.ok and healed.locks_retried == 1
    with rig.svc.ledger.snapshot() as tx:
        assert tx.pending_locks() == {}
    assert shown_at(rig, where) == "2"
    with pytest.raises(gspread.exceptions.APIError):  # the day's cell is protected now
        teacher_types(rig, p, DAY, "5")
    assert ledger_mark(rig, p, DAY) == ("2", True)


def test_a_value_nobody_could_read_that_night_is_late_and_the_deputys_correction_accepts_it(
        rig: EngineRig) -> None:
    """Typed at 23:58 after the last cycle; every call about the file fails all night; at 07:00
    the teacher changes another of yesterday's marks (the sheet lets her: its protection never
    moved), so the file's modification time proves nothing about yesterday any more. Both values
    are kept as late entries — neither accepted nor lost — until the deputy's correction accepts
    the one she decides to accept."""
    p, other = pupil(rig), pupil(rig, 1)
    rig.set_now(at(DAY, 23, 50))
    run_cycle(rig.svc)
    rig.set_now(at(DAY, 23, 58))
    where = teacher_types(rig, p, DAY, "4")
    file_id = rig.journal(CLASS, SUBJECT).id
    rig.emu.faults.add("503", match=lambda m, path: file_id in path, times=None, principal=SVC)
    rig.set_now(at(NEXT, 0, 15))
    assert [f.file_id for f in run_locks(rig.svc).failed] == [file_id]
    rig.emu.faults.clear()
    rig.set_now(at(NEXT, 7))
    teacher_types(rig, other, DAY, "3")
    rig.set_now(at(NEXT, 8, 30))

    morning = run_cycle(rig.svc)

    assert morning.locks_retried == 1 and morning.tally.late_entries == 2
    assert morning.tally.violations == 0 and morning.tally.entries_accepted == 0
    assert ledger_mark(rig, p, DAY) == (None, True)  # never accepted
    assert sorted(late_entries(rig)) == sorted([(p, "4", ""), (other, "3", "")])
    assert shown_at(rig, where) == ""  # the ledger's (empty) cell is back on the sheet

    rig.set_now(at(NEXT, 11))
    with rig.svc.ledger.snapshot() as tx:
        (admin,) = tx.files(FileKind.ADMIN)
    row = ["7Б · Алгебра", "08.09.2026", p, "отметка", "4", "внесена после 23:59", "46-к", "да"]
    rig.client(DEPUTY).http_client.values_update(  # the deputy signs
        admin.id, CellRange(RU.corrections_tab, 1, 1, 2, 1 + len(row)).a1(),
        params={"valueInputOption": "USER_ENTERED"}, body={"values": [row]})
    corrected = run_cycle(rig.svc)
    assert corrected.corrections is not None and corrected.corrections["applied"] == 1
    assert ledger_mark(rig, p, DAY) == ("4", True)
    assert late_entries(rig) == [(other, "3", "")]  # the corrected one is resolved
    assert shown_at(rig, where) == "4"
    assert rig.svc.ledger.audit_verify().ok


def test_a_change_made_just_before_the_night_is_read_before_the_protection_masks_it(
        rig: EngineRig) -> None:
    """7Б algebra has lessons on 02.09 and 07.09, none between. On Sunday 06.09 at 23:58, after
    the last cycle, someone with owner-level access changes a locked mark of 02.09. The lock job
    of Monday 00:00 has nothing of 7Б algebra to lock, but it protects it (07.09 opens), and after
    that write Drive names the service as the last to change the file — so the job reads it
    first (a peek at the change feed) and the change is caught at once."""
    p = pupil(rig)
    assert {x.day for x in rig.lessons(CLASS, SUBJECT)} & {date(2026, 9, d) for d in range(3, 7)} \
        == set()
    rig.set_now(at(date(2026, 9, 3), 0, 0))
    run_locks(rig.svc)  # 01.09 and 02.09 locked
    rig.set_now(at(date(2026, 9, 6), 23, 50))
    run_cycle(rig.svc)
    rig.set_now(at(date(2026, 9, 6), 23, 58))
    file_id = rig.journal(CLASS, SUBJECT).id
    rig.type(ORGANIZER, file_id, rig.cell(CLASS, SUBJECT, p, date(2026, 9, 2)), "5")
    rig.set_now(at(date(2026, 9, 7), 0, 0))

    night = run_locks(rig.svc)

    assert night.protections_written >= 1
    with rig.svc.ledger.snapshot() as tx:
        (violation,) = tx.violations(KEY)  # read by the lock job itself, before its write
    assert violation.attempted_value == "5"


def test_a_control_work_first_read_by_the_night_lock_keeps_its_grace(rig: EngineRig) -> None:
    """The work type was typed in time but no cycle read it that day (a day of failed cycles):
    the lock job's read proves it (the file unchanged since before the day closed), so the
    control work's 7 days of grace (grade 7, config/example/school.toml) hold for its marks — they
    were closed at day end and the marks typed days later taken for tampering (the year
    simulation, issue 13)."""
    teacher_types_fact(rig, DAY, LessonField.WORK_TYPE, "Контрольная работа")
    rig.set_now(at(NEXT, 0, 15))

    night = run_locks(rig.svc)

    assert night.ok, night.to_json()
    assert lesson_locks(rig, DAY) == (True, False)  # the topic row closed, the marks open
    rig.set_now(at(date(2026, 9, 14), 16))  # six days later, checked at home
    p = pupil(rig)
    teacher_types(rig, p, DAY, "4")
    summary = run_cycle(rig.svc)
    assert (summary.tally.entries_accepted, summary.tally.violations,
            summary.tally.late_entries) == (1, 0, 0)
    assert ledger_mark(rig, p, DAY) == ("4", False)
