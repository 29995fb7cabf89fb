"""The diary spreadsheet «Дневник · Иванов Пётр · 5А · 2026/27»: one per pupil, read only.

Five tabs, the week first, each at most five columns wide and with wrapped text, so it reads on a
phone's Sheets app without sideways scrolling for what matters: «Неделя» (lesson, mark or
absence, topic and homework; next week's homework below), «Оценки» (one row per subject: the
marks of the current period with date, work type and topic, the average and the recommended
mark, the period mark), «Посещаемость» (totals, then each «н» and «оп» with its reason),
«Итоги» (period marks of the year) and «Расписание» (the period's timetable and its changes).

Every row has every column (empty text where nothing is), so writing a tab over an older, longer
one leaves nothing of it behind once padded with empty rows (:func:`padded_rows`). Values are
plain text or whole numbers, written RAW: a teacher's «=…» topic stays text. Nothing here reads
the ledger or a backend: :func:`diary_tabs` renders a ``rules.diary.Diary``.
"""

from __future__ import annotations

from datetime import date

from rules.diary_types import Diary, SubjectMarks, WeekDay
from rules.model import Period
from sync.backends.protocol import CellRange, Grid, SpreadsheetSpec, TabSpec
from sync.layout.common import date_text
from sync.layout.labels import RU, Labels

MIN_ROWS = 60  # grid rows of a new tab (a values write grows the grid when a tab grows)
_WEEK_WIDTHS = {0: 135, 1: 120, 2: 215}
_MARK_WIDTHS = {0: 110, 1: 190, 2: 60, 3: 100, 4: 65}


def diary_name(diary: Diary, year: str, labels: Labels = RU) -> str:
    pupil = diary.pupil
    return labels.diary_name.format(pupil=f"{pupil.last_name} {pupil.first_name}",
                                    class_id=pupil.class_id, year=year)


def diary_spec(diary: Diary, year: str, period_word: str, *, folder: str | None,
               labels: Labels = RU) -> SpreadsheetSpec:
    """The diary as created: read only, readers cannot copy or download it."""
    return SpreadsheetSpec(diary_name(diary, year, labels),
                           diary_tabs(diary, year, period_word, labels), folder=folder,
                           readers_cannot_copy=True, writers_can_share=False)


def diary_tabs(diary: Diary, year: str, period_word: str, labels: Labels = RU
               ) -> tuple[TabSpec, ...]:
    """The five tabs of ``diary`` (``period_word``: "Четверть", the period-mark column)."""
    return (
        _tab(labels.week_tab, _week(diary, labels), _WEEK_WIDTHS),
        _tab(labels.marks_tab, _marks(diary, period_word, labels), _MARK_WIDTHS),
        _tab(labels.attendance_tab, _attendance(diary, labels), _WEEK_WIDTHS),
        _tab(labels.totals_tab, _totals(diary, year, labels),
             {0: 110} | {n: 78 for n in range(1, len(diary.period_names) + 1)}),
        _tab(labels.timetable_tab, _timetable(diary, labels), _WEEK_WIDTHS),
    )


def padded_rows(rows: Grid, width: int, old_rows: int) -> Grid:
    """``rows`` with empty rows down to ``old_rows``, to overwrite a longer tab written before."""
    return [*rows, *([""] * width for _ in range(old_rows - len(rows)))]


def _tab(title: str, rows: list[list[object]], widths: dict[int, int]) -> TabSpec:
    width = len(widths)
    grid: Grid = [[*row, *([""] * (width - len(row)))] for row in rows]
    return TabSpec(title=title, rows=grid, row_count=max(MIN_ROWS, len(grid) + 20),
                   col_count=width, col_widths=widths,
                   wrapped=(CellRange(title, 0, 0, None, width),), protected=True)


def _short(day: date) -> str:
    return day.strftime("%d.%m")


def _period(period: Period | None, labels: Labels) -> str:
    if period is None:
        return labels.no_period
    return f"{period.name}: {_short(period.start)} – {date_text(period.end)}"


def _lines(*parts: str) -> str:
    return "\n".join(p for p in parts if p)


def _weekday(day: date, labels: Labels) -> str:
    return labels.weekdays[day.weekday()]


# --------------------------------------------------------------------------- tabs


def _week(diary: Diary, labels: Labels) -> list[list[object]]:
    pupil = diary.pupil
    first, last = (diary.week[0].day, diary.week[-1].day) if diary.week else (diary.today,) * 2
    rows: list[list[object]] = [
        [labels.diary_word, f"{pupil.full_name}, {pupil.class_id}"],
        [labels.week_word, f"{_short(first)} – {date_text(last)}"],
        list(labels.week_columns),
    ]
    for day in diary.week:
        rows.extend(_day(day, labels))
    rows.append(list(labels.next_week))
    for due in diary.next_week:
        rows.append([f"{_weekday(due.day, labels)[:2]} {_short(due.day)}",
                     f"{due.lesson_no}. {due.subject}",
                     labels.homework_given.format(homework=due.homework, day=_short(due.given))])
    if not diary.next_week:
        rows.append(["", labels.nothing_yet])
    return rows


def _day(day: WeekDay, labels: Labels) -> list[list[object]]:
    rows: list[list[object]] = [[_weekday(day.day, labels).upper(), _short(day.day), day.note]]
    for x in day.lessons:
        about = _lines(labels.topic_line.format(topic=x.topic) if x.topic else "",
                       labels.homework_line.format(homework=x.homework) if x.homework else "")
        rows.append([f"{x.lesson_no}. {x.subject}", _lines(x.marks, x.attendance), about])
    return rows


def _marks(diary: Diary, period_word: str, labels: Labels) -> list[list[object]]:
    rows: list[list[object]] = [
        [labels.marks_tab, _period(diary.period, labels)],
        [*labels.marks_columns, period_word],
    ]
    rows.extend(_subject_row(s) for s in diary.marks)
    return rows


def _subject_row(s: SubjectMarks) -> list[object]:
    marks = "\n".join(
        " · ".join(p for p in (m.value, _short(m.day), m.work, m.topic) if p) for m in s.marks)
    return [s.subject, marks, s.average, s.recommended, s.period_mark]


def _attendance(diary: Diary, labels: Labels) -> list[list[object]]:
    a = diary.attendance
    figures = (a.missed, a.illness, a.excused, a.unexcused, a.no_reason, a.late, a.days_missed)
    rows: list[list[object]] = [[labels.attendance_tab, _period(diary.period, labels)]]
    rows.extend([label, value] for label, value in zip(labels.attendance_rows, figures,
                                                       strict=True))
    rows.extend([[""], list(labels.absence_columns)])
    for x in diary.absences:
        what = f"{x.code} — {x.reason}" if x.reason else f"{x.code} — {labels.late_text}"
        rows.append([date_text(x.day), f"{x.lesson_no}. {x.subject}", what])
    if not diary.absences:
        rows.append(["", labels.no_absences])
    return rows


def _totals(diary: Diary, year: str, labels: Labels) -> list[list[object]]:
    rows: list[list[object]] = [[labels.totals_tab, year], ["", *diary.period_names]]
    rows.extend([subject, *marks] for subject, marks in diary.totals)
    return rows


def _timetable(diary: Diary, labels: Labels) -> list[list[object]]:
    rows: list[list[object]] = [
        [labels.timetable_tab, _period(diary.period, labels)],
        list(labels.timetable_columns),
    ]
    shown = 0
    for line in diary.timetable:
        day = labels.weekdays[line.weekday - 1] if line.weekday != shown else ""
        shown = line.weekday
        subject = f"{line.subject} ({line.note})" if line.note else line.subject
        rows.append([day, str(line.lesson_no), subject])
    rows.extend([[""], list(labels.changes_heading), list(labels.changes_columns)])
    for change in diary.timetable_changes:
        rows.append([date_text(change.day), f"{change.lesson_no}. {change.subject}",
                     change.text])
    if not diary.timetable_changes:
        rows.append(["", labels.no_changes])
    return rows
