"""THE backend contract: the same behaviour tests run against every ``Backend`` implementation.

``google`` runs on a fresh in-process emulator with a shared drive (real gspread client); ``local``
on a folder of ``.xlsx`` files. Values are compared as the protocol promises: strings stay strings,
numbers stay numbers, trailing empty cells of a row and trailing empty rows are trimmed, an empty
cell inside a row reads as "".
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rules.errors import BackendError, EjournalError, SheetAccessError
from sync.backends.protocol import Backend, CellRange, Role, TabMissing, TabSpec
from tests.sync.backend_helpers import (
    GRADES,
    LESSONS,
    TEACHER,
    google_rig,
    sample_spec,
    teacher_edit,
)

GRADES_READ = [["id", "Ученик", "02.09", "05.09"],
               ["", "", "контрольная"],
               ["p1", "Иванов Иван", "5", "4"],
               ["p2", "Петрова Анна", "", "н"],
               ["p3", "Сидоров Пётр", 3]]
LESSONS_READ = [["Дата", "Тема", "Домашнее задание"], ["02.09", "Дроби", "№ 1"]]


@pytest.fixture(params=["google", "local"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "google":
        rig = google_rig()
        yield rig.backend
        rig.close()
        assert rig.emu.bugs == []
    else:
        from sync.backends.local.backend import LocalBackend  # written by another engineer

        yield LocalBackend(folder=tmp_path / "sheets")


@pytest.fixture
def file_id(backend: Backend) -> str:
    return backend.create(sample_spec()).id


def test_create_then_read_returns_the_values_written(backend: Backend) -> None:
    spec = sample_spec()
    info = backend.create(spec)
    assert info.id and info.name == spec.name and not info.removed
    got = backend.read(info.id, [GRADES, LESSONS])
    assert got == {GRADES: GRADES_READ, LESSONS: LESSONS_READ}
    assert isinstance(got[GRADES][2][2], str) and isinstance(got[GRADES][4][2], int)
    assert backend.info(info.id).name == spec.name


def test_write_then_read(backend: Backend, file_id: str) -> None:
    backend.write(file_id, [(CellRange(GRADES, 3, 2, 4, 4), [["2", "н"]]),
                            (CellRange(LESSONS, 1, 1), [["Десятичные дроби", 4.5, ""]]),
                            (CellRange(LESSONS, 2, 0, 3, 2), [["05.09", "Проценты"]])])
    got = backend.read(file_id, [LESSONS, GRADES])
    assert got[GRADES][3] == ["p2", "Петрова Анна", "2", "н"]
    assert got[LESSONS] == [["Дата", "Тема", "Домашнее задание"],
                            ["02.09", "Десятичные дроби", 4.5],
                            ["05.09", "Проценты"]]


def test_writes_are_raw_text_never_formulas(backend: Backend, file_id: str) -> None:
    backend.write(file_id, [(CellRange(LESSONS, 3, 0, 4, 3), [["=SUM(A1)", "=1+1", "'5"]])])
    assert backend.read(file_id, [LESSONS])[LESSONS][3] == ["=SUM(A1)", "=1+1", "'5"]


def test_unknown_tab_raises_tab_missing(backend: Backend, file_id: str) -> None:
    with pytest.raises(TabMissing) as err:
        backend.read(file_id, [GRADES, "2 четверть"])
    assert err.value.titles == ("2 четверть",) and err.value.file_id == file_id
    with pytest.raises(TabMissing):
        backend.write(file_id, [(CellRange("2 четверть", 0, 0), [["x"]])])
    assert backend.read(file_id, [LESSONS])[LESSONS] == LESSONS_READ  # nothing else changed


def test_tabs_add_and_rename(backend: Backend, file_id: str) -> None:
    assert backend.tabs(file_id) == [GRADES, LESSONS]
    backend.add_tabs(file_id, [TabSpec("Замечания", [["Ячейка", "Проблема"]], 10, 3)])
    assert backend.tabs(file_id) == [GRADES, LESSONS, "Замечания"]
    assert backend.read(file_id, ["Замечания"])["Замечания"] == [["Ячейка", "Проблема"]]
    backend.rename_tab(file_id, LESSONS, "Темы уроков")
    assert backend.tabs(file_id) == [GRADES, "Темы уроков", "Замечания"]
    assert backend.read(file_id, ["Темы уроков"])["Темы уроков"] == LESSONS_READ
    with pytest.raises(TabMissing):
        backend.read(file_id, [LESSONS])


def test_open_ranges_round_trip(backend: Backend) -> None:
    info = backend.create(sample_spec())
    assert backend.open_ranges(info.id) == {GRADES: [CellRange(GRADES, 2, 3, 5, 4)]}
    moved = {GRADES: [CellRange(GRADES, 2, 4, 5, 5), CellRange(GRADES, 0, 5, None, 6)]}
    backend.set_open_ranges(info.id, moved, info.protections)
    assert backend.open_ranges(info.id) == moved
    backend.set_open_ranges(info.id, {GRADES: []}, info.protections)  # lock everything
    assert backend.open_ranges(info.id) == {GRADES: []}


def test_open_ranges_of_an_added_tab(backend: Backend, file_id: str) -> None:
    extra = TabSpec("2 четверть", [["id"]], 10, 4, open_ranges=(CellRange("2 четверть", 1, 1, 9, 2),))
    ids = backend.add_tabs(file_id, [extra]) or {}
    backend.set_open_ranges(file_id, {"2 четверть": [CellRange("2 четверть", 1, 2, 9, 3)]}, ids)
    assert backend.open_ranges(file_id)["2 четверть"] == [CellRange("2 четверть", 1, 2, 9, 3)]


def test_changes_feed(backend: Backend, file_id: str) -> None:
    changed, token = backend.changes(backend.start_token())
    assert changed == []
    teacher_edit(backend, file_id, GRADES, 3, 3, "5")  # an open cell
    changed, token = backend.changes(token)
    assert [(c.id, c.by_me, c.removed) for c in changed] == [(file_id, False, False)]
    assert backend.read(file_id, [GRADES])[GRADES][3][3] == "5"
    backend.write(file_id, [(CellRange(LESSONS, 1, 2), [["№ 2"]])])
    changed, token = backend.changes(token)
    assert all(c.id == file_id and c.by_me for c in changed)
    assert backend.changes(token)[0] == []


def test_deleted_file_is_gone(backend: Backend, file_id: str) -> None:
    token = backend.start_token()
    backend.delete(file_id)
    changed, _ = backend.changes(token)
    assert [(c.id, c.removed) for c in changed] == [(file_id, True)]
    with pytest.raises(SheetAccessError):
        backend.info(file_id)
    with pytest.raises(SheetAccessError):
        backend.read(file_id, [GRADES])


def test_grants(backend: Backend, file_id: str) -> None:
    before = backend.grants(file_id)
    assert all(g.email != TEACHER for g in before)
    grant = backend.grant(file_id, TEACHER, Role.WRITER)
    assert (grant.email, grant.role, grant.kind) == (TEACHER, Role.WRITER, "user")
    assert grant in backend.grants(file_id)
    backend.grant(file_id, "parent@gmail.com", Role.READER)
    assert {(g.email, g.role) for g in backend.grants(file_id)} >= {
        (TEACHER, Role.WRITER), ("parent@gmail.com", Role.READER)}
    backend.revoke(file_id, grant.id)
    assert all(g.email != TEACHER for g in backend.grants(file_id))


@pytest.mark.parametrize("email, role", [("anyone", Role.READER), (TEACHER, Role.OWNER),
                                         ("school.ru", Role.READER), ("", Role.READER)])
def test_refused_grants(backend: Backend, file_id: str, email: str, role: Role) -> None:
    before = backend.grants(file_id)
    with pytest.raises(BackendError):
        backend.grant(file_id, email, role)
    assert backend.grants(file_id) == before


def test_errors_are_the_projects_own(backend: Backend) -> None:
    for call in (lambda: backend.info("no-such-file"), lambda: backend.read("no-such-file", [GRADES]),
                 lambda: backend.grants("no-such-file")):
        with pytest.raises(EjournalError) as err:
            call()
        assert isinstance(err.value, SheetAccessError), err.value
        assert "no-such-file" in str(err.value)


def test_replace_tabs_lays_out_afresh_in_place(backend: Backend, file_id: str) -> None:
    from dataclasses import replace

    from tests.sync.backend_helpers import grades_tab, lessons_tab

    backend.write(file_id, [(CellRange(GRADES, 3, 3, 4, 4), [["2"]])])  # to be replaced
    fresh = replace(grades_tab(), rows=[["id", "Ученик", "02.09"], ["p1", "Иванов Иван", "4"]],
                    open_ranges=(CellRange(GRADES, 1, 2, 2, 3),))
    ids = backend.replace_tabs(file_id, [fresh, TabSpec("Замечания", [["Ячейка"]], 10, 3)])
    assert backend.tabs(file_id) == [GRADES, LESSONS, "Замечания"]  # replaced in place, added last
    assert backend.read(file_id, [GRADES, "Замечания"]) == {
        GRADES: [["id", "Ученик", "02.09"], ["p1", "Иванов Иван", "4"]], "Замечания": [["Ячейка"]]}
    assert backend.open_ranges(file_id)[GRADES] == [CellRange(GRADES, 1, 2, 2, 3)]
    backend.set_open_ranges(file_id, {GRADES: []}, ids)  # the returned ids locate the new tab
    assert backend.open_ranges(file_id)[GRADES] == []
    backend.replace_tabs(file_id, [lessons_tab(), grades_tab(), TabSpec("Замечания", [], 5, 3)])
    assert backend.tabs(file_id) == [GRADES, LESSONS, "Замечания"]  # every tab at once
    assert backend.read(file_id, [GRADES, LESSONS]) == {GRADES: GRADES_READ, LESSONS: LESSONS_READ}
