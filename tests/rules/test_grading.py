"""Averages, recommended period marks and deviations (rules/grading.py). Every expected figure below
is worked out by hand in the comment next to it."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rules
from rules.grading import (
    MarkRecord,
    Recommendation,
    average,
    deviation,
    format_average,
    recommend,
)
from rules.model import GradingPolicy, Location, Severity, WorkType

SIMPLE = GradingPolicy()
WEIGHTED = GradingPolicy(weighted=True, min_marks=2)
WORK_TYPES = {
    "control": WorkType("control", "Контрольная работа", weight=2.0),
    "answer": WorkType("answer", "Ответ на уроке", weight=1.0),
    "homework": WorkType("homework", "Домашняя работа", weight=0.5),
    "free": WorkType("free", "Без веса", weight=0.0),
}


def marks(*values: int, work_type: str | None = None) -> list[MarkRecord]:
    start = date(2026, 9, 1)
    return [MarkRecord(v, work_type, start + timedelta(days=i)) for i, v in enumerate(values)]


def typed(*pairs: tuple[int, str | None]) -> list[MarkRecord]:
    start = date(2026, 9, 1)
    return [MarkRecord(v, t, start + timedelta(days=i)) for i, (v, t) in enumerate(pairs)]


# --------------------------------------------------------------------------- averages


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ((5, 4, 4, 3), 4.0),  # 16 / 4
        ((5, 5, 4), 14 / 3),  # 4.666…
        ((2,), 2.0),
        ((), None),
    ],
)
def test_simple_average(values: tuple[int, ...], expected: float | None) -> None:
    assert average(marks(*values), SIMPLE) == (pytest.approx(expected) if expected else None)


def test_double_mark_counts_as_two_marks() -> None:
    day = date(2026, 9, 8)
    dictation = [MarkRecord(5, None, day), MarkRecord(4, None, day)]  # "5/4"
    # (5 + 4 + 3) / 3 = 4.0; with 3 marks the minimum of 3 is met
    rec = recommend([*dictation, MarkRecord(3, None, day + timedelta(1))], SIMPLE)
    assert (rec.count, rec.average, rec.value) == (3, 4.0, "4")


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        # МЭШ example: control 5 (weight 2), answer 3 (weight 1) → (10 + 3) / 3 = 4.333…
        (typed((5, "control"), (3, "answer")), 13 / 3),
        # control 4 (2), homework 5 (0.5), unknown code 3 (1), no type 5 (1):
        # (8 + 2.5 + 3 + 5) / (2 + 0.5 + 1 + 1) = 18.5 / 4.5 = 4.111…
        (typed((4, "control"), (5, "homework"), (3, "quiz"), (5, None)), 18.5 / 4.5),
        # a weight of 0 drops the mark: (2·2) / 2 = 2
        (typed((2, "control"), (5, "free")), 2.0),
        (typed((5, "free")), None),  # all weights 0
    ],
)
def test_weighted_average(records: list[MarkRecord], expected: float | None) -> None:
    result = average(records, WEIGHTED, WORK_TYPES)
    assert result == (pytest.approx(expected) if expected is not None else None)


def test_weighted_without_work_types_is_the_simple_mean() -> None:
    # (5 + 3) / 2 = 4
    assert average(typed((5, "control"), (3, "answer")), WEIGHTED) == 4.0


def test_simple_policy_ignores_weights() -> None:
    assert average(typed((5, "control"), (3, "answer")), SIMPLE, WORK_TYPES) == 4.0


# --------------------------------------------------------------------------- recommendation


@pytest.mark.parametrize(
    ("fives", "fours", "threes", "twos", "expected"),
    [
        (13, 7, 0, 0, "5"),  # (65 + 28) / 20 = 4.65
        (16, 9, 0, 0, "4"),  # (80 + 36) / 25 = 4.64
        (0, 13, 7, 0, "4"),  # (52 + 21) / 20 = 3.65
        (0, 16, 9, 0, "3"),  # (64 + 27) / 25 = 3.64
        (0, 0, 13, 7, "3"),  # (39 + 14) / 20 = 2.65
        (0, 0, 16, 9, "2"),  # (48 + 18) / 25 = 2.64
        (3, 0, 0, 0, "5"),
        (0, 0, 0, 3, "2"),
    ],
)
def test_thresholds_at_each_boundary(
    fives: int, fours: int, threes: int, twos: int, expected: str
) -> None:
    values = [5] * fives + [4] * fours + [3] * threes + [2] * twos
    assert recommend(marks(*values), SIMPLE).value == expected


def test_weighted_threshold_is_met_exactly_despite_float_weights() -> None:
    # 3 × 0.01 + 4 × 0.19 + 5 × 0.4 = 0.03 + 0.76 + 2.0 = 2.79 over Σw = 0.6 → exactly 4.65 → 5
    # (naive float arithmetic gives 4.6499999999999995 and would recommend 4)
    types = {c: WorkType(c, c, weight=w) for c, w in (("a", 0.01), ("b", 0.19), ("c", 0.4))}
    rec = recommend(typed((3, "a"), (4, "b"), (5, "c")), WEIGHTED, types)
    assert rec.value == "5"
    assert "4,65 ≥ 4,65 → 5" in rec.rule


def test_custom_thresholds() -> None:
    policy = GradingPolicy(thresholds=(2.5, 3.5, 4.5))
    # (5 + 4) / 2 = 4.5 meets a 4.5 threshold; with the defaults it is a 4
    assert recommend(marks(5, 4, 5, 4), policy).value == "5"
    assert recommend(marks(5, 4, 5, 4), SIMPLE).value == "4"


@pytest.mark.parametrize(
    ("values", "rule"),
    [
        ((5, 5, 4, 5, 5, 4), "средний балл 4,67 ≥ 4,65 → 5; отметок: 6 (минимум 3): 5 5 4 5 5 4"),
        ((5, 4, 4, 3), "средний балл 3,65 ≤ 4 < 4,65 → 4; отметок: 4 (минимум 3): 5 4 4 3"),
        ((3, 3, 4), "средний балл 2,65 ≤ 3,33 < 3,65 → 3; отметок: 3 (минимум 3): 3 3 4"),
        ((2, 3, 2), "средний балл 2,33 < 2,65 → 2; отметок: 3 (минимум 3): 2 3 2"),
        ((5, 5), "отметок: 2 (минимум 3) — меньше минимума → н/а; средний балл 5: 5 5"),
        ((), "отметок: 0 (минимум 3) — меньше минимума → н/а"),
    ],
)
def test_explanation_states_rule_and_inputs(values: tuple[int, ...], rule: str) -> None:
    assert recommend(marks(*values), SIMPLE).rule == rule


def test_explanation_never_rounds_across_a_threshold() -> None:
    # 11 × 5 + 6 × 4 = 79 over 17 marks = 4.6470…: shown as 4,647, not 4,65
    rec = recommend(marks(*([5] * 11 + [4] * 6)), SIMPLE)
    assert rec.value == "4"
    assert rec.rule.startswith("средний балл 3,65 ≤ 4,647 < 4,65 → 4; отметок: 17")


def test_weighted_explanation_shows_weights() -> None:
    rec = recommend(typed((5, "control"), (3, "answer"), (5, "homework")), WEIGHTED, WORK_TYPES)
    # (10 + 3 + 2.5) / 3.5 = 4.428… → 4
    assert rec.value == "4"
    assert rec.average == pytest.approx(15.5 / 3.5)
    assert rec.rule == (
        "средневзвешенный балл 3,65 ≤ 4,43 < 4,65 → 4; отметок: 3 (минимум 2): 5×2 3×1 5×0,5"
    )


@pytest.mark.parametrize(
    ("value", "thresholds", "shown"),
    [
        (Fraction(14, 3), (), "4,67"),  # 4.666… rounds half up to 2 decimals
        (Fraction(4), (), "4"),  # no ",00"
        (Fraction(9, 2), (), "4,5"),  # trailing zero dropped
        (Fraction(4645, 1000), (), "4,65"),  # exactly half: up
        (Fraction(4647, 1000), (Fraction("4.65"),), "4,647"),  # 4,65 would meet the threshold
        (Fraction(4647, 1000), (Fraction("4.6"),), "4,65"),  # no threshold in the way
        (Fraction(0), (), "0"),
    ],
)
def test_format_average(value: Fraction, thresholds: tuple[Fraction, ...], shown: str) -> None:
    assert format_average(value, *thresholds) == shown
    assert rules.format_average is format_average


def test_marks_are_listed_by_date() -> None:
    later, earlier = MarkRecord(3, None, date(2026, 9, 10)), MarkRecord(5, None, date(2026, 9, 1))
    assert recommend([later, earlier, earlier], SIMPLE).rule.endswith(": 5 5 3")


def test_below_minimum_is_not_attested() -> None:
    rec = recommend(marks(5, 5), SIMPLE)
    assert (rec.value, rec.average, rec.count, rec.max_mark) == ("н/а", 5.0, 2, 5)
    assert recommend(marks(5, 5), GradingPolicy(min_marks=2)).value == "5"


def test_no_marks() -> None:
    assert recommend([], SIMPLE) == Recommendation(
        "н/а", None, "отметок: 0 (минимум 3) — меньше минимума → н/а", 0, None)


def test_all_weights_zero_is_not_attested() -> None:
    rec = recommend(typed((5, "free"), (4, "free")), WEIGHTED, WORK_TYPES)
    assert (rec.value, rec.average) == ("н/а", None)
    assert "нет отметок с ненулевым весом" in rec.rule


# --------------------------------------------------------------------------- deviations

REC_4 = recommend(marks(5, 4, 4, 3), SIMPLE)  # 4.0 → "4", highest mark 5
REC_ALL_4 = recommend(marks(4, 4, 4), SIMPLE)  # "4", highest mark 4
REC_NA = recommend(marks(5, 5), SIMPLE)  # 2 marks < 3 → "н/а"


@pytest.mark.parametrize(
    ("period_mark", "rec", "policy", "message"),
    [
        ("4", REC_4, SIMPLE, None),
        (" 4 ", REC_4, SIMPLE, None),
        ("5", REC_4, SIMPLE, "отметка за период 5 отличается от рекомендуемой 4 на 1"),
        ("3", REC_4, SIMPLE, "отметка за период 3 отличается от рекомендуемой 4 на 1"),
        ("5", REC_4, GradingPolicy(deviation=2), None),
        ("2", REC_4, GradingPolicy(deviation=2),
         "отметка за период 2 отличается от рекомендуемой 4 на 2"),
        ("5", REC_ALL_4, GradingPolicy(deviation=2),
         "отметка за период 5 выше наибольшей текущей отметки 4"),
        ("5", REC_ALL_4, SIMPLE, "отметка за период 5 отличается от рекомендуемой 4 на 1 "
         "и выше наибольшей текущей отметки 4"),
        ("5", REC_ALL_4, GradingPolicy(deviation=0),
         "отметка за период 5 выше наибольшей текущей отметки 4"),
        ("5", REC_NA, SIMPLE, "выставлена 5 при недостаточном числе отметок: 2 (минимум 3)"),
        ("н/а", REC_4, SIMPLE, "выставлено «н/а», хотя отметок 4 и рекомендуется 4"),
        ("н/а", REC_NA, SIMPLE, None),
        ("осв", REC_4, SIMPLE, None),
        ("зач", REC_4, SIMPLE, None),
        ("", REC_4, SIMPLE, None),
    ],
)
def test_deviation(
    period_mark: str, rec: Recommendation, policy: GradingPolicy, message: str | None
) -> None:
    found = deviation(period_mark, rec, policy)
    assert (found.message if found else None) == message


def test_deviation_as_finding() -> None:
    found = deviation("5", REC_4, SIMPLE)
    assert found is not None
    where = Location(journal="7Б/math", pupil_id="p1", field="period_mark")
    finding = found.finding(where)
    assert (finding.rule, finding.severity, finding.location) == (
        "period_mark_deviation", Severity.WARNING, where)
    assert finding.message == found.message


# --------------------------------------------------------------------------- properties

VALUES = st.lists(st.integers(2, 5), min_size=3, max_size=30)


@settings(max_examples=200, deadline=None)
@given(VALUES, st.integers(2, 5))
def test_recommendation_lies_between_the_marks_and_a_better_mark_never_lowers_it(
    values: list[int], extra: int
) -> None:
    rec = recommend(marks(*values), SIMPLE)
    # thresholds k − 0.35 ≤ k: an average within [min, max] maps into [min, max]
    assert min(values) <= int(rec.value) <= max(values)
    better = recommend(marks(*values, 5), SIMPLE)
    assert int(better.value) >= int(rec.value)
    assert rec.max_mark == max(values) and rec.count == len(values)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(2, 5), st.sampled_from(["control", "answer", "homework",
                                                                "quiz", None])), min_size=1,
                max_size=20))
def test_weighted_average_lies_between_the_marks(pairs: list[tuple[int, str | None]]) -> None:
    result = average(typed(*pairs), WEIGHTED, WORK_TYPES)
    assert result is not None
    values = [v for v, _ in pairs]
    assert min(values) - 1e-9 <= result <= max(values) + 1e-9
