"""The one exception type for bad user input.

Every check of a user's files, study keys or options raises :class:`PilotdidInputError` with a
single line that names *what* is wrong, *where* (file, sheet, column, row, key) and *the fix*.
The CLI prints that line to stderr and exits with code 2; nothing else turns into exit 2.
"""

from __future__ import annotations

import threading

#: Set when the process is asked to stop (SIGTERM in the CLI). Checked where an exception raised by the signal
#: handler could have been swallowed (e.g. inside a finaliser): before an output folder is swapped into place and
#: between parallel tasks, so a terminated run never ends as if it had finished.
TERMINATE = threading.Event()


class Terminated(BaseException):
    """The process was asked to stop: unwinds like Ctrl-C (workers stopped, temporary folders removed)."""


def stop_if_terminated() -> None:
    if TERMINATE.is_set():
        raise Terminated()


class PilotdidInputError(Exception):
    """Bad input: the message is one line naming the culprit and the fix."""

    def __init__(self, message: str, *, where: str | None = None, fix: str | None = None):
        parts = [f"{where}: {message}" if where else message]
        if fix:
            parts.append(f"fix: {fix}")
        text = " -- ".join(parts)
        super().__init__(" ".join(text.split()))  # one line, always

    @property
    def line(self) -> str:
        return str(self)


def check_table_entry(raw, known: set[str], where: str, *, what: str, example: str) -> dict:
    """``raw`` itself when it is a study-file table using only ``known`` keys; else the one-line input error.

    ``what`` names the entry in the message ("a split", "a mediator"), ``example`` is the fix's example table.
    """
    if not isinstance(raw, dict):
        raise PilotdidInputError(f"{what} must be a table, got {raw!r}", where=where, fix=f"e.g. {example}")
    unknown = sorted(set(raw) - known)
    if unknown:
        raise PilotdidInputError(f"unknown key '{unknown[0]}'", where=where, fix=f"use only: {', '.join(sorted(known))}")
    return raw
