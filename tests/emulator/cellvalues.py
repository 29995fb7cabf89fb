"""Cell contents: how input is stored (RAW / USER_ENTERED) and rendered (three render options).

A stored cell is a plain scalar (``str``, ``int``, ``float``, ``bool``) in the common case, or a
``Rich`` object when it carries more (a formula, an auto-detected date format, a note). Formula
values are computed at read time by a tiny evaluator that understands numbers, ``+ - * / ^``,
parentheses, ``&``, same-sheet cell references and SUM/AVERAGE/MIN/MAX/COUNT over ranges; any
other formula renders as ``#NAME?`` (documented gap: Google would compute it).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

_EPOCH = dt.date(1899, 12, 30)
_NUM = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_RU_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
ISO_PATTERN = "yyyy-mm-dd"


class Rich:
    """A cell with more than a scalar: formula text, own number format, note."""

    __slots__ = ("formula", "note", "numfmt", "value")

    def __init__(
        self, value: Any = None, formula: str | None = None,
        numfmt: dict[str, str] | None = None, note: str | None = None,
    ) -> None:
        self.value = value
        self.formula = formula
        self.numfmt = numfmt
        self.note = note

    def copy(self) -> Rich:
        return Rich(self.value, self.formula, self.numfmt, self.note)

    def is_empty(self) -> bool:
        return self.value is None and self.formula is None and self.note is None


def date_to_serial(d: dt.date) -> int:
    return (d - _EPOCH).days


def serial_to_date(serial: float) -> dt.date:
    return _EPOCH + dt.timedelta(days=int(serial))


def _date_or_none(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def parse_user_entered(raw: Any, locale: str, text_format: bool) -> Any:
    """Store ``raw`` as if typed in the UI (USER_ENTERED). Returns a scalar, a Rich, or None."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        return raw  # JSON numbers/bools are stored as they are
    if raw == "":
        return None
    if text_format:
        return raw  # plain-text cells keep what was typed (platform.md §1.4)
    if raw.startswith("'"):
        return raw[1:]
    if raw.startswith("=") and len(raw) > 1:
        return Rich(formula=raw)
    s = raw.strip()
    ru = locale.startswith("ru")
    num = s.replace(",", ".") if ru and s.count(",") == 1 and "." not in s else s
    if _NUM.match(num):
        f = float(num)
        return int(f) if f.is_integer() and abs(f) < 2**53 and "e" not in num.lower() else f
    if s.upper() in ("TRUE", "FALSE"):
        return s.upper() == "TRUE"
    if s.endswith("%") and _NUM.match(num[:-1].strip()):
        return Rich(float(num[:-1]) / 100, numfmt={"type": "PERCENT", "pattern": "0%"})
    date = _parse_date(s, ru)
    if date is not None:
        return date
    return raw


def _parse_date(s: str, ru: bool) -> Rich | None:
    m = _ISO_DATE.match(s)
    if m:
        d = _date_or_none(int(m[1]), int(m[2]), int(m[3]))
        pat = ISO_PATTERN
    elif not ru and (m := _US_DATE.match(s)):
        d = _date_or_none(int(m[3]), int(m[1]), int(m[2]))
        pat = "m/d/yyyy"
    elif ru and (m := _RU_DATE.match(s)):
        d = _date_or_none(int(m[3]), int(m[2]), int(m[1]))
        pat = "dd.mm.yyyy"
    else:
        return None
    if d is None:
        return None
    return Rich(date_to_serial(d), numfmt={"type": "DATE", "pattern": pat})


# ---- rendering ----------------------------------------------------------------------------------

def format_general(v: float, locale: str) -> str:
    """Google's "General" display of a number (en_US cassettes: 53, 0.12, 1.5, 0.0009765625)."""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if float(v).is_integer() and abs(v) < 1e15:
        out = str(int(v))
    else:
        out = f"{v:.15g}"
        if "e" in out:
            mant, exp = out.split("e")
            out = f"{mant}E{'+' if int(exp) >= 0 else '-'}{abs(int(exp)):02d}"
    return out.replace(".", ",") if locale.startswith("ru") else out


def format_date(serial: float, pattern: str) -> str:
    """Render a serial with a small subset of date patterns (yyyy, mm, m, dd, d)."""
    d = serial_to_date(serial)
    tokens = {"yyyy": f"{d.year:04d}", "yy": f"{d.year % 100:02d}", "mm": f"{d.month:02d}",
              "m": str(d.month), "dd": f"{d.day:02d}", "d": str(d.day)}
    return re.sub(r"yyyy|yy|mm|m|dd|d", lambda m: tokens[m.group(0)], pattern)


def format_number(v: Any, numfmt: dict[str, str] | None, locale: str) -> str:
    """FORMATTED_VALUE of a number under a cell's number format (subset)."""
    if isinstance(v, bool) or numfmt is None:
        return format_general(v, locale)
    kind = numfmt.get("type")
    pattern = numfmt.get("pattern", "")
    if kind in ("DATE", "DATE_TIME") and pattern:
        return format_date(v, pattern)
    if kind == "DATE":
        return format_date(v, "dd.mm.yyyy" if locale.startswith("ru") else "m/d/yyyy")
    if kind == "PERCENT":
        decimals = len(pattern.split(".")[1].rstrip("%")) if "." in pattern else 0
        out = f"{v * 100:.{decimals}f}%"
        return out.replace(".", ",") if locale.startswith("ru") else out
    if kind in ("NUMBER", "CURRENCY") and re.fullmatch(r"[#,]*0(\.0+)?", pattern or ""):
        decimals = len(pattern.split(".")[1]) if "." in pattern else 0
        out = f"{v:,.{decimals}f}" if "," in pattern else f"{v:.{decimals}f}"
        if locale.startswith("ru"):
            out = out.replace(",", "\u00a0").replace(".", ",")
        return out
    return format_general(v, locale)


def unformatted(v: Any) -> Any:
    """UNFORMATTED_VALUE of a scalar: integral floats as JSON integers."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return int(v)
    return v


def render(
    cell: Any, option: str, dt_option: str, numfmt: dict[str, str] | None, locale: str,
    evaluate: Callable[[str], Any],
) -> Any:
    """Render one stored cell for values.get (None = empty)."""
    if isinstance(cell, Rich):
        if cell.formula is not None:
            if option == "FORMULA":
                return cell.formula
            value = evaluate(cell.formula)
        else:
            value = cell.value
        numfmt = cell.numfmt or numfmt
    else:
        value = cell
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if option == "FORMATTED_VALUE":
        return format_number(value, numfmt, locale)
    is_date = numfmt is not None and numfmt.get("type") in ("DATE", "DATE_TIME", "TIME")
    if is_date and dt_option == "FORMATTED_STRING" and not isinstance(value, bool):
        return format_number(value, numfmt, locale)
    return unformatted(value)
