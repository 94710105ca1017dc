"""One kernel module's source text, from a Derivation and its model's template.

The scalar pieces are printed from the derivation's own expressions after the stability rewrites; the loops
come from ``templates/<model>.tmpl``. Output depends on nothing but the registry, so it is byte-for-byte
reproducible.
"""
from __future__ import annotations

from importlib import resources
from string import Template

import sympy as sp

from derive.catalogue import ACTIVATIONS, LOSSES
from derive.catalogue.symbols import a, z
from derive.codegen.printer import SCALAR_FUNCTIONS, KernelPrinter, scalar_function
from derive.codegen.rewriting import stabilise

COMMAND = "python -m derive generate"
# forceinline: LLVM must inline the pieces into the loops, or the loops call them and do not vectorise (≈10×)
DECORATOR = '@njit(cache=True, fastmath=_FASTMATH, error_model="numpy", forceinline=True)'


def template(name: str) -> Template:
    return Template(resources.files("derive.codegen").joinpath("templates", f"{name}.tmpl").read_text("utf-8"))


def header(entries: str, command: str = COMMAND) -> str:
    return template("header").substitute(command=command, entries=entries).rstrip("\n")


def label_spec(labels) -> str:
    """The loss's label set as the tuple generated/_validate.labels() reads."""
    values = labels.values
    if values in (sp.Naturals0, sp.Naturals):
        return '("classes",)'
    if values == sp.Reals:
        return '("real",)'
    if isinstance(values, sp.FiniteSet):
        return f'("set", ({", ".join(repr(float(v)) for v in sorted(values))}))'
    bound = lambda v: "math.inf" if v == sp.oo else "-math.inf" if v == -sp.oo else repr(float(v))
    return f'("interval", {bound(values.inf)}, {bound(values.sup)})'


def stable_loss(activation_expr: sp.Expr, loss_expr: sp.Expr) -> sp.Expr:
    """L(f(z), y) rewritten for stability; wherever f(z) survives whole, it is read back as a."""
    stable_activation = stabilise(activation_expr)
    composed = stabilise(loss_expr.xreplace({a: activation_expr}))
    return composed.xreplace({stable_activation: a}) if stable_activation != z else composed.xreplace({z: a})


def scalar_pieces(activation_expr, loss_expr, delta_expr, printer: KernelPrinter, suffix: str = "") -> str:
    """_activation(z), _loss(z, a, y) and _delta(z, a, y) = ∂L/∂z, as jitted functions."""
    return "\n\n".join([
        scalar_function(f"_activation{suffix}", ("z",), stabilise(activation_expr), f"a = {activation_expr}",
                        printer, DECORATOR),
        scalar_function(f"_loss{suffix}", ("z", "a", "y"), stable_loss(activation_expr, loss_expr),
                        f"L = {loss_expr}, computed stably", printer, DECORATOR),
        scalar_function(f"_delta{suffix}", ("z", "a", "y"), stabilise(delta_expr), f"∂L/∂z = {delta_expr}",
                        printer, DECORATOR),
    ])


def expressions(act, loss, hidden=None) -> str:
    """The module's EXPRESSIONS: f(z), L(a, y) (and g(z)) as SymPy text, for verification of any module."""
    found = {"activation": sp.sstr(act.expr), "loss": sp.sstr(loss.expr)}
    if hidden is not None:
        found["hidden"] = sp.sstr(hidden.expr)
    return "{" + ", ".join(f"{k!r}: {v!r}" for k, v in found.items()) + "}"


def libm_pieces(pieces) -> str:
    """The pieces for the per-sample loop: libm forms where a function differs, else the same functions."""
    vector = scalar_pieces(pieces["activation"], pieces["loss"], pieces["dL_dz"], KernelPrinter())
    libm = scalar_pieces(pieces["activation"], pieces["loss"], pieces["dL_dz"], KernelPrinter(SCALAR_FUNCTIONS),
                         suffix="_1")
    if libm.replace("_1(", "(") == vector:
        return "# (no function here has a libm form, so the per-sample loop uses the same pieces)\n" \
               "_activation_1, _loss_1, _delta_1 = _activation, _loss, _delta"
    return libm


def neuron_source(spec, derivation, act, loss, hidden, command) -> str:
    printer = KernelPrinter()
    pieces = derivation.pieces
    return template("neuron").substitute(
        header=header(spec.entries, command), title=f"{spec.name}: {act.description}; {loss.description}",
        activation=spec.activation, loss=spec.loss, labels=label_spec(loss.labels),
        expressions=expressions(act, loss), activation_formula=sp.sstr(act.expr), loss_formula=sp.sstr(loss.expr),
        delta_formula=sp.sstr(pieces["dL_dz"]),
        pieces=scalar_pieces(pieces["activation"], pieces["loss"], pieces["dL_dz"], printer),
        scalar_pieces=libm_pieces(pieces))


def softmax_delta(delta_expr, printer: KernelPrinter) -> str:
    """_delta(p, t) = ∂L/∂z_k with p = p_k and t = y_k (the one-hot label), from the derivation."""
    p, t = sp.Symbol("p", real=True), sp.Symbol("t", real=True)
    expr = delta_expr.xreplace({sp.Symbol("p_k", real=True): p, sp.Symbol("y_k", real=True): t})
    return scalar_function("_delta", ("p", "t"), expr, f"∂L/∂z_k = {delta_expr}", printer, DECORATOR)


def softmax_source(spec, derivation, act, loss, hidden, command) -> str:
    printer = KernelPrinter()
    return template("softmax").substitute(
        header=header(spec.entries, command), title=f"{spec.name}: softmax regression with cross-entropy",
        delta_formula=sp.sstr(derivation.pieces["dL_dz"]),
        pieces=softmax_delta(derivation.pieces["dL_dz"], printer),
        softmax_head=template("softmax_head").template.rstrip("\n"))


def mlp_source(spec, derivation, act, loss, hidden, command) -> str:
    printer = KernelPrinter()
    pieces = derivation.pieces
    hidden_pieces = "\n\n".join([
        scalar_function("_hidden", ("z",), stabilise(pieces["hidden_activation"]),
                        f"g(z) = {pieces['hidden_activation']}", printer, DECORATOR),
        scalar_function("_hidden_derivative", ("z", "a"), stabilise(pieces["hidden_derivative"]),
                        f"g'(z) = {pieces['hidden_derivative']}, with a = g(z)", printer, DECORATOR)])
    if act.vector:
        head_pieces, head = softmax_delta(pieces["dL_dz"], printer), template("softmax_head").template
        head_formula, n_outputs = "p = softmax(z⁽ᴸ⁾), L = log Σ_k e^(z_k) − z_y", "None"
    else:
        head_pieces = scalar_pieces(pieces["activation"], pieces["loss"], pieces["dL_dz"], printer)
        head, n_outputs = template("scalar_head").template, "1"
        head_formula = f"a = {sp.sstr(act.expr)},  L = {sp.sstr(loss.expr)}"
    return template("mlp").substitute(
        header=header(spec.entries, command),
        title=f"{spec.name}: an MLP with {spec.hidden} hidden layers and a {spec.activation} + {spec.loss} head",
        hidden=spec.hidden, activation=spec.activation, loss=spec.loss, labels=label_spec(loss.labels),
        expressions=expressions(act, loss, hidden),
        n_outputs=n_outputs, init=hidden.init, head_formula=head_formula,
        label_dtype="np.int64" if act.vector else "np.float64",
        delta_formula=sp.sstr(pieces["dL_dz"]), hidden_derivative_formula=sp.sstr(pieces["hidden_derivative"]),
        pieces=hidden_pieces + "\n\n" + head_pieces, head=head.rstrip("\n"))


SOURCES = {"neuron": neuron_source, "softmax": softmax_source, "mlp": mlp_source}


def module_source(spec, derivation=None, entries=None, command: str = COMMAND) -> str:
    """The source of ``spec``'s module. ``derivation`` and ``entries`` (activation, loss, hidden) default to the
    registry's; ``derive.compile`` passes its own for custom expressions."""
    if entries is None:
        entries = (ACTIVATIONS[spec.activation], LOSSES[spec.loss], ACTIVATIONS[spec.hidden] if spec.hidden else None)
    if derivation is None:
        from derive.derivation import derivation as derive_it
        derivation = derive_it(spec.activation, spec.loss, spec.model, hidden=spec.hidden)
    return SOURCES[spec.model](spec, derivation, *entries, command)


__all__ = ["COMMAND", "module_source"]
