"""A deliberately tiny formula evaluator for trivial formulas (cassettes: ``=4/2``, ``=1+1``).

Grammar: numbers, strings in double quotes, ``+ - * / ^ &``, unary minus, parentheses, same-sheet
references (``A1``) and SUM/AVERAGE/MIN/MAX/COUNT over references or ranges (``A1:B3``).
Anything else yields ``#NAME?``; division by zero ``#DIV/0!``. The product writes RAW and never
relies on formulas, so this only has to keep obvious cases honest.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .a1 import letters_to_col

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)|(?P<str>\"(?:[^\"]|\"\")*\")"
    r"|(?P<ref>\$?[A-Za-z]{1,3}\$?\d+(?::\$?[A-Za-z]{1,3}\$?\d+)?)(?![A-Za-z(])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_.]*)|(?P<op>[-+*/^&(),]))"
)
_FUNCS = {"SUM", "AVERAGE", "MIN", "MAX", "COUNT"}


class FormulaError(Exception):
    """Raised for anything outside the supported grammar; carries the Sheets error text."""


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise FormulaError("#ERROR!")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _cell(ref: str) -> tuple[int, int]:
    m = re.fullmatch(r"\$?([A-Za-z]{1,3})\$?(\d+)", ref)
    assert m is not None
    return int(m[2]) - 1, letters_to_col(m[1])


class _Parser:
    def __init__(self, toks: list[tuple[str, str]], lookup: Callable[[int, int], Any]) -> None:
        self.toks = toks
        self.i = 0
        self.lookup = lookup

    def peek(self) -> str | None:
        return self.toks[self.i][1] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str]:
        if self.i >= len(self.toks):
            raise FormulaError("#ERROR!")
        self.i += 1
        return self.toks[self.i - 1]

    def expr(self) -> Any:
        left = self.additive()
        while self.peek() == "&":
            self.take()
            left = _text(left) + _text(self.additive())
        return left

    def additive(self) -> Any:
        left = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()[1]
            right = self.term()
            left = _num(left) + _num(right) if op == "+" else _num(left) - _num(right)
        return left

    def term(self) -> Any:
        left = self.power()
        while self.peek() in ("*", "/"):
            op = self.take()[1]
            right = _num(self.power())
            if op == "*":
                left = _num(left) * right
            elif right == 0:
                raise FormulaError("#DIV/0!")
            else:
                left = _num(left) / right
        return left

    def power(self) -> Any:
        base = self.unary()
        if self.peek() == "^":
            self.take()
            return _num(base) ** _num(self.power())
        return base

    def unary(self) -> Any:
        if self.peek() in ("-", "+"):
            sign = -1 if self.take()[1] == "-" else 1
            return sign * _num(self.unary())
        return self.atom()

    def atom(self) -> Any:
        kind, text = self.take()
        if kind == "num":
            return float(text)
        if kind == "str":
            return text[1:-1].replace('""', '"')
        if kind == "ref":
            if ":" in text:
                raise FormulaError("#VALUE!")
            value = self.lookup(*_cell(text))
            return 0 if value is None else value
        if text == "(":
            value = self.expr()
            if self.take()[1] != ")":
                raise FormulaError("#ERROR!")
            return value
        if kind == "name" and text.upper() in _FUNCS and self.peek() == "(":
            return self.call(text.upper())
        raise FormulaError("#NAME?")

    def call(self, name: str) -> Any:
        self.take()
        values: list[Any] = []
        while self.peek() != ")":
            if self.i < len(self.toks) and self.toks[self.i][0] == "ref" and ":" in self.peek():  # type: ignore[operator]
                values.extend(self.range_values(self.take()[1]))
            else:
                values.append(self.expr())
            if self.peek() == ",":
                self.take()
        self.take()
        nums = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        if name == "SUM":
            return sum(nums)
        if name == "COUNT":
            return float(len(nums))
        if not nums:
            raise FormulaError("#DIV/0!") if name == "AVERAGE" else FormulaError("#N/A")
        return {"AVERAGE": sum(nums) / len(nums), "MIN": min(nums), "MAX": max(nums)}[name]

    def range_values(self, ref: str) -> list[Any]:
        a, b = ref.split(":")
        (r0, c0), (r1, c1) = _cell(a), _cell(b)
        return [self.lookup(r, c) for r in range(min(r0, r1), max(r0, r1) + 1)
                for c in range(min(c0, c1), max(c0, c1) + 1)]


def _num(v: Any) -> float:
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, int | float):
        return float(v)
    if v == "":
        return 0.0
    raise FormulaError("#VALUE!")


def _text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def evaluate(formula: str, lookup: Callable[[int, int], Any]) -> Any:
    """Value of ``=...`` (a number or string) or the Sheets error text (``#NAME?`` …)."""
    try:
        parser = _Parser(_tokens(formula[1:]), lookup)
        value = parser.expr()
        if parser.i != len(parser.toks):
            raise FormulaError("#ERROR!")
    except (FormulaError, RecursionError, OverflowError) as exc:
        return str(exc) if isinstance(exc, FormulaError) else "#NUM!"
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value
