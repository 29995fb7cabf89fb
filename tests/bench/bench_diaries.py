"""Diary rendering benchmark: the local CPU one diary costs before any API call.

Run: ``python -m tests.bench.bench_diaries [--weeks 8]`` (not a pytest test; it prints figures and
asserts nothing about speed).

The example school (73 pupils, 44 journals) gets ``--weeks`` of accepted marks (every pupil in
every lesson: a mark, «н» or nothing, with topics and homework) in a ledger; then every pupil's
diary is projected from the ledger, rendered and hashed as the writer does (``sync.jobs.diaries``),
cold (a new class cache) and warm. At 60 writes a minute a diary write costs 1 s of quota; the
figures show how much of that the service itself spends.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import datetime, timedelta
from datetime import time as clock
from pathlib import Path

from config import load_school
from rules.diary import project_diary
from sync.jobs.diary_view import ClassCache, pupil_view
from sync.jobs.service import journal_key
from sync.layout.diary.spec import diary_tabs
from sync.ledger.audit import content_hash
from sync.ledger.ledger import Ledger
from sync.ledger.model import EntryInput, LessonInput

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "example" / "school.toml"
VALUES = ["5", "4", "4", "3", "5", "2", "5/4", "н", "", "", "", ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weeks", type=int, default=8)
    args = parser.parse_args()
    school = load_school(EXAMPLE, environ={})
    rng = random.Random(1)
    start = school.year.start
    end = start + timedelta(weeks=args.weeks)
    now = datetime.combine(end, clock(18), tzinfo=school.timezone)
    with tempfile.TemporaryDirectory() as tmp, Ledger.open(Path(tmp) / "l.sqlite3",
                                                           now=now) as ledger:
        cells = 0
        with ledger.transaction() as tx:
            for (class_id, subject_id), lessons in school.lessons().items():
                if school.assignment(class_id, subject_id) is None:
                    continue
                key = journal_key(class_id, subject_id)
                held = [x for x in lessons if x.day < end]
                tx.upsert_lessons(key, [LessonInput(x.day, x.lesson_no, x.period, "Тема урока",
                                                    "", "classwork", "§ 1, № 2") for x in held],
                                  now)
                items = [EntryInput(p.id, x.day, x.lesson_no, v, v, "absent" if v == "н" else
                                    "mark") for x in held for p in school.pupils_in(class_id)
                         if (v := rng.choice(VALUES))]
                cells += len(items)
                tx.accept_entries(key, items, now)
        print(f"ledger: {args.weeks} weeks, {cells} accepted cells, {len(school.pupils)} pupils")
        for label, cache in (("cold", None), ("warm", ClassCache(school))):
            started = time.perf_counter()
            for pupil in school.pupils:
                with ledger.snapshot() as tx:
                    view = pupil_view(tx, school, pupil, cache or ClassCache(school))
                diary = project_diary(view, school.year, school.policies, now.date())
                tabs = diary_tabs(diary, school.year.name, "Четверть")
                [content_hash(t.rows) for t in tabs]
            per = (time.perf_counter() - started) / len(school.pupils)
            print(f"{label}: {per * 1000:.1f} ms per diary (view + projection + layout + "
                  f"hash); 1,500 pupils: {per * 1500:.1f} s of CPU against 1,500 s of write "
                  "quota at 60 writes a minute")


if __name__ == "__main__":
    main()
