"""Who may edit which spreadsheet, and making the backend's grants match (desired vs observed).

Journals are shared as writer with their teachers (every teacher of a split group) and, on the
day of a substitution, with the substitute (R9); a class spreadsheet with its class teacher; the
admin spreadsheet with the deputy director(s); the teachers' board (the weekly analysis) as
reader with every teacher and deputy — written by nobody but the service. Nobody else is granted
anything here: parents and pupils get diaries (readers), never these files (DESIGN.md §7).

:func:`reconcile_acl` compares the wanted roles with the grants the ledger saw last (no Drive
listing: 0 calls when nothing changed), grants what is missing and revokes grants of the roles
we hand out (reader/commenter/writer) that are no longer wanted, then records desired and observed
in the ledger in one transaction, with an audit event per change. A crash between a grant and its
record is harmless: a grant is idempotent per address, and the next run grants again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from config.school import School
from rules.errors import BackendError, NotFound
from rules.locks import lock_window
from rules.model import CellKind
from sync.backends.protocol import Grant, Role
from sync.jobs.service import Service, split_journal_key
from sync.jobs.signatures import note_lost_writers
from sync.ledger.contacts import PUPIL_SLOT, ContactRecord
from sync.ledger.model import FileKind
from sync.ledger.state import ACL_SEEN_KEY

log = logging.getLogger(__name__)

MANAGED_ROLES = (Role.READER, Role.COMMENTER, Role.WRITER)  # the roles this service grants


@dataclass
class AclChanges:
    """What one reconciliation did on one file."""

    granted: list[str] = field(default_factory=list)  # e-mails (lower case)
    revoked: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # error messages (ids, no addresses)


def substitutes_with_access(
    school: School, class_id: str, subject_id: str, now: datetime
) -> tuple[str, ...]:
    """Teacher ids substituting in this journal whose day is running at ``now``: from 00:00 of
    the day to its ``lock.day_end`` (when the day's cells lock); revoked after that."""
    school_class = school.school_class(class_id)
    grade = school_class.grade if school_class else 0
    out: list[str] = []
    for sub in school.substitutions:
        if (sub.class_id, sub.subject_id) != (class_id, subject_id):
            continue
        opens, closes = lock_window(
            CellKind.LESSON_INFO,
            tz=school.timezone,
            policy=school.policies,
            grade=grade,
            lesson_day=sub.day,
        )
        if opens <= now < closes and sub.teacher_id not in out:
            out.append(sub.teacher_id)
    return tuple(out)


def diary_readers(school: School, pupil_id: str, today: date,
                  register: Sequence[ContactRecord] | None = None) -> list[str]:
    """Who may read a pupil's diary on ``today``: each parent whose application (consent) date
    has come (R2, 1.13), and the pupil where the school lets pupils view their diary and the class
    teacher allowed it (R17). From the class page's ``register`` once it was read, else from the
    configuration (parents.csv, pupils.csv)."""
    if register is None:
        emails = [p.email for p in school.parents_of(pupil_id)
                  if p.email and p.consent is not None and p.consent <= today]
        pupil = school.pupil(pupil_id)
        if school.diaries.pupils_may_view and pupil is not None and pupil.email:
            emails.append(pupil.email)
        return emails
    emails = [c.email for c in register if c.slot != PUPIL_SLOT and c.email
              and c.consent is not None and c.consent <= today]
    if school.diaries.pupils_may_view:
        emails += [c.email for c in register if c.slot == PUPIL_SLOT and c.email and c.consent]
    return emails


def wanted_roles(svc: Service, kind: FileKind, key: str, now: datetime) -> dict[str, Role]:
    """:func:`desired_roles`, a diary's from the ledger's register of its class when known."""
    register = None
    pupil = svc.school.pupil(key) if kind is FileKind.DIARY else None
    if pupil is not None:
        with svc.ledger.snapshot() as tx:
            if tx.contacts_known(pupil.class_id):
                register = tx.contacts(pupil_id=key)
    return desired_roles(svc.school, kind, key, now, register)


def desired_roles(school: School, kind: FileKind, key: str, now: datetime,
                  register: Sequence[ContactRecord] | None = None) -> dict[str, Role]:
    """E-mail (lower case) → role every file of ``kind``/``key`` should grant at ``now``."""
    if kind is FileKind.DIARY:
        readers = diary_readers(school, key, now.date(), register)
        return {e.strip().lower(): Role.READER for e in readers}
    if kind is FileKind.BOARD:
        readers = [t.email for t in school.teachers if t.email] + list(school.deputy_emails)
        return {e.strip().lower(): Role.READER for e in readers}
    teacher_ids: list[str] = []
    emails: list[str] = []
    if kind is FileKind.JOURNAL:
        class_id, subject_id = split_journal_key(key)
        teacher_ids += school.teachers_of(class_id, subject_id)
        teacher_ids += substitutes_with_access(school, class_id, subject_id, now)
    elif kind is FileKind.CLASS:
        school_class = school.school_class(key)
        if school_class is not None and school_class.class_teacher_id:
            teacher_ids.append(school_class.class_teacher_id)
    elif kind is FileKind.ADMIN:
        emails += school.deputy_emails
    for teacher_id in teacher_ids:
        teacher = school.teacher(teacher_id)
        if teacher is not None and teacher.email:
            emails.append(teacher.email)
    return {email.strip().lower(): Role.WRITER for email in emails}


def reconcile_acl(
    svc: Service, file_id: str, desired: Mapping[str, Role], now: datetime
) -> AclChanges:
    """Grant what ``desired`` lacks, revoke managed grants it no longer wants, record both."""
    wanted = {email.lower(): Role(role) for email, role in desired.items()}
    with svc.ledger.snapshot() as tx:
        records = tx.acl(file_id)
    observed = {
        r.email: Grant(r.grant_id or "", r.email, Role(r.observed_role))
        for r in records
        if r.observed_role is not None
    }
    changes = AclChanges()
    events: list[tuple[str, dict[str, str]]] = []
    for email, role in wanted.items():
        if email in observed and observed[email].role is role:
            continue
        try:
            observed[email] = svc.backend.grant(file_id, email, role)
        except BackendError as exc:
            changes.failed.append(f"file {file_id}: a grant failed ({type(exc).__name__})")
            log.warning("file %s: a grant failed (%s)", file_id, type(exc).__name__)
            continue
        changes.granted.append(email)
        events.append(("acl.granted", {"file": file_id, "email": email, "role": role.value}))
    service = svc.principals()  # the service account and its pool: never revoked
    revoked_ids: set[str] = set()
    lost_writers: list[str] = []  # of the admin spreadsheet: rows of theirs may be unproven
    for email, grant in list(observed.items()):
        if email in wanted or email in service or grant.role not in MANAGED_ROLES:
            continue
        if grant.id:
            try:
                svc.backend.revoke(file_id, grant.id)
            except NotFound:
                pass  # already gone (404); a 403 is a failure, retried next time
            except BackendError as exc:
                changes.failed.append(f"file {file_id}: a revoke failed ({type(exc).__name__})")
                log.warning("file %s: a revoke failed (%s)", file_id, type(exc).__name__)
                continue
        del observed[email]
        revoked_ids.add(grant.id)
        changes.revoked.append(email)
        if grant.role is Role.WRITER:
            lost_writers.append(email)
        events.append(("acl.revoked", {"file": file_id, "email": email, "role": grant.role.value}))
    recorded = {r.email: r.desired_role for r in records if r.desired_role is not None}
    if not events and recorded == {e: r.value for e, r in wanted.items()}:
        return changes  # nothing to record: no ledger write either
    with svc.ledger.transaction() as tx:
        tx.set_desired_acl(file_id, wanted, now)
        tx.set_observed_acl(file_id, observed.values(), now)
        for kind, payload in events:
            tx.audit_append(kind, payload, now)
        seen = tx.state_get(ACL_SEEN_KEY.format(file_id=file_id))
        if seen is not None:  # own changes: the change list's next ids are expected
            ids = (set(json.loads(seen)) - revoked_ids) | {
                observed[e].id for e in changes.granted if e in observed}
            tx.state_set(ACL_SEEN_KEY.format(file_id=file_id), json.dumps(sorted(ids)), now)
    note_lost_writers(svc, file_id, lost_writers, now)
    if changes.granted or changes.revoked:
        log.info(
            "file %s: %d grant(s), %d revoke(s)",
            file_id,
            len(changes.granted),
            len(changes.revoked),
        )
    return changes


__all__ = [
    "MANAGED_ROLES",
    "AclChanges",
    "desired_roles",
    "diary_readers",
    "reconcile_acl",
    "substitutes_with_access",
    "wanted_roles",
]
