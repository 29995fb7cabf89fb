"""The local backend's size caps (``sync.backends.local.caps``): a hostile ``.xlsx`` is refused with a
clear message before it is inflated, in a process whose peak RSS is measured, and a normal journal
still reads in the same process; the caps' edges (rows, columns, area, elements) hold exactly.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import openpyxl
import pytest

from rules.errors import BackendError
from sync.backends.local import caps
from sync.backends.local.backend import LocalBackend
from sync.backends.protocol import CellRange
from tests.sync.backend_helpers import GRADES, sample_spec
from tests.sync.backends.xlsx_bombs import SHEET, cell_bomb, far_cell

ROOT = Path(__file__).resolve().parents[3]
RSS_LIMIT_MIB = 200


@pytest.fixture
def backend(tmp_path: Path) -> LocalBackend:
    return LocalBackend(tmp_path / "sheets", settle_seconds=0)


def journal_bytes(backend: LocalBackend) -> bytes:
    return backend.path(backend.create(sample_spec()).id).read_bytes()


# --------------------------------------------------------------------------- the bombs are real


def test_the_bomb_helper_builds_a_valid_zip_that_inflates_to_what_it_declares(
        backend: LocalBackend) -> None:
    """A 64 MiB bomb streamed through zipfile: the declared size, every byte, the CRC — so the
    3 GiB bomb of the other tests (same code, more repeats) is what it claims."""
    bomb = cell_bomb(journal_bytes(backend), inflated=64 * caps.MiB)
    with zipfile.ZipFile(io.BytesIO(bomb)) as z:
        info = z.getinfo(SHEET)
        total, first = 0, b""
        with z.open(info) as member:  # raises BadZipFile on a CRC mismatch at the end
            while chunk := member.read(2**20):
                first = first or chunk[:200]
                total += len(chunk)
    assert total == info.file_size > 56 * caps.MiB  # within one 8 MB chunk of the target
    assert b"<sheetData><row><c/><c/>" in first
    big = cell_bomb(journal_bytes(backend), inflated=3 * 2**30)
    with zipfile.ZipFile(io.BytesIO(big)) as z:
        assert z.getinfo(SHEET).file_size > 2.9 * 2**30
    assert len(big) < 4 * caps.MiB


# --------------------------------------------------------------------------- refused, in a child


CHILD = textwrap.dedent("""
    import json, resource, sys
    from pathlib import Path
    from rules.errors import BackendError
    from sync.backends.local.backend import LocalBackend
    from sync.backends.protocol import CellRange
    from tests.sync.backend_helpers import GRADES

    def peak_mib():
        # this process's peak RSS: VmHWM (ru_maxrss would include the parent's pages that a
        # vfork + exec inherits on Linux)
        try:
            with open("/proc/self/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    folder, bomb_id, normal_id = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    backend = LocalBackend(folder, settle_seconds=0)
    cell = CellRange(GRADES, 2, 2, 3, 3)
    calls = {
        "read": lambda f: backend.read(f, [GRADES]),
        "tabs": lambda f: backend.tabs(f),
        "open_ranges": lambda f: backend.open_ranges(f),
        "set_open_ranges": lambda f: backend.set_open_ranges(f, {GRADES: [cell]}),
        "write": lambda f: backend.write(f, [(cell, [["5"]])]),
    }
    out = {"errors": {}}
    for name, call in calls.items():
        try:
            call(bomb_id)
            out["errors"][name] = None
        except BackendError as exc:
            out["errors"][name] = [type(exc).__name__, exc.message, exc.hint]
    out["normal"] = backend.read(normal_id, [GRADES])[GRADES]
    out["rss_mib"] = peak_mib()
    print(json.dumps(out, ensure_ascii=False))
""")


def run_child(folder: Path, bomb_id: str, normal_id: str) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(folder), bomb_id, normal_id],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    result: dict = json.loads(done.stdout)
    print(f"peak RSS of the refusing process: {result['rss_mib']:.0f} MiB")
    return result


def planted(tmp_path: Path, make: object) -> tuple[Path, str, str, bytes]:
    """A folder with two journals; the first replaced by ``make(its bytes)``."""
    folder = tmp_path / "sheets"
    backend = LocalBackend(folder, settle_seconds=0)
    bombed, normal = backend.create(sample_spec()), backend.create(sample_spec("Журнал 2"))
    backend.write(normal.id, [(CellRange(GRADES, 2, 2, 3, 3), [["4"]])])
    path = backend.path(bombed.id)
    bomb = make(path.read_bytes())  # type: ignore[operator]
    path.write_bytes(bomb)
    return folder, bombed.id, normal.id, bomb


BOMBS = {
    "3 GiB sheet": (lambda b: cell_bomb(b, inflated=3 * 2**30), "inflates to 3.0 GiB"),
    "3 GiB styles": (lambda b: cell_bomb(b, inflated=3 * 2**30, member="xl/styles.xml"),
                     "xl/styles.xml inflates to"),
    "directory lies": (lambda b: cell_bomb(b, inflated=3 * 2**30, lie_about_size=True), None),
    "cell at XFD1048576": (far_cell, "beyond row 5,000 or column 1,000"),
    "DTD": (lambda b: _with_dtd(b), "declares a DTD"),
}


def _with_dtd(workbook: bytes) -> bytes:
    """Entity expansion: a DTD whose entity nests ten times ten cells per level."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    out = io.BytesIO()
    dtd = ('<!DOCTYPE worksheet [<!ENTITY a "<c/><c/><c/><c/><c/><c/><c/><c/><c/><c/>">'
           + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'
                     for i in range(6)) + "]>")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == SHEET:
                data = dtd.encode() + data
                data = data.replace(b"</sheetData>", b"<row>&g;</row></sheetData>")
            target.writestr(info.filename, data)
    return out.getvalue()


@pytest.mark.parametrize("kind", sorted(BOMBS))
def test_a_hostile_workbook_is_refused_with_a_clear_message_and_rss_stays_low(
        tmp_path: Path, kind: str) -> None:
    make, detail = BOMBS[kind]
    folder, bomb_id, normal_id, bomb = planted(tmp_path, make)
    result = run_child(folder, bomb_id, normal_id)
    for call, error in result["errors"].items():
        if call == "tabs" and kind == "cell at XFD1048576":
            assert error is None  # the tab names are read, no row: nothing to refuse
            continue
        assert error is not None, f"{call} read the {kind} without refusing it"
        name, message, hint = error
        assert bomb_id in message, message
        if detail is None:  # the zip's directory lies: zipfile stops at the declared size
            assert name == "FileDamaged" and "damaged" in message, (call, message)
        else:
            assert "too large to be a spreadsheet of ejournal" in message, (call, message)
            assert detail in message, (call, message)
            assert "ejournal rebuild" in hint
    assert result["normal"][2][2] == "4"  # a normal journal still reads in the same process
    assert result["rss_mib"] < RSS_LIMIT_MIB
    assert (folder / next(p.name for p in folder.glob("*.xlsx")
                          if p.read_bytes() == bomb)).exists()  # refused, left as it was


def test_a_file_over_the_disk_cap_is_not_even_read_into_memory(backend: LocalBackend) -> None:
    file_id = backend.create(sample_spec()).id
    path = backend.path(file_id)
    with path.open("r+b") as f:
        f.truncate(caps.MAX_FILE_BYTES + 1)  # sparse: no 8 MiB written
    with pytest.raises(BackendError, match=r"too large .* the file is 8\.0 MiB"):
        backend.read(file_id, [GRADES])


# --------------------------------------------------------------------------- the edges


def workbook(cells: dict[tuple[int, int], str]) -> bytes:
    """A one-tab workbook titled GRADES with values at 1-based (row, column)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = GRADES
    for (row, col), value in cells.items():
        ws.cell(row, col).value = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def put(backend: LocalBackend, data: bytes) -> str:
    file_id = backend.create(sample_spec()).id
    backend.path(file_id).write_bytes(data)
    return file_id


@pytest.mark.parametrize(("cells", "refused"), [
    ({(caps.MAX_ROWS, 1): "x"}, None),
    ({(caps.MAX_ROWS + 1, 1): "x"}, "beyond row 5,000 or column 1,000"),
    ({(1, caps.MAX_COLS): "x"}, None),
    ({(1, caps.MAX_COLS + 1): "x"}, "beyond row 5,000 or column 1,000"),
    ({(250, 1000): "x"}, None),  # exactly the area cap
    ({(251, 1000): "x"}, "spans"),
])
def test_the_row_column_and_area_caps_hold_exactly(backend: LocalBackend,
                                                   cells: dict[tuple[int, int], str],
                                                   refused: str | None) -> None:
    file_id = put(backend, workbook(cells))
    (row, col), value = next(iter(cells.items()))
    for call in (lambda: backend.read(file_id, [GRADES]), lambda: backend.open_ranges(file_id)):
        if refused is None:
            call()
        else:
            with pytest.raises(BackendError, match=refused):
                call()
    if refused is None:
        assert backend.read(file_id, [GRADES])[GRADES][row - 1][col - 1] == value


def test_the_element_cap_counts_every_xml_element(backend: LocalBackend) -> None:
    """Two tabs of 150,001 cells each (rows of 100 within the area cap): too many elements."""
    assert caps.MAX_ELEMENTS < 300_000
    wb = openpyxl.Workbook()
    for n, ws in enumerate((wb.active, wb.create_sheet("Ещё"))):
        ws.title = GRADES if n == 0 else "Ещё"
        for i in range(150_001):
            ws.cell(1 + i // 100, 1 + i % 100).value = 1
    out = io.BytesIO()
    wb.save(out)
    file_id = put(backend, out.getvalue())
    with pytest.raises(BackendError, match=f"more than {caps.MAX_ELEMENTS:,} XML elements"):
        backend.read(file_id, [GRADES])


def test_reading_ignores_a_lying_dimension_and_keeps_the_values(backend: LocalBackend) -> None:
    """``<dimension ref="A1:XFD1048576">`` no longer makes the reader pad rows to 16,384 cells."""
    data = workbook({(1, 1): "a", (3, 2): "b"})
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info)
            if info.filename == SHEET:
                body = re.sub(rb'<dimension ref="A1:B3"\s*/>',  # lxml writes no space
                              b'<dimension ref="A1:XFD1048576"/>', body)
                assert b"XFD1048576" in body
            target.writestr(info.filename, body)
    file_id = put(backend, out.getvalue())
    assert backend.read(file_id, [GRADES])[GRADES] == [["a"], [], ["", "b"]]


AT_THE_CAPS = textwrap.dedent("""
    import json, resource, sys, time
    from pathlib import Path
    from sync.backends.local.backend import LocalBackend
    from sync.backends.protocol import CellRange
    from tests.sync.backend_helpers import GRADES

    def peak_mib():
        # this process's peak RSS: VmHWM (ru_maxrss would include the parent's pages that a
        # vfork + exec inherits on Linux)
        try:
            with open("/proc/self/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    backend = LocalBackend(Path(sys.argv[1]), settle_seconds=0)
    file_id, call = sys.argv[2], sys.argv[3]
    began = time.perf_counter()
    if call == "read":
        rows = len(backend.read(file_id, [GRADES, "Ещё"])[GRADES])
    else:
        backend.set_open_ranges(file_id, {GRADES: [CellRange(GRADES, 2, 2, 40, 40)]})
        rows = 0
    print(json.dumps({"rows": rows, "seconds": time.perf_counter() - began,
                      "rss_mib": peak_mib()}))
""")


@pytest.mark.slow
def test_a_workbook_just_under_the_element_cap_is_read_and_protected_under_200_mib(
        backend: LocalBackend) -> None:
    """The costliest workbook the caps let through — ~247,500 styled empty cells (each one an
    openpyxl object) in two tabs of 250 rows within the area cap — read and protected, each in a
    fresh process whose peak RSS is measured."""
    wb = openpyxl.Workbook()
    bold = openpyxl.styles.Font(bold=True)
    for n, title in enumerate((GRADES, "Ещё")):
        ws = wb.active if n == 0 else wb.create_sheet(title)
        ws.title = title
        for row in range(1, 251):
            for col in range(1, 496):
                ws.cell(row, col).font = bold
        ws.cell(250, 495).value = "x"
    out = io.BytesIO()
    wb.save(out)
    file_id = put(backend, out.getvalue())
    for call in ("read", "protect"):
        done = subprocess.run([sys.executable, "-c", AT_THE_CAPS, str(backend.folder), file_id,
                               call], cwd=ROOT, capture_output=True, text=True, timeout=300,
                              check=False)
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        print(f"at the caps, {call}: {result['seconds']:.1f} s, peak RSS "
              f"{result['rss_mib']:.0f} MiB")
        assert result["rss_mib"] < RSS_LIMIT_MIB
        assert call != "read" or result["rows"] == 250
