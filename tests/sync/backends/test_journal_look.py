"""The journal's look, read back from both backends: what a teacher sees when opening the file.

A journal of the example school (7Б, алгебра; the electronic journal started on 14.10.2026, so
the 1st quarter was begun on paper) is created on the local backend (read back with openpyxl) and
on Google (the emulator's stored formats); the Google layout costs one Drive call and one Sheets
write, and an idle read leaves formats untouched.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from config.school import School
from sync.backends.local.backend import LocalBackend
from sync.backends.protocol import SpreadsheetSpec
from sync.layout.common import spec_grids
from sync.layout.journal.spec import journal_spec, parse_journal
from tests.sync.backend_helpers import SVC, GoogleRig, google_rig
from tests.sync.layout_helpers import example_school

SHEETS = "https://sheets.googleapis.com/v4/spreadsheets"
Q1, Q2 = "1 четверть", "2 четверть"
TODAY = date(2026, 11, 20)  # in the 2nd quarter
HEAD, WEEKDAY, TYPES, FIRST = 2, 3, 4, 5  # header, weekday, «Вид работы», first pupil (0-based)


@pytest.fixture(scope="module")
def school() -> School:
    base = example_school()
    year = dataclasses.replace(base.year, journal_start=date(2026, 10, 14))
    return dataclasses.replace(base, year=year)


@pytest.fixture
def rig() -> Iterator[GoogleRig]:
    rig = google_rig()
    yield rig
    rig.close()
    assert rig.emu.bugs == []


def spec(school: School) -> SpreadsheetSpec:
    lessons = school.lessons()[("7Б", "algebra")]
    return journal_spec(school, "7Б", "algebra", lessons, today=TODAY)


def test_the_spec_names_months_weekdays_and_the_current_period(school: School) -> None:
    built = spec(school)
    q1 = built.tabs[0]
    assert built.active_tab == Q2  # 20.11 lies in the 2nd quarter
    assert q1.rows[HEAD][3:5] == ["01.09", "02.09"]
    assert q1.rows[WEEKDAY][3:5] == ["вт", "ср"]  # 01.09.2026 was a Tuesday
    assert q1.rows[1][3] == "Сентябрь" and q1.rows[1][4] == ""
    october = next(i for i, h in enumerate(q1.rows[HEAD]) if str(h).endswith(".10"))
    assert q1.rows[1][october] == "Октябрь"
    assert q1.rows[0][3] == (date(2026, 9, 1) - date(1899, 12, 30)).days  # 46266
    assert q1.rows[1][2] == "н — не был, оп — опоздал, • — долг, 5/4 — две отметки за урок"
    assert q1.notes[(1, 2)].startswith("Зелёный столбец — сегодняшний урок; серые — прошедшие")
    avg = q1.rows[HEAD].index("Средний балл")
    assert q1.notes[(HEAD, avg)].startswith("Не считается: часть периода («1 четверть») до "
                                            "14.10.2026")
    assert q1.rows[1][avg] == "не считаются — см. примечание"
    assert set(built.tabs[1].notes) == {(1, 2)}  # the 2nd quarter is wholly electronic


def test_local_journal_reads_back_styled(school: School, tmp_path: Path) -> None:
    backend = LocalBackend(folder=tmp_path)
    file_id = backend.create(spec(school)).id
    wb = openpyxl.load_workbook(backend.path(file_id))
    assert wb.active.title == Q2
    ws = wb[Q1]
    assert ws.freeze_panes == "D6"
    assert ws.row_dimensions[1].hidden is True
    header = ws.cell(HEAD + 1, 4)
    assert header.value == "01.09" and header.font.b
    assert header.fill.fgColor.rgb == "FFDCE6F1"
    assert header.border.left.style == "thin" and ws.cell(FIRST + 1, 4).border.bottom.style == "thin"
    turned = ws.cell(TYPES + 1, 4).alignment
    assert (turned.wrap_text, turned.text_rotation, turned.vertical) == (True, 90, "bottom")
    assert ws.cell(2, 4).value == "Сентябрь" and ws.cell(2, 4).font.b
    rules = {(str(cf.sqref), r.formula[0]) for cf in ws.conditional_formatting for r in cf.rules}
    n = sum(1 for x in school.lessons()[("7Б", "algebra")] if x.period == Q1)
    area = f"D3:{get_column_letter(3 + n)}{FIRST + len(school.pupils_in('7Б'))}"
    assert {(area, "D$1=TODAY()"), (area, "D$1<TODAY()")} <= rules
    avg = [c.value for c in ws[HEAD + 1]].index("Средний балл") + 1
    assert ws.cell(HEAD + 1, avg).comment.text.startswith("Не считается")
    assert ws.cell(FIRST + 1, avg).fill.fgColor.rgb == "FFF2F2F2"
    # printed as the LibreOffice render showed it should be: a period on one landscape page wide
    # (it came out in portrait slices of five dates, 18 pages for one journal)
    assert ws.page_setup.orientation == "landscape"
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)


def test_google_journal_stores_the_look_in_one_write(school: School, rig: GoogleRig) -> None:
    info = rig.backend.create(spec(school))
    calls = {k: rig.emu.calls_total(k, SVC) for k in ("drive", "sheets_read", "sheets_write")}
    assert calls == {"drive": 1, "sheets_read": 0, "sheets_write": 1}
    sheet = _grid(rig, info.id, f"'{Q1}'!A1:F7")
    props = sheet["properties"]["gridProperties"]
    assert (props["frozenRowCount"], props["frozenColumnCount"]) == (FIRST, 3)
    assert sheet["data"][0]["rowMetadata"][0].get("hiddenByUser") is True
    rows = sheet["data"][0]["rowData"]
    head = rows[HEAD]["values"][3]["userEnteredFormat"]
    assert head["textFormat"]["bold"] is True and head["horizontalAlignment"] == "CENTER"
    assert head["backgroundColor"] == pytest.approx(
        {"red": 0xDC / 255, "green": 0xE6 / 255, "blue": 0xF1 / 255}, abs=1e-6)
    assert set(head["borders"]) == {"top", "bottom", "left", "right"}
    turned = rows[TYPES]["values"][3]["userEnteredFormat"]
    assert turned["wrapStrategy"] == "WRAP" and turned["textRotation"] == {"angle": 90}
    assert turned["verticalAlignment"] == "BOTTOM"
    mark = rows[FIRST]["values"][3]["userEnteredFormat"]
    assert mark["numberFormat"]["type"] == "TEXT" and mark["borders"]["left"]["style"] == "SOLID"
    formulas = [c["booleanRule"]["condition"] for c in sheet["conditionalFormats"]]
    assert {"type": "CUSTOM_FORMULA", "values": [{"userEnteredValue": "=D$1=TODAY()"}]} in formulas
    assert {"type": "CUSTOM_FORMULA", "values": [{"userEnteredValue": "=D$1<TODAY()"}]} in formulas
    rig.emu.reset_counters()
    rig.backend.read(info.id, [Q1])
    assert rig.emu.calls_total("sheets_write", SVC) == 0


def test_google_journal_carries_the_withheld_note(school: School, rig: GoogleRig) -> None:
    built = spec(school)
    info = rig.backend.create(built)
    avg = built.tabs[0].rows[HEAD].index("Средний балл")
    sheet = _grid(rig, info.id, f"'{Q1}'!A3:ZZ3")
    cell = sheet["data"][0]["rowData"][0]["values"][avg]
    assert cell["note"].startswith("Не считается: часть периода")


def _grid(rig: GoogleRig, fid: str, a1: str) -> dict[str, Any]:
    gc = rig.emu.client(SVC)
    fields = ("sheets(properties,conditionalFormats,data(rowMetadata,rowData(values("
              "userEnteredValue,userEnteredFormat,note))))")
    sheets = gc.http_client.request("get", f"{SHEETS}/{fid}", params={
        "ranges": a1, "includeGridData": "true", "fields": fields}).json()["sheets"]
    return dict(sheets[0])


def test_a_pass_fail_journal_has_its_own_legend_and_no_averages(school: School) -> None:
    lessons = school.lessons()[("5А", "odnknr")]
    built = journal_spec(school, "5А", "odnknr", lessons, today=TODAY)
    q1 = built.tabs[0]
    assert q1.rows[HEAD][-1] == "Четверть" and "Средний балл" not in q1.rows[HEAD]
    assert q1.rows[1][2] == "зач — зачтено, незач — не зачтено, н — не был, оп — опоздал, • — долг"
    assert q1.dropdowns[0].values == ("зач", "незач", "н", "оп", "•")
    reading = parse_journal(spec_grids(built), school, "5А", "odnknr", lessons)
    assert reading.problems == () and reading.map.periods["1 четверть"].average_col is None
