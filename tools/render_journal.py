"""Render one tab of a journal ``.xlsx`` to PNG with LibreOffice, for reviewing its look.

    python tools/render_journal.py JOURNAL.xlsx [--tab "2 четверть"] [--out journal.png] [--dpi 110]
                                   [--crop X,Y,W,H]

The tab (by default the one the workbook opens on) is copied alone into a temporary workbook,
set to print landscape one page wide, converted to PDF by ``soffice --headless`` and the first
page rasterised by ``pdftoppm`` (poppler-utils); ``--crop`` keeps a rectangle of it (pixels at
the chosen dpi), to look at details. Conditional formats are evaluated by LibreOffice
at render time, so «today» is the machine's date. Needs ``libreoffice-calc-nogui`` and
``poppler-utils``; exits 2 with a message when either is missing, 1 when a conversion fails.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl

TIMEOUT_SECONDS = 180


def tools_missing() -> str | None:
    """Why the rendering cannot run here, or None when it can."""
    missing = [name for name in ("soffice", "pdftoppm") if shutil.which(name) is None]
    if missing:
        return (f"{' and '.join(missing)} not installed (apt-get install libreoffice-calc-nogui "
                "poppler-utils)")
    return None


def render(xlsx: Path, out: Path, *, tab: str | None = None, dpi: int = 110,
           crop: tuple[int, int, int, int] | None = None) -> Path:
    """Write ``tab`` of ``xlsx`` (default: the active tab) as a PNG at ``out``; returns ``out``."""
    why = tools_missing()
    if why:
        raise RuntimeError(why)
    wb = openpyxl.load_workbook(xlsx)
    title = tab or wb.active.title
    if title not in wb.sheetnames:
        raise ValueError(f"{xlsx.name} has no tab {title!r} (tabs: {', '.join(wb.sheetnames)})")
    for other in [ws for ws in wb.worksheets if ws.title != title]:
        wb.remove(other)
    ws = wb[title]
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    with tempfile.TemporaryDirectory(prefix="render-journal-") as tmp:
        work = Path(tmp)
        single = work / "tab.xlsx"
        wb.save(single)
        profile = (work / "profile").as_uri()  # a private profile: no clash with a running office
        _run(["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
              "--outdir", str(work), str(single)])
        box = [] if crop is None else [f"-{k}" if i % 2 == 0 else str(v) for k, v in zip(
            "xyWH", crop, strict=True) for i in (0, 1)]
        _run(["pdftoppm", "-png", "-r", str(dpi), "-singlefile", "-f", "1", "-l", "1", *box,
              str(work / "tab.pdf"), str(work / "page")])
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(work / "page.png", out)
    return out


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()[:400]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("xlsx", type=Path)
    parser.add_argument("--tab", help="the tab to render (default: the one the workbook opens on)")
    parser.add_argument("--out", type=Path, help="the PNG (default: beside the xlsx)")
    parser.add_argument("--dpi", type=int, default=110)
    parser.add_argument("--crop", help="X,Y,W,H: a rectangle of the page, in pixels at --dpi")
    args = parser.parse_args(argv)
    why = tools_missing()
    if why:
        print(f"Error: {why}", file=sys.stderr)
        return 2
    out = args.out or args.xlsx.with_suffix(".png")
    try:
        crop = tuple(int(x) for x in args.crop.split(",")) if args.crop else None
        if crop is not None and len(crop) != 4:
            raise ValueError(f"--crop wants X,Y,W,H, got {args.crop!r}")
        render(args.xlsx, out, tab=args.tab, dpi=args.dpi, crop=crop)  # type: ignore[arg-type]
    except (RuntimeError, ValueError, OSError, subprocess.TimeoutExpired) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
