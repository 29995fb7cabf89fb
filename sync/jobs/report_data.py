"""The reports' input: a :class:`reports.snapshot.Snapshot` filled from one ledger snapshot
transaction (a consistent view that never blocks the writer).

``since`` / ``until`` limit the lessons and entries read to the days a report needs (a period
report of a 1,500-pupil school reads one quarter, not the whole year); period marks, absences,
findings, violations and the weekly analyses' remarks are read whole (they are small).
"""

from __future__ import annotations

import logging
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


def load_snapshot(
    school: School,
    ledger: Ledger,
    now: datetime,
    *,
    since: date | None = None,
    until: date | None = None,
) -> Snapshot:
    """The school and the ledger's facts at ``now`` (school time)."""
    lessons: list[LessonFacts] = []
    entries: list[Entry] = []
    period_marks: list[PeriodMark] = []
    findings: list[OpenFinding] = []
    with ledger.snapshot() as tx:
        head = tx.audit_head()
        for class_id, subject_id in school.journals():
            key = journal_key(class_id, subject_id)
            for lesson in tx.lessons(key):
                facts = lesson.facts
                if _inside(facts.day, since, until):
                    lessons.append(LessonFacts(
                        class_id, subject_id, facts.day, facts.lesson_no, facts.topic,
                        facts.classwork, facts.work_type, facts.homework,
                        _local(school, lesson.first_seen), _local(school, lesson.last_changed),
                    ))
            entries.extend(
                Entry(class_id, subject_id, e.pupil_id, e.day, e.lesson_no, e.value or e.raw,
                      e.kind, _local(school, e.first_seen), e.accepted_by)
                for e in tx.entries(key, since=since, until=until)
            )
            period_marks.extend(
                PeriodMark(class_id, subject_id, m.pupil_id, m.period, m.value)
                for m in tx.period_marks(key)
            )
            findings.extend(
                OpenFinding(class_id, subject_id, f.rule, f.severity, f.message,
                            _local(school, f.opened), f.pupil_id, f.day)
                for f in tx.findings(key)
            )
        absences = [
            Absence(cls.id, a.pupil_id, a.day, a.reason)
            for cls in school.classes
            for a in tx.absences(cls.id)
        ]
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
    )


def _inside(day: date, since: date | None, until: date | None) -> bool:
    return (since is None or day >= since) and (until is None or day <= until)


def _local(school: School, moment: datetime) -> datetime:
    return moment.astimezone(school.timezone)
