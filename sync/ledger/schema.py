"""The ledger's tables (SQLAlchemy Core), portable between SQLite and PostgreSQL.

This is the *current* schema; ``sync.ledger.migrations`` creates and evolves it. Journals are named by
their key ("7Б/math"), not by spreadsheet id, so a re-created spreadsheet keeps its history. Times
are stored in UTC (:class:`UtcDateTime`); days as dates.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """A tz-aware datetime stored as UTC; SQLite keeps it as naive UTC text, PostgreSQL as timestamptz."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("the ledger stores only timezone-aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(100), nullable=False),
    Column("applied_at", UtcDateTime, nullable=False),
)

state = Table(
    "state",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

files = Table(
    "files",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("key", String(200), nullable=False),
    Column("name", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("layout_version", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("last_seen_version", String(200)),
    Column("last_read_at", UtcDateTime),
    UniqueConstraint("kind", "key", name="uq_files_kind_key"),
)

file_tabs = Table(
    "file_tabs",
    metadata,
    Column("file_id", String(200), ForeignKey("files.id", ondelete="CASCADE"), primary_key=True),
    Column("tab", String(200), primary_key=True),
    Column("content_hash", String(64)),  # sha256 of what the service last wrote to the tab
    Column("written_at", UtcDateTime),
    Column("protection_id", Integer),  # the tab's sheet-protection id (FileInfo.protections)
)

lessons = Table(
    "lessons",
    metadata,
    Column("journal", String(200), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("lesson_no", Integer, primary_key=True),
    Column("period", String(100), nullable=False),
    Column("topic", Text, nullable=False),
    Column("classwork", Text, nullable=False),
    Column("work_type", String(100), nullable=False),
    Column("homework", Text, nullable=False),
    Column("first_seen", UtcDateTime, nullable=False),
    Column("last_changed", UtcDateTime, nullable=False),
    Column("info_locked_at", UtcDateTime),  # topic, classwork, work type, homework locked
    Column("marks_locked_at", UtcDateTime),  # the lesson's mark cells locked (after any grace)
    Column("seal", String(32)),  # migration 4: sync.ledger.seals (the chain covers the row)
)

entries = Table(
    "entries",
    metadata,
    Column("journal", String(200), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("lesson_no", Integer, primary_key=True),
    Column("pupil_id", String(100), primary_key=True),
    Column("raw", Text, nullable=False),
    Column("value", String(50), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("first_seen", UtcDateTime, nullable=False),
    Column("last_changed", UtcDateTime, nullable=False),
    Column("accepted_by", String(200)),
    Column("locked_at", UtcDateTime),
    Column("seal", String(32)),  # migration 4: sync.ledger.seals (the chain covers the row)
    Index("ix_entries_pupil", "pupil_id", "day"),
)

period_marks = Table(
    "period_marks",
    metadata,
    Column("journal", String(200), primary_key=True),
    Column("period", String(100), primary_key=True),
    Column("pupil_id", String(100), primary_key=True),
    Column("raw", Text, nullable=False),
    Column("value", String(50), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("first_seen", UtcDateTime, nullable=False),
    Column("last_changed", UtcDateTime, nullable=False),
    Column("accepted_by", String(200)),
    Column("locked_at", UtcDateTime),
    Column("seal", String(32)),  # migration 4: sync.ledger.seals (the chain covers the row)
    Index("ix_period_marks_pupil", "pupil_id"),
)

period_locks = Table(
    "period_locks",
    metadata,
    Column("journal", String(200), primary_key=True),
    Column("period", String(100), primary_key=True),
    Column("locked_at", UtcDateTime, nullable=False),
    Column("seal", String(32)),  # migration 4: sync.ledger.seals (the chain covers the row)
)

findings = Table(
    "findings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("journal", String(200), nullable=False),
    Column("fingerprint", String(64), nullable=False),  # identity: rule + location + message
    Column("rule", String(100), nullable=False),
    Column("severity", String(20), nullable=False),
    Column("pupil_id", String(100)),
    Column("day", Date),
    Column("field", String(50)),
    Column("cell", String(50)),
    Column("message", Text, nullable=False),
    Column("opened", UtcDateTime, nullable=False),
    Column("resolved", UtcDateTime),
    Index("ix_findings_open", "journal", "resolved"),
)

violations = Table(
    "violations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("journal", String(200), nullable=False),
    Column("field", String(50), nullable=False),
    Column("pupil_id", String(100)),
    Column("day", Date),
    Column("lesson_no", Integer),
    Column("period", String(100)),
    Column("cell", String(50)),
    Column("locked_value", Text, nullable=False),
    Column("attempted_value", Text, nullable=False),
    Column("detected_at", UtcDateTime, nullable=False),
    Column("reverted_at", UtcDateTime),
    Index("ix_violations_journal", "journal", "reverted_at"),
)

corrections = Table(
    "corrections",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_key", String(200), nullable=False, unique=True),  # the admin sheet's row key
    Column("journal", String(200), nullable=False),
    Column("field", String(50), nullable=False),
    Column("pupil_id", String(100)),
    Column("day", Date),
    Column("lesson_no", Integer),
    Column("period", String(100)),
    Column("new_value", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("order_no", String(100), nullable=False),
    Column("status", String(20), nullable=False),
    Column("old_value", Text),
    Column("reject_reason", Text),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("processed_at", UtcDateTime),
)

absence_reasons = Table(  # migration 2: the class teacher's reason codes ("Посещаемость")
    "absence_reasons",
    metadata,
    Column("class_id", String(50), primary_key=True),
    Column("pupil_id", String(100), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("reason", String(10), nullable=False),  # б / у / н; "" erased (or invalid text kept)
    Column("raw", Text, nullable=False),  # as typed
    Column("first_seen", UtcDateTime, nullable=False),
    Column("last_changed", UtcDateTime, nullable=False),
    Column("locked_at", UtcDateTime),
    Column("seal", String(32)),  # migration 4: sync.ledger.seals (the chain covers the row)
    Index("ix_absence_reasons_pupil", "pupil_id", "day"),
)

absence_locks = Table(  # migration 2: attendance days whose reason cells are locked (empty ones too)
    "absence_locks",
    metadata,
    Column("class_id", String(50), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("locked_at", UtcDateTime, nullable=False),
    Column("seal", String(32)),  # migration 4: sync.ledger.seals (the chain covers the row)
)

late_entries = Table(  # migration 3: values a read could not prove were typed before their lock
    "late_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("journal", String(200), nullable=False),
    Column("field", String(50), nullable=False),
    Column("pupil_id", String(100)),
    Column("day", Date),
    Column("lesson_no", Integer),
    Column("period", String(100)),
    Column("cell", String(50)),
    Column("ledger_value", Text, nullable=False),  # what the ledger holds (written back)
    Column("typed_value", Text, nullable=False),  # what the sheet showed, kept for the deputy
    Column("detected_at", UtcDateTime, nullable=False),
    Column("reverted_at", UtcDateTime),
    Column("resolved_at", UtcDateTime),  # a correction of the same cell was applied
    Column("resolved_by", String(200)),  # that correction's source key
    Index("ix_late_entries_journal", "journal", "resolved_at"),
)

remarks = Table(  # migration 5: the weekly analyses' remarks, so the next one says "fixed"
    "remarks",
    metadata,
    Column("id", String(20), primary_key=True),  # stable: "З-" + 8 hex of what it is about
    Column("class_id", String(50), nullable=False),
    Column("subject_id", String(100), nullable=False),
    Column("teacher_id", String(100), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("text", Text, nullable=False),
    Column("day", Date),  # what it is about: a lesson day, a period start
    Column("week", Date, nullable=False),  # Monday of the analysis that made (or reopened) it
    Column("status", String(10), nullable=False),  # open / fixed / closed / info
    Column("resolved", Date),  # Monday of the analysis that found it fixed or closed
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_remarks_week", "week"),
)

report_deliveries = Table(  # migration 5: the outbox of built reports (Drive, e-mail)
    "report_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("path", Text, nullable=False),  # the workbook, relative to the reports folder
    Column("report", String(50), nullable=False),  # report kind
    Column("channel", String(10), nullable=False),  # drive / email
    Column("status", String(10), nullable=False),  # pending / done / failed (gave up)
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("remote_id", String(200)),  # the Drive file id, the message id
    Column("created_at", UtcDateTime, nullable=False),
    Column("next_attempt_at", UtcDateTime),
    Column("done_at", UtcDateTime),
    UniqueConstraint("path", "channel", name="uq_report_deliveries_path_channel"),
)

diaries = Table(  # migration 6: what the service last wrote to each pupil's diary
    "diaries",
    metadata,
    Column("pupil_id", String(100), primary_key=True),
    Column("tabs", Text, nullable=False),  # JSON {tab title: [sha256 of its rows, rows written]}
    Column("pending_since", UtcDateTime),  # a change waits to be written since (oldest first)
    Column("written_at", UtcDateTime),
)

contacts = Table(  # migration 6: the class page's register of who may read each diary
    "contacts",
    metadata,
    Column("pupil_id", String(100), primary_key=True),
    Column("slot", Integer, primary_key=True),  # 1, 2, …: a parent; 0: the pupil's own account
    Column("class_id", String(50), nullable=False),
    Column("name", Text, nullable=False),
    Column("email", String(320), nullable=False),  # lower case; "" none
    Column("consent", Date),  # the application's date (R2); slot 0: the day the view was allowed
    Column("updated_at", UtcDateTime, nullable=False),
)

acl = Table(
    "acl",
    metadata,
    Column("file_id", String(200), ForeignKey("files.id", ondelete="CASCADE"), primary_key=True),
    Column("email", String(320), primary_key=True),
    Column("desired_role", String(20)),
    Column("observed_role", String(20)),
    Column("grant_id", String(200)),
    Column("updated_at", UtcDateTime, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(50), nullable=False),
    Column("started", UtcDateTime, nullable=False),
    Column("finished", UtcDateTime),
    Column("ok", Integer),  # 1 ok, 0 failed, NULL running/died
    Column("error", Text),
    Column("counters", Text, nullable=False),  # JSON object name → int
    Index("ix_runs_kind", "kind", "started"),
)

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", String(40), nullable=False),  # the exact ISO-8601 UTC text that was hashed
    Column("kind", String(50), nullable=False),
    Column("payload", Text, nullable=False),  # canonical JSON
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
