"""The ledger's key → value state: every key the service keeps there, and two portable functions.

The keys are named here, in one place, so a job never spells another job's key: the Drive change
token, the dirty list, the open ranges last set on each file, the audit head, and the rest.
``get_state``/``put_state`` are shared by the audit log and the transaction's ``state_get`` /
``state_set``: one portable upsert (UPDATE, then INSERT if nothing was there: no dialect-specific
ON CONFLICT).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, update

from sync.ledger import schema as t
from sync.ledger.statements import STATE_VALUE

CHANGES_TOKEN_KEY = "changes_token"  # the backend's change-feed token (the sync cycle's)
UNREAD_VERSIONS_KEY = "sync.unread_versions"  # JSON {file id: feed version}: past the token, unread
SETUP_TOKEN_KEY = "setup.changes_token"  # change token of an unfinished setup run
DIRTY_KEY = "sync.dirty"  # JSON list of file ids whose handling is unfinished
CORRECTIONS_DEFERRED_KEY = "corrections.deferred"  # correction rows waiting for their journal
CORRECTIONS_SIGNERS_KEY = "corrections.signers"  # JSON {row key: signer} of rows deferred
CORRECTIONS_EXPOSED_KEY = "corrections.exposed"  # JSON list: writers revoked with rows unseen
CORRECTIONS_UNANSWERED_KEY = "corrections.unanswered"  # "1": admin rows read, not yet decided
OPEN_RANGES_KEY = "open_ranges:{file_id}"  # the open ranges last set on a file ("" = unknown)
LOCKS_PENDING_KEY = "locks.pending"  # JSON {file id: since (ISO)}: lock work failed, retried
FINDINGS_ROWS_KEY = "findings_rows:{file_id}"  # rows the findings tab was last written with
DROPPED_VALUES_KEY = "dropped_values:{file_id}"  # JSON: values a repair took off the sheet
DAEMON_SLOT_KEY = "daemon.{name}.slot"  # the last daily slot a daemon job handled (ISO time)
DIARIES_SINCE_KEY = "diaries.since"  # ledger changes from this moment on may change diaries
DIARIES_BASIS_KEY = "diaries.basis"  # config version, week and period the diaries show
CLASS_ROWS_KEY = "class_rows:{file_id}"  # «Посещаемость» positions last read: needs col, rows
NEEDS_SHOWN_KEY = "needs_reason:{file_id}"  # the «Нужна причина» texts last written (JSON)
ACL_CONFIG_KEY = "acl.config"  # the configuration version whose wanted access was last applied
ACL_SEEN_KEY = "acl.seen:{file_id}"  # JSON list of the permission ids last seen on a file
CONTACTS_READ_KEY = "contacts.read:{class_id}"  # when the class page's register was first read
AUDIT_HEAD_KEY = "audit.head"  # hash of the newest audit event, written with every append
ANCHORED_KEY = "audit.anchored"  # JSON {path, event, head}: the anchor file the ledger last wrote
WEEKLY_ANALYSED_KEY = "reports.weekly.analysed"  # JSON list of the analysed weeks' Mondays
REPORTS_DONE_KEY = "reports.done.{name}"  # the last scheduled build of a report (daemon)
BOARD_SHOWN_KEY = "board.shown"  # JSON: the teachers' board's file, content hash, pending write


def get_state(connection: Connection, key: str) -> str | None:
    """The value stored under ``key``, or None."""
    return connection.execute(STATE_VALUE, {"key": key}).scalar()


def put_state(connection: Connection, key: str, value: str, now: datetime) -> None:
    """Store ``value`` under ``key``."""
    done = connection.execute(
        update(t.state).where(t.state.c.key == key).values(value=value, updated_at=now)
    )
    if done.rowcount == 0:
        connection.execute(insert(t.state).values(key=key, value=value, updated_at=now))
