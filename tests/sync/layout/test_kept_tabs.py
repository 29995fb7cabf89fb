"""Kept tab parses (``KeptTabs``): a tab read as it was last time is not parsed again, and the
reading is always the one a fresh parse of the same grids gives — after a mark typed, rows sorted
or the configuration reloaded too."""

from __future__ import annotations

import copy
import dataclasses

from sync.layout.common import spec_grids
from sync.layout.journal.parse import KeptTabs
from sync.layout.journal.spec import JournalReading, journal_spec, parse_journal
from sync.layout.labels import RU
from tests.sync.layout.test_journal import CLASS, FIRST, Q1, SUBJECT, TODAY, lessons, sample_values
from tests.sync.layout_helpers import example_school, set_cell, sort_rows


def grids(school, values):
    return spec_grids(journal_spec(school, CLASS, SUBJECT, lessons(school), today=TODAY,
                                   existing=values))


def read(school, tabs, kept: KeptTabs | None = None) -> JournalReading:
    return parse_journal(tabs, school, CLASS, SUBJECT, lessons(school), kept=kept)


def test_an_unchanged_tab_is_kept_and_reads_as_a_fresh_parse() -> None:
    school = example_school()
    tabs = grids(school, sample_values(school))
    kept = KeptTabs()
    first = read(school, tabs, kept)
    again = read(school, copy.deepcopy(tabs), kept)  # the next cycle's read: equal, not the same
    assert first == read(school, tabs) == again
    assert again.map.periods[Q1] is first.map.periods[Q1]  # not parsed again
    assert again.map.lessons_tab is first.map.lessons_tab


def test_a_changed_tab_is_parsed_again() -> None:
    school = example_school()
    tabs = grids(school, sample_values(school))
    kept = KeptTabs()
    first = read(school, tabs, kept)
    tab, pupil, lesson = first.map.periods[Q1], school.pupils_in(CLASS)[1], lessons(school)[0]
    row, col = tab.rows[pupil.id], tab.columns[(lesson.day, lesson.lesson_no)]
    typed = dict(tabs, **{Q1: set_cell(tabs[Q1], row, col, "2")})
    after = read(school, typed, kept)
    assert after == read(school, typed) != first
    assert [e.raw for e in after.entries if (e.pupil_id, e.day) == (pupil.id, lesson.day)] == ["2"]
    moved = dict(tabs, **{Q1: sort_rows(tabs[Q1], FIRST, key=lambda r: str(r[1:2]), reverse=True)})
    assert read(school, moved, kept) == read(school, moved)  # every mark still on its pupil


def test_a_reloaded_configuration_parses_afresh() -> None:
    school = example_school()
    tabs = grids(school, sample_values(school))
    kept = KeptTabs()
    first = read(school, tabs, kept)
    reloaded = dataclasses.replace(school)
    again = read(reloaded, tabs, kept)
    assert again == first and again.map.periods[Q1] is not first.map.periods[Q1]
    assert again.map.lessons_tab is not first.map.lessons_tab and RU.lessons_tab in tabs
