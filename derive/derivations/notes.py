"""Notes in plain words, generated from the structure of a derivation rather than typed per pair.

The maths inside a note is SymPy (``Note(text, maths)``, ``{0}`` … marking where each piece goes), so every
format prints it as maths: Unicode in text, ``$…$`` in LaTeX, MathML in HTML. To add a note, add a function
here that builds one from the derivation's symbols.
"""
from __future__ import annotations

import sympy as sp

from derive.catalogue.symbols import L, L_mean, a, alpha, w_j, y, z
from derive.notation import Hadamard, MatProduct, Minus, Partial, Times, Transposed, named, times, value
from derive.steps import Note

SUPERSCRIPTS = "⁽⁾⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻ˡᴸⁿ"
PLAIN = str.maketrans(SUPERSCRIPTS, "()0123456789+-lLn")


def parameter_symbol(weight: str | sp.Symbol) -> sp.Symbol:
    """A parameter named in words as the symbol the printers know: 'w_j' -> w_j, 'W_ij⁽ˡ⁾' -> W_ij^(l)."""
    if isinstance(weight, sp.Basic):
        return weight
    name = weight.rstrip(SUPERSCRIPTS)
    layer = weight[len(name):].translate(PLAIN)
    return sp.Symbol(name + (f"^{layer}" if layer else ""), real=True)


def partial(weight: str | sp.Symbol) -> Note:
    """Why ∂L/∂weight isolates one weight's effect."""
    return Note(
        "Each factor is a partial derivative: it holds everything else fixed (the label, the inputs and every "
        "other weight) and asks how one quantity moves when one other moves. That is what isolates the effect "
        "of {0} alone, even though many weights affect the error.", (parameter_symbol(weight),))


def against_gradient(weight: str | sp.Symbol) -> Note:
    """Why the update goes against the gradient: w ← w − α·∂L̄/∂w."""
    w = parameter_symbol(weight)
    return Note(
        "The update moves each parameter against its gradient: where {0}, raising {1} would raise the loss, so "
        "{1} goes down, by an amount proportional to how steeply the loss depends on it. The learning rate {2} "
        "sets the step size.", ((Partial(L_mean, w), ">", sp.Integer(0)), w, alpha))


def decay_note(weight: str | sp.Symbol, objective: sp.Symbol) -> Note:
    """What weight decay does, in the update it makes: w ← w − α(∂L̄/∂w + λw) = (1 − αλ)w − α·∂L̄/∂w."""
    from derive.catalogue.optimizers import lam
    w = parameter_symbol(weight)
    return Note(
        "The penalty pulls every weight toward 0 in proportion to its size: {0} shrinks the weight by the factor "
        "{1} at every step, before the loss's own step. Large weights are pulled hardest, so the fit prefers many "
        "small weights to a few large ones. A bias is left free: it shifts the output, it does not scale an "
        "input, so it has no size to keep small.",
        ((w, "←", Minus(w, Times(alpha, Partial(objective, w))), "=",
          Minus(Times(Minus(1, Times(alpha, lam)), w), Times(alpha, Partial(L_mean, w)))), Minus(1, Times(alpha, lam))))


def optimizer_notes(training, parameters: tuple) -> list:
    """What each state variable of the rules shown does, then the optimizer's own notes (its registry entry)."""
    used = set().union(*(rule.expr.free_symbols | {rule.target} for rule in training.rules()))
    notes = [Note("{0}: " + slot.meaning + ".", (slot.symbol,)) for slot in training.optimizer.slots
             if slot.symbol in used]
    notes += [Note(text) for text in training.optimizer.notes]
    if training.weight_decay and not training.penalised:
        notes.append(Note("Weight decay λ = {0} acts on the weights only (biases are not decayed).",
                          (sp.Float(training.weight_decay, 4),)))
    return notes


def input_factor(input_symbol: sp.Symbol, parameter: str | sp.Symbol, pre_activation: sp.Symbol = z) -> Note:
    """Why the gradient is multiplied by the input: ∂z/∂w = x, for the pre-activation z that w feeds."""
    w = parameter_symbol(parameter)
    return Note(
        "The input {0} is a factor of {1} because {2}. It scales the update (a large input moves {3} a lot, which "
        "is why large inputs want a small {4}), reverses the update's sign when the input is negative, and stops "
        "it when the input is zero: an input that was 0 took no part in the error, so its weight is not blamed.",
        (input_symbol, Partial(L, w), (Partial(pre_activation, w), "=", input_symbol), w, alpha))


def folded_constant(dL_dz: sp.Expr, input_symbol: sp.Symbol) -> Note | None:
    """For ∂L/∂z = c·r with a constant c ≠ ±1, c is usually folded into α: w_j ← w_j − α·r·x_j.
    When r = a − y, r·x_j is Grokking Deep Learning's form."""
    coefficient, rest = split_constant(dL_dz)
    text, maths = [], []
    if coefficient not in (1, -1):
        text.append("The constant {0} is usually folded into the learning rate {1}, leaving {2}.")
        maths += [coefficient, alpha, (w_j, "←", Minus(w_j, times(alpha, *rest, input_symbol)))]
    if sp.expand(value(sp.Mul(*rest)) - (a - y)) == 0:
        text.append(f"The error times the input, {{{len(maths)}}}, is Grokking Deep Learning's "
                    "`direction_and_amount = (pred - goal_pred) * input`.")
        maths.append(times(*rest, input_symbol))
    return Note(" ".join(text), tuple(maths)) if text else None


def split_constant(expr: sp.Expr) -> tuple[sp.Expr, tuple]:
    """(c, (r₁, r₂, …)) with expr = c·r₁·r₂…, the factors kept in the order the derivation shows them."""
    if isinstance(expr, Times) and expr.args[0].is_Number:
        return expr.args[0], expr.args[1:]
    coefficient, rest = value(expr).as_coeff_Mul()
    return coefficient, (rest,)


# --- notes that read numbers: the worked example passes them in ---------------------------------------------------
def slope_factors(expr) -> list:
    """The factors of ``expr`` that depend on something, each up to its sign: a(1 − a) -> [a, a − 1]."""
    return [f for f in sp.Mul.make_args(sp.factor(value(expr))) if not f.is_number]


def shares(factor, factors) -> bool:
    return any(sp.expand(factor - g) == 0 or sp.expand(factor + g) == 0 for g in factors)


def activation_slope(lhs: sp.Expr, da_dz: sp.Expr, dL_dz: sp.Expr, slope_at: sp.Expr | None = None,
                     other: tuple | None = None) -> Note | None:
    """Whether the activation's slope ∂a/∂z cancels in ∂L/∂z or survives there, read from the factors of both.

    ``lhs`` is ∂a/∂z (∂p_k/∂z_k) as the head writes it; ``slope_at`` is its number at the worked example's
    point; ``other`` = (loss name, its ∂L/∂z, how many times smaller this step is than with that loss) names a
    loss that cancels it, when this one does not.
    """
    slope, error = slope_factors(da_dz), slope_factors(dL_dz)
    if not slope:
        return None   # a constant slope (the identity): nothing to cancel or keep
    kept = [f for f in slope if shares(f, error)]
    maths = [(lhs, "=", da_dz), (Partial(L, lhs.by), "=", dL_dz)]
    if not kept:
        return Note("The activation's slope {0} cancels against the loss's own derivative, leaving {1}: the error "
                    "signal is the error itself, so the step stays large where the activation is flat (a saturated "
                    "unit still learns).", tuple(maths))
    text = ("The activation's slope {0} " + ("survives" if len(kept) == len(slope) else "partly survives") +
            " in {1}: where the activation is flat, the step shrinks with it.")
    if slope_at is not None:
        text += f" Here it is {{{len(maths)}}}."
        maths.append((lhs, "=", slope_at))
    if other is not None:
        name, other_dL_dz, ratio = other
        text += (f" With {name}, whose derivative cancels it, the error signal would be {{{len(maths)}}}" +
                 (f"; this step is {{{len(maths) + 1}}} times that one." if ratio is not None else "."))
        maths.append((Partial(L, lhs.by), "=", other_dL_dz))
        if ratio is not None:
            maths.append(ratio)
    return Note(text, tuple(maths))


def shrinking_delta(hidden, largest: sp.Expr) -> Note:
    """δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾ᵀ δ⁽ˡ⁺¹⁾) ⊙ g'(z⁽ˡ⁾): each hidden layer scales δ by the weights and by g', which is at most
    ``largest`` (found from the entry, not typed): below 1, δ shrinks toward the input."""
    from derive.catalogue.symbols import layer
    slope = named(hidden.text + "'", hidden.latex + "'")
    recursion = (layer("delta", "l"), "=", Hadamard(MatProduct(Transposed(layer("W", "l+1")), layer("delta", "l+1")),
                                                    slope(layer("z", "l"))))
    bound = (sp.Abs(slope(z)), "≤", largest)
    if largest < 1:
        factor = sp.nsimplify(1 / largest, rational=True)
        return Note("Each hidden layer passes δ down as {0}: the next layer's δ, sent back through the weights, then "
                    "gated by the activation's slope, which is at most {1} over all z. So unless the weights make up "
                    "for it, δ shrinks by a factor of at least {2} per hidden layer on its way to the input, and the "
                    "first layers learn slowest.", (recursion, bound, factor if factor.q < 100 else 1 / largest))
    return Note("Each hidden layer passes δ down as {0}: the next layer's δ, sent back through the weights, then "
                "gated by the activation's slope, which is at most {1} over all z. So δ need not shrink: it does where "
                "units saturate or are switched off (a slope near 0), and it grows where the weights are large.",
                (recursion, bound))


def overshoot(step: int, weight: sp.Symbol, input_symbol: sp.Symbol, z_symbol: sp.Symbol, z_curvature: sp.Expr | None,
              numbers: tuple) -> Note:
    """The loss grew from ``step`` to ``step`` + 1: α times the curvature along ``weight`` is past 2.

    ∂²L/∂w² = x²·∂²L/∂z², since z is linear in w with slope x; one gradient step on w alone lands nearer the
    minimum of that quadratic only when α·∂²L/∂w² < 2. ``numbers`` = (α, x, ∂²L/∂z², α·x²·∂²L/∂z²) at the step.
    """
    from derive.derivations.example.display import SecondPartial
    lr, x, d2, product = numbers
    along_w, along_z = SecondPartial(L, weight), SecondPartial(L, z_symbol)
    maths = (weight, (along_w, "=", Times(input_symbol**2, along_z)), (Times(alpha, along_w), "<", sp.Integer(2)),
             (Times(alpha, input_symbol**2, along_z), "=", Times(lr, sp.Pow(x, 2, evaluate=False), d2), "=", product),
             (along_z, "=", z_curvature))
    return Note(f"The loss grew from step {step} to step {step + 1}: the update overshoots the minimum. Along {{0}} "
                "the loss curves by {1} (z is linear in the weight with the input as its slope, so the input enters "
                "squared), and one step of α·∂L/∂w lands nearer the minimum only when {2}. Here {3}, so each step "
                "lands farther on the other side and the error grows: a large input wants a small α." +
                (" For this head, {4}." if z_curvature is not None else ""), maths)
