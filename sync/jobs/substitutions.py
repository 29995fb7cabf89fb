"""Substitutions (R9): the substitute fills the absent teacher's journal, for that day only.

``substitutions.csv`` lists (date, class, subject, teacher). On that day the substitute gets
writer access to the journal (from 00:00 to the day's ``lock.day_end``, when the day's cells
lock); the first run after that revokes it. What is entered that day is attributed to the
substitute (:func:`attributed_teacher`, used by the engine as ``accepted_by``).

:func:`sync_substitutions` is cheap enough for every cycle: it compares the wanted grants with
the ledger's ACL (desired vs observed) and calls the backend only to grant or revoke.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from config.school import School
from rules.errors import EjournalError, LayoutError
from sync.jobs.service import Service, journal_key
from sync.jobs.sharing import desired_roles, reconcile_acl
from sync.jobs.summary import describe
from sync.ledger.model import FileKind

log = logging.getLogger(__name__)


@dataclass
class SubstitutionSummary:
    """One run: grants given and taken back (journal key, teacher id), problems."""

    granted: list[tuple[str, str]] = field(default_factory=list)
    revoked: list[tuple[str, str]] = field(default_factory=list)
    deferred: list[tuple[str, str]] = field(default_factory=list)  # grants held back (``grant``)
    not_set_up: list[str] = field(default_factory=list)  # journals without a spreadsheet yet
    failed: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "granted": [list(item) for item in self.granted],
            "revoked": [list(item) for item in self.revoked],
            "deferred": [list(item) for item in self.deferred],
            "not_set_up": list(self.not_set_up),
            "failed": list(self.failed),
        }

    def counts(self) -> dict[str, int]:
        """Numbers only, for the cycle's and the lock job's summaries."""
        return {
            "granted": len(self.granted),
            "revoked": len(self.revoked),
            "deferred": len(self.deferred),
            "failed": len(self.failed),
        }


def attributed_teacher(school: School, class_id: str, subject_id: str, day: date) -> str:
    """Who an entry of ``day`` is attributed to: the substitute on that day, else the journal's
    teacher (the first assigned one when a split group has several)."""
    for sub in school.substitutes_on(day):
        if (sub.class_id, sub.subject_id) == (class_id, subject_id):
            return sub.teacher_id
    teachers = school.teachers_of(class_id, subject_id)
    if not teachers:
        raise LayoutError(
            f"journal {journal_key(class_id, subject_id)} has no teacher in the configuration",
            "check assignments.csv",
        )
    return teachers[0]


def sync_substitutions(
    svc: Service, *, now: datetime, grant: bool = True, hold: Collection[str] = ()
) -> SubstitutionSummary:
    """Grant each running substitution's teacher writer access to its journal; revoke it once
    the day is over. Journals without substitutions are not touched (0 calls, no ledger write).

    ``grant=False`` only revokes (and keeps grants already held): the cycle passes it until the
    day's lock job has moved the protections, since before that the journal's open cells are
    still yesterday's, which a substitute must not be able to edit. ``hold``: journal keys treated
    the same way whatever ``grant`` says — those whose lock work (protection) is still pending.
    """
    school = svc.school
    summary = SubstitutionSummary()
    journals = dict.fromkeys((s.class_id, s.subject_id) for s in school.substitutions)
    for class_id, subject_id in journals:
        key = journal_key(class_id, subject_id)
        with svc.ledger.snapshot() as tx:
            record = tx.file_for(FileKind.JOURNAL, key)
            held = {a.email for a in tx.acl(record.id) if a.observed_role} if record else set()
        if record is None:
            summary.not_set_up.append(key)
            continue
        subs = {
            s.teacher_id
            for s in school.substitutions
            if (s.class_id, s.subject_id) == (class_id, subject_id)
        }
        by_email = {t.email.lower(): t.id for t in school.teachers if t.id in subs}
        wanted = desired_roles(school, FileKind.JOURNAL, key, now)
        if not grant or key in hold:
            waiting = [e for e in wanted if e in by_email and e not in held]
            summary.deferred += [(key, by_email[e]) for e in waiting]
            wanted = {e: r for e, r in wanted.items() if e not in waiting}
        changes = reconcile_acl(svc, record.id, wanted, now)
        summary.failed += changes.failed
        summary.granted += [(key, by_email[e]) for e in changes.granted if e in by_email]
        summary.revoked += [(key, by_email[e]) for e in changes.revoked if e in by_email]
    if summary.granted or summary.revoked:
        with svc.ledger.transaction() as tx:
            for kind, items in (("granted", summary.granted), ("revoked", summary.revoked)):
                for key, teacher_id in items:
                    payload = {"journal": key, "teacher": teacher_id}
                    tx.audit_append(f"substitution.{kind}", payload, now)
    log.info(
        "substitutions: %d granted, %d revoked, %d deferred, %d failed",
        len(summary.granted),
        len(summary.revoked),
        len(summary.deferred),
        len(summary.failed),
    )
    return summary


def run_substitutions(svc: Service, now: datetime, errors: list[str], *, grant: bool,
                      hold: Collection[str] = ()) -> dict[str, int]:
    """``sync_substitutions`` (no API call unless a grant or revoke is due), guarded: a failure
    is an error of the run, never fatal to it. Returns the counts for the run's summary."""
    try:
        result = sync_substitutions(svc, now=now, grant=grant, hold=hold)
    except EjournalError as exc:
        log.warning("substitutions failed: %s", describe(exc))
        errors.append(f"substitutions: {describe(exc)}")
        return {}
    errors.extend(f"substitutions: {problem}" for problem in result.failed)
    return result.counts()


__all__ = ["SubstitutionSummary", "attributed_teacher", "run_substitutions", "sync_substitutions"]
