"""Uploading a file (a report workbook) into a Drive folder: one Drive v3 multipart upload.

``POST https://www.googleapis.com/upload/drive/v3/files?uploadType=multipart`` with a
``multipart/related`` body — the JSON metadata (name, parent) first, the bytes second — as Drive
v3 documents it. A retry whose first attempt may have landed (a timeout after sending) first looks
for a file of the same name in the folder (names carry the build time, so they are unique), so a
report is never uploaded twice.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from gspread.urls import DRIVE_FILES_API_V3_URL

from sync.backends.google.http import ProjectHTTPClient

UPLOAD_URL = "https://www.googleapis.com/upload/drive/v3/files"


def multipart_body(metadata: dict[str, Any], data: bytes, mime_type: str,
                   boundary: str) -> bytes:
    """The ``multipart/related`` body of a Drive upload."""
    head = (f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n"
            f"{json.dumps(metadata, ensure_ascii=False)}\r\n"
            f"--{boundary}\r\nContent-Type: {mime_type}\r\n\r\n").encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode()


def find_file(http: ProjectHTTPClient, name: str, folder: str) -> str | None:
    """The id of a live file called ``name`` in ``folder``, if any (one Drive list call)."""
    quoted = name.replace("\\", "\\\\").replace("'", "\\'")
    response = http.request("get", DRIVE_FILES_API_V3_URL, params={
        "q": f"name = '{quoted}' and '{folder}' in parents and trashed = false",
        "fields": "files(id)", "supportsAllDrives": "true", "includeItemsFromAllDrives": "true",
    })
    files = response.json().get("files") or []
    return str(files[0]["id"]) if files else None


def upload_file(http: ProjectHTTPClient, name: str, data: bytes, mime_type: str,
                folder: str) -> str:
    """Upload ``data`` as a new file ``name`` in ``folder``; returns its id."""
    boundary = f"ejournal-{secrets.token_hex(12)}"
    body = multipart_body({"name": name, "parents": [folder]}, data, mime_type, boundary)
    response = http.request(
        "post", UPLOAD_URL,
        params={"uploadType": "multipart", "supportsAllDrives": "true", "fields": "id"},
        data=body, headers={"Content-Type": f"multipart/related; boundary={boundary}"},
    )
    return str(response.json()["id"])
