"""Control API under ``/_emulator/`` (used over HTTP by the loopback server, and in process).

GET  /_emulator/calls            counters per principal and kind, call log, faults
POST /_emulator/reset            {"counters_only": bool}: wipe everything (or just counters)
GET|POST /_emulator/clock        {"advance": seconds} | {"set": iso} -> {"now": iso}
GET|POST|DELETE /_emulator/faults  {"kind", "match", "times", "principal"} (or a list of them)
GET  /_emulator/files            id, name, mimeType, owner, parents, driveId, permissions, version
POST /_emulator/drives           {"name", "organizers", "members": {email: role}} -> {"id"}
POST /_emulator/groups           {"email", "members"}
POST /_emulator/quotas           {"enabled": bool}
"""

from __future__ import annotations

from typing import Any

from .core import GoogleEmulator
from .errors import GoogleError
from .models import parse_rfc3339, rfc3339


def _bad(message: str) -> GoogleError:
    return GoogleError(400, message, "INVALID_ARGUMENT")


def handle_control(emu: GoogleEmulator, method: str, path: str, query: dict[str, list[str]],
                   body: Any) -> tuple[int, Any]:
    """Serve one control call; returns (status, json)."""
    name = path[len("/_emulator/"):].strip("/")
    body = body if isinstance(body, (dict, list)) else {}
    if (method, name) == ("GET", "calls"):
        return 200, {"calls": {p: dict(c) for p, c in emu.calls.items()},
                     "total": emu.calls_total(),
                     "log": [list(r) for r in emu.log], "faults": emu.faults.to_json()}
    if (method, name) == ("POST", "reset"):
        if isinstance(body, dict) and body.get("counters_only"):
            emu.reset_counters()
        else:
            emu.reset()
        return 200, {}
    if name == "clock" and method in ("GET", "POST"):
        if method == "POST" and isinstance(body, dict):
            if "advance" in body:
                emu.clock.advance(float(body["advance"]))
            elif "set" in body:
                try:
                    emu.clock.set(parse_rfc3339(str(body["set"])))
                except ValueError:
                    raise _bad(f"bad time {body['set']!r}") from None
            else:
                raise _bad('clock needs {"advance": seconds} or {"set": iso}')
        return 200, {"now": rfc3339(emu.clock.now())}
    if name == "faults":
        if method == "POST":
            for spec in body if isinstance(body, list) else [body]:
                try:
                    emu.faults.add(spec["kind"], match=spec.get("match"),
                                   times=spec.get("times", 1), principal=spec.get("principal"))
                except (KeyError, ValueError) as exc:
                    raise _bad(f"bad fault {spec!r}: {exc}") from None
        elif method == "DELETE":
            emu.faults.clear()
        return 200, emu.faults.to_json()
    if (method, name) == ("GET", "files"):
        return 200, {"files": [{
            "id": f.id, "name": f.name, "mimeType": f.mime_type, "owner": f.owner,
            "parents": f.parents, "driveId": f.drive_id, "version": f.version,
            "modifiedTime": rfc3339(f.modified_time), "trashed": f.trashed,
            "permissions": [p.to_json() for p in f.permissions],
        } for f in emu.files.values()]}
    if (method, name) == ("POST", "drives") and isinstance(body, dict):
        drive_id = emu.create_shared_drive(str(body.get("name", "Drive")),
                                           body.get("organizers"))
        for who, role in (body.get("members") or {}).items():
            emu.add_drive_member(drive_id, who, role)
        return 200, {"id": drive_id}
    if (method, name) == ("POST", "groups") and isinstance(body, dict):
        emu.add_group(str(body["email"]), list(body.get("members", [])))
        return 200, {}
    if (method, name) == ("POST", "quotas") and isinstance(body, dict):
        emu.quotas.enabled = bool(body.get("enabled", True))
        emu.quotas.reset()
        return 200, {"enabled": emu.quotas.enabled}
    raise GoogleError(404, f"The requested URL {path} was not found on this server.",
                      "NOT_FOUND")
