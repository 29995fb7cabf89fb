"""Open cells of a journal's read offered to the ledger: marks and period marks as the rules let
them through, each attributed to the teacher of its day (``sync.jobs.substitutions``). Invalid
text in a cell that locks in the same transaction is kept as typed (``INVALID_KIND``)."""

from __future__ import annotations

from collections.abc import Container, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from config.school import School
from rules.assessment import journal_grammar
from rules.grammar import ValueKind, format_value, parse_cell
from sync.jobs.journal_cells import OpenCell
from sync.jobs.substitutions import attributed_teacher
from sync.layout.common import cell_text
from sync.layout.journal.map import LessonKey
from sync.ledger.ledger import Tx
from sync.ledger.model import INVALID_KIND, Change, EntryInput, PeriodMarkInput


class JournalKey(Protocol):
    """What acceptance needs of a journal (``journal_sync.JournalRef`` is one)."""

    @property
    def key(self) -> str: ...
    @property
    def class_id(self) -> str: ...
    @property
    def subject_id(self) -> str: ...


def _raw_text(raw: object) -> str:
    return raw if isinstance(raw, str) else cell_text(raw)


def accept_marks(tx: Tx, school: School, ref: JournalKey, cells: list[OpenCell], bad: set[str],
                 now: datetime, locking: set[LessonKey], sealed: set[str],
                 held: Container[tuple[str, date, int]]) -> int:
    """Offer the open mark cells; a cell of a lesson in ``locking`` that cannot be accepted is
    kept as invalid text (its A1 ref added to ``sealed``). ``held``: the open cells the ledger
    holds a value for (``LockedView.held``). Returns how many entries changed."""
    grammar = journal_grammar(school.policies.grammar,
                              school.assessment_of(ref.class_id, ref.subject_id))
    by_teacher: dict[str, list[EntryInput]] = {}
    for c in cells:
        if c.day is None or c.lesson_no is None or c.period is None:
            continue
        item = _entry(c, grammar, bad, (c.pupil_id, c.day, c.lesson_no) in held,
                      locking=(c.day, c.lesson_no) in locking)
        if item is None:
            continue
        if item[2] == INVALID_KIND:
            sealed.add(c.cell)
        teacher = attributed_teacher(school, ref.class_id, ref.subject_id, c.day)
        by_teacher.setdefault(teacher, []).append(EntryInput(c.pupil_id, c.day, c.lesson_no, *item))
    changed = 0
    for teacher, items in by_teacher.items():
        changes = tx.accept_entries(ref.key, items, now, accepted_by=teacher)
        changed += _accepted(items, changes)
    return changed


def _accepted(items: Sequence[EntryInput | PeriodMarkInput], changes: Sequence[Change]) -> int:
    """How many offered values the ledger took (invalid text kept at a lock is not accepted)."""
    return sum(ch.changed and i.kind != INVALID_KIND for i, ch in zip(items, changes, strict=True))


def _entry(c: OpenCell, grammar: Any, bad: set[str], held: bool, *, period: bool = False,
           locking: bool = False) -> tuple[str, str, str] | None:
    """(raw, value, kind) to offer for an open cell, or None (invalid, or empty and never held).

    ``locking``: the cell locks in this transaction, so invalid text is offered as it stands
    (``INVALID_KIND``, the text as the comparison shows it) instead of None.
    """
    if c.raw is None:
        return ("", "", ValueKind.EMPTY.value) if held else None
    parsed = None if c.cell in bad else parse_cell(c.raw, grammar, period=period)
    if parsed is not None and parsed.ok and parsed.value is not None:
        return _raw_text(c.raw), format_value(parsed.value), parsed.value.kind.value
    text = cell_text(c.raw)
    return (text, "", INVALID_KIND) if locking and text else None


def accept_period_marks(tx: Tx, school: School, ref: JournalKey, cells: list[OpenCell],
                        bad: set[str], now: datetime, locking: set[str], sealed: set[str]) -> int:
    """Offer the open period-mark cells, as :func:`accept_marks` does for lessons."""
    grammar = journal_grammar(school.policies.grammar,
                              school.assessment_of(ref.class_id, ref.subject_id))
    held = {(p.pupil_id, p.period) for p in tx.period_marks(ref.key)}
    items = []
    for c in cells:
        if c.period is None:
            continue
        item = _entry(c, grammar, bad, (c.pupil_id, c.period) in held, period=True,
                      locking=c.period in locking)
        if item is None:
            continue
        if item[2] == INVALID_KIND:
            sealed.add(c.cell)
        items.append(PeriodMarkInput(c.pupil_id, c.period, *item))
    if not items:
        return 0
    teacher = attributed_teacher(school, ref.class_id, ref.subject_id, now.date())
    return _accepted(items, tx.accept_period_marks(ref.key, items, now, accepted_by=teacher))
