"""What three parents read in their child's diary after three school days, against what the
teachers, the class teacher and the deputy did — every expected row written out by hand.

Over the emulator, each person as themselves: 19–21.10.2026 (the 1st quarter's last week, when
period marks are open) the algebra and Russian teachers of 7Б type topics, work types,
homework and marks, the class teacher types «б» for a day of absence, the algebra teacher gives
two quarter marks, and the deputy corrects a mark of the locked 19.10 (4/3 → 4).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sync.backends.protocol import CellRange
from sync.jobs.cycle import run_cycle
from sync.jobs.locking import run_locks
from sync.layout.journal.map import LessonField
from sync.layout.labels import RU
from sync.ledger.model import FileKind
from tests.sync.engine_fixtures import EngineRig, at
from tests.sync.jobs.diary_helpers import consenting, diary_rig, read_diary
from tests.sync.jobs.test_cycle_classes import type_reason

MON, TUE, WED = date(2026, 10, 19), date(2026, 10, 20), date(2026, 10, 21)
A, B, C = "s0027", "s0028", "s0029"  # Алексеев Иван, Баранов Иван, Власова …
Q1 = "1 четверть"
LESSONS = {  # (subject, day) → topic, work type, homework, {pupil: mark}
    ("russian", MON): ("Причастие", "Работа на уроке", "упр. 5", {A: "3", C: "н"}),
    ("algebra", MON): ("Уравнения", "Контрольная работа", "№ 101", {A: "5", B: "4/3", C: "н"}),
    ("algebra", TUE): ("Системы уравнений", "Самостоятельная работа", "№ 120",
                       {A: "4", B: "5", C: "3"}),
    ("algebra", WED): ("Повторение", "Устный ответ", "№ 130", {A: "5", B: "3", C: "4"}),
}


def teacher(rig: EngineRig, subject: str) -> str:
    return rig.teacher_email("7Б", subject)


def teach(rig: EngineRig, day: date) -> None:
    for (subject, when), (topic, work, homework, marks) in LESSONS.items():
        if when != day:
            continue
        journal = rig.journal("7Б", subject).id
        lesson = rig.lesson_on("7Б", subject, day)
        where = rig.reading("7Б", subject).map
        for field, text in ((LessonField.TOPIC, topic), (LessonField.WORK_TYPE, work),
                            (LessonField.HOMEWORK, homework)):
            cell = where.lesson_field((day, lesson.lesson_no), field)
            assert cell is not None
            rig.type(teacher(rig, subject), journal, cell, text)
        for pupil, value in marks.items():
            rig.type(teacher(rig, subject), journal, rig.cell("7Б", subject, pupil, day), value)


def night(rig: EngineRig, day: date) -> None:
    rig.set_now(at(day, 0, 15))
    assert run_locks(rig.svc).ok


def correct(rig: EngineRig, row: list[Any]) -> None:
    with rig.svc.ledger.snapshot() as tx:
        (admin,) = tx.files(FileKind.ADMIN)
    rig.client("zamestitel.uvr.example@gmail.com").http_client.values_update(  # the deputy signs
        admin.id, CellRange(RU.corrections_tab, 1, 1, 2, 1 + len(row)).a1(),
        params={"valueInputOption": "USER_ENTERED"}, body={"values": [row]})


def parent(rig: EngineRig, pupil: str) -> str:
    return sorted(consenting(rig.school, pupil, WED))[0]


def test_three_parents_read_what_happened(tmp_path: Path) -> None:
    rig = diary_rig(tmp_path, start=at(MON, 8))
    try:
        run_cycle(rig.svc)  # the diaries are made
        rig.set_now(at(MON, 12))
        teach(rig, MON)
        type_reason(rig, C, MON, "б")  # the class teacher: a sick note
        assert run_cycle(rig.svc).ok
        night(rig, TUE)
        rig.set_now(at(TUE, 12))
        teach(rig, TUE)
        assert run_cycle(rig.svc).ok
        night(rig, WED)
        rig.set_now(at(WED, 12))
        teach(rig, WED)
        for pupil, mark in ((A, "5"), (B, "4")):
            where = rig.reading("7Б", "algebra").map.period_mark_cell(pupil, Q1)
            assert where is not None
            rig.type(teacher(rig, "algebra"), rig.journal("7Б", "algebra").id, where, mark)
        correct(rig, ["7Б · Алгебра", "19.10.2026", B, "отметка", "4", "ошибка при вводе",
                      "45-к", "да"])
        summary = run_cycle(rig.svc)
        assert summary.ok and summary.corrections and summary.corrections["applied"] == 1

        week = {p: read_diary(rig, parent(rig, p), p) for p in (A, B, C)}
        marks = {p: read_diary(rig, parent(rig, p), p, RU.marks_tab) for p in (A, B, C)}
        attendance = read_diary(rig, parent(rig, C), C, RU.attendance_tab)
        totals = {p: read_diary(rig, parent(rig, p), p, RU.totals_tab) for p in (A, B)}
    finally:
        rig.close()

    assert week[A][1] == ["Неделя", "19.10 – 23.10.2026"]
    assert week[A][3:14] == [
        ["ПОНЕДЕЛЬНИК", "19.10"],
        ["1. Русский язык", "3 — Работа на уроке", "Тема: Причастие\nЗадано: упр. 5"],
        ["3. Алгебра", "5 — Контрольная работа", "Тема: Уравнения\nЗадано: № 101"],
        ["ВТОРНИК", "20.10"],
        ["1. Русский язык"],
        ["5. Алгебра", "4 — Самостоятельная работа", "Тема: Системы уравнений\nЗадано: № 120"],
        ["СРЕДА", "21.10"],
        ["1. Русский язык"],
        ["5. Алгебра", "5 — Устный ответ", "Тема: Повторение\nЗадано: № 130"],
        ["ЧЕТВЕРГ", "22.10"],
        ["2. Русский язык"],
    ]
    # Friday has no Russian or algebra; next week is the autumn holidays
    assert week[A][14:] == [["ПЯТНИЦА", "23.10", "нет уроков"],
                            ["ДОМАШНЕЕ ЗАДАНИЕ", "к урокам следующей недели"],
                            ["", "пока ничего не задано"]]
    assert week[B][5][:2] == ["3. Алгебра", "4 — Контрольная работа"]  # the corrected mark
    assert week[C][4][:2] == ["1. Русский язык", "н, по болезни"]
    assert week[C][5][:2] == ["3. Алгебра", "н, по болезни"]

    # A, algebra: 5 (контрольная ×2), 4 (самостоятельная ×1.5), 5 (устный ×1):
    #   (10 + 6 + 5) / 4.5 = 4.666… → «4,67» ≥ 4.65 → 5; the teacher gave 5
    # A, Russian: one 3 → 3, fewer than 3 marks → н/а
    assert marks[A][1] == ["Предмет", "Отметки: дата, вид работы, тема", "Средний балл",
                           "Рекомендуемая", "Четверть"]
    assert marks[A][2:] == [  # subjects in the order of assignments.csv
        ["Русский язык", "3 · 19.10 · Работа на уроке · Причастие", "3", "н/а"],
        ["Алгебра", "5 · 19.10 · Контрольная работа · Уравнения\n"
                    "4 · 20.10 · Самостоятельная работа · Системы уравнений\n"
                    "5 · 21.10 · Устный ответ · Повторение", "4,67", "5", "5"],
    ]
    # B, algebra after the correction: 4 (×2), 5 (×1.5), 3 (×1): (8 + 7.5 + 3) / 4.5 = 4.11 → 4
    assert marks[B][3] == ["Алгебра", "4 · 19.10 · Контрольная работа · Уравнения\n"
                                      "5 · 20.10 · Самостоятельная работа · Системы уравнений\n"
                                      "3 · 21.10 · Устный ответ · Повторение", "4,11", "4", "4"]
    assert marks[B][2] == ["Русский язык"]
    # C, algebra: 3 (×1.5), 4 (×1): (4.5 + 4) / 2.5 = 3.4; two marks → н/а
    assert marks[C][3][2:] == ["3,4", "н/а"]

    # C missed both lessons of 19.10 (the diary's subjects), by illness: one whole day
    assert attendance[1:8] == [["Пропущено уроков", "2"], ["— по болезни", "2"],
                               ["— по уважительной причине", "0"],
                               ["— без уважительной причины", "0"],
                               ["— причина не указана", "0"], ["Опозданий", "0"],
                               ["Пропущено дней целиком", "1"]]
    assert attendance[10:] == [["19.10.2026", "1. Русский язык", "н — по болезни"],
                               ["19.10.2026", "3. Алгебра", "н — по болезни"]]

    assert totals[A][2:] == [["Русский язык"], ["Алгебра", "5"]]
    assert totals[B][2:] == [["Русский язык"], ["Алгебра", "4"]]
