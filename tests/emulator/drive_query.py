"""Drive v3 helpers: the ``fields`` partial-response mask and the ``q`` search subset.

``q`` subset (joined by ``and``; strings in single or double quotes, ``\\`` escapes):
``name = 'x'``, ``name != 'x'``, ``name contains 'x'``, ``'ID' in parents`` (and gspread's
``parents in "ID"``), ``'email' in owners``,
``mimeType = 'x'`` / ``!=``, ``modifiedTime``/``createdTime`` with ``= != < <= > >=``,
``trashed = true|false``. Anything else is Drive's 400 "Invalid Value" on parameter ``q``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .errors import GoogleError
from .models import DriveFile, parse_rfc3339

Mask = dict[str, Any]  # field -> sub-mask, or None for "the whole value"


def parse_fields(text: str) -> Mask | None:
    """Parse ``kind,nextPageToken,files(id,name),changes/file/name``; None means everything."""
    text = text.replace(" ", "")
    if not text or text == "*":
        return None
    mask, pos = _parse_list(text, 0)
    if pos != len(text):
        raise _bad_fields(text)
    return mask


def _bad_fields(text: str) -> GoogleError:
    return GoogleError(400, f"Invalid field selection {text}", reason="invalidParameter",
                       location="fields", location_type="parameter")


def _parse_list(text: str, pos: int) -> tuple[Mask, int]:
    mask: Mask = {}
    while pos < len(text):
        m = re.compile(r"[A-Za-z0-9_*]+(?:/[A-Za-z0-9_*]+)*").match(text, pos)
        if not m:
            raise _bad_fields(text)
        path = m.group().split("/")
        pos = m.end()
        sub: Mask | None = None
        if pos < len(text) and text[pos] == "(":
            sub, pos = _parse_list(text, pos + 1)
            if pos >= len(text) or text[pos] != ")":
                raise _bad_fields(text)
            pos += 1
        node = mask
        for part in path[:-1]:
            existing = node.get(part, {})
            node[part] = existing if isinstance(existing, dict) else None
            if node[part] is None:
                break
            node = node[part]
        else:
            if path[-1] == "*" and sub is None:
                node["*"] = None
            elif path[-1] in node and isinstance(node[path[-1]], dict) and sub is not None:
                node[path[-1]].update(sub)
            else:
                node[path[-1]] = sub
        if pos < len(text) and text[pos] == ",":
            pos += 1
        elif pos < len(text) and text[pos] == ")":
            return mask, pos
    return mask, pos


def apply_mask(value: Any, mask: Mask | None) -> Any:
    """Keep only the masked parts of a JSON value (lists are masked element-wise)."""
    if mask is None or "*" in mask:
        return value
    if isinstance(value, list):
        return [apply_mask(v, mask) for v in value]
    if not isinstance(value, dict):
        return value
    return {k: apply_mask(value[k], sub) for k, sub in mask.items() if k in value}


# ---- q ------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"""\s*(?:(?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(?P<op>!=|<=|>=|=|<|>)"""
                    r"""|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))""")
Predicate = Callable[[DriveFile], bool]


def invalid_q() -> GoogleError:
    return GoogleError(400, "Invalid Value", reason="invalid", location="q",
                       location_type="parameter")


def _tokens(q: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(q):
        if q[pos:].strip() == "":
            break
        m = _TOKEN.match(q, pos)
        if not m:
            raise invalid_q()
        pos = m.end()
        if m.group("str") is not None:
            out.append(("str", re.sub(r"\\(.)", r"\1", m.group("str")[1:-1])))
        elif m.group("op") is not None:
            out.append(("op", m.group("op")))
        else:
            out.append(("word", m.group("word")))
    return out


_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def compile_q(q: str, resolve_parent: Callable[[str], str]) -> Predicate:
    """Compile ``q`` into a predicate; ``resolve_parent`` maps "root" to the caller's root id."""
    tokens = _tokens(q)
    terms: list[Predicate] = []
    i = 0
    while i < len(tokens):
        term, i = _term(tokens, i, resolve_parent)
        terms.append(term)
        if i < len(tokens):
            if tokens[i] != ("word", "and"):
                raise invalid_q()
            i += 1
            if i == len(tokens):
                raise invalid_q()
    return lambda f: all(t(f) for t in terms)


def _term(tok: list[tuple[str, str]], i: int, resolve_parent: Callable[[str], str]
          ) -> tuple[Predicate, int]:
    three = tok[i:i + 3]
    if len(three) < 3:
        raise invalid_q()
    (k1, v1), (k2, v2), (k3, v3) = three
    if k1 == "str" and (k2, v2) == ("word", "in") and k3 == "word":
        if v3 == "parents":
            pid = resolve_parent(v1)
            return (lambda f: pid in f.parents), i + 3
        if v3 == "owners":
            who = v1.lower()
            return (lambda f: (f.owner or "").lower() == who), i + 3
        raise invalid_q()
    if (k1, v1) == ("word", "parents") and (k2, v2) == ("word", "in") and k3 == "str":
        pid = resolve_parent(v3)  # gspread 6.2.1 writes it this way round; Drive accepts it
        return (lambda f: pid in f.parents), i + 3
    if k1 != "word":
        raise invalid_q()
    if v1 in ("name", "mimeType") and k3 == "str":
        attr = "name" if v1 == "name" else "mime_type"
        if k2 == "op" and v2 in ("=", "!="):
            cmp = _CMP[v2]
            return (lambda f: cmp(getattr(f, attr), v3)), i + 3
        if (k2, v2) == ("word", "contains") and v1 == "name":
            needle = v3.lower()
            return (lambda f: needle in f.name.lower()), i + 3
        raise invalid_q()
    if v1 in ("modifiedTime", "createdTime") and k2 == "op" and k3 == "str":
        try:
            when = parse_rfc3339(v3)
        except ValueError:
            raise invalid_q() from None
        cmp, attr = _CMP[v2], "modified_time" if v1 == "modifiedTime" else "created_time"
        return (lambda f: cmp(getattr(f, attr), when)), i + 3
    if v1 == "trashed" and (k2, v2) in (("op", "="), ("op", "!=")) and v3 in ("true", "false"):
        want = (v3 == "true") == (v2 == "=")
        return (lambda f: f.trashed == want), i + 3
    raise invalid_q()
