"""``ejournal lock`` and ``sync`` are loud about a lock that could not land: a journal held open in
LibreOffice when its protection must move makes ``lock`` exit 4, ``status`` lists it as pending
with the time it has waited, and the next ``sync`` retries it (exit 0 once it lands).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from config import load_school
from sync.cli.options import EXIT_FILES_FAILED
from sync.ledger.ledger import Ledger
from sync.ledger.model import FileKind
from tests.sync.cli.cli_helpers import run

pytestmark = pytest.mark.slow


def test_a_busy_journal_whose_protection_must_move_exits_4_and_is_retried_by_sync(
    set_up_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    school = load_school(set_up_config)
    with Ledger.open(school.ledger_path) as ledger, ledger.transaction() as tx:
        journal = tx.file_for(FileKind.JOURNAL, "7Б/algebra")
        assert journal is not None
        tx.record_open_ranges(journal.id, None, datetime.now(UTC))  # its protection must move
        path = next((set_up_config.parent / "var" / "sheets").glob("Журнал 7Б · Алгебра*.xlsx"))
    lock = path.parent / f".~lock.{path.name}#"
    lock.write_text("teacher,PC-12,04.12.2026 16:00\n", encoding="utf-8")

    code, out, err = run(capsys, "lock", "--config", str(set_up_config), "--json")

    assert code == EXIT_FILES_FAILED == 4, err
    assert json.loads(out)["skipped_busy"] == ["Журнал 7Б · Алгебра · 2026/27"]
    code, out, _ = run(capsys, "status", "--config", str(set_up_config), "--json")
    assert code == 0
    (pending,) = json.loads(out)["locks_pending"]
    assert (pending["file"], pending["kind"], pending["key"]) == (journal.id, "journal", "7Б/algebra")
    assert pending["name"] == "Журнал 7Б · Алгебра · 2026/27"  # for people; the id for machines
    assert pending["hours"] >= 0
    code, out, _ = run(capsys, "status", "--config", str(set_up_config))
    assert "Locks pending (read or protection failed; every sync cycle retries): 1" in out
    assert f"\n  Журнал 7Б · Алгебра · 2026/27 (file {journal.id}) since " in out

    lock.unlink()  # the teacher closes LibreOffice
    code, out, err = run(capsys, "sync", "--config", str(set_up_config), "--json")
    assert code == 0, out + err
    assert json.loads(out)["locks_retried"] == 1
    code, out, _ = run(capsys, "status", "--config", str(set_up_config), "--json")
    assert json.loads(out)["locks_pending"] == []


def test_lock_after_the_sheets_folder_was_replaced_reads_every_file_and_succeeds(
    synced_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The manifest in the private folder is another installation's now (its instance differs):
    the ledger's change token is not of it (``FeedReset``). ``lock`` runs before any ``sync``:
    no error, every journal and class sheet read before its protection, exit 0; the next ``sync``
    reads them all again (the reset is still its to take)."""
    manifest = synced_config.parent / "var" / "private" / "ejournal-manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["instance"] = "0" * len(data["instance"])
    manifest.write_text(json.dumps(data), encoding="utf-8")

    code, out, err = run(capsys, "lock", "--config", str(synced_config), "--json")

    assert code == 0, out + err
    done = json.loads(out)
    assert (done["errors"], done["failed"], done["skipped_busy"]) == ([], [], [])
    # the example school: 44 journals and 3 class sheets (5А, 7Б, 10А); nothing of them closed
    # since the first sync, so only the reset makes this run read them
    assert (done["journals_read"], done["classes_read"]) == (44, 3)
    code, out, err = run(capsys, "sync", "--config", str(synced_config), "--json")
    assert code == 0, out + err
    assert json.loads(out)["journals_read"] == 44
    code, out, err = run(capsys, "lock", "--config", str(synced_config), "--json")
    assert code == 0, out + err  # the control: with the feed whole again, nothing to read
    assert (json.loads(out)["journals_read"], json.loads(out)["classes_read"]) == (0, 0)
