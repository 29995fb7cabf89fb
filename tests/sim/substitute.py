"""A teacher is absent and substituted (R9): the simulated school gets one substitution early in
the year (besides the example's own, in November), so the short run has one too. The substitute
fills the absent teacher's journal that day (``People.teacher`` picks them) and must be let in:
writer on that journal that afternoon, every mark typed taken. Every day: no teacher writes a
journal or class spreadsheet that is not theirs (assignments.csv, classes.csv; the substitute
only on the substitution day, before its end) — on the emulator, from its own access decision.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

from config.school import School, Substitution
from rules.calendar import school_days
from sync.ledger.model import FileKind
from tests.sim.people import People

SUB_DAY = 7  # the school day (0-based) of the simulation's own substitution
WRITES = ("writer", "owner")


def with_substitution(school: School) -> School:
    """The school plus one substitution on school day ``SUB_DAY``: the first journal (by key)
    with a lesson that day, taken by the first teacher (by id) not teaching it."""
    day = school_days(school.year)[SUB_DAY]
    lessons = school.lessons()
    class_id, subject_id = next(k for k in sorted(lessons) if any(x.day == day
                                                                  for x in lessons[k]))
    own = set(school.teachers_of(class_id, subject_id))
    teacher = next(t for t in sorted(school.teachers, key=lambda t: t.id)
                   if t.id not in own and t.email)
    sub = Substitution(day, class_id, subject_id, teacher.id)
    return dataclasses.replace(school, substitutions=(*school.substitutions, sub))


def substitute_let_in(people: People, day: date) -> list[str]:
    """Before the substitute types (14:50 of the day): writer on the journal."""
    world = people.world
    if world.rig is None:
        return []
    out = []
    for sub in people.school.substitutes_on(day):
        teacher = people.school.teacher(sub.teacher_id)
        file_id = world.files(FileKind.JOURNAL).get(f"{sub.class_id}/{sub.subject_id}")
        if teacher is None or file_id is None:
            continue
        role = world.rig.emu.role_in(teacher.email, world.rig.emu.files[file_id])
        people.oracle.counts["substitutions"] += 1
        if role not in WRITES:
            out.append(f"the substitute {sub.teacher_id} cannot write {sub.class_id}/"
                       f"{sub.subject_id} on the substitution day ({role})")
    return out


def substitute_typed(people: People, day: date) -> list[str]:
    """After the day's typing: every mark the substitute typed into the absent teacher's
    journal for that day's lessons was taken by the sheet."""
    out = []
    for sub in people.school.substitutes_on(day):
        key = f"{sub.class_id}/{sub.subject_id}"
        mine = [t for t in people.oracle.typed if t.who == sub.teacher_id and t.at.date() == day
                and t.cell[0] == key and t.cell[2] == day]
        people.oracle.counts["typed_by_substitutes"] += len(mine)
        out += [f"the substitute's mark {t.cell} was refused" for t in mine if t.refused]
    return out


def teachers_write_only_their_own(people: People, now: datetime) -> list[str]:
    """No teacher holds write access to a journal or class spreadsheet not theirs."""
    world, school = people.world, people.school
    if world.rig is None:
        return []
    day_end = datetime.combine(now.date(), school.policies.lock.day_end, now.tzinfo)
    emails = {t.email.lower(): t.id for t in school.teachers if t.email}
    out = []
    for kind in (FileKind.JOURNAL, FileKind.CLASS):
        for key, file_id in world.files(kind).items():
            if kind is FileKind.JOURNAL:
                class_id, subject_id = key.split("/")
                allowed = set(school.teachers_of(class_id, subject_id))
                allowed |= {s.teacher_id for s in school.substitutes_on(now.date())
                            if (s.class_id, s.subject_id) == (class_id, subject_id)
                            and now < day_end}
            else:
                found = school.school_class(key)
                allowed = {found.class_teacher_id} if found and found.class_teacher_id else set()
            f = world.rig.emu.files[file_id]
            for email, teacher_id in emails.items():
                role = world.rig.emu.role_in(email, f)
                if role in WRITES and teacher_id not in allowed:
                    out.append(f"teacher {teacher_id} is {role} of {kind.value} {key}")
    return out


