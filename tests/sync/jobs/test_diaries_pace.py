"""Diary pacing over the Google emulator (real gspread clients): a cycle writes at most its
diary budget, the longest-waiting diaries first, the rest in the next cycle; repeated changes of
one diary cost one write; the new week is rendered by the nightly lock job, not by the day's
cycles. Budgets from the emulator's counters.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from config.school import BackendKind, BackendSettings, DiarySettings, ScheduleSettings
from sync.jobs.cycle import run_cycle
from sync.jobs.diaries import diary_budget
from sync.jobs.locking import run_locks
from sync.layout.labels import RU
from tests.sync.engine_fixtures import DAY, ORGANIZER, EngineRig, at
from tests.sync.jobs.diary_helpers import (
    diary_writes,
    read_diary,
    synced_diary_rig,
    text_of,
    type_mark,
)

CLASS, SUBJECT = "7Б", "algebra"
MONDAY = date(2026, 9, 14)  # the school week after DAY's


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[EngineRig]:
    with synced_diary_rig(tmp_path) as rig:  # checks the access invariants after every test
        yield rig


def with_budget(rig: EngineRig, k: int) -> None:
    school = rig.svc.school
    rig.svc.school = dataclasses.replace(
        school, diaries=dataclasses.replace(school.diaries, writes_per_cycle=k))


def test_a_budget_of_k_writes_the_k_oldest_changes_and_the_rest_next_cycle(
        rig: EngineRig) -> None:
    pupils = [p.id for p in rig.school.pupils_in(CLASS)][:5]
    rig.set_now(at(DAY, 10))
    for pupil in pupils:
        type_mark(rig, CLASS, SUBJECT, pupil, "4")
    # the ages, set apart from the school's order: pupils[4] waits longest, then [1], then [3]
    ages = {pupils[4]: at(DAY, 8, 10), pupils[1]: at(DAY, 8, 20), pupils[3]: at(DAY, 8, 30)}
    with rig.svc.ledger.transaction() as tx:
        for pupil, since in ages.items():
            tx.diaries_pending([pupil], since)
    with_budget(rig, 3)
    rig.emu.reset_counters()

    first = run_cycle(rig.svc)

    assert diary_writes(rig) == {pupils[4]: 1, pupils[1]: 1, pupils[3]: 1}
    assert first.diaries is not None and first.diaries["written"] == 3
    assert first.diaries["waiting"] == 2
    with rig.svc.ledger.snapshot() as tx:
        states = tx.diary_states()
    assert {p for p in pupils if states[p].pending_since is not None} == {pupils[0], pupils[2]}
    rig.set_now(at(DAY, 10, 5))
    rig.emu.reset_counters()

    second = run_cycle(rig.svc)

    assert diary_writes(rig) == {pupils[0]: 1, pupils[2]: 1}
    assert second.diaries is not None and second.diaries["waiting"] == 0
    for pupil in pupils:
        assert "Алгебра | 4 · 08.09" in text_of(read_diary(rig, ORGANIZER, pupil, RU.marks_tab))
    rig.emu.reset_counters()
    run_cycle(rig.svc)
    assert diary_writes(rig) == {}


def test_waiting_diaries_come_before_newer_changes(rig: EngineRig) -> None:
    pupils = [p.id for p in rig.school.pupils_in(CLASS)][:4]
    with_budget(rig, 2)
    rig.set_now(at(DAY, 10))
    for pupil in pupils[:3]:
        type_mark(rig, CLASS, SUBJECT, pupil, "5")
    run_cycle(rig.svc)  # writes pupils[0], [1]; pupils[2] waits since 10:00
    rig.set_now(at(DAY, 10, 5))
    type_mark(rig, CLASS, SUBJECT, pupils[3], "3")  # a newer change
    rig.emu.reset_counters()

    run_cycle(rig.svc)

    assert set(diary_writes(rig)) == {pupils[2], pupils[3]}
    rig.set_now(at(DAY, 10, 10))
    type_mark(rig, CLASS, SUBJECT, pupils[0], "4")
    type_mark(rig, CLASS, SUBJECT, pupils[1], "4")
    type_mark(rig, CLASS, SUBJECT, pupils[3], "4")
    rig.emu.reset_counters()
    third = run_cycle(rig.svc)  # three changed, budget two: the first two in class order
    assert diary_writes(rig) == {pupils[0]: 1, pupils[1]: 1}
    assert third.diaries is not None and third.diaries["waiting"] == 1


def test_one_diary_changed_three_times_between_cycles_is_written_once(rig: EngineRig) -> None:
    pupil = rig.school.pupils_in(CLASS)[3].id
    rig.set_now(at(DAY, 10))
    type_mark(rig, CLASS, SUBJECT, pupil, "5")
    rig.set_now(at(DAY, 10, 1))
    type_mark(rig, CLASS, SUBJECT, pupil, "3")
    rig.set_now(at(DAY, 10, 2))
    type_mark(rig, CLASS, SUBJECT, pupil, "4")
    rig.emu.reset_counters()

    summary = run_cycle(rig.svc)

    assert diary_writes(rig) == {pupil: 1}
    assert summary.diaries is not None and summary.diaries["written"] == 1
    marks = text_of(read_diary(rig, ORGANIZER, pupil, RU.marks_tab))
    assert "Алгебра | 4 · 08.09" in marks and "Алгебра | 3" not in marks


def test_the_night_job_renders_the_new_week_and_the_days_cycles_write_none_for_it(
        rig: EngineRig) -> None:
    with_budget(rig, 5)  # the day's cycles could not spread 47 diaries in one cycle anyway
    rig.set_now(at(MONDAY, 0, 0))

    night = run_locks(rig.svc)

    everyone = {p.id: 1 for p in rig.school.pupils}
    assert diary_writes(rig) == everyone  # 47 diaries, one write each, no budget at night
    assert night.diaries is not None and night.diaries["written"] == len(everyone)
    pupil = rig.school.pupils_in(CLASS)[0].id
    assert "14.09" in text_of(read_diary(rig, ORGANIZER, pupil))
    for hour in (8, 9, 13):
        rig.set_now(at(MONDAY, hour))
        rig.emu.reset_counters()
        day = run_cycle(rig.svc)
        assert diary_writes(rig) == {}
        assert day.diaries is not None and day.diaries["rendered"] == 0


def test_the_night_job_renders_nothing_within_a_week(rig: EngineRig) -> None:
    rig.set_now(at(DAY + timedelta(days=1), 0, 0))
    night = run_locks(rig.svc)
    assert night.diaries is None and diary_writes(rig) == {}


def test_the_default_budget_is_a_share_of_the_principals_quota_over_a_sync_interval(
        rig: EngineRig) -> None:
    school = rig.school
    assert school.diaries.writes_per_cycle is None
    assert diary_budget(school) == 240  # 60 writes/min × 5 min × 0.8
    pooled = dataclasses.replace(school, backend=dataclasses.replace(
        school.backend, pool_credentials_env=("A", "B", "C", "D")))
    assert diary_budget(pooled) == 1200  # 5 × 60 = 300/min (the project's cap) × 5 × 0.8
    slow = dataclasses.replace(pooled, schedule=ScheduleSettings(sync_every_minutes=2),
                               diaries=DiarySettings(quota_share=0.5))
    assert diary_budget(slow) == 300  # 300 × 2 × 0.5
    local = dataclasses.replace(school, backend=BackendSettings(kind=BackendKind.LOCAL))
    assert diary_budget(local) is None
