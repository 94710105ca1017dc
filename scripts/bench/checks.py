"""The correctness gate: every competitor's result is checked before it is timed.

The reference result is the generated kernel's, or NumPy's when no generated kernel loads (the report says
which). A result is (loss, *gradients) for a full-batch task and (epoch loss, *parameters after the epoch) for an
epoch: every competitor follows the row order the generated ``fit`` draws (``workloads.order``), so epochs are
compared exactly too. Errors are relative to the largest entry of each array, so an entry near zero does not fail
on rounding, and the worst array decides. tests/test_bench_competitors.py asserts the same facts on small data.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RTOL = 1e-10


@dataclass
class Verdict:
    status: str               # ok | mismatch | error | not available | skipped
    detail: str = ""
    error: float | None = None   # the largest relative error found

    @property
    def failed(self) -> bool:
        return self.status in ("mismatch", "error")


def relative_error(result, expected) -> float:
    """max over the arrays of max |result − expected| / max |expected|; inf when the shapes differ."""
    if len(result) != len(expected):
        return np.inf
    worst = 0.0
    for got, want in zip(result, expected):
        got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
        if got.shape != want.shape:
            return np.inf
        scale = max(float(np.max(np.abs(want), initial=0.0)), np.finfo(np.float64).tiny)
        error = float(np.max(np.abs(got - want), initial=0.0)) / scale
        worst = max(worst, error if np.isfinite(error) else np.inf)
    return worst


def compare(result, expected, against: str) -> Verdict:
    error = relative_error(result, expected)
    if error <= RTOL:
        return Verdict("ok", f"vs {against}", error)
    return Verdict("mismatch", f"relative error {error:.1e} vs {against} (allowed {RTOL:.0e})", error)


def _not_ready(answer) -> Verdict | None:
    statuses = {"skip": "skipped", "unavailable": "not available", "error": "error"}
    return None if answer[0] == "ready" else Verdict(statuses[answer[0]], answer[1])


def check(answers: dict, baselines: tuple, epoch: bool) -> tuple[str, dict]:
    """(reference name, name → Verdict) for one workload, from name → the worker's answer to "prepare"."""
    baseline = next((name for name in baselines if answers.get(name, ("",))[0] == "ready"), baselines[-1])
    verdicts = {name: _not_ready(answer) for name, answer in answers.items()}
    if verdicts.get(baseline) is not None:
        reason = f"no reference result: {baseline} {verdicts[baseline].status}"
        return baseline, {name: verdict or Verdict("error", reason) for name, verdict in verdicts.items()}
    against = baseline + (", same row order" if epoch else "")
    for name, answer in answers.items():
        if verdicts[name] is None:
            verdicts[name] = Verdict("ok", "reference result") if name == baseline \
                else compare(answer[1], answers[baseline][1], against)
    return baseline, verdicts
