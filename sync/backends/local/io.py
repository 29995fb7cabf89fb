"""File-level I/O of the local backend: reading, atomic saving, busy and damage detection, versions.

Every method speaks of one spreadsheet file by id and path and raises only ``rules.errors`` types:
:class:`~sync.backends.protocol.FileBusy` when the file must be skipped this cycle (a spreadsheet
program holds it open, it changed while we wrote it, or its bytes do not parse yet because it is
mid-save),
``FileDamaged`` when settled bytes are no spreadsheet, ``SheetAccessError`` when it is gone or
not readable by the service, ``BackendError`` otherwise.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO

from openpyxl.workbook.workbook import Workbook

from rules.errors import BackendError, SheetAccessError
from sync.backends.local import caps, xlsx
from sync.backends.local.files import atomic_write, file_sha256, lock_files
from sync.backends.protocol import FileBusy, FileDamaged

log = logging.getLogger(__name__)

Serializer = Callable[[Workbook, IO[bytes]], None]
Stamp = tuple[int, int]  # (mtime_ns, size) the bytes were read at
RACY_SECONDS = 3.0
_STALE_LOCK_HINT = ("it is retried next cycle; if nobody has it open (e.g. after a crash), delete the "
                    "stale lock file beside it: .~lock.<name># (LibreOffice) or ~$<name> (Excel)")


def next_mtime(now: datetime, stamp: Stamp | None) -> int:
    """The modification time of a file written at ``now`` (the service clock, so a simulated day
    stays consistent with the time locks' proofs), strictly after the version it replaces: a
    file's mtime moves forward on every change, as Drive's ``modifiedTime`` does."""
    when = int(now.timestamp() * 1_000_000_000)
    return when if stamp is None else max(when, stamp[0] + 1_000)


class SheetFiles:
    """Reads and writes the ``.xlsx`` files; remembers each file's version after our own writes.

    ``settle_seconds``: unparsable bytes younger than this are taken to be mid-save (FileBusy), older
    ones to be damage. ``serializer`` writes a workbook into a binary file (a seam for tests that
    simulate a crash mid-save).
    """

    def __init__(self, settle_seconds: float, serializer: Serializer,
                 clock: Callable[[], datetime]) -> None:
        self.settle_seconds = settle_seconds
        self.serializer = serializer
        self.clock = clock
        self.versions: dict[str, str] = {}  # file id → version after our own last write or hash
        # file id → (version before our first write, version after our last) with nobody else's
        # save in between: what ``own_versions`` answers
        self.own: dict[str, tuple[str, str]] = {}

    def read(self, file_id: str, path: Path) -> tuple[bytes, Stamp]:
        """The file's bytes, read in one go (a consistent snapshot), and their stamp."""
        try:
            with path.open("rb") as f:
                st = os.fstat(f.fileno())
                caps.check_size(st.st_size)  # before the bytes are in memory
                data = f.read(caps.MAX_FILE_BYTES + 1)
        except FileNotFoundError as exc:
            raise missing_file(file_id) from exc
        except PermissionError as exc:
            raise SheetAccessError(f"file {file_id}: permission denied",
                                   hint="let the service's user read and write the sheets folder"
                                   ) from exc
        except caps.TooLarge as exc:
            raise too_large(file_id, exc) from exc
        except OSError as exc:
            raise BackendError(f"file {file_id}: cannot read it: {exc.strerror}") from exc
        return data, (st.st_mtime_ns, st.st_size)

    def parse(self, file_id: str, path: Path, data: bytes, stamp: Stamp, *,
              read_only: bool = False) -> Workbook:
        try:
            return xlsx.load(data, read_only=read_only)
        except xlsx.UnreadableFile as exc:
            raise self.unreadable(file_id, path, stamp, exc) from exc
        except caps.TooLarge as exc:
            raise too_large(file_id, exc) from exc

    @contextmanager
    def loaded(self, file_id: str, path: Path, data: bytes, stamp: Stamp) -> Iterator[Workbook]:
        """``parse`` for a change: on exit the workbook is spent, its cells dropped so that
        refcounting frees them at once (each cell points back at its sheet: left to the cyclic GC,
        they would be traversed in several collections first, ~3 ms of a journal write)."""
        wb = self.parse(file_id, path, data, stamp)
        try:
            yield wb
        finally:
            for ws in wb.worksheets:
                ws._cells.clear()

    def save(self, file_id: str, path: Path, wb: Workbook, stamp: Stamp | None,
             before: bytes | None = None) -> str:
        """Atomic save; refused if a lock file appeared or the file moved since ``stamp`` was read
        (None: the file must not exist yet). Returns the content's sha256. ``before``: the bytes
        read at ``stamp``, to chain own writes (``own``)."""

        def unchanged() -> None:
            self.refuse_busy(file_id, path)
            try:
                st = path.stat()
                now: Stamp | None = (st.st_mtime_ns, st.st_size)
            except FileNotFoundError:
                now = None
            if now != stamp:
                raise FileBusy(file_id, f"file {file_id} changed while it was being written; "
                               "not written this cycle", hint="it is retried next cycle")

        try:
            digest = atomic_write(path, lambda out: self.serializer(wb, out),
                                  before_replace=unchanged, mtime_ns=next_mtime(self.clock(), stamp))
            st = path.stat()
        except OSError as exc:
            raise BackendError(f"cannot write file {file_id}: {exc.strerror or exc}",
                               hint="check that the sheets folder is writable and the disk is "
                                    "not full") from exc
        self.versions[file_id] = f"{st.st_mtime_ns}-{st.st_size}-{digest[:16]}"
        if before is not None and stamp is not None:
            was = f"{stamp[0]}-{stamp[1]}-{hashlib.sha256(before).hexdigest()[:16]}"
            first, last = self.own.get(file_id, (was, was))
            self.own[file_id] = (first if last == was else was, self.versions[file_id])
        log.debug("wrote file %s", file_id)
        return digest

    def own_versions(self, seen: Mapping[str, str | None]) -> dict[str, str | None]:
        """Per file written since the last call: the version after our writes if the first one
        was made on ``seen[file]`` and each next one on the previous one's result."""
        out = {fid: last if seen.get(fid) == first else None
               for fid, (first, last) in self.own.items()}
        self.own.clear()
        return out

    def refuse_busy(self, file_id: str, path: Path) -> None:
        locks = lock_files(path)
        if locks:
            raise FileBusy(file_id, f"file {file_id} is open in a spreadsheet program "
                           f"({len(locks)} lock file(s) beside it); not written this cycle",
                           hint=_STALE_LOCK_HINT)

    def unreadable(self, file_id: str, path: Path, stamp: Stamp,
                   exc: xlsx.UnreadableFile) -> BackendError:
        """Mid-save (locked or fresh) → FileBusy; settled → damaged. The parser's text may quote
        cell content, so only its exception type goes into the message."""
        kind = str(exc).split(":", 1)[0]
        age = time.time() - stamp[0] / 1e9
        if lock_files(path):
            return FileBusy(file_id, f"file {file_id} is open in a spreadsheet program and cannot "
                            f"be parsed right now ({kind}); skipped this cycle", hint=_STALE_LOCK_HINT)
        if age < self.settle_seconds:
            return FileBusy(file_id, f"file {file_id} cannot be parsed right now ({kind}; "
                            "probably mid-save); skipped this cycle", hint="it is retried next cycle",
                            unparsable=True)
        return FileDamaged(file_id, f"file {file_id} is damaged: not a readable .xlsx ({kind})",
                           hint="the sync cycle sets it aside in .trash/ and rebuilds it from the "
                                "ledger (or run `ejournal rebuild`)")

    def version(self, file_id: str, path: Path, seen: str = "") -> str | None:
        """``<mtime_ns>-<size>-<sha256[:16]>``, hashing only when mtime or size moved since a known
        version (ours, or ``seen`` from the manifest). None: the file is gone."""
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise BackendError(f"file {file_id}: cannot stat it: {exc.strerror}") from exc
        prefix = f"{st.st_mtime_ns}-{st.st_size}-"
        # a file modified within the last seconds may change again without moving mtime (coarse
        # timestamps on FAT/SMB): hash it anyway, as git does for "racily clean" entries
        settled = time.time() - st.st_mtime > RACY_SECONDS
        for known in (self.versions.get(file_id, ""), seen):
            if settled and known.startswith(prefix):
                return known
        try:
            version = prefix + file_sha256(path)[:16]
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise BackendError(f"file {file_id}: cannot read it: {exc.strerror}") from exc
        self.versions[file_id] = version
        return version


def too_large(file_id: str, exc: caps.TooLarge) -> BackendError:
    """A workbook over the size caps: refused before it is parsed (never "busy": it is no save
    in progress, and retrying cannot help until a person replaces the file)."""
    return BackendError(f"file {file_id} is too large to be a spreadsheet of ejournal: {exc}; "
                        "not read",
                        hint="a journal needs far less (see the local backend's size caps in the "
                             "README); restore the file from a backup or .trash/, or delete it "
                             "and re-create it from the ledger (ejournal rebuild)")


def missing_file(file_id: str) -> SheetAccessError:
    return SheetAccessError(f"file {file_id}: its .xlsx is missing from the sheets folder",
                            hint="restore the file from .trash/ or a backup, or re-create it from "
                                 "the ledger (ejournal rebuild)")
