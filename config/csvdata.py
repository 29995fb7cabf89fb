"""Reading the school's CSV files: every defect becomes a Problem with file, line and column.

Format (the same for every file):

* UTF-8, with or without the BOM that Excel writes;
* separator ``,`` or ``;`` (Russian Excel exports use ``;``) — detected from the header line;
* the first line is the header with the canonical **English** column names listed in
  :mod:`config.records`; column order is free; an optional ``comment`` column is ignored;
* values are Russian text as written; surrounding spaces are stripped; empty lines are skipped;
* dates as ``2026-09-01`` or ``01.09.2026`` (what Russian Excel shows); booleans ``yes/no``,
  ``true/false``, ``1/0``, ``да/нет``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from config.problems import Problems, line_where, suggestion

IGNORED_COLUMNS = ("comment",)
_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$")
_TRUE = {"yes", "true", "1", "да", "y"}
_FALSE = {"no", "false", "0", "нет", "n"}


@dataclass(frozen=True, slots=True)
class Row:
    line: int  # 1-based physical line where the record starts
    values: dict[str, str]


@dataclass(frozen=True, slots=True)
class Table:
    file: str  # as shown in problems: relative to the config folder
    rows: tuple[Row, ...]


def read_bytes(path: Path, file: str, problems: Problems) -> bytes | None:
    """The file's bytes, or None with a Problem (missing, a folder, unreadable)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        problems.add(file, "", "file not found")
    except IsADirectoryError:
        problems.add(file, "", "is a folder, expected a file")
    except OSError as exc:
        problems.add(file, "", f"cannot be read: {exc.strerror or exc}")
    return None


def decode(data: bytes, file: str, problems: Problems) -> str | None:
    """UTF-8 text without BOM, or None with a Problem naming the line of the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        problems.add(
            file,
            f"line {line}",
            "is not UTF-8 text (in Excel: «Сохранить как» → «CSV UTF-8»)",
        )
        return None


def read_table(
    path: Path,
    file: str,
    required: Sequence[str],
    optional: Sequence[str],
    problems: Problems,
    data: bytes | None = None,
) -> Table | None:
    """Parse a CSV file into rows keyed by column name; None if the file or its header is unusable.

    ``data`` may be passed when the caller already read the bytes (for the config version)."""
    if data is None:
        data = read_bytes(path, file, problems)
        if data is None:
            return None
    text = decode(data, file, problems)
    if text is None:
        return None
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    if not first:
        problems.add(file, "", f"file is empty; expected the header: {','.join(required)}")
        return None
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    rows: list[Row] = []
    start = 1
    try:
        for record in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = _check_header(record, line, file, required, optional, problems)
                if header is None:
                    return None
                continue
            if len(record) > len(header) and any(c.strip() for c in record[len(header) :]):
                problems.add(
                    file, line_where(line), f"{len(record)} values for {len(header)} columns"
                )
                continue
            values = {
                h: (record[i].strip() if i < len(record) else "") for i, h in enumerate(header)
            }
            rows.append(Row(line, values))
    except csv.Error as exc:
        problems.add(file, line_where(reader.line_num), f"broken CSV: {exc}")
        return None
    return Table(file, tuple(rows))


def _check_header(
    record: list[str],
    line: int,
    file: str,
    required: Sequence[str],
    optional: Sequence[str],
    problems: Problems,
) -> list[str] | None:
    header = [cell.strip().lower() for cell in record]
    known = (*required, *optional, *IGNORED_COLUMNS)
    ok = True
    for name in header:
        if name and name not in known:
            problems.add(file, line_where(line, name), f"unknown column{suggestion(name, known)}")
            ok = False
    for name in dict.fromkeys(header):
        if name and header.count(name) > 1:
            problems.add(file, line_where(line, name), "column appears twice")
            ok = False
    for name in required:
        if name not in header:
            problems.add(file, line_where(line), f"header is missing the column {name!r}")
            ok = False
    return header if ok else None


class Fields:
    """Typed access to one row's values; each bad value adds a Problem and yields None."""

    def __init__(self, table: Table, row: Row, problems: Problems) -> None:
        self.file, self.row, self.problems = table.file, row, problems
        self.ok = True

    @property
    def line(self) -> int:
        return self.row.line

    def problem(self, column: str | None, message: str) -> None:
        self.ok = False
        self.problems.add(self.file, line_where(self.row.line, column), message)

    def text(self, column: str, required: bool = True) -> str | None:
        value = self.row.values.get(column, "")
        if not value:
            if required:
                self.problem(column, "value is required")
            return None
        return value

    def integer(self, column: str, lo: int, hi: int, required: bool = True) -> int | None:
        value = self.text(column, required)
        if value is None:
            return None
        try:
            number = int(value)
        except ValueError:
            self.problem(column, f"expected a whole number, got {value!r}")
            return None
        if not lo <= number <= hi:
            self.problem(column, f"{number} is out of range {lo}..{hi}")
            return None
        return number

    def day(self, column: str, required: bool = True) -> date | None:
        value = self.text(column, required)
        if value is None:
            return None
        parsed = parse_date(value)
        if parsed is None:
            self.problem(column, f"invalid date {value!r} (use 2026-09-01 or 01.09.2026)")
        return parsed

    def email(self, column: str, required: bool = True) -> str | None:
        value = self.text(column, required)
        if value is not None and not _EMAIL.match(value):
            self.problem(column, f"invalid e-mail address {value!r}")
            return None
        return value.lower() if value else None

    def boolean(self, column: str, default: bool) -> bool:
        value = (self.text(column, required=False) or "").lower()
        if not value:
            return default
        if value in _TRUE:
            return True
        if value not in _FALSE:
            self.problem(column, f"expected yes or no, got {value!r}")
        return False if value in _FALSE else default


def parse_date(value: str) -> date | None:
    """``2026-09-01`` or ``01.09.2026``; None if neither or not a real date."""
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value) or re.fullmatch(
        r"(\d{1,2})\.(\d{1,2})\.(\d{4})", value
    )
    if match is None:
        return None
    a, b, c = (int(g) for g in match.groups())
    year, month, day = (a, b, c) if len(match.group(1)) == 4 else (c, b, a)
    try:
        return date(year, month, day)
    except ValueError:
        return None
