"""The mark grammar: what one journal cell may hold, parsed into a value or a refusal.

``parse_cell`` accepts what a spreadsheet read returns (text, or 5 / 5.0 from an UNFORMATTED_VALUE
read), normalises harmless noise and *says so* in ``notes`` (spaces, letter case, Latin look-alikes,
"5.0", Unicode minus, backslash, one trailing dot), and rejects everything else with a Russian
message that quotes the teacher's text and lists what the current ``MarkGrammar`` allows
(domain.md §2.2).

Decisions where the design is silent:

* a trailing "." is dropped ("5." → 5, "осв." → осв: the abbreviation dot); a trailing "," is
  rejected, since it may be an unfinished "5,4";
* a lone "." is the "точка" (work owed) → "•"; "·", "∙", "●", "⋅" likewise;
* "5.0" / "5,0" (text) and 5.0 (number) are the mark 5; "4.5" is refused as a fractional mark;
* a mark together with the absence code in one cell ("н5", "5н", "н/5", "5 н") is its own problem,
  ``Refusal.MARK_WITH_ABSENCE``, so validation can report it as a distinct finding;
* modifiers ("5-", "4+") only on a single lesson mark, never on a double or a period mark;
* inner spaces are removed, so "5 / 4" is 5/4 and "о п" is оп (codes must not contain spaces).

Property (tested): for every accepted parse, ``parse_cell(parsed.normalized)`` gives the same value
with no notes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from rules.model import MarkGrammar

MAX_MARK = 5
QUOTE_LIMIT = 30  # characters of the teacher's text quoted in a message


class ValueKind(StrEnum):
    EMPTY = "empty"
    MARK = "mark"
    ABSENT = "absent"  # "н"
    LATE = "late"  # "оп"
    OWED = "owed"  # "•": the pupil owes the work
    PERIOD_CODE = "period_code"  # "н/а", "осв", "зач": period cells only


class Refusal(StrEnum):
    """Why a cell was refused; validation maps ``MARK_WITH_ABSENCE`` to its own rule."""

    UNKNOWN = "unknown"
    FORMULA = "formula"
    NOT_TEXT = "not_text"  # a checkbox (boolean) or another non-text value
    FRACTION = "fraction"
    ONE_DISABLED = "one_disabled"
    MODIFIER_DISABLED = "modifier_disabled"
    MODIFIER_MISPLACED = "modifier_misplaced"  # on a double mark or a period mark
    DOUBLE_DISABLED = "double_disabled"
    DOUBLE_IN_PERIOD = "double_in_period"
    PERIOD_ONLY = "period_only"  # "н/а" in a lesson cell
    NOT_FOR_PERIOD = "not_for_period"  # "н" in a period cell
    MARK_WITH_ABSENCE = "mark_with_absence"


@dataclass(frozen=True, slots=True)
class CellValue:
    """A parsed cell: one mark in ``marks``, two for a double mark "5/4"; ``code`` the code text."""

    kind: ValueKind
    marks: tuple[int, ...] = ()
    modifier: str = ""  # "+", "-" or ""
    code: str = ""


EMPTY_VALUE = CellValue(ValueKind.EMPTY)


@dataclass(frozen=True, slots=True)
class Parsed:
    """Outcome of ``parse_cell``; on refusal ``value`` is None, ``normalized`` the text as typed."""

    ok: bool
    value: CellValue | None
    normalized: str
    notes: tuple[str, ...] = ()
    error: str | None = None
    problem: Refusal | None = None


# --------------------------------------------------------------------------- character tables

_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff")
_DASHES = {"\u2212": "−", "\u2013": "–", "\u2014": "—", "\u2010": "‐", "\u2011": "‑"}
# Characters typed instead of the canonical one (Latin letters on an English layout, other dots).
_LOOKALIKES: dict[str, str] = {
    "н": "HhNn",
    "п": "n",
    "о": "oO",
    "а": "aA",
    "с": "cC",
    "в": "B",
    "е": "eE",
    "р": "pP",
    "х": "xX",
    "к": "kK",
    "м": "M",
    "т": "T",
    "у": "yY",
    "•": ".·∙●⋅",
}
_MARK_RE = re.compile(r"([0-9]{1,3})([+-]?)(?:/([0-9]{1,3})([+-]?))?")
_WHOLE_NUMBER_RE = re.compile(r"([0-9]{1,3})[.,]0+")
_FRACTION_RE = re.compile(r"[0-9]+[.,][0-9]+")


# --------------------------------------------------------------------------- public API


def format_value(value: CellValue) -> str:
    """Canonical text of a value: "", "5", "5/4", "5-", or the code itself."""
    if value.kind is ValueKind.EMPTY:
        return ""
    if value.kind is ValueKind.MARK:
        return "/".join(str(m) for m in value.marks) + value.modifier
    return value.code


def allowed_text(grammar: MarkGrammar, *, period: bool = False) -> str:
    """What a cell may hold, for messages: "2, 3, 4, 5, н, оп, •" plus double/modifier hints."""
    items = [str(m) for m in range(1 if grammar.allow_one else 2, MAX_MARK + 1)]
    if period:
        return ", ".join([*items, *grammar.period_values])
    text = ", ".join([*items, grammar.absent, grammar.late, grammar.owed, *grammar.lesson_codes])
    if grammar.allow_double:
        text += "; две отметки за одну работу — через «/», например 5/4"
    if grammar.allow_modifiers:
        text += "; к отметке можно добавить «+» или «-»"
    return text


def parse_cell(raw: object, grammar: MarkGrammar, *, period: bool = False) -> Parsed:
    """Parse one cell (``period=True`` for the period-mark column). Never raises.

    Memoised for text and numbers (a journal's year holds a few dozen distinct values, read again
    by every cycle that reads the journal); the outcome is immutable, so sharing it is safe."""
    if isinstance(raw, str | int | float) and not isinstance(raw, bool):
        return _parse_memo(type(raw).__name__, raw, grammar, period)  # 1 == 1.0 in a key
    return _parse_any(raw, grammar, period)


@lru_cache(maxsize=16384)
def _parse_memo(kind: str, raw: str | int | float, grammar: MarkGrammar, period: bool) -> Parsed:
    del kind  # part of the cache key only
    return _parse_any(raw, grammar, period)


def _parse_any(raw: object, grammar: MarkGrammar, period: bool) -> Parsed:
    if raw is None:
        return Parsed(True, EMPTY_VALUE, "")
    if isinstance(raw, bool):
        shown = "ИСТИНА" if raw else "ЛОЖЬ"
        return _refuse(shown, Refusal.NOT_TEXT, grammar, period)
    if isinstance(raw, int):
        if not -1000 < raw < 1000:  # str() of a huge int may even raise
            return _refuse("большое число", Refusal.UNKNOWN, grammar, period)
        return _parse_text(str(raw), str(raw), grammar, period, [])
    if isinstance(raw, float):
        shown = repr(raw)
        if raw.is_integer() and abs(raw) < 1000:
            text = str(int(raw))
            note = f"число {shown} записано как «{text}»"
            return _parse_text(text, shown, grammar, period, [note])
        problem = Refusal.FRACTION if raw == raw and abs(raw) != float("inf") else Refusal.UNKNOWN
        return _refuse(shown, problem, grammar, period)
    if isinstance(raw, str):
        return _parse_text(raw, raw, grammar, period, [])
    return _refuse(str(raw), Refusal.NOT_TEXT, grammar, period)


# --------------------------------------------------------------------------- parsing steps


def _parse_text(
    text: str, typed: str, grammar: MarkGrammar, period: bool, notes: list[str]
) -> Parsed:
    s = "".join(c for c in text if not c.isspace() and c not in _INVISIBLE)
    if s != text:
        notes.append("лишние пробелы убраны" if s else "ячейка из одних пробелов считается пустой")
    if not s:
        return Parsed(True, EMPTY_VALUE, "", tuple(notes))
    if s.startswith("="):
        return _refuse(typed, Refusal.FORMULA, grammar, period)
    s = _clean_punctuation(s, notes)

    for code, kind in _codes(grammar):
        code_notes = _match_code(s, code)
        if code_notes is None:
            continue
        if period and kind is not ValueKind.PERIOD_CODE:
            return _refuse(typed, Refusal.NOT_FOR_PERIOD, grammar, period)
        if not period and kind is ValueKind.PERIOD_CODE and code not in grammar.lesson_codes:
            return _refuse(typed, Refusal.PERIOD_ONLY, grammar, period)
        return _accept(CellValue(kind, code=code), [*notes, *code_notes])

    match = _MARK_RE.fullmatch(s)
    if match is not None:
        return _parse_mark(match, typed, grammar, period, notes)
    if not period and _is_mark_with_absence(s, grammar.absent):
        return _refuse(typed, Refusal.MARK_WITH_ABSENCE, grammar, period)
    if _FRACTION_RE.fullmatch(s):
        return _refuse(typed, Refusal.FRACTION, grammar, period)
    return _refuse(typed, Refusal.UNKNOWN, grammar, period)


def _clean_punctuation(s: str, notes: list[str]) -> str:
    """Dashes → "-", backslash → "/", one trailing dot dropped, "5.0" → "5"; each change noted."""
    for dash, shown in _DASHES.items():
        if dash in s:
            s = s.replace(dash, "-")
            notes.append(f"знак «{shown}» заменён на «-»")
    if "\\" in s:
        s = s.replace("\\", "/")
        notes.append("знак «\\» заменён на «/»")
    if len(s) > 1 and s.endswith(".") and not s.endswith(".."):
        s = s[:-1]
        notes.append("точка в конце убрана")
    whole = _WHOLE_NUMBER_RE.fullmatch(s)
    if whole is not None:
        notes.append(f"«{s}» записано как «{int(whole.group(1))}»")
        s = str(int(whole.group(1)))
    return s


def _codes(grammar: MarkGrammar) -> list[tuple[str, ValueKind]]:
    lesson = [
        (grammar.absent, ValueKind.ABSENT),
        (grammar.late, ValueKind.LATE),
        (grammar.owed, ValueKind.OWED),
    ]
    return lesson + [(code, ValueKind.PERIOD_CODE) for code in grammar.period_values]


def _match_code(s: str, code: str) -> list[str] | None:
    """Notes if ``s`` is ``code`` up to case and look-alike characters; None if it is not."""
    if len(s) != len(code) or not code:
        return None
    notes: list[str] = []
    case_changed = False
    for typed, want in zip(s, code, strict=True):
        if typed == want:
            continue
        if typed.lower() == want.lower():
            case_changed = True
        elif typed in _LOOKALIKES.get(want.lower(), ""):
            kind = "латинская " if typed.isascii() and typed.isalpha() else ""
            note = f"{kind}«{typed}» заменена на «{want}»"
            if note not in notes:
                notes.append(note)
        else:
            return None
    if case_changed:
        notes.append("заглавные буквы заменены строчными")
    return notes


def _parse_mark(
    match: re.Match[str], typed: str, grammar: MarkGrammar, period: bool, notes: list[str]
) -> Parsed:
    first, mod1, second, mod2 = match.groups()
    numbers = [int(first)] if second is None else [int(first), int(second)]
    lowest = 1 if grammar.allow_one else 2
    for n in numbers:
        if n == 1 and not grammar.allow_one:
            return _refuse(typed, Refusal.ONE_DISABLED, grammar, period)
        if not lowest <= n <= MAX_MARK:
            return _refuse(typed, Refusal.UNKNOWN, grammar, period)
    if second is not None:
        if period:
            return _refuse(typed, Refusal.DOUBLE_IN_PERIOD, grammar, period)
        if not grammar.allow_double:
            return _refuse(typed, Refusal.DOUBLE_DISABLED, grammar, period)
    modifier = mod1 or mod2 or ""
    if modifier:
        if not grammar.allow_modifiers and not period:
            return _refuse(typed, Refusal.MODIFIER_DISABLED, grammar, period)
        if period or second is not None:
            return _refuse(typed, Refusal.MODIFIER_MISPLACED, grammar, period)
    value = CellValue(ValueKind.MARK, tuple(numbers), modifier)
    if format_value(value) != match.group(0):
        notes.append(f"«{match.group(0)}» записано как «{format_value(value)}»")  # "05" → "5"
    return _accept(value, notes)


def _is_mark_with_absence(s: str, absent: str) -> bool:
    """True for the absence code and a mark in one cell, either order, optionally separated."""
    size = len(absent)
    candidates = []
    if _match_code(s[:size], absent) is not None:
        candidates.append(s[size:])
    if _match_code(s[-size:], absent) is not None:
        candidates.append(s[:-size])
    for rest in candidates:
        rest = rest.strip("/,;-")
        if rest and _MARK_RE.fullmatch(rest):
            return True
    return False


def _accept(value: CellValue, notes: list[str]) -> Parsed:
    return Parsed(True, value, format_value(value), tuple(notes))


def quote(typed: str) -> str:
    """The teacher's text in «…», shortened and with control characters blanked, for messages."""
    shown = "".join(" " if not c.isprintable() else c for c in typed.strip() or typed)
    if len(shown) > QUOTE_LIMIT:
        shown = shown[:QUOTE_LIMIT] + "…"
    return f"«{shown}»"


def _refuse(typed: str, problem: Refusal, grammar: MarkGrammar, period: bool) -> Parsed:
    return Parsed(False, None, typed, (), _message(typed, problem, grammar, period), problem)


def _message(typed: str, problem: Refusal, grammar: MarkGrammar, period: bool) -> str:
    q = quote(typed)
    allowed = f"допустимы {allowed_text(grammar, period=period)}"
    absent = grammar.absent
    match problem:
        case Refusal.MARK_WITH_ABSENCE:
            return (
                f"{q} — отметка и «{absent}» в одной ячейке. Если ученик отсутствовал, оставьте "
                f"«{absent}»; если он выполнил работу, оставьте только отметку."
            )
        case Refusal.FORMULA:
            text = f"{q} — похоже на формулу; формулы в журнале не вычисляются, введите значение"
        case Refusal.NOT_TEXT:
            text = f"{q} — в ячейке флажок, а не отметка"
        case Refusal.FRACTION:
            text = f"{q} — дробных отметок нет"
        case Refusal.ONE_DISABLED:
            text = f"{q} — отметка «1» в школе не ставится"
        case Refusal.MODIFIER_DISABLED:
            text = f"{q} — отметки с «+» и «-» в школе не используются, поставьте отметку без знака"
        case Refusal.MODIFIER_MISPLACED if period:
            text = f"{q} — итоговая отметка ставится без «+» и «-»"
        case Refusal.MODIFIER_MISPLACED:
            text = f"{q} — у двойной отметки знаки «+» и «-» не ставятся"
        case Refusal.DOUBLE_DISABLED:
            text = f"{q} — двойные отметки в школе не используются, поставьте одну отметку"
        case Refusal.DOUBLE_IN_PERIOD:
            text = f"{q} — итоговая отметка ставится одна, без «/»"
        case Refusal.PERIOD_ONLY:
            text = f"{q} ставится только в итоговую отметку за период, не за урок"
        case Refusal.NOT_FOR_PERIOD:
            text = (
                f"{q} не ставится в итоговую отметку: пропуски, опоздания и долги отмечают "
                "в клетках уроков"
            )
        case _:
            text = f"{q} — нет такой отметки"
    return f"{text}; {allowed}."
