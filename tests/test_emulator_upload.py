"""Drive v3 uploads in the emulator (``tests/emulator/drive_upload.py``), through the real
gspread HTTP client: a multipart upload as Drive v3 documents it
(https://developers.google.com/drive/api/guides/manage-uploads#multipart), the stored bytes read
back with ``alt=media``, the refusals, and the response shape against the recorded cassettes
(they hold Drive v3 ``files.create`` of metadata, whose default fields an upload answers with;
they hold no v3 upload — only gspread's v2 ``uploadType=media`` of ``import_csv``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gspread
import pytest

from sync.backends.google.upload import UPLOAD_URL, multipart_body
from tests.emulator import GoogleEmulator

CASSETTES = Path("/work/shared/fidelity/gspread-cassettes")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATA = b"PK\x03\x04 not really a workbook \x00\xff"
DEPUTY = "deputy@school.ru"


@pytest.fixture
def emu() -> GoogleEmulator:
    return GoogleEmulator()


@pytest.fixture
def drive(emu: GoogleEmulator) -> str:
    return emu.create_shared_drive("Школа", organizers=[emu.service_principal])


def upload(gc: gspread.Client, metadata: dict[str, Any], data: bytes = DATA, *,
           upload_type: str = "multipart", content_type: str | None = None) -> Any:
    body = multipart_body(metadata, data, XLSX, "b0undary")
    r = gc.http_client.request(
        "post", UPLOAD_URL,
        params={"uploadType": upload_type, "supportsAllDrives": "true"}, data=body,
        headers={"Content-Type": content_type or "multipart/related; boundary=b0undary"})
    return r.json()


def refused(gc: gspread.Client, *args: Any, **kw: Any) -> tuple[int, str]:
    with pytest.raises(gspread.exceptions.APIError) as info:
        upload(gc, *args, **kw)
    return info.value.response.status_code, info.value.response.json()["error"]["message"]


def test_multipart_upload_into_a_shared_drive_and_download(emu: GoogleEmulator, drive: str
                                                           ) -> None:
    svc = emu.client(emu.service_principal)
    made = upload(svc, {"name": "Итоги · 1 четверть.xlsx", "parents": [drive]})
    assert set(made) == {"kind", "id", "name", "mimeType"}
    assert (made["kind"], made["name"], made["mimeType"]) == (
        "drive#file", "Итоги · 1 четверть.xlsx", XLSX)
    stored = emu.files[made["id"]]
    assert (stored.content, stored.drive_id, stored.parents) == (DATA, drive, [drive])
    r = svc.http_client.request("get", f"https://www.googleapis.com/drive/v3/files/{made['id']}",
                                params={"alt": "media", "supportsAllDrives": "true"})
    assert (r.content, r.headers["Content-Type"]) == (DATA, XLSX)


def test_the_upload_answers_like_the_recorded_files_create(emu: GoogleEmulator,
                                                           drive: str) -> None:
    if not CASSETTES.is_dir():
        pytest.skip(f"no cassettes at {CASSETTES}")
    recorded = json.loads((CASSETTES / "ClientTest.test_import_csv.json").read_text())
    create = next(i for i in recorded["interactions"]
                  if i["request"]["method"] == "POST"
                  and i["request"]["uri"].startswith("https://www.googleapis.com/drive/v3/files"))
    keys = set(json.loads(create["response"]["body"]["string"]))
    made = upload(emu.client(emu.service_principal), {"name": "x.xlsx", "parents": [drive]})
    assert set(made) == keys == {"kind", "id", "name", "mimeType"}


def test_upload_refusals(emu: GoogleEmulator, drive: str) -> None:
    svc = emu.client(emu.service_principal)
    meta = {"name": "x.xlsx", "parents": [drive]}
    assert refused(svc, meta, content_type="application/json") == (
        400, "Bad content type. Please use multipart.")
    assert refused(svc, meta, upload_type="resumable")[0] == 400
    assert refused(svc, meta, upload_type="chunky")[0] == 400
    assert refused(svc, {"name": "x", "parents": [drive], "id": "mine"}) == (
        403, "The resource body includes fields which are not directly writable. (id)")
    teacher = emu.client("teacher@school.ru")  # no member of the shared drive
    assert refused(teacher, meta)[0] == 404
    body = (b"--b\r\nContent-Type: application/json\r\n\r\n{}\r\n--b--\r\n")
    with pytest.raises(gspread.exceptions.APIError, match="exactly two parts"):
        svc.http_client.request("post", UPLOAD_URL, params={"uploadType": "multipart"},
                                data=body, headers={"Content-Type": "multipart/related; boundary=b"})


def test_a_spreadsheet_has_no_media_to_download(emu: GoogleEmulator) -> None:
    svc = emu.client(emu.service_principal)
    sheet = svc.create("Журнал")
    with pytest.raises(gspread.exceptions.APIError, match="Only files with binary content"):
        svc.http_client.request("get", f"https://www.googleapis.com/drive/v3/files/{sheet.id}",
                                params={"alt": "media"})
