"""``ValidationContext.journal_start``: lessons before a school's go-live day were kept on paper.

The journal-keeping rules leave those lessons alone; the rules on what is typed check every cell.
Built on the journal of ``test_validation`` (lessons 05, 07, 12, 14 and 19.10; today 14.10).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from rules.validation import validate
from tests.rules.test_validation import (
    IVANOV,
    MON05,
    MON12,
    MON19,
    OPEN_WINDOW,
    SLOT,
    SUN11,
    WED07,
    info,
    make_context,
    marks,
    period_mark,
)

GO_LIVE = MON12  # the school keeps the journal here from 12.10; 05.10 and 07.10 were on paper

Defect = Callable[[date], dict[str, Any]]

# a journal-keeping rule and the context overrides that give it one finding about the lesson ``day``
KEEPING: dict[str, Defect] = {
    "lesson_missing_topic": lambda day: {"lesson_info": info(day, topic="")},
    "lesson_missing_work_type": lambda day: {"lesson_info": info(day, work_type=" ")},
    "lesson_missing_homework": lambda day: {"lesson_info": info(day, homework="")},
    "unknown_work_type": lambda day: {"lesson_info": info(day, work_type="Диктант")},
    "control_work_without_marks": lambda day: {
        "lesson_info": info(day, work_type="Контрольная работа"),
        "pupils": (IVANOV,),
        "grace_until": {(day, SLOT): day},  # graced until the lesson day: over by 14.10
    },
}


@pytest.mark.parametrize("rule_id", list(KEEPING))
@pytest.mark.parametrize(
    ("journal_start", "day", "fires"),
    [
        pytest.param(GO_LIVE, WED07, False, id="lesson-before-go-live"),
        pytest.param(GO_LIVE, MON05, False, id="first-lesson-of-the-year-before-go-live"),
        pytest.param(GO_LIVE, MON12, True, id="lesson-on-the-go-live-day"),
        pytest.param(WED07, WED07, True, id="go-live-on-that-lesson-day"),
        pytest.param(None, WED07, True, id="kept-here-from-the-start"),
    ],
)
def test_journal_keeping_rules_skip_lessons_before_journal_start(
    rule_id: str, journal_start: date | None, day: date, fires: bool
) -> None:
    ctx = make_context(journal_start=journal_start, **KEEPING[rule_id](day))
    findings = validate(ctx, enabled={rule_id})
    assert [f.location.day for f in findings] == ([day] if fires else [])


TYPED_BEFORE_GO_LIVE: dict[str, dict[str, Any]] = {
    "invalid_value": {"entries": marks(("p1", WED07, "6"))},
    "mark_with_absence": {"entries": marks(("p1", MON05, "н5"))},
    "not_a_lesson_date": {"entries": marks(("p1", SUN11, "5"))},
    "not_enrolled": {"entries": marks(("p2", WED07, "4"))},  # Петрова is enrolled from 08.10
}


@pytest.mark.parametrize("rule_id", list(TYPED_BEFORE_GO_LIVE))
def test_rules_on_what_is_typed_check_cells_before_journal_start(rule_id: str) -> None:
    overrides = TYPED_BEFORE_GO_LIVE[rule_id]
    ctx = make_context(journal_start=GO_LIVE, **overrides)
    [finding] = validate(ctx, enabled={rule_id})
    assert finding.location.day == overrides["entries"][0].day < GO_LIVE


def test_a_future_entry_is_refused_even_before_a_go_live_still_to_come() -> None:
    ctx = make_context(journal_start=date(2026, 10, 26), entries=marks(("p1", MON19, "5")))
    [finding] = validate(ctx, enabled={"future_entry"})
    assert finding.location.day == MON19


def test_a_period_mark_is_checked_in_a_period_partly_on_paper() -> None:
    ctx = make_context(journal_start=GO_LIVE, period_entries=period_mark("н"))
    assert [f.rule for f in validate(ctx, enabled={"period_mark_invalid"})] == [
        "period_mark_invalid"
    ]


@pytest.mark.parametrize(
    ("journal_start", "fires"),
    [
        pytest.param(None, True, id="kept-here-from-the-start"),
        pytest.param(date(2026, 9, 1), True, id="go-live-before-the-period"),
        pytest.param(MON05, True, id="go-live-on-the-periods-first-lesson"),
        pytest.param(WED07, False, id="one-lesson-on-paper"),
        pytest.param(GO_LIVE, False, id="two-lessons-on-paper"),
    ],
)
def test_too_few_marks_skips_a_period_with_lessons_before_journal_start(
    journal_start: date | None, fires: bool
) -> None:
    """Ivanov has one mark (12.10) in the electronic journal of a period with its window open."""
    ctx = make_context(
        journal_start=journal_start,
        entries=marks(("p1", MON12, "5")),
        period_windows=OPEN_WINDOW,
        pupils=(IVANOV,),
    )
    findings = validate(ctx, enabled={"too_few_marks"})
    assert [f.location.pupil_id for f in findings] == (["p1"] if fires else [])
    if fires:
        assert "за 1 четверть 1 отметка" in findings[0].message


def test_context_tells_lessons_kept_here_from_lessons_on_paper() -> None:
    ctx = make_context(journal_start=GO_LIVE)
    assert [ctx.in_journal(d) for d in (MON05, WED07, MON12, MON19)] == [False, False, True, True]
    assert ctx.partly_on_paper("1 четверть") and not ctx.partly_on_paper("2 четверть")
    assert not make_context().partly_on_paper("1 четверть")
    assert make_context().in_journal(MON05)
