"""Findings of a journal whose tabs the cycle is about to re-lay out (``sync.jobs.repair``).

A repair moves cells (rows back in roster order, inserted columns gone) and takes off the sheet
what the parser could not place (a date column with no lesson, a column of notes). So that the
repair's one write can carry a «Замечания» that is true after it:

* :func:`repaired_map` — where every cell will be once the repair is written (the layout rendered
  from the values the repair will render, parsed back; pure, no I/O);
* ``sync.layout.journal.moves.relocate`` — the findings' cells moved from where they were read
  to those positions; a finding on a cell the repair removes is dropped (the sheet no longer
  shows what it is about: the value it held gets its own warning below, a stray heading holds
  nothing to lose);
* :func:`remember_dropped` / :func:`dropped_findings` — every value the repair takes off the sheet
  is kept in the ledger's state and shown on «Замечания» (rule ``value_dropped``, a warning
  naming the pupil, the column's date or heading and the value) for :data:`DROPPED_SHOWN` after the
  repair, then resolved; the values are in the repair's audit event for good.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from rules.model import Finding, Location, Severity
from sync.backends.protocol import Grid
from sync.jobs.repair import with_open_cells
from sync.jobs.service import Service
from sync.jobs.spreadsheets import ledger_values
from sync.layout.common import cell_text, date_text, spec_grids
from sync.layout.journal.map import JournalMap
from sync.layout.journal.moves import tab_of
from sync.layout.journal.spec import JournalReading, journal_spec, parse_journal
from sync.ledger.ledger import Tx
from sync.ledger.state import DROPPED_VALUES_KEY

DROPPED_SHOWN = timedelta(days=7)  # a week: every teacher opens each of their journals in it
DROPPED_RULE = "value_dropped"



def repaired_map(svc: Service, tx: Tx, key: str, class_id: str, subject_id: str,
                 reading: JournalReading, now: datetime) -> JournalMap:
    """The journal's map once its ``reading.repair_tabs`` are re-laid out from the ledger (as
    ``tx`` holds it now, open cells as read) — the same rendering ``sync.jobs.repair`` writes."""
    values = with_open_cells(ledger_values(tx, key), reading, tx.locked(key))
    lessons = sorted(svc.school.lessons().get((class_id, subject_id), []),
                     key=lambda x: (x.day, x.lesson_no))
    spec = journal_spec(svc.school, class_id, subject_id, lessons, today=now.date(),
                        existing=values)
    fresh = parse_journal(spec_grids(spec), svc.school, class_id, subject_id, lessons).map
    redone = set(reading.repair_tabs) | set(reading.renames.values())
    periods = {name: (fresh.periods[name] if tab.title in redone and name in fresh.periods
                      else tab)
               for name, tab in reading.map.periods.items()}
    periods.update((n, t) for n, t in fresh.periods.items() if n not in periods)
    old_lessons = reading.map.lessons_tab
    lessons_tab = (fresh.lessons_tab if old_lessons is None or old_lessons.title in redone
                   else old_lessons)
    return JournalMap(periods, lessons_tab, reading.map.findings_tab or fresh.findings_tab)


def remember_dropped(tx: Tx, file_id: str, reading: JournalReading, grids: Mapping[str, Grid],
                     now: datetime) -> int:
    """Keep, in the ledger's state, every value the coming repair takes off the sheet (cells of
    the re-laid-out tabs the parser did not place); returns how many were added."""
    tabs = set(reading.repair_tabs)
    by_cell = {s.cell: (s.pupil_id, s.raw, date_text(s.day)) for s in reading.stray}
    by_cell.update((c.cell, (None, c.raw, "")) for c in reading.ignored if c.cell not in by_cell)
    kept = _load(tx, file_id)
    added = 0
    for cell, (pupil, raw, day) in by_cell.items():
        tab = tab_of(cell)
        text = cell_text(raw)
        if tab not in tabs or not text:
            continue
        item = {"tab": tab, "cell": cell.rpartition("!")[2],
                "pupil": pupil or _pupil_at(reading.map, tab, cell),
                "column": day or _heading(reading.map, grids, tab, cell), "raw": text}
        if any(all(x.get(k) == v for k, v in item.items()) for x in kept):
            continue  # read again after a repair that failed: kept once, with its first time
        kept.append({**item, "since": now.isoformat()})
        added += 1
    if added:
        tx.state_set(DROPPED_VALUES_KEY.format(file_id=file_id), json.dumps(kept, ensure_ascii=False),
                     now)
    return added


def dropped_findings(tx: Tx, file_id: str, journal: str, pupil_name: Callable[[str], str],
                     now: datetime) -> list[Finding]:
    """The warnings for the values a repair took off the sheet within :data:`DROPPED_SHOWN`
    (older ones are forgotten here; the repair's audit event keeps them)."""
    kept = _load(tx, file_id)
    fresh = [x for x in kept if datetime.fromisoformat(x["since"]) + DROPPED_SHOWN > now]
    if len(fresh) != len(kept):
        tx.state_set(DROPPED_VALUES_KEY.format(file_id=file_id),
                     json.dumps(fresh, ensure_ascii=False), now)
    out = []
    for x in fresh:
        who = f"{pupil_name(x['pupil'])}, " if x["pupil"] else ""
        column = f"столбец «{x['column']}»" if x["column"] else f"клетка {x['cell']}"
        since = datetime.fromisoformat(x["since"]).strftime("%d.%m.%Y")
        text = (f"{who}лист «{x['tab']}», {column}: «{x['raw']}» не принято — такого урока в "
                f"журнале нет; {since} сервис восстановил лист и убрал это значение. Если это "
                "отметка, впишите её в столбец урока.")
        where = Location(journal, x["pupil"], None, None, None)
        out.append(Finding(DROPPED_RULE, Severity.WARNING, where, text))
    return out


def _load(tx: Tx, file_id: str) -> list[dict[str, str]]:
    text = tx.state_get(DROPPED_VALUES_KEY.format(file_id=file_id))
    return list(json.loads(text)) if text else []


def _row_col(cell: str) -> tuple[int, int]:
    ref = cell.rpartition("!")[2]
    letters = "".join(c for c in ref if c.isalpha()).upper()
    col = 0
    for c in letters:
        col = col * 26 + ord(c) - 64
    return int("".join(c for c in ref if c.isdigit())) - 1, col - 1


def _pupil_at(where: JournalMap, tab: str, cell: str) -> str | None:
    row = _row_col(cell)[0]
    return next((t.pupil_at.get(row) for t in where.periods.values() if t.title == tab), None)


def _heading(where: JournalMap, grids: Mapping[str, Grid], tab: str, cell: str) -> str:
    """The text of the cell's column in the tab's header row (a date as the teacher typed it)."""
    found = next((t for t in where.periods.values() if t.title == tab), None)
    if found is None:
        return ""
    col = _row_col(cell)[1]
    grid = grids.get(tab, [])
    row = grid[found.header_row] if found.header_row < len(grid) else []
    return cell_text(row[col]) if col < len(row) else ""
