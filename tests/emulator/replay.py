"""Replay gspread's recorded Google traffic (vcrpy JSON cassettes) against the emulator.

Per cassette: a fresh emulator; every recorded request is sent in order as the recording's
service account (the bearer token is the principal, core convention). Recorded ids (file ids,
sheetId, protectedRangeId, …) are mapped to emulator ids by walking recorded and emulator JSON in
parallel, and substituted into later URLs/bodies. Bodies are compared after dropping the keys in
``VOLATILE`` (timestamps only — they depend on the wall clock of the recording).

Skips, each with a reason: request kinds/endpoints the product does not use (``SKIP_REASONS``),
requests on a spreadsheet whose state already diverged because of such a skip, and requests that
name files which existed in the recording account before the test (``test_openall*``).
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .core import GoogleEmulator
from .models import SPREADSHEET_MIME
from .sheets_batch import UNSUPPORTED

RECORDING_PRINCIPAL = "telegram-budgeter@telegram-budgeter.iam.gserviceaccount.com"
#: Dropped before comparing: wall-clock timestamps of the recording (emulator uses a fake clock).
VOLATILE = {"createdTime", "modifiedTime"}
_ID_KEYS = {"id", "spreadsheetId", "sheetId", "protectedRangeId", "namedRangeId", "metadataId"}
_FILE_ID = re.compile(r"^[A-Za-z0-9_-]{25,}$")

#: Endpoint kinds the product never calls -> why they are skipped.
SKIP_REASONS = {
    **{f"batchUpdate:{k}": f"not used by the product ({v})" for k, v in UNSUPPORTED.items()},
    "sheets.get(fields=namedRanges)": "named ranges are not used",
    "drive.export": "export is not used (reports are built locally)",
    "drive.comments": "comments are not used",
    "drive.upload.v2": "import_csv (Drive v2 upload) is not used",
    "sheets.copyTo": "copyTo is not used",
}


def endpoint_kind(method: str, uri: str, body: Any) -> str:
    """Coarse endpoint label for the table (batchUpdate split by request kind)."""
    parts = urlsplit(uri)
    path, query = parts.path, parse_qs(parts.query)
    if parts.hostname == "sheets.googleapis.com":
        if path.endswith(":batchUpdate") and "/values" not in path:
            kinds = sorted({next(iter(r)) for r in (body or {}).get("requests", [])})
            return "batchUpdate:" + "+".join(kinds)
        if "/values" in path:
            for suffix in ("batchGet", "batchUpdate", "batchClear", "clear", "append"):
                if path.endswith(":" + suffix):
                    return f"values.{suffix}"
            return "values.update" if method == "PUT" else "values.get"
        if path.endswith(":copyTo"):
            return "sheets.copyTo"
        if "fields" in query:
            return f"sheets.get(fields={query['fields'][0]})"
        return "sheets.get"
    if "/upload/drive/v2" in path:
        return "drive.upload.v2"
    if path.endswith("/export"):
        return "drive.export"
    if "/comments" in path:
        return "drive.comments"
    if path.endswith("/copy"):
        return "drive.files.copy"
    if path.rstrip("/").endswith("/files"):
        return "drive.files.create" if method == "POST" else "drive.files.list"
    return {"GET": "drive.files.get", "DELETE": "drive.files.delete"}.get(method, "drive.other")


def skip_reason(kind: str) -> str | None:
    if kind in SKIP_REASONS:
        return SKIP_REASONS[kind]
    if kind.startswith("batchUpdate:"):
        for k in kind.split(":", 1)[1].split("+"):
            if f"batchUpdate:{k}" in SKIP_REASONS:
                return SKIP_REASONS[f"batchUpdate:{k}"]
    return None


@dataclass
class Outcome:
    cassette: str
    index: int
    kind: str
    result: str  # "match" | "differ" | "skip"
    detail: str = ""


@dataclass
class Replayer:
    """State of one cassette replay (id maps live here)."""

    emu: GoogleEmulator = field(default_factory=lambda: GoogleEmulator(quotas=False))
    ids: dict[Any, Any] = field(default_factory=dict)
    tainted: set[str] = field(default_factory=set)  # recorded spreadsheet ids with diverged state
    created: set[str] = field(default_factory=set)

    def learn(self, recorded: Any, actual: Any, key: str | None = None) -> None:
        if isinstance(recorded, dict) and isinstance(actual, dict):
            for k, v in recorded.items():
                if k in actual:
                    self.learn(v, actual[k], k)
        elif isinstance(recorded, list) and isinstance(actual, list):
            for a, b in zip(recorded, actual, strict=False):
                self.learn(a, b, key)
        elif (key in _ID_KEYS and recorded != actual and recorded not in self.ids
              and isinstance(recorded, str | int) and not isinstance(recorded, bool)):
                self.ids[recorded] = actual
                if key in ("id", "spreadsheetId"):
                    self.created.add(str(recorded))

    def subst_text(self, text: str) -> str:
        for rec, act in self.ids.items():
            if isinstance(rec, str) and rec in text:
                text = text.replace(rec, str(act))
        return text

    def subst_json(self, value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            return {k: self.subst_json(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.subst_json(v, key) for v in value]
        if isinstance(value, str):
            if value in self.ids:
                return self.ids[value]
            return self.subst_text(value)
        if (isinstance(value, int) and not isinstance(value, bool) and value in self.ids
                and key is not None and (key in _ID_KEYS or key.endswith(("SheetId", "Id")))):
            return self.ids[value]
        return value


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _diff(a: Any, b: Any, path: str = "") -> str:
    if type(a) is not type(b) and not (isinstance(a, int | float) and isinstance(b, int | float)):
        return f"{path or '/'}: recorded {json.dumps(a)[:150]} != emulator {json.dumps(b)[:150]}"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in b:
                return f"{path}/{k}: missing in emulator (recorded {json.dumps(a[k])[:120]})"
            if k not in a:
                return f"{path}/{k}: extra in emulator ({json.dumps(b[k])[:120]})"
            d = _diff(a[k], b[k], f"{path}/{k}")
            if d:
                return d
        return ""
    if isinstance(a, list):
        if len(a) != len(b):
            return (f"{path}: len {len(a)} != {len(b)}: "
                    f"rec {json.dumps(a)[:200]} emu {json.dumps(b)[:200]}")
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            d = _diff(x, y, f"{path}[{i}]")
            if d:
                return d
        return ""
    return "" if a == b else f"{path}: recorded {a!r} != emulator {b!r}"


def _file_ids_in(uri: str, body: Any) -> set[str]:
    path = unquote(urlsplit(uri).path)
    found = {seg for seg in re.split(r"[/:]", path) if _FILE_ID.match(seg)}
    if isinstance(body, dict):
        found |= {p for p in body.get("parents") or [] if isinstance(p, str)}
    return found


def _lists_foreign(rp: Replayer, resp: dict[str, Any]) -> bool:
    try:
        files = json.loads(resp["body"]["string"]).get("files") or []
    except (ValueError, AttributeError):
        return False
    return any(f.get("id") not in rp.ids for f in files)


def replay_cassette(path: Path) -> list[Outcome]:
    """Replay one cassette and classify each interaction."""
    data = json.loads(path.read_text(encoding="utf-8"))
    rp = Replayer()
    out: list[Outcome] = []
    headers = {"Authorization": f"Bearer {RECORDING_PRINCIPAL}"}
    for i, it in enumerate(data["interactions"]):
        req, resp = it["request"], it["response"]
        try:
            body = json.loads(req["body"]) if req.get("body") else None
        except ValueError:
            body = req["body"]  # e.g. CSV upload (import_csv)
        kind = endpoint_kind(req["method"], req["uri"], body)
        ids = _file_ids_in(req["uri"], body)
        reason = skip_reason(kind)
        unknown = [f for f in ids if f not in rp.ids and f not in rp.created
                   and f not in ("test",)]
        if (reason is None and unknown and kind == "sheets.get"
                and resp["status"]["code"] == 403):
            for fid in unknown:  # seed "a file someone else owns" (test_access_private_*)
                rp.emu.create_file("stranger@example.com", "private", SPREADSHEET_MIME, id=fid)
                rp.ids[fid] = fid
            unknown = []
        if reason is None and unknown and kind != "drive.files.create":
            reason = "file existed in the recording account before the test"
        if reason is None and kind == "drive.files.list" and _lists_foreign(rp, resp):
            reason = "lists files that existed in the recording account before the test"
        if reason is None and ids & rp.tainted:
            reason = "spreadsheet state diverged after an earlier skipped request"
        if reason is not None:
            if req["method"] != "GET":  # a skipped read leaves the state intact
                rp.tainted |= ids
            out.append(Outcome(path.name, i, kind, "skip", reason))
            continue
        uri = rp.subst_text(req["uri"])
        sent = (json.dumps(rp.subst_json(body)) if isinstance(body, dict | list)
                else body)
        reply = rp.emu.handle(req["method"], uri, headers, sent)
        status = resp["status"]["code"]
        raw = resp["body"]["string"]
        try:
            recorded = json.loads(raw) if raw else None
        except ValueError:
            recorded = raw
        actual = reply.json() if reply.body and reply.headers.get(
            "Content-Type", "").startswith("application/json") else (reply.body.decode() or None)
        if reply.status == status and isinstance(recorded, dict | list):
            rp.learn(recorded, actual)
        if reply.status != status:
            detail = f"status recorded {status} != emulator {reply.status}: {str(actual)[:300]}"
            out.append(Outcome(path.name, i, kind, "differ", detail))
            continue
        d = _diff(_strip(rp.subst_json(recorded)), _strip(actual))
        out.append(Outcome(path.name, i, kind, "differ" if d else "match", d))
    if rp.emu.bugs:
        out.append(Outcome(path.name, -1, "emulator-crash", "differ", rp.emu.bugs[0][-600:]))
    return out


def table(outcomes: list[Outcome]) -> str:
    """Per-endpoint table: kind -> matched / differing / skipped (+ skip reasons)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    reasons: dict[str, set[str]] = defaultdict(set)
    for o in outcomes:
        counts[o.kind][o.result] += 1
        if o.result == "skip":
            reasons[o.kind].add(o.detail)
    lines = [f"{'endpoint kind':58} {'match':>6} {'differ':>6} {'skip':>5}  skip reasons"]
    for kind in sorted(counts):
        c = counts[kind]
        lines.append(f"{kind:58} {c['match']:6} {c['differ']:6} {c['skip']:5}  "
                     + "; ".join(sorted(reasons[kind])))
    total = Counter(o.result for o in outcomes)
    lines.append(f"{'TOTAL':58} {total['match']:6} {total['differ']:6} {total['skip']:5}")
    return "\n".join(lines)
