"""Two weeks of the tiny school (``school_files``) with planted journal-keeping defects, for the
weekly analysis; each is listed with the remark it must produce.

Week 1 (07.09–13.09; lessons Mon 07.09 math+russian, Wed 09.09 math, Thu 10.09 russian per class):
- D1 no topic: 7Б russian 10.09 (Петров);
- D2 no homework: 10А math 07.09 (Иванова);
- D3 lesson not filled at all: 10А russian 10.09 (Петров);
- D4 assessment without marks: 7Б math 09.09 «Проверочная работа» (no checking norm): b2 has no
  mark (b1 5, b3 4, b4 «н») (Иванова);
- D5 too few marks: 5А math s-a4 has none by 13.09 (norm ⌊3 × 2/4⌋ = 1) (Иванова);
- D6 late entries: 5А russian 07.09 s-a3's «4» first seen 09.09 10:00, after the day (Петров);
  10А russian 07.09 control work: c1, c2 first seen 09.09 12:00, within its 7 days (Петров);
- D7 tampering: 5А math 09.09, s-a1 «4» → «2», detected 10.09 16:00, reverted (Иванова);
- D8 invalid entry: an open error finding in 7Б russian for s-b3 on 10.09 (Петров); a warning
  finding beside it is no invalid entry.
Week 2 (14.09–20.09): on 15.09 the deputy's corrections fix D1 (a topic) and D4 (b2's mark); the
rest stays; 5А math 14.09 has no topic (a new remark).
"""

from __future__ import annotations

from datetime import date

from config.school import School
from rules.model import Finding, Location, Severity
from sync.ledger.ledger import Ledger
from sync.ledger.model import CellRef, Field, LessonInput
from tests.reports.ledger_data import at, entry
from tests.reports.school_files import OFFSET

MON, WED, THU = date(2026, 9, 7), date(2026, 9, 9), date(2026, 9, 10)
MON2 = date(2026, 9, 14)

CELLS = {  # (class, subject, day) → pupil → (value, first seen)
    ("5А", "math", MON): {"s-a1": "5", "s-a2": "4", "s-a3": "3", "s-a4": "н"},
    ("5А", "math", WED): {"s-a1": "4"},
    ("5А", "russian", MON): {"s-a1": "5", "s-a2": "4", "s-a4": "3"},
    ("7Б", "math", MON): {"s-b1": "4", "s-b2": "4", "s-b3": "5", "s-b4": "3"},
    ("7Б", "math", WED): {"s-b1": "5", "s-b3": "4", "s-b4": "н"},
    ("7Б", "russian", MON): {"s-b1": "4", "s-b2": "4", "s-b3": "4", "s-b4": "4"},
    ("10А", "math", MON): {"s-c1": "5", "s-c2": "5"},
}
LATE = {  # entered on 09.09
    ("5А", "russian", MON): ({"s-a3": "4"}, at(WED, 10)),
    ("10А", "russian", MON): ({"s-c1": "5", "s-c2": "4"}, at(WED, 12)),
}
WORK = {("7Б", "math", WED): "test", ("10А", "russian", MON): "control"}


def lesson_no(cls: str, subject: str, day: date) -> int:
    """The slot of a lesson in the tiny timetable."""
    o = OFFSET[cls]
    return (1 if subject == "math" or day.weekday() == 3 else 2) + o


def fill_week(ledger: Ledger, school: School, first: date, last: date,
              *, skip: frozenset[tuple[str, str, date]] = frozenset()) -> None:
    """Lessons (topic, work type, homework) and the cells above for the days first..last."""
    for day in sorted({x.day for v in school.lessons().values() for x in v
                       if first <= x.day <= last}):
        with ledger.transaction() as tx:
            for (cls, subject), lessons in school.lessons().items():
                for x in (x for x in lessons if x.day == day):
                    key, where = f"{cls}/{subject}", (cls, subject, day)
                    if where in skip or where == ("10А", "russian", THU):
                        continue
                    tx.upsert_lesson(key, LessonInput(
                        day, x.lesson_no, period=x.period,
                        topic="" if where == ("7Б", "russian", THU) else f"Тема {day:%d.%m}",
                        classwork="упр. 2", work_type=WORK.get(where, "classwork"),
                        homework="" if where == ("10А", "math", MON) else "§ 2"), at(day))
                    tx.accept_entries(key, [entry(p, day, x.lesson_no, v)
                                            for p, v in CELLS.get(where, {}).items()], at(day))
    with ledger.transaction() as tx:
        for (cls, subject, day), (cells, when) in LATE.items():
            if first <= day <= last:
                no = lesson_no(cls, subject, day)
                tx.accept_entries(f"{cls}/{subject}",
                                  [entry(p, day, no, v) for p, v in cells.items()], when)


def plant_week1(ledger: Ledger, school: School) -> None:
    fill_week(ledger, school, MON, date(2026, 9, 13))
    with ledger.transaction() as tx:
        target = CellRef(Field.MARK, "s-a1", WED, lesson_no("5А", "math", WED))
        vid = tx.record_violation("5А/math", target, "4", "2", at(THU, 16))
        tx.violation_reverted(vid, at(THU, 16, 5))
        invalid = Finding("invalid_value", Severity.ERROR,
                          Location("7Б/russian", "s-b3", THU, "mark", "F7"),
                          "Жуков Богдан, урок 10.09: «6» — такой отметки нет; допустимо 2, 3, 4, 5.")
        warning = Finding("too_few_marks", Severity.WARNING,
                          Location("7Б/russian", "s-b2", None, "period_mark", None),
                          "Егорова Белла: мало отметок.")
        tx.sync_findings("7Б/russian", [invalid, warning], at(THU, 16))


def fix_in_week2(ledger: Ledger, school: School) -> None:
    """The deputy's corrections of 15.09 (D1, D4) and the lessons of week 2 (5А math 14.09 left
    without a row)."""
    fill_week(ledger, school, MON2, date(2026, 9, 20), skip=frozenset({("5А", "math", MON2)}))
    when = at(date(2026, 9, 15), 11)
    with ledger.transaction() as tx:
        topic = CellRef(Field.TOPIC, None, THU, lesson_no("7Б", "russian", THU))
        tx.record_correction("row-1", "7Б/russian", topic, "Сложное предложение", "забыл",
                             "12-у", when)
        tx.apply_correction("row-1", when, value="Сложное предложение")
        mark = CellRef(Field.MARK, "s-b2", WED, lesson_no("7Б", "math", WED))
        tx.record_correction("row-2", "7Б/math", mark, "3", "работа сдана позже", "13-у", when)
        tx.apply_correction("row-2", when, value="3", kind="mark")

