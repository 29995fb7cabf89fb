"""Diaries as files: one xlsx per pupil in its own folder on the local backend (written only when
it changed), and ``ejournal rebuild`` laying every diary out again from the ledger.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import datetime
from pathlib import Path

import openpyxl

from config.school import BackendKind
from sync.backends.local.backend import LocalBackend
from sync.jobs.cycle import run_cycle
from sync.jobs.repair import rebuild_all
from sync.jobs.service import Service
from sync.layout.journal.spec import parse_journal
from sync.layout.labels import RU
from tests.sync.backend_helpers import local_teacher_edit
from tests.sync.engine_fixtures import DAY, ORGANIZER, at, setup_school
from tests.sync.jobs.diary_helpers import DIARY_TABS, diaries, diary_rig, diary_school, read_diary


class _Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def _digests(paths: dict[str, Path]) -> dict[str, str]:
    return {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in paths.items()}


def test_local_diaries_one_file_per_pupil_in_its_own_folder(tmp_path: Path) -> None:
    school = diary_school(tmp_path / "ledger.sqlite3", "unused")
    school = dataclasses.replace(school, backend=dataclasses.replace(
        school.backend, kind=BackendKind.LOCAL, folder=tmp_path / "sheets",
        shared_drive_folder_id=None))
    clock = _Clock(at(DAY, 9))
    backend = LocalBackend(tmp_path / "sheets", settle_seconds=0)
    with Service.open(school, backend=backend, clock=clock) as svc:
        setup_school(svc)
        run_cycle(svc)
        with svc.ledger.snapshot() as tx:
            made = {f.key: f.id for f in tx.files() if f.kind.value == "diary"}
        paths = {pid: backend.path(fid) for pid, fid in made.items()}
        assert len(paths) == len(school.pupils) == 47
        for pupil in school.pupils:
            path = paths[pupil.id]
            folder = tmp_path / "sheets" / "Дневники" / pupil.class_id / (
                f"{pupil.last_name} {pupil.first_name} ({pupil.id})")
            assert path.parent == folder and list(folder.iterdir()) == [path]
            assert path.name == (f"Дневник · {pupil.last_name} {pupil.first_name} · "
                                 f"{pupil.class_id} · 2026-27.xlsx")
        wb = openpyxl.load_workbook(paths[school.pupils[0].id])
        assert wb.sheetnames == list(DIARY_TABS)
        assert wb[RU.week_tab]["A1"].value == "Дневник"
        assert all(wb[t].protection.sheet for t in DIARY_TABS)

        before = _digests(paths)
        pupil = school.pupils_in("7Б")[3].id
        lessons = sorted(school.lessons()[("7Б", "algebra")], key=lambda x: (x.day, x.lesson_no))
        with svc.ledger.snapshot() as tx:
            (record,) = [f for f in tx.files() if f.key == "7Б/algebra"]
        titles = [q.name for q in school.year.periods] + [RU.lessons_tab]
        reading = parse_journal(backend.read(record.id, titles), school, "7Б", "algebra",
                                lessons)
        where = reading.map.cell(pupil, (DAY, 5))
        assert where is not None
        local_teacher_edit(backend, record.id, where.tab, where.start_row, where.start_col, "4")
        clock.now = at(DAY, 10)

        summary = run_cycle(svc)

        assert summary.diaries is not None and summary.diaries["written"] == 1
        after = _digests(paths)
        assert {k for k in paths if before[k] != after[k]} == {pupil}
        week = openpyxl.load_workbook(paths[pupil])[RU.week_tab]
        assert ["5. Алгебра", "4", None] in [[c.value for c in row] for row in week.iter_rows()]


def test_rebuild_lays_every_diary_out_again_from_the_ledger(tmp_path: Path) -> None:
    rig = diary_rig(tmp_path)
    try:
        rig.set_now(at(DAY, 9))
        run_cycle(rig.svc)
        pupil = rig.school.pupils_in("10А")[0].id
        gone = rig.school.pupils_in("10А")[1].id
        shown = {t: read_diary(rig, ORGANIZER, pupil, t) for t in DIARY_TABS}
        made = diaries(rig)
        spreadsheet = rig.emu.files[made[pupil]].spreadsheet
        totals = next(s for s in spreadsheet.sheets if s.title == RU.totals_tab)
        client = rig.client(ORGANIZER).http_client
        client.batch_update(made[pupil], {"requests": [  # vandalised: a tab deleted
            {"deleteSheet": {"sheetId": totals.sheet_id}}]})
        client.values_update(made[pupil], f"'{RU.week_tab}'!A1", params={
            "valueInputOption": "RAW"}, body={"values": [["чужой текст"]]})
        client.request("delete", f"https://www.googleapis.com/drive/v3/files/{made[gone]}",
                       params={"supportsAllDrives": "true"})

        summary = rebuild_all(rig.svc, now=rig.now())

        assert not summary.failed, summary.to_json()
        assert f"diary {gone}" in summary.created
        assert f"diary {pupil}" in summary.rerendered
        assert {t: read_diary(rig, ORGANIZER, pupil, t) for t in DIARY_TABS} == shown
        assert diaries(rig)[gone] != made[gone]
        assert read_diary(rig, ORGANIZER, gone)[0][0] == "Дневник"
    finally:
        rig.close()
