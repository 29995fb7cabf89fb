"""The mark grammar: accepted values and their notes, refusals and their messages, properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.grammar import (
    CellValue,
    Parsed,
    Refusal,
    ValueKind,
    allowed_text,
    format_value,
    parse_cell,
)
from rules.model import MarkGrammar

DEFAULT = MarkGrammar()


def mark(*marks: int, modifier: str = "") -> CellValue:
    return CellValue(ValueKind.MARK, marks, modifier)


def code(kind: ValueKind, text: str) -> CellValue:
    return CellValue(kind, code=text)


ABSENT = code(ValueKind.ABSENT, "н")
LATE = code(ValueKind.LATE, "оп")
OWED = code(ValueKind.OWED, "•")
EMPTY = CellValue(ValueKind.EMPTY)


# --------------------------------------------------------------------------- accepted, lesson cells


@pytest.mark.parametrize(
    ("raw", "value", "normalized"),
    [
        ("5", mark(5), "5"),
        ("4", mark(4), "4"),
        ("3", mark(3), "3"),
        ("2", mark(2), "2"),
        ("5/4", mark(5, 4), "5/4"),
        ("2/2", mark(2, 2), "2/2"),
        ("н", ABSENT, "н"),
        ("оп", LATE, "оп"),
        ("•", OWED, "•"),
        ("", EMPTY, ""),
        (None, EMPTY, ""),
        (5, mark(5), "5"),
    ],
)
def test_canonical_lesson_values_parse_without_notes(
    raw: object, value: CellValue, normalized: str
) -> None:
    assert parse_cell(raw, DEFAULT) == Parsed(True, value, normalized)


@pytest.mark.parametrize(
    ("raw", "value", "note"),
    [
        (" 5 ", mark(5), "лишние пробелы убраны"),
        ("5 / 4", mark(5, 4), "лишние пробелы убраны"),
        ("5\u00a0", mark(5), "лишние пробелы убраны"),
        ("   ", EMPTY, "ячейка из одних пробелов считается пустой"),
        ("Н", ABSENT, "заглавные буквы заменены строчными"),
        ("ОП", LATE, "заглавные буквы заменены строчными"),
        ("Оп", LATE, "заглавные буквы заменены строчными"),
        ("H", ABSENT, "латинская «H» заменена на «н»"),
        ("h", ABSENT, "латинская «h» заменена на «н»"),
        ("n", ABSENT, "латинская «n» заменена на «н»"),
        ("oп", LATE, "латинская «o» заменена на «о»"),
        ("OП", LATE, "латинская «O» заменена на «о»"),
        ("on", LATE, "латинская «n» заменена на «п»"),
        (".", OWED, "«.» заменена на «•»"),
        ("·", OWED, "«·» заменена на «•»"),
        ("5.0", mark(5), "«5.0» записано как «5»"),
        ("4,0", mark(4), "«4,0» записано как «4»"),
        (5.0, mark(5), "число 5.0 записано как «5»"),
        ("05", mark(5), "«05» записано как «5»"),
        ("5.", mark(5), "точка в конце убрана"),
        ("н.", ABSENT, "точка в конце убрана"),
        ("5\\4", mark(5, 4), "знак «\\» заменён на «/»"),
    ],
)
def test_harmless_noise_is_normalised_and_noted(raw: object, value: CellValue, note: str) -> None:
    parsed = parse_cell(raw, DEFAULT)
    assert parsed.ok
    assert parsed.value == value
    assert parsed.normalized == format_value(value)
    assert note in parsed.notes


def test_two_normalisations_give_two_notes() -> None:
    parsed = parse_cell(" On ", DEFAULT)
    assert parsed.value == LATE
    assert parsed.notes == (
        "лишние пробелы убраны",
        "латинская «O» заменена на «о»",
        "латинская «n» заменена на «п»",
    )


# --------------------------------------------------------------------------- refused, lesson cells


@pytest.mark.parametrize(
    ("raw", "problem", "fragment"),
    [
        ("6", Refusal.UNKNOWN, "«6» — нет такой отметки; допустимы 2, 3, 4, 5, н, оп, •"),
        ("0", Refusal.UNKNOWN, "«0» — нет такой отметки"),
        ("отл", Refusal.UNKNOWN, "«отл» — нет такой отметки"),
        ("5,", Refusal.UNKNOWN, "«5,» — нет такой отметки"),
        ("54", Refusal.UNKNOWN, "«54» — нет такой отметки"),
        ("5/6", Refusal.UNKNOWN, "«5/6» — нет такой отметки"),
        (6, Refusal.UNKNOWN, "«6» — нет такой отметки"),
        (10**6, Refusal.UNKNOWN, "нет такой отметки"),
        (float("nan"), Refusal.UNKNOWN, "«nan» — нет такой отметки"),
        ("1", Refusal.ONE_DISABLED, "«1» — отметка «1» в школе не ставится"),
        ("5-", Refusal.MODIFIER_DISABLED, "«5-» — отметки с «+» и «-» в школе не используются"),
        ("4+", Refusal.MODIFIER_DISABLED, "«4+» — отметки с «+» и «-»"),
        ("5\u2212", Refusal.MODIFIER_DISABLED, "«5\u2212» — отметки с «+» и «-»"),
        ("5\u2013", Refusal.MODIFIER_DISABLED, "«5\u2013» — отметки с «+» и «-»"),
        ("4.5", Refusal.FRACTION, "«4.5» — дробных отметок нет"),
        (4.5, Refusal.FRACTION, "«4.5» — дробных отметок нет"),
        ("н/а", Refusal.PERIOD_ONLY, "«н/а» ставится только в итоговую отметку за период"),
        ("осв", Refusal.PERIOD_ONLY, "«осв» ставится только в итоговую отметку"),
        ("зач", Refusal.PERIOD_ONLY, "«зач» ставится только в итоговую отметку"),
        ("=SUM(A1:A3)", Refusal.FORMULA, "«=SUM(A1:A3)» — похоже на формулу"),
        (True, Refusal.NOT_TEXT, "«ИСТИНА» — в ячейке флажок"),
        ("н5", Refusal.MARK_WITH_ABSENCE, "«н5» — отметка и «н» в одной ячейке"),
        ("5н", Refusal.MARK_WITH_ABSENCE, "«5н» — отметка и «н» в одной ячейке"),
        ("н/5", Refusal.MARK_WITH_ABSENCE, "оставьте «н»"),
        ("5 н", Refusal.MARK_WITH_ABSENCE, "«5 н» — отметка и «н»"),
        ("H4/3", Refusal.MARK_WITH_ABSENCE, "оставьте только отметку"),
    ],
)
def test_refusals_quote_the_text_and_explain(raw: object, problem: Refusal, fragment: str) -> None:
    parsed = parse_cell(raw, DEFAULT)
    assert not parsed.ok
    assert parsed.value is None
    assert parsed.problem is problem
    assert parsed.error is not None
    assert fragment in parsed.error


def test_refusal_keeps_the_typed_text_as_normalized() -> None:
    assert parse_cell("отл", DEFAULT).normalized == "отл"


def test_long_text_is_quoted_shortened() -> None:
    parsed = parse_cell("пять" * 20, DEFAULT)
    assert parsed.error is not None
    assert parsed.error.startswith("«" + ("пять" * 20)[:30] + "…»")


def test_control_characters_are_not_quoted_raw() -> None:
    parsed = parse_cell("5\n6", DEFAULT)
    assert parsed.error is not None
    assert "\n" not in parsed.error


# --------------------------------------------------------------------------- grammar switches


@pytest.mark.parametrize(
    ("grammar", "raw", "value"),
    [
        (MarkGrammar(allow_one=True), "1", mark(1)),
        (MarkGrammar(allow_one=True), "1/2", mark(1, 2)),
        (MarkGrammar(allow_modifiers=True), "5-", mark(5, modifier="-")),
        (MarkGrammar(allow_modifiers=True), "4+", mark(4, modifier="+")),
        (MarkGrammar(allow_modifiers=True), "5\u2212", mark(5, modifier="-")),
        (MarkGrammar(absent="нб"), "нб", code(ValueKind.ABSENT, "нб")),
        (MarkGrammar(owed="долг"), "ДОЛГ", code(ValueKind.OWED, "долг")),
    ],
)
def test_switches_enable_values(grammar: MarkGrammar, raw: str, value: CellValue) -> None:
    assert parse_cell(raw, grammar).value == value


@pytest.mark.parametrize(
    ("grammar", "raw", "problem", "fragment"),
    [
        (MarkGrammar(allow_double=False), "5/4", Refusal.DOUBLE_DISABLED, "двойные отметки"),
        (MarkGrammar(allow_modifiers=True), "5-/4", Refusal.MODIFIER_MISPLACED, "у двойной"),
        (MarkGrammar(allow_one=True), "0", Refusal.UNKNOWN, "допустимы 1, 2, 3, 4, 5, н"),
        (MarkGrammar(absent="нб"), "н", Refusal.UNKNOWN, "допустимы 2, 3, 4, 5, нб, оп, •"),
        (MarkGrammar(absent="нб"), "нб5", Refusal.MARK_WITH_ABSENCE, "отметка и «нб»"),
    ],
)
def test_switches_change_refusals(
    grammar: MarkGrammar, raw: str, problem: Refusal, fragment: str
) -> None:
    parsed = parse_cell(raw, grammar)
    assert parsed.problem is problem
    assert parsed.error is not None
    assert fragment in parsed.error


@pytest.mark.parametrize(
    ("grammar", "expected"),
    [
        (
            MarkGrammar(),
            "2, 3, 4, 5, н, оп, •; две отметки за одну работу — через «/», например 5/4",
        ),
        (MarkGrammar(allow_one=True, allow_double=False), "1, 2, 3, 4, 5, н, оп, •"),
        (
            MarkGrammar(allow_double=False, allow_modifiers=True),
            "2, 3, 4, 5, н, оп, •; к отметке можно добавить «+» или «-»",
        ),
    ],
)
def test_allowed_text_follows_the_grammar(grammar: MarkGrammar, expected: str) -> None:
    assert allowed_text(grammar) == expected


def test_allowed_text_for_period_cells() -> None:
    assert allowed_text(DEFAULT, period=True) == "2, 3, 4, 5, н/а, осв, зач"


# --------------------------------------------------------------------------- period cells


@pytest.mark.parametrize(
    ("raw", "value", "notes"),
    [
        ("5", mark(5), ()),
        ("2", mark(2), ()),
        ("н/а", code(ValueKind.PERIOD_CODE, "н/а"), ()),
        ("осв", code(ValueKind.PERIOD_CODE, "осв"), ()),
        ("зач", code(ValueKind.PERIOD_CODE, "зач"), ()),
        ("Н/А", code(ValueKind.PERIOD_CODE, "н/а"), ("заглавные буквы заменены строчными",)),
        ("н/a", code(ValueKind.PERIOD_CODE, "н/а"), ("латинская «a» заменена на «а»",)),
        ("н\\а", code(ValueKind.PERIOD_CODE, "н/а"), ("знак «\\» заменён на «/»",)),
        (
            "oсв.",
            code(ValueKind.PERIOD_CODE, "осв"),
            ("точка в конце убрана", "латинская «o» заменена на «о»"),
        ),
        ("зач.", code(ValueKind.PERIOD_CODE, "зач"), ("точка в конце убрана",)),
    ],
)
def test_period_cell_values(raw: str, value: CellValue, notes: tuple[str, ...]) -> None:
    parsed = parse_cell(raw, DEFAULT, period=True)
    assert (parsed.value, parsed.notes) == (value, notes)


@pytest.mark.parametrize(
    ("raw", "grammar", "problem", "fragment"),
    [
        ("н", DEFAULT, Refusal.NOT_FOR_PERIOD, "«н» не ставится в итоговую отметку"),
        ("оп", DEFAULT, Refusal.NOT_FOR_PERIOD, "допустимы 2, 3, 4, 5, н/а, осв, зач."),
        (
            "•",
            DEFAULT,
            Refusal.NOT_FOR_PERIOD,
            "пропуски, опоздания и долги отмечают в клетках уроков",
        ),
        ("5/4", DEFAULT, Refusal.DOUBLE_IN_PERIOD, "итоговая отметка ставится одна"),
        ("5-", DEFAULT, Refusal.MODIFIER_MISPLACED, "итоговая отметка ставится без «+» и «-»"),
        ("5-", MarkGrammar(allow_modifiers=True), Refusal.MODIFIER_MISPLACED, "без «+» и «-»"),
        ("6", DEFAULT, Refusal.UNKNOWN, "«6» — нет такой отметки; допустимы 2, 3, 4, 5, н/а"),
        ("н5", DEFAULT, Refusal.UNKNOWN, "«н5» — нет такой отметки"),
        ("свB", DEFAULT, Refusal.UNKNOWN, "«свB» — нет такой отметки"),  # letters out of order
    ],
)
def test_period_cell_refusals(
    raw: str, grammar: MarkGrammar, problem: Refusal, fragment: str
) -> None:
    parsed = parse_cell(raw, grammar, period=True)
    assert parsed.problem is problem
    assert parsed.error is not None
    assert fragment in parsed.error


# --------------------------------------------------------------------------- format_value


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (EMPTY, ""),
        (mark(5), "5"),
        (mark(5, 4), "5/4"),
        (mark(4, modifier="+"), "4+"),
        (ABSENT, "н"),
        (code(ValueKind.PERIOD_CODE, "н/а"), "н/а"),
    ],
)
def test_format_value(value: CellValue, text: str) -> None:
    assert format_value(value) == text


# --------------------------------------------------------------------------- properties

GRAMMARS = st.builds(
    MarkGrammar,
    allow_one=st.booleans(),
    allow_modifiers=st.booleans(),
    allow_double=st.booleans(),
)
NOISY_TEXT = st.text(alphabet="0123456789 /\\.,+-−–нНоОпПаАсСвВзЗчЧHhnoOacB•·=", max_size=8)


@settings(max_examples=300)
@given(raw=st.text() | NOISY_TEXT, grammar=GRAMMARS, period=st.booleans())
def test_text_never_raises_and_refusals_explain(
    raw: str, grammar: MarkGrammar, period: bool
) -> None:
    parsed = parse_cell(raw, grammar, period=period)
    assert parsed.ok == (parsed.error is None) == (parsed.value is not None)
    if parsed.error is not None:
        assert parsed.error.startswith("«")  # never "=…": a message is never formula-looking


@settings(max_examples=200)
@given(
    raw=st.one_of(st.integers(), st.floats(), st.none(), st.booleans()),
    grammar=GRAMMARS,
    period=st.booleans(),
)
def test_numbers_never_raise(raw: object, grammar: MarkGrammar, period: bool) -> None:
    parsed = parse_cell(raw, grammar, period=period)
    assert parsed.ok == (parsed.value is not None)


@settings(max_examples=300)
@given(raw=NOISY_TEXT | st.integers(0, 6) | st.floats(0, 6), grammar=GRAMMARS, period=st.booleans())
def test_normalisation_is_idempotent(raw: object, grammar: MarkGrammar, period: bool) -> None:
    parsed = parse_cell(raw, grammar, period=period)
    if parsed.ok:
        again = parse_cell(parsed.normalized, grammar, period=period)
        assert again == Parsed(True, parsed.value, parsed.normalized)
