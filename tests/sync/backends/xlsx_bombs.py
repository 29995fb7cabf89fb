"""Hostile ``.xlsx`` files for the local backend's caps, built from a real workbook in milliseconds.

:func:`cell_bomb` swaps the first worksheet of a real workbook for a sheet of rows of empty cells
that inflates to ``inflated`` bytes while the file stays a few MB: the deflate stream is one
compressed block repeated (each block ends with a full flush, so it refers to nothing before it and
the repetition decodes to the chunk repeated). The zip is written by hand (local headers, central
directory) so no gigabyte is ever compressed or held in memory; its CRC is computed chunk by chunk.
``lie_about_size`` declares a small size in the directory while the stream holds the whole bomb.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

SHEET = "xl/worksheets/sheet1.xml"
_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
         b"<sheetData>")
_TAIL = b"</sheetData></worksheet>"
_ROW = b"<row>" + b"<c/>" * 4000 + b"</row>"  # 16 KB: ~925:1 at deflate level 9
_CHUNK = _ROW * 512  # 8 MB


def _deflate_repeated(inflated: int) -> tuple[bytes, int, int]:
    """(raw deflate stream, crc32, exact inflated size) of head + chunk × n + tail."""
    n = max(1, (inflated - len(_HEAD) - len(_TAIL)) // len(_CHUNK))
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(_HEAD) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(_CHUNK) + c.flush(zlib.Z_FULL_FLUSH)
    tail = c.compress(_TAIL) + c.flush()
    crc = zlib.crc32(_HEAD)
    for _ in range(n):
        crc = zlib.crc32(_CHUNK, crc)
    crc = zlib.crc32(_TAIL, crc)
    return head + block * n + tail, crc, len(_HEAD) + n * len(_CHUNK) + len(_TAIL)


def cell_bomb(workbook: bytes, *, inflated: int = 3 * 2**30, lie_about_size: bool = False,
              member: str = SHEET) -> bytes:
    """``workbook`` with ``member`` replaced by the bomb (``inflated`` < 4 GiB: no zip64)."""
    stream, crc, size = _deflate_repeated(inflated)
    assert size < 2**32
    declared = 1000 if lie_about_size else size
    source = zipfile.ZipFile(io.BytesIO(workbook))
    assert member in source.namelist(), f"the workbook has no {member}"
    members: list[tuple[str, bytes, int, int]] = []  # name, raw deflate, crc, size
    for info in source.infolist():
        if info.filename == member:
            members.append((member, stream, crc, declared))
            continue
        data = source.read(info)
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        members.append((info.filename, c.compress(data) + c.flush(), zlib.crc32(data), len(data)))
    return _zip(members)


def _zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    out = io.BytesIO()
    central = []
    for name, raw, crc, size in members:
        encoded = name.encode()
        offset = out.tell()
        out.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(raw),
                              size, len(encoded), 0))
        out.write(encoded)
        out.write(raw)
        central.append(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21,
                                   crc, len(raw), size, len(encoded), 0, 0, 0, 0, 0, offset)
                       + encoded)
    start = out.tell()
    for entry in central:
        out.write(entry)
    out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(central), len(central),
                          out.tell() - start, start, 0))
    return out.getvalue()


def far_cell(workbook: bytes, ref: str = "XFD1048576", member: str = SHEET) -> bytes:
    """``workbook`` with one value at ``ref`` added to ``member``: a few bytes of XML that make
    openpyxl pad every row up to it (the other bomb: coordinates, not bytes)."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == member:
                assert b"</sheetData>" in data
                row = "".join(ch for ch in ref if ch.isdigit())
                cell = f'<row r="{row}"><c r="{ref}" t="inlineStr"><is><t>5</t></is></c></row>'
                data = data.replace(b"</sheetData>", cell.encode() + b"</sheetData>")
            target.writestr(info.filename, data)
    return out.getvalue()
