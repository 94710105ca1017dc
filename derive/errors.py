"""The project's exception types.

Every error a user can cause is a ``DeriveError`` whose message is one line that says what was wrong
and what would be right. The CLI prints ``derive: <message>`` and exits 2; nothing else escapes.
"""
from __future__ import annotations

import difflib
from collections.abc import Iterable


class DeriveError(Exception):
    """Base class: a user-facing error with a one-line message."""

    exit_code = 2


class UnknownName(DeriveError, KeyError):
    """A name that is not in a registry; the message suggests the nearest known names."""

    def __init__(self, kind: str, name: str, known: Iterable[str]):
        known = sorted(known)
        self.kind, self.name, self.known = kind, name, known
        near = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f"did you mean {' or '.join(repr(n) for n in near)}? " if near else ""
        super().__init__(f"unknown {kind} {name!r}; {hint}known: {', '.join(known)}")

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.args[0]


class InvalidPair(DeriveError):
    """An activation, loss and model that do not fit together; the message says why."""


class BadExpression(DeriveError):
    """A user expression that is refused; the message names the offending token."""


class BadValue(DeriveError):
    """A malformed option value (``--at``, a width, a file name ...)."""


class ToolMissing(DeriveError):
    """An external program (pdflatex) is not installed."""


class TooCostly(DeriveError):
    """A user's expression past the work budget (``derive.budget``); the message names the limit and its setting."""


class TooSlow(TooCostly):
    """Work on a user's expression that ran past the time limit and was stopped."""


class CannotDerive(DeriveError):
    """A user's expression that derive could not carry through; the message names it as SymPy prints it."""


class Unsampleable(DeriveError):
    """An activation and loss with no point where both are finite, so their derivatives cannot be checked."""
