"""Settled period tabs (``sync.jobs.settled``): once the 1st quarter is locked whole and a read
found its tab equal to the ledger, later reads of the journal neither parse, compare nor validate
it while its grid stands; its findings are carried, its service cells left as they are. What a
full read of every tab would do next is the yardstick: nothing to write, nothing to open or
resolve. A tampering in the settled tab, or a correction of one of its cells, is taken whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from sync.backends.protocol import CellRange
from sync.jobs import journal_sync
from sync.jobs.cycle import run_cycle
from sync.jobs.journal_layout import LAYOUT_KEY
from sync.jobs.journal_sync import JournalPlan, journal_refs, read_journal, sync_journal
from sync.jobs.locking import run_locks
from sync.jobs.settled import SettledTabs
from sync.layout.labels import RU
from sync.ledger.model import FileKind
from tests.sync.engine_fixtures import DAY, ORGANIZER, SVC, EngineRig, at
from tests.sync.jobs import test_time_locks
from tests.sync.jobs.test_locking import pupil, shown_at, teacher_types
from tests.sync.jobs.test_time_locks import CLASS, KEY, Q1, SUBJECT

rig = test_time_locks.rig
Q2 = "2 четверть"
LOCKED = date(2026, 10, 27)  # Q1 ended 23.10, its period marks closed 26.10 at 23:59


def q2_days(rig: EngineRig) -> list[date]:
    return [x.day for x in rig.lessons(CLASS, SUBJECT) if x.period == Q2]


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The period tabs of 7Б/algebra the journal sync parsed (a spy on the real parser: every
    period tab but those it was given as settled)."""
    titles: list[str] = []
    real = journal_sync.parse_journal

    def spy(grids, school, class_id, subject_id, lessons, **kw):  # type: ignore[no-untyped-def]
        reading = real(grids, school, class_id, subject_id, lessons, **kw)
        if (class_id, subject_id) == (CLASS, SUBJECT):
            titles.extend(p.name for p in school.periods_of(class_id)
                          if p.name not in reading.settled)
        return reading

    monkeypatch.setattr(journal_sync, "parse_journal", spy)
    yield titles


def morning_of(rig: EngineRig, day: date, hour: int = 12) -> None:
    """The lock job's night before ``day`` (today's cells opened), then ``hour`` o'clock."""
    rig.set_now(at(day, 0, 15))
    assert run_locks(rig.svc).ok
    rig.set_now(at(day, hour))


def settle_q1(rig: EngineRig) -> CellRange:
    """A Q1 mark «4» accepted, Q1 locked whole by the lock job, then a Q2 cycle that reads the
    journal whole (nothing kept yet) and finds Q1 clean."""
    where = teacher_types(rig, pupil(rig), DAY, "4")
    run_cycle(rig.svc)
    morning_of(rig, LOCKED)
    first = q2_days(rig)[0]
    morning_of(rig, first)
    teacher_types(rig, pupil(rig, 1), first, "5")
    assert run_cycle(rig.svc).tally.journals_read >= 1
    return where


def full_read(rig: EngineRig) -> JournalPlan:
    """What a read of every tab (nothing kept, as after a restart) makes of the journal now."""
    rig.svc.settled = SettledTabs()
    with rig.svc.ledger.snapshot() as tx:
        refs = journal_refs(rig.school, tx.files(FileKind.JOURNAL))
    (ref,) = [r for r in refs.values() if r.key == KEY]
    read = read_journal(rig.svc, ref)
    assert read.reading.settled == frozenset()
    with rig.svc.ledger.transaction() as tx:
        return sync_journal(tx, rig.svc, read, rig.now())


def q1_findings(rig: EngineRig) -> list[tuple[int, str, str | None, str]]:
    q1 = {x.day for x in rig.lessons(CLASS, SUBJECT) if x.period == Q1}
    with rig.svc.ledger.snapshot() as tx:
        return sorted((f.id, f.rule, f.cell, f.message) for f in tx.findings(KEY)
                      if f.day in q1 or (f.cell or "").startswith(f"'{Q1}'"))


def test_a_settled_quarter_is_not_parsed_and_a_full_read_finds_nothing_to_change(
        rig: EngineRig, parsed: list[str]) -> None:
    settle_q1(rig)
    assert Q1 in parsed  # the first read after the lock took the tab whole
    before = q1_findings(rig)
    assert before, "the example journal has open findings on Q1 lessons (topics missing)"
    layout = LAYOUT_KEY.format(file_id=rig.journal(CLASS, SUBJECT).id)
    with rig.svc.ledger.snapshot() as tx:
        positions = tx.state_get(layout)
    parsed.clear()

    second = q2_days(rig)[1]
    morning_of(rig, second)
    teacher_types(rig, pupil(rig, 2), second, "3")
    summary = run_cycle(rig.svc)

    assert summary.ok and summary.tally.entries_accepted == 1
    assert Q1 not in parsed and Q2 in parsed
    assert q1_findings(rig) == before  # carried: the same rows, none resolved or re-opened
    with rig.svc.ledger.snapshot() as tx:
        assert positions and tx.state_get(layout) == positions  # the kept map: the same positions
    plan = full_read(rig)
    assert plan.updates == [], plan.updates  # service cells, «Статус», «Замечания»: all as due
    assert (plan.tally.findings_opened, plan.tally.findings_resolved) == (0, 0)
    assert plan.tally.violations == 0
    assert rig.svc.ledger.audit_verify().ok


def test_an_owners_edit_in_a_settled_quarter_is_reverted_in_the_next_cycle(
        rig: EngineRig, parsed: list[str]) -> None:
    where = settle_q1(rig)
    journal = rig.journal(CLASS, SUBJECT).id
    morning_of(rig, q2_days(rig)[1])
    rig.type(ORGANIZER, journal, where, "2")  # owner-level: the protection lets it through
    parsed.clear()

    summary = run_cycle(rig.svc)

    assert Q1 in parsed  # its grid changed: taken whole
    assert (summary.tally.violations, summary.reverts) == (1, 1)
    assert shown_at(rig, where) == "4"
    with rig.svc.ledger.snapshot() as tx:
        (violation,) = tx.violations(KEY)
    assert (violation.locked_value, violation.attempted_value) == ("4", "2")


def test_a_correction_of_a_settled_cell_is_written_and_stays(rig: EngineRig,
                                                             parsed: list[str]) -> None:
    where = settle_q1(rig)
    p = pupil(rig)
    journal = rig.journal(CLASS, SUBJECT).id
    with rig.svc.ledger.snapshot() as tx:
        (admin,) = tx.files(FileKind.ADMIN)
    morning_of(rig, q2_days(rig)[1], 11)
    row = ["7Б · Алгебра", DAY.strftime("%d.%m.%Y"), p, "отметка", "5", "ошибка при вводе",
           "45-к", "да"]
    rig.client("zamestitel.uvr.example@gmail.com").http_client.values_update(  # the deputy
        admin.id, CellRange(RU.corrections_tab, 1, 1, 2, 1 + len(row)).a1(),
        params={"valueInputOption": "USER_ENTERED"}, body={"values": [row]})
    corrected = run_cycle(rig.svc)
    assert corrected.corrections is not None and corrected.corrections["applied"] == 1
    assert shown_at(rig, where) == "5"

    rig.set_now(at(q2_days(rig)[1], 13))
    teacher_types(rig, pupil(rig, 3), q2_days(rig)[1], "4")
    parsed.clear()
    after = run_cycle(rig.svc)
    assert after.tally.violations == 0 and after.reverts == 0
    assert shown_at(rig, where) == "5"
    assert Q1 in parsed  # the correction forgot it: taken whole, its average written again
    average = rig.reading(CLASS, SUBJECT).map.periods[Q1]
    assert average.average_col is not None
    row = average.rows[p]
    assert rig.grids(journal)[Q1][row][average.average_col] == "5"

    rig.set_now(at(q2_days(rig)[1], 14))  # settled at the grid that read wrote: not parsed now
    teacher_types(rig, pupil(rig, 4), q2_days(rig)[1], "3")
    parsed.clear()
    run_cycle(rig.svc)
    assert Q1 not in parsed and Q2 in parsed
    plan = full_read(rig)
    assert plan.updates == [] and plan.tally.violations == 0



def test_a_correction_whose_write_failed_is_written_by_the_next_read(rig: EngineRig,
                                                                      parsed: list[str]) -> None:
    """The ledger holds the corrected value, the sheet still the old one: the settled tab's grid
    is unchanged, but the correction forgot it, so the next read compares it and writes «5»."""
    where = settle_q1(rig)
    journal = rig.journal(CLASS, SUBJECT).id
    with rig.svc.ledger.snapshot() as tx:
        (admin,) = tx.files(FileKind.ADMIN)
    day = q2_days(rig)[1]
    morning_of(rig, day, 11)
    row = ["7Б · Алгебра", DAY.strftime("%d.%m.%Y"), pupil(rig), "отметка", "5",
           "ошибка при вводе", "45-к", "да"]
    rig.client("zamestitel.uvr.example@gmail.com").http_client.values_update(
        admin.id, CellRange(RU.corrections_tab, 1, 1, 2, 1 + len(row)).a1(),
        params={"valueInputOption": "USER_ENTERED"}, body={"values": [row]})
    rig.emu.faults.add("503", match=lambda m, p: journal in p and p.endswith("values:batchUpdate"),
                       times=None, principal=SVC)
    corrected = run_cycle(rig.svc)
    assert corrected.corrections is not None and corrected.corrections["applied"] == 1
    assert shown_at(rig, where) == "4"  # the write failed
    rig.emu.faults.clear()
    parsed.clear()

    rig.set_now(at(day, 13))
    teacher_types(rig, pupil(rig, 3), day, "4")
    run_cycle(rig.svc)

    assert Q1 in parsed
    assert shown_at(rig, where) == "5"
    assert full_read(rig).updates == []


def test_a_closed_tab_holding_a_note_outside_its_grid_is_never_settled(
        rig: EngineRig, parsed: list[str]) -> None:
    """Its remark comes from the parse (not the rules): a tab that must be parsed to keep it."""
    settle_q1(rig)
    journal = rig.journal(CLASS, SUBJECT).id
    tab = rig.reading(CLASS, SUBJECT).map.periods[Q1]
    note = CellRange(Q1, tab.end_row + 3, 2, tab.end_row + 4, 3)
    day = q2_days(rig)[1]
    morning_of(rig, day)
    rig.type(ORGANIZER, journal, note, "перенести на пятницу")  # the owner's note, below the grid
    run_cycle(rig.svc)
    remarks = [f for f in q1_findings(rig) if f[1].startswith("layout_")]
    assert remarks, q1_findings(rig)

    for n, hour in enumerate((13, 14)):
        parsed.clear()
        rig.set_now(at(day, hour))
        teacher_types(rig, pupil(rig, 4 + n), day, "5")
        run_cycle(rig.svc)
        assert Q1 in parsed
        assert [f for f in q1_findings(rig) if f[1].startswith("layout_")] == remarks


def test_a_service_cell_put_back_in_a_settled_quarter_leaves_it_settled(
        rig: EngineRig, parsed: list[str]) -> None:
    """The owner types over a pupil's average in the closed quarter: the next read parses the
    tab, writes the average back and settles the tab at the grid its write leaves, so the read
    after that does not parse it again."""
    settle_q1(rig)
    journal = rig.journal(CLASS, SUBJECT).id
    tab = rig.reading(CLASS, SUBJECT).map.periods[Q1]
    assert tab.average_col is not None
    row = tab.rows[pupil(rig)]
    average = CellRange(Q1, row, tab.average_col, row + 1, tab.average_col + 1)
    assert rig.grids(journal)[Q1][row][tab.average_col] == "4"
    day = q2_days(rig)[1]
    morning_of(rig, day)
    rig.type(ORGANIZER, journal, average, "5")
    parsed.clear()

    summary = run_cycle(rig.svc)

    assert Q1 in parsed and summary.tally.violations == 0
    assert rig.grids(journal)[Q1][row][tab.average_col] == "4"  # the service's value again
    rig.set_now(at(day, 13))
    teacher_types(rig, pupil(rig, 5), day, "4")
    parsed.clear()
    run_cycle(rig.svc)
    assert Q1 not in parsed and Q2 in parsed
    assert full_read(rig).updates == []
