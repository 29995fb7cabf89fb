"""A repair the cycle makes, and the «Замечания» written in the same cycle (emulator, real gspread).

Rows sorted by a person and a date column with no lesson inserted: the cycle re-lays out the
period tab, and its one write carries «Замечания» naming the cells where they are after the
repair, and a warning for every value the repair took off the sheet, shown for a week.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from sync.jobs.cycle import run_cycle
from sync.jobs.repair import rebuild_all
from sync.jobs.repair_findings import DROPPED_SHOWN
from sync.jobs.repair_tabs import restore_tabs
from sync.layout.common import cell_text
from sync.layout.labels import RU
from sync.ledger.model import FileKind
from tests.sync.engine_fixtures import DAY, ORGANIZER, EngineRig, at, make_rig

CLASS, SUBJECT = "7Б", "algebra"
Q1 = "1 четверть"


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[EngineRig]:
    rig = make_rig(tmp_path, journals=[(CLASS, SUBJECT)], start=at(DAY, 9))
    run_cycle(rig.svc)
    yield rig
    rig.close()
    assert rig.emu.bugs == []


def _worksheet(rig: EngineRig) -> Any:
    return rig.client(ORGANIZER).open_by_key(rig.journal(CLASS, SUBJECT).id).worksheet(Q1)


def _lines(rig: EngineRig) -> list[list[str]]:
    grid = rig.findings_tab(rig.journal(CLASS, SUBJECT).id)
    return [[cell_text(v) for v in row] for row in grid[1:] if any(cell_text(v) for v in row)]


def _service(rig: EngineRig, pupil_id: str) -> tuple[str, str]:
    """«Средний балл» and «Рекомендуемая» of a pupil on «1 четверть», as the sheet shows them."""
    tab = rig.reading(CLASS, SUBJECT).map.periods[Q1]
    grid = rig.grids(rig.journal(CLASS, SUBJECT).id, findings=False)[Q1]
    row = grid[tab.rows[pupil_id]]
    cols = (tab.average_col, tab.recommended_col)
    return tuple(cell_text(row[c]) if c is not None and c < len(row) else "" for c in cols)  # type: ignore[return-value]


def test_rebuild_leaves_findings_and_averages_complete(rig: EngineRig) -> None:
    file_id = rig.journal(CLASS, SUBJECT).id
    pupils = sorted(rig.school.pupils_in(CLASS), key=lambda p: (p.last_name, p.first_name))
    who = rig.teacher_email(CLASS, SUBJECT)
    rig.type(who, file_id, rig.cell(CLASS, SUBJECT, pupils[0].id, DAY), "4")
    rig.type(who, file_id, rig.cell(CLASS, SUBJECT, pupils[1].id, DAY), "Z")
    run_cycle(rig.svc)
    ws = _worksheet(rig)
    grid = rig.grids(file_id)[Q1]
    body = sorted(grid[5:], key=lambda r: str(r[2]), reverse=True)
    ws.update([list(r) + [""] * (max(map(len, body)) - len(r)) for r in body], "A6", raw=True)
    ws.update([[""] * 12], "A8", raw=True)  # a row's content wiped, its id with it

    summary = rebuild_all(rig.svc, now=rig.now())

    assert not summary.failed
    assert _service(rig, pupils[0].id) == ("4", "н/а")  # 1 mark, the example's minimum is 3
    z_cell = rig.cell(CLASS, SUBJECT, pupils[1].id, DAY).a1().split("!")[1].split(":")[0]
    lines = _lines(rig)
    assert [x[0] for x in lines if "«Z»" in x[1]] == [f"{Q1}, {z_cell}"]
    assert z_cell == "G7"  # roster order again: the 2nd pupil, the 8 September column


def _sort_and_insert(rig: EngineRig) -> None:
    """The organizer sorts the pupils Я → А, then inserts «10.09» (no algebra lesson) holding a «5»
    in the row of the first pupil shown."""
    ws = _worksheet(rig)
    grid = rig.grids(rig.journal(CLASS, SUBJECT).id)[Q1]
    body = sorted(grid[5:], key=lambda r: str(r[2]), reverse=True)
    width = max(len(r) for r in body)
    ws.update([list(r) + [""] * (width - len(r)) for r in body], "A6", raw=True)
    ws.insert_cols([["", "", "10.09", "", "", "5"]], col=5)


def test_repair_writes_findings_at_the_repaired_cells_and_the_dropped_value(rig: EngineRig) -> None:
    file_id = rig.journal(CLASS, SUBJECT).id
    pupils = sorted(rig.school.pupils_in(CLASS), key=lambda p: (p.last_name, p.first_name))
    last = pupils[-1]  # first row once sorted Я → А: the «5» on 10.09 is typed for them
    who = rig.teacher_email(CLASS, SUBJECT)
    rig.type(who, file_id, rig.cell(CLASS, SUBJECT, pupils[1].id, DAY), "7")  # not a mark
    rig.type(who, file_id, rig.cell(CLASS, SUBJECT, pupils[0].id, DAY), "5")
    rig.type(who, file_id, rig.cell(CLASS, SUBJECT, pupils[2].id, DAY), "3")
    run_cycle(rig.svc)
    before = rig.cell(CLASS, SUBJECT, pupils[1].id, DAY)  # roster order: row 7 (the 2nd pupil)
    _sort_and_insert(rig)
    moved = rig.cell(CLASS, SUBJECT, pupils[1].id, DAY)
    assert moved.a1() != before.a1()  # the «7» sits elsewhere now (row and column)

    rig.emu.reset_counters()
    summary = run_cycle(rig.svc)
    assert rig.calls()["sheets_write"] == 1  # the repair's one write carries «Замечания»
    assert summary.tally.findings_open >= 2
    after = rig.cell(CLASS, SUBJECT, pupils[1].id, DAY)
    assert after.a1() == before.a1()  # re-laid out: roster order, no extra column
    lines = _lines(rig)
    seven = [line for line in lines if "«7»" in line[1]]
    assert [line[0] for line in seven] == [f"{Q1}, {after.a1().split('!')[1].split(':')[0]}"]
    dropped = [line for line in lines if "10.09.2026" in line[1] and "«5»" in line[1]]
    assert len(dropped) == 1, '\n'.join(map(str, lines))
    assert f"{last.last_name} {last.first_name}" in dropped[0][1]
    assert "столбец урока" in dropped[0][1]
    # one mark each: the average is that mark; «н/а» below the example's minimum of 3 marks
    assert _service(rig, pupils[0].id) == ("5", "н/а")
    assert _service(rig, pupils[2].id) == ("3", "н/а")
    assert _service(rig, pupils[1].id) == ("", "")  # «7» is no mark

    rig.set_now(rig.now() + timedelta(days=1))
    run_cycle(rig.svc)  # the column is gone: the value's warning is still shown
    assert len([x for x in _lines(rig) if "10.09.2026" in x[1]]) == 1
    rig.type(who, file_id, rig.cell(CLASS, SUBJECT, pupils[1].id, DAY), "")
    rig.set_now(at(DAY, 9) + DROPPED_SHOWN + timedelta(hours=1))
    run_cycle(rig.svc)  # a week later: resolved (the repair's audit event keeps the value)
    assert not [x for x in _lines(rig) if "10.09.2026" in x[1]]


def test_a_deleted_list_tab_of_the_admin_sheet_is_made_again(rig: EngineRig) -> None:
    with rig.svc.ledger.snapshot() as tx:
        (admin,) = tx.files(FileKind.ADMIN)
    book = rig.client(ORGANIZER).open_by_key(admin.id)
    book.del_worksheet(book.worksheet(RU.lists_tab))
    rig.emu.reset_counters()
    assert restore_tabs(rig.svc, admin, now=rig.now())
    assert rig.calls() == {"drive": 0, "sheets_read": 2, "sheets_write": 1}  # tabs, read, write
    grid = rig.inspector.read(admin.id, [RU.lists_tab])[RU.lists_tab]
    assert [cell_text(r[0]) for r in grid[1:] if r and cell_text(r[0])] == ["7Б · Алгебра"]
    names = [cell_text(r[1]) for r in grid[1:] if len(r) > 1 and cell_text(r[1])]
    assert len(names) == len({p.full_name for p in rig.school.pupils})  # every pupil, once
    assert RU.corrections_tab in rig.inspector.tabs(admin.id)  # the deputy's rows untouched
