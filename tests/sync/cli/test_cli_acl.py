"""`ejournal acl check` and `acl fix` in process on the local backend (the manifest's grants stand
in for Drive's permissions): exit code 3 while sharing differs from what is wanted, 0 once fixed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from config import load_school
from sync.backends.local.backend import LocalBackend
from sync.backends.protocol import Role
from sync.cli.main import main
from sync.ledger.ledger import Ledger
from sync.ledger.model import FileKind

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "config" / "example"

pytestmark = pytest.mark.slow


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_exits_3_on_drift_and_fix_repairs_it(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "school"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("var", "__pycache__"))
    text = (folder / "school.toml").read_text(encoding="utf-8")
    (folder / "school.toml").write_text(  # a quicker school: no diaries here
        text.replace("# enabled = true", "enabled = false"), encoding="utf-8")
    config = str(folder / "school.toml")
    assert run(capsys, "setup", "--config", config)[0] == 0
    code, out, err = run(capsys, "acl", "check", "--config", config)
    assert code == 0, out + err
    assert out.startswith("Files checked: 49; differences: 0")

    school = load_school(folder / "school.toml")
    backend = LocalBackend.from_settings(school.backend)
    with Ledger.open(school.ledger_path) as ledger, ledger.snapshot() as tx:
        journal = tx.file_for(FileKind.JOURNAL, "7Б/algebra")
    assert journal is not None
    backend.grant(journal.id, "stranger@example.com", Role.WRITER)  # someone shared it

    code, out, _ = run(capsys, "acl", "check", "--config", config, "--json")
    assert code == 3
    data = json.loads(out)
    algebra = "Журнал 7Б · Алгебра · 2026/27"  # as a person knows it, its id beside
    assert [(d["who"], d["what"], d["name"], d["file"]) for d in data["drift"]] == [
        ("stranger@example.com", "extra", algebra, journal.id)]
    code, out, _ = run(capsys, "acl", "check", "--config", config)
    assert code == 3 and f"  extra        {algebra}: stranger@example.com (user)" in out
    assert "stranger@example.com" in [g.email for g in backend.grants(journal.id)]  # unchanged

    code, out, _ = run(capsys, "acl", "fix", "--config", config)
    assert code == 0, out
    assert "repaired: 1" in out
    assert "stranger@example.com" not in [g.email for g in backend.grants(journal.id)]
    assert run(capsys, "acl", "check", "--config", config)[0] == 0
