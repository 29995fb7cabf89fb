"""Ledger part of the reports: the weekly analyses' remarks and the outbox of report deliveries.

Remarks keep their stable ids from week to week, so the next analysis can say which of last
week's remarks were fixed (R11). A delivery is one workbook × one channel (Drive, e-mail): it is
recorded before the first attempt, retried until done, and given up only after ``max_attempts``
(the file stays in the reports folder either way), so no report is lost silently. Neither is
journal data: they are not audited.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, update

from sync.ledger import schema as t
from sync.ledger.audit import AuditLog
from sync.ledger.model import aware, from_rows


@dataclass(frozen=True, slots=True)
class RemarkRecord:
    id: str
    class_id: str
    subject_id: str
    teacher_id: str
    kind: str
    text: str
    day: date | None
    week: date
    status: str  # open / fixed / closed / info
    resolved: date | None


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    id: int
    path: str
    report: str
    channel: str
    status: str  # pending / done / failed
    attempts: int
    last_error: str | None
    remote_id: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    done_at: datetime | None


class RemarksPart(AuditLog):
    """The remarks of the weekly analyses."""

    def remarks(self, *, since: date | None = None) -> list[RemarkRecord]:
        """Every remark (made in weeks from ``since`` on), by week and id."""
        r = t.remarks.c
        query = select(t.remarks)
        if since is not None:
            query = query.where(r.week >= since)
        return from_rows(RemarkRecord, self._db.execute(query.order_by(r.week, r.id)))

    def record_remarks(
        self,
        monday: date,
        *,
        new: Iterable[RemarkRecord],
        fixed: Iterable[str] = (),
        closed: Iterable[str] = (),
        still_open: Iterable[RemarkRecord] = (),
        now: datetime,
    ) -> int:
        """Keep the analysis of the week of ``monday``: ``new`` remarks (a known id is reopened
        as of this week), earlier ones found ``fixed`` or ``closed`` (resolved this week), and
        those ``still_open`` (their text refreshed). Running it again for the same week changes
        nothing more. Returns the number of rows written."""
        aware(now)
        r = t.remarks.c
        items = list(new)
        existing = {
            row.id: row for row in self._db.execute(
                select(r.id, r.week, r.status).where(r.id.in_([i.id for i in items])))
        }
        written = 0
        for item in items:
            values: dict[str, Any] = {
                "class_id": item.class_id, "subject_id": item.subject_id,
                "teacher_id": item.teacher_id, "kind": item.kind, "text": item.text,
                "day": item.day, "week": monday, "status": item.status, "resolved": None,
                "updated_at": now,
            }
            if item.id not in existing:
                self._db.execute(insert(t.remarks).values(id=item.id, **values))
            else:
                self._db.execute(update(t.remarks).where(r.id == item.id).values(**values))
            written += 1
        for status, ids in (("fixed", fixed), ("closed", closed)):
            chosen = list(ids)
            if chosen:
                done = self._db.execute(
                    update(t.remarks).where(r.id.in_(chosen))
                    .values(status=status, resolved=monday, updated_at=now))
                written += int(done.rowcount)
        for item in still_open:
            done = self._db.execute(
                update(t.remarks).where(r.id == item.id)
                .values(status="open", resolved=None, text=item.text, updated_at=now))
            written += int(done.rowcount)
        return written


class ReportReadsPart(AuditLog):
    """Bulk reads for the reports: every journal's rows in one query each (a per-journal read of
    a 1,500-pupil school is 720 queries and slow record building). Plain tuples, in the order of
    their docstrings; times are tz-aware UTC."""

    def lesson_rows(self, since: date | None, until: date | None) -> list[tuple[Any, ...]]:
        """(journal, day, lesson_no, topic, classwork, work_type, homework, first_seen,
        last_changed) of every lesson in the days given."""
        c = t.lessons.c
        query = select(c.journal, c.day, c.lesson_no, c.topic, c.classwork, c.work_type,
                       c.homework, c.first_seen, c.last_changed)
        return [tuple(r) for r in self._db.execute(_days(query, c.day, since, until))]

    def entry_rows(self, since: date | None, until: date | None) -> list[tuple[Any, ...]]:
        """(journal, pupil_id, day, lesson_no, value or the kept text, kind, first_seen,
        accepted_by) of every non-empty entry in the days given."""
        c = t.entries.c
        query = select(c.journal, c.pupil_id, c.day, c.lesson_no, c.value, c.raw, c.kind,
                       c.first_seen, c.accepted_by).where(c.raw != "")
        return [(r[0], r[1], r[2], r[3], r[4] or r[5], r[6], r[7], r[8])
                for r in self._db.execute(_days(query, c.day, since, until))
                if r[4] or r[6] == "invalid"]

    def absence_rows(self, since: date | None, until: date | None
                     ) -> list[tuple[str, str, date, str]]:
        """(class_id, pupil_id, day, reason) of every stored reason in the days given."""
        c = t.absence_reasons.c
        query = select(c.class_id, c.pupil_id, c.day, c.reason).where(c.raw != "")
        return [(r[0], r[1], r[2], r[3]) for r in self._db.execute(_days(query, c.day, since,
                                                                            until))]

    def period_mark_rows(self) -> list[tuple[str, str, str, str]]:
        """(journal, pupil_id, period, value) of every period mark."""
        c = t.period_marks.c
        query = select(c.journal, c.pupil_id, c.period, c.value).where(c.value != "")
        return [(r[0], r[1], r[2], r[3]) for r in self._db.execute(query)]


def _days(query: Any, column: Any, since: date | None, until: date | None) -> Any:
    if since is not None:
        query = query.where(column >= since)
    if until is not None:
        query = query.where(column <= until)
    return query


class DeliveriesPart(AuditLog):
    """The outbox of built reports."""

    def queue_delivery(self, path: str, report: str, channel: str, now: datetime) -> int:
        """Record a delivery to make; a file rebuilt under the same name is delivered again
        (its row starts over). Returns the delivery's id."""
        d = t.report_deliveries.c
        found = self._db.execute(
            select(d.id).where(d.path == path, d.channel == channel)).scalar()
        if found is not None:
            self._db.execute(update(t.report_deliveries).where(d.id == found).values(
                status="pending", attempts=0, last_error=None, remote_id=None,
                created_at=aware(now), next_attempt_at=now, done_at=None))
            return int(found)
        delivery_id: int = self._db.execute(
            insert(t.report_deliveries).values(
                path=path, report=report, channel=channel, status="pending", attempts=0,
                created_at=aware(now), next_attempt_at=now,
            ).returning(d.id)
        ).scalar_one()
        return delivery_id

    def deliveries(self, *, status: str | None = None) -> list[DeliveryRecord]:
        """Deliveries (with that status), oldest first."""
        d = t.report_deliveries.c
        query = select(t.report_deliveries)
        if status is not None:
            query = query.where(d.status == status)
        return from_rows(DeliveryRecord, self._db.execute(query.order_by(d.id)))

    def delivery_due(self, now: datetime) -> list[DeliveryRecord]:
        """Pending deliveries whose next attempt is due at ``now``."""
        return [x for x in self.deliveries(status="pending")
                if x.next_attempt_at is None or x.next_attempt_at <= aware(now)]

    def delivery_done(self, delivery_id: int, remote_id: str | None, now: datetime) -> None:
        d = t.report_deliveries.c
        self._db.execute(update(t.report_deliveries).where(d.id == delivery_id).values(
            status="done", attempts=d.attempts + 1, remote_id=remote_id, done_at=aware(now),
            next_attempt_at=None, last_error=None))

    def delivery_failed(
        self, delivery_id: int, error: str, now: datetime, *, retry_at: datetime | None
    ) -> None:
        """One attempt failed: retried at ``retry_at``, or given up (status failed) when None."""
        d = t.report_deliveries.c
        self._db.execute(update(t.report_deliveries).where(d.id == delivery_id).values(
            status="pending" if retry_at is not None else "failed", attempts=d.attempts + 1,
            last_error=error[:1000], next_attempt_at=retry_at, done_at=None))
        aware(now)
