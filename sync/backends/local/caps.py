"""Size caps of what the local backend reads from an ``.xlsx``: checked before openpyxl parses it.

An ``.xlsx`` is a zip of XML files that anyone with the shared folder can replace. A 3 MB zip can
declare a sheet that inflates to gigabytes (6.3 GB of RAM and 38 s per read before these caps), a few
bytes of XML can place a cell at ``XFD1048576`` (openpyxl pads every row up to it), and an XML DTD
can expand entities into millions of elements. So, before any parse:

* the file, every member and all members together are checked against byte caps, from the zip's
  directory (``zipfile`` never inflates a member past its declared size: it stops there and fails the
  CRC check, so a lying directory cannot get round the caps);
* the XML members are inflated once, streaming (64 KiB at a time), to count their elements — what
  openpyxl's objects cost in memory (~330 bytes per cell) — and to refuse a DTD (xlsx never has one);
* reading stops at :data:`MAX_ROWS` × :data:`MAX_COLS` and :data:`MAX_AREA`: a tab with a cell
  beyond them is refused, never silently cut.

The caps, with what the example school needs (``ejournal demo``: 48 files, its largest 36 KiB on
disk, its largest member 179 KiB inflated — a class's attendance tab —, at most 9,700 XML elements
and 54 columns per tab) and what a full year of a heavy journal would need (4 period tabs of 40 rows ×
250 lesson columns, every cell marked: ~0.5 MiB of XML per tab, ~90,000 elements):

=====================  ============  ===================================================
cap                    value         margin
=====================  ============  ===================================================
file on disk           8 MiB         220× the example's largest file
one member, inflated   16 MiB        90× the example's largest member, 30× a full tab
all members, inflated  64 MiB        4× sixteen full tabs
XML elements           250,000       26× the example, 2.8× the heaviest full year
rows per tab           5,000         10× the admin tab's 500 prepared rows
columns per tab        1,000         4× a tab of 250 lessons
cells per tab (area)   250,000       25× a 40 × 250 tab (rows × columns up to the last cell)
=====================  ============  ===================================================

At the caps a write (a full openpyxl load, the protection pass, the save) peaks at ~160 MiB RSS in a
fresh process (250,000 styled empty cells, the costliest element: ~330 bytes each; 5 s), a read at
~70 MiB; refusing a bomb costs next to nothing. ``tests/sync/backends/test_local_caps.py`` measures
both. A refused file is a ``BackendError`` naming the cap: the cycle counts it as failed and
goes on with the other files.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

MiB = 2**20
MAX_FILE_BYTES = 8 * MiB
MAX_MEMBER_BYTES = 16 * MiB
MAX_TOTAL_BYTES = 64 * MiB
MAX_ELEMENTS = 250_000
MAX_ROWS = 5_000
MAX_COLS = 1_000
MAX_AREA = 250_000

_CHUNK = 64 * 1024
_START_TAG = re.compile(rb"<[A-Za-z_]")  # an element's start tag (not </, <?, <!)
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")  # a cell formula element, not <formula1>/<fill>
_XML_SUFFIXES = (".xml", ".rels", ".vml")


class TooLarge(Exception):
    """The workbook exceeds a cap (the message says which). Never leaves the backend: the file I/O
    layer turns it into a ``BackendError`` with the file id."""


def human(size: int) -> str:
    """A byte count for a message: "3.0 GiB", "16 MiB", "812 KiB"."""
    for unit, scale in (("GiB", 2**30), ("MiB", MiB), ("KiB", 1024)):
        if size >= scale:
            value = size / scale
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{size} bytes"


def check_size(size: int) -> None:
    """The file on disk, before it is read into memory."""
    if size > MAX_FILE_BYTES:
        raise TooLarge(f"the file is {human(size)} (the cap is {human(MAX_FILE_BYTES)})")


def check_archive(data: bytes) -> bool:
    """Check the workbook's bytes against every cap; True when a worksheet holds a cell formula.

    A zip that cannot be opened passes (openpyxl then reports it unreadable, as before).
    """
    check_size(len(data))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False
    with archive:
        members = archive.infolist()
        total = 0
        for info in members:
            if info.file_size > MAX_MEMBER_BYTES:
                raise TooLarge(f"{info.filename} inflates to {human(info.file_size)} (the cap "
                               f"is {human(MAX_MEMBER_BYTES)} per member)")
            total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise TooLarge(f"its members inflate to {human(total)} together (the cap is "
                           f"{human(MAX_TOTAL_BYTES)})")
        elements, formulas = 0, False
        for info in members:
            if not info.filename.lower().endswith(_XML_SUFFIXES):
                continue  # images, printer settings: openpyxl never inflates them here
            sheet = info.filename.startswith("xl/worksheets/")
            for count, formula in _scan(archive, info, sheet):
                elements += count
                formulas = formulas or formula
                if elements > MAX_ELEMENTS:
                    raise TooLarge(f"it holds more than {MAX_ELEMENTS:,} XML elements (cells, "
                                   f"styles…; the cap), {info.filename} reached it")
        return formulas


def _scan(archive: zipfile.ZipFile, info: zipfile.ZipInfo, sheet: bool
          ) -> Iterator[tuple[int, bool]]:
    """(elements, has a formula) per chunk of one member, inflated 64 KiB at a time. The last
    bytes of the previous chunk are carried over so nothing is missed at a chunk border."""
    carry = b""
    try:
        with archive.open(info) as member:
            while chunk := member.read(_CHUNK):
                window = carry + chunk
                if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                    raise TooLarge(f"{info.filename} declares a DTD (entity expansion); xlsx "
                                   "files never have one")
                # a tag split at the border ("<" ending the carry) is counted here, once
                count = len(_START_TAG.findall(window[len(carry) - 1:] if carry else window))
                yield count, sheet and bool(_FORMULA.search(window))
                carry = window[-16:]
    except TooLarge:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError):
        return  # damaged or encrypted: openpyxl will say unreadable


# ------------------------------------------------------------------------------- reading rows


def bounded_rows(title: str, rows: Iterable[Sequence[Any]]) -> list[list[Any]]:
    """The rows of a read-only worksheet (``ws.reset_dimensions()`` first, so the file's
    ``<dimension>`` is not trusted and rows are as long as their last cell), refused past the caps.

    Rows beyond :data:`MAX_ROWS` that hold no cell are passed over, not kept.
    """
    out: list[list[Any]] = []
    widest = 0
    for index, row in enumerate(rows):
        if not row:
            if index < MAX_ROWS:
                out.append([])
            continue
        if index >= MAX_ROWS or len(row) > MAX_COLS:
            raise TooLarge(f"tab {title!r} has a cell beyond row {MAX_ROWS:,} or column "
                           f"{MAX_COLS:,} (the caps of a tab)")
        widest = max(widest, len(row))
        if (index + 1) * widest > MAX_AREA:
            raise TooLarge(f"tab {title!r} spans more than {MAX_AREA:,} cells (the cap)")
        out.append(list(row))
    return out


def check_extent(title: str, max_row: int, max_col: int) -> None:
    """A fully loaded worksheet: its last row and column (where openpyxl's cells end)."""
    if max_row > MAX_ROWS or max_col > MAX_COLS:
        raise TooLarge(f"tab {title!r} has a cell beyond row {MAX_ROWS:,} or column "
                       f"{MAX_COLS:,} (the caps of a tab)")
    if max_row * max_col > MAX_AREA:
        raise TooLarge(f"tab {title!r} spans {max_row:,} × {max_col:,} cells (the cap is "
                       f"{MAX_AREA:,})")
