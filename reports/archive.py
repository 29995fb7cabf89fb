"""Report 7, the archive print-out of the journals (R13, regulation 4.2(3)): per class a workbook,
per subject a sheet, print-ready for double-sided A4 and the deputy's signature.

Each sheet prints as: a cover page (school, journal, teacher, period, legend of the codes, "printed
on", the configuration version and the audit chain head), then spreads — a left page with the
marks and attendance grid of a run of lessons (pupils × dates; the last run adds lessons missed,
the average and the period mark) and a right page with those lessons' dates, topics, work done and
its type, and homework — and a last page with the period marks' summary and the signature block.
So the page count is even and, printed double-sided and bound, each left page faces its right
page. Landscape, fit to the page width, the running title repeated on every page, a page break
before every page, page numbers in the footer. A run holds at most :data:`MAX_RUN` lessons and as
many as fit one page of topics.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from xlsxwriter.worksheet import Worksheet

from reports.roster import mark_numbers, members, shown_mark, subject_name, teachers_of
from reports.snapshot import Entry, LessonFacts, Snapshot
from reports.span import Span
from reports.xlsx import Book, header_lines, write_cell
from rules.grading import MarkRecord, average
from rules.model import Lesson

MAX_RUN = 20  # lesson columns on a left page
EXTRA = ("Пропущено уроков", "Ср. балл", "Итог")
WIDTHS = {"first": 6.0, "name": 28.0, "lesson": 4.6, "extra": 9.5}
PAGE_POINTS = 470.0  # row heights that fit one landscape page at the fit-to-width scale
LINE = 13.0
TOPIC = (1, 8)  # columns of the right page: topic B..I, work J..O, homework P..Y
WORK = (9, 14)
HOMEWORK = (15, 2 + MAX_RUN + len(EXTRA) - 1)
LEGEND = (
    ("2–5", "отметки"),
    ("5/4", "две отметки за одну работу"),
    ("н", "отсутствовал на уроке"),
    ("оп", "опоздал"),
    ("•", "работа не сдана (долг)"),
    ("н/а", "не аттестован за период"),
    ("осв", "освобождён"),
    ("зач", "зачтено"),
)


@dataclass(frozen=True)
class JournalPages:
    """What one journal's print-out shows."""

    class_id: str
    subject_id: str
    lessons: list[Lesson]
    facts: dict[tuple[date, int], LessonFacts]
    cells: dict[tuple[str, date, int], Entry]  # (pupil, day, lesson_no) → the accepted cell
    pupils: list[tuple[str, str]]  # (pupil id, full name) in roster order
    period_marks: dict[str, str]


def journal_pages(snapshot: Snapshot, span: Span, class_id: str, subject_id: str) -> JournalPages:
    school = snapshot.school
    last = span.until(snapshot.today)
    lessons = [x for x in school.lessons().get((class_id, subject_id), [])
               if span.start <= x.day <= last]
    key = (class_id, subject_id)
    facts = {(x.day, x.lesson_no): x for x in snapshot.journal_lessons.get(key, [])}
    cells = {(e.pupil_id, e.day, e.lesson_no): e
             for e in snapshot.journal_entries.get(key, []) if e.value}
    names = {p.name for p in span.periods}
    marks = {m.pupil_id: m.value for m in snapshot.journal_period_marks.get(key, [])
             if m.period in names}
    pupils = [(m.pupil.id, m.pupil.full_name) for m in members(school, class_id, span)]
    return JournalPages(class_id, subject_id, lessons, facts, cells, pupils, marks)


def runs(pages: JournalPages) -> list[list[Lesson]]:
    """The lessons split into spreads: at most MAX_RUN each and no more topic lines than a page
    holds."""
    out: list[list[Lesson]] = []
    current: list[Lesson] = []
    height = 2 * LINE
    for lesson in pages.lessons:
        need = _topic_lines(pages.facts.get((lesson.day, lesson.lesson_no))) * LINE
        if current and (len(current) == MAX_RUN or height + need > PAGE_POINTS):
            out.append(current)
            current, height = [], 2 * LINE
        current.append(lesson)
        height += need
    if current or not out:
        out.append(current)
    return out


def write_archive(snapshot: Snapshot, span: Span, class_id: str, path: Path) -> int:
    """The class's print-out for ``span`` (one sheet per journal); returns the pages laid out."""
    school = snapshot.school
    pages = 0
    with Book(path, snapshot, span, "Архивная копия электронного журнала") as book:
        for cls, subject in school.journals():
            if cls == class_id:
                data = journal_pages(snapshot, span, cls, subject)
                pages += _sheet(book, data, span)
    return pages


def _sheet(book: Book, data: JournalPages, span: Span) -> int:
    school = book.snapshot.school
    title = (f"Журнал {data.class_id} · {subject_name(school, data.subject_id)} · {span.name} · "
             f"{school.year.name} учебный год")
    ws = book.workbook.add_worksheet(f"{subject_name(school, data.subject_id)}"[:31])
    ws.set_column(0, 0, WIDTHS["first"])
    ws.set_column(1, 1, WIDTHS["name"])
    ws.set_column(2, 1 + MAX_RUN, WIDTHS["lesson"])
    ws.set_column(2 + MAX_RUN, 1 + MAX_RUN + len(EXTRA), WIDTHS["extra"])
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.5, right=0.4, top=0.5, bottom=0.6)
    ws.repeat_rows(0)
    ws.set_footer(f"&L{data.class_id} · {subject_name(school, data.subject_id)} · {span.name}"
                  "&Rстраница &P из &N")
    ws.merge_range(0, 0, 0, 1 + MAX_RUN + len(EXTRA), "", book.fmt(bold=True, font_size=12))
    ws.write_string(0, 0, title, book.fmt(bold=True, font_size=12))
    breaks = []
    row = _cover(book, ws, data, span, 2)
    spreads = runs(data)
    for number, run in enumerate(spreads):
        breaks.append(row)
        row = _grid(book, ws, data, run, row, last=number == len(spreads) - 1)
        breaks.append(row)
        row = _topics(book, ws, data, run, row)
    breaks.append(row)
    _closing(book, ws, data, row)
    ws.set_h_pagebreaks(breaks)
    return 2 + 2 * len(spreads)


def _cover(book: Book, ws: Worksheet, data: JournalPages, span: Span, row: int) -> int:
    snap, school = book.snapshot, book.snapshot.school
    lines = [
        f"Школа: {school.name}",
        f"Класс: {data.class_id}; предмет: {subject_name(school, data.subject_id)}; учитель: "
        f"{teachers_of(school, data.class_id, data.subject_id)}",
        f"Период: {span.name}, {span.start:%d.%m.%Y}–{span.end:%d.%m.%Y}; уроков по расписанию: "
        f"{len(data.lessons)}; учеников: {len(data.pupils)}",
        f"Распечатано: {snap.built_at:%d.%m.%Y %H:%M} ({school.timezone.key})",
        f"Версия настроек: {school.config_version}",
        f"Цепочка аудита (последнее событие): {snap.audit_head}",
        "По этой строке бумажная копия сверяется с электронным журналом (ejournal audit verify).",
    ]
    for text in lines:
        ws.write_string(row, 0, text)
        row += 1
    row += 1
    ws.write_string(row, 0, "Условные обозначения", book.fmt(bold=True))
    row += 1
    for code, meaning in LEGEND:
        ws.write_string(row, 0, code, book.fmt(align="center", border=1))
        ws.write_string(row, 1, meaning, book.fmt(border=1))
        row += 1
    row += 1
    ws.write_string(row, 0, "Левые страницы — отметки и посещаемость, правые — даты, темы, работа "
                            "на уроке и домашние задания тех же уроков.", book.fmt(italic=True))
    return row + 1


def _grid(book: Book, ws: Worksheet, data: JournalPages, run: list[Lesson], row: int,
          *, last: bool) -> int:
    school = book.snapshot.school
    head = book.fmt(bold=True, border=1, align="center", valign="vcenter", text_wrap=True,
                    bg_color="#DDE5F0")
    cell = book.fmt(border=1, align="center")
    name = book.fmt(border=1)
    ws.write_string(row, 0, "№", head)
    ws.write_string(row, 1, "Ученик", head)
    ws.write_string(row + 1, 0, "", head)
    ws.set_row(row, 2 * 15.0)
    ws.write_string(row + 1, 1, "№ урока в периоде →", book.fmt(border=1, italic=True, align="right"))
    for i, lesson in enumerate(run):
        ws.write_string(row, 2 + i, f"{lesson.day:%d.%m}", head)
        ws.write_number(row + 1, 2 + i, lesson.number, cell)
    if last:
        for j, label in enumerate(EXTRA):
            ws.merge_range(row, 2 + MAX_RUN + j, row + 1, 2 + MAX_RUN + j, "", head)
            ws.write_string(row, 2 + MAX_RUN + j, label, head)
    height = min(15.0, (PAGE_POINTS - 2 * 15) / max(len(data.pupils), 1))
    for k, (pupil_id, full_name) in enumerate(data.pupils, start=1):
        r = row + 1 + k
        ws.set_row(r, height)
        ws.write_number(r, 0, k, cell)
        ws.write_string(r, 1, full_name, name)
        for i, lesson in enumerate(run):
            entry = data.cells.get((pupil_id, lesson.day, lesson.lesson_no))
            write_cell(ws, r, 2 + i, shown_mark(entry.value) if entry else None, cell)
        if last:
            _totals(book, ws, data, pupil_id, r, cell, school)
    return row + 2 + len(data.pupils)


def _totals(book: Book, ws: Worksheet, data: JournalPages, pupil_id: str, r: int, cell: Any,
            school: Any) -> None:
    """Lessons missed, the average (as the journal computes it) and the period mark."""
    own = [(x, data.cells.get((pupil_id, x.day, x.lesson_no))) for x in data.lessons]
    missed = sum(1 for _, e in own if e is not None and e.kind == "absent")
    marks = [
        MarkRecord(n, facts.work_type if (facts := data.facts.get((x.day, x.lesson_no))) else None,
                   x.day)
        for x, e in own if e is not None and e.kind == "mark"
        for n in mark_numbers(e.value)
    ]
    work_types = {w.code: w for w in school.policies.work_types}
    mean = average(marks, school.policies.grading, work_types)
    ws.write_number(r, 2 + MAX_RUN, missed, cell)
    write_cell(ws, r, 3 + MAX_RUN, round(mean, 2) if mean is not None else None,
               book.fmt(border=1, align="center", num_format="0.00"))
    write_cell(ws, r, 4 + MAX_RUN, shown_mark(data.period_marks.get(pupil_id)),
               book.fmt(border=1, align="center", bold=True))


def _topics(book: Book, ws: Worksheet, data: JournalPages, run: list[Lesson], row: int) -> int:
    school = book.snapshot.school
    head = book.fmt(bold=True, border=1, valign="vcenter", bg_color="#DDE5F0")
    text = book.fmt(border=1, text_wrap=True, valign="top")
    day = book.fmt(border=1, valign="top", align="center")
    ws.write_string(row, 0, "Дата", head)
    for (first, last), label in ((TOPIC, "Тема урока"), (WORK, "Работа на уроке, вид работы"),
                                 (HOMEWORK, "Домашнее задание")):
        ws.merge_range(row, first, row, last, "", head)
        ws.write_string(row, first, label, head)
    row += 1
    for lesson in run:
        facts = data.facts.get((lesson.day, lesson.lesson_no))
        work = school.policies.work_type(facts.work_type) if facts and facts.work_type else None
        values = (
            facts.topic if facts else "",
            ", ".join(x for x in (facts.classwork if facts else "",
                                  work.name if work else (facts.work_type if facts else "")) if x),
            facts.homework if facts else "",
        )
        ws.set_row(row, _topic_lines(facts) * LINE)
        ws.write_string(row, 0, f"{lesson.day:%d.%m}", day)
        for (first, last), value in zip((TOPIC, WORK, HOMEWORK), values, strict=True):
            ws.merge_range(row, first, row, last, "", text)
            ws.write_string(row, first, value, text)  # teachers' text: always a string
        row += 1
    return row


def _closing(book: Book, ws: Worksheet, data: JournalPages, row: int) -> None:
    """The last page: the period marks' summary and the deputy's signature block."""
    counts = Counter((data.period_marks.get(p) or "нет") for p, _ in data.pupils)
    ws.write_string(row, 0, "Итоговые отметки за период", book.fmt(bold=True))
    row += 1
    for label in ("5", "4", "3", "2", "н/а", "осв", "зач", "нет"):
        if counts[label]:
            ws.write_string(row, 1, f"«{label}»" if label != "нет" else "не выставлена")
            ws.write_number(row, 2, counts[label])
            row += 1
    row += 2
    bold = book.fmt(bold=True)
    ws.write_string(row, 0, "Копия электронного журнала на бумажном носителе верна.", bold)
    row += 2
    for label in ("Заместитель директора по УВР", "Подпись", "Расшифровка подписи", "Дата"):
        ws.write_string(row, 1, label)
        ws.merge_range(row, 2, row, 12, "", book.fmt(bottom=1))
        row += 2
    snap = book.snapshot
    ws.write_string(row, 0, f"Распечатано: {snap.built_at:%d.%m.%Y %H:%M}; цепочка аудита: "
                            f"{snap.audit_head}", book.fmt(font_size=8))


def _topic_lines(facts: LessonFacts | None) -> int:
    if facts is None:
        return 1
    widths = {"topic": WIDTHS["name"] + (TOPIC[1] - TOPIC[0]) * WIDTHS["lesson"],
              "work": (WORK[1] - WORK[0] + 1) * WIDTHS["lesson"],
              "homework": (HOMEWORK[1] - HOMEWORK[0] + 1 - len(EXTRA)) * WIDTHS["lesson"]
              + len(EXTRA) * WIDTHS["extra"]}
    return max(
        header_lines(facts.topic, widths["topic"]),
        header_lines(f"{facts.classwork}, {facts.work_type}", widths["work"]),
        header_lines(facts.homework, widths["homework"]),
        1,
    )

