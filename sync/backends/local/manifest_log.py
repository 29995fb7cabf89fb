"""The manifest's change log ``ejournal-manifest.log``: one appended line per own write or scan.

Rewriting the whole manifest on every file write costs time in proportion to the number of files
(57 ms a write at 781 files, quadratic over a cycle). The frequent changes — a write's own hash
and time, a tab's protection, a scan's observed version — touch a few fields of a few entries, so
they are appended here as one short JSON line each; the manifest itself is rewritten only when
the log has grown past it (amortised: each write costs a constant) and for the rare changes of
names, paths, sharing, creation and removal.

A line names the manifest's log ``generation`` (a random id written in the manifest): a rewrite
takes a new one, so lines of an older log are never applied over a newer manifest, even when the
process died before the old log was deleted. A last line cut short by a crash is ignored (logged):
that change is lost as if the process had died before saving it — the next scan sees the file as
changed and the cycle reads it. The log is private (0600), like the manifest, and carries only
these fields: a path, a title or a grant is never taken from it.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from rules.errors import BackendError

logger = logging.getLogger(__name__)

LOG_NAME = "ejournal-manifest.log"
MIN_REWRITE = 64 * 1024  # the log may always grow to this before the manifest is rewritten
PATCHED = ("seen", "seq", "seen_at", "own_hash", "own_at", "missing", "tabs")  # what a line sets


def patch_line(generation: str, seq: int, files: dict[str, dict[str, Any]]) -> bytes:
    """The line setting the ``PATCHED`` fields of the named entries (id → field → JSON value)."""
    line = {"g": generation, "seq": seq, "files": files}
    return (json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def append(path: Path, line: bytes) -> None:
    """Append one line durably; a new log is created 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o600)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_lines(path: Path, generation: str) -> list[tuple[int, dict[str, dict[str, Any]]]]:
    """The (seq, files) of each complete line of ``generation``, in order (none without a
    log or a generation)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise BackendError(f"cannot read the manifest's log {path}: {exc.strerror}",
                           hint="check that it is a file the service user may read") from exc
    lines = data.split(b"\n")
    if lines[-1]:  # what follows the last newline is a line cut short by a crash
        logger.warning("manifest log %s: a last line cut short (%d bytes) ignored", path,
                       len(lines[-1]))
    out = []
    for number, raw in enumerate(lines[:-1], start=1):
        try:
            line = json.loads(raw)
            if generation and line["g"] == generation:
                files = {str(k): dict(v) for k, v in line["files"].items()}
                if any(set(v) != set(PATCHED) for v in files.values()):
                    raise ValueError("a line sets other fields than " + ", ".join(PATCHED))
                out.append((int(line["seq"]), files))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BackendError(
                f"the manifest's log {path} is damaged at line {number}: {exc}",
                hint=f"delete {path.name}: the files it named are then seen as changed and read "
                "again by the next sync (nothing in the ledger is lost)",
            ) from exc
    return out


__all__ = ["LOG_NAME", "MIN_REWRITE", "PATCHED", "append", "patch_line", "read_lines"]
