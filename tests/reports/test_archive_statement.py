"""The archive print-out (7) and the pupil statement (8) of the tiny school (``ledger_data``):
print settings read back with openpyxl, page kinds after each page break, LibreOffice's page
count, and one pupil's statement with hand-computed figures and nobody else's data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest

from config import load_school
from config.school import School
from reports.archive import MAX_RUN, JournalPages, runs
from reports.snapshot import LessonFacts
from rules.errors import ReportError
from rules.model import Lesson
from sync.jobs.reports import build_archive, build_statement
from sync.ledger.ledger import Ledger
from tests.reports.helpers import heading, row, table
from tests.reports.ledger_data import at, fill
from tests.reports.render import missing_tools, pdf_pages, to_pdf
from tests.reports.school_files import write_school


@dataclass
class Printed:
    school: School
    archive: dict[str, Path]
    statement: Path
    head: str


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Printed:
    school = load_school(write_school(tmp_path_factory.mktemp("school")))
    with Ledger.open(school.ledger_path, now=at(date(2026, 9, 7), 7)) as ledger:
        fill(ledger, school)
        now = at(date(2026, 9, 22), 10)
        archive = build_archive(school, ledger, now, "1 четверть")
        statement = build_statement(school, ledger, now, "1 четверть", "s-a2")
        head = ledger.audit_head()
    by_class = {p.name.split()[1]: p for p in archive.paths}
    return Printed(school, by_class, statement.paths[0], head)


def test_one_workbook_per_class_one_sheet_per_journal(printed: Printed) -> None:
    assert sorted(printed.archive) == ["10А", "5А", "7Б"]
    book = openpyxl.load_workbook(printed.archive["5А"])
    assert book.sheetnames == ["Математика", "Русский язык"]


def test_archive_print_settings(printed: Printed) -> None:
    book = openpyxl.load_workbook(printed.archive["5А"])
    for ws in book.worksheets:
        setup = ws.page_setup
        assert (setup.orientation, setup.paperSize) == ("landscape", 9)
        assert ws.sheet_properties.pageSetUpPr.fitToPage is True
        # one page wide (fitToWidth 1 is the OOXML default, so the file may omit it), as tall
        # as needed (fitToHeight 0)
        assert (setup.fitToWidth or 1, setup.fitToHeight) == (1, 0)
        assert ws.print_title_rows == "$1:$1"  # the running title on every page
        assert "&P" in ws.oddFooter.right.text and "&N" in ws.oddFooter.right.text
        # cover | grid | topics | closing page: a break before each page after the first
        starts = [brk.id + 1 for brk in ws.row_breaks.brk]  # 1-based first row of each page
        assert len(starts) == 3
        firsts = [ws.cell(row=r, column=1).value for r in starts]
        assert firsts == ["№", "Дата", "Итоговые отметки за период"]


def test_archive_grid_topics_and_closing(printed: Printed) -> None:
    ws = openpyxl.load_workbook(printed.archive["5А"])["Математика"]
    assert ws["A1"].value == "Журнал 5А · Математика · 1 четверть · 2026/27 учебный год"
    starts = [brk.id + 1 for brk in ws.row_breaks.brk]
    grid = starts[0]
    header = [ws.cell(row=grid, column=c).value for c in range(1, 7)]
    assert header == ["№", "Ученик", "07.09", "09.09", "14.09", "16.09"]
    borisova = grid + 3  # two header rows, then Алексеев, Борисова
    assert ws.cell(row=borisova, column=2).value == "Борисова Анна"
    values = [ws.cell(row=borisova, column=c) for c in range(3, 7)]
    assert [(c.value, c.data_type) for c in values] == [(5, "n"), ("н", "s"), ("оп", "s"), (4, "n")]
    # the last run's extra columns: lessons missed 1, average (5 + 4) / 2, period mark 4
    extra = [ws.cell(row=borisova, column=3 + MAX_RUN + j).value for j in range(3)]
    assert extra == [1, 4.5, 4]
    topics = starts[1]
    rows = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=2)
            for r in range(topics + 1, topics + 5)}
    assert (rows["16.09"].value, rows["16.09"].data_type) == ("=Контрольная работа №1 (2+2)", "s")
    assert rows["14.09"].value in (None, "")  # not filled in the journal
    closing = [str(ws.cell(row=r, column=c).value) for r in range(starts[2], ws.max_row + 1)
               for c in (1, 2)]
    assert "Заместитель директора по УВР" in closing and "Расшифровка подписи" in closing
    assert any(printed.head in text for text in closing)
    cover = [str(ws.cell(row=r, column=1).value) for r in range(2, starts[0])]
    assert f"Цепочка аудита (последнее событие): {printed.head}" in cover
    assert "Распечатано: 22.09.2026 10:00 (Europe/Moscow)" in cover


@pytest.mark.skipif(missing_tools() is not None, reason=f"LibreOffice/poppler {missing_tools()}")
def test_archive_prints_an_even_number_of_pages_per_journal(printed: Printed, tmp_path: Path
                                                             ) -> None:
    pdf = to_pdf(printed.archive["5А"], tmp_path)
    assert pdf_pages(pdf) == 2 * 4  # two journals × (cover, grid, topics, closing)


def lessons(n: int) -> list[Lesson]:
    first = date(2026, 9, 1)
    return [Lesson("5А", "math", first + timedelta(days=i), 1, "1 четверть", i + 1, "t")
            for i in range(n)]


def test_runs_split_at_twenty_lessons_and_at_a_full_page_of_topics() -> None:
    many = lessons(45)
    plain = JournalPages("5А", "math", many, {}, {}, [], {})
    assert [len(r) for r in runs(plain)] == [20, 20, 5]
    long = "очень длинная тема урока " * 12  # ~300 characters: several lines each
    facts = {(x.day, x.lesson_no): LessonFacts("5А", "math", x.day, 1, topic=long) for x in many}
    wordy = JournalPages("5А", "math", many, facts, {}, [], {})
    sizes = [len(r) for r in runs(wordy)]
    assert sum(sizes) == 45 and max(sizes) < 20 and len(sizes) > 3


# --------------------------------------------------------------------------- statement


def test_statement_of_one_pupil(printed: Printed) -> None:
    summary = table(printed.statement, "Выписка")
    math = row(summary, Предмет="Математика")
    # Борисова: math 07.09 5 and 16.09 4 (control works), 09.09 «н» (у), 14.09 «оп»
    assert (math["Отметки"], math["Отметок"], math["Средний балл"], math["Рекомендуемая"],
            math["Итоговая за период"], math["Уроков"], math["Пропущено"],
            math["по уважительной"], math["Опозданий"]) == ("5 4", 2, 4.5, "н/а", 4, 4, 1, 1, 1)
    russian = row(summary, Предмет="Русский язык")  # 17.09 «3»; period mark 5
    assert (russian["Отметки"], russian["Средний балл"], russian["Итоговая за период"],
            russian["Пропущено"]) == ("3", 3.0, 5, 0)
    marks = table(printed.statement, "Отметки")
    assert [(r["Предмет"], r["Дата"].date(), r["Отметка"], r["Вид работы"])
            for _, r in marks.iterrows()] == [
        ("Математика", date(2026, 9, 7), 5, "Контрольная работа"),
        ("Математика", date(2026, 9, 16), 4, "Контрольная работа"),
        ("Русский язык", date(2026, 9, 17), 3, "Контрольная работа")]
    ws = openpyxl.load_workbook(printed.statement)["Отметки"]
    topics = [(c.value, c.data_type) for r in ws.iter_rows() for c in r
              if isinstance(c.value, str) and c.value.startswith("=")]
    assert topics == [("=Контрольная работа №1 (2+2)", "s")]  # a topic, never a formula
    assert heading(printed.statement)[0] == (
        "Выписка из электронного журнала — Борисова Анна, 5А класс")


def test_statement_holds_nobody_else(printed: Printed) -> None:
    book = openpyxl.load_workbook(printed.statement)
    texts = " ".join(str(c.value) for ws in book.worksheets for r in ws.iter_rows() for c in r
                     if c.value is not None)
    others = [p for p in printed.school.pupils if p.id != "s-a2"]
    assert [p.last_name for p in others if p.last_name in texts] == []
    assert [p.id for p in others if p.id in texts] == []


def test_statement_of_an_unknown_pupil_is_a_clear_error(printed: Printed, tmp_path: Path) -> None:
    with Ledger.open(printed.school.ledger_path) as ledger, pytest.raises(
        ReportError, match="no pupil with id 's-zz'"
    ):
        build_statement(printed.school, ledger, at(date(2026, 9, 22)), "1 четверть", "s-zz")
