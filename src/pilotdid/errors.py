"""The one exception type for bad user input.

Every check of a user's files, study keys or options raises :class:`PilotdidInputError` with a
single line that names *what* is wrong, *where* (file, sheet, column, row, key) and *the fix*.
The CLI prints that line to stderr and exits with code 2; nothing else turns into exit 2.
"""

from __future__ import annotations


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
