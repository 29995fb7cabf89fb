"""The reports' input: a :class:`reports.snapshot.Snapshot` filled from one ledger snapshot
transaction (a consistent view that never blocks the writer).

``since`` / ``until`` limit the lessons, entries and absences read to the days a report needs (a period
report of a 1,500-pupil school reads one quarter, not the whole year) in one query each; period
marks, findings, violations and the weekly analyses' remarks are read whole (they are small).
"""

from __future__ import annotations

import logging
import secrets
from datetime import date, datetime

from config.school import School
from reports.snapshot import (
    Absence,
    Entry,
    LessonFacts,
    OpenFinding,
    PeriodMark,
    Remark,
    Snapshot,
    Violation,
)
from sync.jobs.service import journal_key, split_journal_key
from sync.ledger.ledger import Ledger

logger = logging.getLogger(__name__)
REMARK_KEY = "reports.remark_key"


def load_snapshot(
    school: School,
    ledger: Ledger,
    now: datetime,
    *,
    since: date | None = None,
    until: date | None = None,
) -> Snapshot:
    """The school and the ledger's facts at ``now`` (school time)."""
    journals = {journal_key(c, s): (c, s) for c, s in school.journals()}
    findings: list[OpenFinding] = []
    secret = remark_key(ledger, now)
    with ledger.snapshot() as tx:
        head = tx.audit_head()
        lessons = [
            LessonFacts(*journals[row[0]], *row[1:])
            for row in tx.lesson_rows(since, until) if row[0] in journals
        ]
        entries = [
            Entry(*journals[row[0]], *row[1:])
            for row in tx.entry_rows(since, until) if row[0] in journals
        ]
        period_marks = [
            PeriodMark(*journals[row[0]], *row[1:])
            for row in tx.period_mark_rows() if row[0] in journals
        ]
        for key, (class_id, subject_id) in journals.items():
            findings.extend(
                OpenFinding(class_id, subject_id, f.rule, f.severity, f.message,
                            _local(school, f.opened), f.pupil_id, f.day)
                for f in tx.findings(key)
            )
        classes = {c.id for c in school.classes}
        absences = [Absence(*row) for row in tx.absence_rows(since, until) if row[0] in classes]
        violations = [
            Violation(*split_journal_key(v.journal), v.target.field.value,
                      _local(school, v.detected_at), v.locked_value, v.attempted_value,
                      v.target.pupil_id, v.target.day, v.reverted_at is not None)
            for v in tx.violations()
        ]
        remarks = [Remark(r.id, r.class_id, r.subject_id, r.teacher_id, r.kind, r.text, r.week,
                          r.day, r.status, r.resolved) for r in tx.remarks()]
    logger.info(
        "report snapshot: %d lessons, %d entries, %d period marks, %d absences, %d findings, "
        "%d violations", len(lessons), len(entries), len(period_marks), len(absences),
        len(findings), len(violations),
    )
    return Snapshot(
        school=school,
        built_at=now.astimezone(school.timezone),
        audit_head=head,
        lessons=tuple(lessons),
        entries=tuple(entries),
        period_marks=tuple(period_marks),
        absences=tuple(absences),
        findings=tuple(findings),
        violations=tuple(violations),
        remarks=tuple(remarks),
        remark_key=secret,
    )


def remark_key(ledger: Ledger, now: datetime) -> bytes:
    """The secret that keys the remarks' codes (``reports.keeping``), made once per ledger: the
    codes stay stable from week to week (backups and restores carry the key) and say nothing of
    which pupil a remark is about to anyone without the ledger."""
    with ledger.transaction() as tx:
        text = tx.state_get(REMARK_KEY)
        if text is None:
            text = secrets.token_hex(32)
            tx.state_set(REMARK_KEY, text, now)
    return bytes.fromhex(text)


def _local(school: School, moment: datetime) -> datetime:
    return moment.astimezone(school.timezone)
