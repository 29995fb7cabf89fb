"""What the service computes for a journal's own cells, from the ledger: work-type names under the
dates, averages and recommended period marks, each lesson's "Статус", and the period-mark
deviation remarks (``rules.grading``). Pure functions over ledger records; no I/O.

Marks come from the ledger's ACCEPTED entries (an invalid cell never counts), work types from the
lesson facts as they will stand after the cycle (open rows as typed, locked rows as locked).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from functools import partial

from config.school import School
from rules.context import EntryField, PeriodEntry, ValidationContext
from rules.grading import MarkRecord, Recommendation, deviation, recommend
from rules.grammar import ValueKind, format_value, parse_cell
from rules.model import Finding, Lesson, Location, Policies, WorkType
from sync.layout.journal.map import JournalMap, LessonKey
from sync.layout.journal.spec import ServiceValues
from sync.ledger.model import EntryRecord, EntryValue, LessonInput, LessonRecord

STATUS_TEXT = {  # "Статус" of a lesson on "Уроки": short forms of the lesson rules' findings
    "lesson_missing_topic": "нет темы",
    "lesson_missing_work_type": "нет вида работы",
    "unknown_work_type": "вид работы не из списка",
    "lesson_missing_homework": "нет ДЗ",
    "control_work_without_marks": "нет отметок за работу",
}

Recommendations = dict[tuple[str, str], Recommendation]  # (period, pupil id) → recommendation


def work_types(policies: Policies, facts: Mapping[LessonKey, LessonInput]
               ) -> tuple[dict[LessonKey, str], dict[LessonKey, str | None]]:
    """Each lesson's work type: the name shown under its date, and its configured code."""
    names: dict[LessonKey, str] = {}
    codes: dict[LessonKey, str | None] = {}
    for key, item in facts.items():
        wt = policies.work_type_typed(item.work_type) if item.work_type else None
        names[key] = wt.name if wt else item.work_type
        codes[key] = wt.code if wt else None
    return names, codes


class KeptGrades:
    """Each journal period's recommendations, kept between cycles with a digest of the entries,
    work types and grading they came from: only a period whose marks changed is graded again —
    in a busy cycle, the open one. About 10 KiB a journal period."""

    def __init__(self) -> None:
        self._kept: dict[tuple[str, str], tuple[int, dict[str, Recommendation]]] = {}

    def grade(self, journal: str, period: str, digest: int,
              graded: Callable[[], dict[str, Recommendation]]) -> dict[str, Recommendation]:
        """The kept result for the same ``digest``, else ``graded()`` (then kept)."""
        kept = self._kept.get((journal, period))
        if kept is not None and kept[0] == digest:
            return kept[1]
        out = graded()
        self._kept[(journal, period)] = (digest, out)
        return out


def recommendations(school: School, subject_id: str, lessons: Sequence[Lesson],
                    entries: Iterable[EntryRecord | EntryValue],
                    codes: Mapping[LessonKey, str | None], *,
                    kept: KeptGrades | None = None, journal: str = ""
                    ) -> Recommendations:
    """Recommended period marks from accepted marks (none for a subject without marks).

    None either for a period partly kept on paper (lessons before ``journal_start``): its
    electronic marks are only part of the pupil's record, so a recommendation would mislead.
    With ``kept``, a period whose entries and grading are those of its last grading is not
    graded again (their hash: pupil ids and codes hash with the process's secret).
    """
    if not any(school.has_averages(x.class_id, subject_id) for x in lessons[:1]):
        return {}  # «без отметок», «зачёт/незачёт», or a subject with marked = no
    policies = school.policies
    start = school.year.journal_from
    on_paper = {x.period for x in lessons if x.day < start}
    period_of = {(x.day, x.lesson_no): x.period for x in lessons if x.period not in on_paper}
    by_period: dict[str, list[_Entry]] = {}
    for e in entries:
        period = period_of.get((e.day, e.lesson_no))
        if period is not None:
            by_period.setdefault(period, []).append(
                (e.pupil_id, e.day, e.value, codes.get((e.day, e.lesson_no))))
    by_code = {wt.code: wt for wt in policies.work_types}
    setting = (policies.grammar, policies.grading, tuple(by_code.items()))
    out: Recommendations = {}
    for period, items in by_period.items():
        graded = partial(_graded, items, policies, by_code)
        if kept is not None:
            got = kept.grade(journal, period, hash((setting, tuple(items))), graded)
        else:
            got = graded()
        out.update(((period, pupil), rec) for pupil, rec in got.items())
    return out


_Entry = tuple[str, date, str, str | None]  # pupil id, day, value, work-type code


def _graded(items: list[_Entry], policies: Policies, by_code: Mapping[str, WorkType]
            ) -> dict[str, Recommendation]:
    """Each pupil's recommendation from one period's entries (pupils without marks: none)."""
    marks: dict[str, list[MarkRecord]] = {}
    for pupil, day, value, code in items:
        parsed = parse_cell(value, policies.grammar)
        if parsed.value is None or parsed.value.kind is not ValueKind.MARK:
            continue
        marks.setdefault(pupil, []).extend(MarkRecord(m, code, day) for m in parsed.value.marks)
    return {pupil: recommend(v, policies.grading, by_code) for pupil, v in marks.items()}


def deviation_findings(school: School, ctx: ValidationContext, periods: Iterable[PeriodEntry],
                       recs: Recommendations) -> list[Finding]:
    """Warnings for period marks that depart from the recommendation (``rules.grading``)."""
    policy = school.policies.grading
    grammar = school.policies.grammar
    out: list[Finding] = []
    for entry in periods:
        if ctx.partly_on_paper(entry.period):
            continue  # no recommendation for a period partly kept on paper
        parsed = parse_cell(entry.raw, grammar, period=True)
        if not parsed.ok or parsed.value is None:
            continue  # the grammar rules report it
        rec = recs.get((entry.period, entry.pupil_id)) or recommend([], policy)
        found = deviation(format_value(parsed.value), rec, policy)
        if found is None:
            continue
        where = Location(ctx.journal, entry.pupil_id, None, EntryField.PERIOD_MARK, entry.cell)
        text = f"{ctx.pupil_name(entry.pupil_id)}, {entry.period}: {found.message}."
        out.append(Finding(found.rule, found.finding(where).severity, where, text))
    return out


def ledger_service(school: School, subject_id: str, lessons: Sequence[Lesson],
                   tx_lessons: Iterable[LessonRecord], entries: Iterable[EntryRecord],
                   findings: Iterable[Finding], where: JournalMap) -> ServiceValues:
    """The service cells from the ledger alone (``rebuild``: no read to take them from)."""
    facts = {(x.facts.day, x.facts.lesson_no): x.facts for x in tx_lessons}
    names, codes = work_types(school.policies, facts)
    recs = recommendations(school, subject_id, lessons, entries, codes)
    return service_values(names, recs, findings, where)


def service_values(names: Mapping[LessonKey, str], recs: Recommendations,
                   findings: Iterable[Finding], where: JournalMap) -> ServiceValues:
    return ServiceValues(work_types=dict(names), recommendations=dict(recs),
                         statuses=statuses(findings, where))


def statuses(findings: Iterable[Finding], where: JournalMap) -> dict[LessonKey, str]:
    """Each lesson's "Статус": the short remarks of the lesson rules about its row."""
    tab = where.lessons_tab
    if tab is None:
        return {}
    by_row = {row: key for key, row in tab.rows.items()}
    texts: dict[LessonKey, list[str]] = {}
    for f in findings:
        text = STATUS_TEXT.get(f.rule)
        row = row_of(f.location.cell, tab.title)
        key = by_row.get(row) if row is not None else None
        if text and key is not None and text not in texts.get(key, []):
            texts.setdefault(key, []).append(text)
    return {k: "; ".join(v) for k, v in texts.items()}


def row_of(cell: str | None, title: str) -> int | None:
    """0-based row of an A1 ref on tab ``title`` ("'Уроки'!D5" → 4), else None."""
    if not cell:
        return None
    tab, _, ref = cell.rpartition("!")
    if tab.strip("'").replace("''", "'") != title:
        return None
    digits = "".join(ch for ch in ref if ch.isdigit())
    return int(digits) - 1 if digits else None
