"""The ``local`` backend: spreadsheets as ``.xlsx`` files in one folder — the embedded default.

Teachers open the files in LibreOffice or Excel on a shared folder. What Drive and Sheets do for the
google backend is done here by the folder and a sidecar manifest (``sync.backends.local.manifest``): a file id
maps to a human file name (``Журнал 7Б · Математика · 2026-27.xlsx``); "permissions" live in the
manifest; protection is xlsx sheet protection with the open cells unlocked (``sync.backends.local.xlsx``).

* ``version`` = ``<mtime_ns>-<size>-<sha256 prefix>``; ``by_me`` = the content hash equals the hash
  recorded after this backend's own last write.
* ``changes`` scans the folder (a stat per file, a hash only when mtime or size moved) and stamps each
  file that changed with the next sequence number; a token is ``<folder instance>:<seq>``. A token
  from another folder (or from the future) reports every file as changed: a full re-read is safe.
* Writes are atomic (temp file + fsync + ``os.replace``; ``sync.backends.local.files``) and refused with
  :class:`~sync.backends.protocol.FileBusy` while LibreOffice's ``.~lock.<name>#`` or Excel's ``~$<name>`` is
  beside the file, or when the file changed under us while we were writing. Reads of an open file are
  allowed; bytes that do not parse are ``FileBusy`` while the file is fresh or locked (mid-save) and a
  ``BackendError`` with a hint once it has settled (damaged).
* A write re-serialises the workbook through openpyxl: what openpyxl does not keep (images, charts a
  teacher added) is dropped. Cell text is limited to 32,767 characters (xlsx), tab titles to 31.
* ``delete`` moves the file to ``.trash/`` — nothing is ever really lost.

One process per folder is assumed (DESIGN.md §8: one worker per school); within it the backend is
thread-safe.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from openpyxl.workbook.workbook import Workbook

from rules.errors import BackendError, NotFound, SheetAccessError
from sync.backends.local import edits, xlsx
from sync.backends.local.files import safe_name, sweep_temp_files, unique_path
from sync.backends.local.io import Serializer, SheetFiles, Stamp, missing_file
from sync.backends.local.manifest import (
    FileEntry,
    Manifest,
    ManifestStore,
    RemovedEntry,
    new_grant,
)
from sync.backends.protocol import (
    CellRange,
    FileBusy,
    FileInfo,
    Grant,
    Grid,
    Role,
    SpreadsheetSpec,
    TabSpec,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
OWNER_GRANT_ID = "owner"
TRASH = ".trash"


class LocalBackend:
    """Spreadsheets as ``.xlsx`` files in ``folder`` (created if missing).

    ``settle_seconds`` and ``serializer``: see :class:`sync.backends.local.io.SheetFiles`.
    """

    def __init__(self, folder: Path | str, *, principal: str = "service",
                 settle_seconds: float = 120.0, serializer: Serializer = xlsx.save) -> None:
        self.folder = Path(folder)
        self.principal = principal
        self.writes_per_minute: int | None = None  # a folder has no quota
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BackendError(f"cannot create the sheets folder {self.folder}: {exc.strerror}",
                               hint="set backend.folder in school.toml to a writable folder") from exc
        self._store = ManifestStore(self.folder)
        self._files = SheetFiles(settle_seconds, serializer)
        self._lock = threading.RLock()
        sweep_temp_files(self.folder)

    @classmethod
    def from_settings(cls, settings: Any) -> LocalBackend:
        """Production construction from ``config.school.BackendSettings``."""
        if settings.folder is None:
            raise BackendError("the local backend needs a folder",
                               hint="set backend.folder in school.toml")
        return cls(settings.folder)

    # ---- change feed ----------------------------------------------------------------------

    def start_token(self) -> str:
        with self._lock:
            manifest = self._store.load()
            self._scan_and_save(manifest)
            return f"{manifest.instance}:{manifest.seq}"

    def changes(self, token: str) -> tuple[list[FileInfo], str]:
        """Files whose version moved since ``token`` (newest state each) and the next token."""
        instance, _, seq_text = token.partition(":")
        if not seq_text.isdigit():
            raise BackendError(f"{token!r} is not a change token of the local backend",
                               hint="start over with start_token()")
        since = int(seq_text)
        with self._lock:
            manifest = self._store.load()
            self._scan_and_save(manifest)
            every = instance != manifest.instance or since > manifest.seq
            if every:
                log.warning("change token from another folder or the future: reporting all files")
            found = [(e.seq, fid, e.info(fid)) for fid, e in manifest.files.items()
                     if every or e.seq > since]
            found += [(r.seq, fid, FileInfo(fid, r.title, "", removed=True))
                      for fid, r in manifest.removed.items() if not every and r.seq > since]
            return [info for _, _, info in sorted(found)], f"{manifest.instance}:{manifest.seq}"

    def _scan_and_save(self, manifest: Manifest) -> None:
        """Stamp every file whose version moved (or that vanished) with one new sequence number."""
        seq = manifest.seq + 1
        try:
            changed = 0
            for fid, entry in manifest.files.items():
                version = self._files.version(fid, self._path(entry), entry.seen)
                if version is None and not entry.missing:
                    entry.missing, entry.seen, entry.seq = True, "", seq
                    changed += 1
                elif version is not None and (entry.missing or version != entry.seen):
                    entry.missing, entry.seen, entry.seq = False, version, seq
                    changed += 1
            if changed:
                manifest.seq = seq
                self._store.save(manifest)
                log.debug("scan: %d file(s) changed, seq %d", changed, seq)
        except BaseException:
            self._store.forget()
            raise

    # ---- files ----------------------------------------------------------------------------

    def create(self, spec: SpreadsheetSpec) -> FileInfo:
        """Write a new workbook laid out as ``spec``; returns its info (no protection ids needed)."""
        titles = [t.title for t in spec.tabs]
        if not titles:
            raise BackendError("spreadsheet spec has no tabs")
        if len({t.casefold() for t in titles}) != len(titles):
            raise BackendError("spreadsheet spec repeats a tab title")
        wb = Workbook()
        wb.remove(wb.active)
        states = {tab.title: xlsx.lay_out_tab(wb, tab) for tab in spec.tabs}
        parts = [safe_name(p, "folder") for p in (spec.folder or "").replace("\\", "/").split("/")
                 if p.strip(" .~")]
        with self._lock:
            manifest = self._store.load()
            folder = self.folder.joinpath(*parts)
            folder.mkdir(parents=True, exist_ok=True)
            taken = {Path(e.path).name for e in manifest.files.values()
                     if Path(e.path).parent == Path(*parts)}
            path = unique_path(folder, safe_name(spec.name), ".xlsx", taken)
            file_id = manifest.new_id()
            digest = self._files.save(file_id, path, wb, None)
            manifest.files[file_id] = FileEntry(
                title=spec.name, path="/".join([*parts, path.name]), own_hash=digest, tabs=states,
                options={"readers_cannot_copy": spec.readers_cannot_copy,
                         "writers_can_share": spec.writers_can_share})
            try:
                self._save_manifest(manifest)
            except BaseException:
                path.unlink(missing_ok=True)  # an unlisted file would only confuse people
                raise
            log.info("created spreadsheet %s with %d tabs", file_id, len(titles))
            return manifest.files[file_id].info(file_id, self._files.versions[file_id])

    def path(self, file_id: str) -> Path:
        """Where the file lives (to tell a person which file to open)."""
        with self._lock:
            return self._path(self._entry(self._store.load(), file_id))

    def info(self, file_id: str) -> FileInfo:
        with self._lock:
            entry = self._entry(self._store.load(), file_id)
            version = self._files.version(file_id, self._path(entry), entry.seen)
            if version is None:
                raise missing_file(file_id)
            return entry.info(file_id, version)

    def delete(self, file_id: str) -> None:
        """Move the file to ``.trash/`` (named ``<id> <name>``) and forget it."""
        with self._lock:
            manifest = self._store.load()
            entry = self._entry(manifest, file_id)
            path = self._path(entry)
            self._files.refuse_busy(file_id, path)
            trash = self.folder / TRASH
            trash.mkdir(exist_ok=True)
            target = unique_path(trash, f"{file_id} {path.stem}", path.suffix, set())
            trash_path = f"{TRASH}/{target.name}"
            try:
                os.replace(path, target)
            except FileNotFoundError:
                trash_path = ""  # already gone from the folder: only the manifest entry goes
            except OSError as exc:
                raise BackendError(f"cannot move file {file_id} to {TRASH}: {exc.strerror}",
                                   hint="check that the sheets folder is writable") from exc
            del manifest.files[file_id]
            manifest.seq += 1
            manifest.removed[file_id] = RemovedEntry(entry.title, trash_path, manifest.seq)
            self._save_manifest(manifest)
            self._files.versions.pop(file_id, None)
            log.info("moved spreadsheet %s to %s", file_id, TRASH)

    # ---- tabs -----------------------------------------------------------------------------

    def tabs(self, file_id: str) -> list[str]:
        path, data, stamp = self._read(file_id)
        wb = self._files.parse(file_id, path, data, stamp, read_only=True)
        try:
            return list(wb.sheetnames)
        finally:
            wb.close()

    def add_tabs(self, file_id: str, tabs: Sequence[TabSpec]) -> dict[str, int]:
        """Add tabs laid out as given; the local backend needs no protection ids (returns {})."""
        if not tabs:
            return {}
        self._modify(file_id, lambda wb, entry: edits.add_tabs(file_id, wb, entry, tabs))
        return {}

    def replace_tabs(self, file_id: str, tabs: Sequence[TabSpec]) -> dict[str, int]:
        """Lay out the named tabs afresh in one atomic save; a replaced tab keeps its place."""
        if not tabs:
            return {}
        if len({t.title.casefold() for t in tabs}) != len(tabs):
            raise BackendError(f"file {file_id}: replace_tabs repeats a tab title")
        self._modify(file_id, lambda wb, entry: edits.replace_tabs(wb, entry, tabs))
        return {}

    def rename_tab(self, file_id: str, old: str, new: str) -> None:
        self._modify(file_id, lambda wb, entry: edits.rename_tab(file_id, wb, entry, old, new))

    # ---- values ---------------------------------------------------------------------------

    def read(self, file_id: str, tabs: Sequence[str]) -> dict[str, Grid]:
        """Whole tabs: unformatted values, dates as serial numbers, trailing empties trimmed."""
        titles = list(dict.fromkeys(tabs))
        if not titles:
            return {}
        path, data, stamp = self._read(file_id)
        try:
            return xlsx.read_tabs(file_id, data, titles)
        except xlsx.UnreadableFile as exc:
            raise self._files.unreadable(file_id, path, stamp, exc) from exc

    def write(self, file_id: str, updates: Sequence[tuple[CellRange, Grid]]) -> None:
        """Set values RAW (text stays text, ``"=…"`` is never a formula) and save atomically."""
        if not updates:
            return
        self._modify(file_id, lambda wb, _: edits.write_values(file_id, wb, updates))

    # ---- protection -----------------------------------------------------------------------

    def open_ranges(self, file_id: str) -> dict[str, list[CellRange]]:
        """Each protected tab's open ranges, from the file's sheet protection and cell locks."""
        with self._lock:
            entry = self._entry(self._store.load(), file_id)
        path, data, stamp = self._read(file_id)
        wb = self._files.parse(file_id, path, data, stamp)
        out: dict[str, list[CellRange]] = {}
        for ws in wb.worksheets:
            ranges = xlsx.file_open_ranges(ws, entry.tabs.get(ws.title))
            if ranges is not None:
                out[ws.title] = ranges
        return out

    def set_open_ranges(self, file_id: str, open_ranges: Mapping[str, Sequence[CellRange]],
                        protections: Mapping[str, int] | None = None) -> None:
        """Protect each named tab and unlock exactly its ``open_ranges`` (``protections`` unused)."""
        if not open_ranges:
            return
        self._modify(file_id, lambda wb, entry: edits.protect(file_id, wb, entry, open_ranges))

    # ---- sharing (manifest only: the local stand-in for Drive permissions) ------------------

    def grants(self, file_id: str) -> list[Grant]:
        """The owner (this backend's principal) first, then the manifest's grants."""
        with self._lock:
            entry = self._entry(self._store.load(), file_id)
            return [Grant(OWNER_GRANT_ID, self.principal, Role.OWNER), *entry.grants]

    def grant(self, file_id: str, email: str, role: Role) -> Grant:
        """Record a grant for one e-mail address (same id per address); never ``anyone``/owner."""
        grant = new_grant(file_id, email, role)
        with self._lock:
            manifest = self._store.load()
            entry = self._entry(manifest, file_id)
            entry.grants = [g for g in entry.grants if g.id != grant.id] + [grant]
            self._save_manifest(manifest)
        return grant

    def revoke(self, file_id: str, grant_id: str) -> None:
        with self._lock:
            manifest = self._store.load()
            entry = self._entry(manifest, file_id)
            if grant_id == OWNER_GRANT_ID:
                raise BackendError(f"file {file_id}: the owner's access cannot be revoked")
            if not any(g.id == grant_id for g in entry.grants):
                raise NotFound(f"file {file_id}: no grant {grant_id}",
                                       hint="list the file's grants again")
            entry.grants = [g for g in entry.grants if g.id != grant_id]
            self._save_manifest(manifest)

    # ---- plumbing -------------------------------------------------------------------------

    def _entry(self, manifest: Manifest, file_id: str) -> FileEntry:
        entry = manifest.files.get(file_id)
        if entry is None:
            gone = " (it was deleted: see .trash/)" if file_id in manifest.removed else ""
            raise SheetAccessError(f"file {file_id}: no such spreadsheet in the sheets folder{gone}",
                                   hint="check the file id in the ledger")
        return entry

    def _path(self, entry: FileEntry) -> Path:
        return self.folder.joinpath(*entry.path.split("/"))

    def _save_manifest(self, manifest: Manifest) -> None:
        try:
            self._store.save(manifest)
        except BaseException:
            self._store.forget()
            raise

    def _read(self, file_id: str) -> tuple[Path, bytes, Stamp]:
        path = self.path(file_id)
        data, stamp = self._files.read(file_id, path)
        return path, data, stamp

    def _modify(self, file_id: str, change: Callable[[Workbook, FileEntry], T]) -> T:
        """Load, change, save atomically and record the own-write hash — or change nothing."""
        with self._lock:
            manifest = self._store.load()
            entry = self._entry(manifest, file_id)
            path = self._path(entry)
            self._files.refuse_busy(file_id, path)
            data, stamp = self._files.read(file_id, path)
            wb = self._files.parse(file_id, path, data, stamp)
            try:
                result = change(wb, entry)
                entry.own_hash = self._files.save(file_id, path, wb, stamp)
                self._store.save(manifest)
            except BaseException:
                self._store.forget()
                raise
            return result


__all__ = ["FileBusy", "LocalBackend"]
