"""The chain head anchored outside the database, and the ledger's files kept private (0600).

The anchor is a small JSON file (``{"event": 1234, "head": "<sha256>", "written_at": "…"}``) in a
folder other than the ledger's (``[ledger] anchor`` in school.toml): the ledger writes it after every
transaction that appended events, refuses to write while its chain does not contain the anchored
event with the anchored hash (a chain rewritten with recomputed hashes, or cut at its end and its
``audit.head`` fixed, no longer does), and ``audit verify`` and ``status`` report the same check.
``ejournal restore`` re-anchors deliberately. The anchor protects only as far as whoever can write the
ledger cannot write the anchor: give its folder to another user, another disk or another machine
(README). ``audit verify`` reports a missing anchor of a chain that has events (:func:`missing`) and
re-anchors only when asked (``--reanchor``). Every commit that writes the anchor records it in the
ledger (state ``audit.anchored``); once recorded, a missing anchor is never re-made by the other
commands (:func:`lost`) — else a forger could delete it and let the next run anchor a forged head:
they do their work unanchored and say so (exit code 3). Only a ledger that never wrote one (a new
one) gets its first anchor written.

Every file of the ledger (the database, its ``-wal``/``-shm``, backups, the anchor) is created
0600 whatever the process umask: the database file is created empty before SQLite opens it
(SQLite gives ``-wal`` and ``-shm`` the database file's mode), copies and temporary files are
opened 0600, and a ledger file found wider is narrowed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rules.errors import StoreError

logger = logging.getLogger(__name__)

PRIVATE = 0o600
SIDE_FILES = ("-wal", "-shm", "-journal")


@dataclass(frozen=True, slots=True)
class Mark:
    """An anchored head: the id and hash of an audit event."""

    event: int
    head: str


def create_private(path: Path) -> None:
    """Create an empty file readable by the owner only (nothing happens if it exists)."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE))
    except FileExistsError:
        return
    except OSError as exc:
        raise StoreError(
            f"cannot create {path} ({exc.strerror})",
            "check the path in school.toml and the service user's permissions",
        ) from exc


def make_private(path: Path) -> None:
    """Narrow a ledger file (and its -wal/-shm/-journal) to 0600 if it is wider."""
    for candidate in (path, *(path.with_name(path.name + s) for s in SIDE_FILES)):
        try:
            mode = stat.S_IMODE(candidate.stat().st_mode)
            if mode & 0o077:
                os.chmod(candidate, mode & 0o700)
                logger.warning("%s was readable by others (%o); narrowed to owner only", candidate, mode)
        except FileNotFoundError:
            continue
        except OSError as exc:
            logger.warning("%s is readable by others and could not be narrowed (%s)", candidate, exc)


def read_mark(path: Path) -> Mark | None:
    """The anchored head, or None when there is no anchor file yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(
            f"cannot read the audit anchor {path} ({exc.strerror})",
            "check [ledger] anchor in school.toml and the service user's permissions",
        ) from exc
    try:
        data: Any = json.loads(text)
        return Mark(int(data["event"]), str(data["head"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreError(
            f"the audit anchor {path} is damaged (not the JSON ejournal writes)",
            "run `ejournal audit verify`; if the ledger verifies, delete the anchor file and"
            " anchor the current head anew with `ejournal audit verify --reanchor`",
        ) from exc


def write_mark(path: Path, mark: Mark, now: datetime | None = None) -> None:
    """Replace the anchor atomically (a 0600 temporary file renamed over it)."""
    written = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    text = json.dumps({"event": mark.event, "head": mark.head, "written_at": written}) + "\n"
    partial = path.with_name(path.name + ".partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.unlink(missing_ok=True)
        descriptor = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise StoreError(
            f"cannot write the audit anchor {path} ({exc.strerror})",
            "check [ledger] anchor in school.toml and the service user's permissions",
        ) from exc


def head_mark(db: sqlite3.Connection) -> Mark | None:
    """The newest event of the chain behind a plain sqlite3 connection (None when empty)."""
    row = db.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    return Mark(int(row[0]), str(row[1])) if row else None


def missing(path: Path, events: int) -> str:
    """The problem of a chain of ``events`` events whose anchor file is gone."""
    return (
        f"the audit anchor {path} is missing: the chain's head ({events} events) cannot be"
        " checked against it — a forged chain would look the same"
    )


def record(path: Path, mark: Mark) -> str:
    """What the ledger keeps of the anchor it writes (state ``audit.anchored``)."""
    return json.dumps({"path": str(path), "event": mark.event, "head": mark.head})


def lost(path: Path, recorded: str) -> str:
    """The problem of an anchor file gone after the ledger wrote it (``recorded``: :func:`record`)."""
    data = json.loads(recorded)
    return (
        f"the audit anchor {path} is missing, though the ledger wrote it ({data['path']}, event"
        f" {data['event']}): it is not re-made — a forged chain would be anchored as good"
    )


def problem(db: sqlite3.Connection, mark: Mark, source: str) -> str | None:
    """Why the chain does not extend ``mark`` (None when it does); ``source`` says whose mark
    it is ("anchored in /srv/ledger.anchor", "that ends the previous backup …")."""
    row = db.execute("SELECT hash FROM audit WHERE id = ?", (mark.event,)).fetchone()
    if row is None:
        return (
            f"the chain no longer has event {mark.event}, the one {source}"
            " — events were cut from its end"
        )
    if row[0] != mark.head:
        return f"event {mark.event} is not the one {source} — the chain was rewritten"
    return None
