"""A missing audit anchor is never re-made by ``sync`` or ``lock``: they do their work (a deputy's
correction is still applied), say so with a Hint to ``audit verify --reanchor`` and exit 3; the
anchor comes back only through that deliberate command.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.sync.cli.test_cli_private import (  # noqa: F401 (the fixture)
    DAY,
    DEPUTY_PUPIL,
    TITLE,
    config,
    marks_of,
    type_row,
)
from tests.sync.cli.test_cli_sync import run

pytestmark = pytest.mark.slow


def test_sync_and_lock_go_on_without_re_making_a_lost_anchor_and_exit_3(
    config: Path, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    anchor = config.parent / "var-ledger.anchor"
    assert json.loads(anchor.read_text(encoding="utf-8"))["event"] > 0  # setup wrote the first
    anchor.unlink()  # deleted, to have the next run anchor a forged head
    admin = config.parent / "var" / "private" / "Администрация · 2026-27.xlsx"
    type_row(admin, 1, [TITLE, DAY, DEPUTY_PUPIL, "отметка", "4", "ошибка", "45-к", "да"])

    code, out, err = run(capsys, "sync", "--config", str(config), "--json")

    assert code == 3, out + err
    assert json.loads(out)["corrections"]["applied"] == 1  # the work went on
    assert marks_of(config, DEPUTY_PUPIL) == ["4"]
    assert f"Problem: the audit anchor {anchor} is missing, though the ledger wrote it" in err
    assert "Hint: " in err and "`ejournal audit verify --reanchor`" in err
    assert not anchor.exists()
    code, _, err = run(capsys, "lock", "--config", str(config))
    assert code == 3 and "is missing, though the ledger wrote it" in err
    assert not anchor.exists()

    code, out, err = run(capsys, "audit", "verify", "--reanchor", "--config", str(config))
    assert code == 0, out + err
    assert anchor.exists()
    code, _, err = run(capsys, "sync", "--config", str(config))
    assert code == 0, err
