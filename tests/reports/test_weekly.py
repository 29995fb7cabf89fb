"""The weekly analysis of journal keeping over two weeks of the tiny school with planted defects
(``weekly_data``): every planted defect is found, remark ids are stable, last week's fixed
remarks are marked fixed; read back from the written workbooks and the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from config import load_school
from config.school import School
from sync.jobs.reports import build_monthly, build_weekly
from sync.ledger.ledger import Ledger
from tests.reports.helpers import heading, row, table
from tests.reports.ledger_data import at
from tests.reports.school_files import write_school
from tests.reports.weekly_data import MON, MON2, fix_in_week2, plant_week1


@dataclass
class Weeks:
    school: School
    ledger_path: Path
    week1: Path
    week2: Path
    again: Path
    month: Path


@pytest.fixture(scope="module")
def weeks(tmp_path_factory: pytest.TempPathFactory) -> Weeks:
    school = load_school(write_school(tmp_path_factory.mktemp("school")))
    with Ledger.open(school.ledger_path, now=at(MON, 7)) as ledger:
        plant_week1(ledger, school)
        first = build_weekly(school, ledger, at(MON2, 8))  # Monday morning: last week
        week1 = first.paths[0]
        kept = week1.with_name("week1.xlsx")
        week1.rename(kept)
        fix_in_week2(ledger, school)
        second = build_weekly(school, ledger, at(date(2026, 9, 21), 8))
        kept2 = second.paths[0].with_name("week2.xlsx")
        second.paths[0].rename(kept2)
        again = build_weekly(school, ledger, at(date(2026, 9, 21), 9))  # built twice: same
        month = build_monthly(school, ledger, at(date(2026, 10, 1), 8))  # last month
    return Weeks(school, school.ledger_path, kept, kept2, again.paths[0], month.paths[0])


def remarks(path: Path) -> list[dict[str, object]]:
    frame = table(path, "Замечания")
    return [row(frame, Код=code) for code in frame["Код"]]


def find(items: list[dict[str, object]], **where: object) -> dict[str, object]:
    found = [r for r in items if all(r[k] == v for k, v in where.items())]
    assert len(found) == 1, f"{len(found)} remarks match {where}: {items}"
    return found[0]


def test_week1_finds_every_planted_defect(weeks: Weeks) -> None:
    items = remarks(weeks.week1)
    kinds = sorted((r["Замечание"], r["Класс"], r["Предмет"], r["Статус"]) for r in items)
    assert kinds == sorted([
        ("Нет темы урока", "7Б", "Русский язык", "новое"),  # D1
        ("Нет домашнего задания", "10А", "Математика", "новое"),  # D2
        ("Урок не заполнен", "10А", "Русский язык", "новое"),  # D3
        ("Оценочная работа без отметок", "7Б", "Математика", "новое"),  # D4
        ("Мало отметок", "5А", "Математика", "новое"),  # D5
        ("Запись позже дня урока", "5А", "Русский язык", "к сведению"),  # D6
        ("Запись позже дня урока", "10А", "Русский язык", "к сведению"),  # D6
        ("Попытка исправить закрытую клетку", "5А", "Математика", "к сведению"),  # D7
        ("Ошибочная запись", "7Б", "Русский язык", "новое"),  # D8 (not the warning)
    ])
    d4 = find(items, Замечание="Оценочная работа без отметок")
    assert "нет отметок у 1 присутствовавшего (Егорова Б.)" in str(d4["Подробности"])
    assert d4["Учитель"] == "Иванова Мария Петровна"
    d5 = find(items, Замечание="Мало отметок")
    assert str(d5["Подробности"]).startswith("Григорьева А.: 0 отм. за 1 четверть к 13.09.2026 "
                                             "при норме 1")
    late = find(items, Замечание="Запись позже дня урока", Класс="5А")
    assert "1 запись после срока" in str(late["Подробности"])
    within = find(items, Замечание="Запись позже дня урока", Класс="10А")
    assert "2 записи в пределах срока проверки работ (7 дн.)" in str(within["Подробности"])
    tamper = find(items, Замечание="Попытка исправить закрытую клетку")
    assert "«4» → «2»; значение восстановлено" in str(tamper["Подробности"])
    assert all(str(r["Код"]).startswith("З-") and len(str(r["Код"])) == 10 for r in items)
    assert heading(weeks.week1)[2] == "Период: неделя 07.09–13.09.2026 (07.09.2026–13.09.2026)"


def test_week1_summary_per_teacher_and_journal(weeks: Weeks) -> None:
    summary = table(weeks.week1, "Сводка")
    # every journal had 2 lessons; 7Б russian and 10А russian recorded one topic of two
    r = row(summary, Класс="7Б", Предмет="Русский язык")
    assert (r["Учитель"], r["Уроков по расписанию"], r["Заполнено (тема записана)"],
            r["% заполнения"], r["Без темы"], r["Ошибочных записей"], r["Новых замечаний"]) == (
        "Петров Олег Ильич", 2, 1, 50.0, 1, 1, 2)
    r = row(summary, Класс="10А", Предмет="Русский язык")
    assert (r["Заполнено (тема записана)"], r["Не заполнено совсем"], r["Без темы"],
            r["Записей позже дня урока"]) == (1, 1, 0, 1)
    r = row(summary, Класс="5А", Предмет="Математика")
    assert (r["Заполнено (тема записана)"], r["Учеников с малым числом отметок"],
            r["Попыток исправить закрытые клетки"]) == (2, 1, 1)
    teachers = table(weeks.week1, "По учителям")
    r = row(teachers, Учитель="Иванова Мария Петровна")  # 3 journals × 2 lessons, all topics
    assert (r["Уроков по расписанию"], r["Заполнено (тема записана)"], r["Новых замечаний"]) == (
        6, 6, 3)  # D2, D4, D5
    r = row(teachers, Учитель="Петров Олег Ильич")
    assert (r["Уроков по расписанию"], r["Заполнено (тема записана)"], r["Новых замечаний"]) == (
        6, 4, 3)  # D1, D3, D8


def test_week2_marks_last_weeks_fixed_remarks_fixed(weeks: Weeks) -> None:
    first = {(r["Замечание"], r["Класс"], r["Предмет"]): r["Код"] for r in remarks(weeks.week1)}
    items = remarks(weeks.week2)
    status = {r["Код"]: r["Статус"] for r in items}
    assert status[first[("Нет темы урока", "7Б", "Русский язык")]] == "устранено"  # D1 corrected
    assert status[first[("Оценочная работа без отметок", "7Б", "Математика")]] == "устранено"
    for still in (("Нет домашнего задания", "10А", "Математика"),
                  ("Урок не заполнен", "10А", "Русский язык"),
                  ("Мало отметок", "5А", "Математика"), ("Ошибочная запись", "7Б", "Русский язык")):
        assert status[first[still]] == "не устранено", still
        assert find(items, Код=first[still])["Замечание от"].date() == MON
    for event in (("Запись позже дня урока", "5А", "Русский язык"),
                  ("Попытка исправить закрытую клетку", "5А", "Математика")):
        assert first[event] not in status  # last week's events are not carried
    new = find(items, Замечание="Урок не заполнен", Класс="5А")  # 14.09 left without a row
    assert new["Статус"] == "новое" and new["Замечание от"].date() == MON2
    # the deputy's correction of b2's mark (15.09) is no late entry
    assert not [r for r in items if r["Замечание"] == "Запись позже дня урока"
                and r["Класс"] == "7Б"]


def test_remarks_are_kept_in_the_ledger_and_a_second_build_changes_nothing(weeks: Weeks) -> None:
    assert remarks(weeks.again) == remarks(weeks.week2)
    with Ledger.open(weeks.ledger_path) as ledger, ledger.snapshot() as tx:
        kept = {r.id: r for r in tx.remarks()}
    week1 = {r["Код"]: r for r in remarks(weeks.week1)}
    fixed = [k for k, r in kept.items() if r.status == "fixed"]
    assert sorted(fixed) == sorted(k for k, r in week1.items() if r["Замечание"] in (
        "Нет темы урока", "Оценочная работа без отметок"))
    assert all(kept[k].resolved == MON2 for k in fixed)
    assert {kept[k].status for k, r in week1.items() if r["Статус"] == "к сведению"} == {"info"}


def test_monthly_report_per_teacher_with_the_trend(weeks: Weeks) -> None:
    teachers = table(weeks.month, "Учителя")
    # Иванова: math Mon+Wed in 3 classes = 6 lessons a week, 4 weeks in September (28.09–30.09
    # has Mon and Wed) = 24; topics: week 1 all 6, week 2 five (5А 14.09 empty), later none
    r = row(teachers, Учитель="Иванова Мария Петровна")
    assert (r["Уроков по расписанию"], r["Заполнено (тема записана)"]) == (24, 11)
    assert r["% заполнения"] == pytest.approx(1100 / 24)
    # week 1: D2, D4, D5 (+ the tampering event); week 2: 8 pupils short of marks + 14.09
    assert (r["Замечаний за месяц"], r["Устранено"], r["Не устранено"],
            r["События к сведению"]) == (12, 1, 11, 1)
    assert (r["Замечаний, 01.09–06.09"], r["Замечаний, 07.09–13.09"], r["Замечаний, 14.09–20.09"],
            r["Замечаний, 21.09–27.09"]) == (None, 3, 9, None)
    assert r["Динамика"] == "хуже: замечаний 3 → 9"
    # Петров: russian Mon+Thu = 6 a week, 28.09–30.09 only Monday: 21; topics: week 1 five
    # (10А 10.09 empty; 7Б 10.09 corrected), week 2 six
    r = row(teachers, Учитель="Петров Олег Ильич")
    assert (r["Уроков по расписанию"], r["Заполнено (тема записана)"], r["Замечаний за месяц"],
            r["Устранено"], r["События к сведению"]) == (21, 11, 12, 1, 2)
    weeks_frame = table(weeks.month, "Недели")
    w = row(weeks_frame, Неделя="07.09–13.09")
    assert (w["Анализ проведён"], w["Уроков по расписанию"], w["Заполнено (тема записана)"],
            w["Замечаний"], w["Устранено"]) == ("да", 12, 11, 6, 2)
    w = row(weeks_frame, Неделя="01.09–06.09")
    assert (w["Анализ проведён"], w["Уроков по расписанию"], w["Замечаний"]) == ("нет", 0, None)
    assert heading(weeks.month)[2] == "Период: сентябрь 2026 (01.09.2026–30.09.2026)"
    listed = table(weeks.month, "Замечания")
    assert len(listed) == 24 + 3  # 12 + 12 remarks and 3 events


def test_remark_codes_do_not_give_away_the_pupil(weeks: Weeks, tmp_path: Path) -> None:
    """Every teacher reads the codes on the board: a «мало отметок» code must not let anyone who
    knows the class list find out which pupil it is about (the codes are keyed by a secret the
    ledger keeps; an unkeyed hash over the pupil's id could be recomputed for every pupil)."""
    import hashlib
    import hmac

    d5 = find(remarks(weeks.week1), Замечание="Мало отметок")["Код"]
    guesses = set()
    for pupil in weeks.school.pupils_in("5А"):
        text = "|".join(("few_marks", "5А", "math", "1 четверть", pupil.id)).encode()
        guesses.add(f"З-{hashlib.sha256(text).hexdigest()[:8].upper()}")
        guesses.add(f"З-{hmac.new(b'', text, hashlib.sha256).hexdigest()[:8].upper()}")
    assert "s-a4" in {p.id for p in weeks.school.pupils_in("5А")}  # D5's pupil is in the list
    assert d5 not in guesses
    with Ledger.open(weeks.ledger_path, now=at(MON2, 9)) as ledger, ledger.snapshot() as tx:
        secret = tx.state_get("reports.remark_key")
    assert secret is not None and len(bytes.fromhex(secret)) == 32
    # the same planted week in another school's ledger gets other codes
    other = load_school(write_school(tmp_path / "other"))
    with Ledger.open(other.ledger_path, now=at(MON, 7)) as ledger:
        plant_week1(ledger, other)
        again = build_weekly(other, ledger, at(MON2, 8))
    assert find(remarks(again.paths[0]), Замечание="Мало отметок")["Код"] != d5
