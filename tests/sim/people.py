"""The simulated people: teachers typing a school day (on time, late within the checking norm,
late beyond it, typos and their fixes, a substitute), owners tampering with locked cells.

Each person types as themselves (``World.type``); the journal's layout is found with the
service's own parser on what the simulation reads (rows and columns are never assumed) and the
teachers' habits are the demo's (``sync.demo.teachers``: marks, absences, lesson facts). Every
mark cell typed is told to the oracle with the simulation's own verdict on its window.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import gspread

from rules.model import Lesson
from sync.backends.protocol import CellRange
from sync.demo.teachers import TYPOS, Teachers, as_scheme
from sync.jobs.service import journal_key
from sync.layout.journal.frame import planned_topics
from sync.layout.journal.spec import JournalReading, parse_journal
from sync.layout.labels import RU
from sync.ledger.model import FileKind
from tests.sim.oracle import Cell, Oracle, Typed
from tests.sim.world import World
from tests.sync.engine_fixtures import ORGANIZER

CONTROL = "Контрольная работа"
PLAIN = "Работа на уроке"  # no checking norm: its marks close at the lesson day's end
# Checking norms of a control work, read by hand from config/example/school.toml ([[grace]]):
# grades 1–4 one day, 5–11 seven days after the lesson day. A lesson without grace closes at its
# day's end (23:59).
CONTROL_GRACE = ((4, 1), (11, 7))
P_TYPO, P_FIX, P_LATE_CONTROL, P_FORGOT = 0.06, 0.85, 0.7, 0.04


def control_grace(grade: int) -> int:
    return next(days for top, days in CONTROL_GRACE if grade <= top)


@dataclass
class Pending:
    """Marks a teacher owes: a control work checked at home, typed on a later day."""

    journal: tuple[str, str]
    lesson: Lesson
    closes: date  # the last day its marks are open (the simulation's reckoning)


@dataclass
class People:
    world: World
    oracle: Oracle
    rng: random.Random
    readings: dict[str, JournalReading] = field(default_factory=dict)
    typos: list[tuple[str, str, Cell, CellRange]] = field(default_factory=list)
    owed: list[Pending] = field(default_factory=list)
    plain: list[tuple[tuple[str, str], Lesson]] = field(default_factory=list)  # closed at day end
    tampered: list[tuple[Cell, str]] = field(default_factory=list)  # awaiting the revert check
    tampered_total: int = 0  # checked already
    damaged: set[str] = field(default_factory=set)
    day_end: set[tuple[str, date, int]] = field(default_factory=set)  # lessons closing that day

    def __post_init__(self) -> None:
        self.school = self.world.school
        self.lessons = self.school.lessons()
        self.habits = Teachers(self.world.svc, self.rng)  # the demo's habits: marks, facts

    # ------------------------------------------------------------------ looking at a journal

    def reading(self, key: str) -> JournalReading:
        """The journal's layout as the simulation sees it (cached until its structure changes)."""
        if key not in self.readings:
            file_id = self.world.files(FileKind.JOURNAL)[key]
            class_id, subject_id = key.split("/")
            tabs = [p.name for p in self.school.year.periods] + [RU.lessons_tab]
            grids = self.world.read(file_id, tabs)
            self.readings[key] = parse_journal(grids, self.school, class_id, subject_id,
                                               self.lessons[(class_id, subject_id)])
        return self.readings[key]

    def forget(self, key: str) -> None:
        self.readings.pop(key, None)

    def teacher(self, class_id: str, subject_id: str, day: date) -> tuple[str, str]:
        """(id, e-mail) of who fills the journal on ``day``: the substitute if there is one."""
        for sub in self.school.substitutes_on(day):
            if (sub.class_id, sub.subject_id) == (class_id, subject_id):
                teacher_id = sub.teacher_id
                break
        else:
            teacher_id = self.school.teachers_of(class_id, subject_id)[0]
        found = self.school.teacher(teacher_id)
        assert found is not None and found.email
        return teacher_id, found.email

    # ------------------------------------------------------------------ a school day

    def school_day(self, day: date) -> None:
        """Every journal with a lesson today: lesson facts and marks (a control work's marks
        later); the control works checked since, typed within their norm; now and then a teacher
        who forgot a past lesson types its marks after it closed."""
        files = self.world.files(FileKind.JOURNAL)
        self.typos = []
        for (class_id, subject_id), lessons in sorted(self.lessons.items()):
            key = journal_key(class_id, subject_id)
            mine = [x for x in lessons if x.day == day]
            if not mine or key not in files:
                continue
            edits: list[tuple[CellRange, str]] = []
            marks: list[tuple[Cell, str, bool]] = []
            reading = self.reading(key)
            planned = planned_topics(self.school, class_id, subject_id, lessons)
            for lesson in mine:
                lk = (lesson.day, lesson.lesson_no)
                facts = self.habits._lesson_facts(reading, lk, planned.get(lk, ""))
                edits += facts
                substitute = any((s.class_id, s.subject_id) == (class_id, subject_id)
                                 for s in self.school.substitutes_on(day))
                if any(value == CONTROL for _, value in facts) and self.rng.random() < \
                        P_LATE_CONTROL and not substitute:  # a substitute marks on the spot
                        grade = self.school_class_grade(class_id)
                        closes = day + timedelta(days=control_grace(grade))
                        self.owed.append(Pending((class_id, subject_id), lesson, closes))
                        continue
                if any(value == PLAIN for _, value in facts):
                    self.plain.append(((class_id, subject_id), lesson))
                    self.day_end.add((key, lesson.day, lesson.lesson_no))
                marks += self._marks(class_id, subject_id, lesson, reading)
            self._type(key, files[key], day, edits, marks)
        self._owed(day, files)
        self._forgot(day, files)

    def school_class_grade(self, class_id: str) -> int:
        found = next(c for c in self.school.classes if c.id == class_id)
        return found.grade

    def _marks(self, class_id: str, subject_id: str, lesson: Lesson,
               reading: JournalReading) -> list[tuple[Cell, str, bool]]:
        """(cell, value, valid) of the pupils the teacher marks in one lesson."""
        key = journal_key(class_id, subject_id)
        scheme = self.school.assessment_of(class_id, subject_id)
        out: list[tuple[Cell, str, bool]] = []
        for pupil in self.school.pupils_in(class_id, on=lesson.day):
            if reading.map.cell(pupil.id, (lesson.day, lesson.lesson_no)) is None:
                continue
            cell = (key, pupil.id, lesson.day, lesson.lesson_no)
            if self.rng.random() < P_TYPO / 4:
                out.append((cell, self.rng.choice(TYPOS), False))
                continue
            value = as_scheme(self.habits._mark(), scheme)
            if value:
                out.append((cell, value, True))
        return out

    def _type(self, key: str, file_id: str, day: date, edits: list[tuple[CellRange, str]],
              marks: list[tuple[Cell, str, bool]], *, in_time: bool = True) -> None:
        class_id, subject_id = key.split("/")
        who_id, email = self.teacher(class_id, subject_id, day)
        reading = self.reading(key)
        targets = []
        for cell, _, _ in marks:
            target = reading.map.cell(cell[1], (cell[2], cell[3]))
            assert target is not None
            targets.append(target)
        refused = self.world.type(email, file_id, edits + list(zip(targets, [m[1] for m in marks],
                                                                     strict=True)))
        now = self.world.now()
        for (cell, value, valid), target in zip(marks, targets, strict=True):
            self.oracle.record(Typed(cell, value, now, who_id, valid, in_time, target in refused))
            if not valid and target not in refused:
                self.typos.append((key, file_id, cell, target))

    def _owed(self, day: date, files: dict[str, str]) -> None:
        """Control works checked at home: their marks typed on a later school day, within the
        norm (else left for good: a teacher who missed it files a correction, not here)."""
        still = []
        for owed in self.owed:
            if owed.lesson.day >= day:
                still.append(owed)
                continue
            if day <= owed.closes:
                class_id, subject_id = owed.journal
                key = journal_key(class_id, subject_id)
                marks = self._marks(class_id, subject_id, owed.lesson, self.reading(key))
                self._type(key, files[key], day, [], marks)
                self.oracle.counts["late_within"] += len(marks)
        self.owed = still

    def _forgot(self, day: date, files: dict[str, str]) -> None:
        """A teacher types a mark into a lesson of some days ago that closed at its day's end:
        the spreadsheet refuses (or, if the protection is missing, the service must not take it)."""
        past = [(j, x) for j, x in self.plain if x.day < day - timedelta(days=1)]
        self.plain = [(j, x) for j, x in self.plain if x.day >= day - timedelta(days=14)]
        if not past or self.rng.random() > P_FORGOT * 10:
            return
        (class_id, subject_id), lesson = self.rng.choice(past)
        key = journal_key(class_id, subject_id)
        marks = self._marks(class_id, subject_id, lesson, self.reading(key))[:2]
        marks = [(c, v, True) for c, v, ok in marks if ok]
        self._type(key, files[key], day, [], marks, in_time=False)

    def fix_typos(self, keep_share: float = 1 - P_FIX) -> int:
        """Teachers see today's findings and type the right mark (some typos stay)."""
        fixed = 0
        for key, file_id, cell, target in self.typos:
            if self.rng.random() < keep_share:
                continue
            class_id, subject_id = key.split("/")
            value = as_scheme("5", self.school.assessment_of(class_id, subject_id)) or "н"
            who_id, email = self.teacher(class_id, subject_id, self.now().date())  # who types today
            refused = self.world.type(email, file_id, [(target, value)])
            self.oracle.record(Typed(cell, value, self.world.now(), who_id, True, True,
                                     bool(refused)))
            fixed += 1
        self.oracle.counts["typos_fixed"] += fixed
        self.typos = []
        return fixed

    # ------------------------------------------------------------------ owners

    def tamper(self, day: date) -> Cell | None:
        """Someone with owner rights changes a locked mark (of a lesson that closed at its day's
        end, or more than a week ago) in the file, past the protection."""
        expected = self.oracle.expected()
        old = [c for c in self.locked(day) if expected[c][:1].isdigit()]
        if not old:
            return None
        cell = self.rng.choice(sorted(old))
        file_id = self.world.files(FileKind.JOURNAL)[cell[0]]
        target = self.reading(cell[0]).map.cell(cell[1], (cell[2], cell[3]))
        assert target is not None
        value = "2" if expected[cell] != "2" else "5"
        self.world.type("owner", file_id, [(target, value)], owner=True)
        self.oracle.record(Typed(cell, value, self.world.now(), "owner", True, False, False,
                                 owner=True))
        self.tampered.append((cell, value))
        return cell

    def locked(self, day: date) -> list[Cell]:
        """The cells with an expected value closed before ``day`` by the simulation's reckoning:
        of a lesson that closed at its day's end, or more than a week old."""
        return sorted(c for c in self.oracle.expected() if c[2] < day and (
            (c[0], c[2], c[3]) in self.day_end or c[2] < day - timedelta(days=8)))

    def shows(self, cell: Cell) -> str:
        """What the journal's cell shows now."""
        file_id = self.world.files(FileKind.JOURNAL)[cell[0]]
        target = self.reading(cell[0]).map.cell(cell[1], (cell[2], cell[3]))
        assert target is not None
        grid = self.world.read(file_id, [target.tab])[target.tab]
        row = grid[target.start_row] if target.start_row < len(grid) else []
        value = row[target.start_col] if target.start_col < len(row) else ""
        return str(value if value is not None else "")

    def now(self) -> datetime:
        return self.world.now()


def share_where_not_allowed(people: People, day: date) -> int:
    """A teacher shares their journal with a parent (as writer) and with anyone who has the link
    — what the service must take back (emulator only: the local backend shares nothing); returns
    how many shares Drive took."""
    world = people.world
    if world.rig is None:
        return 0
    journals = sorted(world.files(FileKind.JOURNAL).items())
    key, file_id = people.rng.choice(journals)
    class_id, subject_id = key.split("/")
    _, email = people.teacher(class_id, subject_id, day)
    parent = next((p.email for p in people.school.parents if p.email), None)
    client = world.rig.client(email).http_client
    taken = 0
    for who, kind, role in ((parent, "user", "writer"), (None, "anyone", "reader")):
        try:
            client.insert_permission(file_id, who, perm_type=kind, role=role, notify=False)
            taken += 1
        except gspread.exceptions.APIError as exc:
            if exc.response.status_code not in (400, 403):
                raise
    people.oracle.counts["shares_tried"] += 2
    people.oracle.counts["shares_taken"] += taken
    return taken


def damage_structure(people: People, day: date) -> str | None:
    """Someone with owner rights inserts a column into a journal's current period tab, left of
    its lessons (emulator; on the local backend the same is an openpyxl edit, not simulated):
    every cell right of it moves. The service must keep reading the journal right."""
    world = people.world
    if world.rig is None:
        return None
    key, file_id = people.rng.choice(sorted(world.files(FileKind.JOURNAL).items()))
    period = next((p for p in people.school.year.periods if p.start <= day <= p.end), None)
    if period is None:
        return None
    sheet = next(s for s in world.rig.emu.files[file_id].spreadsheet.sheets
                 if s.title == period.name)
    world.rig.client(ORGANIZER).http_client.batch_update(file_id, {"requests": [{
        "insertDimension": {"range": {"sheetId": sheet.sheet_id, "dimension": "COLUMNS",
                                      "startIndex": 2, "endIndex": 3},
                            "inheritFromBefore": False}}]})
    people.forget(key)
    people.damaged.add(key)  # its layout re-read after every cycle today (a repair moves it)
    people.oracle.counts["damaged"] += 1
    return key
