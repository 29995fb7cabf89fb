"""Disconnected files on the local backend: a deleted manifest, a deleted sheets folder.

The service must never say «journal ok» about files it cannot account for, nor write «(2)» copies
beside the originals: with the manifest gone (the files still there) ``sync`` and ``status`` exit
4 and name the cause, ``setup`` refuses; moved out of the way, the files are re-created by
``rebuild`` under their own names. With the whole folder gone, the next ``sync`` re-creates every
spreadsheet under its own name (exit 4 once: what was typed since the last read is lost).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.backends.local.manifest import MANIFEST_NAME
from sync.cli.main import main

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "config" / "example"

pytestmark = pytest.mark.slow


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    school = tmp_path / "school"
    shutil.copytree(EXAMPLE, school, ignore=shutil.ignore_patterns("var", "__pycache__"))
    path = school / "school.toml"
    assert main(["setup", "--config", str(path)]) == 0
    assert main(["sync", "--config", str(path)]) == 0
    yield path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def names(sheets: Path) -> list[str]:
    return sorted(p.name for p in sheets.glob("*.xlsx"))


def test_a_deleted_manifest_is_loud_and_never_duplicates(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheets, private = config.parent / "var" / "sheets", config.parent / "var" / "private"
    before, admin = names(sheets), names(private)
    assert (len(before), len(admin)) == (44 + 3 + 1, 1)  # journals, class sheets, board; admin's
    (private / MANIFEST_NAME).unlink()  # the manifest lives beside the admin workbook

    code, out, err = run(capsys, "sync", "--config", str(config), "--json")
    assert code == 4, err
    (error,) = json.loads(out)["errors"]
    assert "holds 48 spreadsheet(s) but its manifest" in error and "is missing" in error
    code, out, _ = run(capsys, "status", "--config", str(config))
    assert code == 4
    assert "Spreadsheets: NOT ACCOUNTED FOR (admin ok: 1" in out
    code, _, err = run(capsys, "setup", "--config", str(config))
    assert code == 1 and "Hint: restore ejournal-manifest.json" in err
    assert names(sheets) == before  # no «(2)» copies

    aside = config.parent / "aside"
    aside.mkdir()
    for path in [*sheets.glob("*.xlsx"), *private.glob("*.xlsx")]:
        path.rename(aside / path.name)
    code, out, err = run(capsys, "rebuild", "--config", str(config), "--json")
    assert code == 0, err
    assert len(json.loads(out)["rebuilt"]) == 49
    assert (names(sheets), names(private)) == (before, admin)  # under their own names
    assert run(capsys, "sync", "--config", str(config))[0] == 0
    code, out, _ = run(capsys, "status", "--config", str(config))
    assert code == 0 and "NOT ACCOUNTED FOR" not in out


def test_a_deleted_sheets_folder_is_re_created_under_its_own_names(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheets = config.parent / "var" / "sheets"
    before = names(sheets)
    diaries = sorted(str(p.relative_to(sheets)) for p in sheets.rglob("Дневники/**/*.xlsx"))
    with (config.parent / "pupils.csv").open(encoding="utf-8") as f:
        assert len(diaries) == len(f.readlines()) - 1  # one diary per pupil of the list
    shutil.rmtree(sheets)

    code, out, err = run(capsys, "sync", "--config", str(config), "--json")
    assert code == 4, err  # every registered file was gone: re-created from the ledger
    data = json.loads(out)
    # the manifest (in var/private) still lists every file that was in the folder: 44 journals,
    # 3 class sheets, the board and a diary for each of the 73 pupils of pupils.csv; the admin
    # workbook in var/private was not deleted
    assert (len(data["rebuilt"]), data["failed"], data["errors"]) == (44 + 3 + 1 + 73, [], [])
    assert names(sheets) == before  # under their own names, not «… (2)»
    assert sorted(str(p.relative_to(sheets)) for p in sheets.rglob("Дневники/**/*.xlsx")) == diaries
    code, out, err = run(capsys, "sync", "--config", str(config), "--json")
    assert code == 0, err
    assert json.loads(out)["rebuilt"] == []
    assert json.loads(out)["diaries"]["created"] == 0
    assert run(capsys, "status", "--config", str(config))[0] == 0
