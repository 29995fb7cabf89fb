"""Acceptance: Drive roles and protected ranges are enforced for the real gspread client.

Scenario (issue 3): the service principal creates a journal in a shared-drive folder, shares it
with a teacher (writer) and a parent (reader), protects the sheet leaving some cells open (service
the only editor). The teacher writes open cells and is refused on protected ones; the parent reads
but cannot write; a stranger sees nothing. Counters show exactly the calls made.

Error shapes: Sheets answers an existing but unshared file with 403 PERMISSION_DENIED and an
unknown id with 404 NOT_FOUND (cassettes ClientTest.test_access_private_spreadsheet /
test_access_non_existing_spreadsheet); Drive answers both with 404 notFound. A protected-cell edit
is 400 INVALID_ARGUMENT "You are trying to edit a protected cell or object..." (platform.md §6.2).
"""

from __future__ import annotations

from collections import Counter

import gspread
import pytest

from tests.emulator import FOLDER_MIME, GoogleEmulator

DRIVE = "https://www.googleapis.com/drive/v3"
TEACHER = "teacher@school.ru"
PARENT = "parent@gmail.com"
STRANGER = "stranger@evil.example"
PROTECTED = {"error": {"code": 400, "message": "You are trying to edit a protected cell or object. "
                       "Please contact the spreadsheet owner to remove protection if you need to "
                       "edit.", "status": "INVALID_ARGUMENT"}}
DENIED = {"error": {"code": 403, "message": "The caller does not have permission",
                    "status": "PERMISSION_DENIED"}}


@pytest.fixture
def school() -> tuple[GoogleEmulator, str]:
    """A journal set up by the service principal; returns (emulator, spreadsheet id)."""
    emu = GoogleEmulator()
    drive = emu.create_shared_drive("Школа 1")
    svc = emu.client(emu.service_principal)
    folder = svc.http_client.request("post", f"{DRIVE}/files", params={"supportsAllDrives": True},
                                     json={"name": "5А", "mimeType": FOLDER_MIME,
                                           "parents": [drive]}).json()["id"]
    sh = svc.create("Журнал 5А Математика", folder_id=folder)
    sh.sheet1.update([["Ученик", "02.09", "03.09"], ["Иванов", "5", ""], ["Петров", "4", ""]],
                     "A1:C3")
    sh.share(TEACHER, perm_type="user", role="writer", notify=False)
    sh.share(PARENT, perm_type="user", role="reader", notify=False)
    sh.batch_update({"requests": [{"addProtectedRange": {"protectedRange": {
        "range": {"sheetId": 0}, "description": "прошедшие даты",
        "editors": {"users": [emu.service_principal]},
        "unprotectedRanges": [{"sheetId": 0, "startRowIndex": 1, "endRowIndex": 3,
                               "startColumnIndex": 2, "endColumnIndex": 3}]}}}]})
    assert emu.files[sh.id].owner is None and emu.files[sh.id].drive_id == drive
    emu.reset_counters()
    return emu, sh.id


def test_teacher_parent_stranger(school: tuple[GoogleEmulator, str]) -> None:
    emu, sid = school
    # teacher (writer): open cells yes, protected cells no
    tws = emu.client(TEACHER).open_by_key(sid).sheet1  # 2 reads (open + sheet1 metadata)
    assert tws.update([["5"], ["н"]], "C2:C3")["updatedCells"] == 2  # 1 write
    with pytest.raises(gspread.exceptions.APIError) as err:
        tws.update([["2"]], "B2")  # 1 write, refused
    assert (err.value.response.status_code, err.value.response.json()) == (400, PROTECTED)
    # parent (reader): reads, cannot write even the open cells
    psh = emu.client(PARENT).open_by_key(sid)  # 1 read
    pws = psh.get_worksheet(0)  # 1 read
    assert pws.get_all_values() == [["Ученик", "02.09", "03.09"], ["Иванов", "5", "5"],
                                    ["Петров", "4", "н"]]  # 1 read
    with pytest.raises(gspread.exceptions.APIError) as err:
        pws.update([["5"]], "C2")  # 1 write, refused
    assert (err.value.response.status_code, err.value.response.json()) == (403, DENIED)
    # stranger: Drive hides the file (404), Sheets refuses it (403), unknown ids are 404
    stranger = emu.client(STRANGER)
    with pytest.raises(gspread.exceptions.APIError) as err:
        stranger.http_client.request("get", f"{DRIVE}/files/{sid}",
                                     params={"supportsAllDrives": True})  # 1 drive
    assert err.value.response.status_code == 404
    assert err.value.response.json()["error"]["message"] == f"File not found: {sid}."
    with pytest.raises(PermissionError) as denied:  # gspread turns 403 into PermissionError
        stranger.open_by_key(sid)  # 1 read
    cause = denied.value.__cause__
    assert isinstance(cause, gspread.exceptions.APIError)
    assert (cause.response.status_code, cause.response.json()) == (403, DENIED)
    with pytest.raises(gspread.exceptions.SpreadsheetNotFound):
        stranger.open_by_key("1" + "x" * 43)  # 1 read
    assert stranger.list_spreadsheet_files() == []  # 1 drive
    # exact counters
    assert emu.calls == {
        TEACHER: Counter(sheets_read=2, sheets_write=2),
        PARENT: Counter(sheets_read=3, sheets_write=1),
        STRANGER: Counter(drive=2, sheets_read=2),
    }
    assert emu.calls_total() == 12 and emu.calls_total("sheets_write") == 3
    assert emu.calls_total(principal=TEACHER) == 4
    assert [(r.principal, r.method, r.status) for r in emu.log] == [
        (TEACHER, "GET", 200), (TEACHER, "GET", 200), (TEACHER, "PUT", 200),
        (TEACHER, "PUT", 400), (PARENT, "GET", 200), (PARENT, "GET", 200), (PARENT, "GET", 200),
        (PARENT, "PUT", 403), (STRANGER, "GET", 404), (STRANGER, "GET", 403),
        (STRANGER, "GET", 404), (STRANGER, "GET", 200)]
    assert not emu.bugs


def test_protected_values_unchanged_and_owner_side_can_tamper(
        school: tuple[GoogleEmulator, str]) -> None:
    emu, sid = school
    teacher = emu.client(TEACHER)
    with pytest.raises(gspread.exceptions.APIError):
        teacher.http_client.values_update(sid, "'Sheet1'!B2:C2",
                                          params={"valueInputOption": "RAW"},
                                          body={"values": [["2", "5"]]})
    got = teacher.http_client.values_get(sid, "'Sheet1'!A2:C2")
    assert got["values"] == [["Иванов", "5"]]  # nothing of the refused write was applied
    # the organizer (service) edits protected cells and may remove the protection
    svc = emu.client(emu.service_principal)
    svc.http_client.values_update(sid, "'Sheet1'!B2", params={"valueInputOption": "RAW"},
                                  body={"values": [["3"]]})
    assert teacher.http_client.values_get(sid, "'Sheet1'!B2")["values"] == [["3"]]
    meta = svc.http_client.request("get", f"https://sheets.googleapis.com/v4/spreadsheets/{sid}",
                                   params={"fields": "sheets.protectedRanges"}).json()
    pid = meta["sheets"][0]["protectedRanges"][0]["protectedRangeId"]
    with pytest.raises(gspread.exceptions.APIError):  # a writer cannot drop the lock
        teacher.open_by_key(sid).batch_update(
            {"requests": [{"deleteProtectedRange": {"protectedRangeId": pid}}]})
    svc.open_by_key(sid).batch_update(
        {"requests": [{"deleteProtectedRange": {"protectedRangeId": pid}}]})
    teacher.http_client.values_update(sid, "'Sheet1'!B2", params={"valueInputOption": "RAW"},
                                      body={"values": [["4"]]})
    assert svc.http_client.values_get(sid, "'Sheet1'!B2")["values"] == [["4"]]


def test_drive_view_of_the_journal(school: tuple[GoogleEmulator, str]) -> None:
    emu, sid = school
    assert [f["id"] for f in emu.client(TEACHER).list_spreadsheet_files()] == [sid]
    assert [f["id"] for f in emu.client(PARENT).list_spreadsheet_files()] == [sid]
    assert emu.role_of(TEACHER, sid) == "writer"
    assert emu.role_of(PARENT, sid) == "reader"
    assert emu.role_of(emu.service_principal, sid) == "organizer"
    assert emu.role_of(STRANGER, sid) is None
    with pytest.raises(gspread.exceptions.APIError) as err:  # readers cannot share
        emu.client(PARENT).http_client.request(
            "post", f"{DRIVE}/files/{sid}/permissions", params={"supportsAllDrives": True},
            json={"type": "user", "role": "reader", "emailAddress": "granny@gmail.com"})
    assert err.value.response.json()["error"]["errors"][0]["reason"] == (
        "insufficientFilePermissions")
    # content changes made through Sheets move the Drive version (used by change detection)
    before = emu.files[sid].version
    emu.client(TEACHER).http_client.values_update(
        sid, "'Sheet1'!C2", params={"valueInputOption": "RAW"}, body={"values": [["4"]]})
    assert emu.files[sid].version == before + 1
    assert emu.files[sid].last_modifying_user == TEACHER


def test_sheets_api_on_a_folder_is_refused_not_crashed() -> None:
    emu = GoogleEmulator()
    svc = emu.client(emu.service_principal)
    folder = svc.http_client.request("post", f"{DRIVE}/files",
                                     json={"name": "F", "mimeType": FOLDER_MIME}).json()["id"]
    with pytest.raises(gspread.exceptions.APIError) as err:
        svc.http_client.values_get(folder, "A1")
    assert err.value.response.json() == {"error": {
        "code": 400, "message": "This operation is not supported for this document",
        "status": "FAILED_PRECONDITION"}}
    assert not emu.bugs
