"""Reading "Исправления": each non-empty row resolved against the configuration.

Journal names, lesson dates ("02.09.2026", "02.09.2026 (2)" for a day's second lesson), period
names, pupils (id or name) and fields are matched leniently (case, spaces, "ё", punctuation); what
cannot be resolved becomes a Russian problem for the row's status. Only a broken header raises.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from config.school import School
from rules.errors import LayoutError
from rules.grammar import parse_cell
from rules.model import Lesson
from sync.backends.protocol import CellRange, Grid
from sync.layout.common import (
    at,
    cell_text,
    find_header_row,
    header_columns,
    is_blank,
    parse_date_header,
)
from sync.layout.journal.map import ordinals
from sync.layout.labels import RU, Labels, normalize_label

log = logging.getLogger(__name__)

CLEAR = "удалить"  # the new value that erases a cell
_SIGNED = {"да", "+", "✓", "✔", "v", "подписано", "true", "истина"}


class CorrectionField(StrEnum):
    """What a correction changes (values match the ledger's ``Field``)."""

    MARK = "mark"
    PERIOD_MARK = "period_mark"
    TOPIC = "topic"
    CLASSWORK = "classwork"
    WORK_TYPE = "work_type"
    HOMEWORK = "homework"


_COLUMNS = (
    ("row_id", "row_id"),
    ("journal", "journal"),
    ("date", "lesson_date"),
    ("pupil", "correction_pupil"),
    ("field", "correction_field"),
    ("new_value", "new_value"),
    ("reason", "reason"),
    ("order", "order"),
    ("signed", "signed"),
    ("status", "status"),
    ("processed", "processed"),
)
INPUT_COLUMNS = ("journal", "date", "pupil", "field", "new_value", "reason", "order", "signed")


def correction_columns(labels: Labels) -> list[tuple[str, str]]:
    """(column name, header) of "Исправления", in layout order."""
    return [(name, getattr(labels, attr)) for name, attr in _COLUMNS]


def field_names(school: School, labels: Labels = RU) -> dict[CorrectionField, str]:
    """The dropdown text of each field: отметка, четвертная, тема, работа на уроке, вид работы, ДЗ."""
    return {
        CorrectionField.MARK: labels.field_mark,
        CorrectionField.PERIOD_MARK: labels.field_period_mark[school.year.period_kind],
        CorrectionField.TOPIC: labels.field_topic,
        CorrectionField.CLASSWORK: labels.field_classwork,
        CorrectionField.WORK_TYPE: labels.field_work_type,
        CorrectionField.HOMEWORK: labels.field_homework,
    }


def journal_title(school: School, class_id: str, subject_id: str, labels: Labels = RU) -> str:
    """How the deputy names a journal: "7Б · Алгебра"."""
    subject = school.subject(subject_id)
    return labels.journal_key.format(
        class_id=class_id, subject=subject.name if subject else subject_id
    )


@dataclass(frozen=True, slots=True)
class CorrectionRow:
    """One correction as read and resolved against the configuration.

    ``problems`` (Russian, for the status column) is empty when the row can be applied;
    ``ready`` when it is signed and not yet processed. ``key`` is stable across sorting: the
    "Код строки" the service wrote (``needs_id`` until it has), which is derived from the content,
    so a row edited after processing (or copied with its id) gets a new key and ``edited``.
    ``new_value`` is normalised ("5/4", the work type's name; "" for «удалить»).
    """

    key: str
    row: int
    needs_id: bool
    edited: bool  # "Код строки" no longer matches the content: edited after processing, or copied
    journal: str | None  # "7Б/algebra"
    day: date | None
    lesson_no: int | None
    period: str | None
    pupil_id: str | None
    field: CorrectionField | None
    new_value: str
    reason: str
    order_no: str
    signed: bool
    status: str
    processed: str
    content_hash: str
    problems: tuple[str, ...] = ()
    columns: Mapping[str, int] = dataclasses.field(default_factory=dict)
    tab: str = RU.corrections_tab

    @property
    def done(self) -> bool:
        """Processed by the service (an edited row's old status no longer counts)."""
        return bool(self.status) and not self.edited

    @property
    def ready(self) -> bool:
        return self.signed and not self.done

    def status_update(self, status: str, processed: datetime | str) -> list[tuple[CellRange, Grid]]:
        """Writes that mark this row processed (and give it its id), at its current row."""
        shown = (
            processed.strftime("%d.%m.%Y %H:%M") if isinstance(processed, datetime) else processed
        )
        out = []
        for name, value in (("status", status), ("processed", shown), ("row_id", self.key)):
            col = self.columns.get(name)
            if col is not None and (name != "row_id" or self.needs_id):
                out.append((CellRange(self.tab, self.row, col, self.row + 1, col + 1), [[value]]))
        return out


def parse_corrections(grid: Grid, school: School, *, labels: Labels = RU) -> list[CorrectionRow]:
    """The non-empty rows of "Исправления", resolved against ``school``.

    Raises :class:`~rules.errors.LayoutError` when the header row or one of its columns is gone
    (the tab is beyond reading; re-create it with ``ejournal setup``). Any other content is read.
    """
    head = find_header_row(grid, labels.journal)
    if head is None:
        raise LayoutError(
            f"the '{labels.corrections_tab}' tab has no header row (no '{labels.journal}' column)",
            "re-create the admin spreadsheet's tab with `ejournal setup`",
        )
    hrow = head[0]
    spec = correction_columns(labels)
    found = header_columns(grid, hrow, [label for _, label in spec])
    missing = [label for _, label in spec if label not in found]
    if missing:
        raise LayoutError(
            f"the '{labels.corrections_tab}' tab lacks columns: {', '.join(missing)}",
            "restore the column headers or re-create the tab with `ejournal setup`",
        )
    columns = {name: found[label] for name, label in spec}
    resolver = _Resolver(school, labels)
    rows: list[CorrectionRow] = []
    seen: dict[str, int] = {}
    for row in range(hrow + 1, len(grid)):
        values = {name: at(grid, row, col) for name, col in columns.items()}
        if all(is_blank(values[name]) for name in INPUT_COLUMNS):
            continue
        found_row = resolver.row(row, values, columns)
        first = seen.setdefault(found_row.key, row)
        if first != row:
            problem = f"повторяет строку {first + 1}"
            found_row = dataclasses.replace(found_row, problems=(*found_row.problems, problem))
        rows.append(found_row)
    log.debug("corrections read: %d rows, %d ready", len(rows), sum(r.ready for r in rows))
    return rows


def row_key(digest: str) -> str:
    """The id the service writes into "Код строки": derived from the row's content when first
    processed, so a later edit (or a copied row) no longer matches it (``CorrectionRow.edited``)."""
    return "h" + digest[:15]


class _Resolver:
    """Resolves typed journal names, dates, pupils and fields against the configuration."""

    def __init__(self, school: School, labels: Labels) -> None:
        self.school, self.labels = school, labels
        self.journals: dict[str, tuple[str, str]] = {}
        for class_id, subject_id in school.journals():
            subject = school.subject(subject_id)
            names = [
                journal_title(school, class_id, subject_id, labels),
                f"{class_id}/{subject_id}",
            ]
            if subject is not None:
                names.append(
                    labels.journal_name.format(
                        class_id=class_id, subject=subject.name, year=school.year.name
                    )
                )
            for name in names:
                self.journals[_squash(name)] = (class_id, subject_id)
        self.fields = {_squash(text): f for f, text in field_names(school, labels).items()}
        self.fields |= {_squash(text): f for text, f in _FIELD_ALIASES.items()}
        self.lessons = school.lessons()

    def row(self, row: int, values: dict[str, object], columns: Mapping[str, int]) -> CorrectionRow:
        text = {name: cell_text(value) for name, value in values.items()}
        problems: list[str] = []
        journal = self.journals.get(_squash(text["journal"]))
        if not text["journal"]:
            problems.append("не указан журнал")
        elif journal is None:
            problems.append(f"журнал «{text['journal'][:40]}» не найден; выберите его из списка")
        kind = self.fields.get(_squash(text["field"]))
        if kind is None:
            choices = ", ".join(field_names(self.school, self.labels).values())
            problems.append(f"не указано, что исправить (выберите: {choices})")
        day = lesson_no = period = pupil_id = None
        if journal is not None and kind is not None:
            if kind is CorrectionField.PERIOD_MARK:
                period = self._period(values["date"], problems, journal[0])
            else:
                day, lesson_no = self._lesson(journal, values["date"], problems)
            if kind in (CorrectionField.MARK, CorrectionField.PERIOD_MARK):
                pupil_id = self._pupil(journal[0], text["pupil"], problems)
        new_value = self._value(kind, text["new_value"], problems)
        if not text["reason"]:
            problems.append("не указана причина исправления")
        if not text["order"]:
            problems.append("не указан номер приказа")
        signed = values["signed"] is True or normalize_label(text["signed"]) in _SIGNED
        if not signed:
            problems.append("нет подписи заместителя директора (поставьте «да»)")
        content = json.dumps(
            [text[name] for name in INPUT_COLUMNS if name != "signed"], ensure_ascii=False
        )
        digest = hashlib.sha256(content.encode("utf-8")).hexdigest()
        fresh = row_key(digest)
        if text["row_id"] and text["row_id"] != fresh and text["status"]:
            problems.append(
                "строка изменена после обработки; новое исправление внесите новой строкой"
            )
        return CorrectionRow(
            key=text["row_id"] if text["row_id"] == fresh else fresh,
            row=row,
            needs_id=text["row_id"] != fresh,
            edited=bool(text["row_id"]) and text["row_id"] != fresh,
            journal=None if journal is None else f"{journal[0]}/{journal[1]}",
            day=day,
            lesson_no=lesson_no,
            period=period,
            pupil_id=pupil_id,
            field=kind,
            new_value=new_value,
            reason=text["reason"],
            order_no=text["order"],
            signed=signed,
            status=text["status"],
            processed=text["processed"],
            content_hash=digest,
            problems=tuple(problems),
            columns=dict(columns),
            tab=self.labels.corrections_tab,
        )

    def _period(self, value: object, problems: list[str], class_id: str = "") -> str | None:
        """The period named (or holding the date) among the journal's class's periods."""
        periods = self.school.periods_of(class_id)
        named = next(
            (p.name for p in periods if _squash(p.name) == _squash(cell_text(value))), None
        )
        if named is not None:
            return named
        parsed = parse_date_header(value, [(self.school.year.start, self.school.year.end)])
        inside = (
            None if parsed is None else next((p for p in periods if p.contains(parsed[0])), None)
        )
        if inside is None:
            names = ", ".join(p.name for p in periods)
            problems.append(f"не указан период (например: {names}) или дата внутри него")
            return None
        return inside.name

    def _lesson(
        self, journal: tuple[str, str], value: object, problems: list[str]
    ) -> tuple[date | None, int | None]:
        parsed = parse_date_header(value, [(self.school.year.start, self.school.year.end)])
        if parsed is None:
            problems.append("не указана дата урока (например: 02.09.2026)")
            return None, None
        day, ordinal = parsed
        lessons: list[Lesson] = [x for x in self.lessons.get(journal, []) if x.day == day]
        nth = ordinals(lessons)
        shown = day.strftime("%d.%m.%Y")
        if not lessons:
            problems.append(f"{shown} в этом журнале нет урока")
            return day, None
        if len(lessons) > 1 and "(" not in cell_text(value):
            problems.append(f"{shown} два урока; укажите «{shown} (2)» для второго")
            return day, None
        match = next(((d, n) for (d, n), k in nth.items() if k == ordinal), None)
        if match is None:
            problems.append(f"{shown} нет урока № {ordinal}")
            return day, None
        return match

    def _pupil(self, class_id: str, typed: str, problems: list[str]) -> str | None:
        pupils = self.school.pupils_in(class_id)
        if not typed:
            problems.append("не указан ученик")
            return None
        if any(p.id == typed for p in pupils):
            return typed
        key = _squash(typed)
        found = [
            p.id
            for p in pupils
            if key in (_squash(p.full_name), _squash(f"{p.last_name} {p.first_name}"))
        ]
        if len(found) == 1:
            return found[0]
        what = "несколько учеников" if found else "нет ученика"
        problems.append(f"в классе {class_id} {what} «{typed[:40]}»; укажите код ученика")
        return None

    def _value(self, kind: CorrectionField | None, typed: str, problems: list[str]) -> str:
        if _squash(typed) == _squash(CLEAR):
            return ""
        if not typed:
            problems.append(
                f"не указано новое значение (чтобы стереть значение, напишите «{CLEAR}»)"
            )
            return ""
        policies = self.school.policies
        if kind in (CorrectionField.MARK, CorrectionField.PERIOD_MARK):
            parsed = parse_cell(typed, policies.grammar, period=kind is CorrectionField.PERIOD_MARK)
            if not parsed.ok:
                problems.append(parsed.error or f"«{typed[:30]}» — недопустимое значение")
            return parsed.normalized
        if kind is CorrectionField.WORK_TYPE:
            found = next(
                (
                    wt
                    for wt in policies.work_types
                    if _squash(typed) in (_squash(wt.code), _squash(wt.name))
                ),
                None,
            )
            if found is None and policies.work_types:
                problems.append(f"«{typed[:30]}» — нет такого вида работы")
                return typed
            return found.name if found else typed
        return typed


_FIELD_ALIASES = {
    "оценка": CorrectionField.MARK,
    "отметка за урок": CorrectionField.MARK,
    "итоговая": CorrectionField.PERIOD_MARK,
    "отметка за четверть": CorrectionField.PERIOD_MARK,
    "отметка за триместр": CorrectionField.PERIOD_MARK,
    "отметка за полугодие": CorrectionField.PERIOD_MARK,
    "тема урока": CorrectionField.TOPIC,
    "домашнее задание": CorrectionField.HOMEWORK,
    "д/з": CorrectionField.HOMEWORK,
}


def _squash(text: str) -> str:
    """Only letters and digits, case-folded, "ё" as "е": "7Б · Алгебра" → "7балгебра"."""
    return "".join(c for c in text.casefold().replace("ё", "е") if c.isalnum())
