"""Rules on the "Уроки" tab: what the teacher must record for each lesson (R6), and control works
left without marks after their checking norm (R8). All are journal-keeping warnings.

A lesson's topic, work type and homework are due on its day, so they are reported from the next day
on. Any non-blank homework text counts as recorded, so "—", "нет" or "не задано" (no homework set,
said explicitly) satisfy the rule; only an empty cell is reported. Lessons are ``(day, lesson_no)``:
two lessons of the subject in one day are checked each on its own, and their messages name them as
the journal does ("Урок 12.10.2026 (2)"). Lessons before the school's go-live day
(``ValidationContext.journal_start``) were kept in the paper journal: no rule here checks them.
"""

from __future__ import annotations

from collections.abc import Iterator

from rules.context import EntryField, Hit, LessonInfo, ValidationContext, fmt_day, rule
from rules.grammar import Parsed, ValueKind
from rules.model import Location, Severity


def _past_lessons(ctx: ValidationContext) -> Iterator[LessonInfo]:
    for day, lesson_no in ctx.lesson_keys:
        if day < ctx.today and ctx.in_journal(day):
            yield ctx.info(day, lesson_no)


def _lesson(ctx: ValidationContext, info: LessonInfo) -> str:
    """ "Урок 12.10.2026" ("Урок 12.10.2026 (2)" for a day's second lesson)."""
    return f"Урок {ctx.lesson_label(info.day, info.lesson_no)}"


def _where(ctx: ValidationContext, info: LessonInfo, what: EntryField) -> Location:
    return Location(ctx.journal, None, info.day, what, info.cells.get(what))


@rule("lesson_missing_topic", "Не записана тема урока", Severity.WARNING)
def lesson_missing_topic(ctx: ValidationContext) -> Iterator[Hit]:
    for info in _past_lessons(ctx):
        if not info.topic.strip():
            yield (
                _where(ctx, info, EntryField.TOPIC),
                f"{_lesson(ctx, info)}: не записана тема урока.",
            )


@rule("lesson_missing_work_type", "Не указан вид работы на уроке", Severity.WARNING)
def lesson_missing_work_type(ctx: ValidationContext) -> Iterator[Hit]:
    for info in _past_lessons(ctx):
        if not info.work_type.strip():
            yield (
                _where(ctx, info, EntryField.WORK_TYPE),
                f"{_lesson(ctx, info)}: не указан вид работы (выберите его из списка).",
            )


@rule("unknown_work_type", "Вид работы не из списка школы", Severity.WARNING)
def unknown_work_type(ctx: ValidationContext) -> Iterator[Hit]:
    """Checked from the lesson day on, since a typo is visible at once; skipped when the school has
    configured no work types."""
    if not ctx.policies.work_types:
        return
    names = ", ".join(wt.name for wt in ctx.policies.work_types)
    for day, lesson_no in ctx.lesson_keys:
        info = ctx.info(day, lesson_no)
        if not ctx.in_journal(day) or day > ctx.today or not info.work_type.strip():
            continue
        if ctx.work_type(info.work_type) is None:
            yield (
                _where(ctx, info, EntryField.WORK_TYPE),
                (
                    f"{_lesson(ctx, info)}: вид работы «{info.work_type.strip()[:40]}» не из "
                    f"списка; выберите один из: {names}."
                ),
            )


@rule("lesson_missing_homework", "Не записано домашнее задание", Severity.WARNING)
def lesson_missing_homework(ctx: ValidationContext) -> Iterator[Hit]:
    for info in _past_lessons(ctx):
        if not info.homework.strip():
            yield (
                _where(ctx, info, EntryField.HOMEWORK),
                (
                    f"{_lesson(ctx, info)}: не записано домашнее задание; если его нет, "
                    "напишите «не задано»."
                ),
            )


@rule(
    "control_work_without_marks",
    "Оценочная работа без отметок у присутствовавших",
    Severity.WARNING,
)
def control_work_without_marks(ctx: ValidationContext) -> Iterator[Hit]:
    """After the grace end of a lesson whose work type is an assessment: every pupil enrolled that
    day whose cell of that lesson is empty or only "оп" (late, but present). "н" and "•" (work owed)
    are answers; refused values are reported by ``invalid_value``. Each lesson has its own work type
    and grace end, so of two lessons in a day only the assessed one is checked."""
    for day, lesson_no in ctx.lesson_keys:
        work = ctx.work_type(ctx.info(day, lesson_no).work_type)
        grace_end = ctx.grace_until.get((day, lesson_no), day)
        if work is None or not work.assessment or ctx.today <= grace_end or not ctx.in_journal(day):
            continue
        when = ctx.lesson_label(day, lesson_no)
        for pupil in ctx.pupils:
            cells = ctx.cells_of(pupil.id, day, lesson_no)
            if not pupil.enrolled_on(day) or not _lacks_mark([p for _, p in cells]):
                continue
            cell = cells[0][0].cell if cells else None
            yield (
                Location(ctx.journal, pupil.id, day, EntryField.MARK, cell),
                (
                    f"{ctx.pupil_name(pupil.id)}, {when}: нет отметки за работу "
                    f"«{work.name}»; срок выставления отметок истёк {fmt_day(grace_end)}."
                ),
            )


def _lacks_mark(values: list[Parsed]) -> bool:
    """Empty or only "оп"; a refused value counts as an answer (``invalid_value`` reports it)."""
    return all(
        p.value is not None and p.value.kind in (ValueKind.EMPTY, ValueKind.LATE) for p in values
    )


RULES = (
    lesson_missing_topic,
    lesson_missing_work_type,
    unknown_work_type,
    lesson_missing_homework,
    control_work_without_marks,
)
