"""Sections every model's derivation shares, built once: the L2 penalty, the mean over a batch, and the update.

    R = (λ/2)·Σ w²,  J = L + R,  ∂R/∂w = λ·w                       weight decay (weights only, biases free)
    L̄ = (1/N) Σₙ L⁽ⁿ⁾,   ∂L̄/∂θ = (1/N) Σₙ ∂L⁽ⁿ⁾/∂θ,   J̄ = L̄ + R
    θ ← θ − α·∂J̄/∂θ, or the optimizer's rules (derive/catalogue/optimizers.py) with g = ∂J̄/∂θ

The update rule is the seam an optimizer plugs into: ``update_rule`` writes plain gradient descent, or the rules
of the optimizer the ``Training`` names. A builder takes a ``Penalty`` (``penalty(training, weight, squares)``)
and puts its pieces in place: nothing when there is no weight decay.
"""
from __future__ import annotations

import sympy as sp

from derive.catalogue.optimizers import J, J_mean, R, Training, g, lam, theta, training as default_training
from derive.catalogue.symbols import L, L_mean, alpha, sample
from derive.derivations.notes import against_gradient, decay_note, optimizer_notes
from derive.notation import BatchMean, Partial, Times
from derive.rules import differentiate
from derive.steps import Definition, Equation, LocalDerivative, Note, Section, Update, relabel

OTHERS = sp.Symbol("others_w", nonnegative=True)   # the squares of every other weight, held constant


class Penalty:
    """The L2 penalty R = (λ/2)·Σ w² of ``training`` (coupled weight decay), in a builder's sections; with no
    weight decay, every method gives nothing and the gradients stay as they are."""

    def __init__(self, training: Training | None, weight: sp.Symbol, squares: sp.Expr):
        self.on = training is not None and training.penalised
        self.weight, self.squares = weight, squares

    def forward(self) -> tuple:
        if not self.on:
            return ()
        return (Definition(R, (Times(lam / 2, self.squares),), "L2 penalty: weight decay λ on every weight; "
                                                                 "biases are not penalised"),
                Definition(J, (L + R,), "the penalised loss of one sample"))

    def local(self) -> tuple:
        """∂R/∂w rule by rule: every other weight's square is a constant."""
        if not self.on:
            return ()
        tree = differentiate(lam / 2 * (self.weight**2 + OTHERS), self.weight)
        return (LocalDerivative(Partial(R, self.weight), tree, Times(lam, self.weight),
                                "holds every other weight constant"),)

    def together(self, bias: sp.Symbol) -> tuple:
        if not self.on:
            return ()
        return (Equation(Partial(J, self.weight), (sp.Add(Partial(L, self.weight), Partial(R, self.weight),
                                                          evaluate=False),
                                                   self.gradient(self.weight, Partial(L, self.weight))), "J = L + R"),
                Equation(Partial(J, bias), (Partial(L, bias),), "R holds no bias"),
                Note("The penalty adds {0} to each weight's gradient: a pull toward 0 in proportion to the weight's "
                     "size. The bias gets none: it shifts the output, it does not scale an input.",
                     (Times(lam, self.weight),)))

    def gradient(self, parameter: sp.Symbol, expr: sp.Expr, weight: bool | None = None) -> sp.Expr:
        """∂J/∂parameter from ∂L/∂parameter: + λ·w for the weight (or for any ``parameter`` when ``weight``)."""
        weight = parameter == self.weight if weight is None else weight
        return sp.Add(expr, Times(lam, parameter), evaluate=False) if self.on and weight else expr

    def mean(self) -> tuple:
        """J̄ = L̄ + R: the objective of a batch."""
        if not self.on:
            return ()
        return (Definition(J_mean, (L_mean + R,), "the loss the update minimises: R is the same for every sample, "
                                                  "so the mean of J is L̄ + R"),)

    @property
    def objective(self) -> sp.Symbol:
        return J_mean if self.on else L_mean


def penalty(training: Training | None, weight: sp.Symbol, squares: sp.Expr) -> Penalty:
    """The penalty of ``training`` on weights written ``weight``, Σ w² written ``squares``."""
    return Penalty(training, weight, squares)


def batch_mean(gradients: dict, per_sample: tuple, reg: Penalty | None = None) -> tuple:
    """L̄ and, for each parameter, ∂L̄/∂θ as the mean of the per-sample gradients (``per_sample``: the symbols
    that differ from sample to sample); with a penalty, J̄ = L̄ + R and its gradients too."""
    to_sample = {s: sample(s) for s in per_sample}
    on = reg is not None and reg.on
    steps = [Section("Mean over a batch of N samples"),
             Definition(L_mean, (BatchMean(sample(L)),), "the mean loss" if on else "the loss the update minimises")]
    for index, (parameter, gradient) in enumerate(gradients.items()):
        steps.append(Equation(Partial(L_mean, parameter), (BatchMean(relabel(gradient, to_sample)),),
                              "the derivative of a mean is the mean of the derivatives" if index == 0 else ""))
    if on:
        steps += [*reg.mean(), *(Equation(Partial(J_mean, p), (reg.gradient(p, Partial(L_mean, p)),))
                                 for p in gradients)]
    return tuple(steps)


def means(gradients: dict, per_sample: tuple, reg: Penalty | None = None) -> dict:
    """Each parameter's ∂J̄/∂θ (∂L̄/∂θ without a penalty) as the batch-mean section writes it."""
    to_sample = {s: sample(s) for s in per_sample}
    return {p: (reg.gradient(p, BatchMean(relabel(grad, to_sample))) if reg is not None
                else BatchMean(relabel(grad, to_sample))) for p, grad in gradients.items()}


def update_rule(parameters: tuple, weight: str, training: Training | None = None, gradients: dict | None = None,
                reg: Penalty | None = None) -> tuple:
    """θ ← θ − α·∂L̄/∂θ (∂J̄/∂θ with a penalty), or the optimizer's rules with g = ∂J̄/∂θ for each parameter
    (``gradients``: the derived forms to write after it); and why the step goes against the gradient."""
    training = training or default_training()
    objective = reg.objective if reg is not None else L_mean
    if training.plain:
        steps = [Section("Update rule"), *(Update(p, p - alpha * Partial(objective, p)) for p in parameters),
                 against_gradient(weight)]
        return tuple(steps + ([decay_note(parameters[0], objective)] if reg is not None and reg.on else []))
    entry = training.optimizer
    if entry.full_batch:
        return _full_batch(parameters, training, objective)
    gradients = gradients or {}
    steps = [Section(f"Update rule: {entry.title} ({entry.torch})"), _options_note(training)]
    for p in parameters:
        shown = (Partial(objective, p), gradients[p]) if p in gradients else (Partial(objective, p),)
        steps.append(Equation(g, shown, f"for θ = {_superscripts(p.name)}"))
    steps.append(Update(STEP, sp.Add(STEP, 1, evaluate=False)))
    slots = {slot.symbol for slot in entry.slots}
    for target, expr, why in _shown_rules(training):
        if target in slots or target in (theta, g):
            steps.append(Update(target, expr))
        else:
            steps.append(Definition(target, (expr,), why))
    return tuple(steps + optimizer_notes(training, parameters))


STEP = sp.Symbol("t", integer=True, positive=True)


def _shown_rules(training: Training) -> list:
    """(target, expression, why) of the rules that hold, d = 1 (a weight): a first-step rule and its later twin
    become one case expression; the penalty's λθ in g is left out, since g = ∂J̄/∂θ has it already."""
    out, rules = [], training.rules()
    for index, rule in enumerate(rules):
        if (rule.target == g and rule.expr.has(lam)) or "later" in rule.when:
            continue
        expr = _display(rule)
        if "first" in rule.when:
            later = next(r for r in rules[index + 1:] if r.target == rule.target and "later" in r.when)
            expr = sp.Piecewise((expr, sp.Eq(STEP, 1)), (_display(later), True))
        out.append((rule.target, expr, rule.why))
    return out


def _display(rule) -> sp.Expr:
    """The rule as a textbook writes it, for a weight (d = 1)."""
    return rule.shown if rule.shown is not None else rule.expr.xreplace({sp.Symbol("d", real=True): 1})


def _options_note(training: Training) -> Note:
    entry, values = training.optimizer, training.values
    shown = []
    for option in entry.options:
        value = values[option.name]
        if option.kind == "pair":
            shown += [(symbol, "=", sp.Float(v, 4)) for symbol, v in zip(option.symbols, value)]
        elif option.symbols:
            shown.append((option.symbols[0], "=", sp.Float(value, 4) if value else sp.Integer(0)))
    flags = [f"{o.name}={values[o.name]}" for o in entry.options if o.kind == "flag"]
    text = (f"{entry.title}, as {entry.torch} defines it, with " + ", ".join("{%d}" % i for i in range(len(shown)))
            + (f" ({', '.join(flags)})" if flags else "") + ". Each rule is applied to every parameter θ, "
            "each with its own state, 0 before the first step.")
    return Note(text, tuple(shown))


def _full_batch(parameters: tuple, training: Training, objective) -> tuple:
    """L-BFGS: the direction and the step, in words and symbols (scipy computes them)."""
    d = sp.Symbol("d_k", real=True)
    step = sp.Symbol("alpha_k", positive=True)
    return (Section(f"Update rule: {training.optimizer.title} ({training.optimizer.torch})"),
            Equation(d, (Times(-sp.Symbol("H_k"), Partial(objective, theta)),),
                     "the search direction, over all parameters θ at once"),
            Update(theta, sp.Add(theta, Times(step, d), evaluate=False)),
            *optimizer_notes(training, parameters))


def _superscripts(name: str) -> str:
    """'W^(l)' -> 'W⁽ˡ⁾', for words that name a layer's parameter."""
    head, _, layer = name.partition("^")
    return head + layer.translate(str.maketrans("()l0123456789+-", "⁽⁾ˡ⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻"))


def scaled(display: sp.Expr, factor: sp.Expr) -> sp.Expr:
    """``factor`` times an ordered product, merged into its leading number: (1/K)·2(a − y) reads (2/K)(a − y)."""
    if isinstance(display, Times) and display.args[0].is_number:
        return Times(display.args[0] * factor, *display.args[1:])
    if isinstance(display, sp.Mul):
        coefficient, rest = display.as_coeff_Mul()
        if coefficient != 1:
            return Times(coefficient * factor, rest)
    return Times(factor, display)
