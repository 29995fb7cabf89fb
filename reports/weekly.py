"""Report 1, the weekly analysis of journal keeping (R10/R11): per teacher and journal, what the
week's lessons lack, and every remark with its status — new, still open from an earlier week,
fixed, closed with its period, or an event for information.

The remarks come from ``reports.keeping``; the previous analyses' remarks come from the ledger
(``Snapshot.remarks``). :func:`analyse` also says what to record for the next analysis
(``Analysis.record``): the sync side keeps that in the ledger.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from reports.keeping import (
    LABELS,
    TRACKED,
    Defect,
    scope_period,
    tracked_defects,
    week_events,
)
from reports.roster import counted_lessons, subject_name, teacher_name
from reports.snapshot import Remark, Snapshot
from reports.span import Span
from reports.xlsx import Book

TITLE = "Анализ ведения журналов"
NEW, OPEN, FIXED, CLOSED, INFO = "новое", "не устранено", "устранено", "период закончился", (
    "к сведению")
COUNTS = (
    "Уроков по расписанию", "Заполнено (тема записана)", "% заполнения", "Без темы",
    "Без вида работы", "Без ДЗ", "Не заполнено совсем", "Оценочных работ без отметок",
    "Учеников с малым числом отметок", "Ошибочных записей", "Записей позже дня урока",
    "Попыток исправить закрытые клетки", "Новых замечаний", "Не устранено с прошлых недель",
    "Устранено за неделю",
)
BY_KIND = {"no_topic": "Без темы", "no_work_type": "Без вида работы", "no_homework": "Без ДЗ",
           "empty_lesson": "Не заполнено совсем", "control_marks": "Оценочных работ без отметок",
           "few_marks": "Учеников с малым числом отметок", "invalid": "Ошибочных записей",
           "late_entry": "Записей позже дня урока",
           "tampering": "Попыток исправить закрытые клетки"}
REMARK_COLUMNS = ("Код", "Учитель", "Класс", "Предмет", "Замечание", "Подробности",
                  "Замечание от", "Статус")
KINDS = {"% заполнения": "pct", "Замечание от": "date"}


@dataclass(frozen=True, slots=True)
class Listed:
    """A remark as this analysis lists it."""

    defect: Defect
    status: str
    since: date


@dataclass
class Analysis:
    """One week's analysis: the listed remarks and the frames of the workbook."""

    monday: date
    listed: list[Listed]
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    teachers: pd.DataFrame = field(default_factory=pd.DataFrame)
    remarks: pd.DataFrame = field(default_factory=pd.DataFrame)

    def by_status(self, status: str) -> list[Defect]:
        return [x.defect for x in self.listed if x.status == status]

    def record(self) -> dict[str, list[Defect]]:
        """What the ledger must keep: new remarks and events (made this week), and the earlier
        remarks found fixed, closed or still open."""
        return {"new": self.by_status(NEW) + self.by_status(INFO), "fixed": self.by_status(FIXED),
                "closed": self.by_status(CLOSED), "open": self.by_status(OPEN)}


def analyse(snapshot: Snapshot, span: Span) -> Analysis:
    """The analysis of the week ``span`` (a :func:`reports.span.week_span`)."""
    school = snapshot.school
    monday, until = span.start, span.until(snapshot.today)
    current = {d.id: d for d in tracked_defects(snapshot, until)}
    period = scope_period(school, until)
    scope_start = max(period.start, school.year.journal_from) if period else until
    prior = [r for r in snapshot.remarks
             if r.kind in TRACKED and r.week < monday
             and (r.status == "open" or (r.resolved is not None and r.resolved >= monday))]
    listed: list[Listed] = []
    for r in prior:
        if r.id in current:
            listed.append(Listed(current[r.id], OPEN, r.week))
        elif r.day is not None and r.day < scope_start:
            listed.append(Listed(_as_defect(r), CLOSED, r.week))
        else:
            listed.append(Listed(_as_defect(r), FIXED, r.week))
    known = {r.id for r in prior}
    listed += [Listed(d, NEW, monday) for d in current.values() if d.id not in known]
    listed += [Listed(d, INFO, monday) for d in week_events(snapshot, monday, until)]
    analysis = Analysis(monday, listed)
    analysis.summary = _summary(snapshot, span, listed)
    analysis.teachers = _per_teacher(analysis.summary)
    analysis.remarks = _remarks_frame(school, listed)
    return analysis


def write_weekly(snapshot: Snapshot, span: Span, path: Path) -> Analysis:
    """Build report 1 for the week and write it to ``path``: «Сводка», «Замечания»,
    «По учителям»."""
    analysis = analyse(snapshot, span)
    statuses = Counter(x.status for x in analysis.listed)
    note = (
        f"Замечаний: новых {statuses[NEW]}, не устранено с прошлых недель {statuses[OPEN]}, "
        f"устранено {statuses[FIXED]}, закрыто с окончанием периода {statuses[CLOSED]}, "
        f"событий к сведению {statuses[INFO]}. Замечание устраняют в журнале; закрытые клетки "
        "исправляет заместитель директора по УВР (лист «Исправления»)."
    )
    with Book(path, snapshot, span, TITLE) as book:
        ws, row = book.sheet("Сводка", "по учителям и журналам")
        book.table(ws, analysis.summary, row, kinds=KINDS, freeze_cols=3, note=note,
                   empty="На этой неделе уроков по расписанию не было.")
        ws, row = book.sheet("Замечания", "с кодами и статусом")
        book.table(ws, analysis.remarks, row, kinds=KINDS, freeze_cols=2,
                   widths={"Подробности": 70}, empty="Замечаний нет.")
        ws, row = book.sheet("По учителям", "итоги недели")
        book.table(ws, analysis.teachers, row, kinds=KINDS)
    return analysis


def _as_defect(r: Remark) -> Defect:
    return Defect(r.id, r.kind, r.class_id, r.subject_id, r.teacher_id, r.day, r.text)


def _summary(snapshot: Snapshot, span: Span, listed: list[Listed]) -> pd.DataFrame:
    school = snapshot.school
    rows: dict[tuple[str, str, str], Counter[str]] = defaultdict(Counter)
    topics = {(x.class_id, x.subject_id, x.day, x.lesson_no) for x in snapshot.lessons
              if x.topic.strip()}
    for lesson in counted_lessons(school, span, snapshot.today):
        key = (lesson.teacher_id, lesson.class_id, lesson.subject_id)
        rows[key]["Уроков по расписанию"] += 1
        if (lesson.class_id, lesson.subject_id, lesson.day, lesson.lesson_no) in topics:
            rows[key]["Заполнено (тема записана)"] += 1
    tally = {NEW: "Новых замечаний", OPEN: "Не устранено с прошлых недель",
             FIXED: "Устранено за неделю"}
    for item in listed:  # what is wrong now, by kind: new and still open remarks, and events
        d = item.defect
        key = (d.teacher_id, d.class_id, d.subject_id)
        if item.status in (NEW, OPEN, INFO):
            rows[key][BY_KIND[d.kind]] += 1
        if item.status in tally:
            rows[key][tally[item.status]] += 1
    out = []
    for (teacher, cls, subject), counts in rows.items():
        held, filled = counts["Уроков по расписанию"], counts["Заполнено (тема записана)"]
        row: dict[str, Any] = {"Учитель": teacher_name(school, teacher), "Класс": cls,
                               "Предмет": subject_name(school, subject)}
        row.update({c: counts[c] for c in COUNTS})
        row["% заполнения"] = filled * 100 / held if held else None
        out.append(row)
    frame = pd.DataFrame(out, columns=["Учитель", "Класс", "Предмет", *COUNTS])
    return frame.sort_values(["Учитель", "Класс", "Предмет"], kind="stable").reset_index(drop=True)


def _per_teacher(summary: pd.DataFrame) -> pd.DataFrame:
    numeric = [c for c in COUNTS if c != "% заполнения"]
    totals = summary.groupby("Учитель", sort=True)[numeric].sum().reset_index()
    held = totals["Уроков по расписанию"]
    totals["% заполнения"] = (totals["Заполнено (тема записана)"] * 100 / held).where(held > 0)
    return totals[["Учитель", *COUNTS]]


def _remarks_frame(school: Any, listed: list[Listed]) -> pd.DataFrame:
    order = {NEW: 0, OPEN: 1, FIXED: 2, CLOSED: 3, INFO: 4}
    rows = [
        dict(zip(REMARK_COLUMNS, (
            x.defect.id, teacher_name(school, x.defect.teacher_id), x.defect.class_id,
            subject_name(school, x.defect.subject_id), LABELS[x.defect.kind], x.defect.text,
            x.since, x.status), strict=True))
        for x in sorted(listed, key=lambda x: (teacher_name(school, x.defect.teacher_id),
                                                order[x.status], x.defect.class_id,
                                                x.defect.subject_id, x.defect.day or x.since))
    ]
    return pd.DataFrame(rows, columns=list(REMARK_COLUMNS))
