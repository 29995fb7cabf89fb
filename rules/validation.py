"""The rule registry and the runner: ``validate(ctx)`` applies every enabled rule to one journal.

Rules are pure functions (``rules.checks_entries``, ``rules.checks_lessons``) registered here in a
fixed order, so findings come out in a stable order; config may switch rules off by id.

Example::

    findings = validate(ctx, enabled={"invalid_value", "future_entry"})
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from types import MappingProxyType

from rules import checks_entries, checks_lessons
from rules.context import (
    CellEntry,
    EntryField,
    LessonInfo,
    PeriodEntry,
    PeriodWindow,
    Rule,
    ValidationContext,
    rule,
)
from rules.model import Finding

__all__ = [
    "RULES",
    "CellEntry",
    "EntryField",
    "LessonInfo",
    "PeriodEntry",
    "PeriodWindow",
    "Rule",
    "ValidationContext",
    "build_registry",
    "rule",
    "validate",
]


def build_registry(rules: Iterable[Rule]) -> Mapping[str, Rule]:
    """Read-only id → rule mapping in the given order; a repeated id is a programming error."""
    registry: dict[str, Rule] = {}
    for r in rules:
        if r.id in registry:
            raise ValueError(f"duplicate validation rule id: {r.id}")
        registry[r.id] = r
    return MappingProxyType(registry)


RULES: Mapping[str, Rule] = build_registry((*checks_entries.RULES, *checks_lessons.RULES))


def validate(
    ctx: ValidationContext,
    *,
    enabled: Collection[str] | None = None,
    rules: Mapping[str, Rule] = RULES,
) -> list[Finding]:
    """Findings of all rules (or only the ``enabled`` ids), rule by rule in registry order.

    An unknown id in ``enabled`` raises ``ValueError``: config checks rule names against ``RULES``,
    so reaching here with one is a bug, not a silently disabled rule.
    """
    if enabled is not None:
        unknown = sorted(set(enabled) - rules.keys())
        if unknown:
            raise ValueError(f"unknown validation rule ids: {', '.join(unknown)}")
    findings: list[Finding] = []
    for rule_id, r in rules.items():
        if enabled is None or rule_id in enabled:
            findings.extend(r.run(ctx))
    return findings
