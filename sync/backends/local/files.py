"""Filesystem helpers of the local backend: safe file names, lock files, atomic replacement.

A spreadsheet file is never half-written: new content goes to a hidden temp file in the same folder,
is flushed to disk, and then replaces the old file with one ``os.replace`` (atomic on POSIX and
Windows). The temp file keeps the replaced file's permission bits, so a teacher who could open the
file before can still open it (``mkstemp`` would make it private).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from rules.errors import BackendError

logger = logging.getLogger(__name__)

TEMP_SUFFIX = ".ejournal-tmp"
_FORBIDDEN = re.compile(r'[/\\:*?"<>|\x00-\x1f\x7f]')
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{i}" for p in ("COM", "LPT") for i in range(1, 10)}
_MAX_NAME_BYTES = 150  # leaves room for ".~lock.<name>#", temp suffixes and a " (2)" on any FS


def safe_name(title: str, fallback: str = "spreadsheet") -> str:
    """A file or folder name valid on Linux, macOS and Windows, as close to ``title`` as possible.

    Runs of whitespace become one space; ``/\\:*?"<>|`` and control characters become ``-``
    ("2026/27" → "2026-27"); leading dots and tildes go (they would look like hidden or lock
    files); trailing dots and spaces go (Windows); reserved device names get a leading ``_``; the
    result is NFC and at most 150 UTF-8 bytes.
    """
    name = " ".join(unicodedata.normalize("NFC", title).split())  # tabs, newlines → one space
    name = _FORBIDDEN.sub("-", name).lstrip(".~ ").rstrip(". ")
    if name.split(".")[0].upper() in _WINDOWS_RESERVED:
        name = "_" + name
    encoded = name.encode("utf-8")[:_MAX_NAME_BYTES]
    name = encoded.decode("utf-8", errors="ignore").rstrip(". ")
    return name or fallback


def unique_path(folder: Path, stem: str, suffix: str, taken: set[str], *,
                strict: bool = False) -> Path:
    """``folder/stem+suffix``, or ``stem (2)+suffix`` … when that name exists or is ``taken``.

    Names compare case-insensitively (Windows and macOS shares fold case). ``strict``: a file
    outside ``taken`` (one the manifest does not name) holding the name is refused, never
    numbered around: a «(2)» beside it would duplicate a file that may be the original.
    """
    existing = {p.name.casefold() for p in folder.iterdir()} if folder.is_dir() else set()
    if strict and (stem + suffix).casefold() in existing - {t.casefold() for t in taken}:
        raise BackendError(
            f"cannot create «{stem}{suffix}» in {folder}: a file of that name is there that the "
            "manifest does not name (not provably the service's)",
            hint="move that file out of the folder (or rename it): the next sync re-creates the "
            "spreadsheet under its own name")
    existing |= {t.casefold() for t in taken}
    candidate, n = stem + suffix, 1
    while candidate.casefold() in existing:
        n += 1
        candidate = f"{stem} ({n}){suffix}"
    return folder / candidate


class OutsideFolder(BackendError):
    """A path from the manifest (or a folder the backend would write into) that does not stay
    inside the sheets folder: absolute, with ``..``, or leading out through a symlink."""


def inside(root: Path, relative: str, what: str) -> Path:
    """``root/relative`` when ``relative`` is a plain relative "/"-separated path to an ``.xlsx``
    that resolves (symlinks followed) inside ``root``; else :class:`OutsideFolder`.

    The manifest is a file in the teachers' folder, so its paths are untrusted: without this check
    ``"../outside/evil.xlsx"``, ``"/etc/…"`` or a symlink in the folder would make the lock job read
    and rewrite a file elsewhere. ``what`` names the path's owner in the message ("file 1a2b…").
    """
    parts = relative.split("/")
    plain = (relative.lower().endswith(".xlsx") and not any(c in relative for c in "\\:\x00")
             and all(p not in ("", ".", "..") for p in parts))  # "/x" and "a//b" have a "" part
    path = root.joinpath(*parts)
    if plain and _resolves_inside(root, path) and path.resolve() != root.resolve():
        return path
    raise OutsideFolder(
        f"{what}: its path in the manifest ({relative!r}) is not a relative path inside the "
        f"sheets folder {root}; refused (nothing is read or written there)",
        hint="fix the path in ejournal-manifest.json (relative, \"/\"-separated, no \"..\", "
             "no symlink leading out of the folder) or restore the manifest from a backup")


def check_inside(root: Path, folder: Path) -> None:
    """Refuse writing into ``folder`` unless it resolves inside ``root`` (a subfolder or the
    trash that is a symlink out of the sheets folder)."""
    if not _resolves_inside(root, folder):
        raise OutsideFolder(
            f"folder {folder} leads out of the sheets folder {root} (a symlink?); refused",
            hint="replace the symlink by a real folder inside the sheets folder")


def _resolves_inside(root: Path, path: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop
        return False


def lock_files(path: Path) -> list[Path]:
    """Lock files a spreadsheet program keeps beside ``path`` while the file is open.

    LibreOffice: ``.~lock.<name>#``. Excel: ``~$<name>`` (Word-style ``~$`` + name without its first
    two characters is checked too, as Office shortens long names that way).
    """
    name = path.name
    candidates = [f".~lock.{name}#", f"~${name}"]
    if len(name) > 2:
        candidates.append(f"~${name[2:]}")
    return [path.parent / c for c in candidates if (path.parent / c).exists()]


Writer = Callable[[BinaryIO], object]


def atomic_write(path: Path, write: Writer, *, before_replace: Callable[[], None] | None = None,
                 mtime_ns: int | None = None, private: bool = False) -> str:
    """Write ``path`` atomically via a temp file in the same folder; returns the content's sha256.

    ``write`` fills the temp file. ``before_replace`` runs after the temp file is on disk and may
    raise to abort (the old file is then untouched). ``mtime_ns`` stamps the new file's
    modification time; ``private`` makes it 0600 (else it keeps the old file's mode). On any
    failure the temp file is removed.
    """
    tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}"
    try:
        mode: int | None = 0o600 if private else os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        mode = None
    created = 0o600 if private else 0o666
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), created)
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        if mtime_ns is not None:
            os.utime(tmp, ns=(mtime_ns, mtime_ns))
        digest = file_sha256(tmp)
        if before_replace is not None:
            before_replace()
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return digest


def file_sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable (POSIX); Windows cannot open a directory, which is fine there."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def sweep_temp_files(folder: Path, older_than: float = 3600.0) -> int:
    """Remove temp files a killed process left behind (only ours, only old ones); returns the count."""
    if not folder.is_dir():
        return 0
    cutoff = time.time() - older_than
    removed = 0
    for tmp in folder.rglob(f".*{TEMP_SUFFIX}"):
        try:
            if tmp.stat().st_mtime < cutoff:
                tmp.unlink()
                removed += 1
        except OSError:
            continue
    if removed:
        logger.info("removed %d stale temp file(s) in the sheets folder", removed)
    return removed
