"""Own writes recognised by version, not by the last modifying user (issue 8): a teacher's edit
made between a cycle's read and its write of the same journal is read by the very next cycle
(first seen then, not "next night"), over the emulator and on the local backend; an own write
whose outcome is unknown makes the file be read again, never taken for the service's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from sync.jobs.cycle import run_cycle
from sync.jobs.locking import run_locks
from sync.layout.journal.spec import parse_journal
from sync.ledger.model import FileKind
from tests.sync.engine_fixtures import DAY, SVC, EngineRig, at, make_rig
from tests.sync.jobs.test_locking import pupil, teacher_types
from tests.sync.jobs.test_time_locks_local import Local, local  # noqa: F401

KEY = "7Б/algebra"
NEXT = date(2026, 9, 9)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[EngineRig]:
    rig = make_rig(tmp_path)
    run_cycle(rig.svc)
    rig.set_now(at(DAY, 10))
    yield rig
    rig.close()
    assert rig.emu.bugs == []


def entry(rig: EngineRig, pupil_id: str) -> tuple[str, datetime] | None:
    with rig.svc.ledger.snapshot() as tx:
        found = [e for e in tx.entries(KEY) if e.pupil_id == pupil_id and e.day == DAY]
    return (found[0].value, found[0].first_seen) if found else None


def test_an_edit_between_the_cycles_read_and_its_write_is_read_by_the_next_cycle(
        rig: EngineRig) -> None:
    p0, p1 = pupil(rig, 0), pupil(rig, 1)
    teacher_types(rig, p0, DAY, "9")  # not a mark: the cycle writes «Замечания» to the journal

    def between(name: str) -> None:
        if name == "committed":  # after the ledger took the read in, before the write
            teacher_types(rig, p1, DAY, "4")

    first = run_cycle(rig.svc, on_step=between)
    assert first.writes == 1 and entry(rig, p1) is None  # the read came before the «4»
    rig.set_now(at(DAY, 10, 10))
    rig.emu.reset_counters()
    second = run_cycle(rig.svc)
    assert second.tally.journals_read == 1 and rig.calls()["sheets_read"] == 1
    assert entry(rig, p1) == ("4", at(DAY, 10, 10))  # first seen by this cycle, in time
    rig.set_now(at(DAY, 10, 20))
    rig.emu.reset_counters()
    third = run_cycle(rig.svc)  # the second cycle's own write is recognised: nothing to read
    assert third.tally.journals_read == 0
    assert rig.calls() == {"drive": 1, "sheets_read": 0, "sheets_write": 0}


def test_an_own_write_alone_is_not_read_again(rig: EngineRig) -> None:
    teacher_types(rig, pupil(rig, 0), DAY, "9")
    assert run_cycle(rig.svc).writes == 1
    rig.emu.reset_counters()
    again = run_cycle(rig.svc)
    assert (again.files_changed, again.tally.journals_read) == (0, 0)
    assert rig.calls() == {"drive": 1, "sheets_read": 0, "sheets_write": 0}


def test_an_own_write_that_may_have_landed_makes_the_file_read_again(rig: EngineRig) -> None:
    teacher_types(rig, pupil(rig, 0), DAY, "9")
    journal = rig.journal("7Б", "algebra").id
    # the write lands, but its answer is lost: the outcome is unknown to the service
    rig.emu.faults.add("timeout_after", match=lambda m, p: journal in p and "values:batchUpdate"
                       in p, times=1, principal=SVC)
    first = run_cycle(rig.svc)
    assert [p.file_id for p in first.failed] == [journal]
    rig.emu.reset_counters()
    second = run_cycle(rig.svc)
    assert second.tally.journals_read == 1  # read again, not taken for the service's own


def test_the_nightly_locks_own_protections_are_not_read_in_the_morning(rig: EngineRig) -> None:
    teacher_types(rig, pupil(rig, 0), DAY, "5")
    rig.set_now(at(DAY, 15))
    teacher_types(rig, pupil(rig, 1), DAY, "4")  # not read by any cycle before the night
    rig.set_now(at(NEXT, 0, 15))
    night = run_locks(rig.svc)
    assert night.protections_written == 3  # a day closed in each journal
    # the journal typed into is read; the two others, unchanged since the ledger took them in,
    # are locked without a read
    assert (night.tally.journals_read, night.locked_unread) == (1, 2)
    assert entry(rig, pupil(rig, 1)) == ("4", at(NEXT, 0, 15))
    with rig.svc.ledger.snapshot() as tx:
        journals = {r.id for r in tx.files(FileKind.JOURNAL)}
    rig.set_now(at(NEXT, 8))
    rig.emu.reset_counters()
    morning = run_cycle(rig.svc)  # only what the lock job left to write (its follow-ups)
    assert morning.tally.journals_read == len(set(night.follow_up) & journals)
    rig.set_now(at(NEXT, 8, 10))
    rig.emu.reset_counters()
    again = run_cycle(rig.svc)
    assert again.tally.journals_read == 0 and rig.calls()["sheets_read"] == 0


def test_a_save_between_the_cycles_read_and_its_write_is_read_next_on_the_local_backend(
        local: Local) -> None:  # noqa: F811
    school = local.svc.school
    other = school.pupils_in("7Б")[1].id
    lessons = school.lessons()[("7Б", "algebra")]
    grids = local.backend.read(local.file_id, ["1 четверть"])
    lesson = next(x for x in lessons if x.day == DAY)
    where = parse_journal(grids, school, "7Б", "algebra", lessons).map.cell(
        other, (DAY, lesson.lesson_no))
    assert where is not None
    local.clock.now = at(DAY, 11)
    local.type("9")  # not a mark: the cycle writes «Замечания»

    def between(name: str) -> None:
        if name == "committed":
            local.type("4", where)

    first = run_cycle(local.svc, on_step=between)
    assert first.writes == 1
    local.clock.now = at(DAY, 11, 10)
    second = run_cycle(local.svc)
    assert second.tally.journals_read == 1
    with local.svc.ledger.snapshot() as tx:
        got = [(e.value, e.first_seen) for e in tx.entries(KEY)
               if e.pupil_id == other and e.day == DAY]
    assert got == [("4", at(DAY, 11, 10))]
    local.clock.now = at(DAY, 11, 20)
    assert run_cycle(local.svc).tally.journals_read == 0  # its own write recognised
