"""Rules on pupils' cells: lesson marks and codes, period marks, mark density, duplicate rows.

Errors keep an entry out of the record (the value is refused, or dated where no entry may be);
warnings are journal-keeping remarks. Each non-empty cell is checked by every rule independently,
so a mark on a future non-lesson date yields both ``future_entry`` and ``not_a_lesson_date``.
"""

from __future__ import annotations

from collections.abc import Iterator

from rules.assessment import refusal
from rules.context import (
    CellEntry,
    EntryField,
    Hit,
    ValidationContext,
    fmt_day,
    plural,
    rule,
)
from rules.grammar import Parsed, Refusal, ValueKind, quote
from rules.model import Location, Severity


def _location(ctx: ValidationContext, entry: CellEntry) -> Location:
    return Location(ctx.journal, entry.pupil_id, entry.day, EntryField.MARK, entry.cell)


def _filled(ctx: ValidationContext) -> Iterator[tuple[CellEntry, Parsed, str]]:
    """Non-empty lesson cells with the "Иванов Иван, 12.10.2026" prefix of their messages
    ("12.10.2026 (2)" for the second of two lessons that day, so their findings stay apart)."""
    return iter(ctx.filled)


@rule("invalid_value", "Недопустимое значение в клетке урока", Severity.ERROR)
def invalid_value(ctx: ValidationContext) -> Iterator[Hit]:
    for entry, parsed, who in _filled(ctx):
        if parsed.error is not None and parsed.problem is not Refusal.MARK_WITH_ABSENCE:
            yield _location(ctx, entry), f"{who}: {parsed.error}"


@rule("mark_not_allowed", "Отметка там, где отметки не ставят", Severity.ERROR)
def mark_not_allowed(ctx: ValidationContext) -> Iterator[Hit]:
    """A mark in a journal without marks (grade 1) or graded «зачёт/незачёт» (``rules.assessment``),
    in a lesson cell or the period column."""
    why = refusal(ctx.assessment, ctx.grade)
    if why is None:
        return
    for entry, parsed, who in _filled(ctx):
        if parsed.value is not None and parsed.value.kind is ValueKind.MARK:
            yield _location(ctx, entry), f"{who}: {quote(parsed.normalized)} — {why}."
    for mark, parsed in zip(ctx.period_entries, ctx.parsed_period, strict=True):
        if parsed.value is not None and parsed.value.kind is ValueKind.MARK:
            where = Location(ctx.journal, mark.pupil_id, None, EntryField.PERIOD_MARK, mark.cell)
            name = ctx.pupil_name(mark.pupil_id)
            yield where, f"{name}, {mark.period}: {quote(parsed.normalized)} — {why}."


@rule("mark_with_absence", "Отметка и «н» в одной клетке", Severity.ERROR)
def mark_with_absence(ctx: ValidationContext) -> Iterator[Hit]:
    for entry, parsed, who in _filled(ctx):
        if parsed.problem is Refusal.MARK_WITH_ABSENCE and parsed.error is not None:
            yield _location(ctx, entry), f"{who}: {parsed.error}"


@rule("not_a_lesson_date", "Запись в день, когда урока нет", Severity.ERROR)
def not_a_lesson_date(ctx: ValidationContext) -> Iterator[Hit]:
    """A cell whose ``(day, lesson_no)`` is no lesson: a day without the subject, or a lesson
    number the subject does not have that day (a second lesson where there is one)."""
    for entry, parsed, who in _filled(ctx):
        if ctx.lesson_period(entry.day, entry.lesson_no) is not None:
            continue
        held = ctx.lessons_on(entry.day)
        if not held:
            why = (
                "в этот день урока по расписанию нет; запись не принята. "
                "Отметки ставят только в дни уроков."
            )
        else:
            why = (
                f"{_ordinal(entry.lesson_no, genitive=True)} урока этого предмета в этот день по "
                f"расписанию нет, есть только {_and_list([_ordinal(n) for n in held])}; запись "
                "не принята."
            )
        yield _location(ctx, entry), f"{who}: {quote(parsed.normalized)} — {why}"


@rule("future_entry", "Запись на дату, которая ещё не наступила", Severity.ERROR)
def future_entry(ctx: ValidationContext) -> Iterator[Hit]:
    for entry, parsed, who in _filled(ctx):
        if entry.day > ctx.today:
            yield (
                _location(ctx, entry),
                (
                    f"{who}: {quote(parsed.normalized)} — этот день ещё не наступил; "
                    "отметки и пропуски ставят в день урока."
                ),
            )


@rule(
    "not_enrolled", "Запись для ученика, который в этот день не числится в классе", Severity.ERROR
)
def not_enrolled(ctx: ValidationContext) -> Iterator[Hit]:
    for entry, parsed, who in _filled(ctx):
        pupil = ctx.pupil(entry.pupil_id)
        if pupil is not None and pupil.enrolled_on(entry.day):
            continue
        if pupil is None:
            why = "ученика нет в списке класса"
        elif entry.day < pupil.enrolled:
            why = f"ученик зачислен в класс только с {fmt_day(pupil.enrolled)}"
        else:
            why = f"ученик выбыл из класса {fmt_day(pupil.left or entry.day)}"
        yield (
            _location(ctx, entry),
            f"{who}: {quote(parsed.normalized)} — {why}; запись не принята.",
        )


@rule("period_mark_invalid", "Недопустимая итоговая отметка за период", Severity.ERROR)
def period_mark_invalid(ctx: ValidationContext) -> Iterator[Hit]:
    for entry, parsed in zip(ctx.period_entries, ctx.parsed_period, strict=True):
        if parsed.error is not None:
            where = Location(ctx.journal, entry.pupil_id, None, EntryField.PERIOD_MARK, entry.cell)
            yield where, f"{ctx.pupil_name(entry.pupil_id)}, {entry.period}: {parsed.error}"


@rule("period_mark_outside_window", "Итоговая отметка выставлена раньше срока", Severity.ERROR)
def period_mark_outside_window(ctx: ValidationContext) -> Iterator[Hit]:
    windows = {w.period: w for w in ctx.period_windows}
    for entry, parsed in zip(ctx.period_entries, ctx.parsed_period, strict=True):
        window = windows.get(entry.period)
        empty = parsed.value is not None and parsed.value.kind is ValueKind.EMPTY
        if window is None or empty or ctx.today >= window.open_from:
            continue
        where = Location(ctx.journal, entry.pupil_id, None, EntryField.PERIOD_MARK, entry.cell)
        yield (
            where,
            (
                f"{ctx.pupil_name(entry.pupil_id)}, {entry.period}: {quote(parsed.normalized)} — "
                f"итоговые отметки ставят с {fmt_day(window.open_from)} по "
                f"{fmt_day(window.open_until)}; отметка выставлена раньше срока и не принята."
            ),
        )


@rule("too_few_marks", "Мало отметок для аттестации за период", Severity.WARNING)
def too_few_marks(ctx: ValidationContext) -> Iterator[Hit]:
    """While a period's marks window is open: pupils below ``GradingPolicy.min_marks``, except those
    whose period cell already says "н/а", "осв" or "зач".

    A period with lessons before ``journal_start`` (the school went live during it) is skipped:
    part of its marks are in the paper journal, so a count of the electronic ones would call
    pupils short of marks who are not, and no scaled minimum would be fair to every subject. Every
    lesson of a period that is checked lies on or after ``journal_start``, so the count is of
    marks kept here only.
    """
    minimum = ctx.policies.grading.min_marks
    for window in ctx.period_windows:
        if not window.is_open(ctx.today) or ctx.partly_on_paper(window.period):
            continue
        cells = {
            e.pupil_id: (e, p)
            for e, p in zip(ctx.period_entries, ctx.parsed_period, strict=True)
            if e.period == window.period
        }
        for pupil in ctx.pupils:
            entry, parsed = cells.get(pupil.id, (None, None))
            coded = (
                parsed is not None
                and parsed.value is not None
                and (parsed.value.kind is ValueKind.PERIOD_CODE)
            )
            count = ctx.counted_marks(pupil.id, window.period)
            if coded or count >= minimum or not pupil.enrolled_on(ctx.today):
                continue
            cell = entry.cell if entry is not None else None
            where = Location(ctx.journal, pupil.id, None, EntryField.PERIOD_MARK, cell)
            marks = plural(count, "отметка", "отметки", "отметок")
            yield (
                where,
                (
                    f"{ctx.pupil_name(pupil.id)}: за {window.period} {count} {marks}, а для "
                    f"аттестации нужно не меньше {minimum}, иначе рекомендуемая итоговая — «н/а»."
                ),
            )


@rule("duplicate_pupil_row", "Ученик записан в журнале в двух строках", Severity.WARNING)
def duplicate_pupil_row(ctx: ValidationContext) -> Iterator[Hit]:
    for pupil_id in sorted(ctx.duplicate_rows):
        yield (
            Location(ctx.journal, pupil_id, None, EntryField.ROW, None),
            (
                f"{ctx.pupil_name(pupil_id)}: ученик записан в журнале в двух строках; отметки "
                "должны стоять в одной строке — сообщите администратору журнала, чтобы лишнюю "
                "строку убрали."
            ),
        )


_ORDINALS = (
    ("первый", "первого"),
    ("второй", "второго"),
    ("третий", "третьего"),
    ("четвёртый", "четвёртого"),
    ("пятый", "пятого"),
    ("шестой", "шестого"),
    ("седьмой", "седьмого"),
    ("восьмой", "восьмого"),
    ("девятый", "девятого"),
    ("десятый", "десятого"),
)


def _ordinal(n: int, *, genitive: bool = False) -> str:
    """2 → "второй" ("второго"); beyond ten (or below one) "11-й" ("11-го")."""
    if 1 <= n <= len(_ORDINALS):
        nominative, genitive_form = _ORDINALS[n - 1]
        return genitive_form if genitive else nominative
    return f"{n}-го" if genitive else f"{n}-й"


def _and_list(words: list[str]) -> str:
    """ "первый", "первый и третий", "первый, третий и пятый"."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} и {words[-1]}"


@rule("value_read_as", "Значение принято в другом написании", Severity.INFO)
def value_read_as(ctx: ValidationContext) -> Iterator[Hit]:
    """Feedback on an open cell accepted in another spelling («H» read as «н», «5\\4» as «5/4»),
    so the grammar's notes reach the teacher; the cell itself is never rewritten (it is open, and
    the teacher may be typing in it). Only visible differences: spaces around a value and numbers
    typed as numbers are not worth a line. Locked cells carry the ledger's value: none there."""
    for entry, parsed, who in _filled(ctx):
        hit = _read_as(entry.raw, parsed)
        if hit:
            yield _location(ctx, entry), f"{who}: {hit}"
    for mark, parsed in zip(ctx.period_entries, ctx.parsed_period, strict=True):
        hit = _read_as(mark.raw, parsed)
        if hit:
            where = Location(ctx.journal, mark.pupil_id, None, EntryField.PERIOD_MARK, mark.cell)
            yield where, f"{ctx.pupil_name(mark.pupil_id)}, {mark.period}: {hit}"


def _read_as(raw: object, parsed: Parsed) -> str | None:
    if not isinstance(raw, str) or parsed.error is not None or parsed.value is None:
        return None
    if raw.strip() == parsed.normalized or not parsed.notes:
        return None
    why = "; ".join(n for n in parsed.notes if n != "лишние пробелы убраны")
    return (f"{quote(raw)} принято как {quote(parsed.normalized)} ({why}). Впишите "
            f"{quote(parsed.normalized)}, и это замечание исчезнет.")


RULES = (
    invalid_value,
    mark_not_allowed,
    mark_with_absence,
    not_a_lesson_date,
    future_entry,
    not_enrolled,
    period_mark_invalid,
    period_mark_outside_window,
    too_few_marks,
    duplicate_pupil_row,
    value_read_as,
)
