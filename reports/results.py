"""Report 3 as frames: period (or year) results per class, subject, teacher, pupil and school.

Figures come from ``rules.stats`` (domain.md §2.5): per class × subject the counts of period marks,
% успеваемости, % качества, СОУ and the average mark; per class the pupil categories. Subject,
teacher and school rows are sums of the class × subject counts.

The journal has no year-mark column, so for the whole year a pupil's mark in a subject is derived
from the period marks with the school's thresholds (domain.md §2.4: "year mark: from the quarter
marks with the same rounding"): the mean of the numeric period marks; "н/а" when every given
period mark is "н/а"; "осв" / "зач" when every given one is that code.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from config.school import School
from reports.roster import (
    class_journals,
    members,
    shown_mark,
    subject_name,
    teacher_name,
    teachers_of,
)
from reports.snapshot import Snapshot
from reports.span import Span
from rules.grading import MarkRecord, recommend
from rules.stats import (
    ClassSummary,
    PupilMark,
    PupilMarks,
    SubjectStats,
    class_summary,
    subject_stats,
    total,
    total_classes,
)

STATS_COLUMNS = (
    "N", "«5»", "«4»", "«3»", "«2»", "н/а", "осв", "зач", "Без отметки", "Выбыли",
    "% успеваемости", "% качества", "СОУ, %", "Средний балл",
)
CLASS_COLUMNS = (
    "Класс", "Учеников", "Выбыли", "Аттестованы", "Отличники", "Хорошисты",
    "в т.ч. с одной «4»", "С одной «3»", "Неуспевающие", "Не аттестованы",
    "% успеваемости", "% качества", "Отметок", "СОУ, %", "Средний балл",
)
KINDS = {
    "% успеваемости": "pct", "% качества": "pct", "СОУ, %": "pct", "Средний балл": "dec",
}
SCHOOL_ROW = "Итого по школе"
YEAR_MARK_NOTE = (
    "Годовая отметка рассчитана по отметкам за периоды: среднее числовых отметок, округлённое по "
    "порогам школы; «н/а», «осв» или «зач» — если все выставленные отметки за периоды такие."
)


@dataclass(frozen=True)
class Results:
    """The frames of report 3 (column names are the workbook's Russian headers)."""

    classes: pd.DataFrame  # one row per class and the school total
    subjects: pd.DataFrame  # one row per class × subject
    by_subject: pd.DataFrame  # one row per subject, all classes
    teachers: pd.DataFrame  # one row per teacher
    pupils: pd.DataFrame  # one row per pupil: marks by subject and the category
    subject_names: tuple[str, ...]  # the subject columns of ``pupils``


def pupil_marks(snapshot: Snapshot, span: Span) -> dict[tuple[str, str, str], str]:
    """(class, subject, pupil) → the period mark of ``span`` (the derived year mark for a year)."""
    wanted = {p.name for p in span.periods}
    per_period: dict[tuple[str, str, str], dict[str, str]] = defaultdict(dict)
    for mark in snapshot.period_marks:
        if mark.period in wanted and mark.value.strip():
            per_period[(mark.class_id, mark.subject_id, mark.pupil_id)][mark.period] = mark.value
    if not span.whole_year:
        return {key: next(iter(marks.values())) for key, marks in per_period.items()}
    school = snapshot.school
    ends = {p.name: p.end for p in span.periods}
    return {
        key: year_mark(school, [(ends[name], value) for name, value in marks.items()])
        for key, marks in per_period.items()
    }


def year_mark(school: School, marks: list[tuple[Any, str]]) -> str:
    """The year mark from (period end, period mark) pairs (see the module docstring)."""
    values = [v.strip().lower() for _, v in marks]
    numeric = [MarkRecord(int(v), None, end) for (end, _), v in zip(marks, values, strict=True)
               if v.isdigit()]
    if numeric:
        policy = replace(school.policies.grading, weighted=False, min_marks=1)
        return recommend(numeric, policy).value
    codes = set(values)
    return codes.pop() if len(codes) == 1 else "н/а"


def results(snapshot: Snapshot, span: Span) -> Results:
    """Every frame of report 3 for ``span``."""
    school = snapshot.school
    marks = pupil_marks(snapshot, span)
    class_rows, subject_rows, pupil_rows = [], [], []
    stats_of: dict[tuple[str, str], SubjectStats] = {}
    summaries: list[ClassSummary] = []
    all_subjects = list(dict.fromkeys(s for _, s in school.journals()))
    for cls in school.classes:
        people = members(school, cls.id, span)
        subjects = class_journals(school, cls.id)
        for subject in subjects:
            stats = subject_stats(
                PupilMark(marks.get((cls.id, subject, m.pupil.id)), m.left) for m in people
            )
            stats_of[(cls.id, subject)] = stats
            subject_rows.append(
                {"Класс": cls.id, "Предмет": subject_name(school, subject),
                 "Учитель": teachers_of(school, cls.id, subject), **stats_row(stats)}
            )
        summary = class_summary(
            PupilMarks(m.pupil.id, tuple(marks.get((cls.id, s, m.pupil.id)) for s in subjects),
                       m.left)
            for m in people
        )
        summaries.append(summary)
        class_stats = total(stats_of[(cls.id, s)] for s in subjects)
        class_rows.append(class_row(cls.id, summary, class_stats))
        for m in people:
            row: dict[str, Any] = {"Класс": cls.id, "Ученик": m.pupil.full_name,
                                   "Категория": category(m.pupil.id, m.left, summary)}
            numbers = []
            for subject in all_subjects:
                value = shown_mark(marks.get((cls.id, subject, m.pupil.id)))
                row[subject_name(school, subject)] = value
                if isinstance(value, int):
                    numbers.append(value)
            row["Средний балл"] = sum(numbers) / len(numbers) if numbers else None
            pupil_rows.append(row)
    class_rows.append(class_row(SCHOOL_ROW, total_classes(summaries), total(stats_of.values())))
    by_subject = [
        {"Предмет": subject_name(school, s),
         **stats_row(total(v for (_, subj), v in stats_of.items() if subj == s))}
        for s in all_subjects
    ]
    teacher_rows = []
    for teacher in school.teachers:
        own = {(a.class_id, a.subject_id) for a in school.assignments if a.teacher_id == teacher.id}
        if own:
            teacher_rows.append(
                {"Учитель": teacher_name(school, teacher.id), "Журналов": len(own),
                 **stats_row(total(stats_of[key] for key in sorted(own) if key in stats_of))}
            )
    names = tuple(subject_name(school, s) for s in all_subjects)
    return Results(
        classes=pd.DataFrame(class_rows, columns=list(CLASS_COLUMNS)),
        subjects=pd.DataFrame(subject_rows, columns=["Класс", "Предмет", "Учитель", *STATS_COLUMNS]),
        by_subject=pd.DataFrame(by_subject, columns=["Предмет", *STATS_COLUMNS]),
        teachers=pd.DataFrame(teacher_rows, columns=["Учитель", "Журналов", *STATS_COLUMNS]),
        pupils=pd.DataFrame(
            pupil_rows, columns=["Класс", "Ученик", "Категория", *names, "Средний балл"]
        ),
        subject_names=names,
    )


def stats_row(stats: SubjectStats) -> dict[str, Any]:
    """The ``STATS_COLUMNS`` of one statistics object."""
    return dict(zip(STATS_COLUMNS, (
        stats.n, stats.n5, stats.n4, stats.n3, stats.n2, stats.n_na, stats.n_exempt,
        stats.n_credit, stats.n_no_mark, stats.n_left, stats.success_pct, stats.quality_pct,
        stats.sou, stats.average,
    ), strict=True))


def class_row(name: str, summary: ClassSummary, stats: SubjectStats) -> dict[str, Any]:
    """The ``CLASS_COLUMNS`` of a class (or of the school)."""
    return dict(zip(CLASS_COLUMNS, (
        name, summary.pupils, summary.left, len(summary.judged), len(summary.excellent),
        len(summary.good), len(summary.one_four), len(summary.one_three), len(summary.failing),
        len(summary.not_attested), summary.success_pct, summary.quality_pct,
        stats.n, stats.sou, stats.average,
    ), strict=True))


def category(pupil_id: str, left: bool, summary: ClassSummary) -> str:
    """The pupil's category in words (a pupil failing and not attested shows both)."""
    if left:
        return "выбыл"
    failing, not_attested = pupil_id in summary.failing, pupil_id in summary.not_attested
    if failing or not_attested:
        return ", ".join(w for w, on in (("неуспевающий", failing), ("не аттестован", not_attested))
                         if on)
    if pupil_id in summary.excellent:
        return "отличник"
    if pupil_id in summary.one_four:
        return "хорошист (одна «4»)"
    if pupil_id in summary.good:
        return "хорошист"
    if pupil_id in summary.one_three:
        return "одна «3»"
    return "успевающий" if pupil_id in summary.judged else "нет отметок"
