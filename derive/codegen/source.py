"""One kernel module's source text, from a Derivation, its entries, and its model's template parts.

The stubs are printed from the derivation's own expressions after the stability rewrites; the loops come from
the parts in ``templates/`` (``assemble``). Only registry names and SymPy's printing reach the text, never what
a user typed, and the output depends on nothing but the registry and the hand-written helpers (whose digest
each module carries, so numba's cache of a module changes when a helper it compiles in changes).
"""
from __future__ import annotations

import ast
import textwrap

import sympy as sp

from derive.catalogue import ACTIVATIONS, LOSSES, SPANS
from derive.catalogue.functions import row_cost
from derive.catalogue.symbols import a, p_k, y_k, z
from derive.codegen.assemble import import_lines, reachable, read_part, unique
from derive.codegen.helpers import helpers_digest
from derive.codegen.printer import IMPORTS, SCALAR_FUNCTIONS, KernelPrinter, scalar_function
from derive.codegen.rewriting import name_functions, stabilise

COMMAND = "python -m derive generate"
# forceinline: LLVM must inline the pieces into the loops, or the loops call them and do not vectorise (≈10×)
DECORATOR = '@njit(cache=True, fastmath=_FASTMATH, error_model="numpy", forceinline=True)'
NS_PER_MAC = 0.2   # one multiply-add of the z pass, the unit of _ROW_COST
RULE = "# " + "-" * 64


def label_spec(labels) -> str:
    """The loss's label set as the tuple derive/kernels/_validate.labels() reads."""
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
    activation_expr = name_functions(activation_expr)
    stable_activation = stabilise(activation_expr)
    composed = stabilise(name_functions(loss_expr).xreplace({a: activation_expr}))
    return composed.xreplace({stable_activation: a}) if stable_activation != z else composed.xreplace({z: a})


def stable_delta(activation_expr: sp.Expr, delta_expr: sp.Expr) -> sp.Expr:
    """∂L/∂z (or g'(z)) as printed: in a, z and y as the derivation writes it, unless a rewrite fires only once
    a = f(z) is put in (σ(z)/softplus(z) in log space, e^z·σ(−z) = σ(z) …); then that composition, stabilised,
    with f(z) read back as a where it survives (``stable_loss``)."""
    plain = stabilise(name_functions(delta_expr))
    if a not in plain.free_symbols:
        return plain
    composed = stable_loss(activation_expr, delta_expr)
    activation = stabilise(name_functions(activation_expr))
    return plain if composed.xreplace({a: activation}) == plain.xreplace({a: activation}) else composed


def _function(name, params, expr, doc, printer) -> str:
    return scalar_function(name, params, expr, doc, printer, DECORATOR).rstrip("\n")


def elementwise_stubs(pieces, printers) -> tuple[dict, str]:
    """_activation, _loss, _delta (vectorisable) and their libm forms; the pieces' cost in multiply-adds."""
    delta = stable_delta(pieces["activation"], pieces["dL_dz"])
    composed = ", computed stably" if delta != stabilise(name_functions(pieces["dL_dz"])) else ""
    forms = {"_activation": (("z",), stabilise(name_functions(pieces["activation"])), f"a = {pieces['activation']}"),
             "_loss": (("z", "a", "y"), stable_loss(pieces["activation"], pieces["loss"]),
                       f"L = {pieces['loss']}, computed stably"),
             "_delta": (("z", "a", "y"), delta, f"∂L/∂z = {pieces['dL_dz']}{composed}")}
    vector, libm = printers
    stubs = {name: _function(name, params, expr, doc, vector) for name, (params, expr, doc) in forms.items()}
    scalar = {f"{name}_1": _function(f"{name}_1", params, expr, doc, libm) for name, (params, expr, doc) in forms.items()}
    for name in forms:
        same = scalar[f"{name}_1"].replace(f"{name}_1(", f"{name}(") == stubs[name]
        stubs[f"{name}_1"] = f"{name}_1 = {name}  # no function here has a libm form" if same else scalar[f"{name}_1"]
    cost = sum(row_cost(expr) for _, expr, _ in forms.values())
    return stubs, str(max(1, round(cost / NS_PER_MAC)))


def softmax_stubs(pieces, printer) -> dict:
    """_delta(p, t) = ∂L/∂z_k with p = p_k and t = y_k (the one-hot label), from the derivation."""
    p, t = sp.Symbol("p", real=True), sp.Symbol("t", real=True)
    delta = pieces["dL_dz"].xreplace({p_k: p, y_k: t})
    return {"_delta": _function("_delta", ("p", "t"), delta, f"∂L/∂z_k = {pieces['dL_dz']}", printer)}


def hidden_stubs(hidden, derivative, printer) -> dict:
    return {"_hidden": _function("_hidden", ("z",), stabilise(name_functions(hidden.expr)),
                                 f"g(z) = {hidden.expr}", printer),
            "_hidden_derivative": _function("_hidden_derivative", ("z", "a"), stable_delta(hidden.expr, derivative),
                                            f"g'(z) = {derivative}, with a = g(z)", printer)}


def _expressions(act, loss, hidden) -> str:
    found = {"activation": sp.sstr(act.expr), "loss": sp.sstr(loss.expr)}
    if hidden is not None:
        found["hidden"] = sp.sstr(hidden.expr)
    return "{" + ", ".join(f"{k!r}: {v!r}" for k, v in found.items()) + "}"


def _docstring(spec, model, span, pieces, act, loss, hidden) -> str:
    lines = [*textwrap.wrap(f"{spec.name}: {model.description}; {span.description}", 110), ""]
    if hidden is not None:
        lines.append(f"    hidden layers:  a = g(z) = {sp.sstr(hidden.expr)},   g'(z) = {sp.sstr(pieces['hidden_derivative'])}")
    if act.span == "elementwise":
        lines += [f"    output:  a = f(z) = {sp.sstr(act.expr)}", f"    loss:    L = {sp.sstr(loss.expr)}"]
    else:
        lines += [f"    output:  p = softmax(z),   loss:  L = −log p_y = {sp.sstr(span.stable_loss)}"]
    lines += [f"    ∂L/∂z = {sp.sstr(pieces['dL_dz'])}   (per output; the mean over the batch is minimised)", "",
              *textwrap.wrap(f"params: {model.parameters}, float64. Labels: {span.label_shape}.", 110),
              "init, predict, loss, loss_and_gradient, gradient, step and fit are the shared public API",
              "(derive/kernels/_api.py). ``core`` holds the compiled entry points for your own numba code:",
              "core.loss_and_gradient(theta, widths, X, Y, grad, threads) -> mean loss, with theta the flat",
              "parameters (W1, b1, …), widths int64 (n_features, …, K), Y 2-D and threads None; BLAS must run on",
              "one thread around them (derive.kernels._threads.one_blas_thread())."]
    return '"""' + "\n".join(lines) + '\n"""'


def _join(pieces) -> str:
    """Statements as a module lays them out: two blank lines around a definition, none between constants."""
    out = []
    for previous, piece in zip([None, *pieces], pieces):
        definition = piece.source.lstrip().startswith(("@", "def ", "class ", "#"))
        out.append(piece.source if previous is None else
                   ("\n\n\n" if definition or previous.source.lstrip().startswith(("@", "def ", "class "))
                    else "\n") + piece.source)
    return "".join(out)


def module_source(spec, derivation=None, entries=None, command: str = COMMAND) -> str:
    """The source of ``spec``'s module. ``derivation`` and ``entries`` (activation, loss, hidden) default to the
    registry's; ``derive.compile`` passes its own for custom expressions."""
    from derive.models import MODELS

    if entries is None:
        entries = (ACTIVATIONS[spec.activation], LOSSES[spec.loss], ACTIVATIONS[spec.hidden] if spec.hidden else None)
    act, loss, hidden = entries
    if derivation is None:
        from derive.derivations import derivation as derive_it
        derivation = derive_it(spec.activation, spec.loss, spec.model, hidden=spec.hidden)
    model, span, pieces = MODELS[spec.model], SPANS[act.span], derivation.pieces
    printers = (KernelPrinter(), KernelPrinter(SCALAR_FUNCTIONS))
    stubs = {}
    constants = {"MODEL": repr(model.name), "LAYOUT": repr(model.layout), "ACTIVATION": repr(spec.activation),
                 "LOSS": repr(spec.loss), "LABELS": label_spec(loss.labels),
                 "EXPRESSIONS": _expressions(act, loss, hidden), "HIDDEN": repr(spec.hidden),
                 "INIT": repr(hidden.init if hidden is not None else "glorot")}
    if act.span == "elementwise":
        element_stubs, constants["_ROW_COST"] = elementwise_stubs(pieces, printers)
        stubs.update(element_stubs)
    else:
        stubs.update(softmax_stubs(pieces, printers[0]))
    if hidden is not None:
        stubs.update(hidden_stubs(hidden, pieces["hidden_derivative"], printers[0]))
    imports = {".": {("_api", None)}, "": {("sys", None)}}
    for module in printers[0].used | printers[1].used:
        statement = ast.parse(IMPORTS[module]).body[0]
        key = "" if isinstance(statement, ast.Import) else "."
        imports.setdefault(key, set()).update((n.name, n.asname) for n in statement.names)
    body = reachable(unique([piece for part in model.template(span)
                             for piece in read_part(part, stubs, constants, imports)]))
    text = _join(body)
    binding = "init, predict, loss, loss_and_gradient, gradient, step, fit = _api.public(sys.modules[__name__])"
    used = {n.id for n in ast.walk(ast.parse(text + "\n" + binding)) if isinstance(n, ast.Name)}
    header = (f"# Generated by `{command}` from the registry entries {spec.entries}.\n"
              "# Do not edit by hand: change derive/ and regenerate (scripts/regenerate_kernels.py runs the same "
              "function).")
    source = "\n".join([
        header, _docstring(spec, model, span, pieces, act, loss, hidden),
        *import_lines(imports, used), "",
        f'_HELPERS = "{helpers_digest()}"  # the hand-written helpers this module compiles in (see source.py)',
        "", "", text, "", "",
        f"{RULE} the public API, shared by every module (derive/kernels/_api.py)", binding, ""])
    ast.parse(source)  # a module that does not parse is a bug here, never a user's to meet
    return source


__all__ = ["COMMAND", "module_source"]
