"""Class teachers on their class spreadsheets: on «Посещаемость» they give reasons for the
absences the subject teachers marked («н»), mostly within the window the regulation gives for
sick notes, sometimes beyond it; on «Список класса» they enter a parent's application date on
the day the application comes (parents.csv's dates after the set-up day: the service shows only
applications already made, the class teacher types the rest when they come).

The oracle side is kept here from the simulation's own actions: the reasons typed within the
window (by the simulation's reckoning: a day's reasons are open until the end of the day
``ABSENCE_OPEN_DAYS`` calendar days later, read by hand from config/example/school.toml's
``absence_reason_open_days`` default) are what the ledger must hold, exactly; those beyond it are
refused by the sheet and must not be; the parents whose date was typed may read the diary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sync.backends.protocol import CellRange
from sync.layout.class_sheet.spec import ClassReading, parse_class
from sync.layout.labels import RU
from sync.ledger.model import FileKind
from tests.sim.people import People

ABSENCE_OPEN_DAYS = 7
REASONS = ("б", "у", "н")
P_LATE_REASON = 0.15  # a class teacher's reason for an absence beyond the window, per day
PER_DAY = 3  # reasons a class teacher gives a day at most

Key = tuple[str, str, date]  # class, pupil, day


@dataclass
class ClassTeachers:
    people: People
    setup_day: date
    reasons: dict[Key, str] = field(default_factory=dict)  # accepted by the oracle's reckoning
    refused: dict[Key, str] = field(default_factory=dict)  # typed beyond the window
    given: set[Key] = field(default_factory=set)
    consents: set[str] = field(default_factory=set)  # parents' e-mails whose date was typed

    def readers(self, day: date) -> set[tuple[str, str]]:
        """(e-mail, pupil) of the parents who may read the diary after ``day``: applied by the
        set-up day (shown from parents.csv), or their date typed by the class teacher."""
        return {(p.email.lower(), p.pupil_id) for p in self.people.school.parents
                if p.email and p.consent is not None and p.consent <= day
                and (p.consent <= self.setup_day or p.email.lower() in self.consents)}

    def _reading(self, class_id: str) -> tuple[str, ClassReading]:
        file_id = self.people.world.files(FileKind.CLASS)[class_id]
        tabs = [RU.roster_tab, RU.attendance_tab]
        grids = self.people.world.read(file_id, tabs)
        return file_id, parse_class(grids, self.people.school, class_id)

    def work(self, day: date) -> None:
        """Each class teacher: today's applications, then a few reasons."""
        school, rng = self.people.school, self.people.rng
        absent = sorted({(c[0].split("/")[0], c[1], c[2])
                         for c, v in self.people.oracle.expected().items() if v == "н"})
        for school_class in school.classes:
            teacher = school.teacher(school_class.class_teacher_id or "")
            if teacher is None or not teacher.email:
                continue
            file_id, reading = self._reading(school_class.id)
            edits: list[tuple[CellRange, str]] = []
            applied = self._applications(school_class.id, day, reading, edits)
            typed: list[tuple[Key, str, CellRange]] = []
            attendance = reading.map.attendance
            open_ = [k for k in absent if k[0] == school_class.id and k not in self.given
                     and day - timedelta(days=ABSENCE_OPEN_DAYS - 1) <= k[2] <= day]
            late = [k for k in absent if k[0] == school_class.id and k not in self.given
                    and k[2] < day - timedelta(days=ABSENCE_OPEN_DAYS + 1)]
            picks = rng.sample(open_, min(PER_DAY, len(open_)))
            if late and rng.random() < P_LATE_REASON:
                picks.append(rng.choice(late))
            for key in picks:
                where = attendance.cell(key[1], key[2]) if attendance else None
                if where is not None:
                    typed.append((key, rng.choice(REASONS), where))
            refused = self.people.world.type(teacher.email, file_id,
                                             edits + [(w, v) for _, v, w in typed])
            self.consents |= {email for email, where in applied if where not in refused}
            for key, value, where in typed:
                self.given.add(key)
                in_time = day <= key[2] + timedelta(days=ABSENCE_OPEN_DAYS)
                if in_time and where not in refused:
                    self.reasons[key] = value
                    self.people.oracle.counts["reasons_in_time"] += 1
                elif not in_time:
                    self.refused[key] = value
                    self.people.oracle.counts["reasons_late"] += 1
                    self.people.oracle.counts["reasons_late_refused"] += where in refused
                else:
                    self.people.oracle.counts["reasons_refused_in_time"] += 1

    def _applications(self, class_id: str, day: date, reading: ClassReading,
                      edits: list[tuple[CellRange, str]]) -> list[tuple[str, CellRange]]:
        """Parents of the class whose application came by today (after the set-up day) and is
        not typed yet: their date typed into their slot (slots in parents.csv's id order)."""
        roster = reading.map.roster
        out: list[tuple[str, CellRange]] = []
        if roster is None:
            return out
        for pupil in self.people.school.pupils_in(class_id):
            mine = sorted(self.people.school.parents_of(pupil.id), key=lambda p: p.id)
            for n, parent in enumerate(mine, 1):
                if not parent.email or parent.consent is None or parent.consent > day \
                        or parent.consent <= self.setup_day \
                        or parent.email.lower() in self.consents:
                    continue
                row, col = roster.rows.get(pupil.id), roster.columns.get(f"parent_consent:{n}")
                if row is None or col is None:
                    continue
                where = CellRange(roster.title, row, col, row + 1, col + 1)
                edits.append((where, parent.consent.strftime("%d.%m.%Y")))
                out.append((parent.email.lower(), where))
                self.people.oracle.counts["applications_typed"] += 1
        return out


def reasons_as_given(teachers: ClassTeachers) -> list[str]:
    """The ledger's absence reasons = those the class teachers typed within the window, exactly;
    none typed beyond it."""
    got: dict[Key, str] = {}
    with teachers.people.world.svc.ledger.snapshot() as tx:
        for school_class in teachers.people.school.classes:
            for r in tx.absences(school_class.id):
                got[(school_class.id, r.pupil_id, r.day)] = r.raw
    out = []
    for key in sorted(set(got) | set(teachers.reasons)):
        if got.get(key) == teachers.reasons.get(key):
            continue
        if key in teachers.refused and key not in teachers.reasons:
            out.append(f"absence reason {key} {got[key]!r} typed after its window, accepted")
        else:
            out.append(f"absence reason {key}: the ledger holds {got.get(key)!r}, the class "
                       f"teacher gave {teachers.reasons.get(key)!r} in time")
    return out
