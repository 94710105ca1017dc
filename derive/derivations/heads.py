"""The output layer's error signal ∂L/∂z for each head span, worked rule by rule and proven equal to sympy.diff.

- elementwise: ∂L/∂a and ∂a/∂z of one output, put in textbook form and multiplied into ∂L/∂z;
- softmax: ∂L/∂p_i and ∂p_i/∂z_k by the rules, turned into probabilities, then summed over i with SymPy's
  Kronecker algebra and the one-hot identity Σ_i y_i = 1 that the span declares: p_k − y_k comes out of the
  sum, and is checked against sympy.diff of the composed loss on three classes.

``derive_head`` is cached per (activation, loss): the neuron, softmax regression and every MLP share it.
To add a span, add its function to ``BY_SPAN``.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

import sympy as sp

from derive.catalogue.heads import SPANS
from derive.catalogue.symbols import K, L, P, Y, Z, a, i, k, others_k, p_i, p_k, y_i, y_k, z, z_i, z_k
from derive.notation import Partial, Times, value
from derive.presenter import arrange_product, assert_same, simplest
from derive.rules import differentiate
from derive.sampling import head_points
from derive.steps import Equation, LocalDerivative


@dataclass(frozen=True)
class HeadDerivation:
    """∂L/∂z of one output (``delta``, plain SymPy in a or p, y, z), its display form, and the steps."""

    delta: sp.Expr
    dL_dz: sp.Expr                 # display form (ordered product)
    steps: tuple
    pieces: MappingProxyType       # what the code generator prints


def _elementwise(activation, loss) -> HeadDerivation:
    points = head_points(activation, loss)
    in_z = {a: activation.expr}
    loss_tree = differentiate(loss.expr, a)
    dL_da = loss.derivative if loss.derivative is not None else simplest(loss_tree.result)
    assert_same(dL_da, loss_tree.result, points)
    act_tree = differentiate(activation.expr, z)
    da_dz = activation.derivative if activation.derivative is not None else simplest(act_tree.result)
    assert_same(da_dz.subs(in_z), act_tree.result, points)
    dL_dz = arrange_product(dL_da, da_dz)
    assert_same(dL_dz.doit().subs(in_z), sp.diff(loss.expr.subs(in_z), z), points)
    uses_a = a in da_dz.free_symbols
    steps = (
        LocalDerivative(Partial(L, a), loss_tree, dL_da, "simplified" if dL_da != loss_tree.result else "",
                        loss.kink_note),
        LocalDerivative(Partial(a, z), act_tree, da_dz,
                        f"written with a = {activation.text}(z)" if uses_a else
                        ("simplified" if da_dz != act_tree.result else ""), activation.kink_note),
        Equation(Partial(L, z), (Times(Partial(L, a), Partial(a, z)), Times(dL_da, da_dz), dL_dz),
                 "chain rule, then the local derivatives, then cancel what cancels"),
    )
    pieces = {"activation": activation.expr, "activation_derivative": da_dz, "loss": loss.expr,
              "loss_derivative": dL_da, "dL_dz": value(dL_dz)}
    return HeadDerivation(value(dL_dz), dL_dz, steps, MappingProxyType(pieces))


_S = sp.Symbol("S", positive=True)  # the softmax denominator Σ_i e^(z_i)
_INDEXED = {p_i: P[i], p_k: P[k], y_i: Y[i], y_k: Y[k]}
_SYMBOLS = {v: s for s, v in _INDEXED.items()}


def _as_probabilities(tree) -> sp.Expr:
    """A rule tree's result over e^(z_k)/(e^(z_k) + others) written with p_k = e^(z_k)/S and p_i = e^(z_i)/S."""
    result = tree.result.subs(sp.exp(z_k) + others_k, _S).subs({sp.exp(z_k): p_k * _S, sp.exp(z_i): p_i * _S})
    factored = sp.factor(sp.cancel(result))
    return arrange_product(factored, prediction=p_k) if any(f.is_Add for f in sp.Mul.make_args(factored)) \
        else factored


def _softmax(activation, loss) -> HeadDerivation:
    span = SPANS[activation.span]
    loss_term = -y_i * sp.log(p_i)
    loss_tree = differentiate(loss_term, p_i)
    same_tree = differentiate(sp.exp(z_k) / (sp.exp(z_k) + others_k), z_k)
    other_tree = differentiate(sp.exp(z_i) / (sp.exp(z_k) + others_k), z_k)
    dL_dp, same, other = loss_tree.result, _as_probabilities(same_tree), _as_probabilities(other_tree)
    jacobian = p_i * (sp.KroneckerDelta(i, k) - p_k)  # both cases at once: checked against each below
    for case, form in ((same, jacobian.subs(i, k).subs(p_i, p_k)), (other, jacobian.subs(sp.KroneckerDelta(i, k), 0))):
        assert sp.simplify(value(case) - form) == 0, (case, form)
    summand = sp.expand(dL_dp * jacobian).xreplace(_INDEXED)
    summed = sp.Sum(summand, (i, 1, K)).doit()
    summed = sp.piecewise_fold(summed).replace(lambda e: e == sp.GreaterThan(K, k), lambda e: sp.true)  # k ≤ K
    summed = summed.replace(lambda e: isinstance(e, sp.Sum), sp.factor_terms)  # Σ_i p_k y_i = p_k Σ_i y_i
    label_sum = sp.solve(span.constraint, sp.Sum(Y[i], (i, 1, K)))[0]  # Σ_i y_i = 1
    delta = sp.expand(summed.subs(sp.Sum(Y[i], (i, 1, K)), label_sum)).xreplace(_SYMBOLS)
    _check_softmax(activation, loss, delta)
    dL_dz = arrange_product(delta, prediction=p_k)
    steps = (
        LocalDerivative(Partial(L, p_i), loss_tree, dL_dp, "only the i-th term of the sum contains p_i"),
        LocalDerivative(Partial(p_k, z_k), same_tree, same, "with p_k = e^(z_k)/Σ_i e^(z_i)"),
        LocalDerivative(Partial(p_i, z_k), other_tree, other, "for i ≠ k, with p_i = e^(z_i)/Σ_m e^(z_m)"),
        Equation(Partial(p_i, z_k), (jacobian,), "both cases at once: δ_ik is 1 if i = k, else 0"),
        Equation(Partial(L, z_k), (
            sp.Sum(Times(dL_dp, jacobian), (i, 1, K)),
            sp.Sum(sp.expand(dL_dp * jacobian), (i, 1, K)),
            summed.xreplace(_SYMBOLS),
            dL_dz), "the p_i cancel; then Σ_i y_i δ_ik = y_k and Σ_i y_i = 1 (one-hot label)"),
    )
    pieces = {"loss": span.stable_loss, "dL_dz": delta}
    return HeadDerivation(delta, dL_dz, steps, MappingProxyType(pieces))


def _check_softmax(activation, loss, delta, classes: int = 3, seed: int = 0) -> None:
    """``delta`` (in p_k, y_k) equals sympy.diff of the catalogue's composed loss on ``classes`` classes."""
    probabilities = {P[c]: activation.expr.subs({K: classes, k: c}).doit() for c in range(1, classes + 1)}
    composed = loss.expr.subs(K, classes).doit().xreplace(probabilities)
    plain = {**{Z[c]: sp.Symbol(f"z{c}", real=True) for c in range(1, classes + 1)},
             **{Y[c]: sp.Symbol(f"y{c}", real=True) for c in range(1, classes + 1)}}
    rng = random.Random(seed)
    points = []
    for _ in range(6):
        true = rng.randrange(1, classes + 1)
        points.append({**{plain[Z[c]]: rng.uniform(-3, 3) for c in range(1, classes + 1)},
                       **{plain[Y[c]]: float(c == true) for c in range(1, classes + 1)}})
    for c in range(1, classes + 1):
        shown = delta.xreplace({p_k: probabilities[P[c]], y_k: Y[c]})
        assert_same(shown.xreplace(plain), sp.diff(composed, Z[c]).xreplace(plain), points)


BY_SPAN = MappingProxyType({"elementwise": _elementwise, "softmax": _softmax})


@lru_cache(maxsize=256)
def derive_head(activation, loss) -> HeadDerivation:
    """Worked once per (activation, loss)."""
    return BY_SPAN[activation.span](activation, loss)
