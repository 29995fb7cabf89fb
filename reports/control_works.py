"""Report 5, control works: every lesson of the period whose work type is an assessment
(«оценочная процедура», ``WorkType.assessment``), its results and the checks of domain.md §2.6.

Per work: pupils enrolled that day, how many wrote it (a mark), were absent («н»), have no mark;
the distribution of marks, % успеваемости, % качества and the average over the pupils who wrote
it (a double mark «5/4» counts by its first mark, the main one). Checks, in «Замечания»: more than
one assessment in the class that day; on the first or the last lesson of the class's day (unless
the subject has one lesson a week); less than 2.5 weeks after the previous one of the same subject
in the same grade («параллель»). «Нагрузка» compares the assessments of the year so far with 10 %
of the year's lessons of each class and subject.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from reports.roster import mark_numbers, subject_name, teacher_name
from reports.snapshot import LessonFacts, Snapshot
from reports.span import Span
from reports.xlsx import Book
from rules.stats import PupilMark, subject_stats

TITLE = "Контрольные и оценочные работы"
MIN_GAP = timedelta(days=17.5)  # "not more often than once in 2.5 weeks"
SHARE_LIMIT = 10.0  # % of the subject's lessons in the year
WORK_COLUMNS = (
    "Дата", "Класс", "Предмет", "Учитель", "Вид работы", "Тема", "Урок №", "Учеников", "Писали",
    "Отсутствовали", "Без отметки", "«5»", "«4»", "«3»", "«2»", "% успеваемости", "% качества",
    "Средний балл", "Замечания",
)
LOAD_COLUMNS = (
    "Класс", "Предмет", "Уроков за год", "Оценочных работ за год", "Доля, %", "Больше 10 %",
)
KINDS = {"Дата": "date", "% успеваемости": "pct", "% качества": "pct", "Средний балл": "dec",
         "Доля, %": "pct"}


@dataclass(frozen=True)
class ControlWorks:
    works: pd.DataFrame
    load: pd.DataFrame


def assessments(snapshot: Snapshot, until: date) -> list[LessonFacts]:
    """Lessons of the year up to ``until`` whose work type is an assessment, by day."""
    policies = snapshot.school.policies
    found = [
        lesson for lesson in snapshot.lessons
        if lesson.day <= until
        and (work := policies.work_type(lesson.work_type)) is not None and work.assessment
    ]
    return sorted(found, key=lambda x: (x.day, x.lesson_no, x.class_id, x.subject_id))


def control_works(snapshot: Snapshot, span: Span) -> ControlWorks:
    """The frames of report 5 for ``span``."""
    school = snapshot.school
    until = span.until(snapshot.today)
    works = assessments(snapshot, until)
    cells: dict[tuple[str, str, date, int], dict[str, str]] = defaultdict(dict)
    for e in snapshot.entries:
        cells[(e.class_id, e.subject_id, e.day, e.lesson_no)][e.pupil_id] = (
            e.value if e.kind in ("mark", "absent") else ""
        )
    grade = {c.id: c.grade for c in school.classes}
    per_day: dict[tuple[str, date], int] = defaultdict(int)
    for w in works:
        per_day[(w.class_id, w.day)] += 1
    day_slots: dict[tuple[str, date], list[int]] = defaultdict(list)
    year_lessons: dict[tuple[str, str], int] = {}
    for (cls, subject), lessons in school.lessons().items():
        year_lessons[(cls, subject)] = len(lessons)
        for lesson in lessons:
            day_slots[(cls, lesson.day)].append(lesson.lesson_no)
    weekly = defaultdict(set)
    for slot in school.slots:
        weekly[(slot.class_id, slot.subject_id)].add((slot.weekday, slot.lesson_no))
    previous: dict[tuple[int, str], date] = {}
    rows = []
    for w in works:
        checks = []
        if per_day[(w.class_id, w.day)] > 1:
            checks.append(f"{per_day[(w.class_id, w.day)]} оценочные работы в классе в этот день")
        slots = sorted(day_slots.get((w.class_id, w.day), [w.lesson_no]))
        if len(weekly[(w.class_id, w.subject_id)]) > 1:
            if len(slots) == 1:
                checks.append("единственный урок дня")
            elif w.lesson_no == slots[0]:
                checks.append("первый урок дня")
            elif w.lesson_no == slots[-1]:
                checks.append("последний урок дня")
        key = (grade.get(w.class_id, 0), w.subject_id)
        before = previous.get(key)
        if before is not None and w.day - before < MIN_GAP:
            checks.append(f"меньше 2,5 недель после предыдущей в параллели ({before:%d.%m.%Y})")
        previous[key] = w.day
        if not span.contains(w.day):
            continue
        rows.append(_work_row(snapshot, w, cells[(w.class_id, w.subject_id, w.day, w.lesson_no)],
                              "; ".join(checks)))
    held: dict[tuple[str, str], int] = defaultdict(int)
    for w in works:
        held[(w.class_id, w.subject_id)] += 1
    load = []
    for cls, subject in school.journals():
        total = year_lessons.get((cls, subject), 0)
        count = held.get((cls, subject), 0)
        share = count * 100 / total if total else None
        load.append(dict(zip(LOAD_COLUMNS, (
            cls, subject_name(school, subject), total, count, share,
            "да" if share is not None and share > SHARE_LIMIT else "",
        ), strict=True)))
    return ControlWorks(
        works=pd.DataFrame(rows, columns=list(WORK_COLUMNS)),
        load=pd.DataFrame(load, columns=list(LOAD_COLUMNS)),
    )


def _work_row(snapshot: Snapshot, w: LessonFacts, cells: dict[str, str], checks: str) -> dict[str, Any]:
    school = snapshot.school
    pupils = [p for p in school.pupils_in(w.class_id) if p.enrolled_on(w.day)]
    firsts: list[str] = []
    absent = 0
    for pupil in pupils:
        value = cells.get(pupil.id, "")
        numbers = mark_numbers(value)
        if numbers:
            firsts.append(str(numbers[0]))
        elif value == school.policies.grammar.absent:
            absent += 1
    stats = subject_stats(PupilMark(m) for m in firsts)
    work = school.policies.work_type(w.work_type)
    teachers = ", ".join(teacher_name(school, t) for t in school.teachers_of(w.class_id, w.subject_id))
    return dict(zip(WORK_COLUMNS, (
        w.day, w.class_id, subject_name(school, w.subject_id), teachers,
        work.name if work else w.work_type, w.topic, w.lesson_no, len(pupils), len(firsts), absent,
        len(pupils) - len(firsts) - absent, stats.n5, stats.n4, stats.n3, stats.n2,
        stats.success_pct, stats.quality_pct, stats.average, checks,
    ), strict=True))


def write_control_works(snapshot: Snapshot, span: Span, path: Path) -> ControlWorks:
    """Build report 5 and write it to ``path``: «Работы» and «Нагрузка»."""
    frames = control_works(snapshot, span)
    note = (
        "Проверки по рекомендациям Минпросвещения и Рособрнадзора (2021): не больше одной "
        "оценочной процедуры в классе в день, не на первом и не на последнем уроке, по предмету "
        "в параллели — не чаще раза в 2,5 недели, всего не больше 10 % учебного времени предмета."
    )
    with Book(path, snapshot, span, TITLE) as book:
        ws, row = book.sheet("Работы", "результаты и проверки")
        book.table(ws, frames.works, row, kinds=KINDS, freeze_cols=3, note=note,
                   widths={"Тема": 40, "Замечания": 50},
                   empty="В периоде нет оценочных работ.")
        ws, row = book.sheet("Нагрузка", "доля оценочных работ за год")
        book.table(ws, frames.load, row, kinds=KINDS, freeze_cols=2)
    return frames
