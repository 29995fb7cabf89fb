"""Journals assessed without marks, with «зачёт/незачёт», and the feedback on a value read in
another spelling — end to end: teachers type in the emulated Google Sheets, a sync cycle runs,
the ledger and «Замечания» are read back.

The example school grades ОДНКНР (5А) «зачёт/незачёт» ([[assessment]] in its school.toml); for
a journal without marks, 5А is made a 1st grade here (the example school has none).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from sync.jobs.cycle import run_cycle
from sync.layout.labels import RU
from tests.sync.engine_fixtures import EngineRig, at, make_rig

FRIDAY = date(2026, 9, 11)  # 5А has ОДНКНР on Fridays (timetable.csv)
KEY = ("5А", "odnknr")


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[EngineRig]:
    rig = make_rig(tmp_path, journals=(KEY, ("7Б", "algebra")), start=at(FRIDAY, 8))
    yield rig
    rig.close()


def header(rig: EngineRig, key: tuple[str, str]) -> list[object]:
    grid = rig.grids(rig.journal(*key).id, findings=False)["1 четверть"]
    return list(grid[2])


def messages(rig: EngineRig, key: tuple[str, str]) -> list[str]:
    return [str(r[1]) for r in rig.findings_tab(rig.journal(*key).id)[1:]]


def typed(rig: EngineRig, key: tuple[str, str], values: dict[int, str]) -> list[str]:
    """The teacher types ``values`` (pupil index → text) into today's lesson; the pupils' ids."""
    pupils = [p.id for p in rig.school.pupils_in(key[0], on=FRIDAY)]
    file_id = rig.journal(*key).id
    for i, value in values.items():
        rig.type(rig.teacher_email(*key), file_id, rig.cell(*key, pupils[i], FRIDAY), value)
    return pupils


def accepted(rig: EngineRig, key: tuple[str, str]) -> dict[str, str]:
    with rig.svc.ledger.snapshot() as tx:
        return {e.pupil_id: e.value for e in tx.entries("/".join(key))}


def test_a_pass_fail_journal_takes_zach_and_refuses_a_mark(rig: EngineRig) -> None:
    assert RU.average not in header(rig, KEY) and RU.recommended not in header(rig, KEY)
    assert RU.average in header(rig, ("7Б", "algebra"))
    rig.set_now(at(FRIDAY, 10))
    pupils = typed(rig, KEY, {0: "зач", 1: "незач", 2: "5", 3: "н"})
    run_cycle(rig.svc)
    assert accepted(rig, KEY) == {pupils[0]: "зач", pupils[1]: "незач", pupils[3]: "н"}
    [refused] = [m for m in messages(rig, KEY) if "«5»" in m]
    assert refused.endswith("«5» — предмет оценивается «зачёт/незачёт»: пишите «зач» или "
                            "«незач»; запись не принята.")


def test_a_mark_in_grade_1_is_refused(rig: EngineRig) -> None:
    classes = tuple(dataclasses.replace(c, grade=1) if c.id == "5А" else c
                    for c in rig.school.classes)
    school = dataclasses.replace(rig.school, classes=classes)  # its first [[assessment]] band
    rig.svc = dataclasses.replace(rig.svc, school=school)
    rig.set_now(at(FRIDAY, 10))
    pupils = typed(rig, KEY, {0: "5", 1: "н"})
    run_cycle(rig.svc)
    assert accepted(rig, KEY) == {pupils[1]: "н"}
    [refused] = [m for m in messages(rig, KEY) if "«5»" in m]
    assert "«5» — в 1 классе по этому предмету отметки не ставят (безотметочное обучение)" in refused


def test_a_latin_h_is_accepted_and_the_teacher_is_told(rig: EngineRig) -> None:
    rig.set_now(at(FRIDAY, 10))
    pupils = typed(rig, KEY, {0: "H"})  # a Latin H, typed on an English keyboard layout
    run_cycle(rig.svc)
    assert accepted(rig, KEY) == {pupils[0]: "н"}
    pupil = rig.school.pupil(pupils[0])
    assert pupil is not None
    assert (f"{pupil.last_name} {pupil.first_name}, 11.09.2026: «H» принято как «н» (латинская "
            "«H» заменена на «н»). Впишите «н», и это замечание исчезнет.") in messages(rig, KEY)
    typed(rig, KEY, {0: "н"})
    run_cycle(rig.svc)
    assert not any("«H»" in m for m in messages(rig, KEY))
    rig.emu.reset_counters()
    run_cycle(rig.svc)  # nothing typed, nothing normalised: no write at all
    assert rig.calls()["sheets_write"] == 0
