"""Shared rig of the engine tests: the example school on the Google emulator, the real gspread
client underneath, a ledger in ``tmp_path``, teachers as their own principals, a fake clock.

The service principal works through :class:`~sync.backends.google.backend.GoogleBackend` on a shared drive
(it has no Drive storage of its own); each teacher types through a real ``gspread.Client`` acting
as the teacher's e-mail from the config, as a browser would (USER_ENTERED); the drive's organizer
(``ORGANIZER``, an owner-level principal) can edit protected cells — the tampering the engine must
revert. The service's clock IS the emulator's clock (``Service.clock = emu.clock.now`` in the
school's zone), so throttling sleeps, quotas, change times and ledger times agree.

Owned by engineer A (engine); engineers B and C may import it.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import requests

from config.school import BackendKind, School
from rules.model import Lesson
from sync.backends.google.auth import client_for_session
from sync.backends.google.backend import GoogleBackend
from sync.backends.protocol import CellRange, Grid
from sync.jobs.journal_sync import journal_titles
from sync.jobs.service import Service, journal_key, split_journal_key
from sync.jobs.setup import run_setup
from sync.layout.journal.spec import JournalReading, parse_journal
from sync.layout.labels import RU
from sync.ledger.model import FileKind, FileRecord
from tests.emulator import EmulatorAdapter, GoogleEmulator
from tests.sync.backend_helpers import FakeTime
from tests.sync.layout_helpers import example_school

SVC = "service@ejournal.iam.gserviceaccount.com"
ORGANIZER = "director@school1234.example"  # manager of the shared drive: owner-level edits
DAY = date(2026, 9, 8)  # a Tuesday of the first quarter
SMALL = (("7Б", "algebra"), ("7Б", "russian"), ("10А", "algebra"))  # a quick subset of journals


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A school-time moment (Europe/Moscow, the example school's zone)."""
    return datetime.combine(day, time(hour, minute), tzinfo=example_school().timezone)


def school_for(ledger: Path, *, journals: Iterable[tuple[str, str]] | None = None,
               drive: str | None = None) -> School:
    """The example school with its ledger at ``ledger`` on the google backend (a shared drive);
    ``journals`` keeps only those class+subject assignments (a quicker school)."""
    school = example_school()
    if journals is not None:
        keep = set(journals)
        school = dataclasses.replace(
            school,
            assignments=tuple(a for a in school.assignments
                              if (a.class_id, a.subject_id) in keep),
        )
    backend = dataclasses.replace(school.backend, kind=BackendKind.GOOGLE, folder=None,
                                  shared_drive_folder_id=drive)
    return dataclasses.replace(school, ledger_path=ledger, backend=backend)


@dataclass
class EngineRig:
    """The emulator, the school, the service and helpers to act as teachers and organizers."""

    emu: GoogleEmulator
    drive: str
    school: School
    ledger_path: Path
    time: FakeTime
    svc: Service
    _sessions: list[requests.Session] = field(default_factory=list)
    _clients: dict[str, Any] = field(default_factory=dict)
    _inspector: GoogleBackend | None = None

    # ---- time ------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.emu.clock.now().astimezone(self.school.timezone)

    def set_now(self, when: datetime) -> None:
        self.emu.clock.set(when)

    # ---- services --------------------------------------------------------------------------

    def backend(self, principal: str = SVC, seed: int = 7) -> GoogleBackend:
        """A fresh GoogleBackend (new session, empty caches) acting as ``principal``."""
        session = requests.Session()
        session.mount("https://", EmulatorAdapter(self.emu))
        self._sessions.append(session)
        conn = client_for_session(session, principal, clock=self.time.now, sleep=self.time.sleep,
                                  rng=random.Random(seed))
        return GoogleBackend(conn, folder=self.drive, rng=random.Random(seed))

    def new_service(self) -> Service:
        """A NEW service process on the same ledger file (the old one is closed first)."""
        self.svc.close()
        self.svc = Service.open(self.school, backend=self.backend(), clock=self.now)
        return self.svc

    def close(self) -> None:
        self.svc.close()
        for client in self._clients.values():
            client.http_client.session.close()
        for session in self._sessions:
            session.close()

    # ---- people ----------------------------------------------------------------------------

    def client(self, principal: str) -> Any:
        """A real gspread client acting as ``principal`` (cached)."""
        if principal not in self._clients:
            self._clients[principal] = self.emu.client(principal)
        return self._clients[principal]

    def teacher_email(self, class_id: str, subject_id: str) -> str:
        teacher_id = self.school.teachers_of(class_id, subject_id)[0]
        teacher = self.school.teacher(teacher_id)
        assert teacher is not None
        return teacher.email

    def type(self, principal: str, file_id: str, where: CellRange, value: str) -> None:
        """``principal`` types ``value`` into one cell in the browser (USER_ENTERED); raises the
        gspread APIError when the emulator refuses (a protected cell)."""
        self.client(principal).http_client.values_update(
            file_id, where.a1().split(":")[0], params={"valueInputOption": "USER_ENTERED"},
            body={"values": [[value]]})

    # ---- looking at journals (as the organizer: never counted as the service's calls) ------

    @property
    def inspector(self) -> GoogleBackend:
        if self._inspector is None:
            self._inspector = self.backend(ORGANIZER)
        return self._inspector

    def journal(self, class_id: str, subject_id: str) -> FileRecord:
        with self.svc.ledger.snapshot() as tx:
            record = tx.file_for(FileKind.JOURNAL, journal_key(class_id, subject_id))
        assert record is not None, f"journal {class_id}/{subject_id} is not registered"
        return record

    def lessons(self, class_id: str, subject_id: str) -> list[Lesson]:
        return sorted(self.school.lessons()[(class_id, subject_id)],
                      key=lambda x: (x.day, x.lesson_no))

    def lesson_on(self, class_id: str, subject_id: str, day: date) -> Lesson:
        return next(x for x in self.lessons(class_id, subject_id) if x.day == day)

    def grids(self, file_id: str, *, findings: bool = True) -> dict[str, Grid]:
        titles = journal_titles(self.school) + ([RU.findings_tab] if findings else [])
        return self.inspector.read(file_id, titles)

    def reading(self, class_id: str, subject_id: str) -> JournalReading:
        record = self.journal(class_id, subject_id)
        return parse_journal(self.grids(record.id), self.school, class_id, subject_id,
                             self.lessons(class_id, subject_id))

    def cell(self, class_id: str, subject_id: str, pupil_id: str, day: date) -> CellRange:
        lesson = self.lesson_on(class_id, subject_id, day)
        found = self.reading(class_id, subject_id).map.cell(pupil_id, (day, lesson.lesson_no))
        assert found is not None
        return found

    def findings_tab(self, file_id: str) -> Grid:
        return self.inspector.read(file_id, [RU.findings_tab])[RU.findings_tab]

    def calls(self, principal: str = SVC) -> dict[str, int]:
        """The emulator's call counters for ``principal``."""
        return {k: self.emu.calls_total(k, principal) for k in ("drive", "sheets_read",
                                                                 "sheets_write")}


def make_rig(tmp_path: Path, *, journals: Iterable[tuple[str, str]] | None = SMALL,
             start: datetime | None = None) -> EngineRig:
    """A rig at ``start`` (default 08.09.2026 08:00 school time) with every journal set up and
    shared with its teachers. ``journals=None`` keeps the whole example school (44 journals)."""
    emu = GoogleEmulator(service_principal=SVC, start=start or at(DAY, 8))
    drive = emu.create_shared_drive("ГБОУ Школа № 1234", organizers=[SVC, ORGANIZER])
    ledger = tmp_path / "ledger.sqlite3"
    school = school_for(ledger, journals=journals, drive=drive)
    fake = FakeTime(emu)
    rig = EngineRig(emu, drive, school, ledger, fake, svc=None)  # type: ignore[arg-type]
    rig.svc = Service.open(school, backend=rig.backend(), clock=rig.now)
    setup_school(rig.svc)
    emu.reset_counters()
    return rig


def setup_school(svc: Service) -> None:
    """Create and share every spreadsheet (engineer B's ``run_setup``)."""
    summary = run_setup(svc)
    assert not summary.failed, summary.to_json()


def journal_of(key: str) -> tuple[str, str]:
    return split_journal_key(key)


class Killed(BaseException):
    """The process dies at a cycle step (raised by :func:`kill_at`)."""


def kill_at(step: str) -> Callable[[str], None]:
    """An ``on_step`` hook that kills the process at the first ``step``."""
    def kill(name: str) -> None:
        if name == step:
            raise Killed(name)
    return kill
