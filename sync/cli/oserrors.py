"""What the CLI says when the operating system refuses a path: one ``Error:`` line and a ``Hint:``.

The jobs turn the failures they expect into :class:`~rules.errors.EjournalError`; this is the net for
the rest (a demo folder under a file, a read-only place, a full disk), so that no command ever
answers with a traceback. English: the CLI's and the logs' language.
"""

from __future__ import annotations

import errno
import shutil

_HINTS = {
    errno.EACCES: "the service's user may not write there: choose another place or fix the "
                  "folder's owner and permissions (chown/chmod)",
    errno.EPERM: "the service's user may not write there: choose another place or fix the folder's "
                 "owner, permissions or attributes (chown/chmod/chattr)",
    errno.EROFS: "that filesystem is mounted read-only: choose a place on a writable disk",
    errno.ENOSPC: "the disk is full: free some space (or choose another disk) and run it again; "
                  "nothing already saved was lost",
    errno.EDQUOT: "the user's disk quota is exhausted: free some space and run it again",
    errno.ENOTDIR: "a part of that path is a file, not a folder: check the path",
    errno.EISDIR: "a folder is where a file is expected: check the path",
    errno.ENOENT: "the folder does not exist: create it or check the path",
    errno.EEXIST: "a file is in the way where a folder is expected: check the path",
}
_DEFAULT_HINT = "check the path, its permissions and the free disk space, then run it again"


def os_error_lines(exc: OSError) -> tuple[str, str]:
    """The ``Error:`` message and the ``Hint:`` for an operating-system error (shutil's copy
    errors included: the first file that failed is named)."""
    if isinstance(exc, shutil.Error) and exc.args and isinstance(exc.args[0], list):
        failures = exc.args[0]
        if failures:
            _src, dst, why = failures[0]
            more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
            return f"cannot copy to {dst}: {_strip_path(str(why))}{more}", _hint_for_text(str(why))
    where = exc.filename if exc.filename is not None else ""
    what = exc.strerror or str(exc) or type(exc).__name__
    message = f"{where}: {what}" if where else what
    return f"cannot use {message}", _HINTS.get(exc.errno or 0, _DEFAULT_HINT)


def _strip_path(text: str) -> str:
    """``[Errno 1] Operation not permitted: '/x'`` → ``Operation not permitted``."""
    if text.startswith("[Errno"):
        text = text.split("] ", 1)[-1]
    return text.split(": '", 1)[0]


def _hint_for_text(text: str) -> str:
    if text.startswith("[Errno "):
        number = text[len("[Errno "):].split("]", 1)[0]
        if number.isdigit():
            return _HINTS.get(int(number), _DEFAULT_HINT)
    return _DEFAULT_HINT
