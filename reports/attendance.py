"""Report 4, attendance of a period: per pupil and per class, lessons and whole days missed by
illness / excused / unexcused / no reason yet, lates, % attended; and the absences still without
a reason.

A pupil's scheduled lessons are the timetable's lessons of the class's journals while enrolled,
from the go-live day up to ``Span.until``; a lesson is missed when its cell says «н», late when it
says «оп»; the reason of a day is the class teacher's code on «Посещаемость» (``rules.stats``
counts them).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from reports.roster import counted_lessons, members, subject_name
from reports.snapshot import Snapshot
from reports.span import Span
from reports.xlsx import Book
from rules.model import AbsenceReason
from rules.stats import AttendanceSummary, LessonAttendance, attendance_summary

TITLE = "Посещаемость"
FIGURES = (
    "Уроков по расписанию", "Пропущено уроков", "по болезни", "по уважительной причине",
    "без уважительной причины", "причина не указана", "Опозданий", "Пропущено дней",
    "дней по болезни", "% посещения",
)
KINDS = {"% посещения": "pct", "Дата": "date"}
SCHOOL_ROW = "Итого по школе"
NOTE = (
    "Пропущенный день — день, когда ученик пропустил все уроки по расписанию; причина — отметка "
    "классного руководителя на странице «Посещаемость» (б — болезнь, у — уважительная, "
    "н — без уважительной причины)."
)


@dataclass(frozen=True)
class Attendance:
    classes: pd.DataFrame
    pupils: pd.DataFrame
    no_reason: pd.DataFrame


def attendance(snapshot: Snapshot, span: Span) -> Attendance:
    """The frames of report 4 for ``span``."""
    school = snapshot.school
    marks = {
        (e.class_id, e.subject_id, e.pupil_id, e.day, e.lesson_no): e.kind
        for e in snapshot.entries if e.kind in ("absent", "late")
    }
    reasons = {
        (a.class_id, a.pupil_id, a.day): AbsenceReason(a.reason)
        for a in snapshot.absences if a.reason in {r.value for r in AbsenceReason}
    }
    class_rows: list[dict[str, Any]] = []
    pupil_rows: list[dict[str, Any]] = []
    missing_rows: list[dict[str, Any]] = []
    totals: list[AttendanceSummary] = []
    for cls in school.classes:
        lessons = sorted(counted_lessons(school, span, snapshot.today, cls.id),
                         key=lambda x: (x.day, x.lesson_no))
        class_total = AttendanceSummary()
        for member in members(school, cls.id, span):
            pupil = member.pupil
            attended: list[LessonAttendance] = []
            unexplained: dict[date, list[str]] = defaultdict(list)
            for lesson in lessons:
                if not pupil.enrolled_on(lesson.day):
                    continue
                kind = marks.get((cls.id, lesson.subject_id, pupil.id, lesson.day, lesson.lesson_no))
                reason = reasons.get((cls.id, pupil.id, lesson.day))
                attended.append(LessonAttendance(lesson.day, kind == "absent", kind == "late", reason))
                if kind == "absent" and reason is None:
                    unexplained[lesson.day].append(subject_name(school, lesson.subject_id))
            summary = attendance_summary(attended)
            class_total += summary
            pupil_rows.append({"Класс": cls.id, "Ученик": pupil.full_name,
                               "Выбыл": "да" if member.left else "", **figures(summary)})
            missing_rows.extend(
                {"Класс": cls.id, "Ученик": pupil.full_name, "Дата": day,
                 "Пропущено уроков": len(subjects), "Предметы": ", ".join(subjects)}
                for day, subjects in sorted(unexplained.items())
            )
        totals.append(class_total)
        class_rows.append({"Класс": cls.id, **figures(class_total)})
    class_rows.append({"Класс": SCHOOL_ROW, **figures(sum(totals, AttendanceSummary()))})
    return Attendance(
        classes=pd.DataFrame(class_rows, columns=["Класс", *FIGURES]),
        pupils=pd.DataFrame(pupil_rows, columns=["Класс", "Ученик", "Выбыл", *FIGURES]),
        no_reason=pd.DataFrame(
            missing_rows, columns=["Класс", "Ученик", "Дата", "Пропущено уроков", "Предметы"]
        ),
    )


def figures(s: AttendanceSummary) -> dict[str, Any]:
    """The ``FIGURES`` columns of one summary."""
    return dict(zip(FIGURES, (
        s.scheduled, s.missed, s.illness, s.excused, s.unexcused, s.no_reason, s.late,
        s.days_missed, s.days_missed_illness, s.attended_pct,
    ), strict=True))


def write_attendance(snapshot: Snapshot, span: Span, path: Path) -> Attendance:
    """Build report 4 and write it to ``path``: «Классы» (with a chart), «Ученики»,
    «Без причины»."""
    frames = attendance(snapshot, span)
    with Book(path, snapshot, span, TITLE) as book:
        ws, row = book.sheet("Классы", "по классам")
        table = book.table(ws, frames.classes, row, kinds=KINDS, note=NOTE, total_last=True)
        classes = len(frames.classes) - 1
        if classes > 0:
            chart = book.workbook.add_chart({"type": "column"})
            name = ws.get_name()
            col = table.col("% посещения")
            chart.add_series({
                "name": [name, table.header_row, col],
                "categories": [name, table.first_row, 0, table.first_row + classes - 1, 0],
                "values": [name, table.first_row, col, table.first_row + classes - 1, col],
                "data_labels": {"value": True, "num_format": "0.0"},
            })
            chart.set_title({"name": "Посещаемость уроков по классам, %"})
            chart.set_y_axis({"min": 0, "max": 100})
            chart.set_legend({"none": True})
            ws.insert_chart(table.last_row + 5, 0, chart, {"x_scale": 1.5})
        ws, row = book.sheet("Ученики", "по ученикам")
        book.table(ws, frames.pupils, row, kinds=KINDS, freeze_cols=2, note=NOTE)
        ws, row = book.sheet("Без причины", "пропуски без указанной причины")
        book.table(ws, frames.no_reason, row, kinds=KINDS, freeze_cols=2,
                   empty="Все пропуски с указанной причиной.")
    return frames
