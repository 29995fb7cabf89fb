"""The layout of one period tab ("1 четверть"): who and what goes where, and how it looks.

Rows: a hidden row of date serials, the months (with the legend), the header (``Код``, ``№``,
``Ученик``, one column per lesson, «Средний балл», «Рекомендуемая», the period mark), the
weekdays, «Вид работы», then one row per pupil (``sync.layout.journal.look`` styles them).
Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from config.school import School
from rules.assessment import FAILED, PASSED, Assessment
from rules.model import Lesson, MarkGrammar, Period, Pupil
from sync.backends.protocol import CellRange, Dropdown, Grid, Highlight, TabSpec
from sync.layout.common import header_text
from sync.layout.journal.look import (
    COLOURS_NOTE,
    FIRST_PUPIL_ROW,
    HEADER_ROW,
    MONTH_ROW,
    WORK_TYPE_ROW,
    GridShape,
    day_highlights,
    legend,
    styles,
    top_rows,
    weekday_row,
    withheld_note,
)
from sync.layout.journal.map import LessonKey, ordinals, period_pupils, roster_key
from sync.layout.labels import Labels

SPARE_ROWS = 5  # empty rows below the pupils (or lessons), for one who joins later
BAD_MARK_COLOR = "#F4CCCC"
ABSENT_COLOR = "#FFF2CC"


def mark_values(grammar: MarkGrammar, *, period: bool = False,
                scheme: Assessment = Assessment.MARKS) -> tuple[str, ...]:
    """The dropdown of a mark cell: 5…2 (…1 if enabled), then the codes; a зачёт course offers
    «зач», «незач» instead of marks, a journal without marks only the attendance codes."""
    marks = tuple(str(m) for m in range(5, 0 if grammar.allow_one else 1, -1))
    if scheme is Assessment.PASS_FAIL:
        marks = (PASSED, FAILED)
    elif scheme is Assessment.NONE:
        marks = ()
    if period:
        return tuple(dict.fromkeys((*marks, *grammar.period_values)))
    return (*marks, grammar.absent, grammar.late, *(() if marks == () else (grammar.owed,)))


def period_tab(
    school: School,
    class_id: str,
    period: Period,
    lessons: Sequence[Lesson],
    entries: Mapping[tuple[str, date, int], str],
    period_marks: Mapping[tuple[str, str], str],
    work_names: Mapping[LessonKey, str],
    labels: Labels,
) -> TabSpec:
    """One period tab with the stored ``entries`` and ``period_marks`` filled in; a journal
    assessed without marks (``School.has_averages``) has no «Средний балл» and «Рекомендуемая»."""
    pupils = tab_pupils(school, class_id, period, entries, period_marks)
    mine = [x for x in lessons if x.period == period.name]
    nth = ordinals(lessons)
    keys = [(x.day, x.lesson_no) for x in mine]
    first, n = 3, len(keys)
    subject_id = mine[0].subject_id if mine else (lessons[0].subject_id if lessons else "")
    averages = school.has_averages(class_id, subject_id)
    scheme = school.assessment_of(class_id, subject_id)
    avg_col, rec_col = (first + n, first + n + 1) if averages else (None, None)
    period_col = first + n + (2 if averages else 0)
    title = period.name
    end = FIRST_PUPIL_ROW + len(pupils)
    shape = GridShape(title, [k[0] for k in keys], first, avg_col, rec_col, period_col, end)
    grammar = school.policies.grammar
    period_word = labels.period_column(school.year_of(class_id).period_kind)
    withheld = averages and any(x.day < school.year.journal_from for x in mine)
    service = [labels.average, labels.recommended] if averages else []
    header = [labels.pupil_id, labels.number, labels.pupil]
    header += [header_text(k[0], nth[k]) for k in keys]
    header += [*service, period_word]
    types_row = ["", "", labels.work_type_row, *(work_names[k] for k in keys), *[""] * len(service),
                 ""]
    rows: Grid = top_rows(shape, legend_text=legend(grammar, scheme), withheld=withheld)
    rows += [header, weekday_row(shape, labels.weekday_row), types_row]
    for number, pupil in enumerate(pupils, start=1):
        marks = [entries.get((pupil.id, *k), "") for k in keys]
        mark = period_marks.get((pupil.id, period.name), "")
        rows.append([pupil.id, number, pupil.full_name, *marks, *[""] * len(service), mark])
    marks_area = CellRange(title, FIRST_PUPIL_ROW, first, None, first + n)
    period_area = CellRange(title, FIRST_PUPIL_ROW, period_col, None, period_col + 1)
    header_area = CellRange(title, HEADER_ROW, 0, HEADER_ROW + 1, period_col + 1)
    widths = {0: 70, 1: 32, 2: 230, period_col: 85}
    widths.update({c: 48 for c in range(first, first + n)})
    notes = {(MONTH_ROW, 2): COLOURS_NOTE}
    if avg_col is not None and rec_col is not None:
        widths.update({avg_col: 110, rec_col: 120})
    if withheld and avg_col is not None and rec_col is not None:
        note = withheld_note(period.name, school.year.journal_from)
        notes |= {(HEADER_ROW, avg_col): note, (HEADER_ROW, rec_col): note}
    highlights = (
        Highlight(marks_area, "2", BAD_MARK_COLOR),
        Highlight(marks_area, grammar.absent, ABSENT_COLOR),
    )
    return TabSpec(
        title=title,
        rows=rows,
        row_count=len(rows) + SPARE_ROWS,
        col_count=period_col + 1,
        frozen_rows=FIRST_PUPIL_ROW,
        frozen_cols=3,
        hidden_cols=(0,),
        hidden_rows=(0,),
        text_ranges=(header_area, marks_area, period_area) if n else (header_area, period_area),
        dropdowns=(
            *((Dropdown(marks_area, mark_values(grammar, scheme=scheme)),) if n else ()),
            Dropdown(period_area, mark_values(grammar, period=True, scheme=scheme)),
        ),
        highlights=highlights if n else (),
        formula_highlights=day_highlights(shape),
        styles=styles(shape),
        notes=notes,
        row_heights={MONTH_ROW: 34, WORK_TYPE_ROW: 112},
        col_widths=widths,
        print_wide=True,  # a period's dates on one landscape page, not in slices of five
    )


def tab_pupils(
    school: School,
    class_id: str,
    period: Period,
    entries: Mapping[tuple[str, date, int], str],
    period_marks: Mapping[tuple[str, str], str],
) -> list[Pupil]:
    """The period's pupils, plus any pupil of the class with a stored value in it (never drop one)."""
    listed = period_pupils(school, class_id, period)
    ids = {p.id for p in listed}
    holders = {pid for (pid, day, _) in entries if period.contains(day)}
    holders |= {pid for (pid, name) in period_marks if name == period.name}
    extra = [p for p in school.pupils_in(class_id) if p.id in holders - ids]
    return sorted([*listed, *extra], key=roster_key)
