"""``tools/render_journal.py``: a journal of the example school rendered to PNG by LibreOffice
(skipped, with the reason, where LibreOffice or poppler is not installed)."""

from __future__ import annotations

import struct
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from sync.backends.local.backend import LocalBackend
from sync.layout.journal.spec import journal_spec
from tests.sync.layout_helpers import example_school

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "render_journal.py"
sys.path.insert(0, str(SCRIPT.parent))
import render_journal  # noqa: E402  (a script, not a package)

MISSING = render_journal.tools_missing()


def journal(tmp_path: Path) -> Path:
    school = example_school()
    lessons = school.lessons()[("7Б", "algebra")]
    backend = LocalBackend(folder=tmp_path / "sheets")
    spec = journal_spec(school, "7Б", "algebra", lessons, today=date(2026, 9, 8))
    return backend.path(backend.create(spec).id)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.skipif(MISSING is not None, reason=f"cannot render: {MISSING}")
def test_a_journal_tab_renders_to_a_png(tmp_path: Path) -> None:
    out = tmp_path / "q1.png"
    done = subprocess.run([sys.executable, str(SCRIPT), str(journal(tmp_path)), "--tab",
                           "1 четверть", "--out", str(out), "--dpi", "60"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out)
    width, height = png_size(out)
    assert width > height > 200  # a landscape page at 60 dpi: 11.7 × 8.3 in → ~700 × 500


def test_an_unknown_tab_is_a_clear_error(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), str(journal(tmp_path)), "--tab", "Нет"],
                          capture_output=True, text=True, timeout=300, check=False)
    if MISSING is not None:
        assert (done.returncode, done.stderr.strip()) == (2, f"Error: {MISSING}")
    else:
        assert done.returncode == 1 and "has no tab 'Нет'" in done.stderr
