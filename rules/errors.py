"""The project's one error tree.

Every exception ejournal raises derives from :class:`EjournalError`, which carries a message (English,
for logs and the CLI) and an optional hint. The CLI prints ``Error: …`` / ``Hint: …`` and exits 1.

    EjournalError
    ├── ConfigError            configuration files are invalid (carries every problem found)
    ├── BackendError           a spreadsheet backend failed (defined further in sync/)
    │   ├── SheetAccessError   no such file, or no permission
    │   │   └── NotFound       it does not exist (404): never a missing permission (403)
    │   ├── RateLimited        quota exhausted after the bounded retries
    │   └── TransientError     5xx / timeouts after the bounded retries
    ├── LayoutError            a spreadsheet's structure cannot be understood or repaired
    ├── StoreError             the ledger is unusable (migration, integrity, audit chain)
    ├── ReportError            a report cannot be built as asked (unknown period or week)
    ├── DeliveryError          a built report could not be delivered (Drive upload, e-mail)
    └── LedgerBusy             another process holds the ledger (one process per ledger)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath


class EjournalError(Exception):
    """Base of every error ejournal raises on purpose."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class Problem:
    """One configuration problem: where it is and what is wrong (English, for the sysadmin)."""

    file: str
    where: str  # "line 12", "field lock.day_end", "" for the whole file
    message: str

    def __str__(self) -> str:
        place = f"{self.file}: {self.where}" if self.where else self.file
        return f"{place}: {self.message}"


class ConfigError(EjournalError):
    """The configuration is invalid; ``problems`` lists every problem found, not just the first."""

    def __init__(self, problems: list[Problem], hint: str | None = None,
                 folder: str | None = None) -> None:
        """``folder``: the configuration's folder, named before each file (a full path) in the
        message; ``problems`` keep the file names as they are."""
        self.problems = list(problems)
        count = len(self.problems)
        head = f"configuration has {count} problem{'s' if count != 1 else ''}"
        where = folder.rstrip("/\\") + "/" if folder else ""
        super().__init__(head + "".join(
            f"\n  - {'' if PurePath(p.file).is_absolute() else where}{p}" for p in self.problems),
            hint)


class BackendError(EjournalError):
    """A spreadsheet backend failed."""


class SheetAccessError(BackendError):
    """The file does not exist or the principal may not access it."""


class NotFound(SheetAccessError):
    """What was asked for does not exist (HTTP 404): a revoked permission that is already gone."""


class RateLimited(BackendError):
    """Quota still exhausted after the bounded retries."""


class TransientError(BackendError):
    """Server error, timeout or connection reset still failing after the bounded retries.

    ``uncertain`` is True when a write failed after it was sent (timeout, connection reset): it may
    have been applied, so re-read the state (e.g. protections) before trying it again.
    """

    def __init__(self, message: str, hint: str | None = None, *, uncertain: bool = False) -> None:
        super().__init__(message, hint)
        self.uncertain = uncertain


class LayoutError(EjournalError):
    """A spreadsheet's layout cannot be understood or repaired."""


class StoreError(EjournalError):
    """The ledger is unusable: migration failed, integrity broken, audit chain invalid."""



class ReportError(EjournalError):
    """A report cannot be built as asked: an unknown period, a week outside the year."""


class DeliveryError(EjournalError):
    """A built report could not be delivered (Drive upload, e-mail); the file stays on disk and
    the delivery is retried."""


class LedgerBusy(EjournalError):
    """Another process holds the ledger's lock (one writing process per ledger); the CLI exits 75."""
