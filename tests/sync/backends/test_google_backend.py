"""The google backend over the emulator with the real gspread client: exact call budgets, the
layout as Google stores it, protection as a teacher meets it, RAW writes, protection ids, cleanup.

Retries, throttling, logging, error translation and client building: ``test_google_http.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import gspread
import pytest

from rules.errors import BackendError, SheetAccessError, TransientError
from sync.backends.google.http import STORAGE_HINT, BadRequest
from sync.backends.protocol import CellRange, Highlight, Role, SpreadsheetSpec, TabMissing, TabSpec
from tests.emulator import SPREADSHEET_MIME
from tests.sync.backend_helpers import (
    GRADES,
    LESSONS,
    SVC,
    TEACHER,
    GoogleRig,
    google_rig,
    lessons_tab,
    sample_spec,
    teacher_edit,
)

SHEETS = "https://sheets.googleapis.com/v4/spreadsheets"
LAYOUT_FIELDS = ("sheets(properties,protectedRanges,conditionalFormats,data(rowData(values("
                 "userEnteredValue,userEnteredFormat.numberFormat,dataValidation)),columnMetadata))")


@pytest.fixture
def rig() -> Iterator[GoogleRig]:
    rig = google_rig()
    yield rig
    rig.close()
    assert rig.emu.bugs == []


def calls(rig: GoogleRig) -> dict[str, int]:
    """The emulator's counters for the service principal."""
    return {k: rig.emu.calls_total(k, SVC) for k in ("drive", "sheets_read", "sheets_write")}


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def created(rig: GoogleRig, spec: SpreadsheetSpec | None = None) -> tuple[str, dict[str, int]]:
    info = rig.backend.create(spec or sample_spec())
    rig.emu.reset_counters()
    return info.id, dict(info.protections)


# ---- budgets --------------------------------------------------------------------------------

def test_create_costs_one_drive_call_and_one_sheets_write(rig: GoogleRig) -> None:
    info = rig.backend.create(sample_spec())
    assert calls(rig) == {"drive": 1, "sheets_read": 0, "sheets_write": 1}
    assert rig.backend.stats()["drive"] == 1 and rig.backend.stats()["sheets_write"] == 1
    f = rig.emu.files[info.id]
    assert f.drive_id == rig.drive and f.owner is None  # in the shared drive, not in My Drive
    assert (f.writers_can_share, f.copy_requires_writer_permission) == (False, False)
    assert info.by_me and set(info.protections) == {GRADES}  # the lessons tab is unprotected
    (m1, url1, body1), (m2, url2, body2) = rig.wire
    assert (m1, urlsplit(url1).path) == ("POST", "/drive/v3/files")
    assert query(url1)["supportsAllDrives"] == ["true"]
    assert body1 == {"name": sample_spec().name, "mimeType": "application/vnd.google-apps.spreadsheet",
                     "parents": [rig.drive], "writersCanShare": False,
                     "copyRequiresWriterPermission": False}
    assert (m2, urlsplit(url2).path) == ("POST", f"/v4/spreadsheets/{info.id}:batchUpdate")
    kinds = [next(iter(r)) for r in body2["requests"]]
    assert kinds == ["addSheet", "updateCells", "repeatCell", "setDataValidation",
                     "addConditionalFormatRule", "addConditionalFormatRule",
                     "updateSheetProperties", "updateDimensionProperties",
                     "updateDimensionProperties", "addProtectedRange",
                     "addSheet", "updateCells", "deleteSheet"]
    assert body2["requests"][-1] == {"deleteSheet": {"sheetId": 0}}


def test_a_tab_named_like_the_default_sheet(rig: GoogleRig) -> None:
    info = rig.backend.create(SpreadsheetSpec("X", (TabSpec("Sheet1", [["a"]], 3, 3),)))
    assert rig.backend.tabs(info.id) == ["Sheet1"]
    assert rig.backend.read(info.id, ["Sheet1"]) == {"Sheet1": [["a"]]}


def test_diary_flags_go_into_the_create_body(rig: GoogleRig) -> None:
    spec = SpreadsheetSpec("Дневник · Иванов Иван · 7Б", sample_spec().tabs,
                           readers_cannot_copy=True, writers_can_share=False)
    info = rig.backend.create(spec)
    assert calls(rig)["drive"] == 1
    assert rig.emu.files[info.id].copy_requires_writer_permission is True


def test_read_write_and_lock_budgets(rig: GoogleRig) -> None:
    fid, protections = created(rig)
    rig.wire.clear()
    rig.backend.read(fid, [GRADES, LESSONS])
    assert calls(rig) == {"drive": 0, "sheets_read": 1, "sheets_write": 0}
    [(method, url, _)] = rig.wire
    assert (method, urlsplit(url).path) == ("GET", f"/v4/spreadsheets/{fid}/values:batchGet")
    assert query(url) == {"ranges": [f"'{GRADES}'", f"'{LESSONS}'"], "majorDimension": ["ROWS"],
                          "valueRenderOption": ["UNFORMATTED_VALUE"],
                          "dateTimeRenderOption": ["SERIAL_NUMBER"]}
    rig.backend.write(fid, [(CellRange(GRADES, 2, 3), [["5"]]), (CellRange(LESSONS, 2, 0), [["x"]])])
    assert calls(rig) == {"drive": 0, "sheets_read": 1, "sheets_write": 1}
    method, url, body = rig.wire[-1]
    assert (method, urlsplit(url).path) == ("POST", f"/v4/spreadsheets/{fid}/values:batchUpdate")
    assert body["valueInputOption"] == "RAW"
    assert [d["range"] for d in body["data"]] == [f"'{GRADES}'!D3:D3", f"'{LESSONS}'!A3:A3"]
    rig.emu.reset_counters()
    fresh = rig.another_backend()  # a new process: nothing cached, ids come from the ledger
    fresh.set_open_ranges(fid, {GRADES: [CellRange(GRADES, 2, 4, 5, 5)]}, protections)
    assert calls(rig) == {"drive": 0, "sheets_read": 0, "sheets_write": 1}
    assert fresh.open_ranges(fid) == {GRADES: [CellRange(GRADES, 2, 4, 5, 5)]}
    fresh.close()


def test_set_open_ranges_without_ids_reads_once_then_caches(rig: GoogleRig) -> None:
    fid, _ = created(rig)
    fresh = rig.another_backend()
    fresh.set_open_ranges(fid, {GRADES: [CellRange(GRADES, 2, 2, 5, 3)]})
    assert calls(rig) == {"drive": 0, "sheets_read": 1, "sheets_write": 1}
    fresh.set_open_ranges(fid, {GRADES: [CellRange(GRADES, 2, 3, 5, 4)]})
    assert calls(rig) == {"drive": 0, "sheets_read": 1, "sheets_write": 2}
    fresh.close()


def test_stale_protection_ids_are_re_read(rig: GoogleRig) -> None:
    fid, protections = created(rig)
    stale = {GRADES: protections[GRADES] + 1}
    rig.backend.set_open_ranges(fid, {GRADES: [CellRange(GRADES, 2, 2, 5, 3)]}, stale)
    assert calls(rig) == {"drive": 0, "sheets_read": 1, "sheets_write": 2}
    assert rig.backend.open_ranges(fid) == {GRADES: [CellRange(GRADES, 2, 2, 5, 3)]}


def test_set_open_ranges_refuses_unprotected_and_missing_tabs(rig: GoogleRig) -> None:
    fid, _ = created(rig)
    with pytest.raises(BackendError, match="no sheet protection"):
        rig.backend.set_open_ranges(fid, {LESSONS: [CellRange(LESSONS, 1, 1, 2, 2)]})
    with pytest.raises(TabMissing):
        rig.backend.set_open_ranges(fid, {"нет": [CellRange("нет", 1, 1, 2, 2)]})
    with pytest.raises(BackendError, match="listed under tab"):
        rig.backend.set_open_ranges(fid, {GRADES: [CellRange(LESSONS, 1, 1, 2, 2)]})


def test_empty_requests_cost_nothing(rig: GoogleRig) -> None:
    fid, _ = created(rig)
    assert rig.backend.read(fid, []) == {}
    rig.backend.write(fid, [])
    rig.backend.set_open_ranges(fid, {})
    assert rig.backend.add_tabs(fid, []) == {}
    assert calls(rig) == {"drive": 0, "sheets_read": 0, "sheets_write": 0}


def test_rename_tab_after_tabs_is_one_write(rig: GoogleRig) -> None:
    fid, _ = created(rig)
    fresh = rig.another_backend()
    fresh.rename_tab(fid, GRADES, "1 четв.")  # unknown ids: one read first
    assert calls(rig) == {"drive": 0, "sheets_read": 1, "sheets_write": 1}
    fresh.rename_tab(fid, "1 четв.", GRADES)
    assert calls(rig) == {"drive": 0, "sheets_read": 1, "sheets_write": 2}
    with pytest.raises(TabMissing):
        fresh.rename_tab(fid, "нет такой", "x")
    fresh.close()


@pytest.mark.parametrize("value", [float("nan"), float("inf"), object(), [1]])
def test_values_a_cell_cannot_hold_are_refused_before_any_call(rig: GoogleRig, value: Any) -> None:
    fid, _ = created(rig)
    with pytest.raises(BackendError, match="cannot"):
        rig.backend.write(fid, [(CellRange(LESSONS, 1, 1), [["ok", value]])])
    assert calls(rig) == {"drive": 0, "sheets_read": 0, "sheets_write": 0}


@pytest.mark.parametrize("bad_tab, problem", [
    (TabSpec("A", [], 5, 5, highlights=(Highlight(CellRange("A", 0, 0, 1, 1), "2", "red"),)),
     "bad colour"),
    (TabSpec("A", [], 5, 5, open_ranges=(CellRange("B", 0, 0, 1, 1),)), "names another tab"),
    (TabSpec("A", [[datetime(2026, 9, 1, tzinfo=UTC)]], 5, 5), "cannot store a datetime"),
])
def test_bad_specs_are_refused_before_any_call(rig: GoogleRig, bad_tab: TabSpec,
                                               problem: str) -> None:
    for spec in (SpreadsheetSpec("X", (bad_tab,)), SpreadsheetSpec("X", ()),
                 SpreadsheetSpec("X", (lessons_tab(), lessons_tab()))):
        with pytest.raises(BackendError) as err:
            rig.backend.create(spec)
        assert err.value.message
    with pytest.raises(BackendError, match=problem):
        rig.backend.create(SpreadsheetSpec("X", (bad_tab,)))
    assert calls(rig) == {"drive": 0, "sheets_read": 0, "sheets_write": 0}


# ---- the layout as Google stores it ------------------------------------------------------------

def layout(rig: GoogleRig, fid: str) -> dict[str, Any]:
    gc = rig.emu.client(SVC)
    sheets = gc.http_client.request("get", f"{SHEETS}/{fid}", params={
        "ranges": f"'{GRADES}'!A1:F6", "includeGridData": "true", "fields": LAYOUT_FIELDS,
    }).json()["sheets"]
    assert len(sheets) == 1
    return dict(sheets[0])


def test_layout_is_there_after_create(rig: GoogleRig) -> None:
    fid, protections = created(rig)
    assert rig.backend.tabs(fid) == [GRADES, LESSONS]  # the default "Sheet1" is gone
    sheet = layout(rig, fid)
    props = sheet["properties"]
    assert props["gridProperties"] == {"rowCount": 10, "columnCount": 6, "frozenRowCount": 2,
                                       "frozenColumnCount": 2}
    rows = sheet["data"][0]["rowData"]
    mark = rows[2]["values"][2]
    assert mark["userEnteredFormat"]["numberFormat"]["type"] == "TEXT"
    rule = mark["dataValidation"]
    assert rule["condition"]["type"] == "ONE_OF_LIST" and rule.get("strict", False) is False
    assert [v["userEnteredValue"] for v in rule["condition"]["values"]] == ["5", "4", "3", "2", "н"]
    assert "userEnteredFormat" not in rows[2]["values"][1]  # names are not in the TEXT range
    assert rows[4]["values"][2]["userEnteredValue"] == {"numberValue": 3}
    columns = sheet["data"][0]["columnMetadata"]
    assert columns[0].get("hiddenByUser") is True and columns[1]["pixelSize"] == 180
    assert not columns[2].get("hiddenByUser")
    colours = [(c["booleanRule"]["condition"]["values"][0]["userEnteredValue"],
                c["booleanRule"]["condition"]["type"]) for c in sheet["conditionalFormats"]]
    assert colours == [("2", "TEXT_EQ"), ("н", "TEXT_EQ")]
    [prot] = sheet["protectedRanges"]
    assert prot["protectedRangeId"] == protections[GRADES] == props["sheetId"]
    assert prot["range"] == {"sheetId": props["sheetId"]}  # the whole tab
    assert prot["editors"]["users"] == [SVC]
    assert prot["unprotectedRanges"] == [{"sheetId": props["sheetId"], "startRowIndex": 2,
                                          "endRowIndex": 5, "startColumnIndex": 3,
                                          "endColumnIndex": 4}]


def test_a_teacher_edits_open_cells_only(rig: GoogleRig) -> None:
    fid, _ = created(rig)
    rig.backend.grant(fid, TEACHER, Role.WRITER)
    teacher_edit(rig.backend, fid, GRADES, 2, 3, "5/4")  # open column; TEXT keeps "5/4" text
    teacher_edit(rig.backend, fid, GRADES, 3, 3, "02")
    with pytest.raises(gspread.exceptions.APIError) as err:
        teacher_edit(rig.backend, fid, GRADES, 2, 2, "2")  # a locked date
    assert err.value.code == 400 and "protected cell" in str(err.value)
    teacher_edit(rig.backend, fid, LESSONS, 1, 1, "Обыкновенные дроби")  # unprotected tab
    grid = rig.backend.read(fid, [GRADES, LESSONS])
    assert grid[GRADES][2][2:4] == ["5", "5/4"] and grid[GRADES][3][3] == "02"
    assert grid[LESSONS][1][1] == "Обыкновенные дроби"


def test_raw_writes_stay_text(rig: GoogleRig) -> None:
    fid, _ = created(rig)
    rig.backend.write(fid, [(CellRange(LESSONS, 2, 0, 3, 3), [["=1+1", "=A1", "5"]])])
    assert rig.backend.read(fid, [LESSONS])[LESSONS][2] == ["=1+1", "=A1", "5"]
    gc = rig.emu.client(SVC)
    formula = gc.http_client.values_get(fid, f"'{LESSONS}'!A3", params={"valueRenderOption":
                                                                         "FORMULA"})
    assert formula["values"] == [["=1+1"]]  # stored as a string: no formula to evaluate


def test_read_returns_serial_dates_and_typed_numbers(rig: GoogleRig) -> None:
    fid, _ = created(rig)
    teacher_edit(rig.backend, fid, LESSONS, 2, 0, "2026-09-07")  # typed as a date by a teacher
    teacher_edit(rig.backend, fid, LESSONS, 2, 1, "4,5")
    row = rig.backend.read(fid, [LESSONS])[LESSONS][2]
    assert row[0] == 46272  # days since 1899-12-30, not a locale string
    assert row[1] == "4,5"  # en_US spreadsheet: a comma is text


def test_add_tabs_lays_out_and_protects(rig: GoogleRig) -> None:
    fid, _ = created(rig)
    extra = TabSpec("Замечания", [["Ячейка", "Проблема"]], 10, 3, frozen_rows=1)
    ids = rig.backend.add_tabs(fid, [extra])
    assert calls(rig) == {"drive": 0, "sheets_read": 0, "sheets_write": 1}
    assert set(ids) == {"Замечания"}
    assert rig.backend.open_ranges(fid) == {GRADES: [CellRange(GRADES, 2, 3, 5, 4)],
                                            "Замечания": []}
    with pytest.raises(BadRequest, match="already exists"):
        rig.backend.add_tabs(fid, [extra])


def test_read_names_the_missing_tab_without_a_metadata_read(rig: GoogleRig) -> None:
    fid, _ = created(rig)
    with pytest.raises(TabMissing) as err:
        rig.backend.read(fid, [GRADES, "Старая четверть"])
    assert err.value.titles == ("Старая четверть",)
    assert calls(rig) == {"drive": 0, "sheets_read": 1, "sheets_write": 0}


# ---- Drive side ------------------------------------------------------------------------------

def test_changes_by_me_and_trashed(rig: GoogleRig) -> None:
    fid, _ = created(rig)
    other, _ = created(rig, sample_spec("Журнал 7Б · Физика"))
    token = rig.backend.start_token()
    rig.backend.write(fid, [(CellRange(LESSONS, 3, 0), [["x"]])])
    teacher_edit(rig.backend, other, LESSONS, 3, 0, "y")
    rig.emu.client(SVC).http_client.request(
        "patch", f"https://www.googleapis.com/drive/v3/files/{fid}",
        params={"supportsAllDrives": True}, json={"trashed": True})
    rig.emu.reset_counters()
    rig.wire.clear()
    changed, token = rig.backend.changes(token)
    assert calls(rig)["drive"] == 1
    params = query(rig.wire[0][1])
    assert params["includeItemsFromAllDrives"] == params["supportsAllDrives"] == ["true"]
    assert "lastModifyingUser(emailAddress,me)" in params["fields"][0]
    got = {c.id: (c.by_me, c.removed) for c in changed}
    assert got == {other: (False, False), fid: (True, True)}
    assert rig.backend.changes(token) == ([], token)


def test_changes_are_paged_by_1000(rig: GoogleRig) -> None:
    token = rig.backend.start_token()
    made = [rig.emu.create_file(TEACHER, f"Файл {i}", SPREADSHEET_MIME, [rig.drive]).id
            for i in range(1001)]
    rig.emu.reset_counters()
    changed, _ = rig.backend.changes(token)
    assert calls(rig)["drive"] == 2
    assert [c.id for c in changed] == made and not any(c.by_me for c in changed)


def test_grants_list_shared_drive_members_as_inherited(rig: GoogleRig) -> None:
    fid, _ = created(rig)
    grants = rig.backend.grants(fid)
    assert [(g.email, g.role, g.inherited) for g in grants] == [(SVC, Role.ORGANIZER, True)]
    grant = rig.backend.grant(fid, "Parent@Gmail.com ", Role.READER)
    assert calls(rig)["drive"] == 2
    assert rig.emu.role_of("parent@gmail.com", fid) == "reader"
    assert grant.role is Role.READER and not grant.inherited


def test_grant_sends_no_notification_and_never_anyone(rig: GoogleRig) -> None:
    fid, _ = created(rig)
    rig.wire.clear()
    rig.backend.grant(fid, TEACHER, Role.WRITER)
    [(method, url, body)] = rig.wire
    assert (method, urlsplit(url).path) == ("POST", f"/drive/v3/files/{fid}/permissions")
    assert query(url)["sendNotificationEmail"] == ["false"]
    assert query(url)["supportsAllDrives"] == ["true"]
    assert body == {"type": "user", "role": "writer", "emailAddress": TEACHER}
    for bad in (Role.OWNER, Role.ORGANIZER, Role.FILE_ORGANIZER):
        with pytest.raises(BackendError, match="refusing to grant"):
            rig.backend.grant(fid, TEACHER, bad)
    assert all(p.type == "user" for p in rig.emu.files[fid].permissions)


def test_create_without_shared_drive_explains_storage_quota() -> None:
    rig = google_rig(sa_storage_quota=True)
    rig.backend.folder = None
    with pytest.raises(BackendError) as err:
        rig.backend.create(sample_spec())
    assert err.value.hint == STORAGE_HINT and "storage quota" in err.value.message
    assert calls(rig) == {"drive": 1, "sheets_read": 0, "sheets_write": 0}  # not retried
    rig.close()


def test_failed_layout_deletes_the_half_made_file(rig: GoogleRig) -> None:
    rig.emu.faults.add("500", match=":batchUpdate", times=None)
    with pytest.raises(TransientError):
        rig.backend.create(sample_spec())
    assert not any(f.spreadsheet is not None for f in rig.emu.files.values())
    assert calls(rig)["drive"] == 2  # create + delete


def test_unknown_and_unshared_files_are_access_errors(rig: GoogleRig) -> None:
    stranger = rig.emu.client("stranger@school.ru").create("Чужой файл")
    for call in (lambda: rig.backend.read(stranger.id, [GRADES]),
                 lambda: rig.backend.write(stranger.id, [(CellRange(GRADES, 0, 0), [["x"]])]),
                 lambda: rig.backend.info(stranger.id)):
        with pytest.raises(SheetAccessError) as err:
            call()
        assert stranger.id in err.value.message and SVC in (err.value.hint or "")


def test_gspread_objects_work_on_the_project_client(rig: GoogleRig) -> None:
    fid, _ = created(rig)
    sheet = rig.backend.client.open_by_key(fid).worksheet(LESSONS)
    assert sheet.acell("B2").value == "Дроби"
