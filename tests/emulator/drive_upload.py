"""Drive v3 uploads: ``POST /upload/drive/v3/files?uploadType=multipart|media`` and downloads of
binary content (``GET /drive/v3/files/ID?alt=media``).

As Drive v3 does (https://developers.google.com/drive/api/guides/manage-uploads): a multipart
upload is a ``multipart/related`` body of exactly two parts, the JSON metadata first and the media
second; the file's ``mimeType`` is the metadata's, else the media part's ``Content-Type``. A
``media`` upload carries only the bytes (the file is named "Untitled"). ``resumable`` uploads are
not served (a loud 400, never a stub). The response is the created ``drive#file`` with the method's
default fields. Parents, shared drives and permissions follow ``drive_files.create``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from .core import GoogleEmulator
from .drive import FILE_DEFAULT_FIELDS, Query, file_json, masked, not_implemented, qbool
from .drive_files import WRITABLE, _apply_meta, _check_body, _parent_for
from .errors import GoogleError


@dataclass(frozen=True)
class Upload:
    """A parsed upload body: the metadata (``None`` for a media upload) and the media."""

    metadata: dict[str, Any] | None
    media: bytes
    media_type: str


def parse_upload(content_type: str, body: bytes, upload_type: str | None) -> Upload:
    """The upload as Drive reads it from the raw request (see the module docstring)."""
    if upload_type == "media":
        return Upload(None, body, content_type.split(";")[0].strip() or
                      "application/octet-stream")
    if upload_type == "resumable":
        raise not_implemented("resumable uploads")
    if upload_type != "multipart":
        raise GoogleError(400, f"Invalid upload request: uploadType={upload_type!r} is not "
                          "one of media, multipart, resumable", reason="badRequest")
    if not content_type.lower().startswith("multipart/related") or "boundary=" not in content_type:
        raise GoogleError(400, "Bad content type. Please use multipart.", reason="badContent")
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    parts = list(message.iter_parts()) if message.is_multipart() else []
    if len(parts) != 2:
        raise GoogleError(400, "Multipart upload must have exactly two parts: metadata and "
                          "media.", reason="badContent")
    meta_part, media_part = parts
    if meta_part.get_content_type() != "application/json":
        raise GoogleError(400, "The first part of a multipart upload must be application/json "
                          "metadata.", reason="badContent")
    try:
        metadata = json.loads(meta_part.get_payload(decode=True) or b"{}")
    except ValueError:
        raise GoogleError(400, "Invalid JSON payload received.", reason="parseError") from None
    media = media_part.get_payload(decode=True) or b""
    return Upload(metadata, media, media_part.get_content_type())


def upload(emu: GoogleEmulator, principal: str, query: Query, body: Any, _: list[str]
           ) -> tuple[int, Any]:
    """files.create with media: the file keeps the bytes (``DriveFile.content``)."""
    if not isinstance(body, Upload):
        raise GoogleError(400, "Invalid upload request.", reason="badRequest")
    meta = _check_body(body.metadata, WRITABLE)
    all_drives = qbool(query, "supportsAllDrives")
    parents = _parent_for(emu, principal, meta.get("parents"), all_drives)
    mime = meta.get("mimeType") or body.media_type or "application/octet-stream"
    f = emu.create_file(principal, meta.get("name") or "Untitled", mime, parents)
    f.content = body.media
    _apply_meta(f, meta)
    return 200, masked(file_json(emu, f, principal), query, FILE_DEFAULT_FIELDS)


@dataclass(frozen=True)
class Media:
    """A binary response body (``alt=media``)."""

    data: bytes
    mime_type: str


def download(emu: GoogleEmulator, principal: str, query: Query, file_id: str) -> Media:
    """``GET …/files/ID?alt=media`` of a file with binary content (needs reader)."""
    f = emu.file_for(principal, file_id, "reader", api="drive",
                     all_drives=qbool(query, "supportsAllDrives"))
    if f.content is None:
        raise GoogleError(403, "Only files with binary content can be downloaded. Use Export "
                          "with Docs Editors files.", reason="fileNotDownloadable",
                          location="alt", location_type="parameter")
    return Media(f.content, f.mime_type)
