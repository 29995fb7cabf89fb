"""Call budgets of the cycle and the lock job (DESIGN.md §6), from the emulator's own counters for
the service principal, on the whole example school (44 journals, one admin spreadsheet).

* idle cycle: 0 Sheets calls, ≤ 1 Drive call;
* k journals changed by their teachers: exactly k Sheets reads, at most k writes;
* a second identical cycle (or the same values typed again) writes nothing;
* nightly locks: one Sheets write per journal (and class spreadsheet) whose open cells changed,
  none for the others; one read per journal (class spreadsheet) with a day to lock; a second run
  the same night calls nothing;
* a class spreadsheet changed by its class teacher costs exactly one read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from sync.jobs.cycle import run_cycle
from sync.jobs.locking import run_locks
from tests.sync.engine_fixtures import DAY, EngineRig, at, make_rig
from tests.sync.jobs.test_cycle_classes import type_reason

NEXT, AFTER = date(2026, 9, 9), date(2026, 9, 10)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[EngineRig]:
    rig = make_rig(tmp_path, journals=None)
    first = run_cycle(rig.svc)
    assert first.ok and first.tally.journals_read == 44
    rig.emu.reset_counters()
    yield rig
    rig.close()
    assert rig.emu.bugs == []


def journals_with_lesson_on(rig: EngineRig, *days: date) -> list[tuple[str, str]]:
    lessons = rig.school.lessons()
    return [j for j in rig.school.journals() if any(x.day in days for x in lessons[j])]


def type_first_pupil(rig: EngineRig, journal: tuple[str, str], day: date, value: str) -> None:
    class_id, subject_id = journal
    pupil = rig.school.pupils_in(class_id)[0].id
    where = rig.cell(class_id, subject_id, pupil, day)
    rig.type(rig.teacher_email(class_id, subject_id), rig.journal(class_id, subject_id).id,
             where, value)


def test_an_idle_cycle_makes_no_sheets_call_and_one_drive_call(rig: EngineRig) -> None:
    summary = run_cycle(rig.svc)
    assert rig.calls() == {"drive": 1, "sheets_read": 0, "sheets_write": 0}
    assert (summary.files_changed, summary.writes) == (0, 0)
    assert summary.api_calls["drive"] == 1 and summary.api_calls["sheets_read"] == 0


@pytest.mark.parametrize("k", [1, 3, 8])
def test_k_changed_journals_cost_exactly_k_reads(rig: EngineRig, k: int) -> None:
    rig.set_now(at(DAY, 10))
    changed = journals_with_lesson_on(rig, DAY)[:k]
    assert len(changed) == k
    for journal in changed:
        type_first_pupil(rig, journal, DAY, "5")
    rig.emu.reset_counters()

    summary = run_cycle(rig.svc)

    calls = rig.calls()
    assert calls["sheets_read"] == k
    assert calls["drive"] == 1
    assert calls["sheets_write"] <= k  # one write per journal at most (findings, service cells)
    assert summary.tally.journals_read == k and summary.tally.entries_accepted == k

    rig.emu.reset_counters()
    again = run_cycle(rig.svc)  # a second identical cycle
    assert rig.calls() == {"drive": 1, "sheets_read": 0, "sheets_write": 0}
    assert again.writes == 0


def test_the_same_values_typed_again_are_read_but_nothing_is_written(rig: EngineRig) -> None:
    rig.set_now(at(DAY, 10))
    changed = journals_with_lesson_on(rig, DAY)[:4]
    for journal in changed:
        type_first_pupil(rig, journal, DAY, "4")
    run_cycle(rig.svc)
    rig.set_now(at(DAY, 11))
    for journal in changed:
        type_first_pupil(rig, journal, DAY, "4")  # the teacher retypes the same mark
    rig.emu.reset_counters()

    summary = run_cycle(rig.svc)

    assert rig.calls() == {"drive": 1, "sheets_read": 4, "sheets_write": 0}
    assert (summary.tally.entries_accepted, summary.writes) == (0, 0)


def test_nightly_locks_write_once_per_journal_whose_open_cells_changed(rig: EngineRig) -> None:
    rig.set_now(at(NEXT, 0, 15))
    run_locks(rig.svc)  # the first night: every journal's protection is set and recorded
    run_cycle(rig.svc)  # its follow-ups
    rig.set_now(at(AFTER, 0, 15))
    moved = journals_with_lesson_on(rig, NEXT, AFTER)  # a column closes or one opens
    due = journals_with_lesson_on(rig, NEXT)  # a day to lock in the ledger: read, then protect
    assert 0 < len(moved) < 44 and 0 < len(due) <= len(moved)
    rig.emu.reset_counters()

    summary = run_locks(rig.svc)

    calls = rig.calls()
    assert len(moved) == summary.protections_written
    assert summary.class_protections_written == 3  # every class: 10.09 opens, 02.09 closes
    assert calls["sheets_write"] == len(moved) + 3
    # the due journals are unchanged since the evening's cycle took them in: locked from the
    # ledger after one Drive question each (the version), no read
    assert (summary.locked_unread, summary.tally.journals_read) == (len(due), 0)
    assert summary.tally.classes_read == 3
    assert calls["sheets_read"] == 3  # 02.09's absence reasons lock: one read of each class
    assert summary.absence_days_locked == 3
    assert calls["drive"] == 1 + len(due) + 3  # the change feed; a file info per due journal
    # and per class read
    assert summary.days_locked == len(due)

    rig.emu.reset_counters()
    again = run_locks(rig.svc)  # the same night again: nothing moved, nothing due, nothing new
    assert rig.calls() == {"drive": 1, "sheets_read": 0, "sheets_write": 0}  # only the peek
    assert (again.protections_written, again.days_locked) == (0, 0)


def test_a_changed_class_spreadsheet_costs_exactly_one_read(rig: EngineRig) -> None:
    rig.set_now(at(DAY, 10))
    pupil = rig.school.pupils_in("7Б")[0].id
    type_reason(rig, pupil, DAY, "б")  # the class teacher, as themselves
    rig.emu.reset_counters()

    summary = run_cycle(rig.svc)

    assert rig.calls() == {"drive": 1, "sheets_read": 1, "sheets_write": 0}
    assert summary.tally.classes_read == 1 and summary.tally.absences_accepted == 1
    rig.emu.reset_counters()
    idle = run_cycle(rig.svc)
    assert rig.calls() == {"drive": 1, "sheets_read": 0, "sheets_write": 0}
    assert idle.tally.classes_read == 0
