"""Render report workbooks the way people see them: LibreOffice → PDF → PNG pages.

    python -m tests.reports.render OUT_DIR WORKBOOK.xlsx ...

Needs ``soffice`` (libreoffice-calc-nogui) and ``pdftoppm`` (poppler-utils); :func:`tools` says
which is missing so tests can skip with that reason.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def missing_tools() -> str | None:
    """None when both tools are installed, else what is missing (a skip reason)."""
    absent = [t for t in ("soffice", "pdftoppm") if shutil.which(t) is None]
    return f"not installed: {', '.join(absent)}" if absent else None


def to_pdf(workbook: Path, out_dir: Path) -> Path:
    """The workbook converted by LibreOffice (its print settings apply) into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:  # a private profile: runs may overlap
        subprocess.run(
            ["soffice", f"-env:UserInstallation=file://{profile}", "--headless",
             "--convert-to", "pdf", "--outdir", str(out_dir), str(workbook)],
            check=True, capture_output=True, timeout=180,
        )
    pdf = out_dir / (workbook.stem + ".pdf")
    if not pdf.is_file():
        raise RuntimeError(f"LibreOffice wrote no {pdf}")
    return pdf


def to_png(pdf: Path, out_dir: Path, dpi: int = 70, last_page: int = 8) -> list[Path]:
    """The first ``last_page`` pages of ``pdf`` as PNG files."""
    prefix = out_dir / pdf.stem
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-l", str(last_page), str(pdf),
                    str(prefix)], check=True, capture_output=True, timeout=180)
    return sorted(out_dir.glob(f"{pdf.stem}-*.png"))


def pdf_pages(pdf: Path) -> int:
    """Number of pages (pdfinfo, from poppler-utils)."""
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True)
    for line in info.stdout.splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    raise RuntimeError(f"pdfinfo gave no page count for {pdf}")


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    reason = missing_tools()
    if reason:
        print(reason)
        return 1
    out = Path(argv[0])
    for name in argv[1:]:
        pdf = to_pdf(Path(name), out)
        for png in to_png(pdf, out):
            print(png)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
