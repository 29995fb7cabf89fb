"""Own changes per file, counted so the sync can tell its own writes from anyone else's by
Drive's ``version`` (not by ``lastModifyingUser``, which a teacher's edit just before the
service's write hides).

Drive's ``version`` moves forward on every change of a file. A file last known at version ``v``
that this process changed ``n`` times since is at ``v + n`` exactly when nobody else changed it:
any other change makes it larger. No call is spent on it. Where Drive moves the version by more
than one for a change of ours, the file only looks foreign and is read once more (never the
reverse: nothing foreign is ever taken for own).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager


class OwnChanges:
    """Changes this backend made per file since the last :meth:`versions`; ``None``: a change
    whose outcome is unknown (a failed call that may have landed)."""

    def __init__(self) -> None:
        self._count: dict[str, int | None] = {}

    @contextmanager
    def change(self, file_id: str) -> Iterator[None]:
        """Count one change of ``file_id`` if the block succeeds; unknown if it raises."""
        try:
            yield
        except BaseException:
            self._count[file_id] = None
            raise
        if file_id not in self._count or self._count[file_id] is not None:
            self._count[file_id] = (self._count.get(file_id) or 0) + 1

    def forget(self, file_id: str) -> None:
        """Drop the count (a change already accounted for, e.g. by ``create``'s version)."""
        self._count.pop(file_id, None)

    def versions(self, seen: Mapping[str, str | None]) -> dict[str, str | None]:
        """Per changed file: ``seen[file] + changes`` (None when unknown); the count restarts."""
        out: dict[str, str | None] = {}
        for file_id, n in self._count.items():
            base = seen.get(file_id)
            out[file_id] = str(int(base) + n) if n is not None and base and base.isdigit() \
                else None
        self._count.clear()
        return out
