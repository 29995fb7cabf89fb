"""Report 6, curriculum fulfilment (КТП, R15/R18): planned against held lessons per class and
subject, the lag in lessons, topics that differ from the plan.

A lesson counts as planned when the timetable gives it (inside the span, from the go-live day up
to ``Span.until``) and as held when the journal records its topic. The year's n-th lesson takes
the КТП topic covering n (``rules.plan``); a recorded topic differs from the plan when it is not
the planned one up to case and spaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from reports.roster import subject_name, teacher_name, teachers_of
from reports.snapshot import Snapshot
from reports.span import Span
from reports.xlsx import Book
from rules.plan import plan_topics

TITLE = "Выполнение учебной программы (КТП)"
COLUMNS = (
    "Класс", "Предмет", "Учитель", "Часов по КТП за год", "Уроков по расписанию за год",
    "Не хватает уроков до КТП", "Уроков по расписанию", "Проведено (тема записана)",
    "Отставание, уроков", "% выполнения", "Тем не по КТП",
)
KINDS = {"% выполнения": "pct", "Дата": "date"}


@dataclass(frozen=True)
class Curriculum:
    journals: pd.DataFrame
    off_plan: pd.DataFrame  # held lessons whose topic is not the planned one
    no_topic: pd.DataFrame  # planned lessons without a recorded topic


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def curriculum(snapshot: Snapshot, span: Span) -> Curriculum:
    """The frames of report 6 for ``span``."""
    school = snapshot.school
    first, last = max(span.start, school.year.journal_from), span.until(snapshot.today)
    topics = {(x.class_id, x.subject_id, x.day, x.lesson_no): x.topic.strip()
              for x in snapshot.lessons}
    rows, off_plan, no_topic = [], [], []
    for cls, subject in school.journals():
        items = school.plan(cls, subject)
        planned = plan_topics(items)
        year = school.lessons().get((cls, subject), [])
        hours = sum(max(i.hours, 1) for i in items) if items else None
        scheduled = held = differ = 0
        for number, lesson in enumerate(year, start=1):
            if not first <= lesson.day <= last:
                continue
            scheduled += 1
            topic = topics.get((cls, subject, lesson.day, lesson.lesson_no), "")
            if not topic:
                no_topic.append({"Класс": cls, "Предмет": subject_name(school, subject),
                                 "Учитель": teacher_name(school, lesson.teacher_id),
                                 "Дата": lesson.day, "Урок № в году": number})
                continue
            held += 1
            plan = planned.get(number)
            if plan and not _same(plan, topic):
                differ += 1
                off_plan.append({"Класс": cls, "Предмет": subject_name(school, subject),
                                 "Дата": lesson.day, "Урок № в году": number,
                                 "Тема по КТП": plan, "Записанная тема": topic})
        rows.append(dict(zip(COLUMNS, (
            cls, subject_name(school, subject), teachers_of(school, cls, subject), hours,
            len(year), max(0, hours - len(year)) if hours is not None else None, scheduled, held,
            scheduled - held, held * 100 / scheduled if scheduled else None,
            differ if items else None,
        ), strict=True)))
    return Curriculum(
        journals=pd.DataFrame(rows, columns=list(COLUMNS)),
        off_plan=pd.DataFrame(off_plan, columns=["Класс", "Предмет", "Дата", "Урок № в году",
                                                 "Тема по КТП", "Записанная тема"]),
        no_topic=pd.DataFrame(no_topic, columns=["Класс", "Предмет", "Учитель", "Дата",
                                                 "Урок № в году"]),
    )


def write_curriculum(snapshot: Snapshot, span: Span, path: Path) -> Curriculum:
    """Build report 6 and write it to ``path``: «Выполнение», «Темы не по КТП», «Без темы»."""
    frames = curriculum(snapshot, span)
    note = (
        "Урок считается проведённым, если в журнале записана его тема; отставание — уроки по "
        "расписанию без записанной темы. Пустые клетки КТП — план для журнала не загружен."
    )
    with Book(path, snapshot, span, TITLE) as book:
        ws, row = book.sheet("Выполнение", "по классам и предметам")
        book.table(ws, frames.journals, row, kinds=KINDS, freeze_cols=2, note=note)
        ws, row = book.sheet("Темы не по КТП", "записанная тема не совпадает с планом")
        book.table(ws, frames.off_plan, row, kinds=KINDS, freeze_cols=2,
                   widths={"Тема по КТП": 45, "Записанная тема": 45},
                   empty="Все записанные темы совпадают с КТП.")
        ws, row = book.sheet("Без темы", "уроки без записанной темы")
        book.table(ws, frames.no_topic, row, kinds=KINDS, freeze_cols=2,
                   empty="У всех уроков записана тема.")
    return frames
