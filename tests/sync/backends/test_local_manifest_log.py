"""The manifest's log: an own write appends one line instead of rewriting the manifest."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from rules.errors import BackendError
from sync.backends.local.backend import LocalBackend
from sync.backends.local.manifest import MANIFEST_NAME, ManifestStore
from sync.backends.local.manifest_log import LOG_NAME
from sync.backends.protocol import CellRange
from tests.sync.backend_helpers import GRADES, local_teacher_edit, sample_spec


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "sheets"


def write_mark(backend: LocalBackend, file_id: str, value: str) -> None:
    backend.write(file_id, [(CellRange(GRADES, 2, 3, 3, 4), [[value]])])


def lines(folder: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in (folder / LOG_NAME).read_text(encoding="utf-8").splitlines()]


def test_a_write_appends_one_line_and_leaves_the_manifest_as_it_was(folder: Path) -> None:
    backend = LocalBackend(folder=folder)
    ids = [backend.create(sample_spec(f"Журнал {n}")).id for n in range(3)]
    before = (folder / MANIFEST_NAME).read_bytes()
    write_mark(backend, ids[1], "5")
    write_mark(backend, ids[1], "4")
    assert (folder / MANIFEST_NAME).read_bytes() == before
    written = lines(folder)
    assert [list(x["files"]) for x in written] == [[ids[1]], [ids[1]]]  # type: ignore[call-overload]
    assert stat.S_IMODE((folder / LOG_NAME).stat().st_mode) == 0o600
    again = LocalBackend(folder=folder)  # another process: manifest + log
    assert again.info(ids[1]).by_me  # the own write's hash came from the log
    assert again.changes(again.start_token())[0] == []


def test_a_teachers_edit_is_seen_through_the_log_too(folder: Path) -> None:
    backend = LocalBackend(folder=folder)
    file_id = backend.create(sample_spec()).id
    token = backend.start_token()
    local_teacher_edit(backend, file_id, GRADES, 2, 3, "3")
    found, _ = LocalBackend(folder=folder).changes(token)
    assert [(i.id, i.by_me) for i in found] == [(file_id, False)]
    # two scans' observations (the new file's first version, then the edit): two lines
    assert [(x["seq"], list(x["files"])) for x in lines(folder)] == [  # type: ignore[call-overload]
        (1, [file_id]), (2, [file_id])]


def test_a_last_line_cut_short_is_ignored_and_the_file_counts_as_changed(folder: Path) -> None:
    backend = LocalBackend(folder=folder)
    file_id = backend.create(sample_spec()).id
    token = backend.start_token()
    write_mark(backend, file_id, "5")
    log = folder / LOG_NAME
    log.write_bytes(log.read_bytes()[:-20])  # the process died in the middle of the append
    fresh = LocalBackend(folder=folder)
    assert not fresh.info(file_id).by_me  # the own write is forgotten…
    found, _ = fresh.changes(token)
    assert [i.id for i in found] == [file_id]  # …so the cycle reads the file again


def test_a_damaged_line_in_the_middle_is_refused_with_a_hint(folder: Path) -> None:
    backend = LocalBackend(folder=folder)
    file_id = backend.create(sample_spec()).id
    write_mark(backend, file_id, "5")
    write_mark(backend, file_id, "4")
    log = folder / LOG_NAME
    _, second = log.read_text(encoding="utf-8").splitlines()
    log.write_text("{broken\n" + second + "\n", encoding="utf-8")
    with pytest.raises(BackendError) as caught:
        LocalBackend(folder=folder).info(file_id)
    assert "damaged at line 1" in caught.value.message
    assert caught.value.hint is not None and LOG_NAME in caught.value.hint


def test_a_line_never_sets_a_path(folder: Path) -> None:
    backend = LocalBackend(folder=folder)
    file_id = backend.create(sample_spec()).id
    write_mark(backend, file_id, "5")
    log = folder / LOG_NAME
    line = lines(folder)[0]
    line["files"][file_id]["path"] = "../outside/evil.xlsx"  # type: ignore[index]
    log.write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(BackendError) as caught:
        LocalBackend(folder=folder).info(file_id)
    assert "sets other fields" in caught.value.message


def test_lines_of_an_older_generation_are_not_applied(folder: Path) -> None:
    backend = LocalBackend(folder=folder)
    file_id = backend.create(sample_spec()).id
    write_mark(backend, file_id, "5")
    old_log = (folder / LOG_NAME).read_bytes()
    backend.grant(file_id, "teacher@example.com", "writer")  # type: ignore[arg-type]
    assert not (folder / LOG_NAME).exists()  # a rewrite: new generation, old log deleted
    write_mark(backend, file_id, "4")
    hash_now = LocalBackend(folder=folder).info(file_id).version
    (folder / LOG_NAME).write_bytes(old_log + (folder / LOG_NAME).read_bytes())  # a crash left it
    assert LocalBackend(folder=folder).info(file_id).version == hash_now


def test_the_manifest_is_rewritten_once_the_log_outgrows_it(folder: Path) -> None:
    file_id = LocalBackend(folder=folder).create(sample_spec()).id
    store = ManifestStore(folder)
    manifest = store.load()
    generation = manifest.log
    saves = 0
    while manifest.log == generation:
        manifest.files[file_id].own_hash = f"{saves:064x}"  # same length every time
        store.save(manifest, changed=[file_id])
        saves += 1
        if saves == 1:
            line = (folder / LOG_NAME).stat().st_size
    # appended while the log held at most max(64 KiB, the manifest) bytes: the manifest is small
    assert (folder / MANIFEST_NAME).stat().st_size < 64 * 1024
    assert saves == 64 * 1024 // line + 2
    assert not (folder / LOG_NAME).exists()  # the rewrite deleted the old generation's log
    assert ManifestStore(folder).load().files[file_id].own_hash == f"{saves - 1:064x}"


def test_a_log_that_cannot_be_written_fails_the_write_loudly(folder: Path) -> None:
    backend = LocalBackend(folder=folder)
    file_id = backend.create(sample_spec()).id
    (folder / LOG_NAME).mkdir()  # not a file: the append fails
    with pytest.raises(BackendError) as caught:
        write_mark(backend, file_id, "5")
    assert "manifest's log" in caught.value.message
    (folder / LOG_NAME).rmdir()
    write_mark(backend, file_id, "4")  # and works again once it can
    assert LocalBackend(folder=folder).info(file_id).by_me
