"""Simulated teachers for the demo: they type a school day into the journals' xlsx files.

A teacher looks at the journal (the service's own parser finds where each pupil's row and each
lesson's column are — rows and columns are never assumed) and types into the cells that are open,
as LibreOffice or Excel would: an openpyxl edit of the file in place, protected cells refused. Marks
are mostly 5/4/3, some "н", one double mark "5/4" a day, and a few typos ("6", "отл", "5-", "4,5")
that the sync turns into findings. Deterministic for a given ``random.Random``.
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import openpyxl

from rules.assessment import FAILED, PASSED, Assessment
from rules.model import Lesson
from sync.backends.protocol import CellRange
from sync.jobs.service import Service, journal_key
from sync.layout.journal.frame import planned_topics
from sync.layout.journal.map import LessonField
from sync.layout.journal.spec import JournalReading, parse_journal
from sync.layout.labels import RU
from sync.ledger.model import FileKind

logger = logging.getLogger(__name__)

MARKS = ("5", "4", "3", "2")
MARK_WEIGHTS = (35, 40, 20, 5)
TYPOS = ("6", "отл", "5-", "4,5")  # refused by the grammar: each becomes a finding
WORK_TYPES = (("Работа на уроке", 80), ("Самостоятельная работа", 12), ("Контрольная работа", 8))
CLASSWORK = ("упражнения в тетради", "работа у доски", "разбор задач", "беседа по теме")


@dataclass
class Typing:
    """What the teachers typed (counts only)."""

    journals: int = 0
    lessons: int = 0
    cells: int = 0  # mark cells typed (typos included)
    marks: int = 0
    doubles: int = 0
    absences: int = 0
    typos: int = 0
    refused: int = 0  # mark cells the spreadsheet program refused (protected: the day closed)

    def add(self, other: Typing) -> None:
        for name in Typing.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True, slots=True)
class _Typo:
    file_id: str
    journal: str
    pupil_id: str
    lesson: tuple[date, int]


@dataclass
class Teachers:
    """The school's teachers, typing into the journals registered in the service's ledger."""

    svc: Service
    rng: random.Random
    typos_today: list[_Typo] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lessons = self.svc.school.lessons()
        with self.svc.ledger.snapshot() as tx:
            self.files = {f.key: f.id for f in tx.files(FileKind.JOURNAL)}

    def school_day(self, day: date) -> Typing:
        """Every journal with a lesson on ``day`` gets that day's marks, absences and lesson facts."""
        done = Typing()
        self.typos_today = []
        todays = [
            (key, [x for x in lessons if x.day == day])
            for key, lessons in sorted(self.lessons.items())
        ]
        todays = [(key, mine) for key, mine in todays if mine and journal_key(*key) in self.files]
        typo_at = set(self.rng.sample(range(len(todays)), k=min(2, len(todays))))
        double_at = self.rng.randrange(len(todays)) if todays else -1
        for index, ((class_id, subject_id), mine) in enumerate(todays):
            typed = self._journal(
                class_id, subject_id, mine, typo=index in typo_at, double=index == double_at
            )
            done.add(typed)
        logger.info(
            "demo: %s: %d journals, %d cells typed, %d typos",
            day.isoformat(),
            done.journals,
            done.cells,
            done.typos,
        )
        return done

    def fix_typos(self, *, keep: int = 0) -> int:
        """The teachers see today's findings and type the marks right, all but ``keep`` of them
        (today's cells are still open); returns how many were fixed."""
        fixed = 0
        while len(self.typos_today) > keep:
            typo = self.typos_today.pop(0)
            reading = self._read(typo.file_id, *typo.journal.split("/"))
            target = reading.map.cell(typo.pupil_id, typo.lesson)
            if target is not None:
                right = as_scheme("5", self.svc.school.assessment_of(*typo.journal.split("/")))
                fixed += type_into(self._path(typo.file_id), [(target, right)],
                                   saved_at=self.svc.now())
        return fixed

    def tamper(self, day: date) -> str | None:
        """Someone with owner rights changes a mark of ``day`` (locked by now) in the file itself,
        past the sheet protection. Returns the journal as a person reads it («10А · Биология»),
        or None if no mark was found."""
        with self.svc.ledger.snapshot() as tx:
            found = next(
                (
                    (key, e)
                    for key in sorted(self.files)
                    for e in tx.entries(key)
                    if e.day == day and e.kind == "mark" and e.locked_at is not None
                ),
                None,
            )
        if found is None:
            return None
        key, entry = found
        file_id = self.files[key]
        reading = self._read(file_id, *key.split("/"))
        target = reading.map.cell(entry.pupil_id, (entry.day, entry.lesson_no))
        if target is None:
            return None
        changed = "5" if entry.value != "5" else "2"
        type_into(self._path(file_id), [(target, changed)], saved_at=self.svc.now(),
                  owner=True)
        class_id, subject_id = key.split("/")
        subject = self.svc.school.subject(subject_id)
        return f"{class_id} · {subject.name if subject else subject_id}"

    # ------------------------------------------------------------------ one journal

    def _journal(
        self,
        class_id: str,
        subject_id: str,
        lessons: Sequence[Lesson],
        *,
        typo: bool,
        double: bool,
    ) -> Typing:
        key = journal_key(class_id, subject_id)
        file_id = self.files[key]
        reading = self._read(file_id, class_id, subject_id)
        planned = planned_topics(
            self.svc.school, class_id, subject_id, self.lessons[(class_id, subject_id)]
        )
        edits: list[tuple[CellRange, str]] = []
        marks: set[int] = set()  # the mark cells among the edits (by identity)
        typed = Typing(journals=1)
        scheme = self.svc.school.assessment_of(class_id, subject_id)
        for lesson in lessons:
            lesson_key = (lesson.day, lesson.lesson_no)
            typed.lessons += 1
            edits += self._lesson_facts(reading, lesson_key, planned.get(lesson_key, ""))
            pupils = [p.id for p in self.svc.school.pupils_in(class_id, on=lesson.day)]
            typo_pupil = self.rng.choice(pupils) if typo and pupils else None
            double_pupil = self.rng.choice(pupils) if double and pupils else None
            typo, double = False, False  # one of each per journal and day
            for pupil_id in pupils:
                target = reading.map.cell(pupil_id, lesson_key)
                if target is None:
                    continue
                if pupil_id == typo_pupil:
                    value = self.rng.choice(TYPOS)
                    typed.typos += 1
                    self.typos_today.append(_Typo(file_id, key, pupil_id, lesson_key))
                elif pupil_id == double_pupil and scheme is Assessment.MARKS:
                    value = "5/4"
                    typed.doubles += 1
                else:
                    value = as_scheme(self._mark(), scheme)
                    if not value:
                        continue
                    if value == "н":
                        typed.absences += 1
                    else:
                        typed.marks += 1
                typed.cells += 1
                edits.append((target, value))
                marks.add(id(target))
        refused: list[CellRange] = []
        type_into(self._path(file_id), edits, saved_at=self.svc.now(), refused=refused)
        typed.refused = sum(1 for target in refused if id(target) in marks)
        return typed

    def _mark(self) -> str:
        roll = self.rng.random()
        if roll < 0.55:
            return ""
        if roll < 0.62:
            return "н"
        return self.rng.choices(MARKS, weights=MARK_WEIGHTS)[0]

    def _lesson_facts(
        self, reading: JournalReading, key: tuple[date, int], planned: str
    ) -> list[tuple[CellRange, str]]:
        names = [name for name, _ in WORK_TYPES]
        weights = [weight for _, weight in WORK_TYPES]
        facts = {
            LessonField.TOPIC: planned or "Повторение",
            LessonField.CLASSWORK: self.rng.choice(CLASSWORK),
            LessonField.WORK_TYPE: self.rng.choices(names, weights=weights)[0],
            LessonField.HOMEWORK: f"§ {self.rng.randint(1, 30)}, № {self.rng.randint(1, 400)}",
        }
        out = []
        for name, value in facts.items():
            target = reading.map.lesson_field(key, name)
            if target is not None:
                out.append((target, value))
        return out

    def _read(self, file_id: str, class_id: str, subject_id: str) -> JournalReading:
        school = self.svc.school
        tabs = [p.name for p in school.year.periods] + [RU.lessons_tab]
        grids = self.svc.backend.read(file_id, tabs)
        lessons = self.lessons[(class_id, subject_id)]
        return parse_journal(grids, school, class_id, subject_id, lessons)

    def _path(self, file_id: str) -> Path:
        path = getattr(self.svc.backend, "path", None)
        if path is None:
            raise TypeError("the demo's teachers type into local .xlsx files only")
        return Path(path(file_id))


def type_into(path: Path, edits: Sequence[tuple[CellRange, str]], *, saved_at: datetime,
              owner: bool = False, refused: list[CellRange] | None = None) -> int:
    """Type values into cells of an xlsx as a spreadsheet program would, and save at
    ``saved_at`` (the simulated clock: the file's mtime, always after its previous one); returns
    how many cells took the value. A locked cell of a protected tab refuses (unless ``owner``, who
    edits the file past its protection; ``refused`` collects those cells); mark cells are
    TEXT-formatted, so "5" stays text."""
    if not edits:
        return 0
    before = path.stat().st_mtime_ns
    book = openpyxl.load_workbook(path)
    written = 0
    for target, value in edits:
        sheet = book[target.tab]
        cell = sheet.cell(target.start_row + 1, target.start_col + 1)
        if not owner and sheet.protection.sheet and cell.protection.locked is not False:
            if refused is not None:
                refused.append(target)
            continue
        cell.value = value
        cell.data_type = "s"  # typed text, never a formula
        written += 1
    book.save(path)
    when = max(int(saved_at.timestamp() * 1_000_000_000), before + 1_000)
    os.utime(path, ns=(when, when))
    return written


def as_scheme(value: str, scheme: Assessment) -> str:
    """What a teacher types instead of a mark where the journal takes none: «зач»/«незач» in a
    зачёт course (a 2 fails), nothing at all without marks; codes stay as they are."""
    if scheme is Assessment.MARKS or not value[:1].isdigit():
        return value
    if scheme is Assessment.NONE:
        return ""
    return FAILED if value.startswith("2") else PASSED
