"""Collecting configuration problems instead of raising on the first one.

Every reader and check appends :class:`rules.errors.Problem` values to one :class:`Problems`; the
loader raises a single ``ConfigError`` with all of them at the end (style.md point 9).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator

from rules.errors import ConfigError, Problem


class Problems:
    """An ordered, de-duplicated list of problems."""

    def __init__(self) -> None:
        self._items: list[Problem] = []
        self._seen: set[Problem] = set()

    def add(self, file: str, where: str, message: str) -> None:
        problem = Problem(file, where, message)
        if problem not in self._seen:
            self._seen.add(problem)
            self._items.append(problem)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self._items)

    @property
    def items(self) -> list[Problem]:
        return list(self._items)

    def raise_if_any(self, folder: str | None = None) -> None:
        """A ``ConfigError`` with every problem, each file named by its full path in ``folder``."""
        if self._items:
            raise ConfigError(
                self.items, hint="fix every problem listed, then run `ejournal check` again",
                folder=folder,
            )


def line_where(line: int, column: str | None = None) -> str:
    """The ``where`` of a CSV problem: ``"line 12, column email"``."""
    return f"line {line}, column {column}" if column else f"line {line}"


def suggestion(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'day_end'?)`` for a near miss, else an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
