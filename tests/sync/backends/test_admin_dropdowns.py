"""The admin sheet's journal and pupil dropdowns take their values from a hidden list tab
(ONE_OF_RANGE on Sheets, a list over a range in xlsx): every journal of the example school (44,
far over an xlsx literal's 255 characters) is offered, in one write, on both backends; and the
emulator refuses a ONE_OF_RANGE that names no tab, as Sheets refuses an unparsable range."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from gspread.exceptions import APIError

from sync.backends.local.backend import LocalBackend
from sync.layout.admin.spec import admin_spec, journal_title
from sync.layout.labels import RU
from tests.sync.backend_helpers import GoogleRig, google_rig
from tests.sync.layout_helpers import example_school

SHEETS = "https://sheets.googleapis.com/v4/spreadsheets"
FIELDS = "sheets(properties,data(rowData(values(userEnteredValue,dataValidation))))"


@pytest.fixture
def rig() -> Iterator[GoogleRig]:
    rig = google_rig()
    yield rig
    rig.close()


def _expected() -> tuple[list[str], list[str]]:
    school = example_school()
    journals = [journal_title(school, c, s) for c, s in school.journals()]
    pupils = sorted({p.full_name for p in school.pupils}, key=str.casefold)
    return journals, pupils


def _sheets(rig: GoogleRig, fid: str) -> dict[str, Any]:
    gc = rig.emu.client(rig.emu.service_principal)
    found = gc.http_client.request("get", f"{SHEETS}/{fid}", params={
        "ranges": [f"'{RU.corrections_tab}'!B2:D2", f"'{RU.lists_tab}'!A1:B400"],
        "includeGridData": "true", "fields": FIELDS}).json()["sheets"]
    return {s["properties"]["title"]: s for s in found}


def test_google_dropdowns_read_the_hidden_list_tab(rig: GoogleRig) -> None:
    journals, pupils = _expected()
    assert len(journals) == 44 and len(",".join(journals)) > 255  # beyond a literal list
    rig.emu.reset_counters()
    info = rig.backend.create(admin_spec(example_school()))
    assert rig.emu.calls_total("sheets_write", rig.emu.service_principal) == 1  # still one write
    sheets = _sheets(rig, info.id)
    lists = sheets[RU.lists_tab]
    assert lists["properties"].get("hidden") is True
    rows = [[v.get("userEnteredValue", {}).get("stringValue", "") for v in r.get("values", [])]
            for r in lists["data"][0]["rowData"]]
    assert [r[0] for r in rows[1:] if r and r[0]] == journals
    assert [r[1] for r in rows[1:] if len(r) > 1 and r[1]] == pupils
    row = sheets[RU.corrections_tab]["data"][0]["rowData"][0]["values"]  # B2:D2
    journal_rule, pupil_rule = row[0]["dataValidation"], row[2]["dataValidation"]
    assert journal_rule["condition"] == {"type": "ONE_OF_RANGE", "values": [
        {"userEnteredValue": f"='{RU.lists_tab}'!A2:A{1 + len(journals)}"}]}
    assert pupil_rule["condition"]["values"][0]["userEnteredValue"] == (
        f"='{RU.lists_tab}'!B2:B{1 + len(pupils)}")
    assert journal_rule.get("strict", False) is False  # a suggestion: other text still accepted
    assert rig.backend.tabs(info.id)[0] == RU.corrections_tab  # the deputy's tab comes first


def test_emulator_refuses_a_range_of_no_tab(rig: GoogleRig) -> None:
    info = rig.backend.create(admin_spec(example_school()))
    gc = rig.emu.client(rig.emu.service_principal)
    body = {"requests": [{"setDataValidation": {
        "range": {"sheetId": rig.backend._sheet_ids[info.id][RU.corrections_tab],
                  "startRowIndex": 1, "endRowIndex": 2, "startColumnIndex": 1,
                  "endColumnIndex": 2},
        "rule": {"condition": {"type": "ONE_OF_RANGE",
                               "values": [{"userEnteredValue": "='Нет такого'!A1:A3"}]}}}}]}
    with pytest.raises(APIError, match="Unable to parse range"):
        gc.http_client.batch_update(info.id, body)
    body["requests"][0]["setDataValidation"]["rule"]["condition"]["values"] = [
        {"userEnteredValue": "a"}, {"userEnteredValue": "b"}]
    with pytest.raises(APIError, match="one ConditionValue"):
        gc.http_client.batch_update(info.id, body)


def test_local_dropdowns_read_the_hidden_list_tab(tmp_path: Path) -> None:
    journals, pupils = _expected()
    backend = LocalBackend(tmp_path / "sheets")
    info = backend.create(admin_spec(example_school()))
    book = openpyxl.load_workbook(backend.path(info.id))
    assert book[RU.lists_tab].sheet_state == "hidden"
    assert book.sheetnames[0] == RU.corrections_tab
    column = [c.value for c in book[RU.lists_tab]["A"][1:] if c.value]
    assert column == journals
    rules = {dv.formula1: str(dv.sqref) for dv in
             book[RU.corrections_tab].data_validations.dataValidation}
    assert rules[f"'{RU.lists_tab}'!$A$2:$A${1 + len(journals)}"].startswith("B2:B")
    assert rules[f"'{RU.lists_tab}'!$B$2:$B${1 + len(pupils)}"].startswith("D2:D")


def test_local_admin_headers_read_whole_and_print_on_one_page_wide(tmp_path: Path) -> None:
    """Seen in the LibreOffice render: «Дата урока или период» was cut by the next column and the
    sheet printed in portrait slices. Its headers are bold, wrapped and tinted now; landscape."""
    backend = LocalBackend(tmp_path / "sheets")
    info = backend.create(admin_spec(example_school()))
    sheet = openpyxl.load_workbook(backend.path(info.id))[RU.corrections_tab]
    header = sheet["C1"]
    assert header.value == "Дата урока или период"
    assert (header.font.b, header.alignment.wrap_text) == (True, True)
    assert header.fill.fgColor.rgb.endswith("DCE6F1")
    assert sheet.page_setup.orientation == "landscape"
    assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
