"""Bounded work: a user's expression is derived within a budget of size and time, or refused in one line.

Size limits are checked before any SymPy work (cheap and deterministic); the time limit is the backstop for what
sizes cannot predict. Defaults, each changed by its environment variable or by ``Budget(...)`` passed as
``derive.derivation(..., budget=...)``:

    DERIVE_TIME_LIMIT          10    seconds of wall time for one derivation or compile of a custom expression
    DERIVE_MAX_OPS             100   operations in the expression (``sympy.count_ops``)
    DERIVE_MAX_DERIVATIVE_OPS  600   operations in its derivative, worked rule by rule before simplifying
    DERIVE_MAX_NESTING         8     functions applied inside one another, exp(sin(z)) being 2
    DERIVE_MAX_POWER           64    n in a power of a sum (z + 1)**n, whose expansion costs about n terms
    DERIVE_MAX_CASES           8     arguments of one Max or Min (each becomes a case with a condition per other)

The time limit is a SIGALRM timer (``signal.setitimer``) in the main thread: it interrupts SymPy between two
Python bytecodes, and the previous handler and timer are restored afterwards (a previous timer that came due
meanwhile fires as soon as the work ends). Outside the main thread no signal
can reach the work, so the deadline is checked cooperatively between steps (``check``) and the size limits
carry the load. To add a size limit, add a field to ``Budget`` and one ``Limit`` to ``LIMITS``.
"""
from __future__ import annotations

import contextvars
import dataclasses
import math
import os
import signal
import threading
import time
from contextlib import contextmanager
from typing import Callable, NamedTuple

import sympy as sp
from sympy.core.parameters import global_parameters

from derive.errors import BadValue, TooCostly, TooSlow


@dataclasses.dataclass(frozen=True)
class Budget:
    """How much work one derivation of a user's expression may take (see the module docstring)."""

    seconds: float = 10.0
    max_ops: int = 100
    max_derivative_ops: int = 600
    max_nesting: int = 8
    max_power: int = 64
    max_cases: int = 8

    @classmethod
    def from_environment(cls, **overrides) -> "Budget":
        """The defaults, each replaced by its environment variable when set, then by ``overrides``."""
        values = {}
        for field in dataclasses.fields(cls):
            text = os.environ.get(ENVIRONMENT[field.name])
            if text is not None:
                values[field.name] = _read(ENVIRONMENT[field.name], text, float if field.type == "float" else int)
        return cls(**{**values, **overrides})


ENVIRONMENT = {"seconds": "DERIVE_TIME_LIMIT", "max_ops": "DERIVE_MAX_OPS",
               "max_derivative_ops": "DERIVE_MAX_DERIVATIVE_OPS", "max_nesting": "DERIVE_MAX_NESTING",
               "max_power": "DERIVE_MAX_POWER", "max_cases": "DERIVE_MAX_CASES"}


def _read(name: str, text: str, kind: type):
    try:
        number = kind(text)
    except ValueError:
        number = None
    if number is None or not math.isfinite(number) or number <= 0:
        raise BadValue(f"{name} must be a positive {'number' if kind is float else 'whole number'}, not {text!r}")
    return number


_CURRENT: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("derive_budget", default=None)


def current() -> Budget:
    """The budget in force: the one a running derivation set, else the defaults and environment."""
    return _CURRENT.get() or Budget.from_environment()


# --- size, measured up front ------------------------------------------------------------------------------------
def nesting(expr: sp.Basic) -> int:
    """Functions applied inside one another: exp(sin(z)) is 2, and a variable power b**u counts as one."""
    inside = max((nesting(arg) for arg in expr.args), default=0)
    return inside + (isinstance(expr, sp.Function) or (expr.is_Pow and not expr.exp.is_number))


def sum_power(expr: sp.Basic) -> int:
    """The largest |n| in u**n where u holds a sum outside any function: what expanding would multiply out."""
    found = [abs(int(p.exp)) for p in expr.atoms(sp.Pow) if p.exp.is_Integer and _sum_outside_functions(p.base)]
    return max(found, default=0)


def _sum_outside_functions(expr: sp.Basic) -> bool:
    return expr.is_Add or (not isinstance(expr, sp.Function) and any(map(_sum_outside_functions, expr.args)))


def cases(expr: sp.Basic) -> int:
    """The most arguments of one Max or Min."""
    return max((len(m.args) for m in expr.atoms(sp.Max, sp.Min)), default=0)


class Limit(NamedTuple):
    field: str
    measure: Callable[[sp.Basic], int]
    says: str  # with {n} the measure and {limit} the budget's value


LIMITS = (
    Limit("max_ops", lambda e: int(sp.count_ops(e)), "it has {n} operations, more than {limit}"),
    Limit("max_nesting", nesting, "it nests {n} functions inside one another, more than {limit}"),
    Limit("max_power", sum_power, "it raises a sum to the power {n}, more than {limit} (expanding it costs "
                                  "about {n} terms)"),
    Limit("max_cases", cases, "a Max or Min has {n} arguments, more than {limit}"),
)


def shown(expr: sp.Basic, width: int = 60) -> str:
    """``expr`` as SymPy prints it (never the user's text), clipped to ``width`` characters."""
    text = sp.sstr(expr)
    return text if len(text) <= width else text[:width - 3] + "..."


def check_size(expr: sp.Basic, what: str) -> None:
    """Refuse ``expr`` (a ``what``, e.g. "activation expression") in one line if it exceeds a size limit."""
    budget = current()
    for limit in LIMITS:
        n, most = limit.measure(expr), getattr(budget, limit.field)
        if n > most:
            raise TooCostly(f"{what} {shown(expr)} is too costly to derive: {limit.says.format(n=n, limit=most)} "
                            f"(set {ENVIRONMENT[limit.field]} to allow more)")


def check_derivative(expr: sp.Basic, derivative: sp.Basic, what: str) -> None:
    """Refuse ``expr`` when its unsimplified ``derivative`` is past ``max_derivative_ops``."""
    most, n = current().max_derivative_ops, int(sp.count_ops(derivative))
    if n > most:
        raise TooCostly(f"{what} {shown(expr)} is too costly to derive: its derivative has {n} operations, more "
                        f"than {most} (set {ENVIRONMENT['max_derivative_ops']} to allow more)")


# --- time ---------------------------------------------------------------------------------------------------------
class _Alarm(BaseException):
    """Raised by the timer; a BaseException so that SymPy's ``except Exception`` cannot swallow it."""


@dataclasses.dataclass
class _Deadline:
    end: float         # time.monotonic() at which this deadline expires
    effective: float   # the earliest end of this deadline and every one around it
    expired: Callable[[], BaseException]


class _State(threading.local):
    def __init__(self):
        self.stack: list[_Deadline] = []
        self.saved = None  # (previous handler, previous timer, start, evaluate, distribute) of the outermost


_STATE = _State()
REPEAT = 0.1  # the timer fires again every REPEAT s until the deadline is left, in case a bare except ate one


def _signals_work() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def _on_alarm(signum, frame):
    stack = _STATE.stack
    if stack and time.monotonic() >= stack[-1].effective - 1e-3:
        raise _Alarm


@contextmanager
def deadline(seconds: float, expired: Callable[[], BaseException]):
    """Run the block for at most ``seconds``; past it, raise ``expired()`` (nested deadlines: the earliest wins)."""
    state, now = _STATE, time.monotonic()
    outer = state.stack[-1] if state.stack else None
    mine = _Deadline(now + seconds, min(now + seconds, outer.effective if outer else math.inf), expired)
    use_signals = _signals_work()
    if use_signals and outer is None:
        state.saved = (signal.signal(signal.SIGALRM, _on_alarm), signal.getitimer(signal.ITIMER_REAL), now,
                       global_parameters.evaluate, global_parameters.distribute)
    state.stack.append(mine)
    if use_signals:
        _arm(mine.effective)
    try:
        yield
    except _Alarm:
        if outer is not None and outer.effective <= mine.end:  # an enclosing deadline ran out first: its turn
            raise
        raise expired() from None
    finally:
        state.stack.pop()
        if use_signals:
            _disarm(outer, state)


def _arm(end: float) -> None:
    signal.setitimer(signal.ITIMER_REAL, max(end - time.monotonic(), 1e-4), REPEAT)


def _disarm(outer: _Deadline | None, state: _State) -> None:
    if outer is not None:
        _arm(outer.effective)
        return
    signal.setitimer(signal.ITIMER_REAL, 0)
    handler, (delay, interval), start, evaluate, distribute = state.saved
    state.saved = None
    signal.signal(signal.SIGALRM, handler)
    if delay > 0:  # someone else's timer: give it back what is left of it (at least a moment)
        signal.setitimer(signal.ITIMER_REAL, max(delay - (time.monotonic() - start), 1e-3), interval)
    # An interrupt inside SymPy's ``with evaluate(False)`` exit could leave the global switch off; put it back.
    global_parameters.evaluate, global_parameters.distribute = evaluate, distribute


def check() -> None:
    """Raise the expiry of the earliest deadline if it has passed (the cooperative path, for any thread)."""
    stack = _STATE.stack
    if stack and time.monotonic() >= stack[-1].effective:
        owner = min(stack, key=lambda d: d.end)
        raise owner.expired()


class _SliceOver(Exception):
    pass


def bounded() -> bool:
    """Whether the caller runs under a deadline (work on a user's expression); named entries never do, so what
    they derive cannot depend on how busy the machine is."""
    return bool(_STATE.stack)


def attempt(seconds: float, compute: Callable, *args):
    """``compute(*args)``, or None if it takes longer than ``seconds`` (the enclosing deadline still applies).

    Outside the main thread nothing can stop ``compute``, so it runs to the end; callers keep it small by size.
    """
    check()
    try:
        with deadline(seconds, _SliceOver):
            found = compute(*args)
    except _SliceOver:
        return None
    check()
    return found


class Job:
    """One bounded piece of work: ``subject`` says what it derives, for the message if time runs out."""

    def __init__(self, budget: Budget, subject: str):
        self.budget, self.subject = budget, subject

    def too_slow(self) -> TooSlow:
        return TooSlow(f"deriving {self.subject} took longer than {self.budget.seconds:g} s "
                       f"({ENVIRONMENT['seconds']}) and was stopped; simplify the expression or raise the limit")


@contextmanager
def limited(budget: Budget | None, subject: str):
    """Run the block under ``budget`` (default: ``current()``); yields the ``Job``, whose subject may be refined."""
    job = Job(budget or current(), subject)
    token = _CURRENT.set(job.budget)
    try:
        with deadline(job.budget.seconds, job.too_slow):
            yield job
    finally:
        _CURRENT.reset(token)
