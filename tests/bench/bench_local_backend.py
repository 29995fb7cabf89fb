"""Benchmark of the local backend on a 30 × 70 journal workbook: ms per operation and peak RSS.

Run: ``python -m tests.bench.bench_local_backend [--rounds N]``. Prints figures; asserts nothing
(DESIGN.md §5). The floor for ``read`` is decoding the same grid as a Sheets ``values:batchGet``
JSON payload — what the google backend's CPU cost is bounded by.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sync.backends.local.backend import LocalBackend
from sync.backends.local.manifest import FileEntry, Manifest, ManifestStore, TabState
from sync.backends.protocol import CellRange, Dropdown, Highlight, SpreadsheetSpec, TabSpec

PUPILS, LESSONS = 30, 70
GRADES, LESSONS_TAB, FINDINGS = "1 четверть", "Уроки", "Замечания"


def journal_spec(seed: int = 1) -> SpreadsheetSpec:
    """A journal like the real layout: hidden id, names, 70 dated mark columns, service columns."""
    rng = random.Random(seed)
    first, last = 3, 3 + LESSONS
    header = [
        "Код",
        "№",
        "Ученик",
        *[f"{1 + i % 28:02d}.{9 + i // 28:02d}" for i in range(LESSONS)],
        "Средний балл",
        "Рекомендуемая",
        "Четверть",
    ]
    kinds = [
        "",
        "",
        "",
        *[rng.choice(["", "контрольная", "самостоятельная"]) for _ in range(LESSONS)],
    ]
    marks = [
        [
            f"p{i:04d}",
            i + 1,
            f"Ученик{i} Фамилия{i}",
            *[rng.choice(["", "", "5", "4", "3", "2", "н", "5/4"]) for _ in range(LESSONS)],
            "4,2",
            "4",
            "",
        ]
        for i in range(PUPILS)
    ]
    cells = CellRange(GRADES, 2, first, 2 + PUPILS, last)
    grades = TabSpec(
        GRADES,
        [header, kinds, *marks],
        row_count=2 + PUPILS,
        col_count=last + 3,
        frozen_rows=2,
        frozen_cols=3,
        hidden_cols=(0,),
        text_ranges=(cells,),
        dropdowns=(Dropdown(cells, ("5", "4", "3", "2", "н", "оп", "•")),),
        highlights=(Highlight(cells, "2", "#F4CCCC"), Highlight(cells, "н", "#FFF2CC")),
        col_widths={2: 180},
        open_ranges=(CellRange(GRADES, 2, first + 10, 2 + PUPILS, first + 11),),
    )
    lessons = TabSpec(
        LESSONS_TAB,
        [
            ["Дата", "№", "Тема по КТП", "Тема", "Работа", "Вид", "Домашнее задание", ""],
            *[
                [header[first + i], i + 1, f"Тема {i}", f"Тема {i}", "упр.", "", f"№ {i}", ""]
                for i in range(LESSONS)
            ],
        ],
        row_count=LESSONS + 1,
        col_count=8,
        open_ranges=(CellRange(LESSONS_TAB, 11, 3, 12, 7),),
    )
    findings = TabSpec(FINDINGS, [["Ячейка", "Проблема", "С"]], row_count=50, col_count=3)
    return SpreadsheetSpec("Журнал 7Б · Математика · 2026/27", (grades, lessons, findings))


def timed(label: str, rounds: int, op: Callable[[int], object]) -> float:
    start = time.perf_counter()
    for i in range(rounds):
        op(i)
    ms = (time.perf_counter() - start) * 1000 / rounds
    print(f"  {label:<44} {ms:9.2f} ms/op   ({rounds} rounds)")
    return ms


def manifest_save_ms(folder: Path, files: int) -> float:
    """Saving a manifest of ``files`` entries (each own write rewrites it)."""
    tab = TabState(True, [CellRange(GRADES, 2, 13, 32, 14)], (32, 76))
    manifest = Manifest(
        instance="bench",
        seq=1,
        files={
            f"{i:016x}": FileEntry(
                title=f"Дневник · Ученик{i} · 7Б",
                path=f"Дневник · Ученик{i} · 7Б.xlsx",
                seen=f"1795966183777956461-5956-{i:016x}",
                seq=1,
                own_hash="a" * 64,
                tabs={GRADES: tab, LESSONS_TAB: tab},
            )
            for i in range(files)
        },
    )
    folder.mkdir()
    store = ManifestStore(folder)
    start = time.perf_counter()
    store.save(manifest)
    return (time.perf_counter() - start) * 1000


def manifest_append_ms(folder: Path, files: int, rounds: int) -> float:
    """An own write's manifest cost with ``files`` entries: one line appended to its log."""
    manifest_save_ms(folder, files)
    store = ManifestStore(folder)
    manifest = store.load()
    start = time.perf_counter()
    for i in range(rounds):
        manifest.files[f"{i % files:016x}"].own_hash = f"{i:064x}"
        store.save(manifest, changed=[f"{i % files:016x}"])
    return (time.perf_counter() - start) * 1000 / rounds


def write_at(folder: Path, files: int, rounds: int) -> float:
    """ms per journal write (a mark column) when the manifest lists ``files`` files (the others
    are entries only: a write touches no other file, only the manifest)."""
    backend = LocalBackend(folder)
    file_id = backend.create(journal_spec()).id
    store = backend._store
    manifest = store.load()
    mine = manifest.files[file_id]
    for i in range(files - 1):
        manifest.files[f"{i:016x}"] = dataclasses.replace(
            mine, title=f"Журнал {i}", path=f"Журнал {i}.xlsx", tabs=dict(mine.tabs))
    store.save(manifest)
    column = [[m] for m in ["5", "4", "н", "", "3"] * (PUPILS // 5)]
    start = time.perf_counter()
    for i in range(rounds):
        backend.write(file_id, [(CellRange(GRADES, 2, 13 + i % 5, 2 + PUPILS, 14 + i % 5),
                                 column)])
    return (time.perf_counter() - start) * 1000 / rounds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    rounds = parser.parse_args(argv).rounds
    spec = journal_spec()
    cells = sum(len(r) for t in spec.tabs for r in t.rows)
    with tempfile.TemporaryDirectory() as tmp:
        backend = LocalBackend(Path(tmp) / "sheets")
        print(
            f"local backend, journal {PUPILS} pupils × {LESSONS} lessons ({cells} cells in 3 tabs), "
            f"Python {sys.version.split()[0]}"
        )
        ids: list[str] = []
        create = timed("create", rounds, lambda i: ids.append(backend.create(spec).id))
        size = backend.path(ids[0]).stat().st_size
        titles = [GRADES, LESSONS_TAB, FINDINGS]
        read = timed(
            "read (3 whole tabs)", rounds * 2, lambda i: backend.read(ids[i % len(ids)], titles)
        )
        column = [[m] for m in ["5", "4", "н", "", "3"] * (PUPILS // 5)]
        timed(
            "write (a mark column + a lesson row)",
            rounds,
            lambda i: backend.write(
                ids[i],
                [
                    (CellRange(GRADES, 2, 13, 2 + PUPILS, 14), column),
                    (
                        CellRange(LESSONS_TAB, 11, 3, 12, 7),
                        [["Дроби", "упр. 5", "контрольная", "№ 7"]],
                    ),
                ],
            ),
        )
        timed(
            "set_open_ranges (move the open column)",
            rounds,
            lambda i: backend.set_open_ranges(
                ids[i], {GRADES: [CellRange(GRADES, 2, 14, 2 + PUPILS, 15)]}
            ),
        )
        timed("open_ranges (re-read from the file)", rounds, lambda i: backend.open_ranges(ids[i]))
        token = backend.start_token()
        idle = timed(
            f"changes, idle ({len(ids)} files: stat only)", rounds, lambda i: backend.changes(token)
        )
        payload = json.dumps(
            {"valueRanges": [{"range": t, "values": backend.read(ids[0], [t])[t]} for t in titles]}
        ).encode()
        floor = timed(
            "floor: json.loads of the batchGet payload", rounds * 20, lambda i: json.loads(payload)
        )
        saves = {n: manifest_save_ms(Path(tmp) / f"m{n}", n) for n in (100, 781, 2100)}
        appends = {n: manifest_append_ms(Path(tmp) / f"a{n}", n, rounds * 5)
                   for n in (100, 781, 2100)}
        writes = {n: write_at(Path(tmp) / f"w{n}", n, rounds) for n in (1, 781, 2100)}
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"  file size {size / 1024:.1f} KiB; read {cells / read:.0f} cells/ms, "
        f"{read / floor:.0f}× the JSON floor; create/read {create / read:.1f}×"
    )
    print(
        f"  idle scan {idle * 1000 / len(ids):.1f} µs per file; whole manifest save: "
        + ", ".join(f"{n} files {ms:.1f} ms" for n, ms in saves.items())
    )
    print("  an own write's manifest cost (log line): "
          + ", ".join(f"{n} files {ms:.1f} ms" for n, ms in appends.items()))
    print("  journal write with the manifest listing N files: "
          + ", ".join(f"{n} files {ms:.1f} ms" for n, ms in writes.items()))
    print(f"  peak RSS {peak_mb:.0f} MiB")


if __name__ == "__main__":
    main()
