"""The admin spreadsheet "Администрация · 2026/27" and its "Исправления" tab (R7).

A locked cell changes only through a documented correction: the deputy director writes one row —
journal, lesson date (or period), pupil, what to correct, the new value, the reason, the order
number — and signs it ("да"). The service reads the rows (:func:`parse_corrections`), applies or
rejects each, and writes back "применено" / "отклонено: причина" and the time. Columns are found by
their labels; a row's key is the service-written hidden "Код строки" or, until the service has
written it, a hash of the row's content, so sorting the sheet never confuses two rows.
"""

from __future__ import annotations

from config.school import School
from sync.backends.protocol import CellRange, Dropdown, SpreadsheetSpec, Style, TabSpec
from sync.layout.admin.parse import (
    CLEAR,
    INPUT_COLUMNS,
    CorrectionField,
    CorrectionRow,
    correction_columns,
    field_names,
    journal_title,
    parse_corrections,
)
from sync.layout.journal.look import HEADER_FILL
from sync.layout.labels import RU, Labels

__all__ = [
    "CLEAR",
    "CorrectionField",
    "CorrectionRow",
    "admin_spec",
    "correction_columns",
    "field_names",
    "journal_title",
    "parse_corrections",
    "status_text",
]

ADMIN_ROWS = 500  # rows of "Исправления" (the deputy adds rows below)


def admin_spec(school: School, *, labels: Labels = RU) -> SpreadsheetSpec:
    """The admin spreadsheet: one protected tab whose input columns are open to its editors."""
    title = labels.corrections_tab
    columns = correction_columns(labels)
    index = {name: i for i, (name, _) in enumerate(columns)}

    def area(name: str) -> CellRange:
        return CellRange(title, 1, index[name], None, index[name] + 1)

    journals = tuple(journal_title(school, c, s, labels) for c, s in school.journals())
    pupils = tuple(sorted({p.full_name for p in school.pupils}, key=str.casefold))
    lists = _lists_tab(labels, journals, pupils)
    inputs = [index[name] for name in INPUT_COLUMNS]
    tab = TabSpec(
        title=title,
        rows=[[label for _, label in columns]],
        row_count=ADMIN_ROWS,
        col_count=len(columns),
        frozen_rows=1,
        hidden_cols=(index["row_id"],),
        styles=(Style(CellRange(title, 0, 0, 1, len(columns)), bold=True, fill=HEADER_FILL,
                      wrap=True, borders=True),),  # headers read whole, as in the journals
        row_heights={0: 40},
        print_wide=True,
        text_ranges=(CellRange(title, 1, min(inputs), None, max(inputs) + 1),),
        dropdowns=(
            Dropdown(area("journal"), journals, source=_column(lists, 0, len(journals))),
            Dropdown(area("pupil"), pupils, source=_column(lists, 1, len(pupils))),
            Dropdown(area("field"), tuple(field_names(school, labels).values())),
            Dropdown(area("signed"), (labels.yes, labels.no)),
        ),
        col_widths={
            0: 90,
            1: 170,
            2: 120,
            3: 200,
            4: 130,
            5: 110,
            6: 260,
            7: 90,
            8: 110,
            9: 220,
            10: 130,
        },
        open_ranges=(CellRange(title, 1, min(inputs), None, max(inputs) + 1),),
    )
    name = labels.admin_name.format(year=school.year.name)
    return SpreadsheetSpec(name, (tab, lists), folder=school.backend.shared_drive_folder_id,
                           private=True)


def _lists_tab(labels: Labels, journals: tuple[str, ...], pupils: tuple[str, ...]) -> TabSpec:
    """The hidden tab the journal and pupil dropdowns take their values from: a range, not a
    literal list, so any number of journals (and names with commas) works on both backends."""
    rows: list[list[object]] = [[labels.journal, labels.correction_pupil]]
    for i in range(max(len(journals), len(pupils))):
        rows.append([journals[i] if i < len(journals) else "",
                     pupils[i] if i < len(pupils) else ""])
    return TabSpec(title=labels.lists_tab, rows=rows, row_count=max(len(rows), 2), col_count=2,
                   hidden=True, col_widths={0: 220, 1: 260})


def _column(lists: TabSpec, col: int, count: int) -> CellRange:
    """The values of one list (under its header) on the lists tab."""
    return CellRange(lists.title, 1, col, 1 + max(count, 1), col + 1)


def status_text(problems: tuple[str, ...] | str | None = None, labels: Labels = RU) -> str:
    """ "применено", or "отклонено: причина; причина"."""
    if not problems:
        return labels.applied
    reason = problems if isinstance(problems, str) else "; ".join(problems)
    return labels.rejected.format(reason=reason)
