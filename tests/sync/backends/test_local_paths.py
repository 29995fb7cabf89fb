"""The local backend's manifest is a file in the teachers' folder, so its paths are untrusted: a path
that is absolute, climbs out with ``..`` or leads out through a symlink is refused for every
operation, with an English message naming the file id, and nothing outside the folder is read,
written, moved or created.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sync.backends.local.backend import LocalBackend
from sync.backends.local.files import OutsideFolder, inside
from sync.backends.local.manifest import MANIFEST_NAME
from sync.backends.protocol import CellRange, SpreadsheetSpec
from tests.sync.backend_helpers import GRADES, sample_spec

NAME = "Журнал 7Б · Математика · 2026/27"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "sheets"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the sheets folder holding a workbook the attacker points the manifest at."""
    where = tmp_path / "outside"
    where.mkdir()
    return where


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file under ``folder``: its content hash and mtime (what "nothing changed" means)."""
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(),
                                         p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def point_manifest(folder: Path, file_id: str, path: str) -> None:
    """The attacker edits the manifest in the shared folder: the file's path becomes ``path``."""
    manifest = folder / MANIFEST_NAME
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["files"][file_id]["path"] = path
    manifest.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


# --------------------------------------------------------------------------- the path rule


@pytest.mark.parametrize("relative", [
    "../outside/evil.xlsx", "a/../../outside/evil.xlsx", "/tmp/evil.xlsx", "//server/evil.xlsx",
    "C:/evil.xlsx", "C:evil.xlsx", "..\\outside\\evil.xlsx", "a//b.xlsx", "./a.xlsx", "",
    "ejournal-manifest.json", "a.xlsx\x00.json", "sub/..",
])
def test_paths_that_are_not_plain_relative_xlsx_paths_are_refused(folder: Path,
                                                                  relative: str) -> None:
    folder.mkdir()
    with pytest.raises(OutsideFolder, match="not a relative path inside the sheets folder"):
        inside(folder, relative, "file f1")


def test_plain_relative_paths_are_kept(folder: Path) -> None:
    folder.mkdir()
    assert inside(folder, "a.xlsx", "f") == folder / "a.xlsx"
    assert inside(folder, "7Б/Журнал.XLSX", "f") == folder / "7Б" / "Журнал.XLSX"  # may not exist yet


def test_symlinks_leading_out_are_refused_and_symlinks_inside_are_kept(folder: Path,
                                                                       outside: Path) -> None:
    folder.mkdir()
    (outside / "evil.xlsx").write_bytes(b"x")
    (folder / "link.xlsx").symlink_to(outside / "evil.xlsx")
    (folder / "dir").symlink_to(outside, target_is_directory=True)
    (folder / "loop.xlsx").symlink_to(folder / "loop.xlsx")
    (folder / "real.xlsx").write_bytes(b"y")
    (folder / "alias.xlsx").symlink_to(folder / "real.xlsx")
    for relative in ("link.xlsx", "dir/evil.xlsx", "dir/new.xlsx", "loop.xlsx"):
        with pytest.raises(OutsideFolder):
            inside(folder, relative, "file f1")
    assert inside(folder, "alias.xlsx", "f") == folder / "alias.xlsx"


# --------------------------------------------------------------------------- every operation


OPERATIONS: dict[str, Callable[[LocalBackend, str], Any]] = {
    "read": lambda b, f: b.read(f, [GRADES]),
    "tabs": lambda b, f: b.tabs(f),
    "info": lambda b, f: b.info(f),
    "path": lambda b, f: b.path(f),
    "write": lambda b, f: b.write(f, [(CellRange(GRADES, 1, 1, 2, 2), [["5"]])]),
    "protect": lambda b, f: b.set_open_ranges(f, {GRADES: [CellRange(GRADES, 1, 1, 2, 2)]}),
    "open_ranges": lambda b, f: b.open_ranges(f),
    "rename_tab": lambda b, f: b.rename_tab(f, GRADES, GRADES + " 2"),
    "delete": lambda b, f: b.delete(f),
}


def attacks(folder: Path, outside: Path) -> dict[str, str]:
    """The manifest paths of the attack, each leading to ``outside/evil.xlsx``."""
    (folder / "link.xlsx").symlink_to(outside / "evil.xlsx")
    (folder / "out").symlink_to(outside, target_is_directory=True)
    return {"dotdot": "../outside/evil.xlsx", "absolute": str(outside / "evil.xlsx"),
            "symlink file": "link.xlsx", "symlink folder": "out/evil.xlsx"}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_every_operation_on_a_path_out_of_the_folder_is_refused_and_touches_nothing_there(
        folder: Path, outside: Path, operation: str) -> None:
    backend = LocalBackend(folder)
    victim = backend.create(sample_spec(NAME))
    (outside / "evil.xlsx").write_bytes(backend.path(victim.id).read_bytes())
    for kind, path in attacks(folder, outside).items():
        point_manifest(folder, victim.id, path)
        before = snapshot(outside)
        with pytest.raises(OutsideFolder) as caught:
            OPERATIONS[operation](backend, victim.id)
        message = str(caught.value)
        assert victim.id in message and repr(path) in message, (kind, message)
        assert "refused" in message and caught.value.hint and "manifest" in caught.value.hint
        assert snapshot(outside) == before, kind  # not written, not moved into .trash
        assert not list(folder.glob(".trash/*")), kind


def test_the_change_feed_reports_the_refused_file_once_with_a_warning(
        folder: Path, outside: Path, caplog: pytest.LogCaptureFixture) -> None:
    backend = LocalBackend(folder, settle_seconds=0)
    victim = backend.create(sample_spec(NAME))
    other = backend.create(sample_spec("Журнал 7Б · Физика · 2026/27"))
    token = backend.start_token()
    (outside / "evil.xlsx").write_bytes(backend.path(victim.id).read_bytes())
    point_manifest(folder, victim.id, "../outside/evil.xlsx")
    backend.write(other.id, [(CellRange(GRADES, 1, 1, 2, 2), [["5"]])])
    with caplog.at_level(logging.WARNING, logger="sync.backends.local.backend"):
        changed, token = backend.changes(token)
    # the refused file is reported once, without a version (so the cycle's read of it fails
    # loudly); the other file as usual
    assert sorted((c.id, bool(c.version)) for c in changed) == sorted(
        [(victim.id, False), (other.id, True)])
    assert backend.changes(token)[0] == []  # not again while nothing moves
    assert any(victim.id in r.getMessage() and "../outside/evil.xlsx" in r.getMessage()
               for r in caplog.records)


def test_a_new_file_is_not_created_through_a_symlinked_subfolder(folder: Path,
                                                                 outside: Path) -> None:
    backend = LocalBackend(folder)
    (folder / "7Б").symlink_to(outside, target_is_directory=True)
    spec = SpreadsheetSpec(name=NAME, tabs=sample_spec(NAME).tabs, folder="7Б/Математика")
    with pytest.raises(OutsideFolder, match="leads out of the sheets folder"):
        backend.create(spec)
    assert list(outside.iterdir()) == []


def test_a_symlinked_trash_is_refused_so_a_deleted_file_never_moves_out(folder: Path,
                                                                        outside: Path) -> None:
    backend = LocalBackend(folder)
    victim = backend.create(sample_spec(NAME))
    os.symlink(outside, folder / ".trash", target_is_directory=True)
    with pytest.raises(OutsideFolder):
        backend.delete(victim.id)
    assert backend.path(victim.id).is_file() and list(outside.iterdir()) == []
