"""The calendar-thematic plan (КТП): which planned topic each lesson of the year has."""

from __future__ import annotations

from collections.abc import Iterable

from rules.model import PlanItem


def plan_topics(items: Iterable[PlanItem]) -> dict[int, str]:
    """Lesson number within the year (1-based) → planned topic: an item numbered 4 with 3 hours
    covers lessons 4, 5 and 6; where items overlap, the earlier one in ``items`` wins."""
    by_number: dict[int, str] = {}
    for item in items:
        for n in range(item.number, item.number + max(item.hours, 1)):
            by_number.setdefault(n, item.topic)
    return by_number
