"""Optimizers, with torch.optim's definitions, option names and defaults. To add one, add an entry to ``_ENTRIES``.

An entry is data: its options (name, default, bounds, the symbol the derivation writes), its per-parameter state
slots (each starting at 0) and its update as rules, θ and g for one parameter and its gradient:

    sgd       g ← g + λθ;  m ← g (t = 1) or μm + (1 − τ)g;  g ← g + μm (nesterov) or m;  θ ← θ − αg
    adam      g ← g + λθ;  m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;  θ ← θ − α·m̂/(√v̂ + ε)
    adamw     θ ← θ(1 − αλ), then adam without the λθ term (decoupled weight decay)
    rmsprop   g ← g + λθ;  v ← ρv + (1 − ρ)g²;  ṽ = v (− ḡ² centered);  θ ← θ − α·g/(√ṽ + ε), or via a buffer
    lbfgs     full batch: scipy's L-BFGS-B on the mean loss plus (λ/2)‖W‖²

A rule holds when all its conditions hold: an option's name (true when the option is not 0), ``not`` an option,
or ``first`` / ``later`` (the step count t = 1 or t > 1). The derivation shows the rules that hold for the options
given; ``derive generate`` prints every rule into the kernels' update (``generated/_optim.py``). The λ terms act
on weights only (d = 1 for a weight, 0 for a bias): a bias shifts, it does not scale, so it is left free.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType

import sympy as sp

from derive.catalogue.symbols import DISPLAY, MEANINGS, alpha
from derive.notation import Minus, Times, named

theta, g, d = sp.symbols("theta g d", real=True)
t = sp.Symbol("t", integer=True, positive=True)
lam = sp.Symbol("lambda", nonnegative=True)
mu, tau, eps, rho = sp.symbols("mu tau epsilon rho", nonnegative=True)
beta_1, beta_2 = sp.symbols("beta_1 beta_2", nonnegative=True)
m, v, v_max, g_bar = sp.symbols("m v v_max g_bar", real=True)
m_hat, v_hat, v_tilde = sp.symbols("m_hat v_hat v_tilde", real=True)
R, J, J_mean = sp.symbols("R J J_mean", real=True)   # the L2 penalty, the penalised loss, its batch mean

DISPLAY.update({rho: ("ρ", r"\rho"), m_hat: ("m̂", r"\hat{m}"), v_hat: ("v̂", r"\hat{v}"), v_tilde: ("ṽ", r"\tilde{v}"),
                g_bar: ("ḡ", r"\bar{g}"), v_max: ("v_max", r"v_{\max}"), J_mean: ("J̄", r"\bar{J}"),
                sp.Symbol("others_w", nonnegative=True): ("Σ_other w²", r"\sum_{\text{other}} w^2")})
MEANINGS.update({"theta": "a parameter (a weight or a bias)", "g": "the parameter's gradient, as the optimizer uses it",
                 "t": "the number of steps taken, this one included", "lambda": "weight decay (L2 strength)",
                 "d": "1 for a weight, 0 for a bias", "R": "the L2 penalty (λ/2)·Σ w² over the weights",
                 "J": "the penalised loss of one sample, L + R", "J_mean": "the objective: the mean loss plus R"})


@dataclass(frozen=True)
class Option:
    """One keyword option, as torch.optim names it: ``kind`` is number, flag, pair (two numbers) or count."""

    name: str
    default: object
    kind: str = "number"
    symbols: tuple = ()           # the symbols the rules write for it (two for a pair)
    low: float = 0.0              # every number must be >= low …
    high: float = math.inf        # … and <= high (< high when ``open``)
    open: bool = False
    meaning: str = ""


@dataclass(frozen=True)
class Rule:
    """target ← expr, for one parameter θ, when every condition in ``when`` holds; ``shown``: the same in the
    order a textbook writes it (display nodes), for the derivation."""

    target: sp.Symbol
    expr: sp.Expr
    when: tuple = ()
    why: str = ""
    shown: sp.Expr | None = None


def _average(rate, old, new):
    """rate·old + (1 − rate)·new, as written: an exponential moving average."""
    return sp.Add(Times(rate, old), Times(Minus(1, rate), new), evaluate=False)


def _over(top, square):
    """top/(√square + ε), ε outside the root."""
    return top / sp.Add(sp.sqrt(square), eps, evaluate=False)


@dataclass(frozen=True)
class Slot:
    """Per-parameter state carried from step to step (0 before the first step), and what it does."""

    symbol: sp.Symbol
    meaning: str


@dataclass(frozen=True)
class Requirement:
    """When ``flag`` is set, each (option, relation, value) of ``needs`` must hold; else ``message``."""

    flag: str
    needs: tuple
    message: str


@dataclass(frozen=True)
class Optimizer:
    """One registry entry."""

    name: str
    title: str
    torch: str
    description: str
    options: tuple
    rules: tuple = ()
    slots: tuple = ()
    lr: float | None = 1e-3           # torch's default learning rate (the estimators' default)
    decay: str = "coupled"            # coupled: λθ joins the gradient (the loss gains (λ/2)‖W‖²); decoupled: θ shrinks
    requires: tuple = ()
    notes: tuple = ()                 # sentences the derivation adds after the rules
    full_batch: bool = False

    @property
    def names(self) -> tuple:
        return tuple(o.name for o in self.options)

    @property
    def hyper(self) -> tuple:
        """The scalar hyper-parameters in the kernels' order: (name, symbol), a pair giving two."""
        out = []
        for option in self.options:
            if option.kind == "pair":
                out += [(f"{option.name}[{i}]", s) for i, s in enumerate(option.symbols)]
            elif option.kind in ("number", "flag"):
                out.append((option.name, option.symbols[0] if option.symbols else None))
        return tuple(out)

    def holds(self, when: tuple, values: dict, step: int | None) -> bool:
        """Whether a rule's conditions hold for option ``values`` at ``step`` (None: either step)."""
        for condition in when:
            negated, name = condition.startswith("not "), condition.removeprefix("not ")
            if name in ("first", "later"):
                truth = None if step is None else (step == 1) == (name == "first")
            else:
                truth = bool(values[name])
            if truth is not None and truth == negated:
                return False
        return True


_WD = Option("weight_decay", 0.0, symbols=(lam,), meaning="L2 penalty λ on the weights")
_EPS = Option("eps", 1e-8, symbols=(eps,), meaning="added to the denominator, so that a step stays finite")
_DECAY = Rule(g, g + lam * d * theta, ("weight_decay",), "weight decay: the gradient of (λ/2)‖W‖² (weights only)",
              sp.Add(g, Times(lam, theta), evaluate=False))
_SQUARES = "a running average of the squared gradient: a per-weight step size from the gradient's recent scale"

_ADAM_RULES = (
    Rule(m, beta_1 * m + (1 - beta_1) * g, why="first moment", shown=_average(beta_1, m, g)),
    Rule(v, beta_2 * v + (1 - beta_2) * g**2, why="second moment", shown=_average(beta_2, v, g**2)),
    Rule(v_max, sp.Max(v_max, v), ("amsgrad",), "the largest second moment so far (AMSGrad)",
         named("max", r"\max")(v_max, v)),
    Rule(m_hat, m / (1 - beta_1**t), why="bias correction", shown=m / Minus(1, beta_1**t)),
    Rule(v_hat, v / (1 - beta_2**t), ("not amsgrad",), "bias correction", v / Minus(1, beta_2**t)),
    Rule(v_hat, v_max / (1 - beta_2**t), ("amsgrad",), "bias correction", v_max / Minus(1, beta_2**t)),
    Rule(theta, theta - alpha * m_hat / (sp.sqrt(v_hat) + eps), why="ε outside the square root, as in PyTorch",
         shown=Minus(theta, Times(alpha, _over(m_hat, v_hat)))),
)
_ADAM_SLOTS = (Slot(m, "a running average of the gradient: it keeps the direction through noisy batches"),
               Slot(v, _SQUARES),
               Slot(v_max, "with amsgrad, the largest v so far, so that a step size never grows back"))
_ADAM_NOTES = ("Bias correction: m and v start at 0, so over the first steps they are averages pulled toward 0, "
               "too small by the factors 1 − β₁ᵗ and 1 − β₂ᵗ; dividing by those factors undoes it, without which "
               "the first steps would be too small (m) or too large (a small √v).",
               "m̂/√v̂ is about ±1 where the gradient keeps its sign, so every weight moves by about α per step "
               "whatever the scale of its gradient; where the sign flips from batch to batch, m̂ averages out and "
               "the step shrinks.")
_ADAM_OPTIONS = (Option("betas", (0.9, 0.999), "pair", (beta_1, beta_2), high=1.0, open=True,
                        meaning="decay rates of the running averages m and v"), _EPS)
_AMSGRAD = Option("amsgrad", False, "flag", meaning="use the largest v so far (AMSGrad)")

_ENTRIES = (
    Optimizer(
        "sgd", "SGD", "torch.optim.SGD", "gradient descent, with momentum and Nesterov momentum",
        (Option("momentum", 0.0, symbols=(mu,), meaning="momentum factor μ"),
         Option("dampening", 0.0, symbols=(tau,), meaning="dampening τ of the momentum buffer's new gradient"),
         _WD, Option("nesterov", False, "flag", meaning="Nesterov momentum")),
        (_DECAY,
         Rule(m, g, ("momentum", "first"), "the first step sets the buffer to the gradient"),
         Rule(m, mu * m + (1 - tau) * g, ("momentum", "later"), "momentum buffer",
              sp.Add(Times(mu, m), Times(Minus(1, tau), g), evaluate=False)),
         Rule(g, g + mu * m, ("momentum", "nesterov"), "Nesterov: look ahead along the buffer",
              sp.Add(g, Times(mu, m), evaluate=False)),
         Rule(g, m, ("momentum", "not nesterov"), "step along the buffer"),
         Rule(theta, theta - alpha * g, shown=Minus(theta, Times(alpha, g)))),
        (Slot(m, "the momentum buffer: a running sum of past gradients that keeps the direction through noise "
                 "and builds up speed along a consistent slope, by up to 1/(1 − μ)"),),
        requires=(Requirement("nesterov", (("momentum", ">", 0.0), ("dampening", "==", 0.0)),
                              "Nesterov momentum requires a momentum and zero dampening"),)),
    Optimizer("adam", "Adam", "torch.optim.Adam", "adaptive moments (Kingma and Ba, 2015)",
              (*_ADAM_OPTIONS, _WD, _AMSGRAD), (_DECAY, *_ADAM_RULES), _ADAM_SLOTS, notes=_ADAM_NOTES),
    Optimizer("adamw", "AdamW", "torch.optim.AdamW", "Adam with decoupled weight decay (Loshchilov and Hutter, 2019)",
              (*_ADAM_OPTIONS, Option("weight_decay", 1e-2, symbols=(lam,), meaning="decoupled weight decay λ"),
               _AMSGRAD),
              (Rule(theta, theta * (1 - alpha * lam * d), ("weight_decay",),
                    "decoupled weight decay: every weight shrinks by the factor 1 − αλ (weights only)",
                    Times(theta, Minus(1, Times(alpha, lam)))),
               *_ADAM_RULES), _ADAM_SLOTS, decay="decoupled",
              notes=_ADAM_NOTES + ("The decay is decoupled: it shrinks θ directly instead of joining g, so Adam's "
                                   "per-weight step size does not scale it down for weights with large gradients.",)),
    Optimizer(
        "rmsprop", "RMSprop", "torch.optim.RMSprop", "a step size from a running average of squared gradients",
        (Option("alpha", 0.99, symbols=(rho,), meaning="smoothing constant ρ (PyTorch's alpha)"), _EPS, _WD,
         Option("momentum", 0.0, symbols=(mu,), meaning="momentum factor μ"),
         Option("centered", False, "flag", meaning="divide by the gradient's variance instead of its mean square")),
        (_DECAY,
         Rule(v, rho * v + (1 - rho) * g**2, why="running mean square", shown=_average(rho, v, g**2)),
         Rule(g_bar, rho * g_bar + (1 - rho) * g, ("centered",), "running mean", _average(rho, g_bar, g)),
         Rule(v_tilde, v, ("not centered",)),
         Rule(v_tilde, v - g_bar**2, ("centered",), "an estimate of the variance", Minus(v, g_bar**2)),
         Rule(m, mu * m + g / (sp.sqrt(v_tilde) + eps), ("momentum",), "momentum buffer of the scaled steps",
              sp.Add(Times(mu, m), _over(g, v_tilde), evaluate=False)),
         Rule(theta, theta - alpha * m, ("momentum",), shown=Minus(theta, Times(alpha, m))),
         Rule(theta, theta - alpha * g / (sp.sqrt(v_tilde) + eps), ("not momentum",),
              shown=Minus(theta, Times(alpha, _over(g, v_tilde))))),
        (Slot(v, _SQUARES), Slot(g_bar, "with centered, a running average of the gradient"),
         Slot(m, "with momentum, a running sum of the scaled steps")), lr=1e-2),
    Optimizer(
        "lbfgs", "L-BFGS", "scipy.optimize.minimize(method='L-BFGS-B')",
        "full-batch quasi-Newton: steps along −H·g, H built from the last gradients, each length from a line search",
        (_WD, Option("max_iter", 100, "count", low=1, meaning="the most iterations"),
         Option("history_size", 10, "count", low=1, meaning="the (s, y) pairs kept for H")),
        lr=None, full_batch=True,
        notes=("Each iteration minimises J̄ along d = −H·∂J̄/∂θ, where H approximates the inverse of the Hessian from "
               "the last history_size steps s = Δθ and gradient changes y = Δ∂J̄/∂θ (the two-loop recursion); a line "
               "search picks the step length. The first iteration has no history: d = −∂J̄/∂θ, tried at length "
               "1/‖∂J̄/∂θ‖.",
               "Defaults are scikit-learn's for LogisticRegression (100 iterations, 10 pairs), so that the same "
               "objective reaches the same optimum in the same iterations; torch.optim.LBFGS takes 20 and 100.")),
)

OPTIMIZERS = MappingProxyType({entry.name: entry for entry in _ENTRIES})
DEFAULT = "sgd"


@dataclass(frozen=True)
class Training:
    """How a derivation trains: an optimizer entry and its option values (defaults filled in, checked)."""

    optimizer: Optimizer
    values: dict

    @property
    def weight_decay(self) -> float:
        return float(self.values.get("weight_decay", 0.0))

    @property
    def penalised(self) -> bool:
        """Whether the loss gains (λ/2)‖W‖²: coupled weight decay λ ≠ 0."""
        return self.optimizer.decay == "coupled" and self.weight_decay != 0

    @property
    def plain(self) -> bool:
        """Plain gradient descent: SGD whose rules reduce to θ ← θ − α·g."""
        return self.optimizer.name == DEFAULT and not any(
            self.values[o.name] for o in self.optimizer.options if o.name != "weight_decay")

    def rules(self, step: int | None = None) -> tuple:
        """The rules that hold for these options (at ``step``: 1 or later; None: both kinds of step)."""
        return tuple(r for r in self.optimizer.rules if self.optimizer.holds(r.when, self.values, step))


def training(optimizer: str | None = None, options: dict | None = None) -> Training:
    """The Training for ``optimizer`` (default sgd) with ``options`` (torch.optim's names); a bad one is a
    one-line BadValue naming the valid ones (the kernels' own check, ``derive.kernels._options``)."""
    from derive.errors import BadValue
    from derive.kernels._options import resolve   # pure Python: imports neither numba nor the kernels
    name = DEFAULT if optimizer is None else optimizer
    try:
        _, values = resolve(table(), name, dict(options or {}))
    except ValueError as error:
        raise BadValue(str(error)) from None
    return Training(OPTIMIZERS[name], values)


def table() -> dict:
    """The registry as plain data (no SymPy) for ``generated/_optim.py`` and the option checks of
    ``generated/_options.py``: name -> kind number, torch name, default lr, decay, state slots, options and the
    kernels' order of the scalar hyper-parameters."""
    out = {}
    for kind, entry in enumerate(_ENTRIES):
        out[entry.name] = {
            "kind": kind, "torch": entry.torch, "lr": entry.lr, "decay": entry.decay, "full_batch": entry.full_batch,
            "slots": tuple(slot.symbol.name for slot in entry.slots),
            "options": tuple((o.name, o.kind, o.default, o.low, None if o.high == math.inf else o.high, o.open)
                             for o in entry.options),
            "hyper": tuple(name for name, _ in entry.hyper),
            "requires": tuple((r.flag, r.needs, r.message) for r in entry.requires)}
    return out
