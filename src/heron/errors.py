"""Errors that reach the user: each names the file, line or sample and says what to do."""

from __future__ import annotations


class HeronError(Exception):
    """Base of every error heron reports to the user without a traceback."""


class InputError(HeronError):
    """A user-supplied file or value is wrong.

    The message names where (file, and line or sample when known) and what to do about it.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 hint: str | None = None):
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        text = f"{where}{message}"
        if hint:
            text += f" — {hint}"
        super().__init__(text)
        self.path, self.line, self.hint = path, line, hint


class ResourceError(HeronError):
    """A reference resource could not be fetched, verified or read."""
