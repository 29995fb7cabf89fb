"""Google-shaped API errors raised inside the emulator and turned into HTTP responses.

Two wire shapes exist (platform.md §1.5, Drive "handle errors" guide):

* Sheets v4 (google.rpc.Status JSON):
  ``{"error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}}``
  (optionally with ``details``, e.g. ``google.rpc.BadRequest`` field violations).
* Drive v3 (legacy "errors" list):
  ``{"error": {"code": 404, "message": "File not found: X.", "errors": [{"message":
  "File not found: X.", "domain": "global", "reason": "notFound", "location": "fileId",
  "locationType": "parameter"}]}}``

``body()`` includes ``errors`` only when ``reason`` is given and ``status`` only when given, so one
class serves both APIs.
"""

from __future__ import annotations

from typing import Any


class GoogleError(Exception):
    """An API error with Google's JSON body; raise it from any handler."""

    def __init__(
        self,
        code: int,
        message: str,
        status: str | None = None,
        reason: str | None = None,
        *,
        location: str | None = None,
        location_type: str | None = None,
        domain: str = "global",
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code} {status or reason or ''}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.reason = reason
        self.location = location
        self.location_type = location_type
        self.domain = domain
        self.details = details
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """Google's JSON error document for this error."""
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.reason is not None:
            item: dict[str, Any] = {
                "message": self.message,
                "domain": self.domain,
                "reason": self.reason,
            }
            if self.location is not None:
                item["location"] = self.location
            if self.location_type is not None:
                item["locationType"] = self.location_type
            err["errors"] = [item]
        if self.status is not None:
            err["status"] = self.status
        if self.details:
            err["details"] = self.details
        return {"error": err}


# ---- frequently used errors (exact texts as Google sends them) -------------------------------

def sheets_not_found() -> GoogleError:
    """Sheets 404 for an unknown or invisible spreadsheet (cassette ClientTest.*non_existing*)."""
    return GoogleError(404, "Requested entity was not found.", "NOT_FOUND")


def sheets_permission_denied() -> GoogleError:
    """Sheets answer when the caller lacks the needed role (cassette ClientTest.*private*)."""
    return GoogleError(403, "The caller does not have permission", "PERMISSION_DENIED")


def invalid_argument(message: str) -> GoogleError:
    """Sheets 400 INVALID_ARGUMENT with the given message."""
    return GoogleError(400, message, "INVALID_ARGUMENT")


def drive_file_not_found(file_id: str) -> GoogleError:
    """Drive v3 404 for a file the caller cannot see or that does not exist."""
    return GoogleError(
        404, f"File not found: {file_id}.", reason="notFound",
        location="fileId", location_type="parameter",
    )


def drive_insufficient_permissions(message: str | None = None) -> GoogleError:
    """Drive v3 403 when the caller can see the file but lacks the role for the change."""
    return GoogleError(
        403,
        message or "The user does not have sufficient permissions for this file.",
        reason="insufficientFilePermissions",
    )
