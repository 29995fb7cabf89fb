"""What the simulated teachers of the tiny school (``school_files``) entered, put into a real
ledger through its transaction methods — the figures the report tests compute by hand from.

Period 1 («1 четверть», 07.09–18.09):
- lessons: every timetable lesson has a topic, «classwork», homework — except 5А math 14.09 (no
  row at all) and 10А russian 17.09 (homework only, no topic); 5А math 07.09 and 16.09, 5А russian
  17.09, 7Б math and russian 14.09 are control works; 5А math 16.09's topic is «=Контрольная
  работа №1 (2+2)» (must stay text); 5А math 07.09/09.09 follow the КТП, 16.09 does not;
- absences «н»: s-a1 07.09 math+russian (reason б), s-a2 09.09 math (у), s-a3 14.09 math (н),
  s-a4 17.09 russian (no reason), s-b1 07.09 math+russian (у), s-b4 09.09 math (б), s-c1 10.09
  russian (б); late «оп»: s-a2 14.09 math; a reason б for s-a2 on 10.09 without any absence;
- control-work marks: 5А math 07.09: a2 5, a3 4, a4 3 (a1 «н»); 5А math 16.09: a1 5, a2 4, a3 3,
  a4 2; 5А russian 17.09: a1 «5/4», a2 3, a3 4 (a4 «н»); 7Б math 14.09: b1 4, b2 3, b3 5 (b4
  nothing); 7Б russian 14.09: b1 5, b2 5 (b3, b4 nothing);
- period marks: 5А math 5 4 3 2; 5А russian 5 5 4 н/а; 7Б math 4 4 осв 3(b4, left); 7Б russian
  5 3 4 (b4 none); 10А math c1 5 (c2 none); 10А russian 5 4.
Period 2: period marks 5А math a1 4, a2 5, a4 3; 10А math c3 5.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time

from config.school import School
from sync.ledger.ledger import Ledger
from sync.ledger.model import AbsenceInput, EntryInput, LessonInput, PeriodMarkInput

P1, P2 = "1 четверть", "2 четверть"
KINDS = {"н": "absent", "оп": "late", "": "empty"}
CONTROL = {("5А", "math", date(2026, 9, 7)), ("5А", "math", date(2026, 9, 16)),
           ("5А", "russian", date(2026, 9, 17)), ("7Б", "math", date(2026, 9, 14)),
           ("7Б", "russian", date(2026, 9, 14))}
TOPICS = {("5А", "math", date(2026, 9, 7)): "Натуральные числа",
          ("5А", "math", date(2026, 9, 9)): "  натуральные  числа",
          ("5А", "math", date(2026, 9, 16)): "=Контрольная работа №1 (2+2)"}
NO_ROW = {("5А", "math", date(2026, 9, 14))}
NO_TOPIC = {("10А", "russian", date(2026, 9, 17))}

# (class, subject, day) → pupil → cell value
CELLS: dict[tuple[str, str, date], dict[str, str]] = {
    ("5А", "math", date(2026, 9, 7)): {"s-a1": "н", "s-a2": "5", "s-a3": "4", "s-a4": "3"},
    ("5А", "russian", date(2026, 9, 7)): {"s-a1": "н"},
    ("5А", "math", date(2026, 9, 9)): {"s-a2": "н"},
    ("5А", "math", date(2026, 9, 14)): {"s-a3": "н", "s-a2": "оп"},
    ("5А", "math", date(2026, 9, 16)): {"s-a1": "5", "s-a2": "4", "s-a3": "3", "s-a4": "2"},
    ("5А", "russian", date(2026, 9, 17)): {"s-a1": "5/4", "s-a2": "3", "s-a3": "4", "s-a4": "н"},
    ("7Б", "math", date(2026, 9, 7)): {"s-b1": "н"},
    ("7Б", "russian", date(2026, 9, 7)): {"s-b1": "н"},
    ("7Б", "math", date(2026, 9, 9)): {"s-b4": "н"},
    ("7Б", "math", date(2026, 9, 14)): {"s-b1": "4", "s-b2": "3", "s-b3": "5"},
    ("7Б", "russian", date(2026, 9, 14)): {"s-b1": "5", "s-b2": "5"},
    ("10А", "russian", date(2026, 9, 10)): {"s-c1": "н"},
}
REASONS = {("5А", "s-a1", date(2026, 9, 7)): "б", ("5А", "s-a2", date(2026, 9, 9)): "у",
           ("5А", "s-a3", date(2026, 9, 14)): "н", ("7Б", "s-b1", date(2026, 9, 7)): "у",
           ("7Б", "s-b4", date(2026, 9, 9)): "б", ("10А", "s-c1", date(2026, 9, 10)): "б",
           ("5А", "s-a2", date(2026, 9, 10)): "б"}
PERIOD_MARKS = {
    ("5А", "math", P1): {"s-a1": "5", "s-a2": "4", "s-a3": "3", "s-a4": "2"},
    ("5А", "russian", P1): {"s-a1": "5", "s-a2": "5", "s-a3": "4", "s-a4": "н/а"},
    ("7Б", "math", P1): {"s-b1": "4", "s-b2": "4", "s-b3": "осв", "s-b4": "3"},
    ("7Б", "russian", P1): {"s-b1": "5", "s-b2": "3", "s-b3": "4"},
    ("10А", "math", P1): {"s-c1": "5"},
    ("10А", "russian", P1): {"s-c1": "5", "s-c2": "4"},
    ("5А", "math", P2): {"s-a1": "4", "s-a2": "5", "s-a4": "3"},
    ("10А", "math", P2): {"s-c3": "5"},
}


def at(day: date, hour: int = 15, minute: int = 0) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo("Europe/Moscow"))


def entry(pupil: str, day: date, lesson_no: int, value: str) -> EntryInput:
    return EntryInput(pupil, day, lesson_no, value, value, KINDS.get(value, "mark"))


def fill(ledger: Ledger, school: School, *, until: date = date(2026, 9, 18)) -> None:
    """Enter the lessons and cells of the days up to ``until`` and every period mark, each day
    at 15:00 of that day (one transaction per day, as the sync would)."""
    by_day: dict[date, list[tuple[str, str, int]]] = defaultdict(list)
    for (cls, subject), lessons in school.lessons().items():
        for lesson in lessons:
            if lesson.day <= until:
                by_day[lesson.day].append((cls, subject, lesson.lesson_no))
    for day in sorted(by_day):
        with ledger.transaction() as tx:
            for cls, subject, lesson_no in by_day[day]:
                key, where = f"{cls}/{subject}", (cls, subject, day)
                if where not in NO_ROW:
                    work = "control" if where in CONTROL else "classwork"
                    topic = "" if where in NO_TOPIC else TOPICS.get(where, f"Тема {day:%d.%m}")
                    tx.upsert_lesson(key, LessonInput(
                        day, lesson_no, period=P1 if day <= date(2026, 9, 18) else P2,
                        topic=topic, classwork="упр. 1", work_type=work, homework="§ 1"), at(day))
                cells = [entry(p, day, lesson_no, v) for p, v in CELLS.get(where, {}).items()]
                tx.accept_entries(key, cells, at(day))
            for cls in {c for c, _, _ in by_day[day]}:
                reasons = [AbsenceInput(p, d, r, r) for (c, p, d), r in REASONS.items()
                           if c == cls and d == day]
                tx.accept_absences(cls, reasons, at(day, 16))
    with ledger.transaction() as tx:
        for (cls, subject, period), marks in PERIOD_MARKS.items():
            tx.accept_period_marks(f"{cls}/{subject}", [
                PeriodMarkInput(p, period, v, v, "mark" if v.isdigit() else "period_code")
                for p, v in marks.items()], at(date(2026, 9, 18), 12))
