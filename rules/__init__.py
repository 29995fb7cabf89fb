"""Pure domain core of ejournal: stdlib only, no I/O, no clock (pass ``today``/``now`` in).

Modules, one concept each: ``model`` (school, calendar and policy objects), ``errors`` (the error
tree), ``grammar`` (what a mark cell may hold), ``calendar`` (school days and lesson dates), ``locks``
(when a cell stops accepting edits), ``context``/``validation``/``checks_*`` (named validation rules),
``grading`` (averages, recommended period marks), ``stats`` (class, subject and school statistics),
``plan`` (the КТП's topic of each lesson);
``diary_types``/``diary`` (one pupil's diary projected from a plain view of that pupil's data).
"""

from rules.calendar import (
    ChangeProblem,
    all_lessons,
    check_changes,
    is_school_day,
    lessons,
    period_of,
    school_days,
    week_of,
)
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
from rules.grading import (
    NOT_ATTESTED,
    Deviation,
    MarkRecord,
    Recommendation,
    average,
    deviation,
    format_average,
    recommend,
)
from rules.grammar import (
    CellValue,
    Parsed,
    Refusal,
    ValueKind,
    allowed_text,
    format_value,
    parse_cell,
)
from rules.locks import LockState, lock_state, lock_window, next_change, open_lessons
from rules.stats import (
    AttendanceSummary,
    ClassSummary,
    LessonAttendance,
    PupilMark,
    PupilMarks,
    SubjectStats,
    attendance_summary,
    class_summary,
    subject_stats,
    total,
    total_classes,
)
from rules.validation import RULES, validate

__all__ = [
    "NOT_ATTESTED",
    "RULES",
    "AttendanceSummary",
    "CellEntry",
    "CellValue",
    "ChangeProblem",
    "ClassSummary",
    "Deviation",
    "EntryField",
    "LessonAttendance",
    "LessonInfo",
    "LockState",
    "MarkRecord",
    "Parsed",
    "PeriodEntry",
    "PeriodWindow",
    "PupilMark",
    "PupilMarks",
    "Recommendation",
    "Refusal",
    "Rule",
    "SubjectStats",
    "ValidationContext",
    "ValueKind",
    "all_lessons",
    "allowed_text",
    "attendance_summary",
    "average",
    "check_changes",
    "class_summary",
    "deviation",
    "format_average",
    "format_value",
    "is_school_day",
    "lessons",
    "lock_state",
    "lock_window",
    "next_change",
    "open_lessons",
    "parse_cell",
    "period_of",
    "recommend",
    "rule",
    "school_days",
    "subject_stats",
    "total",
    "total_classes",
    "validate",
    "week_of",
]
