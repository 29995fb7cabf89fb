"""Files of a folder whose manifest was lost, found again (issue 9, item 4).

The manifest is what names the files: without it the spreadsheets are still in the folder but no
file id leads to them. The jobs know which files are registered (id and name) and what proves a
file theirs; this module finds the files by name, tells what is in them (their content hash, the
hidden ids of a column), and writes a new manifest that names the proven ones under their own
ids. A new manifest is a new change feed, so the next cycle reads every registered file again.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import openpyxl

from rules.errors import BackendError
from sync.backends.local.files import safe_name
from sync.backends.local.manifest import MANIFEST_NAME, PRIVATE, SHEETS, FileEntry, Manifest
from sync.backends.protocol import FoundFile

log = logging.getLogger(__name__)

HEADER_ROWS = 8  # a hidden id column's label is in one of a tab's first rows
TRASH = ".trash"  # as the backend's: never looked into


class LostFolder:
    """The folders of a local backend whose manifest is missing while spreadsheets are in the
    sheets folder (the state in which the backend refuses to start a new manifest)."""

    def __init__(self, backend: Any) -> None:
        self.store = backend._store
        self.roots = {SHEETS: backend.folder}
        if backend.private is not None:
            self.roots[PRIVATE] = backend.private

    def named(self, title: str, id_label: str) -> list[FoundFile]:
        """Every ``.xlsx`` named as a spreadsheet titled ``title`` is created, in the sheets
        folder and the private one, in any sub-folder but the trash."""
        name = (safe_name(title) + ".xlsx").casefold()
        return [FoundFile(str(p), content_digest(p), hidden_ids(p, id_label))
                for base in self.roots.values() for p in sorted(base.rglob("*.xlsx"))
                if p.name.casefold() == name and TRASH not in p.relative_to(base).parts]

    def adopt(self, chosen: Mapping[str, tuple[str, FoundFile]]) -> None:
        """A new manifest naming each chosen file under its own id, its version unknown (the next
        scan sees it as changed). Refused if a manifest appeared meanwhile."""
        if self.store.path.exists():
            raise BackendError(f"{self.store.path} exists: files are adopted only into a lost "
                               "manifest")
        manifest = Manifest(instance=secrets.token_hex(6))
        for file_id, (title, found) in chosen.items():
            path = Path(found.where)
            root = next(r for r, base in self.roots.items() if path.is_relative_to(base))
            manifest.files[file_id] = FileEntry(
                title=title, path=path.relative_to(self.roots[root]).as_posix(), root=root)
        self.store.save(manifest)
        log.warning("adopted %d spreadsheet(s) into a new %s", len(chosen), MANIFEST_NAME)


def lost_files(backend: Any) -> LostFolder | None:
    """``LocalBackend.lost_files``: a :class:`LostFolder` when the manifest is lost, else None."""
    if backend._store.path.exists() or not any(backend.folder.glob("*.xlsx")):
        return None
    return LostFolder(backend)


def lost_manifest_note(folder: Path, private: Path | None) -> str | None:
    """The manifest gone while spreadsheets are in ``folder``, said in a line (no folder made)."""
    manifest = (private or folder) / MANIFEST_NAME
    folders = [folder, *([private] if private else [])]  # the sheets folder and the private one
    found = sum(sum(1 for _ in where.glob("*.xlsx")) for where in folders if where.is_dir())
    if manifest.exists() or not found:
        return None
    return (f"the manifest {manifest} is missing beside {found} spreadsheet(s): run `ejournal "
            "sync` to re-adopt the files provably the service's")


def content_digest(path: Path) -> str:
    """The digest a local version ends with (``<mtime_ns>-<size>-<sha256[:16]>``)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def hidden_ids(path: Path, label: str) -> tuple[frozenset[str], ...]:
    """Per tab with a column headed ``label`` in its first rows: the ids below it (text)."""
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError):
        return ()
    try:
        found = []
        for ws in wb.worksheets:
            rows = [list(r) for r in ws.iter_rows(values_only=True)]
            for r, row in enumerate(rows[:HEADER_ROWS]):
                if label in row:
                    col = row.index(label)
                    found.append(frozenset(_text(line[col]) for line in rows[r + 1:]
                                           if col < len(line)) - {""})
                    break
        return tuple(found)
    finally:
        wb.close()


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None or isinstance(value, bool) else str(value).strip()
