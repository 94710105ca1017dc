"""The point of a worked example: ``--at`` values read into arrays and checked against the derivation.

A derivation's parameters are its gradients' keys, and each key's name says how the kernels store it:

    w_j -> w (D,)    b -> b ()    W_jk -> W (D, K)    b_k -> b (K,)    W_ij⁽ˡ⁾ -> Wl (n_l−1, n_l)    b_i⁽ˡ⁾ -> bl (n_l,)

The index j runs over a layer's inputs and the other letter over its outputs, so a weight is stored (inputs,
outputs), as in the kernels. Sizes are read from the arrays; a size that does not fit is a one-line error
naming both shapes.
"""
from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import sympy as sp

from derive.errors import BadValue, UnknownName

INPUT = "j"  # the index letter of a layer's inputs; any other letter indexes its outputs
EXAMPLE = "--at w=0.5,b=0,x=2,y=1,lr=0.1"


def split_name(name: str) -> tuple[str, str, str]:
    """'W_ij^(2)' -> ('W', 'ij', '2'); 'b' -> ('b', '', '')."""
    head, _, sup = name.partition("^")
    base, _, sub = head.partition("_")
    return base, sub, sup.strip("()")


def script(numbers) -> str:
    """Indices as a subscript: (1, 2) -> '12', (1, 10) -> '1,10'."""
    return ("," if any(n > 9 for n in numbers) else "").join(str(n) for n in numbers)


@dataclass(frozen=True)
class Parameter:
    """One parameter array of the derivation: its gradient key, how it is stored, and its entries' names."""

    symbol: sp.Symbol   # the gradient key: w_j, b, W_jk, b_k, W_ij^(2), b_i^(2)

    @cached_property
    def parts(self):
        return split_name(self.symbol.name)

    @property
    def name(self) -> str:
        """The storage name: w, b, W, W2, b2."""
        base, _, layer = self.parts
        return base + layer

    @property
    def layer(self) -> int:
        return int(self.parts[2] or 1)

    @property
    def letters(self) -> str:
        return self.parts[1]

    @property
    def weight(self) -> bool:
        return INPUT in self.letters

    def shape(self, inputs: int, outputs: int) -> tuple:
        """The storage shape in a layer of ``inputs`` inputs and ``outputs`` outputs."""
        return tuple(inputs if letter == INPUT else outputs for letter in sorted(self.letters, key=_input_first))

    def entries(self, shape: tuple) -> list[tuple]:
        """Storage indices in the order the symbol's letters read: W_ij by i then j, W_jk by j then k."""
        storage = sorted(self.letters, key=_input_first)
        sizes = dict(zip(storage, shape))
        out = []
        for combination in itertools.product(*(range(sizes[letter]) for letter in self.letters)):
            by_letter = dict(zip(self.letters, combination))
            out.append(tuple(by_letter[letter] for letter in storage))
        return out

    def entry(self, index: tuple, keep: str = "") -> sp.Symbol:
        """The entry at storage ``index`` as a symbol: W_ij^(2) at (0, 1) -> W_21^(2); the letters in ``keep``
        stay letters (W_2j^(2))."""
        base, letters, layer = self.parts
        by_letter = dict(zip(sorted(letters, key=_input_first), index))
        parts = [letter if letter in keep else by_letter[letter] + 1 for letter in letters]
        numbers = [n for n in parts if isinstance(n, int)]
        sub = ("," if any(n > 9 for n in numbers) else "").join(map(str, parts))
        return sp.Symbol(base + (f"_{sub}" if sub else "") + (f"^({layer})" if layer else ""), real=True)


def _input_first(letter: str) -> int:
    return 0 if letter == INPUT else 1


def parameters(derivation) -> list[Parameter]:
    """The derivation's parameters in the kernels' order: (W1, b1, W2, b2, …), or (w, b)."""
    return sorted((Parameter(key) for key in derivation.gradients), key=lambda p: (p.layer, not p.weight))


@dataclass(frozen=True)
class Point:
    """Where the example is worked: parameters by storage name, one sample (x, y), the learning rate."""

    parameters: dict        # name -> float64 array in storage shape
    x: np.ndarray           # (D,)
    y: np.ndarray           # (K,): the labels, one-hot for a class index
    lr: float
    fixed: frozenset        # names of the parameters that stay at their values
    label: float | None = None   # the class index, when the labels are one

    @property
    def sizes(self) -> list[int]:
        """Units per layer, the inputs first: (D, n₁, …, K)."""
        weights = [v for name, v in self.parameters.items() if name[0] in "wW"]
        return [len(self.x)] + [int(w.shape[-1]) if w.ndim == 2 else 1 for w in weights]


def read(derivation, values: dict, fix=(), class_index: bool = False, loss=None) -> Point:
    """``values`` (from ``--at``) as a Point for ``derivation``; ``fix`` names the parameters that stay fixed (0
    when not given). ``class_index``: y is the index of the true class; ``loss`` the entry whose labels y must be."""
    params = parameters(derivation)
    names = [p.name for p in params]
    known = (*names, "x", "y", "lr")
    for key in values:
        if key not in known:
            raise UnknownName("--at value", key, known)
    for name in fix:
        if name not in names:
            raise UnknownName("--fix parameter", name, names)
    missing = [k for k in known[:-1] if k not in values and k not in fix]
    if missing:
        raise BadValue(f"--at needs {', '.join(missing)} (or --fix a parameter to keep it at 0); "
                       f"for example {EXAMPLE}")
    x = np.atleast_1d(array(values["x"], "x", depth=1))
    arrays, inputs, units = {}, len(x), 1
    for p in params:
        top = p.layer == params[-1].layer
        arrays[p.name] = sized(p, values.get(p.name), inputs, units, derivation.outputs if top else None)
        if p.weight:
            units = arrays[p.name].shape[1] if arrays[p.name].ndim == 2 else 1
        else:
            inputs = units
    if units != derivation.outputs:
        raise BadValue(f"--at gives {units} outputs (the last weights' columns) but the derivation has K = "
                       f"{derivation.outputs}; give --outputs {units}")
    y, label = labels_at(values["y"], units, class_index, loss)
    lr = number(values.get("lr", 0.1), "lr")
    if lr <= 0:
        raise BadValue(f"--at lr={shown(lr)} must be > 0: a step against the gradient needs a positive rate "
                       f"(for example lr=0.1)")
    return Point(arrays, x, y, lr, frozenset(fix), label)


def sized(p: Parameter, value, inputs: int, units: int, outputs: int | None) -> np.ndarray:
    """The array of ``p`` in its storage shape (``units``: the outputs of its layer, known once its weights are
    read; ``outputs``: K, on the top layer); zeros when it is fixed and not given."""
    if value is None:
        columns = outputs if p.weight else units
        if columns is None:
            raise BadValue(f"--fix {p.name} without a value: give {p.name} in --at, so that its size is known")
        return np.zeros(p.shape(inputs, columns))
    given = np.asarray(array(value, p.name, depth=len(p.letters)), dtype=float)
    if p.weight and len(p.letters) == 2:
        want = p.shape(inputs, given.shape[1] if given.ndim == 2 else "n")
    else:
        want = p.shape(inputs, units)
        if given.ndim == 0 and math.prod(want) == 1:
            given = given.reshape(want)   # b = 0.5 for one unit, w = 0.5 for one feature
    if given.shape != want:
        raise BadValue(f"--at {p.name} has shape {shape_text(given.shape)} but needs {shape_text(want)}: "
                       f"{describe(p, inputs)}")
    return np.array(given, dtype=float, order="C")


def describe(p: Parameter, inputs: int) -> str:
    if p.weight and len(p.letters) == 2:
        return f"{inputs} rows, one per input of its layer (weights are stored (inputs, outputs), as in the kernels)"
    if p.weight:
        return f"one weight per input, {inputs} of them"
    return "one bias per unit of its layer" if p.letters else "one number"


def shape_text(shape: tuple) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def labels_at(value, outputs: int, class_index: bool, loss) -> tuple[np.ndarray, float | None]:
    """(y as K numbers, the class index or None): a class index becomes one-hot."""
    if class_index:
        c = number(value, "y")
        if not (c.is_integer() and 0 <= c < outputs):
            raise BadValue(f"--at y={value} must be a class index 0 … {outputs - 1}: softmax regression takes the "
                           f"index of the true class")
        return np.eye(outputs)[int(c)], c
    y = np.atleast_1d(array(value, "y", depth=1))
    if y.shape != (outputs,):
        raise BadValue(f"--at y has shape {shape_text(y.shape)} but needs {shape_text((outputs,))}: one label per "
                       f"output")
    for v in y:
        if loss is not None and v not in loss.labels.values:
            raise BadValue(f"y={shown(v)} is not a label {loss.name} takes; it takes {loss.labels.text}")
    return y, None


SHAPES = ("one number", "a list of numbers", "a list of rows (lists of numbers)")


def array(value, name: str, depth: int, most: int | None = None):
    """A number or a list nested at most ``depth`` deep, all finite."""
    most = depth if most is None else most
    if isinstance(value, (list, tuple)):
        if depth == 0:
            raise BadValue(f"--at {name} takes {SHAPES[most]}, not a list nested deeper")
        if not value:
            raise BadValue(f"--at {name}=[] is empty; give at least one number")
        items = [array(v, name, depth - 1, most) for v in value]
        lengths = {len(i) if isinstance(i, list) else None for i in items}
        if len(lengths) > 1:
            raise BadValue(f"--at {name} has rows of different lengths; give every row the same number of entries")
        return items
    return number(value, name)


def number(value, name: str) -> float:
    if isinstance(value, (list, tuple)):
        raise BadValue(f"--at {name} must be one number, not a list")
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise BadValue(f"--at {name}={value!r} is not a number") from None
    if not math.isfinite(result):
        raise BadValue(f"--at {name}={value!r} must be finite")
    return result


def shown(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def implied(values: dict, hidden_layers: bool) -> tuple[int | None, int | None]:
    """(outputs, hidden layers) that ``--at`` values imply, from their weights: w, W or W1 … Wn (None: not said)."""
    weights = sorted((int(m[1] or 0), k, v) for k, v in values.items() if (m := re.fullmatch(r"[Ww](\d*)", k)))
    if not weights:
        return None, None
    _, key, last = weights[-1]
    rows = isinstance(last, list) and last and isinstance(last[0], list)
    outputs = len(last[0]) if rows and key.isupper() else 1   # w is one output's weight vector
    return outputs, (len(weights) - 1 if hidden_layers else None)
