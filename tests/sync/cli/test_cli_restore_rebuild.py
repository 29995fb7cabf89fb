"""After ``restore`` the next plain ``sync`` re-reads every journal; ``rebuild`` keeps «Замечания».

The example school on the local backend with the real clock: its year started in September, so the
first cycle opens findings (lessons without a topic) on every journal — a «Замечания» tab with
content to keep.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from config import load_school
from sync.backends.local.backend import LocalBackend
from sync.cli.main import main
from sync.ledger.ledger import Ledger
from sync.ledger.model import FileKind
from tests.sync.cli.cli_helpers import run

FINDINGS = "Замечания"

pytestmark = pytest.mark.slow


def sync_json(capsys: pytest.CaptureFixture[str], config: Path) -> dict:
    code, out, err = run(capsys, "sync", "--config", str(config), "--json")
    assert code == 0, err
    return json.loads(out)


def test_the_sync_after_a_restore_reads_every_journal(
    synced_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["backup", "--config", str(synced_config)]) == 0
    (backup,) = (synced_config.parent / "var" / "backups").glob("ledger-*.sqlite3")
    assert sync_json(capsys, synced_config)["journals_read"] == 0  # idle: nothing changed

    assert main(["restore", "--config", str(synced_config), str(backup)]) == 0
    after = sync_json(capsys, synced_config)
    assert (after["journals_read"], after["classes_read"]) == (44, 3)  # every one, read again
    assert after["failed"] == [] and after["first_cycle"] is False
    assert sync_json(capsys, synced_config)["journals_read"] == 0  # and idle again after that


def test_rebuild_keeps_the_findings_tab(synced_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    school = load_school(synced_config)
    backend = LocalBackend.from_settings(school.backend)
    with Ledger.open(school.ledger_path) as ledger, ledger.snapshot() as tx:
        record = tx.file_for(FileKind.JOURNAL, "7Б/physics")
        opened = len(tx.findings("7Б/physics"))
    assert record is not None and opened > 0
    before = backend.read(record.id, [FINDINGS])[FINDINGS]
    shown = [row for row in before[1:] if any(str(c).strip() for c in row)]
    assert len(shown) == opened  # one line per open finding, as the cycle wrote them

    capsys.readouterr()
    assert main(["rebuild", "--config", str(synced_config)]) == 0
    after = backend.read(record.id, [FINDINGS])[FINDINGS]
    assert [row for row in after[1:] if any(str(c).strip() for c in row)] == shown


def test_the_sync_after_a_rebuild_writes_nothing(
    synced_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rebuild re-lays out every journal with the «Статус» of its lessons and remembers its own
    writes: the next cycle reads the journals (their open cells, as rebuild read them, are not
    in the ledger yet) but has nothing to write — no journal, no diary."""
    assert main(["rebuild", "--config", str(synced_config)]) == 0
    after = sync_json(capsys, synced_config)
    assert after["journals_read"] == 44  # every journal, read again
    assert (after["writes"], after["entries_accepted"], after["failed"]) == (0, 0, [])
    assert after["diaries"]["written"] == 0 and after["diaries"]["rendered"] == 0
