"""Request pipeline: route, identify the principal, count, fault, rate-limit, handle, log.

Order per call: count it (``emu.calls``), deliver a scripted fault if one matches (status faults and
"timeout"/"connect_timeout"/"reset" do not apply the request; "timeout_after" applies it and then
fails the transport), take a quota token (429 / Drive 403 when exhausted), run the handler.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from .core import (
    DRIVE_HOST,
    SHEETS_HOST,
    CallRecord,
    GoogleEmulator,
    Reply,
    bug_reply,
    classify,
    error_reply,
    parse_url,
)
from .drive_upload import Media, parse_upload
from .errors import GoogleError
from .quota import fault_error

SHEETS_PREFIX = "/v4/spreadsheets"
DRIVE_PREFIX = "/drive/v3"
UPLOAD_PREFIX = "/upload/drive/v3/files"
JSON_HEADERS = {"Content-Type": "application/json; charset=UTF-8"}


def principal_of(headers: Any) -> str | None:
    """``Authorization: Bearer teacher@school.ru`` -> "teacher@school.ru" ("user:" prefix ok)."""
    auth = headers.get("Authorization") or headers.get("authorization") or ""
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    token = token.strip()
    return (token[5:] if token.startswith("user:") else token).lower()


def not_found_route(path: str) -> GoogleError:
    return GoogleError(404, f"The requested URL {path} was not found on this server.",
                       "NOT_FOUND")


def _decode(body: bytes | str | None) -> Any:
    if body is None or body in (b"", ""):
        return None
    try:
        return json.loads(body)
    except ValueError:
        raise GoogleError(400, "Invalid JSON payload received.", "INVALID_ARGUMENT") from None


def _encode(status: int, payload: Any) -> Reply:
    if payload is None:
        return Reply(status, b"", {"Content-Type": "text/html"})
    if isinstance(payload, Media):
        return Reply(status, payload.data, {"Content-Type": payload.mime_type})
    return Reply(status, json.dumps(payload, ensure_ascii=False).encode(), dict(JSON_HEADERS))


def _api_of(host: str, path: str) -> str | None:
    """Which API serves ``path``; hosts only need to be Google's or the emulator's own."""
    if path == SHEETS_PREFIX or path.startswith((SHEETS_PREFIX + "/", SHEETS_PREFIX + ":")):
        return None if host == DRIVE_HOST else "sheets"
    if path.startswith((DRIVE_PREFIX + "/", "/upload/drive/")):
        return None if host == SHEETS_HOST else "drive"
    return None


def _serve(emu: GoogleEmulator, api: str, principal: str, method: str, path: str,
           query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
    if api == "sheets":
        try:
            from .sheets import handle_sheets
        except ImportError as exc:  # the Sheets half is not there yet: fail loudly, never 5xx
            raise GoogleError(400, f"emulator: Sheets API not available ({exc})",
                              "INVALID_ARGUMENT") from None
        return handle_sheets(emu, principal, method, path[len(SHEETS_PREFIX):], query, body)
    from .drive import handle_drive
    return handle_drive(emu, principal, method, path, query, body)


def dispatch(emu: GoogleEmulator, method: str, url: str, headers: Any,
             raw_body: bytes | str | None) -> Reply:
    """Serve one request; see the module docstring for the order of steps."""
    host, path, query = parse_url(url)
    if path.startswith("/_emulator/"):
        from .control import handle_control
        try:
            return _encode(*handle_control(emu, method, path, query, _decode(raw_body)))
        except GoogleError as err:
            return error_reply(err)
    api = _api_of(host, path)
    principal = principal_of(headers)
    who = principal or "anonymous"
    if api is None:
        reply = error_reply(not_found_route(path))
        emu.log.append(CallRecord(who, method, path, reply.status))
        return reply
    kind = classify(api, method, path)
    emu.calls.setdefault(who, Counter())[kind] += 1
    content_type = headers.get("Content-Type") or headers.get("content-type") or ""
    reply = _pipeline(emu, api, kind, who, principal, method, path, query, raw_body,
                      content_type)
    emu.log.append(CallRecord(who, method, path, reply.status))
    return reply


def _pipeline(emu: GoogleEmulator, api: str, kind: str, who: str, principal: str | None,
              method: str, path: str, query: dict[str, list[str]],
              raw_body: bytes | str | None, content_type: str = "") -> Reply:
    fault = emu.faults.take(who, method, path)
    if fault in ("timeout", "connect_timeout", "reset"):
        return Reply(0, raise_=fault)
    if fault is not None and fault != "timeout_after":
        return error_reply(fault_error(fault))
    if principal is None:
        return error_reply(GoogleError(
            401, "Request is missing required authentication credential. Expected OAuth 2 access "
            "token, login cookie or other valid authentication credential.", "UNAUTHENTICATED"))
    emu.current_principal = principal
    try:
        emu.quotas.check(kind, principal)
        if path.startswith(UPLOAD_PREFIX):
            raw = raw_body.encode() if isinstance(raw_body, str) else (raw_body or b"")
            body = parse_upload(content_type, raw, (query.get("uploadType") or [None])[-1])
        else:
            body = _decode(raw_body)
        reply = _encode(*_serve(emu, api, principal, method, path, query, body))
    except GoogleError as err:
        reply = error_reply(err)
    except Exception:
        reply = bug_reply(emu, f"{method} {path}")
    finally:
        emu.current_principal = None
    if fault == "timeout_after":
        reply.raise_ = "timeout"
    return reply
