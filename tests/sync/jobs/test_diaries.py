"""The diary writer over the Google emulator (real gspread clients, each person as themselves):
the first cycle creates one diary per pupil shared with the parents who applied; afterwards a
diary is written only when what it shows changed — budgets from the emulator's counters.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import gspread
import pytest

from sync.jobs.cycle import run_cycle
from sync.jobs.locking import run_locks
from sync.layout.journal.map import LessonField
from sync.layout.labels import RU
from tests.sync.engine_fixtures import DAY, ORGANIZER, SVC, EngineRig, at
from tests.sync.jobs.diary_helpers import (
    CLASSES,
    DIARY_TABS,
    consenting,
    diaries,
    diary_rig,
    diary_writes,
    read_diary,
    synced_diary_rig,
    text_of,
    type_mark,
)

CLASS, SUBJECT = "7Б", "algebra"


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[EngineRig]:
    with synced_diary_rig(tmp_path) as rig:  # checks the access invariants after every test
        yield rig


def lesson_cell(rig: EngineRig, name: LessonField, subject: str = SUBJECT):  # type: ignore[no-untyped-def]
    lesson = rig.lesson_on(CLASS, subject, DAY)
    found = rig.reading(CLASS, subject).map.lesson_field((DAY, lesson.lesson_no), name)
    assert found is not None
    return found


def teacher(rig: EngineRig, subject: str = SUBJECT) -> str:
    return rig.teacher_email(CLASS, subject)


def test_the_first_cycle_creates_one_diary_per_pupil_shared_with_who_applied(
        tmp_path: Path) -> None:
    rig = diary_rig(tmp_path)
    try:
        rig.set_now(at(DAY, 9))
        summary = run_cycle(rig.svc)
        made = diaries(rig)
        pupils = [p.id for p in rig.school.pupils]
        assert sorted(made) == sorted(pupils) and len(pupils) == 47
        assert summary.diaries is not None and summary.diaries["created"] == 47
        for pupil in rig.school.pupils:
            f = rig.emu.files[made[pupil.id]]
            assert f.name == f"Дневник · {pupil.last_name} {pupil.first_name} · {pupil.class_id}" \
                             " · 2026/27"
            assert f.copy_requires_writer_permission and f.drive_id == rig.drive
            readers = {p.email_address for p in f.permissions if p.role == "reader"}
            assert readers == consenting(rig.school, pupil.id, DAY)
            assert all(p.role == "reader" for p in f.permissions)  # nobody else on the file
        assert [t.title for t in rig.emu.files[made[pupils[0]]].spreadsheet.sheets] == list(
            DIARY_TABS)
        rig.emu.reset_counters()
        idle = run_cycle(rig.svc)  # nothing changed: no diary is written, none created
        assert rig.calls() == {"drive": 1, "sheets_read": 0, "sheets_write": 0}
        assert idle.diaries is not None and idle.diaries["rendered"] == 0
    finally:
        rig.close()


def test_one_mark_rewrites_exactly_that_pupils_diary(rig: EngineRig) -> None:
    rig.set_now(at(DAY, 10))
    journal = rig.journal(CLASS, SUBJECT).id
    rig.type(teacher(rig), journal, lesson_cell(rig, LessonField.TOPIC), "Дроби")
    rig.type(teacher(rig), journal, lesson_cell(rig, LessonField.WORK_TYPE), "Контрольная работа")
    run_cycle(rig.svc)
    pupil = rig.school.pupils_in(CLASS)[2]
    rig.set_now(at(DAY, 11))
    rig.type(teacher(rig), journal, rig.cell(CLASS, SUBJECT, pupil.id, DAY), "4")
    rig.emu.reset_counters()

    summary = run_cycle(rig.svc)

    assert diary_writes(rig) == {pupil.id: 1}
    assert summary.diaries is not None and summary.diaries["written"] == 1
    parent = sorted(consenting(rig.school, pupil.id, DAY))[0]
    week = text_of(read_diary(rig, parent, pupil.id))
    lesson_no = rig.lesson_on(CLASS, SUBJECT, DAY).lesson_no
    assert f"{lesson_no}. Алгебра | 4 — Контрольная работа | Тема: Дроби" in week
    marks = text_of(read_diary(rig, parent, pupil.id, RU.marks_tab))
    assert "Алгебра | 4 · 08.09 · Контрольная работа · Дроби" in marks


def test_a_homework_change_rewrites_exactly_the_classs_diaries(rig: EngineRig) -> None:
    rig.set_now(at(DAY, 10))
    rig.type(teacher(rig), rig.journal(CLASS, SUBJECT).id, lesson_cell(rig, LessonField.HOMEWORK),
             "№ 12, 14")
    rig.emu.reset_counters()

    run_cycle(rig.svc)

    assert diary_writes(rig) == {p.id: 1 for p in rig.school.pupils_in(CLASS)}
    other = rig.school.pupils_in(CLASSES[1])[0]
    assert "№ 12, 14" not in text_of(read_diary(rig, ORGANIZER, other.id))
    mine = rig.school.pupils_in(CLASS)[0]
    assert "Задано: № 12, 14" in text_of(read_diary(rig, ORGANIZER, mine.id))
    rig.emu.reset_counters()
    run_cycle(rig.svc)  # nothing new: no diary written
    assert rig.calls()["sheets_write"] == 0


def test_a_teachers_formula_text_reaches_the_diary_as_text(rig: EngineRig) -> None:
    monday = DAY - timedelta(days=DAY.weekday())
    last = [x for x in rig.lessons(CLASS, SUBJECT) if x.day < monday + timedelta(days=7)][-1]
    lesson_no = next(x.lesson_no for x in rig.lessons(CLASS, SUBJECT)
                     if x.day >= monday + timedelta(days=7))
    rig.set_now(at(last.day, 0, 15))
    assert run_locks(rig.svc).ok  # the night before: that day's cells open
    rig.set_now(at(last.day, 10))
    where = rig.reading(CLASS, SUBJECT).map.lesson_field((last.day, last.lesson_no),
                                                         LessonField.HOMEWORK)
    assert where is not None
    rig.type(teacher(rig), rig.journal(CLASS, SUBJECT).id, where, "=2+2")  # a TEXT cell
    run_cycle(rig.svc)
    pupil = rig.school.pupils_in(CLASS)[0]
    shown = f"=2+2 (задано {last.day:%d.%m})"  # next week's homework, as the teacher typed it
    for option in ("UNFORMATTED_VALUE", "FORMULA"):
        data = rig.client(ORGANIZER).http_client.values_get(
            diaries(rig)[pupil.id], f"'{RU.week_tab}'", params={"valueRenderOption": option})
        rows = data.get("values", [])
        assert any(row[1:] == [f"{lesson_no}. Алгебра", shown] for row in rows), option


def test_a_parent_reads_their_childs_diary_and_nothing_else(rig: EngineRig) -> None:
    made = diaries(rig)
    pupil = next(p for p in rig.school.pupils_in(CLASS) if consenting(rig.school, p.id, DAY))
    parent = sorted(consenting(rig.school, pupil.id, DAY))[0]
    assert read_diary(rig, parent, pupil.id)[0][0] == "Дневник"
    other = next(pid for pid in made if pid != pupil.id)
    with pytest.raises(gspread.exceptions.APIError) as refused:
        read_diary(rig, parent, other)
    assert refused.value.response.status_code in (403, 404)
    with pytest.raises(gspread.exceptions.APIError) as write:
        rig.client(parent).http_client.values_update(
            made[pupil.id], f"'{RU.week_tab}'!A1", params={"valueInputOption": "RAW"},
            body={"values": [["5"]]})
    assert write.value.response.status_code == 403
    assert SVC  # the service principal owns every diary through the shared drive


def test_a_failed_diary_write_waits_and_is_written_in_the_next_cycle(rig: EngineRig) -> None:
    rig.set_now(at(DAY, 10))
    pupil = rig.school.pupils_in(CLASS)[1].id
    type_mark(rig, CLASS, SUBJECT, pupil, "5")
    rig.emu.faults.add("503", match=diaries(rig)[pupil], times=10, principal=SVC)

    failed = run_cycle(rig.svc)

    assert not failed.ok
    assert [p.file_id for p in failed.failed] == [f"diary of pupil {pupil}"]
    with rig.svc.ledger.snapshot() as tx:
        assert tx.diary_states()[pupil].pending_since == failed.started
    rig.emu.faults.clear()
    rig.set_now(at(DAY, 10, 5))
    rig.emu.reset_counters()

    retried = run_cycle(rig.svc)  # nothing else changed: only the waiting diary is written

    assert retried.ok and diary_writes(rig) == {pupil: 1}
    lesson_no = rig.lesson_on(CLASS, SUBJECT, DAY).lesson_no
    assert [f"{lesson_no}. Алгебра", "5"] in read_diary(rig, ORGANIZER, pupil)
    with rig.svc.ledger.snapshot() as tx:
        assert tx.diary_states()[pupil].pending_since is None


def test_a_deleted_diary_is_made_again_from_the_ledger(rig: EngineRig) -> None:
    pupil = rig.school.pupils_in(CLASS)[0]
    rig.set_now(at(DAY, 10))
    type_mark(rig, CLASS, SUBJECT, pupil.id, "3")
    run_cycle(rig.svc)
    old = diaries(rig)[pupil.id]
    rig.client(ORGANIZER).http_client.request(
        "delete", f"https://www.googleapis.com/drive/v3/files/{old}",
        params={"supportsAllDrives": "true"})

    summary = run_cycle(rig.svc)

    new = diaries(rig)[pupil.id]
    assert new != old and summary.rebuilt == [new]
    lesson_no = rig.lesson_on(CLASS, SUBJECT, DAY).lesson_no
    assert [f"{lesson_no}. Алгебра", "3"] in read_diary(rig, ORGANIZER, pupil.id)
    readers = {p.email_address for p in rig.emu.files[new].permissions if p.role == "reader"}
    assert readers == consenting(rig.school, pupil.id, DAY)
    rig.emu.reset_counters()
    run_cycle(rig.svc)
    assert rig.calls()["sheets_write"] == 0


def test_a_diary_edited_by_someone_else_is_laid_out_again(rig: EngineRig) -> None:
    pupil = rig.school.pupils_in(CLASS)[0]
    before = read_diary(rig, ORGANIZER, pupil.id)
    file_id = diaries(rig)[pupil.id]
    rig.client(ORGANIZER).http_client.values_update(
        file_id, f"'{RU.week_tab}'!A5:C6", params={"valueInputOption": "USER_ENTERED"},
        body={"values": [["5", "5", "5"], ["отлично", "", ""]]})
    rig.set_now(at(DAY, 10))
    rig.emu.reset_counters()

    run_cycle(rig.svc)

    assert diary_writes(rig) == {pupil.id: 1}
    assert read_diary(rig, ORGANIZER, pupil.id) == before
