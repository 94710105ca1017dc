"""``generated/_optim.py`` from the optimizer registry: its table, and one compiled update per optimizer.

Each optimizer's rules (``derive/catalogue/optimizers.py``) become one loop over the parameters: the gradient
g = scale·grad, the state slots read, every rule as an assignment under its conditions (an option that is not 0,
``first``: t = 1), the slots written back. What does not change from one parameter to the next (1 − β₁ᵗ,
1 − β₁, −α) is computed once, before the loop. ``update`` dispatches on the kind; nothing is allocated.
"""
from __future__ import annotations

import functools
import pprint

import sympy as sp

from derive.catalogue.optimizers import OPTIMIZERS, g, table, theta
from derive.catalogue.symbols import alpha
from derive.codegen.printer import KernelPrinter

COMMAND = "python -m derive generate"
FILE = "_optim.py"
JIT = '@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")'
# symbols whose names are not good (or legal) Python: the parameter, λ, the learning rate
CODE_NAMES = {theta: "p", sp.Symbol("lambda", nonnegative=True): "lam", alpha: "lr"}

DOC = '''"""The update step every kernel calls, generated from the optimizer registry (derive/catalogue/optimizers.py).

    optimizer = (kind, hyper, state, count, decay, step) the seam an optimizer plugs into
      kind   int: which optimizer (its number in OPTIMIZERS)
      hyper  float64 array: its scalar hyper-parameters, in the order OPTIMIZERS[name]["hyper"] lists them
      state  float64 array (slots, P): per-parameter state (OPTIMIZERS[name]["slots"]), carried between calls
      count  int64 array (1,): the number of updates taken, t (bias corrections and the first momentum step)
      decay  float64 array (P,): 1 where weight decay applies (weights), 0 where it does not (biases)
      step   int64 array (2,): the addresses of the optimizer's compiled step (``address(kind)``)

``update(theta, grad, scale, lr, optimizer)`` takes one step on the mean gradient scale·grad, in place, and
returns the L2 penalty (λ/2)·Σ d·θ² before it when the decay is coupled (0 otherwise), for the loss history.
The options are checked by ``_options.resolve``; the state is made by ``_training.State``.
"""'''


def _code(symbol: sp.Symbol) -> sp.Symbol:
    return sp.Symbol(CODE_NAMES.get(symbol, symbol.name))


def _hyper_names(entry) -> dict:
    """option name -> (code variable, index in hyper); a pair gives one variable per symbol."""
    out, index = {}, 0
    for option in entry.options:
        if option.kind == "pair":
            for position, symbol in enumerate(option.symbols):
                out[f"{option.name}[{position}]"] = (_code(symbol).name, index)
                index += 1
        elif option.kind in ("number", "flag"):
            out[option.name] = (_code(option.symbols[0]).name if option.symbols else option.name, index)
            index += 1
    return out


class _Hoist:
    """Subexpressions that depend only on step-level symbols (hyper-parameters, t, lr), named h0, h1, …"""

    def __init__(self, scalars: set):
        self.scalars, self.found = scalars, {}

    def __call__(self, expr: sp.Expr) -> sp.Expr:
        if expr.is_Atom:
            return expr
        if expr.free_symbols <= self.scalars:
            return self.name(expr)
        if isinstance(expr, (sp.Add, sp.Mul)):
            fixed = [arg for arg in expr.args if arg.free_symbols <= self.scalars]
            rest = [self(arg) for arg in expr.args if not arg.free_symbols <= self.scalars]
            if len(fixed) > 1 or (fixed and not fixed[0].is_Atom):
                fixed = [self.name(expr.func(*fixed))]
            return expr.func(*fixed, *rest, evaluate=False)
        return expr.func(*(self(arg) for arg in expr.args))

    def name(self, expr: sp.Expr) -> sp.Symbol:
        if expr.is_Number or (expr.is_Mul and len(expr.args) == 2 and expr.args[0] == -1 and expr.args[1].is_Atom):
            return expr   # −lr, 1.0: nothing to save
        if expr not in self.found:
            self.found[expr] = sp.Symbol(f"h{len(self.found)}")
        return self.found[expr]


def _condition(when: tuple, hyper: dict) -> str:
    parts = []
    for condition in when:
        negated, name = condition.startswith("not "), condition.removeprefix("not ")
        if name in ("first", "later"):
            parts.append("t == 1.0" if (name == "first") != negated else "t > 1.0")
        else:
            parts.append(f"{hyper[name][0]} {'==' if negated else '!='} 0.0")
    return " and ".join(parts)


def _function(entry, printer: KernelPrinter) -> list[str]:
    """The loop of one optimizer: ``_<name>(theta, grad, scale, lr, hyper, state, t, decay)`` -> Σ d·θ²."""
    hyper = _hyper_names(entry)
    slots = [_code(slot.symbol).name for slot in entry.slots]
    scalars = {sp.Symbol(code) for code, _ in hyper.values()} | {sp.Symbol("t"), sp.Symbol("lr")}
    hoist = _Hoist(scalars)
    rules = [(_code(rule.target).name, hoist(rule.expr.xreplace({s: _code(s) for s in rule.expr.free_symbols})),
              rule) for rule in entry.rules]
    locals_ = sorted({target for target, _, _ in rules} - {"p", "g", *slots})
    lines = [JIT, f"def _{entry.name}(theta, grad, scale, lr, hyper, state, t, decay):",
             f'    """{entry.title} ({entry.torch}) on every parameter, in place; returns the coupled L2 penalty '
             f'(λ/2)·Σ d·θ² before the step (0 when the decay is decoupled or absent)."""']
    lines += [f"    {code} = hyper[{index}]" for code, index in sorted(hyper.values(), key=lambda pair: pair[1])]
    lines += [f"    {name} = {printer.doprint(expr)}" for expr, name in hoist.found.items()]
    lines += ["    squares = 0.0", "    for i in range(theta.shape[0]):",
              "        p = theta[i]", "        d = decay[i]", f"        {_code(g).name} = scale * grad[i]"]
    lines += [f"        {slot} = state[{index}, i]" for index, slot in enumerate(slots)]
    lines += [f"        {name} = 0.0" for name in locals_]
    lines.append("        squares += d * p * p")
    for target, expr, rule in rules:
        statement = f"{target} = {printer.doprint(expr)}" + (f"  # {rule.why}" if rule.why else "")
        if rule.when:
            lines += [f"        if {_condition(rule.when, hyper)}:", f"            {statement}"]
        else:
            lines.append(f"        {statement}")
    lines.append("        theta[i] = p")
    lines += [f"        state[{index}, i] = {slot}" for index, slot in enumerate(slots)]
    if entry.decay == "coupled":
        lam = _hyper_names(entry)["weight_decay"][1]
        return lines + [f"    return 0.5 * hyper[{lam}] * squares"]
    return lines + ["    return 0.0"]


def _update(entries) -> list[str]:
    """``update``: one step by the function the optimizer tuple addresses, so a loop compiled once serves every
    optimizer and a run compiles only the optimizer it uses (``address`` finds it on first need)."""
    names = ", ".join(f"_{entry.name}" for entry in entries)
    return [f"STEPS = ({names},)   # by kind", "_ADDRESSES = {}", "", "",
            "def address(kind):",
            '    """The (cfunc wrapper, jit entry) addresses of optimizer ``kind``\'s step, compiled on first need."""',
            "    if kind not in _ADDRESSES:",
            "        _ADDRESSES[kind] = _fc.addresses((STEPS[kind], _fc.STEP))",
            "    return _ADDRESSES[kind]", "", "",
            JIT, "def update(theta, grad, scale, lr, optimizer):",
            '    """One step on the mean gradient scale·grad, in place; counts it. Returns the coupled L2 penalty '
            'before it."""',
            "    kind, hyper, state, count, decay, step = optimizer", "    count[0] += 1",
            "    return _fc.step_at(step[0], step[1], step)(theta, grad, scale, lr, hyper, state, "
            "float(count[0]), decay)"]


@functools.lru_cache(maxsize=None)
def optim_source(command: str = COMMAND) -> str:
    """The text of ``generated/_optim.py``."""
    printer = KernelPrinter()
    entries = [entry for entry in OPTIMIZERS.values() if not entry.full_batch]
    names = " ".join(f"optimizer={name}" for name in OPTIMIZERS)
    header = (f"# Generated by `{command}` from the registry entries {names}.\n"
              "# Do not edit by hand: change derive/catalogue/optimizers.py and regenerate.")
    data = ["OPTIMIZERS = " + pprint.pformat(table(), width=116, sort_dicts=False),
            "\n".join(f"{name.upper()} = {entry['kind']}" for name, entry in table().items()),
            '_FASTMATH = {"reassoc", "contract", "nsz"}  # never nnan or ninf']
    functions = ['def plain(size):\n    """Plain SGD on ``size`` parameters: every option at its default (no momentum, '
                 'no decay)."""\n    entry = OPTIMIZERS["sgd"]\n'
                 '    return (SGD, np.zeros(len(entry["hyper"])), np.zeros((len(entry["slots"]), size)), '
                 'np.zeros(1, dtype=np.int64),\n            np.zeros(size), address(SGD))']
    functions += ["\n".join(_function(entry, printer)) for entry in entries]
    functions.append("\n".join(_update(entries)))
    assert printer.used <= {"math"}, printer.used
    imports = ("import math\n\n" if printer.used else "") + "import numpy as np\nfrom numba import njit\n\n" \
        "from . import _first_class as _fc\n\n" \
        '_DEPENDS = ""  # a digest of the helpers this module compiles in; derive generate keeps it current'

    text = "\n".join([header, DOC, imports, "", "\n\n".join(data), "", "", "\n\n\n".join(functions)]) + "\n"
    compile(text, FILE, "exec")   # a module that does not parse is a bug here
    return text
