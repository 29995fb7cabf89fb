"""Helpers of the layout tests: the example school, grid damage as teachers cause it.

Grids are lists of rows as ``Backend.read`` returns them (trailing empties trimmed); every damage
function returns a new grid and leaves its input alone.
"""

from __future__ import annotations

import copy
import dataclasses
from functools import cache
from pathlib import Path
from typing import Any

from config import load_school
from config.school import School
from sync.backends.protocol import Grid
from sync.layout.common import trimmed

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "example" / "school.toml"


@cache
def example_school(*, diaries: bool = False) -> School:
    """The example school (School is frozen). Its diaries are off unless asked for: the engine
    tests count the journals' calls, the diary tests (``tests/sync/jobs/test_diaries*``) turn
    them on."""
    school = load_school(EXAMPLE, environ={})
    return dataclasses.replace(
        school, diaries=dataclasses.replace(school.diaries, enabled=diaries))


def width(grid: Grid) -> int:
    return max((len(r) for r in grid), default=0)


def padded(grid: Grid) -> list[list[Any]]:
    w = width(grid)
    return [list(r) + [None] * (w - len(r)) for r in grid]


def delete_col(grid: Grid, col: int) -> Grid:
    return trimmed([r[:col] + r[col + 1 :] for r in padded(grid)])


def insert_col(grid: Grid, col: int, values: dict[int, Any] | None = None) -> Grid:
    values = values or {}
    return trimmed([[*r[:col], values.get(i), *r[col:]] for i, r in enumerate(padded(grid))])


def swap_cols(grid: Grid, a: int, b: int) -> Grid:
    rows = padded(grid)
    for r in rows:
        r[a], r[b] = r[b], r[a]
    return trimmed(rows)


def sort_rows(grid: Grid, first: int, key: Any, reverse: bool = False) -> Grid:
    """Sort the rows from ``first`` on (as a teacher sorts the pupils' block)."""
    rows = copy.deepcopy(padded(grid))
    body = sorted(rows[first:], key=key, reverse=reverse)
    return trimmed(rows[:first] + body)


def delete_row(grid: Grid, row: int) -> Grid:
    return trimmed([list(r) for i, r in enumerate(grid) if i != row])


def insert_row(grid: Grid, row: int, values: list[Any]) -> Grid:
    rows = [list(r) for r in grid]
    return trimmed([*rows[:row], list(values), *rows[row:]])


def set_cell(grid: Grid, row: int, col: int, value: Any) -> Grid:
    rows = padded(grid)
    while len(rows) <= row:
        rows.append([None] * width(grid))
    line = rows[row]
    while len(line) <= col:
        line.append(None)
    line[col] = value
    return trimmed(rows)


def find_col(grid: Grid, row: int, text: str) -> int:
    return next(i for i, v in enumerate(grid[row]) if v == text)
