"""Report 8, the pupil statement (выписка) for a parent meeting: one pupil's marks and attendance
in a period — per subject the marks with what they were for, the average and the recommended mark
as the journal computes them (``rules.grading``), the period mark and the lessons missed; then
every mark with its date, work type and topic. It holds nothing about any other pupil.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from reports.roster import class_journals, mark_numbers, subject_name, teachers_of
from reports.snapshot import Entry, Snapshot
from reports.span import Span
from reports.xlsx import Book
from rules.errors import ReportError
from rules.grading import MarkRecord, average, recommend
from rules.model import AbsenceReason, Pupil

TITLE = "Выписка из электронного журнала"
SUMMARY = ("Предмет", "Учитель", "Отметки", "Отметок", "Средний балл", "Рекомендуемая",
           "Итоговая за период", "Уроков", "Пропущено", "по болезни", "по уважительной",
           "без уважительной", "Опозданий")
DETAIL = ("Предмет", "Дата", "Отметка", "Вид работы", "Тема урока")
KINDS = {"Средний балл": "dec", "Дата": "date", "Итоговая за период": "mark",
         "Рекомендуемая": "mark", "Отметка": "mark"}


@dataclass(frozen=True)
class Statement:
    pupil: Pupil
    summary: pd.DataFrame
    marks: pd.DataFrame


def statement(snapshot: Snapshot, span: Span, pupil_id: str) -> Statement:
    """The frames of report 8 for one pupil."""
    school = snapshot.school
    pupil = school.pupil(pupil_id)
    if pupil is None:
        raise ReportError(f"no pupil with id {pupil_id!r}",
                          "use the pupil id of the class list (column «Код»)")
    cls = pupil.class_id
    last = span.until(snapshot.today)
    work_types = {w.code: w for w in school.policies.work_types}
    facts = {(x.subject_id, x.day, x.lesson_no): x for x in snapshot.lessons if x.class_id == cls}
    cells: dict[str, dict[tuple[date, int], Entry]] = defaultdict(dict)
    for e in snapshot.entries:
        if e.pupil_id == pupil_id and e.class_id == cls:
            cells[e.subject_id][(e.day, e.lesson_no)] = e
    reasons = {a.day: a.reason for a in snapshot.absences if a.pupil_id == pupil_id}
    names = {p.name for p in span.periods}
    period_marks = {m.subject_id: m.value for m in snapshot.period_marks
                    if m.pupil_id == pupil_id and m.period in names}
    summary, detail = [], []
    for subject in class_journals(school, cls):
        lessons = [x for x in school.lessons().get((cls, subject), [])
                   if span.start <= x.day <= last and pupil.enrolled_on(x.day)
                   and x.day >= school.year.journal_from]
        records, shown = [], []
        missed: dict[str, int] = defaultdict(int)
        late = 0
        for lesson in lessons:
            entry = cells[subject].get((lesson.day, lesson.lesson_no))
            if entry is None:
                continue
            if entry.kind == "absent":
                missed[reasons.get(lesson.day, "")] += 1
            late += entry.kind == "late"
            if entry.kind != "mark":
                continue
            lesson_facts = facts.get((subject, lesson.day, lesson.lesson_no))
            code = lesson_facts.work_type if lesson_facts else None
            records += [MarkRecord(n, code, lesson.day) for n in mark_numbers(entry.value)]
            shown.append(entry.value)
            work = school.policies.work_type(code) if code else None
            detail.append(dict(zip(DETAIL, (
                subject_name(school, subject), lesson.day,
                int(entry.value) if entry.value.isdigit() else entry.value,
                work.name if work else (code or ""), lesson_facts.topic if lesson_facts else "",
            ), strict=True)))
        mean = average(records, school.policies.grading, work_types)
        recommended = recommend(records, school.policies.grading, work_types).value
        final = period_marks.get(subject)
        summary.append(dict(zip(SUMMARY, (
            subject_name(school, subject), teachers_of(school, cls, subject), " ".join(shown),
            len(records), mean, _number(recommended), _number(final), len(lessons),
            sum(missed.values()), missed[AbsenceReason.ILLNESS.value],
            missed[AbsenceReason.EXCUSED.value], missed[AbsenceReason.UNEXCUSED.value], late,
        ), strict=True)))
    return Statement(pupil, pd.DataFrame(summary, columns=list(SUMMARY)),
                     pd.DataFrame(detail, columns=list(DETAIL)))


def write_statement(snapshot: Snapshot, span: Span, pupil_id: str, path: Path) -> Statement:
    """Build report 8 and write it to ``path``: «Выписка» (per subject, signature line) and
    «Отметки» (every mark)."""
    frames = statement(snapshot, span, pupil_id)
    pupil = frames.pupil
    with Book(path, snapshot, span, TITLE) as book:
        ws, row = book.sheet("Выписка", f"{pupil.full_name}, {pupil.class_id} класс")
        table = book.table(ws, frames.summary, row, kinds=KINDS, widths={"Отметки": 24},
                           note="Средний балл и рекомендуемая отметка — как в журнале (правила "
                                "школы); пропуски — по отметкам «н» и причинам классного "
                                "руководителя.")
        bottom = table.last_row + 5
        ws.write_string(bottom, 0, "Классный руководитель: ____________________ (подпись)")
        ws.write_string(bottom + 2, 0, "Дата: «___» ____________ 20___ г.")
        ws, row = book.sheet("Отметки", f"{pupil.full_name}, все отметки")
        book.table(ws, frames.marks, row, kinds=KINDS, widths={"Тема урока": 50},
                   empty="Отметок за период нет.")
    return frames


def _number(value: str | None) -> Any:
    if value is None or not value.strip():
        return None
    return int(value) if value.strip().isdigit() else value.strip()
