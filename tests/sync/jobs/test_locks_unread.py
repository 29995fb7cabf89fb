"""The lock job locks a journal without reading it when the file is unchanged since the ledger
took it in whole (``sync.jobs.locking._taken_in``): Drive's version of the file, asked at the lock,
is still the one the ledger recorded at its last read (or after its own writes), that read left no
error finding and its writes landed. Otherwise it reads, as before — each case below is one way
the shortcut could lose or falsely accept a value, and each must end in a read.
"""

from __future__ import annotations

from datetime import date

from sync.jobs.cycle import run_cycle
from sync.jobs.locking import run_locks
from sync.jobs.summary import LockSummary
from sync.ledger.model import INVALID_KIND
from tests.sync.engine_fixtures import DAY, SVC, EngineRig, at
from tests.sync.jobs import test_time_locks
from tests.sync.jobs.test_cycle_budgets import journals_with_lesson_on
from tests.sync.jobs.test_locking import pupil, refused, teacher_types
from tests.sync.jobs.test_time_locks import CLASS, KEY, NEXT, SUBJECT, late_entries, ledger_mark

rig = test_time_locks.rig  # the same rig: the example school after its first cycle, at DAY 10:00


def _journals_with_a_lesson(rig: EngineRig, day: date) -> int:
    return len(journals_with_lesson_on(rig, day))


def _lock(rig: EngineRig, *, ok: bool = True) -> LockSummary:
    rig.set_now(at(NEXT, 0, 15))
    rig.emu.reset_counters()
    summary = run_locks(rig.svc)
    assert summary.ok is ok, summary.to_json()
    return summary


def test_journals_read_by_the_evening_cycle_are_locked_without_a_read(rig: EngineRig) -> None:
    first, second = pupil(rig, 0), pupil(rig, 1)
    teacher_types(rig, first, DAY, "4")
    teacher_types(rig, second, DAY, "н")
    rig.set_now(at(DAY, 18))
    run_cycle(rig.svc)

    summary = _lock(rig)

    due = _journals_with_a_lesson(rig, DAY)
    assert due >= 2  # the fixture's day has lessons in more than one journal
    assert (summary.locked_unread, summary.tally.journals_read) == (due, 0)
    assert summary.days_locked == due
    assert rig.calls()["sheets_read"] == summary.tally.classes_read  # no journal read
    assert ledger_mark(rig, first, DAY) == ("4", True)
    assert ledger_mark(rig, second, DAY) == ("н", True)
    assert refused(rig, lambda: teacher_types(rig, first, DAY, "5"))  # the protection moved
    rig.set_now(at(NEXT, 8))
    run_cycle(rig.svc)  # nothing changed: the ledger and the sheet agree
    assert ledger_mark(rig, first, DAY) == ("4", True) and late_entries(rig) == []
    assert rig.svc.ledger.audit_verify().ok


def test_a_change_the_feed_does_not_show_yet_is_read_before_the_lock(rig: EngineRig) -> None:
    """The change feed lags (here: it fails) while a mark typed at 23:58 is in the file: Drive's
    version of the file is not the ledger's, so the journal is read and the mark accepted."""
    p = pupil(rig)
    rig.set_now(at(DAY, 23, 50))
    run_cycle(rig.svc)
    rig.set_now(at(DAY, 23, 58))
    teacher_types(rig, p, DAY, "4")
    rig.emu.faults.add("500", match=lambda m, path: "/changes" in path, times=None,
                       principal=SVC)

    summary = _lock(rig, ok=False)  # the change list failed: an error of the run, nothing lost

    assert summary.tally.journals_read == 1 and summary.tally.entries_accepted == 1
    assert summary.locked_unread == _journals_with_a_lesson(rig, DAY) - 1
    assert ledger_mark(rig, p, DAY) == ("4", True)
    assert late_entries(rig) == []


def test_a_typo_left_in_the_journal_is_read_and_kept_as_typed(rig: EngineRig) -> None:
    p = pupil(rig)
    teacher_types(rig, p, DAY, "6")  # no such mark: an error finding, nothing accepted
    rig.set_now(at(DAY, 18))
    run_cycle(rig.svc)

    summary = _lock(rig)

    assert summary.tally.journals_read == 1
    assert summary.locked_unread == _journals_with_a_lesson(rig, DAY) - 1
    with rig.svc.ledger.snapshot() as tx:
        (entry,) = [e for e in tx.entries(KEY, include_empty=True)
                    if e.pupil_id == p and e.day == DAY]
    assert (entry.raw, entry.kind, entry.locked_at is not None) == ("6", INVALID_KIND, True)


def test_a_journal_whose_last_write_failed_is_read(rig: EngineRig) -> None:
    """The cycle's write to the journal failed: it stays on the dirty list, and the lock job
    reads it rather than trusting a version the ledger never saw written."""
    p = pupil(rig)
    file_id = rig.journal(CLASS, SUBJECT).id
    teacher_types(rig, p, DAY, "5")
    rig.set_now(at(DAY, 18))
    rig.emu.faults.add("500", match=lambda m, path: file_id in path and "values:batchUpdate" in path,
                       times=None, principal=SVC)
    run_cycle(rig.svc)
    rig.emu.faults.clear()
    with rig.svc.ledger.snapshot() as tx:
        assert file_id in tx.dirty_files()

    summary = _lock(rig)

    assert summary.tally.journals_read == 1
    assert ledger_mark(rig, p, DAY) == ("5", True)


def test_a_version_drive_cannot_tell_means_a_read(rig: EngineRig) -> None:
    p = pupil(rig)
    file_id = rig.journal(CLASS, SUBJECT).id
    teacher_types(rig, p, DAY, "3")
    rig.set_now(at(DAY, 18))
    run_cycle(rig.svc)
    rig.emu.faults.add("503", match=lambda m, path: path.endswith(f"/files/{file_id}"),
                       times=6, principal=SVC)  # the version question fails, retries included

    summary = _lock(rig)

    assert summary.tally.journals_read == 1
    assert summary.locked_unread == _journals_with_a_lesson(rig, DAY) - 1
    assert ledger_mark(rig, p, DAY) == ("3", True)
