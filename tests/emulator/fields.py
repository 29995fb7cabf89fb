"""Google field masks: ``a.b,c(d,e/f)`` -> a tree, applied to responses or used as update masks.

Both ``.`` and ``/`` separate path segments; ``*`` selects everything. A tree is a dict of
segment -> subtree, where ``None`` means "this whole value".
"""

from __future__ import annotations

from typing import Any

Tree = dict[str, "Tree | None"]


def parse_mask(mask: str) -> Tree:
    """Parse a field mask into a tree; raises ValueError on unbalanced parentheses."""
    tree: Tree = {}
    pos = _parse_list(mask.replace(" ", ""), 0, tree)
    if pos != len(mask.replace(" ", "")):
        raise ValueError(f"bad field mask: {mask}")
    return tree


def _parse_list(s: str, pos: int, into: Tree) -> int:
    while pos < len(s):
        pos = _parse_path(s, pos, into)
        if pos < len(s) and s[pos] == ",":
            pos += 1
            continue
        break
    return pos


def _parse_path(s: str, pos: int, into: Tree) -> int:
    start = pos
    while pos < len(s) and s[pos] not in ",()":
        pos += 1
    segments = [seg for seg in s[start:pos].replace("/", ".").split(".") if seg]
    if not segments:
        raise ValueError(f"bad field mask near {s[start:]!r}")
    node = into
    for seg in segments[:-1]:
        child = node.get(seg, {})
        if child is None:  # already selected whole
            return _skip_group(s, pos)
        node[seg] = child
        node = child
    last = segments[-1]
    if pos < len(s) and s[pos] == "(":
        child = node.get(last, {})
        if child is None:
            return _skip_group(s, pos)
        node[last] = child
        pos = _parse_list(s, pos + 1, child)
        if pos >= len(s) or s[pos] != ")":
            raise ValueError("unbalanced parentheses in field mask")
        return pos + 1
    node[last] = None
    return pos


def _skip_group(s: str, pos: int) -> int:
    if pos < len(s) and s[pos] == "(":
        depth = 0
        while pos < len(s):
            depth += {"(": 1, ")": -1}.get(s[pos], 0)
            pos += 1
            if depth == 0:
                break
    return pos


def apply_mask(value: Any, tree: Tree | None) -> Any:
    """Keep only the selected paths; lists are traversed element-wise (Google's behaviour)."""
    if tree is None or "*" in tree:
        return value
    if isinstance(value, list):
        return [apply_mask(v, tree) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, sub in tree.items():
        if key in value:
            out[key] = apply_mask(value[key], sub)
    return out


def mask_mentions(tree: Tree, *path: str) -> bool:
    """True if the mask selects something at or below ``path`` (or selects ``path`` whole)."""
    node: Tree | None = tree
    for seg in path:
        if node is None or "*" in node:
            return True
        if seg not in node:
            return False
        node = node[seg]
    return True


def leaf_paths(tree: Tree, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """All selected leaf paths: ``gridProperties/rowCount`` -> [("gridProperties", "rowCount")]."""
    out: list[tuple[str, ...]] = []
    for key, sub in tree.items():
        if sub is None:
            out.append((*prefix, key))
        else:
            out.extend(leaf_paths(sub, (*prefix, key)))
    return out


def apply_update(target: dict[str, Any], source: dict[str, Any], mask: str) -> None:
    """Copy the masked paths from ``source`` into ``target`` (missing in source = reset)."""
    if mask.strip() == "*":
        for key in list(target):
            if key not in source:
                del target[key]
        target.update(_deepcopy(source))
        return
    for path in leaf_paths(parse_mask(mask)):
        src: Any = source
        for seg in path:
            src = src.get(seg) if isinstance(src, dict) else None
        dst = target
        for seg in path[:-1]:
            dst = dst.setdefault(seg, {})
        src = _deepcopy(src)
        if src is None or src == {}:
            dst.pop(path[-1], None)  # JSON null / an all-null message clears the field
        else:
            dst[path[-1]] = src


def _deepcopy(v: Any) -> Any:
    """Copy, dropping JSON nulls (a null field is an unset field in proto3 JSON)."""
    if isinstance(v, dict):
        return {k: c for k, x in v.items() if (c := _deepcopy(x)) is not None}
    if isinstance(v, list):
        return [_deepcopy(x) for x in v]
    return v
