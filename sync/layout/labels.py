"""The Russian label catalog: every text the service writes into a spreadsheet's structure.

Layouts render from a :class:`Labels` and parsers find columns by the same labels, so another
locale is one more instance of this class. Tab titles of periods ("1 четверть") come from the
school's config, not from here. Parsers compare labels with :func:`same_label` (case, spaces and
"ё" ignored), so a header retyped as "ученик" or "Средний  балл" is still found.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rules.model import PeriodKind


@dataclass(frozen=True, slots=True)
class Labels:
    """Texts of one locale. Field names say where each text appears."""

    # tabs
    lessons_tab: str = "Уроки"
    findings_tab: str = "Замечания"
    roster_tab: str = "Список класса"
    attendance_tab: str = "Посещаемость"
    corrections_tab: str = "Исправления"
    lists_tab: str = "Списки"  # hidden: the values of the admin sheet's dropdowns

    # period tabs of a journal
    number: str = "№"
    pupil: str = "Ученик"
    pupil_id: str = "Код"  # the hidden column of pupil ids
    weekday_row: str = "День недели"  # caption of the row under the dates
    work_type_row: str = "Вид работы"  # caption of the service-written row under the weekdays
    average: str = "Средний балл"
    recommended: str = "Рекомендуемая"
    period_word: dict[PeriodKind, str] = field(
        default_factory=lambda: {
            PeriodKind.QUARTER: "Четверть",
            PeriodKind.TRIMESTER: "Триместр",
            PeriodKind.HALF_YEAR: "Полугодие",
        }
    )

    # "Уроки"
    date: str = "Дата"
    lesson_number: str = "№ урока в периоде"
    planned_topic: str = "Тема по плану (КТП)"
    topic: str = "Тема урока"
    classwork: str = "Работа на уроке"
    work_type: str = "Вид работы"
    homework: str = "Домашнее задание"
    status: str = "Статус"

    # "Замечания"
    cell: str = "Ячейка"
    finding: str = "Замечание"
    since: str = "С какого числа"
    no_findings: str = "Замечаний нет"

    # class spreadsheet
    last_name: str = "Фамилия"
    first_name: str = "Имя"
    middle_name: str = "Отчество"
    enrolled: str = "Зачислен"
    left: str = "Выбыл"
    pupil_email: str = "E-mail ученика"
    parent_id: str = "Код родителя {n}"
    parent_name: str = "Родитель {n}"
    parent_email: str = "E-mail родителя {n}"
    parent_consent: str = "Заявление родителя {n}"
    may_view: str = "Ученик видит дневник"
    needs_reason: str = "Нужна причина (дни с «н»)"

    # admin spreadsheet, "Исправления"
    row_id: str = "Код строки"
    journal: str = "Журнал"
    lesson_date: str = "Дата урока или период"
    correction_pupil: str = "Ученик (код или ФИО)"
    correction_field: str = "Что исправить"
    new_value: str = "Новое значение"
    reason: str = "Причина"
    order: str = "Приказ №"
    signed: str = "Подписано зам. директора"
    processed: str = "Обработано"
    applied: str = "применено"
    rejected: str = "отклонено: {reason}"
    yes: str = "да"
    no: str = "нет"
    field_mark: str = "отметка"
    field_period_mark: dict[PeriodKind, str] = field(
        default_factory=lambda: {
            PeriodKind.QUARTER: "четвертная",
            PeriodKind.TRIMESTER: "триместровая",
            PeriodKind.HALF_YEAR: "полугодовая",
        }
    )
    field_topic: str = "тема"
    field_classwork: str = "работа на уроке"
    field_work_type: str = "вид работы"
    field_homework: str = "ДЗ"

    # diary (one per pupil, read only)
    week_tab: str = "Неделя"
    marks_tab: str = "Оценки"
    totals_tab: str = "Итоги"
    timetable_tab: str = "Расписание"
    diary_word: str = "Дневник"
    week_word: str = "Неделя"
    week_columns: tuple[str, str, str] = ("Урок", "Отметка, посещение", "Тема и домашнее задание")
    no_lessons: str = "нет уроков"
    topic_line: str = "Тема: {topic}"
    homework_line: str = "Задано: {homework}"
    next_week: tuple[str, str] = ("ДОМАШНЕЕ ЗАДАНИЕ", "к урокам следующей недели")
    homework_given: str = "{homework} (задано {day})"
    nothing_yet: str = "пока ничего не задано"
    marks_columns: tuple[str, ...] = ("Предмет", "Отметки: дата, вид работы, тема",
                                      "Средний балл", "Рекомендуемая")
    no_period: str = "учебный период не начался"
    attendance_rows: tuple[str, ...] = (
        "Пропущено уроков", "— по болезни", "— по уважительной причине",
        "— без уважительной причины", "— причина не указана", "Опозданий",
        "Пропущено дней целиком",
    )
    absence_columns: tuple[str, str, str] = ("Дата", "Урок", "Отметка, причина")
    late_text: str = "опоздание"
    no_absences: str = "пропусков нет"
    timetable_columns: tuple[str, str, str] = ("День", "Урок", "Предмет")
    changes_heading: tuple[str, str] = ("ИЗМЕНЕНИЯ", "в расписании")
    changes_columns: tuple[str, str, str] = ("Дата", "Урок", "Что изменилось")
    no_changes: str = "изменений нет"
    weekdays: tuple[str, ...] = ("Понедельник", "Вторник", "Среда", "Четверг", "Пятница",
                                 "Суббота", "Воскресенье")

    # the teachers' board (the weekly analysis of journal keeping, read only for all teachers)
    summary_tab: str = "Сводка"

    # spreadsheet names
    journal_name: str = "Журнал {class_id} · {subject} · {year}"
    class_name: str = "Класс {class_id} · {year}"
    admin_name: str = "Администрация · {year}"
    diary_name: str = "Дневник · {pupil} · {class_id} · {year}"
    board_name: str = "Анализ ведения журналов · {school} · {year}"
    journal_key: str = "{class_id} · {subject}"  # how the deputy names a journal in "Исправления"

    def period_column(self, kind: PeriodKind) -> str:
        """Header of the teacher-entered period-mark column: "Четверть", "Триместр", …"""
        return self.period_word[kind]


RU = Labels()


def normalize_label(text: object) -> str:
    """Comparable form of a header: case-folded, spaces collapsed, "ё" → "е"; "" for non-text."""
    if not isinstance(text, str):
        return ""
    return " ".join(text.split()).casefold().replace("ё", "е")


def same_label(text: object, label: str) -> bool:
    """Whether a cell's text is ``label`` up to case, spacing and "ё"."""
    return normalize_label(text) == normalize_label(label)
