"""Rig of the diary tests: the example school on the Google emulator with its diaries on, cut to
two classes (7Б and 10А: three journals, 47 pupils) so a rig builds quickly; each person acts
through a real gspread client as themselves (teachers type, parents read).
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from config.school import DiarySettings, School
from sync.jobs.cycle import run_cycle
from sync.jobs.service import Service
from sync.layout.labels import RU
from sync.ledger.model import FileKind
from tests.emulator import GoogleEmulator
from tests.sync.access_invariants import assert_invariants
from tests.sync.backend_helpers import FakeTime
from tests.sync.engine_fixtures import DAY, ORGANIZER, SVC, EngineRig, at, school_for, setup_school

JOURNALS = (("7Б", "algebra"), ("7Б", "russian"), ("10А", "algebra"))
CLASSES = ("7Б", "10А")
DIARY_TABS = (RU.week_tab, RU.marks_tab, RU.attendance_tab, RU.totals_tab, RU.timetable_tab)
_SHEETS_ID = re.compile(r"/v4/spreadsheets/([^/:]+)")


def diary_school(ledger: Path, drive: str, **diaries: Any) -> School:
    school = school_for(ledger, journals=JOURNALS, drive=drive)
    pupils = tuple(p for p in school.pupils if p.class_id in CLASSES)
    ids = {p.id for p in pupils}
    return dataclasses.replace(
        school, pupils=pupils, parents=tuple(p for p in school.parents if p.pupil_id in ids),
        diaries=DiarySettings(enabled=True, **diaries))


def diary_rig(tmp_path: Path, *, start: datetime | None = None, **diaries: Any) -> EngineRig:
    """Like ``engine_fixtures.make_rig``, on the two-class school with diaries on (set up, no
    cycle run yet: the first cycle creates the diaries)."""
    emu = GoogleEmulator(service_principal=SVC, start=start or at(DAY, 8))
    drive = emu.create_shared_drive("ГБОУ Школа № 1234", organizers=[SVC, ORGANIZER])
    ledger = tmp_path / "ledger.sqlite3"
    school = diary_school(ledger, drive, **diaries)
    rig = EngineRig(emu, drive, school, ledger, FakeTime(emu), svc=None)  # type: ignore[arg-type]
    rig.svc = Service.open(school, backend=rig.backend(), clock=rig.now)
    setup_school(rig.svc)
    emu.reset_counters()
    return rig


@contextmanager
def synced_diary_rig(tmp_path: Path) -> Iterator[EngineRig]:
    """``diary_rig`` after its first cycle (at 9:00 on DAY, the diaries created), the counters
    reset; on exit nobody read or wrote what they must not, and the emulator saw no bug."""
    rig = diary_rig(tmp_path)
    rig.set_now(at(DAY, 9))
    first = run_cycle(rig.svc)
    assert first.ok, first.to_json()
    rig.emu.reset_counters()
    yield rig
    try:
        assert_invariants(rig)
    finally:
        rig.close()
    assert rig.emu.bugs == []


def type_mark(rig: EngineRig, class_id: str, subject: str, pupil_id: str, value: str,
              day: date = DAY) -> None:
    """The journal's teacher types ``value`` into the pupil's cell of ``day``'s lesson."""
    rig.type(rig.teacher_email(class_id, subject), rig.journal(class_id, subject).id,
             rig.cell(class_id, subject, pupil_id, day), value)


def diaries(rig: EngineRig) -> dict[str, str]:
    """Pupil id → diary file id, from the ledger."""
    with rig.svc.ledger.snapshot() as tx:
        return {f.key: f.id for f in tx.files(FileKind.DIARY)}


def diary_writes(rig: EngineRig) -> Counter[str]:
    """Sheets write calls of the service on each pupil's diary since the counters were reset."""
    by_file = {v: k for k, v in diaries(rig).items()}
    out: Counter[str] = Counter()
    for call in rig.emu.log:
        found = _SHEETS_ID.search(call.path)
        if call.principal == SVC and call.method == "POST" and found:
            pupil = by_file.get(found.group(1))
            if pupil is not None:
                out[pupil] += 1
    return out


def read_diary(rig: EngineRig, principal: str, pupil_id: str, tab: str = RU.week_tab
               ) -> list[list[Any]]:
    """A diary tab as ``principal`` sees it in the browser (formatted values)."""
    file_id = diaries(rig)[pupil_id]
    data = rig.client(principal).http_client.values_get(file_id, f"'{tab}'")
    return [list(row) for row in data.get("values", [])]


def text_of(grid: list[list[Any]]) -> str:
    """Every cell of a grid, one row a line, cells joined by " | " (for "in" checks)."""
    return "\n".join(" | ".join(str(c) for c in row) for row in grid)


def consenting(school: School, pupil_id: str, today: date) -> set[str]:
    """The parents who applied by ``today`` (as typed in parents.csv: the oracle)."""
    return {p.email.lower() for p in school.parents if p.pupil_id == pupil_id
            and p.consent is not None and p.consent <= today}
