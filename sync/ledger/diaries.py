"""Ledger part about the pupils' diaries: what the service last wrote to each, what waits to be
written, and which pupils the ledger's changes since a moment touch.

A diary is a projection of the ledger, never read back (``rules.diary``); the ledger keeps only
the SHA-256 of each tab as last written and how many rows it had (a shorter tab is padded with
empty rows over the old ones), so an unchanged diary costs no write. ``pending_since`` is when a
change of a diary was first seen and not yet written: the writer takes the oldest first.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, insert, select, update

from sync.ledger import schema as t
from sync.ledger.audit import AuditLog
from sync.ledger.model import PeriodMarkRecord, aware, from_rows

TabHashes = Mapping[str, tuple[str, int]]  # tab title → (sha256 of its rows, rows written)


@dataclass(frozen=True, slots=True)
class DiaryState:
    pupil_id: str
    tabs: dict[str, tuple[str, int]]
    pending_since: datetime | None
    written_at: datetime | None


@dataclass(frozen=True, slots=True)
class Touched:
    """What changed in the ledger since a moment: pupils with a changed entry, period mark or
    absence reason, and journals with a changed lesson (topic, work type, homework); pupils
    whose register of readers changed (``contacts``)."""

    pupils: set[str] = field(default_factory=set)
    journals: set[str] = field(default_factory=set)
    contacts: set[str] = field(default_factory=set)


class DiariesPart(AuditLog):
    """The diaries' written state (no audit: a diary holds nothing the ledger does not)."""

    def diary_states(self) -> dict[str, DiaryState]:
        """Every diary's written state, by pupil id."""
        rows = self._db.execute(select(t.diaries))
        return {
            r.pupil_id: DiaryState(
                r.pupil_id,
                {k: (str(v[0]), int(v[1])) for k, v in json.loads(r.tabs).items()},
                r.pending_since,
                r.written_at,
            )
            for r in rows
        }

    def record_diary(self, pupil_id: str, tabs: TabHashes, now: datetime) -> None:
        """The diary was written as ``tabs``: nothing of it waits any more."""
        text = json.dumps({k: list(v) for k, v in sorted(tabs.items())}, ensure_ascii=False)
        values = {"tabs": text, "written_at": aware(now), "pending_since": None}
        d = t.diaries.c
        done = self._db.execute(update(t.diaries).where(d.pupil_id == pupil_id).values(**values))
        if done.rowcount == 0:
            self._db.execute(insert(t.diaries).values(pupil_id=pupil_id, **values))

    def diaries_pending(self, pupil_ids: Iterable[str], now: datetime) -> None:
        """These diaries have a change to write (kept: the first time it was seen)."""
        aware(now)
        known = self.diary_states()
        d = t.diaries.c
        for pid in set(pupil_ids):
            state = known.get(pid)
            if state is None:
                self._db.execute(insert(t.diaries).values(pupil_id=pid, tabs="{}",
                                                          pending_since=now))
            elif state.pending_since is None:
                self._db.execute(update(t.diaries).where(d.pupil_id == pid)
                                 .values(pending_since=now))

    def forget_diary(self, pupil_id: str) -> None:
        """The diary file is new (re-created): nothing of it was written yet."""
        self._db.execute(delete(t.diaries).where(t.diaries.c.pupil_id == pupil_id))

    def touched_since(self, since: datetime) -> Touched:
        """Pupils and journals whose data changed after ``since`` (see :class:`Touched`): the
        previous diary pass ran last in its cycle, after every change stamped with its moment."""
        aware(since)
        out = Touched()
        for table in (t.entries, t.period_marks, t.absence_reasons):
            query = select(table.c.pupil_id).where(table.c.last_changed > since).distinct()
            out.pupils.update(self._db.execute(query).scalars())
        les = t.lessons.c
        query = select(les.journal).where(les.last_changed > since).distinct()
        out.journals.update(self._db.execute(query).scalars())
        con = t.contacts.c
        query = select(con.pupil_id).where(con.updated_at > since).distinct()
        out.contacts.update(self._db.execute(query).scalars())
        return out

    def pupil_period_marks(self, pupil_id: str) -> list[PeriodMarkRecord]:
        """One pupil's period marks across journals (for the diary)."""
        p = t.period_marks.c
        query = select(t.period_marks).where(p.pupil_id == pupil_id, p.value != "")
        return from_rows(PeriodMarkRecord, self._db.execute(query.order_by(p.journal, p.period)))
