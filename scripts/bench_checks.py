"""The correctness gate: every competitor's result is checked before it is timed.

The reference result is the generated kernel's, or NumPy's when no generated kernel loads (the report
says which). Errors are relative to the largest entry of each array, so a gradient entry near zero
does not fail on rounding, and the worst array decides.

- Full-batch gradients: (loss, *gradients) within RTOL of the reference.
- Epochs: every competitor follows the row order the generated ``fit`` draws (bench_reference.epoch_order),
  so they are checked exactly too. Should the kernel's order ever differ, a competitor still passes when
  only the order can explain the difference: it agrees exactly with the kernel on identical rows (where
  every order ends the same), its loss trajectory agrees within TRAJECTORY of the loss drop (the epoch's
  loss and the full-data loss after it; different orders were seen 0.1–2.2 % apart here), and it agrees
  exactly with NumPy, which follows its order. The verdict then says so.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RTOL = 1e-10
TRAJECTORY = 0.05
IDENTICAL_ROWS = 600          # enough for a partial last batch of 256


@dataclass
class Verdict:
    status: str               # ok | mismatch | error | not available | skipped
    detail: str = ""
    error: float | None = None   # the largest relative error found

    @property
    def failed(self) -> bool:
        return self.status in ("mismatch", "error")


def relative_error(result, expected) -> float:
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


LOGITS = {   # the output logit z of each model that an epoch trains
    "neuron_fit": lambda X, w, b: X @ w + b[0],
    "mlp_fit": lambda X, W1, b1, W2, b2: np.tanh(X @ W1 + b1) @ W2[:, 0] + b2[0],
}


def full_loss(task, params, X, y) -> float:
    """Mean sigmoid + BCE loss over all rows, the quantity an epoch of SGD lowers."""
    z = LOGITS[task](X, *params)
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


def trajectory_gap(task, result, expected, params0, X, y) -> float:
    """How far two epochs in different row orders end apart, as a fraction of the loss they shed."""
    start = full_loss(task, params0, X, y)
    final_got, final_want = full_loss(task, result[1:], X, y), full_loss(task, expected[1:], X, y)
    epoch_gap = abs(result[0][0] - expected[0][0]) / abs(start - expected[0][0])
    final_gap = abs(final_got - final_want) / abs(start - final_want)
    return float(max(epoch_gap, final_gap))


def _not_ready(answer) -> Verdict | None:
    statuses = {"skip": "skipped", "unavailable": "not available", "error": "error"}
    if answer[0] == "ready":
        return None
    return Verdict(statuses[answer[0]], answer[1])


def _exact(result, expected, against) -> Verdict:
    error = relative_error(result, expected)
    if error <= RTOL:
        return Verdict("ok", f"vs {against}", error)
    return Verdict("mismatch", f"relative error {error:.1e} vs {against} (allowed {RTOL:.0e})", error)


def check(task, answers, identical=None, data=None) -> tuple[str, dict]:
    """(reference name, name → Verdict) for one workload.

    answers: name → the worker's answer to "prepare"; for epochs when the generated kernel ran,
    identical: name → answer on identical rows, and data: (params0, X, y) for the trajectory check.
    """
    baseline = "generated" if answers.get("generated", ("",))[0] == "ready" else "numpy"
    verdicts = {name: _not_ready(answer) for name, answer in answers.items()}
    if verdicts.get(baseline) is not None:
        reason = f"no reference result: {baseline} {verdicts[baseline].status}"
        return baseline, {name: verdict or Verdict("error", reason) for name, verdict in verdicts.items()}
    for name, answer in answers.items():
        if verdicts[name] is not None:
            continue
        if name == baseline:
            verdicts[name] = Verdict("ok", "reference result")
            continue
        same_order = ", same row order" if task.endswith("_fit") else ""
        verdicts[name] = _exact(answer[1], answers[baseline][1], baseline + same_order)
        if verdicts[name].failed and identical is not None:
            verdicts[name] = _without_common_order(task, name, answers, identical, data)
    return baseline, verdicts


def _without_common_order(task, name, answers, identical, data) -> Verdict:
    """An epoch that differs from the generated kernel's: fine only if the kernel's row order is what differs,
    i.e. it agrees exactly on identical rows, ends on the same loss trajectory, and the competitor agrees
    exactly with NumPy, which follows the same order as it does."""
    checks = [_not_ready(identical[name]) or _not_ready(identical["generated"])
              or _exact(identical[name][1], identical["generated"][1], "generated on identical rows")]
    gap = trajectory_gap(task, answers[name][1], answers["generated"][1], *data)
    checks.append(Verdict("ok" if gap <= TRAJECTORY else "mismatch",
                          f"loss trajectory {gap:.1%} of the loss drop from generated's (allowed {TRAJECTORY:.0%})"))
    if name != "numpy":
        checks.append(_exact(answers[name][1], answers["numpy"][1], "numpy, same row order"))
    failed = [verdict for verdict in checks if verdict.failed]
    if failed:
        return Verdict(failed[0].status, "; ".join(verdict.detail for verdict in failed))
    return Verdict("ok", "the generated kernel's row order differs; passed: " + "; ".join(v.detail for v in checks))
