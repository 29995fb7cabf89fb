"""How a journal is assessed: with marks, «зачёт/незачёт», or without marks (безотметочное
обучение, grade 1 in Russian schools; regulation 3.2.4).

A school lists bands in ``school.toml`` (``[[assessment]]``: grades, optional subjects, scheme);
the first band covering a journal's grade and subject decides, else marks. A subject with
``marked = no`` in ``subjects.csv`` keeps its marks accepted but shows no average or
recommendation (as before bands existed). Pure, no I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from rules.model import MarkGrammar

PASSED, FAILED = "зач", "незач"


class Assessment(StrEnum):
    MARKS = "marks"
    PASS_FAIL = "pass_fail"  # «зачёт/незачёт»: «зач», «незач» in lesson and period cells
    NONE = "none"  # без отметок: attendance («н», «оп») and topics only


@dataclass(frozen=True, slots=True)
class AssessmentBand:
    """One ``[[assessment]]`` table: ``scheme`` for grades ``min_grade``…``max_grade`` and the
    listed subjects (empty: every subject)."""

    scheme: Assessment
    min_grade: int = 1
    max_grade: int = 11
    subjects: tuple[str, ...] = ()

    def covers(self, grade: int, subject_id: str) -> bool:
        in_band = self.min_grade <= grade <= self.max_grade
        return in_band and (not self.subjects or subject_id in self.subjects)


def assessment_for(bands: Sequence[AssessmentBand], grade: int, subject_id: str) -> Assessment:
    """The scheme of a journal: the first band covering it, else marks."""
    for band in bands:
        if band.covers(grade, subject_id):
            return band.scheme
    return Assessment.MARKS


def has_averages(scheme: Assessment, marked: bool = True) -> bool:
    """Whether a journal carries «Средний балл» and «Рекомендуемая»."""
    return scheme is Assessment.MARKS and marked


def journal_grammar(grammar: MarkGrammar, scheme: Assessment) -> MarkGrammar:
    """What a journal's cells accept: a зачёт course takes «зач» and «незач» in lesson cells and
    in the period column too; the other schemes keep the school's grammar (marks in an unmarked
    journal are refused by the ``mark_not_allowed`` rule, with a reason, not by the grammar)."""
    if scheme is not Assessment.PASS_FAIL:
        return grammar
    period = tuple(dict.fromkeys((*grammar.period_values, PASSED, FAILED)))
    return dataclasses.replace(grammar, period_values=period, lesson_codes=(PASSED, FAILED))


def refusal(scheme: Assessment, grade: int) -> str | None:
    """Why a mark is refused in a journal of ``scheme`` (Russian), or None when marks are fine."""
    if scheme is Assessment.NONE:
        return (f"в {grade} классе по этому предмету отметки не ставят (безотметочное обучение); "
                "в журнал записывают посещаемость («н», «оп») и темы уроков; запись не принята")
    if scheme is Assessment.PASS_FAIL:
        return (f"предмет оценивается «зачёт/незачёт»: пишите «{PASSED}» или «{FAILED}»; "
                "запись не принята")
    return None
