"""The local backend's private folder: the manifest and the deputies' admin workbook live apart
from the teachers' sheets folder, so a teacher who can write every journal can neither add a
correction row nor edit the manifest; a school that sets the folder later has its manifest moved
there; the configuration refuses a private folder inside the sheets folder (or the other way)."""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from config import load_school
from rules.errors import ConfigError
from sync.backends.local.backend import LocalBackend
from sync.backends.local.manifest import MANIFEST_NAME
from sync.jobs.service import Service
from sync.jobs.setup import run_setup
from sync.ledger.model import FileKind
from tests.sync.backend_helpers import grades_tab, sample_spec

ROOT = Path(__file__).resolve().parents[3]


def test_private_spreadsheets_and_the_manifest_live_in_the_private_folder(tmp_path: Path) -> None:
    sheets, private = tmp_path / "share" / "sheets", tmp_path / "deputies"
    backend = LocalBackend(sheets, private_folder=private)
    journal = backend.create(sample_spec())
    admin = backend.create(replace(sample_spec(name="Администрация"), private=True))

    assert backend.path(journal.id).parent == sheets
    assert backend.path(admin.id).parent == private
    assert (private / MANIFEST_NAME).is_file() and not (sheets / MANIFEST_NAME).exists()
    assert [p.name for p in sheets.glob("*.xlsx")] == [backend.path(journal.id).name]
    token = backend.start_token()
    backend.write(admin.id, [(grades_tab().open_ranges[0], [["4"]])])
    assert backend.read(admin.id, [grades_tab().title])  # read from the private folder
    changed, _ = backend.changes(token)
    assert [c.id for c in changed] == [admin.id]  # the feed covers both folders
    backend.delete(admin.id)
    assert list((private / ".trash").glob("*.xlsx"))  # its trash is private too

    again = LocalBackend(sheets, private_folder=private)  # a new process finds the same files
    assert again.path(journal.id) == backend.path(journal.id)
    without = LocalBackend(sheets)  # the private folder forgotten: the manifest is not there
    with pytest.raises(Exception, match=r"holds 1 spreadsheet\(s\) but its manifest"):
        without.path(journal.id)


def test_a_school_that_sets_the_private_folder_later_has_its_manifest_moved(
        tmp_path: Path) -> None:
    sheets = tmp_path / "sheets"
    first = LocalBackend(sheets)
    journal = first.create(sample_spec())
    where = first.path(journal.id)
    assert (sheets / MANIFEST_NAME).is_file()

    later = LocalBackend(sheets, private_folder=tmp_path / "private")

    assert not (sheets / MANIFEST_NAME).exists()
    assert (tmp_path / "private" / MANIFEST_NAME).is_file()
    assert later.path(journal.id) == where


def test_setup_puts_the_admin_workbook_in_the_private_folder(tmp_path: Path) -> None:
    school_dir = tmp_path / "school"
    shutil.copytree(ROOT / "config" / "example", school_dir,
                    ignore=shutil.ignore_patterns("var", "__pycache__"))
    toml = school_dir / "school.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        'private_folder = "var/private"', 'private_folder = "private"', 1), encoding="utf-8")
    school = load_school(toml)
    assert school.backend.private_folder == (school_dir / "private").resolve()
    clock = lambda: datetime(2026, 9, 1, 8, tzinfo=school.timezone)  # noqa: E731
    with Service.open(school, clock=clock) as svc:
        run_setup(svc)
        with svc.ledger.snapshot() as tx:
            (admin,) = tx.files(FileKind.ADMIN)
        path = Path(svc.backend.path(admin.id))
    assert path.parent == school_dir / "private"
    assert not any("Администрация" in p.name for p in (school_dir / "var" / "sheets").iterdir())


@pytest.mark.parametrize("private", ["var/sheets/admin", "var"])
def test_a_private_folder_inside_or_around_the_sheets_folder_is_refused(
        tmp_path: Path, private: str) -> None:
    school_dir = tmp_path / "school"
    shutil.copytree(ROOT / "config" / "example", school_dir,
                    ignore=shutil.ignore_patterns("var", "__pycache__"))
    toml = school_dir / "school.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        'private_folder = "var/private"', f'private_folder = "{private}"', 1), encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_school(toml)
    assert "must be apart from the sheets folder" in str(refused.value)


def test_the_manifest_is_created_0600_even_under_umask_022(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        backend = LocalBackend(tmp_path / "sheets", private_folder=tmp_path / "private")
        backend.create(sample_spec())
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "private" / MANIFEST_NAME).stat().st_mode) == 0o600
