"""Performance and attendance statistics for period reports (domain.md §2.5).

Per class × subject from the period marks: N, counts of 5/4/3/2/н/а, % успеваемости, % качества,
СОУ and the average mark; per class the pupil categories (отличники, хорошисты, …); school figures
are sums of class figures. Denominator rules: "осв" (exempt), "зач" (pass/fail subject), pupils
without a period mark and pupils who left before the period end are not in N; "н/а" is.
Percentages are exact floats (round for display only) and None when N = 0.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from rules.model import AbsenceReason

NOT_ATTESTED = "н/а"
EXEMPT = "осв"
CREDIT = "зач"
_NUMERIC = {"5": 5, "4": 4, "3": 3, "2": 2, "1": 2}  # a "1" (if enabled) counts as unsatisfactory
_SOU_WEIGHTS = (100, 64, 36, 16, 7)  # 5, 4, 3, 2, н/а — В. П. Симонов


def _mark(raw: str | None) -> str | None:
    """Normalised period mark: "5".."2", "н/а", "осв", "зач" or None; ValueError otherwise."""
    if raw is None or not raw.strip():
        return None
    mark = raw.strip().lower()
    if mark in _NUMERIC:
        return str(_NUMERIC[mark])
    if mark in (NOT_ATTESTED, EXEMPT, CREDIT):
        return mark
    raise ValueError(f"not a period mark: {raw!r}")


def _pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else part * 100 / whole


# --------------------------------------------------------------------------- class × subject


@dataclass(frozen=True, slots=True)
class PupilMark:
    """One pupil's period mark in a subject ("5".."2", "н/а", "осв", "зач" or None) and whether
    the pupil left before the period end."""

    mark: str | None
    left: bool = False


@dataclass(frozen=True, slots=True)
class SubjectStats:
    """Counts of period marks and the figures derived from them; add two to aggregate."""

    n5: int = 0
    n4: int = 0
    n3: int = 0
    n2: int = 0
    n_na: int = 0
    n_exempt: int = 0  # "осв": not in N
    n_credit: int = 0  # "зач": not in N
    n_no_mark: int = 0  # no period mark: not in N
    n_left: int = 0  # left before the period end: not in N
    n: int = field(init=False)  # N, the denominator
    success_pct: float | None = field(init=False)  # % успеваемости = (n5 + n4 + n3)·100 / N
    quality_pct: float | None = field(init=False)  # % качества = (n5 + n4)·100 / N
    sou: float | None = field(init=False)  # СОУ = (100·n5 + 64·n4 + 36·n3 + 16·n2 + 7·n_na) / N
    average: float | None = field(init=False)  # mean of the numeric marks

    def __post_init__(self) -> None:
        n = self.n5 + self.n4 + self.n3 + self.n2 + self.n_na
        counts = (self.n5, self.n4, self.n3, self.n2, self.n_na)
        graded = self.n5 + self.n4 + self.n3 + self.n2
        points = 5 * self.n5 + 4 * self.n4 + 3 * self.n3 + 2 * self.n2
        sou = sum(w * c for w, c in zip(_SOU_WEIGHTS, counts, strict=True))
        object.__setattr__(self, "n", n)
        object.__setattr__(self, "success_pct", _pct(self.n5 + self.n4 + self.n3, n))
        object.__setattr__(self, "quality_pct", _pct(self.n5 + self.n4, n))
        object.__setattr__(self, "sou", None if n == 0 else sou / n)
        object.__setattr__(self, "average", None if graded == 0 else points / graded)

    def __add__(self, other: SubjectStats) -> SubjectStats:
        return SubjectStats(
            self.n5 + other.n5,
            self.n4 + other.n4,
            self.n3 + other.n3,
            self.n2 + other.n2,
            self.n_na + other.n_na,
            self.n_exempt + other.n_exempt,
            self.n_credit + other.n_credit,
            self.n_no_mark + other.n_no_mark,
            self.n_left + other.n_left,
        )


def subject_stats(marks: Iterable[PupilMark]) -> SubjectStats:
    """Statistics of one class × subject × period. Example: 5×«5», 10×«4», 7×«3», 1×«2», 1×«н/а»,
    1×«осв», 1 left → N = 24, успеваемость 22·100/24 = 91.67 %."""
    counts: dict[str, int] = defaultdict(int)
    left = 0
    for entry in marks:
        if entry.left:
            left += 1
        else:
            counts[_mark(entry.mark) or ""] += 1
    return SubjectStats(
        counts["5"],
        counts["4"],
        counts["3"],
        counts["2"],
        counts[NOT_ATTESTED],
        counts[EXEMPT],
        counts[CREDIT],
        counts[""],
        left,
    )


def total(stats: Iterable[SubjectStats]) -> SubjectStats:
    """The sum of several statistics (subjects of a class, classes of a school)."""
    return sum(stats, SubjectStats())


# --------------------------------------------------------------------------- pupil categories


@dataclass(frozen=True, slots=True)
class PupilMarks:
    """A pupil's period marks in all subjects of a period (order does not matter)."""

    pupil_id: str
    marks: tuple[str | None, ...]
    left: bool = False


@dataclass(frozen=True, slots=True)
class ClassSummary:
    """Pupil categories of a class (tuples of pupil ids; add two to aggregate a school).

    A pupil is judged on the subjects with a 5/4/3/2 or н/а; "осв", "зач" and missing marks are
    skipped. отличники: all 5; хорошисты: only 4 and 5, at least one 4 (``one_four`` is the subset
    with exactly one 4); ``one_three``: exactly one 3, the rest 4 and 5; неуспевающие: at least one
    2; ``not_attested``: at least one н/а (a pupil can be in both of the last two).
    """

    pupils: int = 0  # not counting those who left
    left: int = 0
    judged: tuple[str, ...] = ()  # pupils with at least one 5/4/3/2 or н/а
    excellent: tuple[str, ...] = ()
    good: tuple[str, ...] = ()
    one_four: tuple[str, ...] = ()
    one_three: tuple[str, ...] = ()
    failing: tuple[str, ...] = ()
    not_attested: tuple[str, ...] = ()

    @property
    def success_pct(self) -> float | None:
        """Share of judged pupils with neither a 2 nor н/а, in %."""
        unsuccessful = len(set(self.failing) | set(self.not_attested))
        return _pct(len(self.judged) - unsuccessful, len(self.judged))

    @property
    def quality_pct(self) -> float | None:
        """Share of judged pupils who are отличники or хорошисты, in %."""
        return _pct(len(self.excellent) + len(self.good), len(self.judged))

    def __add__(self, other: ClassSummary) -> ClassSummary:
        return ClassSummary(
            self.pupils + other.pupils,
            self.left + other.left,
            *(
                getattr(self, name) + getattr(other, name)
                for name in ("judged", "excellent", "good", "one_four", "one_three", "failing",
                             "not_attested")
            ),
        )


def class_summary(pupils: Iterable[PupilMarks]) -> ClassSummary:
    """Sorts the pupils of a class into the categories of :class:`ClassSummary`."""
    groups: dict[str, list[str]] = defaultdict(list)
    present = left = 0
    for pupil in pupils:
        if pupil.left:
            left += 1
            continue
        present += 1
        marks = [m for m in (_mark(raw) for raw in pupil.marks) if m not in (None, EXEMPT, CREDIT)]
        if not marks:
            continue
        groups["judged"].append(pupil.pupil_id)
        if "2" in marks:
            groups["failing"].append(pupil.pupil_id)
        if NOT_ATTESTED in marks:
            groups["not_attested"].append(pupil.pupil_id)
        if "2" in marks or NOT_ATTESTED in marks:
            continue
        fours, threes = marks.count("4"), marks.count("3")
        if threes == 0 and fours == 0:
            groups["excellent"].append(pupil.pupil_id)
        elif threes == 0:
            groups["good"].append(pupil.pupil_id)
            if fours == 1:
                groups["one_four"].append(pupil.pupil_id)
        elif threes == 1:
            groups["one_three"].append(pupil.pupil_id)
    return ClassSummary(
        present,
        left,
        *(
            tuple(groups[name])
            for name in ("judged", "excellent", "good", "one_four", "one_three", "failing",
                         "not_attested")
        ),
    )


def total_classes(summaries: Iterable[ClassSummary]) -> ClassSummary:
    """School (or parallel) figures: the sum of the class summaries."""
    return sum(summaries, ClassSummary())


# --------------------------------------------------------------------------- attendance


@dataclass(frozen=True, slots=True)
class LessonAttendance:
    """One scheduled lesson of a pupil: absent ("н") or late ("оп"), with the class teacher's reason
    for that day (б/у/н, None if not given yet)."""

    day: date
    absent: bool = False
    late: bool = False
    reason: AbsenceReason | None = None


@dataclass(frozen=True, slots=True)
class AttendanceSummary:
    """Lessons missed by reason, lates, whole days missed (every lesson of the day) and % attended
    (attended / scheduled; a late pupil attended). Add two to aggregate a class."""

    scheduled: int = 0
    missed: int = 0
    illness: int = 0
    excused: int = 0
    unexcused: int = 0
    no_reason: int = 0
    late: int = 0
    days_missed: int = 0
    days_missed_illness: int = 0

    @property
    def attended_pct(self) -> float | None:
        return _pct(self.scheduled - self.missed, self.scheduled)

    def __add__(self, other: AttendanceSummary) -> AttendanceSummary:
        return AttendanceSummary(
            *(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__)
        )


def attendance_summary(lessons: Iterable[LessonAttendance]) -> AttendanceSummary:
    """Attendance figures of one pupil over the given lessons."""
    by_reason: dict[AbsenceReason | None, int] = defaultdict(int)
    days: dict[date, list[LessonAttendance]] = defaultdict(list)
    scheduled = late = 0
    for lesson in lessons:
        scheduled += 1
        late += lesson.late and not lesson.absent
        days[lesson.day].append(lesson)
        if lesson.absent:
            by_reason[lesson.reason] += 1
    whole = [d for d in days.values() if all(x.absent for x in d)]
    return AttendanceSummary(
        scheduled,
        sum(by_reason.values()),
        by_reason[AbsenceReason.ILLNESS],
        by_reason[AbsenceReason.EXCUSED],
        by_reason[AbsenceReason.UNEXCUSED],
        by_reason[None],
        late,
        len(whole),
        sum(all(x.reason is AbsenceReason.ILLNESS for x in d) for d in whole),
    )
