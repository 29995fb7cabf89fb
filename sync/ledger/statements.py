"""The statements a cycle runs for every journal it reads, built once with bound parameters.

SQLAlchemy takes about 50 µs to build an expression and compute its cache key, more than SQLite
takes to run a small query; a read journal runs some 30 of them. A statement built here is
executed with its parameters (``execute(LESSON_STATES, {"journal": key})``): the compiled form
and the cache key are reused. A day bound with no lower limit passes :data:`NO_DAY`.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BindParameter, bindparam, select

from sync.ledger import schema as t

NO_DAY = date.min  # "from the first day on" for the ``since`` parameters

_e, _les, _f = t.entries.c, t.lessons.c, t.findings.c
_JOURNAL: BindParameter[str] = bindparam("journal")

STATE_VALUE = select(t.state.c.value).where(t.state.c.key == bindparam("key"))

TAB_HASH = select(t.file_tabs.c.content_hash).where(
    t.file_tabs.c.file_id == bindparam("file_id"), t.file_tabs.c.tab == bindparam("tab"))

LOCKED_PERIODS = select(t.period_locks.c.period).where(t.period_locks.c.journal == _JOURNAL)

LESSON_STATES = select(_les.day, _les.lesson_no, _les.work_type, _les.info_locked_at.is_not(None),
                       _les.marks_locked_at.is_not(None)).where(_les.journal == _JOURNAL)

# ``locked``: the locked mark cells and the open ones holding a value, from day ``since`` on
MARK_CELLS = select(_e.pupil_id, _e.day, _e.lesson_no, _e.raw, _e.value, _e.kind,
                    _e.locked_at.is_not(None)).where(
    _e.journal == _JOURNAL, _e.locked_at.is_not(None) | (_e.value != ""),
    _e.day >= bindparam("since"))
LOCKED_LESSONS = select(
    _les.day, _les.lesson_no, _les.period, _les.topic, _les.classwork, _les.work_type,
    _les.homework, _les.marks_locked_at.is_not(None), _les.info_locked_at.is_not(None)).where(
    _les.journal == _JOURNAL, _les.marks_locked_at.is_not(None) | _les.info_locked_at.is_not(None))
LOCKED_PERIOD_MARKS = select(
    t.period_marks.c.pupil_id, t.period_marks.c.period, t.period_marks.c.raw,
    t.period_marks.c.value, t.period_marks.c.kind).where(
    t.period_marks.c.journal == _JOURNAL, t.period_marks.c.locked_at.is_not(None))

ENTRY_VALUES = select(_e.pupil_id, _e.day, _e.lesson_no, _e.value).where(
    _e.journal == _JOURNAL, _e.value != "", _e.day >= bindparam("since")).order_by(
    _e.day, _e.lesson_no, _e.pupil_id)

# ``accept_entries``: the cells of the offered days, and which of their lessons locked the marks
_DAYS: BindParameter[list[date]] = bindparam("days", expanding=True)
DAY_ENTRIES = select(_e.pupil_id, _e.day, _e.lesson_no, _e.raw, _e.value, _e.kind,
                     _e.locked_at).where(_e.journal == _JOURNAL, _e.day.in_(_DAYS))
DAY_LOCKED_LESSONS = select(_les.day, _les.lesson_no).where(
    _les.journal == _JOURNAL, _les.day.in_(_DAYS), _les.marks_locked_at.is_not(None))

OPEN_FINDINGS = select(t.findings).where(_f.journal == _JOURNAL, _f.resolved.is_(None)).order_by(
    _f.opened, _f.id)
OPEN_FINDING_ROWS = select(_f.id, _f.journal, _f.rule, _f.severity, _f.pupil_id, _f.day, _f.field,
                           _f.cell, _f.message).where(
    _f.journal == _JOURNAL, _f.resolved.is_(None)).order_by(_f.opened, _f.id)
OPEN_FINDING_KEYS = select(_f.id, _f.fingerprint, _f.cell, _f.severity, _f.rule, _f.day).where(
    _f.journal == _JOURNAL, _f.resolved.is_(None))

OPEN_LATE_ENTRIES = select(t.late_entries).where(
    t.late_entries.c.journal == _JOURNAL, t.late_entries.c.resolved_at.is_(None)).order_by(
    t.late_entries.c.detected_at, t.late_entries.c.id)

UNREVERTED_VIOLATIONS = select(t.violations).where(
    t.violations.c.journal == _JOURNAL, t.violations.c.reverted_at.is_(None)).order_by(
    t.violations.c.detected_at, t.violations.c.id)
