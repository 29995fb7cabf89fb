"""Reports 3–6 of the tiny hand-built school (``school_files``, ``ledger_data``), read back from
the written workbooks. Every expected figure is worked out by hand in the comments from what the
simulated teachers entered; none comes from the code under test."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from config import load_school
from config.school import School
from reports.attendance import write_attendance
from reports.control_works import write_control_works
from reports.curriculum import write_curriculum
from reports.results_book import write_results
from reports.span import period_span
from rules.errors import ReportError
from sync.jobs.report_data import load_snapshot
from sync.ledger.ledger import Ledger
from tests.reports.helpers import cells, heading, row, table
from tests.reports.ledger_data import at, fill
from tests.reports.render import missing_tools, pdf_pages, to_pdf, to_png
from tests.reports.school_files import write_school

BUILT = date(2026, 9, 22)  # Tuesday of period 2: period 1 is over


@dataclass
class Built:
    school: School
    head: str
    results: Path
    year: Path
    attendance: Path
    control: Path
    curriculum: Path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    folder = tmp_path_factory.mktemp("school")
    school = load_school(write_school(folder))
    out = folder / "reports"
    with Ledger.open(school.ledger_path, now=at(date(2026, 9, 7), 7)) as ledger:
        fill(ledger, school)
        snap = load_snapshot(school, ledger, at(BUILT, 10))
        later = load_snapshot(school, ledger, at(date(2026, 10, 5), 10))
        head = ledger.audit_head()
    p1 = period_span(school, "1 четверть")
    write_results(snap, p1, out / "results.xlsx")
    write_results(later, period_span(school, "год"), out / "year.xlsx")
    write_attendance(snap, p1, out / "attendance.xlsx")
    write_control_works(snap, p1, out / "control.xlsx")
    write_curriculum(snap, p1, out / "curriculum.xlsx")
    return Built(school, head, out / "results.xlsx", out / "year.xlsx", out / "attendance.xlsx",
                 out / "control.xlsx", out / "curriculum.xlsx")


def approx(value: float) -> object:
    return pytest.approx(value, abs=1e-9)


# --------------------------------------------------------------------------- every workbook


@pytest.mark.parametrize("name", ["results", "year", "attendance", "control", "curriculum"])
def test_every_workbook_states_school_period_time_config_and_audit_head(
    built: Built, name: str
) -> None:
    path: Path = getattr(built, name)
    book = openpyxl.load_workbook(path)
    for sheet in book.sheetnames:
        lines = heading(path, sheet)
        assert lines[1] == "Школа: МБОУ «Тестовая школа № 7»"
        if name == "year":
            assert lines[2] == "Период: 2026/27 учебный год (07.09.2026–02.10.2026)"
        else:
            assert lines[2] == "Период: 1 четверть (07.09.2026–18.09.2026)"
        expected_time = "05.10.2026 10:00" if name == "year" else "22.09.2026 10:00"
        assert lines[3] == f"Сформирован: {expected_time} (Europe/Moscow)"
        assert lines[4] == f"Версия настроек: {built.school.config_version}"
        assert lines[5] == f"Цепочка аудита (последнее событие): {built.head}"
        assert len(built.head) == 64
        ws = book[sheet]
        assert ws.freeze_panes is not None and ws.freeze_panes.startswith(("B9", "C9", "D9"))
        assert ws.auto_filter.ref is not None and ws.auto_filter.ref.startswith("A8:")


def test_numbers_are_numbers_and_a_topic_starting_with_equals_is_text(built: Built) -> None:
    found = [c for c in cells(built.control, "Работы") if str(c[1]).startswith("=")]
    assert found == [(found[0][0], "=Контрольная работа №1 (2+2)", "s")]
    found = [c for c in cells(built.curriculum, "Темы не по КТП") if str(c[1]).startswith("=")]
    assert [(v, t) for _, v, t in found] == [("=Контрольная работа №1 (2+2)", "s")]
    numeric = [c for c in cells(built.results, "Классы") if c[0].startswith("E") and c[0] != "E8"]
    assert numeric and all(t == "n" for _, _, t in numeric)


def test_unknown_period_is_a_clear_error(built: Built) -> None:
    with pytest.raises(ReportError, match="unknown period '5 четверть'") as info:
        period_span(built.school, "5 четверть")
    assert "«1 четверть», «2 четверть»" in (info.value.hint or "")


# --------------------------------------------------------------------------- report 3


def test_results_per_class_and_subject(built: Built) -> None:
    subjects = table(built.results, "Классы и предметы")
    # 5А math: 5 4 3 2 → N 4, успеваемость 3/4, качество 2/4, СОУ (100+64+36+16)/4, avg 14/4
    r = row(subjects, Класс="5А", Предмет="Математика")
    assert (r["N"], r["«5»"], r["«4»"], r["«3»"], r["«2»"]) == (4, 1, 1, 1, 1)
    assert r["% успеваемости"] == approx(75.0) and r["% качества"] == approx(50.0)
    assert r["СОУ, %"] == approx(54.0) and r["Средний балл"] == approx(3.5)
    assert r["Учитель"] == "Иванова Мария Петровна"
    # 5А russian: 5 5 4 н/а → N 4, усп 3/4, кач 3/4, СОУ (200+64+7)/4 = 67.75, avg 14/3
    r = row(subjects, Класс="5А", Предмет="Русский язык")
    assert (r["N"], r["«5»"], r["«4»"], r["н/а"]) == (4, 2, 1, 1)
    assert r["% успеваемости"] == approx(75.0) and r["% качества"] == approx(75.0)
    assert r["СОУ, %"] == approx(67.75) and r["Средний балл"] == approx(14 / 3)
    # 7Б math: 4 4 осв, b4 left (her 3 does not count) → N 2, all 100 %, СОУ 64, avg 4
    r = row(subjects, Класс="7Б", Предмет="Математика")
    assert (r["N"], r["«4»"], r["«3»"], r["осв"], r["Выбыли"]) == (2, 2, 0, 1, 1)
    assert r["% качества"] == approx(100.0) and r["СОУ, %"] == approx(64.0)
    # 7Б russian: 5 3 4 (b4 left) → N 3, кач 2/3, СОУ (100+64+36)/3
    r = row(subjects, Класс="7Б", Предмет="Русский язык")
    assert r["N"] == 3 and r["% качества"] == approx(200 / 3) and r["СОУ, %"] == approx(200 / 3)
    # 10А math: c1 5, c2 no mark (c3 joins in period 2, not counted) → N 1, без отметки 1
    r = row(subjects, Класс="10А", Предмет="Математика")
    assert (r["N"], r["«5»"], r["Без отметки"]) == (1, 1, 1)
    r = row(subjects, Класс="10А", Предмет="Русский язык")
    assert r["N"] == 2 and r["СОУ, %"] == approx(82.0) and r["Средний балл"] == approx(4.5)


def test_results_per_class_school_and_teacher(built: Built) -> None:
    classes = table(built.results, "Классы")
    assert list(classes["Класс"]) == ["5А", "7Б", "10А", "Итого по школе"]
    # 5А: a1 5,5 отличник; a2 4,5 хорошист (одна 4); a3 3,4 одна 3; a4 2,н/а неусп. и н/а
    r = row(classes, Класс="5А")
    assert (r["Учеников"], r["Отличники"], r["Хорошисты"], r["в т.ч. с одной «4»"],
            r["С одной «3»"], r["Неуспевающие"], r["Не аттестованы"]) == (4, 1, 1, 1, 1, 1, 1)
    assert r["% успеваемости"] == approx(75.0) and r["% качества"] == approx(50.0)
    # marks of 5А: 5×3, 4×2, 3, 2, н/а → N 8, СОУ 487/8, average 28/7
    assert r["Отметок"] == 8 and r["СОУ, %"] == approx(60.875) and r["Средний балл"] == approx(4.0)
    # 7Б: b1 4,5 and b3 осв,4 хорошисты (одна 4); b2 4,3 одна 3; b4 left
    r = row(classes, Класс="7Б")
    assert (r["Учеников"], r["Выбыли"], r["Хорошисты"], r["С одной «3»"]) == (3, 1, 2, 1)
    assert r["% качества"] == approx(200 / 3) and r["СОУ, %"] == approx(65.6)
    # school: 9 pupils, 1 left; отличники a1, c1; хорошисты a2 b1 b3 c2; marks N 16
    r = row(classes, Класс="Итого по школе")
    assert (r["Учеников"], r["Выбыли"], r["Отличники"], r["Хорошисты"], r["С одной «3»"],
            r["Неуспевающие"], r["Не аттестованы"], r["Отметок"]) == (9, 1, 2, 4, 2, 1, 1, 16)
    assert r["% успеваемости"] == approx(800 / 9) and r["% качества"] == approx(600 / 9)
    assert r["СОУ, %"] == approx(1079 / 16) and r["Средний балл"] == approx(62 / 15)
    teachers = table(built.results, "Учителя")
    # Иванова (math): 5×2, 4×3, 3, 2 → N 7, СОУ 444/7, avg 27/7
    r = row(teachers, Учитель="Иванова Мария Петровна")
    assert (r["Журналов"], r["N"]) == (3, 7)
    assert r["СОУ, %"] == approx(444 / 7) and r["Средний балл"] == approx(27 / 7)
    # Петров (russian): 5×4, 4×3, 3, н/а → N 9, кач 7/9, СОУ 635/9
    r = row(teachers, Учитель="Петров Олег Ильич")
    assert r["N"] == 9 and r["% качества"] == approx(700 / 9) and r["СОУ, %"] == approx(635 / 9)
    by_subject = table(built.results, "Предметы")
    assert row(by_subject, Предмет="Математика")["N"] == 7


def test_results_per_pupil_and_charts(built: Built) -> None:
    pupils = table(built.results, "Ученики")
    r = row(pupils, Ученик="Григорьева Алла")
    assert (r["Математика"], r["Русский язык"], r["Категория"]) == (
        2, "н/а", "неуспевающий, не аттестован")
    assert row(pupils, Ученик="Зайцева Бэлла")["Категория"] == "выбыл"
    assert row(pupils, Ученик="Борисова Анна")["Средний балл"] == approx(4.5)
    assert "Лебедев Виктор" not in set(pupils["Ученик"])  # joins in period 2
    book = openpyxl.load_workbook(built.results)
    assert len(book["Классы"]._charts) == 1 and len(book["Предметы"]._charts) == 1


def test_year_marks_are_derived_from_period_marks(built: Built) -> None:
    pupils = table(built.year, "Ученики")
    # 5А math: a1 5,4 → 4.5 < 4.65 → 4; a2 4,5 → 4; a3 3 → 3; a4 2,3 → 2.5 < 2.65 → 2
    marks = {r["Ученик"]: r["Математика"] for _, r in pupils[pupils["Класс"] == "5А"].iterrows()}
    assert marks == {"Алексеев Артём": 4, "Борисова Анна": 4, "Васильев Антон": 3,
                     "Григорьева Алла": 2}
    assert row(pupils, Ученик="Лебедев Виктор")["Математика"] == 5  # joined, period 2 only
    assert row(pupils, Ученик="Григорьева Алла")["Русский язык"] == "н/а"
    assert row(pupils, Ученик="Жуков Богдан")["Математика"] == "осв"


# --------------------------------------------------------------------------- report 4


def test_attendance_per_pupil(built: Built) -> None:
    pupils = table(built.attendance, "Ученики")
    cols = ["Уроков по расписанию", "Пропущено уроков", "по болезни", "по уважительной причине",
            "без уважительной причины", "причина не указана", "Опозданий", "Пропущено дней",
            "дней по болезни"]

    def figures(name: str) -> tuple[int, ...]:
        r = row(pupils, Ученик=name)
        return tuple(int(r[c]) for c in cols)

    # 8 lessons each (math Mon, Wed ×2 weeks; russian Mon, Thu ×2 weeks)
    assert figures("Алексеев Артём") == (8, 2, 2, 0, 0, 0, 0, 1, 1)  # Mon 07.09 both, б
    assert figures("Борисова Анна") == (8, 1, 0, 1, 0, 0, 1, 1, 0)  # Wed 09.09 (one lesson), у
    assert figures("Васильев Антон") == (8, 1, 0, 0, 1, 0, 0, 0, 0)  # Mon 14.09 math only
    assert figures("Григорьева Алла") == (8, 1, 0, 0, 0, 1, 0, 1, 0)  # Thu 17.09, no reason
    assert figures("Зайцева Бэлла") == (6, 1, 1, 0, 0, 0, 0, 1, 1)  # left 15.09: 6 lessons
    assert row(pupils, Ученик="Алексеев Артём")["% посещения"] == approx(75.0)
    assert row(pupils, Ученик="Зайцева Бэлла")["% посещения"] == approx(500 / 6)
    assert row(pupils, Ученик="Зайцева Бэлла")["Выбыл"] == "да"


def test_attendance_per_class_and_school(built: Built) -> None:
    classes = table(built.attendance, "Классы")
    r = row(classes, Класс="5А")
    assert (r["Уроков по расписанию"], r["Пропущено уроков"], r["по болезни"],
            r["по уважительной причине"], r["без уважительной причины"], r["причина не указана"],
            r["Опозданий"], r["Пропущено дней"], r["дней по болезни"]) == (32, 5, 2, 1, 1, 1, 1, 3, 1)
    assert r["% посещения"] == approx(27 / 32 * 100)
    r = row(classes, Класс="7Б")  # 8+8+8+6 lessons; b1 2 (у), b4 1 (б)
    assert (r["Уроков по расписанию"], r["Пропущено уроков"], r["Пропущено дней"]) == (30, 3, 2)
    assert r["% посещения"] == approx(90.0)
    r = row(classes, Класс="10А")  # c1, c2: 16 lessons; c1 Thu 10.09 (б)
    assert (r["Уроков по расписанию"], r["Пропущено уроков"], r["по болезни"]) == (16, 1, 1)
    r = row(classes, Класс="Итого по школе")
    assert (r["Уроков по расписанию"], r["Пропущено уроков"], r["по болезни"],
            r["по уважительной причине"], r["Пропущено дней"]) == (78, 9, 4, 3, 6)
    assert r["% посещения"] == approx(69 / 78 * 100)
    missing = table(built.attendance, "Без причины")
    assert len(missing) == 1
    r = row(missing, Ученик="Григорьева Алла")
    assert (r["Класс"], r["Дата"].date(), r["Пропущено уроков"], r["Предметы"]) == (
        "5А", date(2026, 9, 17), 1, "Русский язык")


# --------------------------------------------------------------------------- report 5


def test_control_works_results_and_checks(built: Built) -> None:
    works = table(built.control, "Работы")
    assert len(works) == 5
    day = works["Дата"].map(lambda d: d.date())
    w1 = row(works.assign(Дата=day), Дата=date(2026, 9, 7), Класс="5А")
    # a1 «н»; 5 4 3 → wrote 3, успеваемость 100, качество 2/3, average 4
    assert (w1["Учеников"], w1["Писали"], w1["Отсутствовали"], w1["Без отметки"]) == (4, 3, 1, 0)
    assert (w1["«5»"], w1["«4»"], w1["«3»"], w1["«2»"]) == (1, 1, 1, 0)
    assert w1["% качества"] == approx(200 / 3) and w1["Средний балл"] == approx(4.0)
    assert w1["Замечания"] == "первый урок дня"
    assert w1["Вид работы"] == "Контрольная работа"
    w2 = row(works.assign(Дата=day), Дата=date(2026, 9, 16), Класс="5А")
    assert w2["% успеваемости"] == approx(75.0) and w2["Средний балл"] == approx(3.5)
    assert w2["Замечания"] == (
        "единственный урок дня; меньше 2,5 недель после предыдущей в параллели (07.09.2026)")
    w3 = row(works.assign(Дата=day), Дата=date(2026, 9, 17), Класс="5А")
    # «5/4» counts by its first mark: 5 3 4 → average 4
    assert (w3["«5»"], w3["«4»"], w3["«3»"], w3["Отсутствовали"]) == (1, 1, 1, 1)
    assert w3["Средний балл"] == approx(4.0)
    w4 = row(works.assign(Дата=day), Класс="7Б", Предмет="Математика")
    assert (w4["Учеников"], w4["Писали"], w4["Без отметки"]) == (4, 3, 1)  # b4 still enrolled
    assert w4["Замечания"] == "2 оценочные работы в классе в этот день; первый урок дня"
    w5 = row(works.assign(Дата=day), Класс="7Б", Предмет="Русский язык")
    assert (w5["Писали"], w5["Без отметки"], w5["Средний балл"]) == (2, 2, 5.0)
    assert w5["Замечания"] == "2 оценочные работы в классе в этот день; последний урок дня"
    load = table(built.control, "Нагрузка")
    r = row(load, Класс="5А", Предмет="Математика")  # 2 of the year's 8 lessons
    assert (r["Уроков за год"], r["Оценочных работ за год"], r["Доля, %"], r["Больше 10 %"]) == (
        8, 2, 25.0, "да")
    assert row(load, Класс="10А", Предмет="Математика")["Оценочных работ за год"] == 0


# --------------------------------------------------------------------------- report 6


def test_curriculum_planned_against_held(built: Built) -> None:
    journals = table(built.curriculum, "Выполнение")
    r = row(journals, Класс="5А", Предмет="Математика")
    # КТП 2+1+3+2 = 8 hours; 8 lessons a year; period 1: 4 lessons, 14.09 not recorded;
    # 16.09 (lesson 4, plan «Сложение натуральных чисел») has another topic
    assert (r["Часов по КТП за год"], r["Уроков по расписанию за год"],
            r["Не хватает уроков до КТП"], r["Уроков по расписанию"],
            r["Проведено (тема записана)"], r["Отставание, уроков"],
            r["Тем не по КТП"]) == (8, 8, 0, 4, 3, 1, 1)
    assert r["% выполнения"] == approx(75.0)
    r = row(journals, Класс="10А", Предмет="Русский язык")  # 17.09 has homework, no topic
    assert (r["Уроков по расписанию"], r["Проведено (тема записана)"], r["Отставание, уроков"]) == (
        4, 3, 1)
    assert r["Часов по КТП за год"] is None and r["Тем не по КТП"] is None
    r = row(journals, Класс="7Б", Предмет="Математика")
    assert (r["Проведено (тема записана)"], r["Отставание, уроков"], r["% выполнения"]) == (4, 0, 100)
    off = table(built.curriculum, "Темы не по КТП")
    assert len(off) == 1
    r = row(off, Класс="5А")
    assert (r["Урок № в году"], r["Тема по КТП"], r["Записанная тема"]) == (
        4, "Сложение натуральных чисел", "=Контрольная работа №1 (2+2)")
    missing = table(built.curriculum, "Без темы")
    assert sorted(zip(missing["Класс"], missing["Дата"].map(lambda d: d.date()), strict=True)) == [
        ("10А", date(2026, 9, 17)), ("5А", date(2026, 9, 14))]
    assert row(missing, Класс="5А")["Учитель"] == "Иванова Мария Петровна"



@pytest.mark.skipif(missing_tools() is not None, reason=f"LibreOffice/poppler {missing_tools()}")
def test_results_print_one_page_wide_per_sheet(built: Built, tmp_path: Path) -> None:
    """Fit to the page width: LibreOffice prints each of the five small sheets on one page."""
    pdf = to_pdf(built.results, tmp_path)
    assert pdf_pages(pdf) == len(openpyxl.load_workbook(built.results).sheetnames) == 5
    assert to_png(pdf, tmp_path, last_page=1)
