"""Validation rules: each fires in one case and is silent in another; the registry; validate()."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from rules.assessment import Assessment
from rules.model import Finding, Lesson, Location, Policies, Pupil, Severity, WorkType
from rules.validation import (
    RULES,
    CellEntry,
    LessonInfo,
    PeriodEntry,
    PeriodWindow,
    ValidationContext,
    build_registry,
    validate,
)

JOURNAL = "7Б/math"
Q1 = "1 четверть"
MON05, WED07, MON12, WED14, MON19 = (date(2026, 10, d) for d in (5, 7, 12, 14, 19))
SUN11 = date(2026, 10, 11)
TODAY = WED14
NOW = datetime(2026, 10, 14, 12, 0, tzinfo=timezone(timedelta(hours=3)))

IVANOV = Pupil("p1", "Иванов", "Иван", "7Б", enrolled=date(2026, 9, 1))
PETROVA = Pupil("p2", "Петрова", "Анна", "7Б", enrolled=date(2026, 10, 8))
SIDOROV = Pupil("p3", "Сидоров", "Пётр", "7Б", enrolled=date(2026, 9, 1), left=date(2026, 10, 6))

CONTROL = WorkType("control", "Контрольная работа", weight=2.0, assessment=True)
ORAL = WorkType("oral", "Устный ответ")

SLOT = 2  # math is the 2nd lesson of the day: lesson_no is the timetable slot, not the ordinal
LESSONS = tuple(
    Lesson("7Б", "math", day, SLOT, Q1, n, "t1")
    for n, day in enumerate((MON05, WED07, MON12, WED14, MON19), start=1)
)
FILLED = tuple(
    LessonInfo(day, "Дроби", "Упр. 1–5", "oral", "§ 12, № 3", {"topic": f"D{row}"}, SLOT)
    for row, day in enumerate((MON05, WED07, MON12, WED14), start=3)
)
OPEN_WINDOW = (PeriodWindow(Q1, date(2026, 10, 10), date(2026, 11, 2)),)


def make_context(**overrides: Any) -> ValidationContext:
    fields: dict[str, Any] = {
        "journal": JOURNAL,
        "grade": 7,
        "today": TODAY,
        "now": NOW,
        "policies": Policies(work_types=(CONTROL, ORAL)),
        "pupils": (IVANOV, PETROVA, SIDOROV),
        "lessons": LESSONS,
        "lesson_info": FILLED,
    }
    fields.update(overrides)
    return ValidationContext(**fields)


def marks(*cells: tuple[str, date, object]) -> tuple[CellEntry, ...]:
    """Lesson cells as (pupil_id, day, raw) of the day's lesson in ``SLOT``; the A1 ref is "E5"."""
    return tuple(CellEntry(pupil, day, raw, "E5", SLOT) for pupil, day, raw in cells)


def period_mark(raw: object, pupil: str = "p1") -> tuple[PeriodEntry, ...]:
    return (PeriodEntry(pupil, Q1, raw, "Z5"),)


def info(day: date, **changes: Any) -> tuple[LessonInfo, ...]:
    """The filled "Уроки" rows with one lesson's fields changed."""
    return tuple(replace(i, **changes) if i.day == day else i for i in FILLED)


def mark_at(pupil: str, day: date | None, field: str = "mark", cell: str | None = "E5") -> Location:
    return Location(JOURNAL, pupil, day, field, cell)


def lesson_at(day: date, field: str, cell: str | None = None) -> Location:
    return Location(JOURNAL, None, day, field, cell)


ONLY_IVANOV = {"pupils": (IVANOV,)}
CONTROL_ON_WED07 = {"lesson_info": info(WED07, work_type="Контрольная работа"), **ONLY_IVANOV}
GRACE_OVER = {"grace_until": {(WED07, SLOT): MON12}}
GRACE_RUNNING = {"grace_until": {(WED07, SLOT): WED14}}

# rule id, context overrides, the one expected location, a message fragment
FIRING = [
    pytest.param(
        "invalid_value",
        {"entries": marks(("p1", MON12, "6"))},
        mark_at("p1", MON12),
        "Иванов Иван, 12.10.2026: «6» — нет такой отметки; допустимы 2, 3, 4, 5, н, оп, •",
        id="invalid_value",
    ),
    pytest.param(
        "invalid_value",
        {"entries": marks(("p1", MON12, "5-"))},
        mark_at("p1", MON12),
        "«5-» — отметки с «+» и «-» в школе не используются",
        id="invalid_value-modifier",
    ),
    pytest.param(
        "mark_not_allowed",
        {"entries": marks(("p1", MON12, "5"), ("p1", MON05, "н")), "grade": 1,
         "assessment": Assessment.NONE},
        mark_at("p1", MON12),
        "Иванов Иван, 12.10.2026: «5» — в 1 классе по этому предмету отметки не ставят "
        "(безотметочное обучение)",
        id="mark_not_allowed-grade-1",
    ),
    pytest.param(
        "mark_not_allowed",
        {"period_entries": period_mark("4"), "assessment": Assessment.PASS_FAIL},
        mark_at("p1", None, "period_mark", "Z5"),
        "Иванов Иван, 1 четверть: «4» — предмет оценивается «зачёт/незачёт»: пишите «зач» или "
        "«незач»",
        id="mark_not_allowed-pass-fail-period",
    ),
    pytest.param(
        "mark_with_absence",
        {"entries": marks(("p1", MON12, "н5"))},
        mark_at("p1", MON12),
        "Иванов Иван, 12.10.2026: «н5» — отметка и «н» в одной ячейке",
        id="mark_with_absence",
    ),
    pytest.param(
        "not_a_lesson_date",
        {"entries": marks(("p1", SUN11, "5"))},
        mark_at("p1", SUN11),
        "Иванов Иван, 11.10.2026: «5» — в этот день урока по расписанию нет",
        id="not_a_lesson_date",
    ),
    pytest.param(
        "not_a_lesson_date",
        {"entries": marks(("p1", SUN11, "отл"))},
        mark_at("p1", SUN11),
        "«отл» — в этот день урока по расписанию нет",
        id="not_a_lesson_date-invalid-value",
    ),
    pytest.param(
        "future_entry",
        {"entries": marks(("p1", MON19, " Н "))},
        mark_at("p1", MON19),
        "Иванов Иван, 19.10.2026: «н» — этот день ещё не наступил",
        id="future_entry",
    ),
    pytest.param(
        "not_enrolled",
        {"entries": marks(("p2", WED07, "4"))},
        mark_at("p2", WED07),
        "Петрова Анна, 07.10.2026: «4» — ученик зачислен в класс только с 08.10.2026",
        id="not_enrolled-before-enrolment",
    ),
    pytest.param(
        "not_enrolled",
        {"entries": marks(("p3", MON12, "4"))},
        mark_at("p3", MON12),
        "Сидоров Пётр, 12.10.2026: «4» — ученик выбыл из класса 06.10.2026",
        id="not_enrolled-after-leaving",
    ),
    pytest.param(
        "not_enrolled",
        {"entries": marks(("p9", MON12, "4"))},
        mark_at("p9", MON12),
        "ученик с кодом p9, 12.10.2026: «4» — ученика нет в списке класса",
        id="not_enrolled-unknown-pupil",
    ),
    pytest.param(
        "period_mark_invalid",
        {"period_entries": period_mark("н"), "period_windows": OPEN_WINDOW},
        mark_at("p1", None, "period_mark", "Z5"),
        "Иванов Иван, 1 четверть: «н» не ставится в итоговую отметку",
        id="period_mark_invalid",
    ),
    pytest.param(
        "period_mark_outside_window",
        {
            "period_entries": period_mark("5"),
            "period_windows": (PeriodWindow(Q1, date(2026, 10, 20), date(2026, 11, 2)),),
        },
        mark_at("p1", None, "period_mark", "Z5"),
        "Иванов Иван, 1 четверть: «5» — итоговые отметки ставят с 20.10.2026 по 02.11.2026",
        id="period_mark_outside_window",
    ),
    pytest.param(
        "too_few_marks",
        {
            "entries": marks(("p1", MON05, "5"), ("p1", MON19, "5"), ("p1", SUN11, "5")),
            "period_windows": OPEN_WINDOW,
            **ONLY_IVANOV,
        },
        mark_at("p1", None, "period_mark", None),
        "Иванов Иван: за 1 четверть 1 отметка, а для аттестации нужно не меньше 3",
        id="too_few_marks-future-and-non-lesson-marks-not-counted",
    ),
    pytest.param(
        "too_few_marks",
        {
            "entries": marks(("p1", MON05, "5/4")),
            "period_entries": period_mark(""),
            "period_windows": OPEN_WINDOW,
            **ONLY_IVANOV,
        },
        mark_at("p1", None, "period_mark", "Z5"),
        "за 1 четверть 2 отметки",
        id="too_few_marks-double-mark-counts-twice",
    ),
    pytest.param(
        "duplicate_pupil_row",
        {"duplicate_rows": frozenset({"p2"})},
        mark_at("p2", None, "row", None),
        "Петрова Анна: ученик записан в журнале в двух строках",
        id="duplicate_pupil_row",
    ),
    pytest.param(
        "value_read_as",
        {"entries": marks(("p1", MON12, "H"))},  # a Latin H
        mark_at("p1", MON12),
        "Иванов Иван, 12.10.2026: «H» принято как «н» (латинская «H» заменена на «н»). "
        "Впишите «н», и это замечание исчезнет.",
        id="value_read_as-latin",
    ),
    pytest.param(
        "value_read_as",
        {"period_entries": period_mark(" 5. ")},
        mark_at("p1", None, "period_mark", "Z5"),
        "Иванов Иван, 1 четверть: «5.» принято как «5» (точка в конце убрана).",
        id="value_read_as-period-mark",
    ),
    pytest.param(
        "lesson_missing_topic",
        {"lesson_info": info(MON05, topic="  ")},
        lesson_at(MON05, "topic", "D3"),
        "Урок 05.10.2026: не записана тема урока",
        id="lesson_missing_topic",
    ),
    pytest.param(
        "lesson_missing_topic",
        {"lesson_info": FILLED[1:]},
        lesson_at(MON05, "topic"),
        "Урок 05.10.2026: не записана тема урока",
        id="lesson_missing_topic-no-row",
    ),
    pytest.param(
        "lesson_missing_work_type",
        {"lesson_info": info(MON12, work_type="")},
        lesson_at(MON12, "work_type"),
        "Урок 12.10.2026: не указан вид работы",
        id="lesson_missing_work_type",
    ),
    pytest.param(
        "unknown_work_type",
        {"lesson_info": info(WED14, work_type="Диктант")},
        lesson_at(WED14, "work_type"),
        "вид работы «Диктант» не из списка; выберите один из: Контрольная работа, Устный ответ",
        id="unknown_work_type",
    ),
    pytest.param(
        "lesson_missing_homework",
        {"lesson_info": info(WED07, homework="")},
        lesson_at(WED07, "homework"),
        "Урок 07.10.2026: не записано домашнее задание; если его нет, напишите «не задано»",
        id="lesson_missing_homework",
    ),
    pytest.param(
        "control_work_without_marks",
        {**CONTROL_ON_WED07, **GRACE_OVER},
        mark_at("p1", WED07, cell=None),
        "Иванов Иван, 07.10.2026: нет отметки за работу «Контрольная работа»; срок выставления "
        "отметок истёк 12.10.2026",
        id="control_work_without_marks-no-cell",
    ),
    pytest.param(
        "control_work_without_marks",
        {**CONTROL_ON_WED07, **GRACE_OVER, "entries": marks(("p1", WED07, "оп"))},
        mark_at("p1", WED07),
        "нет отметки за работу «Контрольная работа»",
        id="control_work_without_marks-late-but-present",
    ),
    pytest.param(
        "control_work_without_marks",
        {"lesson_info": info(MON05, work_type="control"), **ONLY_IVANOV},
        mark_at("p1", MON05, cell=None),
        "срок выставления отметок истёк 05.10.2026",
        id="control_work_without_marks-no-grace-given",
    ),
]

# rule id, context overrides under which the rule stays silent
SILENT = [
    pytest.param("invalid_value", {"entries": marks(("p1", MON12, "5/4"))}, id="invalid_value"),
    pytest.param(
        "invalid_value",
        {"entries": marks(("p1", MON12, "н5"))},
        id="invalid_value-absence-own-rule",
    ),
    pytest.param("mark_with_absence", {"entries": marks(("p1", MON12, "н"))}, id="absence"),
    pytest.param("not_a_lesson_date", {"entries": marks(("p1", MON12, "5"))}, id="lesson-day"),
    pytest.param("not_a_lesson_date", {"entries": marks(("p1", SUN11, " "))}, id="empty-cell"),
    pytest.param("future_entry", {"entries": marks(("p1", TODAY, "5"))}, id="today"),
    pytest.param("future_entry", {"entries": marks(("p1", MON19, None))}, id="future-empty"),
    pytest.param("not_enrolled", {"entries": marks(("p2", MON12, "4"))}, id="enrolled"),
    pytest.param("not_enrolled", {"entries": marks(("p3", MON05, "4"))}, id="before-leaving"),
    pytest.param("period_mark_invalid", {"period_entries": period_mark("н/а")}, id="period-code"),
    pytest.param(
        "period_mark_outside_window",
        {"period_entries": period_mark("5"), "period_windows": OPEN_WINDOW},
        id="window-open",
    ),
    pytest.param(
        "period_mark_outside_window",
        {
            "period_entries": period_mark(""),
            "period_windows": (PeriodWindow(Q1, date(2026, 10, 20), date(2026, 11, 2)),),
        },
        id="window-closed-but-empty",
    ),
    pytest.param(
        "too_few_marks",
        {
            "entries": marks(("p1", MON05, "5/4"), ("p1", WED07, "3")),
            "period_windows": OPEN_WINDOW,
            **ONLY_IVANOV,
        },
        id="enough-marks",
    ),
    pytest.param(
        "too_few_marks",
        {"period_entries": period_mark("осв"), "period_windows": OPEN_WINDOW, **ONLY_IVANOV},
        id="exempt",
    ),
    pytest.param(
        "too_few_marks",
        {"period_windows": (PeriodWindow(Q1, date(2026, 10, 20), date(2026, 11, 2)),)},
        id="window-not-open",
    ),
    pytest.param(
        "too_few_marks",
        {"pupils": (SIDOROV,), "period_windows": OPEN_WINDOW},
        id="pupil-left",
    ),
    pytest.param("duplicate_pupil_row", {}, id="duplicate_pupil_row"),
    pytest.param("mark_not_allowed", {"entries": marks(("p1", MON12, "5"))}, id="marks-school"),
    pytest.param(
        "invalid_value",
        {"entries": marks(("p1", MON12, "Зач"), ("p1", MON05, "незач")),
         "assessment": Assessment.PASS_FAIL},
        id="zach-in-a-pass-fail-course",
    ),
    pytest.param(
        "mark_not_allowed",
        {"entries": marks(("p1", MON12, "зач"), ("p1", MON05, " незач"), ("p1", WED07, "н")),
         "period_entries": period_mark("зач"), "assessment": Assessment.PASS_FAIL},
        id="pass-fail-accepts-zach",
    ),
    pytest.param(
        "value_read_as",
        {"entries": marks(("p1", MON12, " 5/4 "), ("p1", MON05, 5.0), ("p1", WED07, "H5"))},
        id="value_read_as-spaces-numbers-and-refused",  # invisible, a number, an error instead
    ),
    pytest.param(
        "lesson_missing_topic", {"lesson_info": info(WED14, topic="")}, id="topic-due-tomorrow"
    ),
    pytest.param("lesson_missing_work_type", {}, id="lesson_missing_work_type"),
    pytest.param(
        "unknown_work_type",
        {"lesson_info": info(WED14, work_type=" контрольная  работа ")},
        id="work-type-by-name",
    ),
    pytest.param(
        "unknown_work_type",
        {"lesson_info": info(WED14, work_type="Диктант"), "policies": Policies()},
        id="no-work-types-configured",
    ),
    pytest.param(
        "lesson_missing_homework",
        {"lesson_info": info(WED07, homework="не задано")},
        id="homework-not-set-explicitly",
    ),
    pytest.param(
        "control_work_without_marks", {**CONTROL_ON_WED07, **GRACE_RUNNING}, id="grace-running"
    ),
    pytest.param(
        "control_work_without_marks",
        {**CONTROL_ON_WED07, **GRACE_OVER, "entries": marks(("p1", WED07, "н"))},
        id="absent",
    ),
    pytest.param(
        "control_work_without_marks",
        {**CONTROL_ON_WED07, **GRACE_OVER, "entries": marks(("p1", WED07, "•"))},
        id="work-owed",
    ),
    pytest.param(
        "control_work_without_marks",
        {**CONTROL_ON_WED07, **GRACE_OVER, "entries": marks(("p1", WED07, "4"))},
        id="marked",
    ),
    pytest.param(
        "control_work_without_marks",
        {**CONTROL_ON_WED07, **GRACE_OVER, "pupils": (PETROVA,)},
        id="not-yet-enrolled",
    ),
    pytest.param(
        "control_work_without_marks", {**ONLY_IVANOV, **GRACE_OVER}, id="not-an-assessment"
    ),
]

SEVERITIES = {
    "invalid_value": Severity.ERROR,
    "mark_not_allowed": Severity.ERROR,
    "mark_with_absence": Severity.ERROR,
    "not_a_lesson_date": Severity.ERROR,
    "future_entry": Severity.ERROR,
    "not_enrolled": Severity.ERROR,
    "period_mark_invalid": Severity.ERROR,
    "period_mark_outside_window": Severity.ERROR,
    "too_few_marks": Severity.WARNING,
    "duplicate_pupil_row": Severity.WARNING,
    "value_read_as": Severity.INFO,
    "lesson_missing_topic": Severity.WARNING,
    "lesson_missing_work_type": Severity.WARNING,
    "unknown_work_type": Severity.WARNING,
    "lesson_missing_homework": Severity.WARNING,
    "control_work_without_marks": Severity.WARNING,
}


@pytest.mark.parametrize(("rule_id", "overrides", "location", "fragment"), FIRING)
def test_rule_fires(
    rule_id: str, overrides: dict[str, Any], location: Location, fragment: str
) -> None:
    [finding] = validate(make_context(**overrides), enabled={rule_id})
    assert (finding.rule, finding.severity, finding.location) == (
        rule_id,
        SEVERITIES[rule_id],
        location,
    )
    assert fragment in finding.message


@pytest.mark.parametrize(("rule_id", "overrides"), SILENT)
def test_rule_stays_silent(rule_id: str, overrides: dict[str, Any]) -> None:
    assert validate(make_context(**overrides), enabled={rule_id}) == []


def test_every_rule_has_a_firing_and_a_silent_case() -> None:
    fired = {p.values[0] for p in FIRING}
    silent = {p.values[0] for p in SILENT}
    assert fired == silent == set(RULES)


# --------------------------------------------------------------------------- registry


def test_registry_ids_severities_and_order() -> None:
    assert {rule_id: r.severity for rule_id, r in RULES.items()} == SEVERITIES
    assert list(RULES) == list(SEVERITIES)


@pytest.mark.parametrize("rule_id", list(RULES))
def test_rule_is_documented(rule_id: str) -> None:
    r = RULES[rule_id]
    assert r.id == rule_id
    assert re.fullmatch(r"[a-z]+(_[a-z]+)*", rule_id)
    assert r.title.strip()
    assert re.search("[а-яё]", r.title)  # a Russian title for the teacher-facing legend


def test_registry_refuses_duplicate_ids() -> None:
    rule = RULES["future_entry"]
    with pytest.raises(ValueError, match="duplicate validation rule id: future_entry"):
        build_registry([rule, RULES["invalid_value"], rule])


def test_registry_is_read_only() -> None:
    with pytest.raises(TypeError):
        RULES["extra"] = RULES["future_entry"]  # type: ignore[index]


# --------------------------------------------------------------------------- validate()

# "6" on a future day that is no lesson: refused, future and not a lesson at once
BAD_CELL = {"entries": marks(("p1", date(2026, 10, 18), "6"))}


def test_clean_journal_has_no_findings() -> None:
    ctx = make_context(
        pupils=(IVANOV, SIDOROV),
        entries=marks(
            ("p1", MON05, "5"), ("p1", WED07, "н"), ("p1", MON12, "4/5"), ("p3", MON05, "3")
        ),
        period_entries=period_mark("5"),
        period_windows=OPEN_WINDOW,
        grace_until={(MON05, SLOT): WED07},
    )
    assert validate(ctx) == []


def test_validate_runs_all_rules_in_registry_order() -> None:
    findings = validate(make_context(**BAD_CELL))
    assert [f.rule for f in findings] == ["invalid_value", "not_a_lesson_date", "future_entry"]


def test_validate_runs_only_enabled_rules() -> None:
    findings = validate(make_context(**BAD_CELL), enabled={"future_entry", "lesson_missing_topic"})
    assert [f.rule for f in findings] == ["future_entry"]


def test_validate_with_nothing_enabled_finds_nothing() -> None:
    assert validate(make_context(**BAD_CELL), enabled=set()) == []


def test_validate_rejects_unknown_rule_ids() -> None:
    with pytest.raises(ValueError, match="unknown validation rule ids: no_such_rule"):
        validate(make_context(), enabled={"future_entry", "no_such_rule"})


def test_validate_with_a_custom_registry() -> None:
    only = build_registry([RULES["future_entry"]])
    findings = validate(make_context(**BAD_CELL), rules=only)
    assert findings == [
        Finding(
            "future_entry",
            Severity.ERROR,
            mark_at("p1", date(2026, 10, 18)),
            "Иванов Иван, 18.10.2026: «6» — этот день ещё не наступил; "
            "отметки и пропуски ставят в день урока.",
        )
    ]


def test_context_counts_marks_of_enrolled_days_only() -> None:
    ctx = make_context(
        entries=marks(("p2", MON05, "5"), ("p2", MON12, "4/4"), ("p2", WED14, "н")),
    )
    assert ctx.counted_marks("p2", Q1) == 2  # 05.10 is before Петрова's enrolment


# --------------------------------------------------------------------------- two lessons in a day

SECOND = 4  # WED07 also has math as its 4th lesson: "07.10 (2)" in the journal
TWO_ON_WED07 = {
    "lessons": (*LESSONS, Lesson("7Б", "math", WED07, SECOND, Q1, 6, "t1")),
    "lesson_info": (
        *FILLED,
        LessonInfo(WED07, "Проверка", "", "Контрольная работа", "—", {"topic": "D9"}, SECOND),
    ),
    **ONLY_IVANOV,
}


def cells_on_wed07(first: object, second: object) -> tuple[CellEntry, ...]:
    """Ivanov's cells of both lessons of 07.10 (oral, then control work); None leaves one out."""
    return tuple(
        CellEntry("p1", WED07, raw, cell, no)
        for raw, cell, no in ((first, "E5", SLOT), (second, "F5", SECOND))
        if raw is not None
    )


@pytest.mark.parametrize(
    ("entries", "grace", "expected"),
    [
        pytest.param(
            cells_on_wed07("5", None),
            {(WED07, SECOND): MON12},
            [
                (
                    mark_at("p1", WED07, cell=None),
                    "Иванов Иван, 07.10.2026 (2): нет отметки за работу «Контрольная работа»; "
                    "срок выставления отметок истёк 12.10.2026.",
                )
            ],
            id="mark-only-in-the-oral-lesson",
        ),
        pytest.param(
            cells_on_wed07("5", "оп"),
            {(WED07, SECOND): MON12},
            [(mark_at("p1", WED07, cell="F5"), "Иванов Иван, 07.10.2026 (2): нет отметки")],
            id="late-in-the-control-lesson",
        ),
        pytest.param(
            cells_on_wed07("5", "4"), {(WED07, SECOND): MON12}, [], id="marked-in-the-control"
        ),
        pytest.param(
            cells_on_wed07(None, "4"), {(WED07, SECOND): MON12}, [], id="oral-lesson-not-checked"
        ),
        pytest.param(
            cells_on_wed07("5", None), {(WED07, SECOND): WED14}, [], id="control-grace-running"
        ),
        pytest.param(
            cells_on_wed07("5", None),
            {(WED07, SLOT): WED14},
            [(mark_at("p1", WED07, cell=None), "срок выставления отметок истёк 07.10.2026")],
            id="grace-of-the-other-lesson-does-not-apply",
        ),
    ],
)
def test_control_work_in_the_second_lesson_of_a_day(
    entries: tuple[CellEntry, ...],
    grace: dict[tuple[date, int], date],
    expected: list[tuple[Location, str]],
) -> None:
    ctx = make_context(**TWO_ON_WED07, entries=entries, grace_until=grace)
    findings = validate(ctx, enabled={"control_work_without_marks"})
    assert len(findings) == len(expected)
    for finding, (location, fragment) in zip(findings, expected, strict=True):
        assert finding.location == location
        assert fragment in finding.message


@pytest.mark.parametrize(
    ("slots", "lesson_no", "expected"),
    [
        pytest.param(
            (1,),
            2,
            "Иванов Иван, 12.10.2026: «5» — второго урока этого предмета в этот день по "
            "расписанию нет, есть только первый; запись не принята.",
            id="second-lesson-on-a-day-with-one",
        ),
        pytest.param(
            (SLOT,),
            SECOND,
            "«5» — четвёртого урока этого предмета в этот день по расписанию нет, есть только "
            "второй;",
            id="other-slot",
        ),
        pytest.param(
            (SLOT, SECOND),
            3,
            "третьего урока этого предмета в этот день по расписанию нет, есть только второй и "
            "четвёртый;",
            id="between-two-lessons",
        ),
        pytest.param(
            (SLOT,), 11, "11-го урока этого предмета в этот день по расписанию нет", id="slot-11"
        ),
        pytest.param(
            (),
            SLOT,
            "«5» — в этот день урока по расписанию нет; запись не принята.",
            id="no-lesson-that-day",
        ),
        pytest.param((SLOT,), SLOT, None, id="the-lesson"),
        pytest.param((SLOT, SECOND), SECOND, None, id="the-second-lesson"),
    ],
)
def test_not_a_lesson_date_checks_the_lesson_number(
    slots: tuple[int, ...], lesson_no: int, expected: str | None
) -> None:
    lessons = [x for x in LESSONS if x.day != MON12]
    lessons += [Lesson("7Б", "math", MON12, no, Q1, 3, "t1") for no in slots]
    entry = CellEntry("p1", MON12, "5", "F5", lesson_no)
    ctx = make_context(lessons=tuple(lessons), entries=(entry,))
    findings = validate(ctx, enabled={"not_a_lesson_date"})
    if expected is None:
        assert findings == []
    else:
        [finding] = findings
        assert finding.location == mark_at("p1", MON12, cell="F5")
        assert expected in finding.message


def test_two_lessons_in_a_day_keep_their_own_facts_and_findings() -> None:
    ctx = make_context(
        **TWO_ON_WED07,
        entries=(
            CellEntry("p1", WED07, "5", "E5", SLOT),
            CellEntry("p1", WED07, "4/5", "F5", SECOND),
            CellEntry("p1", MON12, "3", "G5", SECOND),  # no 2nd lesson on 12.10: not counted
        ),
    )
    assert ctx.lesson_keys[1:3] == ((WED07, SLOT), (WED07, SECOND))
    assert ctx.lessons_on(WED07) == (SLOT, SECOND)
    assert ctx.info(WED07, SLOT).work_type == "oral"
    assert ctx.info(WED07, SECOND).work_type == "Контрольная работа"
    assert [e.raw for e, _ in ctx.cells_of("p1", WED07, SECOND)] == ["4/5"]
    assert ctx.counted_marks("p1", Q1) == 3  # "5" and the double "4/5"; "3" is off the timetable

    missing = replace(TWO_ON_WED07["lesson_info"][-1], topic="")
    topics = validate(
        replace(ctx, lesson_info=(*FILLED, missing)), enabled={"lesson_missing_topic"}
    )
    assert [(f.location, f.message) for f in topics] == [
        (lesson_at(WED07, "topic", "D9"), "Урок 07.10.2026 (2): не записана тема урока.")
    ]


def test_same_mistake_in_both_lessons_of_a_day_gives_two_findings() -> None:
    """Finding identity leaves out the A1 cell, so the messages themselves must differ."""
    entries = (CellEntry("p1", WED07, "6", "E5", SLOT), CellEntry("p1", WED07, "6", "F5", SECOND))
    findings = validate(make_context(**TWO_ON_WED07, entries=entries), enabled={"invalid_value"})
    assert [f.message.split(":")[0] for f in findings] == [
        "Иванов Иван, 07.10.2026",
        "Иванов Иван, 07.10.2026 (2)",
    ]
