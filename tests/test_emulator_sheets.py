"""Sheets behaviour the cassettes do not hold, written from Google's documentation, driven
through the real gspread client: protections per principal (platform.md §3.4, §6.2), batchUpdate
atomicity ("if any request is not valid then the entire request will fail and nothing will be
applied"), TEXT number format, dimension shifts, developer metadata, field masks.
"""

from __future__ import annotations

from typing import Any

import gspread
import pytest

from tests.emulator import GoogleEmulator

SERVICE = "service@ejournal.iam.gserviceaccount.com"
TEACHER = "teacher@school.example"
PARENT = "parent@gmail.example"
BASE = "https://sheets.googleapis.com/v4/spreadsheets"
PROTECTED = "You are trying to edit a protected cell or object"


@pytest.fixture
def emu() -> GoogleEmulator:
    return GoogleEmulator(service_principal=SERVICE, quotas=False)


@pytest.fixture
def sh(emu: GoogleEmulator) -> gspread.Spreadsheet:
    gc = emu.client(SERVICE)
    sh = gc.create("Журнал 7Б · Математика")
    sh.share(TEACHER, perm_type="user", role="writer", notify=False)
    sh.share(PARENT, perm_type="user", role="reader", notify=False)
    return sh


def _as(emu: GoogleEmulator, who: str, sh: gspread.Spreadsheet) -> gspread.Spreadsheet:
    return emu.client(who).open_by_key(sh.id)


def _protect_sheet(sh: gspread.Spreadsheet, holes: list[dict[str, int]]) -> int:
    reply = sh.batch_update({"requests": [{"addProtectedRange": {"protectedRange": {
        "range": {"sheetId": 0}, "editors": {"users": [SERVICE]},
        "unprotectedRanges": [{"sheetId": 0, **h} for h in holes]}}}]})
    return int(reply["replies"][0]["addProtectedRange"]["protectedRange"]["protectedRangeId"])


def _error(exc: pytest.ExceptionInfo[gspread.exceptions.APIError]) -> dict[str, Any]:
    return exc.value.error


# ---- protections --------------------------------------------------------------------------------

def test_writer_edits_only_unprotected_cells(emu: GoogleEmulator, sh: gspread.Spreadsheet) -> None:
    _protect_sheet(sh, [{"startColumnIndex": 2, "endColumnIndex": 3}])  # column C open
    teacher = _as(emu, TEACHER, sh).sheet1
    teacher.update(values=[["5"]], range_name="C5")
    with pytest.raises(gspread.exceptions.APIError) as exc:
        teacher.update(values=[["2"]], range_name="B5")
    assert exc.value.code == 400
    assert _error(exc)["status"] == "INVALID_ARGUMENT"
    assert _error(exc)["message"].startswith(PROTECTED)
    sh.sheet1.update(values=[["4"]], range_name="B5")  # the owner is never locked out
    assert sh.sheet1.get("B5:C5") == [["4", "5"]]


def test_values_batch_update_with_one_protected_range_applies_nothing(
        emu: GoogleEmulator, sh: gspread.Spreadsheet) -> None:
    _protect_sheet(sh, [{"startColumnIndex": 2, "endColumnIndex": 3}])
    teacher = _as(emu, TEACHER, sh)
    with pytest.raises(gspread.exceptions.APIError):
        teacher.values_batch_update({"valueInputOption": "RAW", "data": [
            {"range": "Sheet1!C2", "values": [["5"]]},
            {"range": "Sheet1!A2", "values": [["x"]]}]})
    assert sh.sheet1.get("A2:C2") == [[]]


def test_update_protected_range_moves_the_open_column(emu: GoogleEmulator,
                                                      sh: gspread.Spreadsheet) -> None:
    pid = _protect_sheet(sh, [{"startColumnIndex": 2, "endColumnIndex": 3}])
    teacher = _as(emu, TEACHER, sh)
    move = {"requests": [{"updateProtectedRange": {"protectedRange": {
        "protectedRangeId": pid,
        "unprotectedRanges": [{"sheetId": 0, "startColumnIndex": 3, "endColumnIndex": 4}]},
        "fields": "unprotectedRanges"}}]}
    with pytest.raises(gspread.exceptions.APIError) as exc:
        teacher.batch_update(move)  # only owners or the range's editors may change it
    assert exc.value.code == 400
    sh.batch_update(move)
    teacher.sheet1.update(values=[["5"]], range_name="D5")
    with pytest.raises(gspread.exceptions.APIError):
        teacher.sheet1.update(values=[["5"]], range_name="C5")
    stored = sh.list_protected_ranges(0)[0]
    assert stored["unprotectedRanges"] == [{"startColumnIndex": 3, "endColumnIndex": 4}]
    assert stored["editors"] == {"users": [SERVICE]}


def test_writer_cannot_delete_protected_rows(emu: GoogleEmulator,
                                            sh: gspread.Spreadsheet) -> None:
    sh.sheet1.update(values=[["keep"]], range_name="A2")
    sh.sheet1.add_protected_range("A2:B2")
    teacher = _as(emu, TEACHER, sh)
    rows = {"sheetId": 0, "dimension": "ROWS", "startIndex": 0, "endIndex": 3}
    with pytest.raises(gspread.exceptions.APIError) as exc:
        teacher.batch_update({"requests": [{"deleteDimension": {"range": rows}}]})
    assert _error(exc)["message"].startswith(PROTECTED)
    assert sh.sheet1.get("A2") == [["keep"]]


def test_editors_warning_only_and_visibility(emu: GoogleEmulator, sh: gspread.Spreadsheet) -> None:
    sh.sheet1.add_protected_range("A1:A3", editor_users_emails=[TEACHER])
    sh.sheet1.add_protected_range("B1:B3", warning_only=True)
    teacher = _as(emu, TEACHER, sh)
    teacher.sheet1.update(values=[["ok", "warned"]], range_name="A1:B1")
    assert sh.sheet1.get("A1:B1") == [["ok", "warned"]]
    # editors are shown only to those who can edit the range; the reader sees none
    reader_view = _as(emu, PARENT, sh).list_protected_ranges(0)
    assert all("editors" not in pr and "requestingUserCanEdit" not in pr for pr in reader_view)
    owner_view = sh.list_protected_ranges(0)
    assert sorted(owner_view[0]["editors"]["users"]) == sorted([TEACHER, SERVICE])


def test_warning_only_with_editors_is_rejected(sh: gspread.Spreadsheet) -> None:
    with pytest.raises(gspread.exceptions.APIError) as exc:
        sh.batch_update({"requests": [{"addProtectedRange": {"protectedRange": {
            "range": {"sheetId": 0}, "warningOnly": True, "editors": {"users": [TEACHER]}}}}]})
    assert "Editors cannot be set" in _error(exc)["message"]


def test_second_sheet_protection_and_unknown_id_fail(sh: gspread.Spreadsheet) -> None:
    _protect_sheet(sh, [])
    with pytest.raises(gspread.exceptions.APIError) as exc:
        _protect_sheet(sh, [])
    assert 'already has sheet protection' in _error(exc)["message"]
    with pytest.raises(gspread.exceptions.APIError) as exc:
        sh.batch_update({"requests": [{"deleteProtectedRange": {"protectedRangeId": 1}}]})
    assert "No protected range with id: 1" in _error(exc)["message"]


def test_reader_cannot_write(emu: GoogleEmulator, sh: gspread.Spreadsheet) -> None:
    with pytest.raises(gspread.exceptions.APIError) as exc:
        _as(emu, PARENT, sh).sheet1.update(values=[["x"]], range_name="A1")
    assert exc.value.code == 403
    assert _error(exc)["status"] == "PERMISSION_DENIED"


# ---- atomicity, replies, unknown kinds -------------------------------------------------------

def test_batch_update_is_atomic(sh: gspread.Spreadsheet) -> None:
    with pytest.raises(gspread.exceptions.APIError) as exc:
        sh.batch_update({"requests": [
            {"addSheet": {"properties": {"title": "Уроки"}}},
            {"updateSpreadsheetProperties": {"properties": {"title": "renamed"},
                                             "fields": "title"}},
            {"deleteSheet": {"sheetId": 12345}}]})
    assert exc.value.code == 400
    assert _error(exc)["message"].startswith("Invalid requests[2].deleteSheet")
    meta = sh.fetch_sheet_metadata()
    assert [s["properties"]["title"] for s in meta["sheets"]] == ["Sheet1"]
    assert meta["properties"]["title"] == "Журнал 7Б · Математика"


def test_failed_batch_leaves_every_part_of_a_sheet_as_it_was(sh: gspread.Spreadsheet) -> None:
    """Protections, formats, validation, sizes, cells and metadata edited in place by the first
    requests of a batch that then fails are all as before (the working copy is a deep one)."""
    pid = _protect_sheet(sh, [{"startColumnIndex": 2, "endColumnIndex": 3}])
    sh.sheet1.update(values=[["5", "4"]], range_name="B2")
    sh.batch_update({"requests": [{"repeatCell": {
        "range": {"sheetId": 0, "startRowIndex": 0, "endRowIndex": 1},
        "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}},
        "fields": "userEnteredFormat.textFormat.bold"}}]})
    before = sh.fetch_sheet_metadata({"includeGridData": "true"})
    with pytest.raises(gspread.exceptions.APIError):
        sh.batch_update({"requests": [
            {"updateProtectedRange": {"protectedRange": {
                "protectedRangeId": pid, "description": "changed",
                "unprotectedRanges": [{"sheetId": 0, "startColumnIndex": 5,
                                       "endColumnIndex": 6}]},
                "fields": "description,unprotectedRanges"}},
            {"repeatCell": {"range": {"sheetId": 0, "startRowIndex": 0, "endRowIndex": 1},
                            "cell": {"userEnteredFormat": {"textFormat": {"bold": False}}},
                            "fields": "userEnteredFormat.textFormat.bold"}},
            {"updateDimensionProperties": {
                "range": {"sheetId": 0, "dimension": "COLUMNS", "startIndex": 1,
                          "endIndex": 2},
                "properties": {"pixelSize": 40}, "fields": "pixelSize"}},
            {"updateCells": {"range": {"sheetId": 0, "startRowIndex": 1, "endRowIndex": 2,
                                       "startColumnIndex": 1, "endColumnIndex": 2},
                             "rows": [{"values": [{"userEnteredValue": {"stringValue": "x"}}]}],
                             "fields": "userEnteredValue"}},
            {"updateSheetProperties": {"properties": {"sheetId": 0, "title": "renamed"},
                                       "fields": "title"}},
            {"deleteSheet": {"sheetId": 12345}}]})
    assert sh.fetch_sheet_metadata({"includeGridData": "true"}) == before


def test_replies_follow_request_order(emu: GoogleEmulator, sh: gspread.Spreadsheet) -> None:
    reply = sh.batch_update({"requests": [
        {"updateSpreadsheetProperties": {"properties": {"title": "Журнал 7Б"},
                                         "fields": "title"}},
        {"addSheet": {"properties": {"title": "Уроки", "index": 0}}}]})
    assert reply["replies"][0] == {}
    added = reply["replies"][1]["addSheet"]["properties"]
    assert (added["title"], added["index"]) == ("Уроки", 0)
    assert emu.files[sh.id].name == "Журнал 7Б"  # a Sheets rename renames the Drive file
    titles = [(w.title, w.index) for w in sh.worksheets()]
    assert titles == [("Уроки", 0), ("Sheet1", 1)]


@pytest.mark.parametrize("request_", [{"mergeCells": {"range": {"sheetId": 0}}},
                                      {"noSuchRequest": {}}])
def test_unsupported_or_unknown_kinds_fail_loudly(sh: gspread.Spreadsheet,
                                                   request_: dict[str, Any]) -> None:
    with pytest.raises(gspread.exceptions.APIError) as exc:
        sh.batch_update({"requests": [request_]})
    assert exc.value.code == 400


# ---- value semantics ------------------------------------------------------------------------

def test_text_format_keeps_user_entered_strings(sh: gspread.Spreadsheet) -> None:
    sh.batch_update({"requests": [{"repeatCell": {
        "range": {"sheetId": 0, "startColumnIndex": 1, "endColumnIndex": 2},
        "cell": {"userEnteredFormat": {"numberFormat": {"type": "TEXT"}}},
        "fields": "userEnteredFormat.numberFormat"}}]})
    ws = sh.sheet1
    ws.update(values=[["5", "5"], ["02", "02"], ["=1+1", "=1+1"]], range_name="A1:B3",
              raw=False)
    got = ws.get("A1:B3", value_render_option="UNFORMATTED_VALUE")
    assert got == [[5, "5"], [2, "02"], [2, "=1+1"]]


def test_raw_and_user_entered_and_render_options(sh: gspread.Spreadsheet) -> None:
    ws = sh.sheet1
    ws.update(values=[["=1+1", "2020-01-01", "TRUE", "0.5"]], range_name="A1", raw=False)
    ws.update(values=[["=1+1", "2020-01-01", "TRUE", "0.5"]], range_name="A2")  # RAW
    assert ws.get("A1:D2", value_render_option="FORMULA") == [
        ["=1+1", 43831, True, 0.5], ["=1+1", "2020-01-01", "TRUE", "0.5"]]
    assert ws.get("A1:D1") == [["2", "2020-01-01", "TRUE", "0.5"]]
    assert ws.get("A1:D1", value_render_option="UNFORMATTED_VALUE",
                  date_time_render_option="FORMATTED_STRING") == [[2, "2020-01-01", True, 0.5]]


def test_columns_major_dimension_and_trimming(sh: gspread.Spreadsheet) -> None:
    sh.sheet1.update(values=[["a", "", ""], ["", "", "c"], ["", "", ""]], range_name="A1:C3")
    got = sh.values_get("Sheet1!A1:C4", params={"majorDimension": "COLUMNS"})
    assert got["range"] == "Sheet1!A1:C4"
    assert got["values"] == [["a"], [], ["", "c"]]
    empty = sh.values_get("Sheet1!E1:F2")
    assert empty == {"range": "Sheet1!E1:F2", "majorDimension": "ROWS"}


def test_unknown_sheet_in_range(sh: gspread.Spreadsheet) -> None:
    with pytest.raises(gspread.exceptions.APIError) as exc:
        sh.values_get("'Нет такого'!A1")
    assert _error(exc)["message"] == "Unable to parse range: 'Нет такого'!A1"


# ---- dimensions ---------------------------------------------------------------------------------

def test_insert_and_delete_rows_shift_values_and_protections(sh: gspread.Spreadsheet) -> None:
    ws = sh.sheet1
    ws.update(values=[["r1"], ["r2"], ["r3"]], range_name="A1")
    ws.add_protected_range("A2:B3")
    dim = {"sheetId": 0, "dimension": "ROWS", "startIndex": 0, "endIndex": 2}
    sh.batch_update({"requests": [{"insertDimension": {"range": dim}}]})
    assert ws.get("A1:A5") == [[], [], ["r1"], ["r2"], ["r3"]]
    pr = sh.list_protected_ranges(0)[0]["range"]
    assert (pr["startRowIndex"], pr["endRowIndex"]) == (3, 5)
    sh.batch_update({"requests": [{"deleteDimension": {"range": {**dim, "endIndex": 3}}}]})
    assert ws.get("A1:A2") == [["r2"], ["r3"]]
    pr = sh.list_protected_ranges(0)[0]["range"]
    assert (pr["startRowIndex"], pr["endRowIndex"]) == (0, 2)
    meta = sh.fetch_sheet_metadata()["sheets"][0]["properties"]["gridProperties"]
    assert meta["rowCount"] == 999


def test_hidden_columns_and_pixel_sizes(sh: gspread.Spreadsheet) -> None:
    sh.batch_update({"requests": [{"updateDimensionProperties": {
        "range": {"sheetId": 0, "dimension": "COLUMNS", "startIndex": 0, "endIndex": 1},
        "properties": {"hiddenByUser": True, "pixelSize": 30},
        "fields": "hiddenByUser,pixelSize"}}]})
    got = sh.fetch_sheet_metadata({"fields": "sheets.data.columnMetadata",
                                   "ranges": "Sheet1!A1:B1"})
    assert got == {"sheets": [{"data": [{"columnMetadata": [
        {"hiddenByUser": True, "pixelSize": 30}, {"pixelSize": 100}]}]}]}


# ---- developer metadata and field masks --------------------------------------------------------

def test_developer_metadata_create_search_delete(emu: GoogleEmulator,
                                                 sh: gspread.Spreadsheet) -> None:
    http = emu.client(SERVICE).http_client
    created = sh.batch_update({"requests": [
        {"createDeveloperMetadata": {"developerMetadata": {
            "metadataKey": "ejournal.schema", "metadataValue": "3",
            "location": {"spreadsheet": True}, "visibility": "DOCUMENT"}}},
        {"createDeveloperMetadata": {"developerMetadata": {
            "metadataKey": "ejournal.pupil", "metadataValue": "p-17",
            "location": {"dimensionRange": {"sheetId": 0, "dimension": "ROWS",
                                            "startIndex": 4, "endIndex": 5}},
            "visibility": "DOCUMENT"}}}]})
    md = created["replies"][0]["createDeveloperMetadata"]["developerMetadata"]
    assert md["location"] == {"locationType": "SPREADSHEET", "spreadsheet": True}
    flt = {"developerMetadataLookup": {"metadataKey": "ejournal.pupil"}}
    found = http.request("post", f"{BASE}/{sh.id}/developerMetadata:search",
                         json={"dataFilters": [flt]}).json()
    [hit] = found["matchedDeveloperMetadata"]
    assert hit["dataFilters"] == [flt]
    assert hit["developerMetadata"]["location"]["dimensionRange"]["startIndex"] == 4
    sh.batch_update({"requests": [{"insertDimension": {"range": {
        "sheetId": 0, "dimension": "ROWS", "startIndex": 0, "endIndex": 1}}}]})
    moved = http.request("post", f"{BASE}/{sh.id}/developerMetadata:search",
                         json={"dataFilters": [flt]}).json()
    assert moved["matchedDeveloperMetadata"][0]["developerMetadata"]["location"][
        "dimensionRange"]["startIndex"] == 5
    deleted = sh.batch_update({"requests": [{"deleteDeveloperMetadata": {"dataFilter": flt}}]})
    assert len(deleted["replies"][0]["deleteDeveloperMetadata"]["deletedDeveloperMetadata"]) == 1
    assert http.request("post", f"{BASE}/{sh.id}/developerMetadata:search",
                        json={"dataFilters": [flt]}).json() == {}


@pytest.mark.parametrize(("fields", "expected"), [
    ("sheets(properties(title,sheetId))", {"sheets": [{"properties": {"sheetId": 0,
                                                                       "title": "Sheet1"}}]}),
    ("spreadsheetId,properties.title", {"spreadsheetId": None,
                                        "properties": {"title": "Журнал 7Б · Математика"}}),
    ("sheets.properties.gridProperties/rowCount", {"sheets": [{"properties": {
        "gridProperties": {"rowCount": 1000}}}]}),
])
def test_fields_masks(sh: gspread.Spreadsheet, fields: str, expected: dict[str, Any]) -> None:
    if "spreadsheetId" in expected:
        expected = {**expected, "spreadsheetId": sh.id}
    assert sh.fetch_sheet_metadata({"fields": fields}) == expected


def test_spreadsheets_create_makes_a_drive_file(emu: GoogleEmulator) -> None:
    http = emu.client(SERVICE).http_client
    body = http.request("post", BASE, json={
        "properties": {"title": "Дневник", "locale": "ru_RU", "timeZone": "Europe/Moscow"},
        "sheets": [{"properties": {"title": "Неделя"}}, {"properties": {"title": "Оценки"}}]}
    ).json()
    assert [s["properties"]["title"] for s in body["sheets"]] == ["Неделя", "Оценки"]
    assert body["properties"]["locale"] == "ru_RU"
    assert emu.files[body["spreadsheetId"]].name == "Дневник"
