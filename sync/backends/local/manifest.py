"""The local backend's sidecar manifest ``ejournal-manifest.json``: what Drive would know.

Per spreadsheet id: the title and the file's path in the folder, the "permissions" (the local stand-in
for Drive sharing), each tab's protection state, the content hash after the backend's own last write
(to recognise its own writes), and the version seen at the last scan with the change sequence number
of that observation. The change feed is a single counter, as in Drive: every observed change of a file
stamps it with the next sequence number, and a token is ``<instance>:<seq>``, so "changed since the
token" is "stamped later than the token" and old tokens never expire.

The manifest is small JSON (human-readable, UTF-8) and is rewritten atomically; an own write's or
a scan's few fields are appended to its log instead (``manifest_log``), so a file write costs the
same whatever the number of files.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import shutil
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rules.errors import BackendError
from sync.backends.local.files import atomic_write
from sync.backends.local.manifest_log import (
    LOG_NAME,
    MIN_REWRITE,
    PATCHED,
    append,
    patch_line,
    read_lines,
)
from sync.backends.protocol import CellRange, FileInfo, Grant, Role

logger = logging.getLogger(__name__)

MANIFEST_NAME = "ejournal-manifest.json"
FORMAT = 1


SHEETS = "sheets"  # a file of the sheets folder (the teachers' share)
PRIVATE = "private"  # a file of the private folder (the deputies' admin workbook)


@dataclass(slots=True)
class TabState:
    """A tab's protection as the backend last set it. ``extent`` = (rows, cols) open-ended ranges
    were unlocked up to (an xlsx has no grid size; cell locks exist only cell by cell)."""

    protected: bool
    open: list[CellRange] = field(default_factory=list)
    extent: tuple[int, int] = (0, 0)


@dataclass(slots=True)
class FileEntry:
    title: str  # the spreadsheet's name, as the spec gave it
    path: str  # relative to the folder, "/"-separated
    seen: str = ""  # version at the last scan
    seq: int = 0  # change sequence number of the last observed change
    own_hash: str = ""  # sha256 of the content after this backend's last write
    missing: bool = False  # the file vanished from the folder (seen by a scan)
    grants: list[Grant] = field(default_factory=list)
    tabs: dict[str, TabState] = field(default_factory=dict)
    options: dict[str, bool] = field(default_factory=dict)
    root: str = SHEETS  # which folder ``path`` is relative to: SHEETS or PRIVATE
    seen_at: str = ""  # when a scan first saw the content (hash) of ``seen``: the time proof
    own_at: str = ""  # when the last own write was made (the service saw that content then)

    def info(self, file_id: str, version: str | None = None) -> FileInfo:
        """What the backend reports: ``version`` (default: the one seen at the last scan); by_me
        when the content hash in the version is the hash of the backend's own last write.

        ``modified`` is when the service first saw this content (a scan's ``seen_at``, or its own
        write's ``own_at``), never the file's mtime, which whoever saves the file can set back;
        None for content the service has not seen yet."""
        if self.missing and version is None:
            return FileInfo(file_id, self.title, "", removed=True)
        version = version or self.seen
        if not version:  # not scanned yet
            return FileInfo(file_id, self.title, "")
        digest = version.rsplit("-", 1)[-1]
        mine = bool(self.own_hash) and self.own_hash.startswith(digest)
        stamps = [datetime.fromisoformat(at) for at, same in (
            (self.seen_at, self.seen.rsplit("-", 1)[-1] == digest), (self.own_at, mine))
            if at and same]
        return FileInfo(id=file_id, name=self.title, version=version,
                        modified=min(stamps) if stamps else None, by_me=mine)

    def observe(self, version: str, now: datetime, seq: int) -> None:
        """A scan (change ``seq``) saw ``version``: a new content hash is stamped ``now`` (an
        mtime moved alone keeps the stamp of the content)."""
        if self.missing:
            self.seen, self.missing = "", False
        self.seq = seq
        if not self.seen or self.seen.rsplit("-", 1)[-1] != version.rsplit("-", 1)[-1] \
                or not self.seen_at:
            self.seen_at = now.isoformat()
        self.seen = version


@dataclass(slots=True)
class RemovedEntry:
    title: str
    trash_path: str
    seq: int


@dataclass(slots=True)
class Manifest:
    instance: str  # random id of this folder's change feed: tokens of another folder are foreign
    seq: int = 0
    files: dict[str, FileEntry] = field(default_factory=dict)
    removed: dict[str, RemovedEntry] = field(default_factory=dict)
    log: str = ""  # generation of the log lines that apply to this manifest (manifest_log)

    def new_id(self) -> str:
        """A fresh random file id (16 hex digits), never one in use or in the trash."""
        while True:
            file_id = secrets.token_hex(8)
            if file_id not in self.files and file_id not in self.removed:
                return file_id


GRANTABLE = (Role.READER, Role.COMMENTER, Role.WRITER)


def new_grant(file_id: str, email: str, role: Role) -> Grant:
    """A grant for one e-mail address (its id is stable per address, as Drive's); refuses the
    owner/organizer roles and anything that is not an e-mail address (``anyone``, domains)."""
    role = Role(role)
    if role not in GRANTABLE:
        raise BackendError(f"refusing to grant role {role.value!r} on file {file_id}",
                           hint="only reader, commenter and writer are granted per file")
    address = email.strip().lower()
    if "@" not in address or address.startswith("@") or any(c.isspace() for c in address):
        raise BackendError(f"refusing to share file {file_id}: not an e-mail address "
                           "(files are never shared with anyone or domains)")
    return Grant("g" + hashlib.sha256(address.encode()).hexdigest()[:12], address, role)


# ---------------------------------------------------------------------------------- JSON codec


def _range_to_json(r: CellRange) -> list[int | None]:
    return [r.start_row, r.start_col, r.end_row, r.end_col]


def _range_from_json(tab: str, v: list[int | None]) -> CellRange:
    r0, c0, r1, c1 = v
    if r0 is None or c0 is None:
        raise ValueError("range start must be set")
    return CellRange(tab, int(r0), int(c0), r1, c1)


def tabs_to_json(tabs: dict[str, TabState]) -> dict[str, Any]:
    return {t: {"protected": s.protected, "open": [_range_to_json(r) for r in s.open],
                "extent": list(s.extent)} for t, s in tabs.items()}


def tabs_from_json(data: dict[str, Any]) -> dict[str, TabState]:
    return {str(t): TabState(bool(s["protected"]), [_range_from_json(t, r) for r in s["open"]],
                             (int(s["extent"][0]), int(s["extent"][1])))
            for t, s in data.items()}


def to_json(m: Manifest) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "instance": m.instance,
        "seq": m.seq,
        "log": m.log,
        "files": {
            fid: {
                "title": e.title, "path": e.path, "seen": e.seen, "seen_at": e.seen_at, "seq": e.seq,
                "own_hash": e.own_hash, "own_at": e.own_at, "missing": e.missing,
                "options": e.options, "root": e.root,
                "grants": [{"id": g.id, "email": g.email, "role": g.role.value, "kind": g.kind}
                           for g in e.grants],
                "tabs": tabs_to_json(e.tabs),
            }
            for fid, e in m.files.items()
        },
        "removed": {fid: {"title": r.title, "trash_path": r.trash_path, "seq": r.seq}
                    for fid, r in m.removed.items()},
    }


def from_json(data: dict[str, Any]) -> Manifest:
    if data.get("format") != FORMAT:
        raise ValueError(f"unknown manifest format {data.get('format')!r}")
    files = {}
    for fid, e in data["files"].items():
        tabs = tabs_from_json(e["tabs"])
        grants = [Grant(g["id"], g["email"], Role(g["role"]), g["kind"]) for g in e["grants"]]
        files[str(fid)] = FileEntry(
            title=str(e["title"]), path=str(e["path"]), seen=str(e["seen"]), seq=int(e["seq"]),
            seen_at=str(e.get("seen_at", "")),
            own_hash=str(e["own_hash"]), own_at=str(e.get("own_at", "")),
            missing=bool(e["missing"]), grants=grants, tabs=tabs,
            options={str(k): bool(v) for k, v in e["options"].items()},
            root=PRIVATE if e.get("root") == PRIVATE else SHEETS)
    removed = {str(fid): RemovedEntry(str(r["title"]), str(r["trash_path"]), int(r["seq"]))
               for fid, r in data["removed"].items()}
    return Manifest(instance=str(data["instance"]), seq=int(data["seq"]), files=files,
                    removed=removed, log=str(data.get("log", "")))


def patch(manifest: Manifest, seq: int, files: dict[str, dict[str, Any]]) -> None:
    """Apply one log line: the ``PATCHED`` fields of entries still in the manifest."""
    for fid, f in files.items():
        entry = manifest.files.get(fid)
        if entry is None:
            continue
        entry.seen, entry.seq, entry.seen_at = str(f["seen"]), int(f["seq"]), str(f["seen_at"])
        entry.own_hash, entry.own_at = str(f["own_hash"]), str(f["own_at"])
        entry.missing, entry.tabs = bool(f["missing"]), tabs_from_json(f["tabs"])
    manifest.seq = max(manifest.seq, seq)


def patched_fields(entry: FileEntry) -> dict[str, Any]:
    """The ``PATCHED`` fields of an entry as a log line carries them."""
    out = {k: getattr(entry, k) for k in PATCHED if k != "tabs"}
    return {**out, "tabs": tabs_to_json(entry.tabs)}


def dumps(data: dict[str, Any]) -> str:
    """JSON with one line per top-level key and per file: readable with ``grep``/``less`` and ~4×
    faster than ``indent=`` (which falls back to the pure-Python encoder)."""

    def one(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def block(mapping: dict[str, Any]) -> str:
        if not mapping:
            return "{}"
        return "{\n" + ",\n".join(f"  {one(k)}: {one(v)}" for k, v in mapping.items()) + "\n }"

    parts = [f" {one(k)}: {block(v) if k in ('files', 'removed') else one(v)}"
             for k, v in data.items()]
    return "{\n" + ",\n".join(parts) + "\n}\n"


# ---------------------------------------------------------------------------------- the store


class ManifestStore:
    """Loads the manifest (re-parsing only when the file changed on disk) and saves it atomically.

    Callers mutate the loaded :class:`Manifest` and call :meth:`save` (naming the entries whose
    ``PATCHED`` fields alone changed, to append them to the log); if saving fails the cached copy
    is dropped, so the next :meth:`load` sees what is really on disk.
    """

    def __init__(self, folder: Path, sheets: Path | None = None) -> None:
        self.path = folder / MANIFEST_NAME
        self.log_path = folder / LOG_NAME
        self.sheets = sheets or folder  # where the spreadsheets the manifest names live
        self._cached: Manifest | None = None
        self._stamp: tuple[tuple[int, int], tuple[int, int] | None] | None = None

    def _stamps(self) -> tuple[tuple[int, int], tuple[int, int] | None]:
        """(manifest, log) modification stamps; FileNotFoundError without a manifest."""
        st = os.stat(self.path)
        try:
            lg = os.stat(self.log_path)
            return (st.st_mtime_ns, st.st_size), (lg.st_mtime_ns, lg.st_size)
        except FileNotFoundError:
            return (st.st_mtime_ns, st.st_size), None

    def load(self) -> Manifest:
        try:
            stamp = self._stamps()
        except FileNotFoundError:
            if self._cached is None or self._stamp is not None:
                self._refuse_orphans()
                self._cached = Manifest(instance=secrets.token_hex(6))
                self._stamp = None
            return self._cached
        if self._cached is not None and stamp == self._stamp:
            return self._cached
        try:
            manifest = from_json(json.loads(self.path.read_bytes()))
            for seq, files in read_lines(self.log_path, manifest.log):
                patch(manifest, seq, files)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BackendError(
                f"the sheets folder's manifest {self.path} is damaged: {exc}",
                hint="restore ejournal-manifest.json from a backup of the sheets folder; "
                "without it the spreadsheet ids cannot be matched to files",
            ) from exc
        self._cached, self._stamp = manifest, stamp
        return manifest

    def _refuse_orphans(self) -> None:
        """A new manifest only for a folder without spreadsheets: beside files it cannot name,
        a new manifest would disconnect them and every re-creation would be a «(2)» copy."""
        try:
            found = sum(1 for _ in self.sheets.glob("*.xlsx"))
        except OSError:
            return
        if found:
            raise BackendError(
                f"the sheets folder {self.sheets} holds {found} spreadsheet(s) but its manifest "
                f"{self.path} is missing: which file is which registered spreadsheet is unknown",
                hint="run `ejournal sync`: it re-adopts every file it can prove is its own "
                "(its name, and its content or hidden ids) and names the rest; or restore "
                "ejournal-manifest.json from a backup of the folder (or .trash/)",
            )

    def forget(self) -> None:
        """Drop the cached copy (after a failed change): the next load reads the disk again."""
        self._cached = self._stamp = None

    def save(self, manifest: Manifest, changed: Collection[str] | None = None) -> None:
        """Append the ``changed`` entries' ``PATCHED`` fields to the log (only those changed);
        rewrite the whole manifest when ``changed`` is None (anything else changed) or the log
        has grown past the manifest (a new generation; the old log is then deleted)."""
        try:
            stamp = self._stamp
            if changed is not None and manifest.log and stamp is not None and (
                    stamp[1] is None or stamp[1][1] <= max(MIN_REWRITE, stamp[0][1])):
                files = {fid: patched_fields(manifest.files[fid]) for fid in changed
                         if fid in manifest.files}
                append(self.log_path, patch_line(manifest.log, manifest.seq, files))
            else:
                manifest.log = secrets.token_hex(6)
                payload = dumps(to_json(manifest)).encode("utf-8")
                atomic_write(self.path, lambda out: out.write(payload), private=True)  # 0600
                self.log_path.unlink(missing_ok=True)  # its lines are of the old generation
            self._cached, self._stamp = manifest, self._stamps()
        except OSError as exc:
            self.forget()
            raise BackendError(
                f"cannot write the sheets folder's manifest {self.path}: {exc.strerror}",
                hint="check that the folder is writable and the disk is not full",
            ) from exc


def adopt_manifest(folder: Path, private: Path) -> None:
    """A school that sets ``private_folder`` later: its manifest moves out of the sheets folder
    (once; a manifest already in the private folder wins). The admin workbook stays where it was
    created until the sysadmin moves it and edits its entry — see the README."""
    old, new = folder / MANIFEST_NAME, private / MANIFEST_NAME
    if new.exists() or not old.exists():
        return
    try:
        if (folder / LOG_NAME).exists():
            shutil.copy2(folder / LOG_NAME, private / LOG_NAME)
        shutil.copy2(old, new)
        old.unlink()
        (folder / LOG_NAME).unlink(missing_ok=True)
    except OSError as exc:
        raise BackendError(f"cannot move {old} into the private folder {private}: {exc.strerror}",
                           hint="move ejournal-manifest.json there by hand") from exc
    logger.warning("moved the manifest out of the sheets folder into %s", private)
