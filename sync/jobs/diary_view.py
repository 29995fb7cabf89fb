"""From the ledger to the plain view of one pupil that ``rules.diary`` projects (``PupilView``).

Only accepted values are in the ledger's entries and period marks (an invalid cell is never
accepted; a cell locked holding invalid text has an empty value), so only they reach a diary.
Lesson facts are what the teachers wrote (topic, work type, homework); the lessons themselves
come from the calendar. A :class:`ClassCache` keeps each class's lessons and absence reasons for
one pass, so a class's thirty diaries cost its journals' lesson rows once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from config.school import School
from rules.diary_types import DiaryEntry, DiaryLesson, PupilView
from rules.model import AbsenceReason, Pupil, Subject
from sync.jobs.service import journal_key, split_journal_key
from sync.ledger.ledger import Tx


@dataclass(frozen=True)
class ClassFacts:
    subjects: tuple[Subject, ...]
    lessons: tuple[DiaryLesson, ...]
    reasons: dict[str, dict[date, AbsenceReason]]  # pupil → day → reason


@dataclass
class ClassCache:
    """Each class's lessons (with the teachers' facts) and absence reasons, read once."""

    school: School
    classes: dict[str, ClassFacts] = field(default_factory=dict)

    def facts(self, tx: Tx, class_id: str) -> ClassFacts:
        found = self.classes.get(class_id)
        if found is None:
            found = self.classes[class_id] = _class_facts(tx, self.school, class_id)
        return found


def class_subjects(school: School, class_id: str) -> tuple[Subject, ...]:
    """The class's subjects in assignment order (one per journal)."""
    out = []
    for cls, subject_id in school.journals():
        if cls == class_id:
            out.append(school.subject(subject_id) or Subject(subject_id, subject_id))
    return tuple(out)


def _class_facts(tx: Tx, school: School, class_id: str) -> ClassFacts:
    subjects = class_subjects(school, class_id)
    calendar = school.lessons()
    lessons: list[DiaryLesson] = []
    for subject in subjects:
        written = {(x.facts.day, x.facts.lesson_no): x.facts
                   for x in tx.lessons(journal_key(class_id, subject.id))}
        for x in calendar.get((class_id, subject.id), []):
            f = written.get((x.day, x.lesson_no))
            lessons.append(DiaryLesson(subject.id, x.day, x.lesson_no, x.period,
                                       f.topic if f else "", f.work_type if f else "",
                                       f.homework if f else ""))
    reasons: dict[str, dict[date, AbsenceReason]] = {}
    codes = {r.value: r for r in AbsenceReason}
    for r in tx.absences(class_id):
        if r.reason in codes:
            reasons.setdefault(r.pupil_id, {})[r.day] = codes[r.reason]
    return ClassFacts(subjects, tuple(lessons), reasons)


def pupil_view(tx: Tx, school: School, pupil: Pupil, cache: ClassCache) -> PupilView:
    """The view of ``pupil`` the diary is projected from (see the module docstring)."""
    facts = cache.facts(tx, pupil.class_id)
    mine = {s.id for s in facts.subjects}
    entries = []
    for e in tx.pupil_entries(pupil.id):
        class_id, subject_id = split_journal_key(e.journal)
        if class_id == pupil.class_id and subject_id in mine:
            entries.append(DiaryEntry(subject_id, e.day, e.lesson_no, e.value))
    period_marks = {}
    for p in tx.pupil_period_marks(pupil.id):
        class_id, subject_id = split_journal_key(p.journal)
        if class_id == pupil.class_id and subject_id in mine:
            period_marks[(subject_id, p.period)] = p.value
    return PupilView(
        pupil=pupil,
        subjects=facts.subjects,
        lessons=facts.lessons,
        entries=tuple(entries),
        period_marks=period_marks,
        reasons=facts.reasons.get(pupil.id, {}),
        slots=tuple(s for s in school.slots if s.class_id == pupil.class_id),
        changes=tuple(c for c in school.changes if c.class_id == pupil.class_id),
    )
