"""The audit log: an append-only SHA-256 hash chain of everything the ledger accepted or changed.

Each event stores ``at`` (ISO-8601 UTC text), ``kind`` ("entry.accepted", "lock.applied", …),
``payload`` (canonical JSON: sorted keys, ``ensure_ascii=False``, compact separators), ``prev_hash``
and ``hash = sha256(prev_hash || canonical({"at", "kind", "payload"}))``; the first event's
``prev_hash`` is 64 zeros. Changing one byte of any event, removing or reordering events breaks the
chain; removing events *from the end* is caught by the head recorded in the ``state`` table in the
same transaction as every append. SQLite triggers refuse UPDATE and DELETE on the table (see
``sync.ledger.migrations``). The quarter print-out carries the chain head, so paper and ledger can be matched.

:func:`verify_rows` is the chain's check over an iterator of rows; ``sync.ledger.verify`` runs it,
with the check of the data (``sync.ledger.seals``) and of the anchor, on the live ledger and on a
backup file alike.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import Connection, insert, select

from rules.errors import StoreError
from sync.ledger import schema as t
from sync.ledger.model import aware
from sync.ledger.state import AUDIT_HEAD_KEY, put_state

GENESIS = "0" * 64

AuditRow = tuple[int, str, str, str, str, str]  # id, at, kind, payload, prev_hash, hash


def _default(value: object) -> Any:
    if isinstance(value, datetime):
        return aware(value).astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value) if isinstance(value, (set, frozenset)) else list(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable in an audit payload")


_CANONICAL = json.JSONEncoder(  # built once: json.dumps with options builds one per call
    sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_default
)


def canonical(value: object) -> str:
    """Canonical JSON text: sorted keys, UTF-8 as is, no spaces; dates as ISO text."""
    return _CANONICAL.encode(value)


def content_hash(value: object) -> str:
    """Stable SHA-256 of any JSON-able value (e.g. a tab's rows) for "write only if changed"."""
    return hashlib.sha256(canonical(value).encode("utf-8")).hexdigest()


def event_time(now: datetime) -> str:
    """The ``at`` text of an event: UTC, microseconds, fixed width (sorts as it reads)."""
    return aware(now).astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(prev_hash: str, at: str, kind: str, payload_text: str) -> str:
    """``sha256(prev_hash || canonical(at, kind, payload))`` as hex."""
    body = f'{{"at":{canonical(at)},"kind":{canonical(kind)},"payload":{payload_text}}}'
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditReport:
    """Result of a check: ``first_bad_id`` is the first event that does not fit the chain,
    ``problem`` the first problem found, ``problems`` every one (``sync.ledger.verify`` adds the
    data and the anchor to the chain's)."""

    ok: bool
    events: int
    head: str
    first_bad_id: int | None = None
    problem: str | None = None
    problems: tuple[str, ...] = ()


def verify_rows(rows: Iterable[Sequence[Any]], recorded_head: str | None) -> AuditReport:
    """Re-walk the chain over rows ordered by id; ``recorded_head`` is the state table's head."""
    prev, count, last_id = GENESIS, 0, None
    for row in rows:
        event_id, at, kind, payload, prev_hash, stored = row
        problem = None
        if prev_hash != prev:
            problem = (
                f"event {event_id}: prev_hash does not match the previous event"
                + (f" ({last_id})" if last_id is not None else " (genesis)")
                + " — an event was removed, inserted or reordered"
            )
        else:
            try:
                canonical_ok = canonical(json.loads(payload)) == payload
            except ValueError:
                canonical_ok = False
            if not canonical_ok:
                problem = f"event {event_id}: payload is not canonical JSON — it was edited"
            elif event_hash(prev_hash, at, kind, payload) != stored:
                problem = f"event {event_id}: hash does not match its content — it was edited"
        if problem is not None:
            return AuditReport(False, count, prev, event_id, problem, (problem,))
        prev, count, last_id = stored, count + 1, event_id
    if recorded_head is not None and recorded_head != prev:
        problem = (
            f"the chain ends at event {last_id} but the ledger recorded a later head"
            " — events were removed from the end"
        )
        return AuditReport(False, count, prev, None, problem, (problem,))
    return AuditReport(True, count, prev)


class AuditLog:
    """The audit part of a ledger transaction; the base of every ``store_*`` part.

    Holds the transaction's connection and caches the chain head, so a batch of events costs one
    INSERT and the head is written to ``state`` once, when the transaction commits.
    """

    def __init__(self, connection: Connection) -> None:
        self._connection: Connection | None = connection
        self._head: str | None = None
        self._head_dirty = False
        self._head_at: datetime | None = None
        self._now: datetime | None = None  # the latest time a write of this transaction named
        self._appended = False  # this transaction appended events (the anchor follows)

    @property
    def _db(self) -> Connection:
        if self._connection is None:
            raise StoreError(
                "ledger transaction used after it ended",
                "call ledger methods only inside 'with ledger.transaction() as tx:'",
            )
        return self._connection

    def audit_head(self) -> str:
        """Hash of the newest event (64 zeros for an empty log)."""
        if self._head is None:
            row = self._db.execute(select(t.audit.c.hash).order_by(t.audit.c.id.desc()).limit(1))
            self._head = row.scalar() or GENESIS
        return self._head

    def audit_append(self, kind: str, payload: Mapping[str, Any], now: datetime) -> str:
        """Append one event to the chain; returns the new head hash."""
        return self._audit_many([(kind, payload)], now)

    def _audit_many(self, events: Sequence[tuple[str, Mapping[str, Any]]], now: datetime) -> str:
        """Append several events stamped ``now`` with one INSERT; returns the new head."""
        self._now = now
        if not events:
            return self.audit_head()
        at = event_time(now)
        head = self.audit_head()
        rows = []
        for kind, payload in events:
            try:
                text = canonical(payload)
            except (TypeError, ValueError) as exc:
                raise StoreError(
                    f"audit event {kind}: payload is not JSON-serialisable ({exc})",
                    "pass str, int, float, bool, None, dates, lists and dicts only",
                ) from exc
            new = event_hash(head, at, kind, text)
            rows.append({"at": at, "kind": kind, "payload": text, "prev_hash": head, "hash": new})
            head = new
        self._db.execute(insert(t.audit), rows)
        self._head, self._head_dirty, self._head_at = head, True, now
        self._appended = True
        return head

    def _flush(self) -> None:
        """Record the chain head in ``state`` (called once, just before COMMIT)."""
        if self._head_dirty and self._head is not None and self._head_at is not None:
            put_state(self._db, AUDIT_HEAD_KEY, self._head, self._head_at)
            self._head_dirty = False

    def _end(self) -> None:
        self._connection = None
