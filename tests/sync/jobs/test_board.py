"""The teachers' board «Анализ ведения журналов» on the Google emulator (the real gspread client
underneath) and on the local backend: the tiny school of the report tests (``tests.reports``) with
the planted defects of ``weekly_data`` — a missing topic, late entries, a tampering attempt, … —
whose figures are written out by hand below; read back as a teacher reads it.
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import gspread
import openpyxl
import pytest
import requests

from config import load_school
from config.school import School
from rules.errors import BackendError
from rules.model import Teacher
from sync.backends.google.auth import client_for_session
from sync.backends.google.backend import GoogleBackend
from sync.jobs.acl import run_acl
from sync.jobs.board import board_pending
from sync.jobs.report_schedule import publish_built, reports_job
from sync.jobs.reports import build_weekly
from sync.jobs.service import Service
from sync.jobs.setup import run_setup
from sync.ledger.model import FileKind
from tests.emulator import FOLDER_MIME, EmulatorAdapter, GoogleEmulator
from tests.reports.helpers import table
from tests.reports.ledger_data import at
from tests.reports.school_files import write_school
from tests.reports.weekly_data import MON2, fix_in_week2, plant_week1
from tests.sync.backend_helpers import FakeTime

IVANOVA, PETROV = "ivanova@school7.example", "petrov@school7.example"
DEPUTY = "deputy@school7.example"
PARENT, PUPIL = "alekseev.parent@gmail.com", "artem.alekseev@gmail.com"
MON3 = date(2026, 9, 21)
I_NAME, P_NAME = "Иванова Мария Петровна", "Петров Олег Ильич"
M, R = "Математика", "Русский язык"

# Week 07.09–13.09 by hand (weekly_data): every journal had 2 lessons. Columns after the journal:
# held, filled, %, no topic, no work type, no homework, empty, assessments without marks, pupils
# short of marks, invalid entries, late entries, tampering, new, still open, fixed.
WEEK1 = [
    [I_NAME, "10А", M, 2, 2, 100, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0],  # D2 no homework
    [I_NAME, "5А", M, 2, 2, 100, 0, 0, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0],  # D5 few marks, D7 tampering
    [I_NAME, "7Б", M, 2, 2, 100, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0],  # D4 test without b2's mark
    [P_NAME, "10А", R, 2, 1, 50, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0],  # D3 empty, D6 late (within)
    [P_NAME, "5А", R, 2, 2, 100, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0],  # D6 late (after)
    [P_NAME, "7Б", R, 2, 1, 50, 1, 0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0],  # D1 no topic, D8 invalid
]
NEW, INFO = "новое", "к сведению"
REMARKS1 = sorted([  # (teacher, class, subject, what, lesson, since, status)
    (P_NAME, "7Б", R, "Нет темы урока", "10.09.2026", "07.09.2026", NEW),
    (I_NAME, "10А", M, "Нет домашнего задания", "07.09.2026", "07.09.2026", NEW),
    (P_NAME, "10А", R, "Урок не заполнен", "10.09.2026", "07.09.2026", NEW),
    (I_NAME, "7Б", M, "Оценочная работа без отметок", "09.09.2026", "07.09.2026", NEW),
    (I_NAME, "5А", M, "Мало отметок", "", "07.09.2026", NEW),
    (P_NAME, "5А", R, "Запись позже дня урока", "07.09.2026", "07.09.2026", INFO),
    (P_NAME, "10А", R, "Запись позже дня урока", "07.09.2026", "07.09.2026", INFO),
    (I_NAME, "5А", M, "Попытка исправить закрытую клетку", "09.09.2026", "07.09.2026", INFO),
    (P_NAME, "7Б", R, "Ошибочная запись", "10.09.2026", "07.09.2026", NEW),
])
HEADER = 7  # 0-based row of the column names on both tabs


@dataclass
class Rig:
    emu: GoogleEmulator
    school: School
    svc: Service
    folder: str
    shared: str
    time: FakeTime
    sessions: list[requests.Session] = field(default_factory=list)

    def fresh_backend(self) -> GoogleBackend:
        """The service's backend as a new process has it (no tab ids cached)."""
        session = requests.Session()
        session.mount("https://", EmulatorAdapter(self.emu))
        self.sessions.append(session)
        conn = client_for_session(session, self.emu.service_principal, clock=self.time.now,
                                  sleep=self.time.sleep, rng=random.Random(2))
        return GoogleBackend(conn, folder=self.shared)

    def calls(self) -> dict[str, int]:
        who = self.emu.service_principal
        return {k: self.emu.calls_total(k, who) for k in ("drive", "sheets_read", "sheets_write")}

    def board(self) -> str:
        with self.svc.ledger.snapshot() as tx:
            record = tx.file_for(FileKind.BOARD, "board")
        assert record is not None
        return record.id

    def read(self, who: str, tab: str) -> list[list[Any]]:
        """A tab as ``who`` reads it through gspread (unformatted values)."""
        data = self.emu.client(who).http_client.values_get(
            self.board(), f"'{tab}'", params={"valueRenderOption": "UNFORMATTED_VALUE"})
        return [list(r) for r in data.get("values", [])]


def tiny_school(tmp_path: Path, backend: str, extra: str = "") -> School:
    """The report tests' tiny school, with a parent of s-a1 and s-a1's own account."""
    config = write_school(tmp_path / "school", extra, backend=backend)
    (config.parent / "parents.csv").write_text(
        f"id,pupil_id,full_name,email,consent\np1,s-a1,Алексеева Ольга,{PARENT},2026-09-01\n",
        encoding="utf-8")
    pupils = (config.parent / "pupils.csv").read_text(encoding="utf-8")
    (config.parent / "pupils.csv").write_text(
        pupils.replace("s-a1,5А,Алексеев,Артём,,2026-09-01,,", f"s-a1,5А,Алексеев,Артём,,"
                                                            f"2026-09-01,,{PUPIL}"),
        encoding="utf-8")
    return load_school(config, environ={"EJOURNAL_GOOGLE_EMULATOR_HOST": "127.0.0.1:1"})


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    emu = GoogleEmulator(start=at(date(2026, 9, 7), 7))
    shared = emu.create_shared_drive("Школа", organizers=[emu.service_principal])
    folder = emu.create_file(emu.service_principal, "Отчёты", FOLDER_MIME, [shared]).id
    session = requests.Session()
    session.mount("https://", EmulatorAdapter(emu))
    time = FakeTime(emu)
    conn = client_for_session(session, emu.service_principal, clock=time.now, sleep=time.sleep,
                              rng=random.Random(1))
    school = tiny_school(tmp_path, f'[backend]\nkind = "google"\nshared_drive_folder_id = '
                                   f'"{shared}"\n', f'\n[reports]\ndrive_folder_id = "{folder}"\n')
    svc = Service.open(school, backend=GoogleBackend(conn, folder=shared),
                       clock=lambda: emu.clock.now().astimezone(school.timezone))
    assert run_setup(svc).complete
    plant_week1(svc.ledger, school)
    rig = Rig(emu, school, svc, folder, shared, time, [session])
    yield rig
    svc.close()
    for opened in rig.sessions:
        opened.close()
    assert emu.bugs == []


def body(grid: list[list[Any]]) -> list[list[Any]]:
    """The table under the column names, up to the first empty row."""
    rows = []
    for row in grid[HEADER + 1:]:
        if not any(v not in ("", None) for v in row):
            break
        rows.append([*row, *[""] * (18 - len(row))][: len(grid[HEADER])])
    return rows


def remarks(grid: list[list[Any]]) -> list[tuple[Any, ...]]:
    return sorted(tuple(r[1:]) for r in body(grid))


def names_in(grids: list[list[list[Any]]], school: School) -> list[str]:
    """Every pupil's name (last name, or first name as a word) found in any cell."""
    found = []
    for pupil in school.pupils:
        word = re.compile(rf"\b{re.escape(pupil.first_name)}\b")
        for grid in grids:
            for row in grid:
                for v in row:
                    if isinstance(v, str) and (pupil.last_name in v or word.search(v)):
                        found.append(f"{pupil.id}: {v}")
    return found


def test_setup_creates_the_board_shared_read_only_with_every_teacher(rig: Rig) -> None:
    board = rig.emu.files[rig.board()]
    assert board.name == "Анализ ведения журналов · МБОУ «Тестовая школа № 7» · 2026/27"
    roles = {p.email_address: p.role for p in board.permissions if p.email_address}
    assert {k: v for k, v in roles.items() if k != rig.emu.service_principal} == {
        IVANOVA: "reader", PETROV: "reader", DEPUTY: "reader"}
    summary = rig.read(IVANOVA, "Сводка")
    assert summary[2] == ["Анализ ещё не составлялся: его составляют по понедельникам за прошлую "
                          "неделю."]


def test_the_board_shows_the_weekly_analysis_and_no_pupil(rig: Rig) -> None:
    now = at(MON2, 8)
    rig.emu.clock.set(now)
    with rig.svc.ledger.snapshot() as tx:
        head = tx.audit_head()
    rig.emu.reset_counters()
    built = build_weekly(rig.school, rig.svc.ledger, now)
    outcome = publish_built(rig.svc, [built], now)
    assert outcome is not None and outcome.action == "written"
    assert rig.calls() == {"drive": 0, "sheets_read": 0, "sheets_write": 1}
    summary, listed = rig.read(IVANOVA, "Сводка"), rig.read(PETROV, "Замечания")
    assert summary[2:5] == [["Неделя: 07.09–13.09.2026"], ["Составлен: 14.09.2026 08:00"],
                            [f"Цепочка аудита: {head}"]]
    assert body(summary) == WEEK1
    assert remarks(listed) == REMARKS1
    # the same as the deputy's workbook of the same analysis, figures and remark codes
    book = table(built.paths[0], "Сводка").fillna(0)
    assert [[*r[:5], round(r[5]), *r[6:]] for r in book.values.tolist()] == WEEK1
    codes = table(built.paths[0], "Замечания")[["Код", "Статус"]].values.tolist()
    assert sorted(map(tuple, codes)) == sorted((r[0], r[-1]) for r in body(listed))
    assert all(re.fullmatch(r"З-[0-9A-F]{8}", r[0]) for r in body(listed))
    assert names_in([summary, listed], rig.school) == []
    # built again with nothing changed: not a single call
    rig.emu.clock.set(now + timedelta(hours=1))
    rig.emu.reset_counters()
    again = publish_built(rig.svc, [build_weekly(rig.school, rig.svc.ledger, rig.svc.now())],
                          rig.svc.now())
    assert again is not None and again.action == "unchanged"
    assert rig.calls() == {"drive": 0, "sheets_read": 0, "sheets_write": 0}


def test_teachers_only_read_it_parents_and_pupils_cannot_open_it(rig: Rig) -> None:
    board = rig.board()
    for teacher in (IVANOVA, PETROV):
        assert rig.read(teacher, "Сводка")[0][0].startswith("Анализ ведения журналов")
        with pytest.raises(gspread.exceptions.APIError) as refused:
            rig.emu.client(teacher).http_client.values_update(
                board, "'Сводка'!A10", params={"valueInputOption": "RAW"},
                body={"values": [["всё заполнено"]]})
        assert refused.value.response.status_code == 403
    for outsider in (PARENT, PUPIL):
        with pytest.raises(gspread.exceptions.APIError) as hidden:
            rig.read(outsider, "Сводка")
        assert hidden.value.response.status_code in (403, 404)


def test_a_failed_board_write_is_reported_and_retried_the_workbook_is_delivered(rig: Rig) -> None:
    rig.emu.clock.set(at(MON2, 8))
    publish_built(rig.svc, [build_weekly(rig.school, rig.svc.ledger, rig.svc.now())],
                  rig.svc.now())
    fix_in_week2(rig.svc.ledger, rig.school)
    board = rig.board()
    rig.emu.faults.add(503, match=f"{board}:batchUpdate", times=None)
    rig.emu.clock.set(at(MON3, 8))  # the daemon's Monday run: the analysis of 14.09–20.09
    with pytest.raises(BackendError, match="teachers' board was not written"):
        reports_job(rig.svc)
    assert board_pending(rig.svc.ledger)
    uploaded = [f.name for f in rig.emu.files.values() if rig.folder in f.parents]
    assert uploaded == ["Анализ ведения журналов 2026-09-14 · 2026-09-21 08-00.xlsx"]  # delivered
    assert rig.read(IVANOVA, "Сводка")[2] == ["Неделя: 07.09–13.09.2026"]  # still last week's
    rig.emu.faults.clear()
    rig.emu.clock.set(at(MON3, 8, 30))
    rig.svc.backend = rig.fresh_backend()  # the daemon was restarted meanwhile
    rig.emu.reset_counters()
    assert reports_job(rig.svc) == []  # nothing due: the pending board is written
    # one write; the new process reads the board's tab ids once (replace_tabs' metadata read)
    assert rig.calls() == {"drive": 0, "sheets_read": 1, "sheets_write": 1}
    assert not board_pending(rig.svc.ledger)
    assert rig.read(IVANOVA, "Сводка")[2] == ["Неделя: 14.09–20.09.2026"]
    status = {(r[4], r[2], r[3]): r[-1] for r in body(rig.read(IVANOVA, "Замечания"))}
    assert status[("Нет темы урока", "7Б", R)] == "устранено"  # D1, corrected on 15.09
    assert status[("Нет домашнего задания", "10А", M)] == "не устранено"  # D2


def test_a_deleted_board_is_created_again_and_shared(rig: Rig) -> None:
    old = rig.board()
    rig.emu.client(rig.emu.service_principal).del_spreadsheet(old)
    rig.emu.clock.set(at(MON2, 8))
    outcome = publish_built(rig.svc, [build_weekly(rig.school, rig.svc.ledger, rig.svc.now())],
                            rig.svc.now())
    assert outcome is not None and outcome.action == "created"
    assert rig.board() != old and body(rig.read(PETROV, "Сводка")) == WEEK1
    rig.emu.client(rig.emu.service_principal).del_spreadsheet(rig.board())
    summary = run_setup(rig.svc)  # the repair path of every file
    assert summary.rebuilt == ["board board"] and body(rig.read(IVANOVA, "Сводка")) == WEEK1


def test_acl_fix_gives_a_new_teacher_the_board_and_repairs_a_hand_made_writer(rig: Rig) -> None:
    board = rig.board()
    rig.emu.client(rig.emu.service_principal).http_client.request(
        "post", f"https://www.googleapis.com/drive/v3/files/{board}/permissions",
        params={"supportsAllDrives": "true", "sendNotificationEmail": "false"},
        json={"type": "user", "role": "writer", "emailAddress": IVANOVA})
    assert rig.emu.role_of(IVANOVA, board) == "writer"
    ivanova = next(t for t in rig.school.teachers if t.id == "ivanova")
    newcomer = Teacher("sidorova", "Сидорова Анна Львовна", "sidorova@school7.example")
    rig.svc.school = dataclasses.replace(rig.school, teachers=(ivanova, newcomer))  # Петров left
    report = run_acl(rig.svc, rig.svc.now(), fix=True)
    drift = {(d.who, d.observed, d.desired) for d in report.drift if d.file_id == board}
    assert drift == {(IVANOVA, "writer", "reader"), (PETROV, "reader", None),
                     ("sidorova@school7.example", None, "reader")}
    assert report.failed == []
    assert {e: rig.emu.role_of(e, board) for e in (IVANOVA, PETROV, "sidorova@school7.example",
                                                    DEPUTY)} == {
        IVANOVA: "reader", PETROV: None, "sidorova@school7.example": "reader", DEPUTY: "reader"}
    assert run_acl(rig.svc, rig.svc.now(), fix=False).drift == []


def test_local_backend_the_board_is_one_xlsx_in_the_sheets_folder(tmp_path: Path) -> None:
    school = tiny_school(tmp_path, '[backend]\nkind = "local"\nfolder = "sheets"\n')
    now = at(MON2, 8)
    with Service.open(school, clock=lambda: now) as svc:
        assert run_setup(svc).complete
        plant_week1(svc.ledger, school)
        again = publish_built(svc, [build_weekly(school, svc.ledger, now)], now)
        assert again is not None and again.action == "written"
        path = svc.backend.path(again.file_id)  # type: ignore[attr-defined]
        grants = {(g.email, g.role.value) for g in svc.backend.grants(again.file_id or "")}
    assert path.parent == tmp_path / "school" / "sheets"
    assert path.name.startswith("Анализ ведения журналов · МБОУ «Тестовая школа № 7» · 2026")
    assert {(IVANOVA, "reader"), (PETROV, "reader"), (DEPUTY, "reader")} <= grants
    book = openpyxl.load_workbook(path)
    grids = [[[c if c is not None else "" for c in row] for row in book[t].iter_rows(
        values_only=True)] for t in ("Сводка", "Замечания")]
    assert body(grids[0]) == WEEK1 and remarks(grids[1]) == REMARKS1
    assert names_in(grids, school) == []
