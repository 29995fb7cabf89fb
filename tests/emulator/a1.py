"""A1 notation <-> grid coordinates, the way the Sheets v4 API reads and echoes ranges.

Coordinates are 0-based and half-open (like ``GridRange``): ``A1:B2`` is rows [0, 2), columns
[0, 2). ``None`` means "unbounded" on that side. Echo rules (cassette-verified): a single cell is
echoed as ``D4`` (not ``D4:D4``), the sheet name is quoted only when needed (``Sheet1`` bare,
``'D3'`` and ``'🌵 x'`` quoted), unbounded sides are clipped to the grid for the echo.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import invalid_argument

_PART = re.compile(r"^([A-Za-z]{0,3})(\d*)$")
_BARE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LOOKS_LIKE_REF = re.compile(r"^([A-Za-z]{1,3}\d+|[Rr]\d+[Cc]\d+|[A-Za-z]{1,3}|\d+)$")


def col_to_letters(col: int) -> str:
    """0-based column index -> ``A``, ``Z``, ``AA`` …"""
    out = ""
    n = col + 1
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def letters_to_col(letters: str) -> int:
    """``A`` -> 0, ``AA`` -> 26 (case-insensitive)."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def quote_sheet_name(title: str) -> str:
    """Quote a sheet title for an echoed range only when Google does (``Sheet1`` vs ``'D3'``)."""
    if _BARE_NAME.match(title) and not _LOOKS_LIKE_REF.match(title):
        return title
    return "'" + title.replace("'", "''") + "'"


@dataclass(frozen=True, slots=True)
class A1Ref:
    """A parsed A1 range: optional sheet title plus 0-based half-open bounds (None = open)."""

    sheet: str | None
    r0: int | None
    r1: int | None
    c0: int | None
    c1: int | None


def split_sheet(text: str) -> tuple[str | None, str | None]:
    """Split ``'It''s'!A1`` into (``It's``, ``A1``); a bare text returns (None, text)."""
    if text.startswith("'"):
        i = 1
        name = []
        while i < len(text):
            ch = text[i]
            if ch == "'":
                if i + 1 < len(text) and text[i + 1] == "'":
                    name.append("'")
                    i += 2
                    continue
                break
            name.append(ch)
            i += 1
        else:
            return None, text  # unterminated quote: treat as unparsable cells part
        rest = text[i + 1 :]
        if rest == "":
            return "".join(name), None
        if rest.startswith("!"):
            return "".join(name), rest[1:]
        return None, text
    if "!" in text:
        name, _, cells = text.rpartition("!")
        return name, cells
    return None, text


def parse_cells(cells: str) -> tuple[int | None, int | None, int | None, int | None] | None:
    """Parse the cell part (``A1``, ``A1:B2``, ``A:C``, ``2:5``, ``A2:C``) or return None."""
    parts = cells.split(":")
    if len(parts) > 2 or not cells:
        return None
    ends = []
    for p in parts:
        m = _PART.match(p.strip())
        if not m or (not m.group(1) and not m.group(2)):
            return None
        col = letters_to_col(m.group(1)) if m.group(1) else None
        row = int(m.group(2)) - 1 if m.group(2) else None
        if row is not None and row < 0:
            return None
        ends.append((row, col))
    if len(ends) == 1:
        row, col = ends[0]
        if row is None or col is None:
            return None  # "A" or "5" alone is not a range
        return row, row + 1, col, col + 1
    (ra, ca), (rb, cb) = ends
    if (ra is None and ca is not None and cb is None and rb is not None) or (
        ca is None and ra is not None and rb is None and cb is not None
    ):
        return None  # "A:5" / "5:A" mix a column-only end with a row-only end
    if ra is not None and rb is not None and ra > rb:
        ra, rb = rb, ra
    if ca is not None and cb is not None and ca > cb:
        ca, cb = cb, ca
    r0 = ra if ra is not None else (0 if rb is not None else None)
    r1 = rb + 1 if rb is not None else None
    c0 = ca if ca is not None else (0 if cb is not None else None)
    c1 = cb + 1 if cb is not None else None
    if ra is None and rb is None and (ca is None or cb is None):
        return None
    if ca is None and cb is None and (ra is None or rb is None):
        return None
    return r0, r1, c0, c1


def parse_a1(text: str, titles: set[str]) -> A1Ref:
    """Parse a range as Google does; unknown sheet or bad syntax -> 400 "Unable to parse range"."""
    sheet, cells = split_sheet(text)
    if sheet is None and cells is not None and cells in titles:
        return A1Ref(cells, None, None, None, None)
    if sheet is not None and sheet not in titles:
        raise invalid_argument(f"Unable to parse range: {text}")
    if cells is None:
        return A1Ref(sheet, None, None, None, None)
    bounds = parse_cells(cells)
    if bounds is None:
        raise invalid_argument(f"Unable to parse range: {text}")
    return A1Ref(sheet, *bounds)


def format_range(title: str, r0: int, r1: int, c0: int, c1: int) -> str:
    """Echo form of a bounded range: ``Sheet1!A1:B2``; single cell ``Sheet1!B1``."""
    start = f"{col_to_letters(c0)}{r0 + 1}"
    if r1 - r0 == 1 and c1 - c0 == 1:
        return f"{quote_sheet_name(title)}!{start}"
    return f"{quote_sheet_name(title)}!{start}:{col_to_letters(c1 - 1)}{r1}"
