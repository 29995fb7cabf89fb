"""Averages and recommended period marks (domain.md §2.4), with the explanation a teacher sees.

Arithmetic is exact (fractions over the decimal values written in the config), so an average of
exactly 4.65 meets a 4.65 threshold however the weights add up; averages are rounded only for
display, with a Russian decimal comma, and never so that the shown figure contradicts the rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from rules.model import Finding, GradingPolicy, Location, Severity, WorkType

NOT_ATTESTED = "н/а"
_NOT_COMPARABLE = frozenset({"", "осв", "зач"})  # exempt or pass/fail: no recommendation applies


@dataclass(frozen=True, slots=True)
class MarkRecord:
    """One current mark of a pupil; a double mark "5/4" is passed as two records."""

    value: int
    work_type: str | None
    day: date


@dataclass(frozen=True, slots=True)
class Recommendation:
    """The recommended period mark ("5".."2" or "н/а"), the average it came from and the rule with
    its inputs, in Russian. ``count`` and ``max_mark`` describe the marks considered."""

    value: str
    average: float | None
    rule: str
    count: int = 0
    max_mark: int | None = None


@dataclass(frozen=True, slots=True)
class Deviation:
    """A period mark departing from the recommendation; ``message`` (Russian) is for the deputy."""

    period_mark: str
    recommended: str
    message: str
    rule: str = "period_mark_deviation"

    def finding(self, location: Location, severity: Severity = Severity.WARNING) -> Finding:
        return Finding(self.rule, severity, location, self.message)


def average(
    marks: Sequence[MarkRecord],
    policy: GradingPolicy,
    work_types: Mapping[str, WorkType] | None = None,
) -> float | None:
    """Simple mean, or Σ(mark·weight)/Σweight when ``policy.weighted`` (a mark without a work type
    or with an unknown one weighs 1). None without marks (or when all weights are 0)."""
    exact = _average(marks, policy, work_types)
    return None if exact is None else float(exact)


def recommend(
    marks: Sequence[MarkRecord],
    policy: GradingPolicy,
    work_types: Mapping[str, WorkType] | None = None,
) -> Recommendation:
    """The period mark the thresholds give for these marks, or "н/а" below ``policy.min_marks``.

    Example: marks 5, 5, 4, 5, 5, 4 → «средний балл 4,67 ≥ 4,65 → 5; отметок: 6 (минимум 3): …».
    """
    ordered = sorted(marks, key=lambda m: m.day)
    exact = _average(ordered, policy, work_types)
    count = len(ordered)
    top = max((m.value for m in ordered), default=None)
    listed = _listing(ordered, policy, work_types)
    counted = f"отметок: {count} (минимум {policy.min_marks})"
    label = "средневзвешенный балл" if policy.weighted else "средний балл"
    mean = None if exact is None else float(exact)
    if count < policy.min_marks or exact is None:
        why = "нет отметок с ненулевым весом" if count and exact is None else "меньше минимума"
        shown = "" if exact is None else f"; {label} {format_average(exact)}"
        rule = f"{counted} — {why} → {NOT_ATTESTED}{shown}{listed}"
        return Recommendation(NOT_ATTESTED, mean, rule, count, top)
    t3, t4, t5 = (_exact(t) for t in policy.thresholds)
    show = format_average
    if exact >= t5:
        value, relation = "5", f"{show(exact, t5)} ≥ {show(t5)}"
    elif exact >= t4:
        value, relation = "4", f"{show(t4)} ≤ {show(exact, t4, t5)} < {show(t5)}"
    elif exact >= t3:
        value, relation = "3", f"{show(t3)} ≤ {show(exact, t3, t4)} < {show(t4)}"
    else:
        value, relation = "2", f"{show(exact, t3)} < {show(t3)}"
    rule = f"{label} {relation} → {value}; {counted}{listed}"
    return Recommendation(value, mean, rule, count, top)


def deviation(period_mark: str, rec: Recommendation, policy: GradingPolicy) -> Deviation | None:
    """Flags a period mark ``policy.deviation`` or more away from the recommendation, above the
    pupil's highest current mark, given without enough marks, or "н/а" despite enough marks.
    "осв", "зач" and an empty cell are not compared; ``policy.deviation`` < 1 turns off the distance
    check."""
    mark = period_mark.strip()
    if mark in _NOT_COMPARABLE:
        return None
    if mark == NOT_ATTESTED:
        if rec.value == NOT_ATTESTED:
            return None
        text = f"выставлено «{NOT_ATTESTED}», хотя отметок {rec.count} и рекомендуется {rec.value}"
        return Deviation(mark, rec.value, text)
    if not (mark.isdigit() and len(mark) == 1):
        return None  # not a period mark at all: the grammar rules report it
    value = int(mark)
    if rec.value == NOT_ATTESTED:
        text = (
            f"выставлена {value} при недостаточном числе отметок: {rec.count} "
            f"(минимум {policy.min_marks})"
        )
        return Deviation(mark, rec.value, text)
    reasons = []
    distance = abs(value - int(rec.value))
    if policy.deviation >= 1 and distance >= policy.deviation:
        reasons.append(f"отличается от рекомендуемой {rec.value} на {distance}")
    if rec.max_mark is not None and value > rec.max_mark:
        reasons.append(f"выше наибольшей текущей отметки {rec.max_mark}")
    if not reasons:
        return None
    return Deviation(mark, rec.value, f"отметка за период {value} " + " и ".join(reasons))


def format_average(value: Fraction, *thresholds: Fraction) -> str:
    """A non-negative ``value`` (an average, a threshold, a weight) as the service shows it.

    Russian decimal comma, as few decimals as it needs (at most 2, rounded half up), or more when 2
    would misstate its relation to one of ``thresholds``: 4,67; 4 (not 4,00); 4,647 against a 4,65
    threshold (not 4,65, which would meet it). Pass the grading thresholds as exact fractions,
    ``Fraction(repr(t))``, so 4.65 means the decimal 4.65.

    Example: ``format_average(Fraction(4647, 1000), Fraction("4.65"))`` → "4,647".
    """
    for digits in range(2, 9):
        scale = 10**digits
        rounded = Fraction((value * scale * 2 + 1) // 2, scale)  # half up
        if all((rounded >= t) == (value >= t) for t in thresholds):
            break
    text = f"{rounded.numerator * 10**digits // rounded.denominator:0{digits + 1}d}"
    whole, frac = text[:-digits], text[-digits:].rstrip("0")
    return f"{whole},{frac}" if frac else whole


# --------------------------------------------------------------------------- internals


def _exact(number: float) -> Fraction:
    """The decimal a person wrote (4.65, not the binary float nearest to it) as a fraction."""
    return Fraction(repr(number))


def _weight(mark: MarkRecord, work_types: Mapping[str, WorkType] | None) -> Fraction:
    found = work_types.get(mark.work_type) if work_types and mark.work_type else None
    return _exact(found.weight) if found else Fraction(1)


def _average(
    marks: Sequence[MarkRecord],
    policy: GradingPolicy,
    work_types: Mapping[str, WorkType] | None,
) -> Fraction | None:
    if not marks:
        return None
    if not policy.weighted:
        return Fraction(sum(m.value for m in marks), len(marks))
    weights = [_weight(m, work_types) for m in marks]
    total = sum(weights, Fraction(0))
    if total == 0:
        return None
    return sum((m.value * w for m, w in zip(marks, weights, strict=True)), Fraction(0)) / total


def _listing(
    marks: Sequence[MarkRecord],
    policy: GradingPolicy,
    work_types: Mapping[str, WorkType] | None,
) -> str:
    if not marks:
        return ""
    if not policy.weighted:
        return ": " + " ".join(str(m.value) for m in marks)
    return ": " + " ".join(f"{m.value}×{format_average(_weight(m, work_types))}" for m in marks)
