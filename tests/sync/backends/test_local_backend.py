"""The local backend beyond the shared contract: the xlsx as LibreOffice/Excel see it, atomic saves,
lock files, damaged files, the change feed, the manifest across restarts, names and sharing.

Files are inspected with a fresh openpyxl load and, where the question is "what is in the file", by
reading the worksheet XML itself.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import io
import json
import logging
import os
import re
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

import openpyxl
import pytest
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.datavalidation import DataValidation

from rules.errors import BackendError, SheetAccessError
from sync.backends.local import xlsx as local_xlsx
from sync.backends.local.backend import LocalBackend
from sync.backends.local.files import TEMP_SUFFIX, safe_name, unique_path
from sync.backends.local.manifest import (
    MANIFEST_NAME,
    FileEntry,
    Manifest,
    ManifestStore,
    RemovedEntry,
    TabState,
)
from sync.backends.protocol import (
    CellRange,
    Dropdown,
    FeedReset,
    FileBusy,
    FileDamaged,
    Grant,
    Role,
    SpreadsheetSpec,
    TabSpec,
)
from tests.sync.backend_helpers import GRADES, LESSONS, TEACHER, local_teacher_edit, sample_spec

NAME = "Журнал 7Б · Математика · 2026/27"
FILE = "Журнал 7Б · Математика · 2026-27.xlsx"
_CELL_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "sheets"


@pytest.fixture
def backend(folder: Path) -> LocalBackend:
    return LocalBackend(folder=folder)


@pytest.fixture
def file_id(backend: LocalBackend) -> str:
    return backend.create(sample_spec(NAME)).id


def open_book(backend: LocalBackend, file_id: str) -> Workbook:
    return openpyxl.load_workbook(backend.path(file_id))


def sheet_xml(backend: LocalBackend, file_id: str, tab: str) -> bytes:
    """The worksheet XML of ``tab`` (openpyxl names them sheet1.xml… in tab order)."""
    index = backend.tabs(file_id).index(tab) + 1
    with zipfile.ZipFile(backend.path(file_id)) as z:
        return z.read(f"xl/worksheets/sheet{index}.xml")


def temp_files(folder: Path) -> list[Path]:
    return list(folder.rglob(f"*{TEMP_SUFFIX}"))


def age(path: Path, seconds: float) -> None:
    """Pretend the file was last written ``seconds`` ago."""
    when = time.time() - seconds
    os.utime(path, (when, when))


# ---------------------------------------------------------------------------------- names


def test_create_names_the_file_after_the_spec_and_records_it_in_the_manifest(
        backend: LocalBackend, folder: Path, file_id: str) -> None:
    assert backend.path(file_id) == folder / FILE
    manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert manifest["files"][file_id]["path"] == FILE
    assert manifest["files"][file_id]["title"] == NAME
    assert backend.info(file_id).name == NAME


@pytest.mark.parametrize("title, expected", [
    ("Журнал 7Б · Математика · 2026/27", "Журнал 7Б · Математика · 2026-27"),
    ('a\\b:c*d?e"f<g>h|i', "a-b-c-d-e-f-g-h-i"),
    ("..~$hidden", "$hidden"),
    ("trailing dots. . ", "trailing dots"),
    ("CON", "_CON"),
    ("lpt1.backup", "_lpt1.backup"),
    ("tab\there\nnewline", "tab here newline"),
    ("///", "---"),
    ("...", "spreadsheet"),
])
def test_safe_name(title: str, expected: str) -> None:
    assert safe_name(title) == expected


def test_safe_name_limits_utf8_bytes_without_splitting_a_letter() -> None:
    name = safe_name("Ж" * 200)
    assert len(name.encode("utf-8")) <= 150 and set(name) == {"Ж"}


def test_same_name_twice_gets_a_numbered_file(backend: LocalBackend) -> None:
    first = backend.create(sample_spec("Дневник · Иванов Иван · 7Б"))
    second = backend.create(sample_spec("дневник · иванов иван · 7б"))  # same name on Windows
    assert backend.path(first.id).name == "Дневник · Иванов Иван · 7Б.xlsx"
    assert backend.path(second.id).name == "дневник · иванов иван · 7б (2).xlsx"


def test_unique_path_skips_names_already_taken(tmp_path: Path) -> None:
    (tmp_path / "a.xlsx").write_bytes(b"")
    assert unique_path(tmp_path, "a", ".xlsx", {"A (2).xlsx"}).name == "a (3).xlsx"


def test_spec_folder_becomes_a_sanitised_subfolder(backend: LocalBackend, folder: Path) -> None:
    spec = SpreadsheetSpec(NAME, sample_spec().tabs, folder="Дневники/../7Б: класс")
    info = backend.create(spec)
    assert backend.path(info.id) == folder / "Дневники" / "7Б- класс" / FILE
    assert backend.read(info.id, [LESSONS])[LESSONS][0][0] == "Дата"


# ---------------------------------------------------------------------------------- layout in the file


def test_text_starting_with_equals_is_stored_as_text_never_a_formula(
        backend: LocalBackend, file_id: str) -> None:
    backend.write(file_id, [(CellRange(LESSONS, 2, 0, 3, 3), [["=SUM(A1)", "#N/A", "=1+1"]])])
    xml = sheet_xml(backend, file_id, LESSONS)
    assert not _CELL_FORMULA.search(xml)
    ws = open_book(backend, file_id)[LESSONS]
    assert [(c.value, c.data_type) for c in ws[3][:3]] == [
        ("=SUM(A1)", "s"), ("#N/A", "s"), ("=1+1", "s")]
    assert backend.read(file_id, [LESSONS])[LESSONS][2] == ["=SUM(A1)", "#N/A", "=1+1"]


def test_create_keeps_formula_like_spec_values_as_text(backend: LocalBackend) -> None:
    info = backend.create(SpreadsheetSpec(NAME, (TabSpec("T", [["=A1*2", "-1", "5/4"]], 2, 3),)))
    assert not _CELL_FORMULA.search(sheet_xml(backend, info.id, "T"))
    assert backend.read(info.id, ["T"])["T"] == [["=A1*2", "-1", "5/4"]]


def test_text_ranges_are_text_formatted_up_to_the_grid_size(backend: LocalBackend) -> None:
    tab = TabSpec("T", [["x"]], row_count=6, col_count=4,
                  text_ranges=(CellRange("T", 2, 2, None, None),))
    info = backend.create(SpreadsheetSpec(NAME, (tab,)))
    ws = open_book(backend, info.id)["T"]
    assert {ws.cell(r, c).number_format for r in range(3, 7) for c in range(3, 5)} == {"@"}
    assert ws.cell(2, 3).number_format == "General" and ws.cell(3, 2).number_format == "General"


def test_layout_frozen_hidden_widths_dropdowns_highlights(backend: LocalBackend,
                                                          file_id: str) -> None:
    ws = open_book(backend, file_id)[GRADES]
    assert ws.freeze_panes == "C3"
    assert ws.column_dimensions["A"].hidden and not ws.column_dimensions["B"].hidden
    assert ws.column_dimensions["B"].width == pytest.approx((180 - 5) / 7, abs=0.01)
    [dv] = ws.data_validations.dataValidation
    assert (dv.type, dv.formula1, str(dv.sqref)) == ("list", '"5,4,3,2,н"', "C3:D5")
    assert not dv.showErrorMessage  # non-strict: "5/4" is still accepted
    rules = [(str(cf.sqref), r.operator, r.formula, r.dxf.fill.fgColor.rgb)
             for cf in ws.conditional_formatting for r in cf.rules]
    assert sorted(rules) == [("C3:D5", "equal", ['"2"'], "FFF4CCCC"),
                             ("C3:D5", "equal", ['"н"'], "FFFFF2CC")]


def test_dropdown_values_with_commas_are_skipped_with_a_warning(
        backend: LocalBackend, caplog: pytest.LogCaptureFixture) -> None:
    tab = TabSpec("T", [["x"]], 5, 3, dropdowns=(Dropdown(CellRange("T", 1, 1, 5, 2), ("a,b", "c")),
                                                 Dropdown(CellRange("T", 1, 2, 5, 3), ("к\"р", "д"))))
    with caplog.at_level(logging.WARNING, logger="sync.backends.local.xlsx"):
        info = backend.create(SpreadsheetSpec(NAME, (tab,)))
    [dv] = open_book(backend, info.id)["T"].data_validations.dataValidation
    assert dv.formula1 == '"к""р,д"' and str(dv.sqref) == "C2:C5"
    assert any("dropdown at B2:B5 skipped" in r.getMessage() for r in caplog.records)


def test_protection_locks_everything_but_the_open_cells(backend: LocalBackend,
                                                        file_id: str) -> None:
    book = open_book(backend, file_id)
    ws = book[GRADES]
    assert ws.protection.sheet and ws.protection.password is None
    unlocked = {(c.row, c.column) for row in ws.iter_rows(max_row=10, max_col=6) for c in row
                if c.protection.locked is False}
    assert unlocked == {(3, 4), (4, 4), (5, 4)}  # D3:D5, the open 05.09 column
    assert ws.cell(3, 3).protection.locked and ws.cell(1, 1).protection.locked
    assert not book[LESSONS].protection.sheet  # an unprotected tab


@pytest.mark.parametrize("title", ["x" * 32, "a/b", "[x]", "'quoted'", ""])
def test_tab_titles_xlsx_cannot_hold_are_refused(backend: LocalBackend, folder: Path,
                                                 title: str) -> None:
    with pytest.raises(BackendError, match="not allowed in an xlsx"):
        backend.create(SpreadsheetSpec(NAME, (TabSpec(title, [], 1, 1),)))
    assert not list(folder.glob("*.xlsx"))


@pytest.mark.parametrize("tabs", [(), (TabSpec("A", [], 1, 1), TabSpec("a", [], 1, 1))])
def test_specs_without_tabs_or_with_repeated_titles_are_refused(backend: LocalBackend,
                                                                tabs: tuple[TabSpec, ...]) -> None:
    with pytest.raises(BackendError, match=r"no tabs|repeats"):
        backend.create(SpreadsheetSpec(NAME, tabs))


# ---------------------------------------------------------------------------------- values


def _with_formulas(path: Path) -> None:
    """A teacher typed =2+3 (saved with its result) and =A1&"" (saved without one) in Уроки."""
    wb = openpyxl.load_workbook(path)
    wb[LESSONS]["A5"] = "=2+3"
    wb[LESSONS]["B5"] = '=A1&""'
    wb.save(path)
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    name = "xl/worksheets/sheet2.xml"
    members[name] = re.sub(rb"(<f>2\+3</f>)<v\s*/?>(</v>)?", rb"\1<v>5</v>", members[name])
    with zipfile.ZipFile(path, "w") as z:
        for n, data in members.items():
            z.writestr(n, data)


def test_formulas_read_as_cached_value_else_as_their_text(backend: LocalBackend,
                                                          file_id: str) -> None:
    _with_formulas(backend.path(file_id))
    assert backend.read(file_id, [LESSONS])[LESSONS][4] == [5, '=A1&""']


def test_dates_numbers_and_booleans_read_like_sheets_unformatted(backend: LocalBackend,
                                                                 file_id: str) -> None:
    path = backend.path(file_id)
    wb = openpyxl.load_workbook(path)
    ws = wb[LESSONS]
    noon = dt.datetime(2026, 9, 2, 12)  # noqa: DTZ001 - cells hold naive date-times
    for col, value in enumerate([dt.date(2026, 9, 2), noon, dt.time(6), 2.0, 2.5, True, ""], 1):
        ws.cell(4, col).value = value
    wb.save(path)
    assert backend.read(file_id, [LESSONS])[LESSONS][3] == [46267, 46267.5, 0.25, 2, 2.5, True]


def test_write_clears_with_none_or_empty_and_extends_from_an_anchor(backend: LocalBackend,
                                                                    file_id: str) -> None:
    backend.write(file_id, [(CellRange(GRADES, 2, 2, 3, 4), [[None, ""]]),
                            (CellRange(LESSONS, 5, 1), [["a", 1, 2.5, False]])])
    got = backend.read(file_id, [GRADES, LESSONS])
    assert got[GRADES][2] == ["p1", "Иванов Иван"]
    assert got[LESSONS][5] == ["", "a", 1, 2.5, False]


def test_write_refuses_a_grid_larger_than_its_range(backend: LocalBackend, file_id: str) -> None:
    before = backend.path(file_id).read_bytes()
    with pytest.raises(BackendError, match="do not fit"):
        backend.write(file_id, [(CellRange(LESSONS, 0, 0, 1, 2), [["a", "b", "c"]])])
    assert backend.path(file_id).read_bytes() == before


def test_write_refuses_values_a_cell_cannot_hold(backend: LocalBackend, file_id: str) -> None:
    before = backend.path(file_id).read_bytes()
    for bad in (dt.date(2026, 9, 1), float("nan"), ["nested"]):
        with pytest.raises(BackendError, match="cannot store"):
            backend.write(file_id, [(CellRange(LESSONS, 3, 0), [[bad]])])
    assert backend.path(file_id).read_bytes() == before


def test_control_characters_become_replacement_marks(backend: LocalBackend, file_id: str) -> None:
    backend.write(file_id, [(CellRange(LESSONS, 3, 0), [["a\x01b\tc"]])])
    assert backend.read(file_id, [LESSONS])[LESSONS][3] == ["a\ufffdb\tc"]


def test_writes_keep_dropdowns_protection_and_the_file_mode(backend: LocalBackend,
                                                            file_id: str) -> None:
    path = backend.path(file_id)
    path.chmod(0o664)
    backend.write(file_id, [(CellRange(GRADES, 2, 3, 3, 4), [["5"]])])
    assert path.stat().st_mode & 0o777 == 0o664
    ws = open_book(backend, file_id)[GRADES]
    assert len(ws.data_validations.dataValidation) == 1 and ws.protection.sheet
    assert ws.cell(3, 4).protection.locked is False and ws.cell(3, 4).number_format == "@"


# ---------------------------------------------------------------------------------- atomic saves


class Killed(BaseException):
    """The process dies mid-save (not an Exception: nothing may catch it on the way)."""


@pytest.mark.parametrize("failure", [OSError(errno.ENOSPC, "No space left on device"), Killed()])
def test_a_crash_mid_save_leaves_the_old_file_and_no_temp_file(
        folder: Path, failure: BaseException) -> None:
    crash = False
    during: list[Path] = []

    def serializer(wb: Workbook, out: IO[bytes]) -> None:
        if crash:
            out.write(b"PK\x03\x04 half a workbook")
            out.flush()
            during.extend(temp_files(folder))  # the half-written temp file, beside the real one
            raise failure
        local_xlsx.save(wb, out)

    backend = LocalBackend(folder, serializer=serializer)
    file_id = backend.create(sample_spec()).id
    token = backend.start_token()
    before = backend.path(file_id).read_bytes()
    crash = True
    with pytest.raises(BackendError if isinstance(failure, OSError) else Killed) as err:
        backend.write(file_id, [(CellRange(GRADES, 2, 3, 3, 4), [["2"]])])
    if isinstance(err.value, BackendError):
        assert "No space left" in str(err.value) and err.value.hint
    assert backend.path(file_id).read_bytes() == before
    assert len(during) == 1 and during[0].parent == folder and not during[0].exists()
    assert temp_files(folder) == []
    assert backend.changes(token)[0] == []
    assert LocalBackend(folder).read(file_id, [GRADES])[GRADES][2][3] == "4"


def test_a_teacher_saving_during_our_write_wins_and_we_retry_later(folder: Path) -> None:
    saving: dict[str, str] = {}  # set: the teacher saves this file while we serialize ours

    def serializer(wb: Workbook, out: IO[bytes]) -> None:
        if saving:
            local_teacher_edit(local, saving["id"], GRADES, 3, 3, "3")
        local_xlsx.save(wb, out)

    local = LocalBackend(folder, serializer=serializer)
    file_id = local.create(sample_spec()).id
    saving["id"] = file_id
    with pytest.raises(FileBusy, match="changed while it was being written"):
        local.write(file_id, [(CellRange(GRADES, 2, 3, 3, 4), [["2"]])])
    assert local.read(file_id, [GRADES])[GRADES][2:4] == [
        ["p1", "Иванов Иван", "5", "4"], ["p2", "Петрова Анна", "", "3"]]
    assert temp_files(folder) == []


def test_stale_temp_files_of_a_killed_process_are_swept(folder: Path) -> None:
    folder.mkdir()
    old, fresh = folder / f".x.xlsx.1{TEMP_SUFFIX}", folder / f".y.xlsx.2{TEMP_SUFFIX}"
    old.write_bytes(b"partial")
    fresh.write_bytes(b"partial")
    age(old, 7200)
    LocalBackend(folder)
    assert not old.exists() and fresh.exists()


# ---------------------------------------------------------------------------------- lock files


@pytest.mark.parametrize("lock_name", [".~lock.{}#", "~${}", "~${short}"])
def test_a_file_open_in_a_spreadsheet_program_is_not_written(
        backend: LocalBackend, file_id: str, lock_name: str) -> None:
    path = backend.path(file_id)
    (path.parent / lock_name.format(path.name, short=path.name[2:])).write_text("teacher,pc,,")
    before = path.read_bytes()
    calls: list[Callable[[], object]] = [
        lambda: backend.write(file_id, [(CellRange(GRADES, 2, 3, 3, 4), [["2"]])]),
        lambda: backend.set_open_ranges(file_id, {GRADES: []}),
        lambda: backend.add_tabs(file_id, [TabSpec("Замечания", [], 2, 2)]),
        lambda: backend.rename_tab(file_id, LESSONS, "Темы"),
        lambda: backend.delete(file_id),
    ]
    for call in calls:
        with pytest.raises(FileBusy) as err:
            call()
        assert err.value.file_id == file_id and "lock file" in (err.value.hint or "")
        assert "Журнал" not in str(err.value)  # ids in messages, never file names
    assert path.read_bytes() == before and temp_files(path.parent) == []
    assert backend.read(file_id, [GRADES])[GRADES][2][3] == "4"  # reading is harmless
    assert GRADES in backend.open_ranges(file_id) and backend.tabs(file_id) == [GRADES, LESSONS]


def test_the_write_goes_through_once_the_lock_file_is_gone(backend: LocalBackend,
                                                           file_id: str) -> None:
    lock = backend.path(file_id).parent / f".~lock.{backend.path(file_id).name}#"
    lock.write_text("teacher")
    with pytest.raises(FileBusy):
        backend.write(file_id, [(CellRange(GRADES, 2, 3, 3, 4), [["2"]])])
    lock.unlink()
    backend.write(file_id, [(CellRange(GRADES, 2, 3, 3, 4), [["2"]])])
    assert backend.read(file_id, [GRADES])[GRADES][2][3] == "2"


# ---------------------------------------------------------------------------------- damaged files


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_unparsable_bytes_are_busy_while_fresh_and_damaged_once_settled(
        backend: LocalBackend, file_id: str, damage: str) -> None:
    path = backend.path(file_id)
    data = path.read_bytes()
    path.write_bytes(b"not a zip at all" if damage == "garbage" else data[: len(data) // 2])
    with pytest.raises(FileBusy, match="mid-save"):
        backend.read(file_id, [GRADES])
    age(path, 3600)
    for call in (lambda: backend.read(file_id, [GRADES]), lambda: backend.tabs(file_id),
                 lambda: backend.open_ranges(file_id),
                 lambda: backend.write(file_id, [(CellRange(GRADES, 0, 0), [["x"]])])):
        with pytest.raises(BackendError) as err:
            call()
        assert type(err.value) is FileDamaged  # never "busy": waiting cannot help
        assert f"file {file_id} is damaged" in str(err.value)
        assert "ejournal rebuild" in (err.value.hint or "")


def test_a_file_deleted_outside_is_reported_and_access_errors(backend: LocalBackend,
                                                              file_id: str) -> None:
    token = backend.start_token()
    backend.path(file_id).unlink()
    changed, token = backend.changes(token)
    assert [(c.id, c.removed) for c in changed] == [(file_id, True)]
    with pytest.raises(SheetAccessError, match="missing from the sheets folder"):
        backend.read(file_id, [GRADES])
    with pytest.raises(SheetAccessError):
        backend.info(file_id)


def test_a_damaged_manifest_is_a_clear_error(folder: Path, file_id: str) -> None:
    (folder / MANIFEST_NAME).write_text("{not json", encoding="utf-8")
    with pytest.raises(BackendError, match=r"manifest .* is damaged") as err:
        LocalBackend(folder).info(file_id)
    assert "backup" in (err.value.hint or "")


# ---------------------------------------------------------------------------------- change feed


def test_changes_tell_own_writes_from_a_teachers_edit(backend: LocalBackend,
                                                      file_id: str) -> None:
    token = backend.start_token()
    assert backend.changes(token) == ([], token)
    backend.write(file_id, [(CellRange(LESSONS, 1, 2), [["№ 2"]])])
    [mine], token = backend.changes(token)
    assert (mine.id, mine.by_me, mine.removed) == (file_id, True, False)
    local_teacher_edit(backend, file_id, GRADES, 3, 3, "5")
    [theirs], token = backend.changes(token)
    assert (theirs.id, theirs.by_me) == (file_id, False)
    assert theirs.version != mine.version and theirs.version == backend.info(file_id).version
    assert backend.changes(token) == ([], token)


def test_version_is_mtime_size_and_content_hash(backend: LocalBackend, file_id: str) -> None:
    path = backend.path(file_id)
    st = path.stat()
    mtime_ns, size, digest = backend.info(file_id).version.split("-")
    assert (int(mtime_ns), int(size)) == (st.st_mtime_ns, st.st_size)
    assert hashlib.sha256(path.read_bytes()).hexdigest().startswith(digest)


def test_new_files_appear_in_the_feed_as_own(backend: LocalBackend) -> None:
    token = backend.start_token()
    info = backend.create(sample_spec())
    [created], _ = backend.changes(token)
    assert (created.id, created.by_me, created.version) == (info.id, True, info.version)


def test_a_token_of_another_folder_is_a_feed_reset(tmp_path: Path, backend: LocalBackend,
                                                   file_id: str) -> None:
    """The cycle then reads every registered file (a re-created manifest, another folder)."""
    foreign = LocalBackend(tmp_path / "other").start_token()
    with pytest.raises(FeedReset, match="not of this sheets folder's manifest"):
        backend.changes(foreign)
    assert backend.changes(backend.start_token())[0] == []
    assert backend.info(file_id).name  # the file itself is untouched


def test_a_malformed_token_is_refused(backend: LocalBackend) -> None:
    with pytest.raises(BackendError, match="not a change token"):
        backend.changes("12345-abc")


def test_a_restored_file_comes_back_as_a_change(backend: LocalBackend, file_id: str) -> None:
    path = backend.path(file_id)
    kept = path.read_bytes()
    token = backend.start_token()
    path.unlink()
    backend.changes(token)
    path.write_bytes(kept)
    [back], _ = backend.changes(token)
    assert (back.id, back.removed, back.by_me) == (file_id, False, True)


# ---------------------------------------------------------------------------------- restart


def test_the_manifest_survives_a_restart(folder: Path, backend: LocalBackend,
                                         file_id: str) -> None:
    backend.grant(file_id, TEACHER, Role.WRITER)
    backend.set_open_ranges(file_id, {GRADES: [CellRange(GRADES, 2, 2, None, 3)]})
    token = backend.start_token()
    backend.write(file_id, [(CellRange(LESSONS, 1, 2), [["№ 2"]])])
    again = LocalBackend(folder=folder)
    [change], _ = again.changes(token)
    assert (change.id, change.by_me) == (file_id, True)  # the own-write hash was kept
    assert again.info(file_id).name == NAME
    assert [g.email for g in again.grants(file_id)] == ["service", TEACHER]
    assert again.open_ranges(file_id) == {GRADES: [CellRange(GRADES, 2, 2, None, 3)]}
    assert again.read(file_id, [LESSONS])[LESSONS][1] == ["02.09", "Дроби", "№ 2"]


# ---------------------------------------------------------------------------------- protection


def test_protection_removed_in_excel_is_seen_and_repaired(backend: LocalBackend,
                                                          file_id: str) -> None:
    path = backend.path(file_id)
    wb = openpyxl.load_workbook(path)
    wb[GRADES].protection.sheet = False
    wb.save(path)
    assert backend.open_ranges(file_id) == {}
    backend.set_open_ranges(file_id, {GRADES: [CellRange(GRADES, 2, 3, 5, 4)]})
    assert backend.open_ranges(file_id) == {GRADES: [CellRange(GRADES, 2, 3, 5, 4)]}


def test_cells_unlocked_by_hand_show_as_extra_open_ranges(backend: LocalBackend,
                                                          file_id: str) -> None:
    path = backend.path(file_id)
    wb = openpyxl.load_workbook(path)
    for ref in ("C3", "C4", "C5"):  # the closed 02.09 column, next to the open D3:D5
        wb[GRADES][ref].protection = local_xlsx.UNLOCKED
    wb.save(path)
    assert backend.open_ranges(file_id) == {GRADES: [CellRange(GRADES, 2, 2, 5, 4)]}
    backend.set_open_ranges(file_id, {GRADES: [CellRange(GRADES, 2, 3, 5, 4)]})
    assert open_book(backend, file_id)[GRADES]["C3"].protection.locked is True
    assert backend.open_ranges(file_id) == {GRADES: [CellRange(GRADES, 2, 3, 5, 4)]}


def test_rectangles_cover_scattered_cells_exactly() -> None:
    cells = {(0, 0), (0, 1), (1, 0), (1, 1), (2, 1), (4, 3)}
    got = local_xlsx.rectangles("T", cells)
    assert got == [CellRange("T", 0, 0, 2, 2), CellRange("T", 2, 1, 3, 2), CellRange("T", 4, 3, 5, 4)]
    assert local_xlsx.cells_of(got, (0, 0)) == cells


def test_set_open_ranges_on_a_missing_tab(backend: LocalBackend, file_id: str) -> None:
    before = backend.path(file_id).read_bytes()
    with pytest.raises(Exception, match="missing: 2 четверть"):
        backend.set_open_ranges(file_id, {"2 четверть": []})
    assert backend.path(file_id).read_bytes() == before


def test_renamed_tab_keeps_its_protection_and_clashes_are_refused(backend: LocalBackend,
                                                                  file_id: str) -> None:
    backend.rename_tab(file_id, GRADES, "I четверть")
    assert backend.open_ranges(file_id) == {"I четверть": [CellRange("I четверть", 2, 3, 5, 4)]}
    before = backend.path(file_id).read_bytes()
    with pytest.raises(BackendError, match="exists"):
        backend.rename_tab(file_id, LESSONS, "i ЧЕТВЕРТЬ")
    with pytest.raises(BackendError, match="already exists"):
        backend.add_tabs(file_id, [TabSpec(LESSONS, [], 1, 1)])
    assert backend.path(file_id).read_bytes() == before


# ---------------------------------------------------------------------------------- trash, sharing


def test_delete_moves_the_file_to_the_trash(backend: LocalBackend, folder: Path,
                                            file_id: str) -> None:
    kept = backend.path(file_id).read_bytes()
    backend.delete(file_id)
    assert not (folder / FILE).exists()
    assert (folder / ".trash" / f"{file_id} {FILE}").read_bytes() == kept
    with pytest.raises(SheetAccessError, match=r"deleted: see \.trash"):
        backend.read(file_id, [GRADES])


def test_grants_are_stable_per_address_and_the_owner_stays(backend: LocalBackend,
                                                           file_id: str) -> None:
    first = backend.grant(file_id, "Parent@Gmail.com ", Role.READER)
    again = backend.grant(file_id, "parent@gmail.com", Role.COMMENTER)
    assert first.id == again.id and again.role is Role.COMMENTER
    owner, *rest = backend.grants(file_id)
    assert (owner.email, owner.role) == ("service", Role.OWNER) and rest == [again]
    with pytest.raises(BackendError, match="owner"):
        backend.revoke(file_id, owner.id)
    with pytest.raises(SheetAccessError, match="no grant"):
        backend.revoke(file_id, "g000000000000")
    backend.revoke(file_id, again.id)
    assert backend.grants(file_id) == [owner]


def test_grant_and_revoke_do_not_touch_the_file(backend: LocalBackend, file_id: str) -> None:
    token = backend.start_token()
    grant = backend.grant(file_id, TEACHER, Role.WRITER)
    backend.revoke(file_id, grant.id)
    assert backend.changes(token)[0] == []


def test_from_settings_needs_a_folder() -> None:
    class Settings:
        folder = None

    with pytest.raises(BackendError, match="needs a folder") as err:
        LocalBackend.from_settings(Settings())
    assert "backend.folder" in (err.value.hint or "")


def test_reading_no_tabs_touches_nothing(backend: LocalBackend, file_id: str) -> None:
    backend.path(file_id).write_bytes(b"broken")
    assert backend.read(file_id, []) == {}
    assert backend.add_tabs(file_id, []) == {}
    backend.write(file_id, [])
    backend.set_open_ranges(file_id, {})
    assert backend.path(file_id).read_bytes() == b"broken"


def test_workbook_bytes_round_trip_helper() -> None:
    """``has_formulas`` sees a cell formula but not validation or conditional-format formulas."""
    wb = Workbook()
    ws = wb.active
    dv = DataValidation(type="list", formula1='"a,b"')
    dv.add("A1")
    ws.add_data_validation(dv)
    plain = io.BytesIO()
    wb.save(plain)
    ws["B1"] = "=1+1"
    with_formula = io.BytesIO()
    wb.save(with_formula)
    assert not local_xlsx.has_formulas(plain.getvalue())
    assert local_xlsx.has_formulas(with_formula.getvalue())


def test_manifest_json_round_trips_every_field(folder: Path) -> None:
    manifest = Manifest("abc", 7, files={"f1": FileEntry(
        "Журнал", "a/Журнал.xlsx", "1-2-3", 5, "h" * 64, False,
        [Grant("g1", TEACHER, Role.WRITER)],
        {GRADES: TabState(True, [CellRange(GRADES, 2, 3, None, 4)], (10, 6))},
        {"readers_cannot_copy": True}, seen_at="2026-09-08T10:00:00+03:00",
        own_at="2026-09-08T10:05:00+03:00")}, removed={"f0": RemovedEntry("Старый", ".trash/f0 x.xlsx", 6)})
    folder.mkdir()
    ManifestStore(folder).save(manifest)
    assert ManifestStore(folder).load() == manifest
    text = (folder / MANIFEST_NAME).read_text(encoding="utf-8")
    assert text.count("\n") == 12 and '"f1": {"title":"Журнал"' in text  # one line per file
