"""The ``local`` backend: spreadsheets as ``.xlsx`` files in one folder — the embedded default.

Teachers open the files in LibreOffice or Excel on a shared folder. What Drive and Sheets do is done
by the folder and a sidecar manifest (``manifest``: file id → file name, "permissions", protection
state); protection is xlsx sheet protection with the open cells unlocked (``xlsx``). With
``private_folder`` set (created 0700), the manifest and the deputies' admin workbook live there,
out of the teachers' reach (the README lists each folder's OS permissions).

* ``version`` = ``<mtime_ns>-<size>-<sha256 prefix>``; ``modified`` = when a scan first saw the
  content (never the mtime, which a save can set back); ``own_versions``: own writes chained
  (``io``); ``by_me``: the own last write's hash. ``changes`` scans the files (a stat each, a hash
  when mtime or size moved), stamping each change with the next sequence number of the token.
* Writes are atomic (``files``) and refused with :class:`~sync.backends.protocol.FileBusy` while a
  spreadsheet program's lock file is beside it or it changed under us; an open file may be read;
  bytes that do not parse are ``FileBusy`` while fresh, then damaged (``io``).
* A write re-serialises the workbook (openpyxl drops a teacher's images); ``delete`` → ``.trash/``.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from openpyxl.workbook.workbook import Workbook

from rules.errors import BackendError, NotFound, SheetAccessError
from sync.backends.local import adopt, caps, edits, xlsx
from sync.backends.local.files import (
    OutsideFolder,
    check_inside,
    inside,
    safe_name,
    sweep_temp_files,
    unique_path,
)
from sync.backends.local.io import Serializer, SheetFiles, Stamp, missing_file, too_large
from sync.backends.local.manifest import (
    PRIVATE,
    SHEETS,
    FileEntry,
    Manifest,
    ManifestStore,
    RemovedEntry,
    adopt_manifest,
    new_grant,
)
from sync.backends.protocol import (
    CellRange,
    FeedReset,
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
OWNER_GRANT_ID, TRASH = "owner", ".trash"  # the owner's grant id; where deletes go


class LocalBackend:
    """Spreadsheets as ``.xlsx`` files in ``folder`` (created if missing); see ``io.SheetFiles``."""
    lost_files = adopt.lost_files  # the manifest lost beside spreadsheets: name them again

    def __init__(self, folder: Path | str, *, principal: str = "service",
                 settle_seconds: float = 120.0, serializer: Serializer = xlsx.save,
                 clock: Callable[[], datetime] | None = None,
                 private_folder: Path | str | None = None) -> None:
        self.folder = Path(folder)
        self.private = Path(private_folder) if private_folder is not None else None  # the admin's
        self.keeps_private = self.private is not None  # corrections are trusted only then
        self.clock = clock or (lambda: datetime.now(UTC))  # stamps our own writes' mtime
        self.principal = principal
        self.writes_per_minute: int | None = None  # a folder has no quota
        for where in filter(None, (self.folder, self.private)):
            try:
                where.mkdir(parents=True, exist_ok=True, mode=0o700 if where is self.private
                            else 0o777)
            except OSError as exc:
                raise BackendError(f"cannot create the folder {where}: {exc.strerror}", hint="set "
                                   "backend.folder / private_folder to writable folders") from exc
            sweep_temp_files(where)
        self._store = ManifestStore(self.private or self.folder, sheets=self.folder)
        if self.private is not None:
            adopt_manifest(self.folder, self.private)
        self._files = SheetFiles(settle_seconds, serializer, lambda: self.clock())
        self._lock = threading.RLock()

    @classmethod
    def from_settings(cls, settings: Any, clock: Callable[[], datetime] | None = None
                      ) -> LocalBackend:
        """Production construction from ``config.school.BackendSettings`` (the service's clock)."""
        if settings.folder is None:
            raise BackendError("the local backend needs a folder",
                               hint="set backend.folder in school.toml")
        return cls(settings.folder, clock=clock, private_folder=settings.private_folder)

    def own_versions(self, seen: Mapping[str, str | None]) -> dict[str, str | None]:
        return self._files.own_versions(seen)

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
            if instance != manifest.instance or since > manifest.seq:
                raise FeedReset(f"the change token {token!r} is not of this sheets folder's "
                                "manifest (a new or another folder)",
                                hint="the sync cycle then reads every registered file again")
            found = [(e.seq, fid, e.info(fid)) for fid, e in manifest.files.items()
                     if e.seq > since]
            found += [(r.seq, fid, FileInfo(fid, r.title, "", removed=True))
                      for fid, r in manifest.removed.items() if r.seq > since]
            return [info for _, _, info in sorted(found)], f"{manifest.instance}:{manifest.seq}"

    def _scan_and_save(self, manifest: Manifest) -> None:
        """Stamp every file whose version moved (or that vanished) with one new sequence number."""
        seq = manifest.seq + 1
        try:
            changed: list[str] = []
            for fid, entry in manifest.files.items():
                try:  # outside the folder or unreadable: every access of it fails so
                    path = self._path(fid, entry)
                    version = self._files.version(fid, path, entry.seen)
                except (OutsideFolder, BackendError) as exc:  # …and it must hide no other file
                    log.warning("scan: %s", exc)
                    if entry.seen:  # reported once as changed: the cycle's read then fails loudly
                        entry.seen, entry.seq = "", seq
                        changed.append(fid)
                    continue
                if version is None and not entry.missing:
                    entry.missing, entry.seen, entry.seq = True, "", seq
                    changed.append(fid)
                elif version is not None and (entry.missing or version != entry.seen):
                    entry.observe(version, self.clock(), seq)
                    changed.append(fid)
            if changed:
                manifest.seq = seq
                self._store.save(manifest, changed=changed)
                log.debug("scan: %d file(s) changed, seq %d", len(changed), seq)
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
        if spec.active_tab in wb.sheetnames:
            wb.active = wb.sheetnames.index(spec.active_tab)
        parts = [safe_name(p, "folder") for p in (spec.folder or "").replace("\\", "/").split("/")
                 if p.strip(" .~")]
        root = PRIVATE if spec.private and self.private is not None else SHEETS
        base = self._root(root)
        with self._lock:
            manifest = self._store.load()
            folder = base.joinpath(*parts)
            check_inside(base, folder)  # before mkdir: a symlink out makes no folder there
            folder.mkdir(parents=True, exist_ok=True)
            taken = {Path(e.path).name for e in manifest.files.values()
                     if Path(e.path).parent == Path(*parts) and e.root == root}
            path = unique_path(folder, safe_name(spec.name), ".xlsx", taken, strict=True)
            file_id = manifest.new_id()
            digest = self._files.save(file_id, path, wb, None)
            manifest.files[file_id] = FileEntry(
                title=spec.name, path="/".join([*parts, path.name]), own_hash=digest, tabs=states,
                options={"readers_cannot_copy": spec.readers_cannot_copy,
                         "writers_can_share": spec.writers_can_share}, root=root,
                own_at=self.clock().isoformat())
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
            return self._path(file_id, self._entry(self._store.load(), file_id))

    def info(self, file_id: str) -> FileInfo:
        with self._lock:
            entry = self._entry(self._store.load(), file_id)
            version = self._files.version(file_id, self._path(file_id, entry), entry.seen)
            if version is None:
                raise missing_file(file_id)
            return entry.info(file_id, version)

    def delete(self, file_id: str) -> None:
        """Move the file to ``.trash/`` (named ``<id> <name>``) and forget it."""
        with self._lock:
            manifest = self._store.load()
            entry = self._entry(manifest, file_id)
            path = self._path(file_id, entry)
            self._files.refuse_busy(file_id, path)
            base = self._root(entry.root)
            check_inside(base, trash := base / TRASH)
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
        except caps.TooLarge as exc:
            raise too_large(file_id, exc) from exc

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

    def _path(self, file_id: str, entry: FileEntry) -> Path:
        """The file's path, refused unless it stays inside its folder (the manifest is untrusted)."""
        return inside(self._root(entry.root), entry.path, f"file {file_id}")

    def _root(self, root: str) -> Path:
        """The folder a manifest entry's path is relative to."""
        if root == PRIVATE and self.private is None:
            raise BackendError("the manifest names a file of the private folder, but none is "
                               "configured", hint="set backend.private_folder in school.toml")
        return self.private if root == PRIVATE and self.private else self.folder

    def _save_manifest(self, manifest: Manifest) -> None:
        try:
            self._store.save(manifest)
        except BaseException:
            self._store.forget()
            raise

    def _read(self, file_id: str) -> tuple[Path, bytes, Stamp]:
        path = self.path(file_id)
        return (path, *self._files.read(file_id, path))

    def _modify(self, file_id: str, change: Callable[[Workbook, FileEntry], T]) -> T:
        """Load, change, save atomically and record the own-write hash — or change nothing."""
        with self._lock:
            manifest = self._store.load()
            entry = self._entry(manifest, file_id)
            path = self._path(file_id, entry)
            self._files.refuse_busy(file_id, path)
            data, stamp = self._files.read(file_id, path)
            with self._files.loaded(file_id, path, data, stamp) as wb:
                try:
                    result = change(wb, entry)
                    entry.own_hash = self._files.save(file_id, path, wb, stamp, before=data)
                    entry.own_at = self.clock().isoformat()
                    self._store.save(manifest, changed=(file_id,))
                except BaseException:
                    self._store.forget()
                    self._files.own.pop(file_id, None)
                    raise
            return result


__all__ = ["FileBusy", "LocalBackend"]
