"""One journal's read grid compared with the ledger, cell by cell: pure functions, no I/O.

:func:`compare` walks every cell the parser located (mark cells of each pupil row × lesson column,
period-mark cells, the teacher's cells of each "Уроки" row) and sorts them into what the ledger
must hear: cells locked IN THE LEDGER whose sheet value differs (tampering: a violation and a
revert with the ledger value), and open cells as candidates for acceptance. The grid validation
sees is the grid as it will be after the reverts ("effective" values), so a reverted cell never
raises a finding of its own. A cell locked holding invalid text (a typo left when its day locked)
is compared with that text and listed in ``sealed``: its findings stay, with a note.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from config.school import School
from rules.context import CellEntry, LessonInfo, PeriodEntry, PeriodWindow, ValidationContext
from rules.grammar import format_value, parse_cell
from rules.model import Lesson, MarkGrammar
from sync.backends.protocol import CellRange
from sync.layout.common import a1, cell_text
from sync.layout.journal.map import LessonField, LessonKey
from sync.layout.journal.spec import JournalReading
from sync.ledger.model import CellRef, Field, LessonInput, LockedView

FACT_FIELDS = (LessonField.TOPIC, LessonField.CLASSWORK, LessonField.WORK_TYPE, LessonField.HOMEWORK)


@dataclass(frozen=True, slots=True)
class Revert:
    """A locked cell whose sheet value differs from the ledger's: write ``locked`` back."""

    target: CellRef
    where: CellRange
    locked: str
    attempted: str


@dataclass(frozen=True, slots=True)
class OpenCell:
    """An open mark (or period-mark) cell as read; ``raw`` None when the cell is empty."""

    pupil_id: str
    day: date | None  # None for a period mark
    lesson_no: int | None
    period: str | None
    raw: object
    cell: str


@dataclass
class Comparison:
    """Everything :func:`compare` found in one journal."""

    reverts: list[Revert] = field(default_factory=list)
    # open mark cells holding a value or read empty where the ledger holds one (an erasure)
    marks: list[OpenCell] = field(default_factory=list)
    period_marks: list[OpenCell] = field(default_factory=list)
    lessons: dict[LessonKey, LessonInput] = field(default_factory=dict)  # open "Уроки" rows
    effective_entries: list[CellEntry] = field(default_factory=list)  # what validation sees
    effective_periods: list[PeriodEntry] = field(default_factory=list)
    effective_facts: dict[LessonKey, LessonInput] = field(default_factory=dict)
    fact_cells: dict[LessonKey, dict[str, str]] = field(default_factory=dict)
    matched: set[CellRef] = field(default_factory=set)  # locked cells read equal to the ledger
    # the same for mark cells, as (pupil, day, lesson_no, cell): a year of them, so their
    # CellRefs are made only when asked (``matched_targets``)
    matched_marks: list[tuple[str, date, int, str]] = field(default_factory=list)
    # and for the "Уроки" cells locked in the ledger, as (field, day, lesson_no, cell)
    matched_facts: list[tuple[str, date, int, str | None]] = field(default_factory=list)
    sealed: set[str] = field(default_factory=set)  # A1 cells locked holding invalid text

    def matched_targets(self) -> Iterator[CellRef]:
        """Every locked cell read equal to the ledger (made lazily: rarely needed)."""
        yield from self.matched
        for pid, day, lesson_no, cell in self.matched_marks:
            yield CellRef(Field.MARK, pid, day, lesson_no, cell=cell)
        for name, day, lesson_no, at in self.matched_facts:
            yield CellRef(Field(name), None, day, lesson_no, cell=at)


def shown(raw: object, grammar: MarkGrammar, *, period: bool = False) -> str:
    """A cell's value as the ledger would store it: normalized if valid, else the text as typed."""
    parsed = parse_cell(raw, grammar, period=period)
    if parsed.ok and parsed.value is not None:
        return format_value(parsed.value)
    return cell_text(raw)


def compare(
    reading: JournalReading,
    locked: LockedView,
    lessons: list[Lesson],
    grammar: MarkGrammar,
) -> Comparison:
    """Sort a journal's located cells into reverts and open cells (see the module docstring)."""
    out = Comparison()
    period_of = {(x.day, x.lesson_no): x.period for x in lessons}
    marks = {(e.pupil_id, e.day, e.lesson_no, e.cell): e.raw for e in reading.entries}
    typed = {(e.pupil_id, e.day, e.lesson_no) for e in reading.entries}
    locked_marks, locked_lessons, held = locked.marks, locked.mark_lessons, locked.held
    for tab in reading.map.periods.values():
        if tab.period in reading.settled:  # not parsed: unchanged since found equal to the ledger
            continue
        for pid, row in tab.rows.items():
            for (day, lesson_no), col in tab.columns.items():
                key = (pid, day, lesson_no)
                value = locked_marks.get(key)
                if value is None and (day, lesson_no) in locked_lessons:
                    value = ""  # locked empty
                if value is None and key not in typed and key not in held:
                    continue  # open, empty, and the ledger holds nothing there: nothing to offer
                cell = a1(tab.title, row, col)
                raw = marks.get((pid, day, lesson_no, cell)) if key in typed else None
                if value is None:
                    out.marks.append(OpenCell(pid, day, lesson_no, period_of.get((day, lesson_no)),
                                              raw, cell))
                    if raw is not None:
                        out.effective_entries.append(CellEntry(pid, day, raw, cell, lesson_no))
                    continue
                if raw == value or (raw is None and not value):  # the common case, in short
                    out.matched_marks.append((pid, day, lesson_no, cell))
                else:
                    target = CellRef(Field.MARK, pid, day, lesson_no, cell=cell)
                    _locked_cell(out, target, value, raw, grammar, False, row, col, tab.title)
                if (pid, day, lesson_no) in locked.invalid:
                    out.sealed.add(cell)
                if value:
                    out.effective_entries.append(CellEntry(pid, day, value, cell, lesson_no))
    for stray in reading.stray:
        out.effective_entries.append(CellEntry(stray.pupil_id, stray.day, stray.raw, stray.cell))
    _period_marks(out, reading, locked, grammar)
    _lessons(out, reading, locked, period_of)
    return out


def _locked_cell(
    out: Comparison,
    target: CellRef,
    value: str,
    raw: object,
    grammar: MarkGrammar,
    period: bool,
    row: int,
    col: int,
    title: str,
) -> None:
    now_shown = shown(raw, grammar, period=period) if raw is not None else ""
    if now_shown == value:
        out.matched.add(target)
        return
    where = CellRange(title, row, col, row + 1, col + 1)
    attempted = cell_text(raw) if raw is not None else ""
    out.reverts.append(Revert(target, where, value, attempted))


def _period_marks(
    out: Comparison, reading: JournalReading, locked: LockedView, grammar: MarkGrammar
) -> None:
    values = {(p.pupil_id, p.period, p.cell): p.raw for p in reading.period_marks}
    for tab in reading.map.periods.values():
        col = tab.period_col
        if col is None or tab.period in reading.settled:
            continue
        for pid, row in tab.rows.items():
            cell = a1(tab.title, row, col)
            raw = values.get((pid, tab.period, cell))
            value = locked.period_mark(pid, tab.period)
            if value is None:
                out.period_marks.append(OpenCell(pid, None, None, tab.period, raw, cell))
                if raw is not None:
                    out.effective_periods.append(PeriodEntry(pid, tab.period, raw, cell))
                continue
            target = CellRef(Field.PERIOD_MARK, pid, period=tab.period, cell=cell)
            _locked_cell(out, target, value, raw, grammar, True, row, col, tab.title)
            if (pid, tab.period) in locked.invalid_periods:
                out.sealed.add(cell)
            if value:
                out.effective_periods.append(PeriodEntry(pid, tab.period, value, cell))


def _lessons(
    out: Comparison,
    reading: JournalReading,
    locked: LockedView,
    period_of: Mapping[LessonKey, str],
) -> None:
    tab = reading.map.lessons_tab
    if tab is None:
        return
    for key in tab.rows:
        facts = reading.lessons.get(key)
        typed = {f.value: (getattr(facts, f.value) if facts else "") for f in FACT_FIELDS}
        cells = {
            f.value: a1(tab.title, tab.rows[key], tab.columns[f.value])
            for f in FACT_FIELDS
            if f.value in tab.columns
        }
        out.fact_cells[key] = cells
        ledger = locked.info.get(key)
        period = period_of.get(key, "")
        if ledger is None:
            item = LessonInput(key[0], key[1], period, **typed)
            out.lessons[key] = item
            out.effective_facts[key] = item
            continue
        out.effective_facts[key] = ledger
        for name, now_text in typed.items():
            want = getattr(ledger, name)
            if cell_text(now_text) == cell_text(want) or name not in tab.columns:
                out.matched_facts.append((name, key[0], key[1], cells.get(name)))
                continue
            target = CellRef(Field(name), None, key[0], key[1], cell=cells.get(name))
            row, col = tab.rows[key], tab.columns[name]
            where = CellRange(tab.title, row, col, row + 1, col + 1)
            out.reverts.append(Revert(target, where, want, cell_text(now_text)))


def validation_context(
    school: School,
    journal: str,
    class_id: str,
    lessons: list[Lesson],
    comparison: Comparison,
    reading: JournalReading,
    *,
    now: datetime,
    settled_days: frozenset[date] = frozenset(),
) -> ValidationContext:
    """The rules' view of the journal as it will be after the reverts (``now`` in school time),
    with the school's go-live day (lessons before it were kept on paper)."""
    now_date = now.date()
    school_class = school.school_class(class_id)
    grade = school_class.grade if school_class else 0
    policy = school.policies
    info = tuple(
        LessonInfo(
            key[0],
            facts.topic,
            facts.classwork,
            facts.work_type,
            facts.homework,
            comparison.fact_cells.get(key, {}),
            lesson_no=key[1],
        )
        for key, facts in sorted(comparison.effective_facts.items())
    )
    probe = ValidationContext(journal, grade, now_date, now, policies=policy)
    grace: dict[LessonKey, date] = {}
    for x in lessons:
        facts = comparison.effective_facts.get((x.day, x.lesson_no))
        wt = probe.work_type(facts.work_type) if facts and facts.work_type else None
        grace[(x.day, x.lesson_no)] = x.day + timedelta(days=wt.grace_days(grade) if wt else 0)
    lock = policy.lock
    windows = tuple(
        PeriodWindow(
            p.name,
            p.end - timedelta(days=lock.period_mark_open_before_days),
            p.end + timedelta(days=lock.period_mark_open_after_days),
        )
        for p in school.periods_of(class_id)
    )
    return ValidationContext(
        journal=journal,
        grade=grade,
        today=now_date,
        now=now,
        policies=policy,
        pupils=school.pupils_in(class_id),
        lessons=tuple(lessons),
        lesson_info=info,
        entries=tuple(comparison.effective_entries),
        period_entries=tuple(comparison.effective_periods),
        period_windows=windows,
        grace_until=grace,
        duplicate_rows=reading.duplicate_rows,
        journal_start=school.year.journal_start,
        assessment=school.assessment_of(class_id, journal.partition("/")[2]),
        settled_days=settled_days,
    )
