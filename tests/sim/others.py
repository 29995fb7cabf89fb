"""The school's other people in the simulated day, besides the subject teachers and owners of
``tests.sim.people``: the deputy filing corrections (``tests.sim.deputy``), substitutes
(``tests.sim.substitute``), class teachers (``tests.sim.classes``), parents reading diaries
(``tests.sim.parents``). Each has its hook in the day and its invariants (:meth:`Others.checks`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from sync.jobs.acl import run_acl
from sync.jobs.service import Service
from tests.sim.classes import ClassTeachers, reasons_as_given
from tests.sim.deputy import Deputy, corrections_as_filed
from tests.sim.parents import read_diaries
from tests.sim.people import People
from tests.sim.substitute import (
    substitute_let_in,
    substitute_typed,
    teachers_write_only_their_own,
)

CORRECT_EVERY = 4  # school days: the deputy files a correction
FORGED_DAY = 6  # the school day a teacher types a correction of her own (emulator)


def _acl_fix(svc: Service) -> Any:
    """The daemon's sharing check (``ejournal acl fix``)."""
    return run_acl(svc, svc.now(), fix=True)


@dataclass
class Others:
    people: People
    deputy: Deputy = field(init=False)
    classes: ClassTeachers = field(init=False)
    forged_today: bool = False
    problems: list[str] = field(default_factory=list)  # found during the day

    def __post_init__(self) -> None:
        self.deputy = Deputy(self.people)
        self.classes = ClassTeachers(self.people, self.people.world.now().date())

    def before_lessons(self, day: date) -> None:
        """14:50: a substitute of today must be let in."""
        self.people.world.at(day, time(14, 50))
        self.problems += substitute_let_in(self.people, day)

    def after_lessons(self, day: date) -> None:
        """15:30: the substitute's marks were taken; the class teachers: applications and
        absence reasons."""
        self.problems += substitute_typed(self.people, day)
        self.people.world.at(day, time(15, 30))
        self.classes.work(day)

    def morning(self, day: date, number: int) -> None:
        """11:00: a correction row (the deputy's, or once a teacher's)."""
        self.people.world.at(day, time(11))
        self.forged_today = False
        if number == FORGED_DAY:
            self.forged_today = self.deputy.teacher_tries(day) is not None
        elif number % CORRECT_EVERY == CORRECT_EVERY - 1:
            self.deputy.correct(day)

    def evening(self, day: date, chaos: Any) -> None:
        """19:30: the sharing check takes back what was granted by hand (the teacher's write
        access to the admin spreadsheet)."""
        if not self.forged_today:
            return
        self.people.world.at(day, time(19, 30))
        if chaos.run(_acl_fix) is None:
            chaos.run(_acl_fix, quiet=True)

    def checks(self, day: date) -> list[str]:
        found, self.problems = self.problems, []
        return (found + corrections_as_filed(self.deputy) + reasons_as_given(self.classes)
                + teachers_write_only_their_own(self.people, self.people.world.now())
                + read_diaries(self.people, day, self.classes.readers(day)))
