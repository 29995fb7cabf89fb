"""Disconnected files on the local backend: a deleted manifest, a deleted sheets folder.

The service must never say «journal ok» about files it cannot account for, nor write «(2)» copies
beside the originals: with the manifest gone (the files still there) ``status`` exits 4 and
``setup`` refuses; the next ``sync`` re-adopts each file whose name and content (the bytes it last
saw, or hidden pupil ids of the right class) prove it its own, and leaves a look-alike alone,
named (exit 4). With the whole folder gone, the next ``sync`` re-creates every spreadsheet under
its own name (exit 4 once: what was typed since the last read is lost).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pytest

from sync.backends.local.manifest import MANIFEST_NAME
from tests.sync.cli.cli_helpers import journal_file, run

pytestmark = pytest.mark.slow


def names(sheets: Path) -> list[str]:
    return sorted(p.name for p in sheets.glob("*.xlsx"))


def sharing(private: Path) -> dict[str, list[tuple[str, str]]]:
    """Each file's grants (e-mail, role) by its path, as the manifest records them."""
    files = json.loads((private / MANIFEST_NAME).read_text(encoding="utf-8"))["files"]
    return {e["path"]: sorted((g["email"], g["role"]) for g in e["grants"]) for e in files.values()}


def resave(path: Path) -> None:
    """LibreOffice opens the journal and saves it: the same content, other bytes."""
    wb = openpyxl.load_workbook(path)
    wb.save(path)


def test_a_deleted_manifest_re_adopts_the_files_provably_ours(
    synced_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheets, private = synced_config.parent / "var" / "sheets", synced_config.parent / "var" / "private"
    before = names(sheets)
    assert (len(before), len(names(private))) == (44 + 3 + 1, 1)  # the admin workbook
    # the diaries in their folders too, and the admin workbook beside the manifest
    spreadsheets = len(list(sheets.rglob("*.xlsx"))) + 1
    shared = sharing(private)
    _, physics = journal_file(synced_config, "7Б/physics")
    (private / MANIFEST_NAME).unlink()  # the manifest lives beside the admin workbook
    resave(physics)  # no longer the bytes the ledger saw: proven by its hidden pupil ids

    code, out, _ = run(capsys, "status", "--config", str(synced_config))
    assert code == 4 and "Spreadsheets: NOT ACCOUNTED FOR (admin ok: 1" in out
    assert f"the manifest {private / MANIFEST_NAME} is missing beside 49 spreadsheet(s): run " \
        "`ejournal sync` to re-adopt" in out  # said before any sync ran into it
    code, _, err = run(capsys, "setup", "--config", str(synced_config))
    assert code == 1 and "Hint: run `ejournal sync`: it re-adopts" in err
    assert names(sheets) == before  # no «(2)» copies

    code, out, err = run(capsys, "sync", "--config", str(synced_config), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert len(data["readopted"]) == spreadsheets == 122
    assert (data["errors"], data["rebuilt"], data["failed"]) == ([], [], [])
    assert "Журнал 7Б · Физика · 2026/27" in data["readopted"]
    assert (data["journals_read"], data["classes_read"]) == (44, 3)  # every one, read again
    assert names(sheets) == before and not (sheets / ".trash").exists()
    assert journal_file(synced_config, "7Б/physics")[1] == physics  # under its own id and name
    assert sharing(private) == shared  # the new manifest's grants, as before
    code, out, err = run(capsys, "sync", "--config", str(synced_config), "--json")
    assert code == 0, err
    assert (json.loads(out)["journals_read"], json.loads(out)["readopted"]) == (0, [])  # idle
    code, out, _ = run(capsys, "status", "--config", str(synced_config))
    assert code == 0 and "NOT ACCOUNTED FOR" not in out


def test_a_look_alike_with_other_hidden_ids_is_not_adopted(
    synced_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheets = synced_config.parent / "var" / "sheets"
    before = names(sheets)
    _, algebra = journal_file(synced_config, "7Б/algebra")
    _, math = journal_file(synced_config, "5А/math")
    (synced_config.parent / "var" / "private" / MANIFEST_NAME).unlink()
    shutil.copyfile(algebra, math)  # «Журнал 5А · Математика» now holds 7Б's pupils
    resave(math)
    look_alike = math.read_bytes()

    code, out, err = run(capsys, "sync", "--config", str(synced_config), "--json")
    assert code == 4, err
    data = json.loads(out)
    assert len(data["readopted"]) == 121
    assert "Журнал 5А · Математика · 2026/27" not in data["readopted"]
    (error,) = data["errors"]
    assert error.startswith("re-adoption: «Журнал 5А · Математика · 2026/27» is in the sheets")
    assert math.read_bytes() == look_alike  # left alone
    assert names(sheets) == before  # nothing duplicated
    code, out, _ = run(capsys, "status", "--config", str(synced_config))
    assert code == 4
    assert "Spreadsheets: NOT ACCOUNTED FOR (admin ok: 1, board ok: 1, class ok: 3, diary ok: 73, " \
        "journal ok: 44 in the ledger) — the last sync: re-adoption: «Журнал 5А · Математика" in out
    code, out, err = run(capsys, "sync", "--config", str(synced_config), "--json")
    assert code == 4 and names(sheets) == before  # every cycle the same: no copy, no adoption
    assert math.read_bytes() == look_alike
    (problem,) = json.loads(out)["failed"]
    assert "a file of that name is there that the manifest does not name" in problem["error"]

    math.rename(synced_config.parent / math.name)  # the sysadmin moves the look-alike away
    code, out, err = run(capsys, "sync", "--config", str(synced_config), "--json")
    assert code == 4, err  # re-created from the ledger: what was typed in it since is lost
    assert (len(json.loads(out)["rebuilt"]), json.loads(out)["failed"]) == (1, [])
    assert names(sheets) == before and math.read_bytes() != look_alike
    code, out, _ = run(capsys, "status", "--config", str(synced_config))
    assert code == 0 and "NOT ACCOUNTED FOR" not in out


def test_a_deleted_sheets_folder_is_re_created_under_its_own_names(
    synced_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheets = synced_config.parent / "var" / "sheets"
    before = names(sheets)
    diaries = sorted(str(p.relative_to(sheets)) for p in sheets.rglob("Дневники/**/*.xlsx"))
    with (synced_config.parent / "pupils.csv").open(encoding="utf-8") as f:
        assert len(diaries) == len(f.readlines()) - 1  # one diary per pupil of the list
    shutil.rmtree(sheets)

    code, out, err = run(capsys, "sync", "--config", str(synced_config), "--json")
    assert code == 4, err  # every registered file was gone: re-created from the ledger
    data = json.loads(out)
    # the manifest (in var/private) still lists every file that was in the folder: 44 journals,
    # 3 class sheets, the board and a diary for each of the 73 pupils of pupils.csv; the admin
    # workbook in var/private was not deleted
    assert (len(data["rebuilt"]), data["failed"], data["errors"]) == (44 + 3 + 1 + 73, [], [])
    assert names(sheets) == before  # under their own names, not «… (2)»
    assert sorted(str(p.relative_to(sheets)) for p in sheets.rglob("Дневники/**/*.xlsx")) == diaries
    code, out, err = run(capsys, "sync", "--config", str(synced_config), "--json")
    assert code == 0, err
    assert json.loads(out)["rebuilt"] == []
    assert json.loads(out)["diaries"]["created"] == 0
    assert run(capsys, "status", "--config", str(synced_config))[0] == 0
