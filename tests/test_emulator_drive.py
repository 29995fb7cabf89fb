"""Drive v3 half of the emulator, exercised through the real gspread 6.2.1 HTTP client.

Expectations come from Google's Drive v3 reference (files, permissions, changes) and the gspread
cassettes (response shapes of create/get/list/delete); the cassettes hold no permissions/changes.
"""

from __future__ import annotations

from typing import Any

import gspread
import pytest

from tests.emulator import FOLDER_MIME, SPREADSHEET_MIME, GoogleEmulator

DRIVE = "https://www.googleapis.com/drive/v3"
ALL = {"supportsAllDrives": True, "includeItemsFromAllDrives": True}
TEACHER = "teacher@school.ru"
PARENT = "parent@gmail.com"
STRANGER = "stranger@evil.example"


def call(gc: gspread.Client, method: str, path: str, params: dict[str, Any] | None = None,
         body: Any = None) -> Any:
    params = dict(ALL) if params is None else params
    r = gc.http_client.request(method, DRIVE + path, params=params, json=body)
    return r.json() if r.content else None


def error_of(gc: gspread.Client, method: str, path: str, params: dict[str, Any] | None = None,
             body: Any = None) -> tuple[int, dict[str, Any]]:
    with pytest.raises(gspread.exceptions.APIError) as info:
        call(gc, method, path, params, body)
    return info.value.response.status_code, info.value.response.json()


def not_found(file_id: str) -> dict[str, Any]:
    msg = f"File not found: {file_id}."
    return {"error": {"code": 404, "message": msg, "errors": [{
        "message": msg, "domain": "global", "reason": "notFound", "location": "fileId",
        "locationType": "parameter"}]}}


INSUFFICIENT = {"error": {"code": 403, "message": "The user does not have sufficient permissions "
                          "for this file.", "errors": [{
                              "message": "The user does not have sufficient permissions for "
                              "this file.", "domain": "global",
                              "reason": "insufficientFilePermissions"}]}}


@pytest.fixture
def emu() -> GoogleEmulator:
    return GoogleEmulator()


@pytest.fixture
def svc(emu: GoogleEmulator) -> gspread.Client:
    return emu.client(emu.service_principal)


@pytest.fixture
def drive_id(emu: GoogleEmulator) -> str:
    return emu.create_shared_drive("Школа 1", organizers=[emu.service_principal])


def mkfile(gc: gspread.Client, name: str, parent: str | None = None,
           mime: str = SPREADSHEET_MIME, **extra: Any) -> str:
    body: dict[str, Any] = {"name": name, "mimeType": mime, **extra}
    if parent:
        body["parents"] = [parent]
    return str(call(gc, "post", "/files", {"supportsAllDrives": True}, body)["id"])


def test_create_in_shared_drive_folder_is_owned_by_the_drive(
        emu: GoogleEmulator, svc: gspread.Client, drive_id: str) -> None:
    folder = call(svc, "post", "/files", {"supportsAllDrives": True},
                  {"name": "5А", "mimeType": FOLDER_MIME, "parents": [drive_id]})
    assert folder == {"kind": "drive#file", "id": folder["id"], "name": "5А",
                      "mimeType": FOLDER_MIME}
    sid = mkfile(svc, "Журнал 5А", folder["id"])
    got = call(svc, "get", f"/files/{sid}",
               {**ALL, "fields": "id,name,parents,driveId,owners,version,mimeType"})
    assert got == {"id": sid, "name": "Журнал 5А", "parents": [folder["id"]],
                   "driveId": drive_id, "version": "1", "mimeType": SPREADSHEET_MIME}
    assert len(sid) == 44 and emu.files[sid].owner is None
    assert emu.files[sid].spreadsheet.title == "Журнал 5А"
    # without supportsAllDrives a shared-drive item is invisible, like Google's
    assert error_of(svc, "get", f"/files/{sid}", {}) == (404, not_found(sid))
    # a non-member cannot see it nor create in the drive
    teacher = emu.client(TEACHER)
    assert error_of(teacher, "get", f"/files/{sid}") == (404, not_found(sid))
    assert error_of(teacher, "post", "/files", {"supportsAllDrives": True},
                    {"name": "x", "parents": [drive_id]}) == (404, not_found(drive_id))
    # a drive "reader" member sees it but cannot create inside
    emu.add_drive_member(drive_id, TEACHER, "reader")
    assert call(teacher, "get", f"/files/{sid}", {**ALL, "fields": "id"}) == {"id": sid}
    assert error_of(teacher, "post", "/files", {"supportsAllDrives": True},
                    {"name": "x", "parents": [drive_id]}) == (403, INSUFFICIENT)


def test_get_default_and_masked_fields_match_cassette_shapes(
        emu: GoogleEmulator, svc: gspread.Client) -> None:
    sid = mkfile(svc, "Test")
    got = call(svc, "get", f"/files/{sid}",
               {**ALL, "fields": "id,name,createdTime,modifiedTime"})
    assert got == {"id": sid, "name": "Test", "createdTime": "2024-09-02T06:00:00.000Z",
                   "modifiedTime": "2024-09-02T06:00:00.000Z"}
    full = call(svc, "get", f"/files/{sid}", {**ALL, "fields": "*"})
    assert full["owners"][0]["emailAddress"] == emu.service_principal
    assert full["owners"][0]["me"] is True and full["ownedByMe"] is True
    assert full["parents"] == [emu.root_id(emu.service_principal)]
    nested = call(svc, "get", f"/files/{sid}", {**ALL, "fields": "owners(emailAddress),"
                                                "capabilities/canShare"})
    assert nested == {"owners": [{"emailAddress": emu.service_principal}],
                      "capabilities": {"canShare": True}}


def test_list_with_q_paging_and_fields(emu: GoogleEmulator, svc: gspread.Client,
                                       drive_id: str) -> None:
    folder = mkfile(svc, "5А", drive_id, FOLDER_MIME)
    ids = [mkfile(svc, f"Журнал {i}", folder) for i in range(5)]
    mkfile(svc, "Elsewhere", drive_id)
    call(svc, "patch", f"/files/{ids[4]}", {"supportsAllDrives": True}, {"trashed": True})
    q = f"mimeType = '{SPREADSHEET_MIME}' and '{folder}' in parents and trashed = false"
    seen, token, pages = [], None, 0
    while True:
        params = {**ALL, "q": q, "pageSize": 2, "fields": "nextPageToken,files(id,name)"}
        if token:
            params["pageToken"] = token
        page = call(svc, "get", "/files", params)
        pages += 1
        assert all(set(f) == {"id", "name"} for f in page["files"])
        seen += [f["id"] for f in page["files"]]
        token = page.get("nextPageToken")
        if not token:
            break
    assert seen == ids[:4] and pages == 2
    # gspread's own list (double quotes, name =) and open(title)
    found = svc.list_spreadsheet_files(title="Журнал 2", folder_id=folder)
    assert [f["id"] for f in found] == [ids[2]]
    # trashed files are listed unless excluded, as in Drive v3
    names = {f["name"] for f in call(svc, "get", "/files", {**ALL, "q": f'"{folder}" in parents'})
             ["files"]}
    assert names == {f"Журнал {i}" for i in range(5)}
    # modifiedTime filter
    emu.clock.advance(3600)
    call(svc, "patch", f"/files/{ids[1]}", {"supportsAllDrives": True}, {"name": "Новое"})
    later = call(svc, "get", "/files", {**ALL, "q": "modifiedTime > '2024-09-02T06:30:00' and "
                                        "name contains 'нов'", "fields": "files(id,version)"})
    assert later == {"files": [{"id": ids[1], "version": "2"}]}
    # shared-drive items need includeItemsFromAllDrives
    assert call(svc, "get", "/files", {"q": f"'{folder}' in parents"})["files"] == []


@pytest.mark.parametrize("q", ["name = ", "name = 'a' or name = 'b'", "foo = 'x'",
                               "modifiedTime > 'yesterday'", "name = 'a' and", "(name = 'a')"])
def test_invalid_q_is_drive_400(svc: gspread.Client, q: str) -> None:
    assert error_of(svc, "get", "/files", {"q": q}) == (400, {"error": {
        "code": 400, "message": "Invalid Value", "errors": [{
            "message": "Invalid Value", "domain": "global", "reason": "invalid",
            "location": "q", "locationType": "parameter"}]}})


def test_update_metadata_parents_and_title_sync(emu: GoogleEmulator, svc: gspread.Client,
                                                drive_id: str) -> None:
    a = mkfile(svc, "A", drive_id, FOLDER_MIME)
    b = mkfile(svc, "B", drive_id, FOLDER_MIME)
    sid = mkfile(svc, "Журнал", a)
    got = call(svc, "patch", f"/files/{sid}",
               {"supportsAllDrives": True, "addParents": b, "removeParents": a,
                "fields": "name,parents,writersCanShare,copyRequiresWriterPermission,version"},
               {"name": "Журнал 5А", "writersCanShare": False,
                "copyRequiresWriterPermission": True})
    assert got == {"name": "Журнал 5А", "parents": [b], "writersCanShare": False,
                   "copyRequiresWriterPermission": True, "version": "2"}
    assert emu.files[sid].spreadsheet.title == "Журнал 5А"
    status, body = error_of(svc, "patch", f"/files/{sid}", {"supportsAllDrives": True},
                            {"id": "other"})
    assert status == 403 and body["error"]["errors"][0]["reason"] == "fieldNotWritable"
    status, body = error_of(svc, "patch", f"/files/{sid}",
                            {"supportsAllDrives": True, "addParents": a})
    assert status == 403 and body["error"]["errors"][0]["reason"] == "cannotAddParent"


def test_copy_keeps_parent_and_copies_the_spreadsheet(emu: GoogleEmulator, svc: gspread.Client,
                                                      drive_id: str) -> None:
    folder = mkfile(svc, "F", drive_id, FOLDER_MIME)
    src = mkfile(svc, "Шаблон", folder)
    copied = call(svc, "post", f"/files/{src}/copy", {"supportsAllDrives": True},
                  {"name": None, "mimeType": SPREADSHEET_MIME})
    assert copied["name"] == "Copy of Шаблон" and copied["id"] != src
    new = emu.files[copied["id"]]
    assert new.parents == [folder] and new.drive_id == drive_id
    assert new.spreadsheet is not emu.files[src].spreadsheet
    assert new.spreadsheet.title == "Copy of Шаблон"
    named = call(svc, "post", f"/files/{src}/copy", {"supportsAllDrives": True},
                 {"name": "Журнал 6Б"})
    assert emu.files[named["id"]].spreadsheet.title == "Журнал 6Б"


def test_copy_requires_writer_permission_blocks_readers(emu: GoogleEmulator,
                                                        svc: gspread.Client) -> None:
    sid = mkfile(svc, "Дневник", copyRequiresWriterPermission=True)
    call(svc, "post", f"/files/{sid}/permissions", {"sendNotificationEmail": False},
         {"type": "user", "role": "reader", "emailAddress": PARENT})
    assert error_of(emu.client(PARENT), "post", f"/files/{sid}/copy", {}, {}) == (403,
                                                                                 INSUFFICIENT)


def test_delete_is_204_owner_only_and_cascades(emu: GoogleEmulator, svc: gspread.Client) -> None:
    folder = mkfile(svc, "F", mime=FOLDER_MIME)
    sid = mkfile(svc, "J", folder)
    call(svc, "post", f"/files/{folder}/permissions", {}, {"type": "user", "role": "writer",
                                                           "emailAddress": TEACHER})
    teacher = emu.client(TEACHER)
    assert call(teacher, "get", f"/files/{sid}", {"fields": "id"}) == {"id": sid}  # inherited
    assert error_of(teacher, "delete", f"/files/{sid}") == (403, INSUFFICIENT)
    r = svc.http_client.request("delete", f"{DRIVE}/files/{folder}",
                                params={"supportsAllDrives": True})
    assert (r.status_code, r.content) == (204, b"")
    assert sid not in emu.files
    assert error_of(svc, "get", f"/files/{sid}") == (404, not_found(sid))


def test_permissions_by_type_and_role(emu: GoogleEmulator, svc: gspread.Client) -> None:
    sid = mkfile(svc, "J")
    other = mkfile(svc, "K")
    emu.add_group("teachers@school.ru", ["math@school.ru"])
    made = [
        call(svc, "post", f"/files/{sid}/permissions", {"sendNotificationEmail": False}, body)
        for body in ({"type": "user", "role": "writer", "emailAddress": TEACHER},
                     {"type": "group", "role": "commenter", "emailAddress": "teachers@school.ru"},
                     {"type": "domain", "role": "reader", "domain": "school.ru"},
                     {"type": "anyone", "role": "reader", "withLink": False})]
    assert [(p["type"], p["role"]) for p in made] == [
        ("user", "writer"), ("group", "commenter"), ("domain", "reader"), ("anyone", "reader")]
    assert set(made[0]) == {"kind", "id", "type", "role"} and made[3]["id"] == "anyoneWithLink"
    again = call(svc, "post", f"/files/{other}/permissions", {}, {
        "type": "user", "role": "reader", "emailAddress": TEACHER})
    assert again["id"] == made[0]["id"]  # stable per grantee, across files
    assert emu.role_of(TEACHER, sid) == "writer"
    assert emu.role_of("math@school.ru", sid) == "commenter"
    assert emu.role_of("cook@school.ru", sid) == "reader"
    assert emu.role_of(STRANGER, sid) == "reader"  # anyone-with-link
    listed = call(svc, "get", f"/files/{sid}/permissions",
                  {"supportsAllDrives": True, "fields": "nextPageToken,permissions"})
    assert [(p["type"], p["role"], p.get("emailAddress") or p.get("domain")) for p in
            listed["permissions"]] == [
        ("user", "owner", emu.service_principal), ("user", "writer", TEACHER),
        ("group", "commenter", "teachers@school.ru"), ("domain", "reader", "school.ru"),
        ("anyone", "reader", None)]
    assert call(svc, "get", f"/files/{sid}/permissions/{made[1]['id']}", {}) == {
        "kind": "drive#permission", "id": made[1]["id"], "type": "group", "role": "commenter"}
    r = svc.http_client.request("delete", f"{DRIVE}/files/{sid}/permissions/anyoneWithLink")
    assert r.status_code == 204
    assert emu.role_of(STRANGER, sid) is None
    owner_pid = listed["permissions"][0]["id"]
    status, body = error_of(svc, "delete", f"/files/{sid}/permissions/{owner_pid}", {})
    assert status == 403 and body["error"]["errors"][0]["reason"] == "cannotRemoveOwner"
    status, body = error_of(svc, "delete", f"/files/{sid}/permissions/123", {})
    assert status == 404 and body["error"]["message"] == "Permission not found: 123."
    status, body = error_of(svc, "post", f"/files/{sid}/permissions", {},
                            {"type": "user", "role": "owner", "emailAddress": TEACHER})
    assert status == 403 and "transferOwnership" in body["error"]["message"]


def test_gspread_share_list_remove(emu: GoogleEmulator, svc: gspread.Client) -> None:
    sid = mkfile(svc, "J")
    sh = gspread.Spreadsheet.__new__(gspread.Spreadsheet)  # avoid the metadata GET (Sheets)
    sh.client = svc.http_client
    sh._properties = {"id": sid, "title": "J"}
    sh.share(PARENT, perm_type="user", role="reader", notify=False)
    assert [p["emailAddress"] for p in sh.list_permissions()] == [emu.service_principal, PARENT]
    sh.remove_permissions(PARENT)
    assert emu.role_of(PARENT, sid) is None


def test_sharing_rights(emu: GoogleEmulator, svc: gspread.Client) -> None:
    sid = mkfile(svc, "J")
    for who, role in ((TEACHER, "writer"), (PARENT, "reader")):
        call(svc, "post", f"/files/{sid}/permissions", {}, {"type": "user", "role": role,
                                                            "emailAddress": who})
    teacher, parent = emu.client(TEACHER), emu.client(PARENT)
    share = {"type": "user", "role": "reader", "emailAddress": "x@school.ru"}
    assert error_of(parent, "post", f"/files/{sid}/permissions", {}, share) == (403, INSUFFICIENT)
    assert error_of(parent, "get", f"/files/{sid}/permissions", {}) == (403, INSUFFICIENT)
    assert error_of(parent, "patch", f"/files/{sid}", {}, {"name": "x"}) == (403, INSUFFICIENT)
    assert call(teacher, "post", f"/files/{sid}/permissions", {}, share)["role"] == "reader"
    call(svc, "patch", f"/files/{sid}", {}, {"writersCanShare": False})
    assert error_of(teacher, "post", f"/files/{sid}/permissions", {}, share) == (403,
                                                                                INSUFFICIENT)
    assert error_of(teacher, "patch", f"/files/{sid}", {}, {"writersCanShare": True}) == (
        403, INSUFFICIENT)
    assert call(teacher, "patch", f"/files/{sid}", {"fields": "name"}, {"name": "Y"}) == {
        "name": "Y"}
    stranger = emu.client(STRANGER)
    for method, path in (("get", f"/files/{sid}"), ("patch", f"/files/{sid}"),
                         ("delete", f"/files/{sid}"), ("get", f"/files/{sid}/permissions")):
        assert error_of(stranger, method, path, {}, {}) == (404, not_found(sid))


def test_changes_feed(emu: GoogleEmulator, svc: gspread.Client, drive_id: str) -> None:
    start = call(svc, "get", "/changes/startPageToken", {})["startPageToken"]
    idle = call(svc, "get", "/changes", {**ALL, "pageToken": start})
    assert idle == {"kind": "drive#changeList", "newStartPageToken": start, "changes": []}
    sid = mkfile(svc, "J", drive_id)
    emu.clock.advance(60)
    call(svc, "patch", f"/files/{sid}", {"supportsAllDrives": True}, {"name": "J2"})
    fields = "nextPageToken,newStartPageToken,changes(fileId,removed,time,file(name,version))"
    feed = call(svc, "get", "/changes", {**ALL, "pageToken": start, "fields": fields})
    assert feed["changes"] == [{"fileId": sid, "removed": False,
                                "time": "2024-09-02T06:01:00.000Z",
                                "file": {"name": "J2", "version": "2"}}]
    token = feed["newStartPageToken"]
    assert call(svc, "get", "/changes", {**ALL, "pageToken": token})["changes"] == []
    # shared-drive changes need includeItemsFromAllDrives
    assert call(svc, "get", "/changes", {"pageToken": start})["changes"] == []
    # a permission change is a change, and the new reader now sees the file in their feed
    call(svc, "post", f"/files/{sid}/permissions", {"supportsAllDrives": True},
         {"type": "user", "role": "reader", "emailAddress": PARENT})
    feed = call(svc, "get", "/changes", {**ALL, "pageToken": token, "fields": fields})
    assert [(c["fileId"], c["file"]["version"]) for c in feed["changes"]] == [(sid, "3")]
    parent_feed = call(emu.client(PARENT), "get", "/changes", {**ALL, "pageToken": token})
    assert [c["fileId"] for c in parent_feed["changes"]] == [sid]
    assert call(emu.client(STRANGER), "get", "/changes", {**ALL, "pageToken": token})[
        "changes"] == []
    # deletion is reported as removed; paging splits the feed
    others = [mkfile(svc, f"K{i}", drive_id) for i in range(3)]
    svc.http_client.request("delete", f"{DRIVE}/files/{sid}", params={"supportsAllDrives": True})
    got, page_token = [], token
    while True:
        page = call(svc, "get", "/changes", {**ALL, "pageToken": page_token, "pageSize": 2})
        got += [(c["fileId"], c["removed"]) for c in page["changes"]]
        if "newStartPageToken" in page:
            break
        page_token = page["nextPageToken"]
    assert got == [(o, False) for o in others] + [(sid, True)]
    status, body = error_of(svc, "get", "/changes", {})
    assert status == 400 and body["error"]["errors"][0]["reason"] == "required"


def test_version_and_modified_time_move_on_every_change(emu: GoogleEmulator,
                                                        svc: gspread.Client) -> None:
    sid = mkfile(svc, "J")
    f = emu.files[sid]
    stamps = [(f.version, f.modified_time)]
    for step in (
        lambda: call(svc, "patch", f"/files/{sid}", {}, {"name": "J2"}),
        lambda: call(svc, "post", f"/files/{sid}/permissions", {},
                     {"type": "user", "role": "reader", "emailAddress": PARENT}),
        lambda: emu.touch(f),  # what the Sheets half does on a content change
        lambda: call(svc, "patch", f"/files/{sid}", {}, {"copyRequiresWriterPermission": True}),
    ):
        emu.clock.advance(1)
        step()
        stamps.append((f.version, f.modified_time))
    versions = [v for v, _ in stamps]
    times = [t for _, t in stamps]
    assert versions == [1, 2, 3, 4, 5]
    assert times == sorted(times) and len(set(times)) == 5
    got = call(svc, "get", f"/files/{sid}", {"fields": "version,modifiedTime,lastModifyingUser"})
    assert got["version"] == "5" and got["modifiedTime"] == "2024-09-02T06:00:04.000Z"
    assert got["lastModifyingUser"]["emailAddress"] == emu.service_principal


def test_service_account_storage_quota_switch(svc: gspread.Client, emu: GoogleEmulator,
                                              drive_id: str) -> None:
    emu.sa_storage_quota = True
    status, body = error_of(svc, "post", "/files", {}, {"name": "x"})
    assert status == 403 and body["error"]["errors"][0]["reason"] == "storageQuotaExceeded"
    assert mkfile(svc, "ok", drive_id)  # shared drives are the workaround


def test_unknown_routes_are_google_404(svc: gspread.Client) -> None:
    for url in ("https://www.googleapis.com/drive/v3/nothing",
                "https://www.googleapis.com/storage/v1/b"):
        with pytest.raises(gspread.exceptions.APIError) as info:
            svc.http_client.request("get", url)
        assert info.value.response.status_code == 404
        assert info.value.response.json()["error"]["status"] == "NOT_FOUND"


def test_losing_access_is_reported_as_removed(emu: GoogleEmulator, svc: gspread.Client) -> None:
    sid = mkfile(svc, "Дневник")
    perm = call(svc, "post", f"/files/{sid}/permissions", {},
                {"type": "user", "role": "reader", "emailAddress": PARENT})
    parent = emu.client(PARENT)
    token = call(parent, "get", "/changes/startPageToken", {})["startPageToken"]
    svc.http_client.request("delete", f"{DRIVE}/files/{sid}/permissions/{perm['id']}")
    feed = call(parent, "get", "/changes", {"pageToken": token})
    assert [(c["fileId"], c["removed"], "file" in c) for c in feed["changes"]] == [
        (sid, True, False)]
    owner_view = call(svc, "get", "/changes", {"pageToken": token})
    assert [(c["fileId"], c["removed"]) for c in owner_view["changes"]] == [(sid, False)]


def test_version_and_modified_time_move_forward_on_every_change_even_on_a_frozen_clock(
        emu: GoogleEmulator, svc: gspread.Client) -> None:
    """Real Drive never reports two changes of a file with the same ``modifiedTime``; the time
    locks' proofs rely on it (a change after the closing moment is later than it)."""
    sid = mkfile(svc, "Журнал")
    fields = {**ALL, "fields": "version,modifiedTime"}
    seen = [call(svc, "get", f"/files/{sid}", fields)]
    for name in ("Журнал 2", "Журнал 3"):  # two renames, the emulator's clock standing still
        call(svc, "patch", f"/files/{sid}", ALL, {"name": name})
        seen.append(call(svc, "get", f"/files/{sid}", fields))
    versions = [int(s["version"]) for s in seen]
    times = [s["modifiedTime"] for s in seen]
    assert versions == sorted(set(versions)) and len(set(versions)) == 3
    assert times == ["2024-09-02T06:00:00.000Z", "2024-09-02T06:00:00.001Z",
                     "2024-09-02T06:00:00.002Z"]
