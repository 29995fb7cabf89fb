"""The spreadsheet backend protocol: what the sync engine needs from Google Sheets or a folder of xlsx.

Two implementations share this protocol and one contract test suite: ``sync.backends.google.backend``
(gspread over our own HTTP client) and ``sync.backends.local.backend`` (a folder of ``.xlsx`` files). The
engine speaks only in these terms: spreadsheets are created whole from a :class:`SpreadsheetSpec`, read
in one call, written in one call, and their open (unprotected) cells moved in one call.

Budgets (DESIGN.md §6) are part of the contract; the google backend's call cost is in brackets:
``create`` [1 Drive create + 1 Sheets write], ``read`` [1 Sheets read], ``write`` [1 Sheets write],
``set_open_ranges`` [1 Sheets write], ``changes`` [1 Drive call per 1000 changes], sharing calls
[1 Drive call each], ``replace_tabs`` [1 Sheets write; +1 metadata read when this process has not
seen the file's tabs]. Errors are the project's own (``rules.errors``): ``SheetAccessError`` (no
such file / no permission), ``RateLimited``, ``TransientError`` (``uncertain=True``: a write may
have been applied — re-read with ``open_ranges`` before retrying a protection change),
``BackendError``; a missing tab raises :class:`TabMissing` so the engine can repair the layout;
:class:`FileBusy` (local backend: the file is open in LibreOffice/Excel or mid-save) means skip
that file this cycle; :class:`FileDamaged` (local backend: settled bytes that are no spreadsheet)
means set it aside and rebuild it.

Protection ids (how ``set_open_ranges`` stays at ONE write with no read): ``create`` returns
``FileInfo.protections`` (tab title → id of that tab's sheet protection; ``add_tabs`` returns the
same for the tabs it adds). The engine stores them in the ledger and passes them back to
``set_open_ranges(file_id, ranges, protections)``. The google backend chooses the ids itself (a
sheet's protectedRangeId equals its sheetId, so one int locates both); without ``protections`` it
falls back to its in-memory cache, then to one metadata read. The local backend needs no ids and
returns an empty mapping.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from rules.errors import BackendError

Grid = list[list[Any]]  # rows of cell values: str, int, float, bool or None ("" / None = empty)


class TabMissing(BackendError):
    """A tab asked for by title does not exist (renamed or deleted by someone)."""

    def __init__(self, file_id: str, titles: Sequence[str]) -> None:
        super().__init__(f"file {file_id}: tab(s) missing: {', '.join(titles)}")
        self.file_id = file_id
        self.titles = tuple(titles)


class FileBusy(BackendError):
    """The file cannot be touched right now: skip it this cycle and retry it in the next one.

    Raised by the local backend when a spreadsheet program holds the file open (its lock file is
    beside it) and a write was asked for, or when the file is mid-save (unreadable bytes, or changed
    while being written). Nothing was written; nothing is lost.
    """

    def __init__(self, file_id: str, message: str, hint: str | None = None, *,
                 unparsable: bool = False) -> None:
        super().__init__(message, hint)
        self.file_id = file_id
        self.unparsable = unparsable  # no lock file: its bytes just do not parse (yet)


class FeedReset(BackendError):
    """The change token does not belong to this change feed (local backend: the folder's manifest
    was re-created, or the folder is another one): every registered file must be looked at again."""


class FileDamaged(BackendError):
    """The file is there but is no spreadsheet any more (bytes that do not parse, settled: no save
    is in progress; or far over the size caps). Retrying cannot help: the engine sets it aside
    (kept) and rebuilds it from the ledger."""

    def __init__(self, file_id: str, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.file_id = file_id


class Role(StrEnum):
    READER = "reader"
    COMMENTER = "commenter"
    WRITER = "writer"
    OWNER = "owner"
    FILE_ORGANIZER = "fileOrganizer"  # shared drives: content manager (listed, never granted)
    ORGANIZER = "organizer"  # shared drives: manager (listed, never granted)


@dataclass(frozen=True, slots=True)
class CellRange:
    """A rectangle on one tab, 0-based and half-open like a Sheets GridRange.

    ``end_row``/``end_col`` of None mean "to the end of the tab".
    """

    tab: str
    start_row: int
    start_col: int
    end_row: int | None = None
    end_col: int | None = None

    def a1(self) -> str:
        """``'Tab'!B2:D10``; ``'Tab'!B2:D`` when rows are open-ended; ``'Tab'`` for the whole tab."""
        title = "'" + self.tab.replace("'", "''") + "'"
        if self.end_col is None:
            if self.end_row is None and self.start_row == 0 and self.start_col == 0:
                return title
            raise ValueError(f"{self!r}: an A1 range needs an end column")
        start = f"{column_letter(self.start_col)}{self.start_row + 1}"
        end_row = "" if self.end_row is None else str(self.end_row)
        return f"{title}!{start}:{column_letter(self.end_col - 1)}{end_row}"


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    if index < 0:
        raise ValueError(f"column index must be >= 0, got {index}")
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@dataclass(frozen=True, slots=True)
class Dropdown:
    """A non-strict list validation: the values are suggested, other text is still accepted.

    ``source``: the values are the cells of this range (on a hidden list tab of the same file)
    instead of a literal list — any number of values, commas included (Sheets ONE_OF_RANGE, an
    xlsx list over a range); ``values`` are then what the range holds, for reference only."""

    range: CellRange
    values: tuple[str, ...]
    strict: bool = False
    source: CellRange | None = None


@dataclass(frozen=True, slots=True)
class Highlight:
    """Conditional background colour for cells whose text equals ``equals``."""

    range: CellRange
    equals: str
    color: str  # "#RRGGBB"


@dataclass(frozen=True, slots=True)
class Style:
    """How the cells of a rectangle look (the journal's headers, borders, legend). Unset fields
    leave the cell's look alone, so styles layer: a later one overrides only what it sets."""

    range: CellRange
    bold: bool = False
    italic: bool = False
    size: int | None = None  # font size, points
    color: str | None = None  # text colour "#RRGGBB"
    fill: str | None = None  # background "#RRGGBB"
    align: str | None = None  # "LEFT" | "CENTER" | "RIGHT"
    wrap: bool = False  # text wraps inside the cell (top-aligned; bottom-aligned when rotated)
    borders: bool = False  # a thin grey line around every cell
    rotate: int = 0  # text angle, degrees counter-clockwise (90: read bottom to top)


@dataclass(frozen=True, slots=True)
class FormulaHighlight:
    """Conditional colours by a formula of the range's top-left cell, without "=" (relative
    references move with each cell, as in Sheets and xlsx). The spreadsheet re-evaluates it, so a
    formula of ``TODAY()`` follows the days with no write at all."""

    range: CellRange
    formula: str
    fill: str  # "#RRGGBB"
    color: str | None = None  # text colour


@dataclass(frozen=True, slots=True)
class TabSpec:
    """One tab as the service lays it out: values, formats, validation, protection."""

    title: str
    rows: Grid
    row_count: int
    col_count: int
    frozen_rows: int = 0
    frozen_cols: int = 0
    hidden_cols: tuple[int, ...] = ()
    text_ranges: tuple[CellRange, ...] = ()  # TEXT number format: typed "5/4" stays text
    dropdowns: tuple[Dropdown, ...] = ()
    highlights: tuple[Highlight, ...] = ()
    col_widths: Mapping[int, int] = field(default_factory=dict)  # pixels
    wrapped: tuple[CellRange, ...] = ()  # text wraps inside these cells (top-aligned)
    styles: tuple[Style, ...] = ()  # applied in order: a later style wins where both set a field
    formula_highlights: tuple[FormulaHighlight, ...] = ()
    notes: Mapping[tuple[int, int], str] = field(default_factory=dict)  # (row, col) → note
    hidden_rows: tuple[int, ...] = ()
    row_heights: Mapping[int, int] = field(default_factory=dict)  # pixels
    protected: bool = True  # whole-tab protection; editors = the service principal only
    open_ranges: tuple[CellRange, ...] = ()  # the cells others may edit (unprotectedRanges)
    print_wide: bool = False  # printed landscape, fit to the page width (xlsx only: Sheets has
    # no print settings in its API)
    hidden: bool = False  # a tab people do not see (a dropdown's list of values)


@dataclass(frozen=True, slots=True)
class SpreadsheetSpec:
    name: str
    tabs: tuple[TabSpec, ...]
    folder: str | None = None  # parent folder (shared-drive folder id for a service account)
    readers_cannot_copy: bool = False  # diaries: copyRequiresWriterPermission
    private: bool = False  # the deputies' own (admin): the local backend keeps it out of reach
    writers_can_share: bool = False
    active_tab: str | None = None  # the tab a workbook opens on (xlsx; Sheets opens the first)


@dataclass(frozen=True, slots=True)
class FileInfo:
    """What Drive (or the filesystem) says about a file. ``version`` moves on every change."""

    id: str
    name: str
    version: str
    modified: datetime | None = None
    by_me: bool = False  # the last change was made by this backend's own principal
    # who made the last change: an e-mail, "" when unknown; None where the backend has no users
    modified_by: str | None = None
    removed: bool = False  # deleted, trashed or no longer visible
    # tab title -> protection id (from ``create``; see the module docstring); empty otherwise
    protections: Mapping[str, int] = field(default_factory=dict, hash=False)
    # ids of the file's permissions, when the backend's change list tells them (google): a set
    # that moved means someone shared or unshared the file
    permission_ids: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Grant:
    """One permission on a file."""

    id: str
    email: str  # e-mail, or domain for domain grants, or "anyone"
    role: Role
    kind: str = "user"  # user | group | domain | anyone
    inherited: bool = False  # from the shared drive's membership: cannot be revoked per file


@dataclass(frozen=True, slots=True)
class FoundFile:
    """A spreadsheet found by its name where the backend lost track of its files (``LostFiles``)."""

    where: str  # its path (for people, and to adopt it)
    digest: str  # its content's digest, as the backend's versions end with
    hidden_ids: tuple[frozenset[str], ...]  # per tab with the id column asked for: the ids in it


class LostFiles(Protocol):
    """Files a backend can name again after it lost track of them (the local backend's manifest
    deleted): ``lost_files()`` of a backend that has it returns one, or None when nothing is lost."""

    def named(self, title: str, id_label: str) -> list[FoundFile]:
        """The files named as a spreadsheet titled ``title`` is created."""
        ...

    def adopt(self, chosen: Mapping[str, tuple[str, FoundFile]]) -> None:
        """Name each chosen file (id → title, file) under that id again."""
        ...


class Backend(Protocol):
    """A place where spreadsheets live. Implementations: ``google``, ``local``."""

    principal: str  # the service's own identity (service-account e-mail, or "service" locally)
    writes_per_minute: int | None  # the write quota it paces itself to (None: no quota)

    def start_token(self) -> str:
        """A token marking "now" in the change feed."""
        ...

    def changes(self, token: str) -> tuple[list[FileInfo], str]:
        """Files changed since ``token`` (one entry per file, newest state) and the next token."""
        ...

    def own_versions(self, seen: Mapping[str, str | None]) -> dict[str, str | None]:
        """For each file this backend changed since the last call: its version now if it was at
        ``seen[file]`` before and nobody else changed it since, else None; no call, and it
        restarts. The sync recognises its own writes by these versions."""
        ...

    def create(self, spec: SpreadsheetSpec) -> FileInfo:
        """Create a spreadsheet laid out as ``spec`` (values, formats, validation, protection);
        the ``version`` returned is the new file's after its layout."""
        ...

    def tabs(self, file_id: str) -> list[str]:
        """Titles of the file's tabs, in order (a metadata read; used only for repairs)."""
        ...

    def add_tabs(self, file_id: str, tabs: Sequence[TabSpec]) -> Mapping[str, int] | None:
        """Add missing tabs laid out as given (repair after a deleted tab); returns the new
        tabs' protection ids like ``FileInfo.protections`` (None/empty when not needed)."""
        ...

    def replace_tabs(self, file_id: str, tabs: Sequence[TabSpec]) -> Mapping[str, int]:
        """Delete each named tab if present and add it fresh, laid out as given, in ONE write.

        The repair of a damaged tab: the engine re-renders it from the ledger. A replaced tab
        keeps its place among the tabs; a tab that was absent is added at the end. Returns the
        tabs' protection ids like ``add_tabs`` (empty when not needed).
        """
        ...

    def rename_tab(self, file_id: str, old: str, new: str) -> None:
        ...

    def read(self, file_id: str, tabs: Sequence[str]) -> dict[str, Grid]:
        """Whole tabs' values in one call (unformatted; trailing empties trimmed).

        Raises :class:`TabMissing` if any title does not exist.
        """
        ...

    def write(self, file_id: str, updates: Sequence[tuple[CellRange, Grid]]) -> None:
        """Write values in one call, as RAW text (a teacher's ``=…`` is never evaluated)."""
        ...

    def set_open_ranges(self, file_id: str, open_ranges: Mapping[str, Sequence[CellRange]],
                        protections: Mapping[str, int] | None = None) -> None:
        """Replace each named tab's unprotected ranges (the tab stays protected) in one call.

        ``protections``: the ids from ``FileInfo.protections`` (see the module docstring).
        """
        ...

    def open_ranges(self, file_id: str) -> dict[str, list[CellRange]]:
        """Re-read the protection state: each protected tab's unprotected ranges."""
        ...

    def info(self, file_id: str) -> FileInfo:
        ...

    def delete(self, file_id: str) -> None:
        ...

    def grants(self, file_id: str) -> list[Grant]:
        ...

    def grant(self, file_id: str, email: str, role: Role) -> Grant:
        """Share without a notification e-mail; never with ``anyone``."""
        ...

    def revoke(self, file_id: str, grant_id: str) -> None:
        """Remove one grant; ``rules.errors.NotFound`` when it is already gone (a refusal is a
        ``SheetAccessError``: the grant is still there)."""
        ...
