"""Report 2, the monthly report on teachers' work with the journals (R10–R12), for the deputy:
the month's weekly analyses per teacher, with the trend.

Per week of the month (weeks cut to the month's days) and teacher: lessons by the timetable and
lessons with a recorded topic (from the ledger as it is now), and the remarks that week's analysis
made (kept in the ledger) with how many of them are fixed by now. The trend compares the first
and the last analysed week of the month. A week whose analysis was not run says so.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from reports.keeping import LABELS, TRACKED
from reports.roster import counted_lessons, subject_name, teacher_name
from reports.snapshot import Snapshot
from reports.span import Span
from reports.xlsx import Book

TITLE = "Работа учителей с электронными журналами"
STATUS = {"open": "не устранено", "fixed": "устранено", "closed": "период закончился",
          "info": "к сведению"}
KINDS = {"% заполнения": "pct", "Неделя с": "date", "Замечание от": "date"}


@dataclass(frozen=True)
class Monthly:
    teachers: pd.DataFrame
    weeks: pd.DataFrame
    remarks: pd.DataFrame


def month_weeks(span: Span) -> list[Span]:
    """The weeks touching the month, each cut to the month's days (named by their Monday)."""
    monday = span.start - timedelta(days=span.start.weekday())
    weeks = []
    while monday <= span.end:
        start, end = max(monday, span.start), min(monday + timedelta(days=6), span.end)
        weeks.append(Span(f"{start:%d.%m}–{end:%d.%m}", start, end, span.periods))
        monday += timedelta(days=7)
    return weeks


def trend(first: int | None, last: int | None) -> str:
    if first is None or last is None:
        return "нет данных"
    if last < first:
        return f"лучше: замечаний {first} → {last}"
    if last > first:
        return f"хуже: замечаний {first} → {last}"
    return f"без изменений: {last}"


def monthly(snapshot: Snapshot, span: Span, analysed: frozenset[date]) -> Monthly:
    """The frames of report 2 for the month ``span``; ``analysed`` are the Mondays of the weekly
    analyses that were run."""
    school = snapshot.school
    weeks = month_weeks(span)
    mondays = [w.start - timedelta(days=w.start.weekday()) for w in weeks]
    lessons: dict[tuple[str, int], Counter[str]] = defaultdict(Counter)
    topics = {(x.class_id, x.subject_id, x.day, x.lesson_no) for x in snapshot.lessons
              if x.topic.strip()}
    for i, week in enumerate(weeks):
        for lesson in counted_lessons(school, week, snapshot.today):
            lessons[(lesson.teacher_id, i)]["held"] += 1
            if (lesson.class_id, lesson.subject_id, lesson.day, lesson.lesson_no) in topics:
                lessons[(lesson.teacher_id, i)]["filled"] += 1
    made: dict[tuple[str, int], Counter[str]] = defaultdict(Counter)
    month_remarks = []
    for r in snapshot.remarks:
        if r.week not in mondays:
            continue
        i = mondays.index(r.week)
        made[(r.teacher_id, i)]["remarks" if r.kind in TRACKED else "events"] += 1
        made[(r.teacher_id, i)][r.status] += 1
        month_remarks.append(r)
    teachers = sorted({t for t, _ in lessons} | {t for t, _ in made},
                      key=lambda t: teacher_name(school, t))
    labels = [f"Замечаний, {w.name}" for w in weeks]
    rows = []
    for teacher in teachers:
        held = sum(lessons[(teacher, i)]["held"] for i in range(len(weeks)))
        filled = sum(lessons[(teacher, i)]["filled"] for i in range(len(weeks)))
        per_week = [made[(teacher, i)]["remarks"] if mondays[i] in analysed else None
                    for i in range(len(weeks))]
        given = [n for n in per_week if n is not None]
        totals = sum((made[(teacher, i)] for i in range(len(weeks))), Counter())
        row: dict[str, Any] = {
            "Учитель": teacher_name(school, teacher), "Уроков по расписанию": held,
            "Заполнено (тема записана)": filled,
            "% заполнения": filled * 100 / held if held else None,
            "Замечаний за месяц": totals["remarks"], "Устранено": totals["fixed"],
            "Не устранено": totals["open"], "Закрыто с периодом": totals["closed"],
            "События к сведению": totals["events"],
        }
        row.update(dict(zip(labels, per_week, strict=True)))
        row["Динамика"] = trend(given[0] if given else None, given[-1] if given else None)
        rows.append(row)
    week_rows = []
    for i, week in enumerate(weeks):
        held = sum(lessons[(t, i)]["held"] for t in teachers)
        filled = sum(lessons[(t, i)]["filled"] for t in teachers)
        done = mondays[i] in analysed
        week_rows.append({
            "Неделя": week.name, "Неделя с": week.start,
            "Анализ проведён": "да" if done else "нет",
            "Уроков по расписанию": held, "Заполнено (тема записана)": filled,
            "% заполнения": filled * 100 / held if held else None,
            "Замечаний": sum(made[(t, i)]["remarks"] for t in teachers) if done else None,
            "Устранено": sum(made[(t, i)]["fixed"] for t in teachers) if done else None,
        })
    remark_rows = [
        {"Код": r.id, "Учитель": teacher_name(school, r.teacher_id), "Класс": r.class_id,
         "Предмет": subject_name(school, r.subject_id), "Замечание": LABELS.get(r.kind, r.kind),
         "Подробности": r.text, "Замечание от": r.week, "Статус": STATUS.get(r.status, r.status)}
        for r in sorted(month_remarks, key=lambda r: (teacher_name(school, r.teacher_id), r.week,
                                                      r.class_id, r.subject_id, r.id))
    ]
    return Monthly(
        teachers=pd.DataFrame(rows, columns=[
            "Учитель", "Уроков по расписанию", "Заполнено (тема записана)", "% заполнения",
            "Замечаний за месяц", "Устранено", "Не устранено", "Закрыто с периодом",
            "События к сведению", *labels, "Динамика"]),
        weeks=pd.DataFrame(week_rows, columns=[
            "Неделя", "Неделя с", "Анализ проведён", "Уроков по расписанию",
            "Заполнено (тема записана)", "% заполнения", "Замечаний", "Устранено"]),
        remarks=pd.DataFrame(remark_rows, columns=[
            "Код", "Учитель", "Класс", "Предмет", "Замечание", "Подробности", "Замечание от",
            "Статус"]),
    )


def write_monthly(snapshot: Snapshot, span: Span, analysed: frozenset[date], path: Path
                  ) -> Monthly:
    """Build report 2 and write it to ``path``: «Учителя», «Недели» (with a chart),
    «Замечания»."""
    frames = monthly(snapshot, span, analysed)
    with Book(path, snapshot, span, TITLE) as book:
        ws, row = book.sheet("Учителя", "итоги месяца и динамика по неделям")
        book.table(ws, frames.teachers, row, kinds=KINDS, widths={"Динамика": 28},
                   note="Замечания — по еженедельным анализам ведения журналов; пустая клетка "
                        "недели — анализ за эту неделю не проводился.")
        ws, row = book.sheet("Недели", "по неделям месяца")
        table = book.table(ws, frames.weeks, row, kinds=KINDS)
        if len(frames.weeks):
            chart = book.workbook.add_chart({"type": "line"})
            name, first, last = ws.get_name(), table.first_row, table.last_row
            col = table.col("% заполнения")
            chart.add_series({"name": [name, table.header_row, col],
                              "categories": [name, first, 0, last, 0],
                              "values": [name, first, col, last, col],
                              "marker": {"type": "circle"}})
            chart.set_title({"name": "Уроки с записанной темой, % по неделям"})
            chart.set_y_axis({"min": 0, "max": 100})
            chart.set_legend({"none": True})
            ws.insert_chart(table.last_row + 3, 0, chart, {"x_scale": 1.4})
        ws, row = book.sheet("Замечания", "все замечания месяца")
        book.table(ws, frames.remarks, row, kinds=KINDS, freeze_cols=2,
                   widths={"Подробности": 70}, empty="За месяц замечаний не было.")
    return frames
