"""An optimizer's keyword options checked against its table (written by hand, not generated; pure Python).

The table is the registry's (``derive/catalogue/optimizers.py::table``, printed into ``_optim.OPTIMIZERS``):
name -> {"options": ((name, kind, default, low, high, open), …), "hyper": …, "requires": …}. Options carry
torch.optim's names; a name the optimizer does not take, a value outside its range, or a combination torch
refuses is a one-line ``ValueError`` naming what is valid. ``derive show`` checks its options here too.
"""
import math
import numbers


def resolve(table, name, given):
    """(entry, values): optimizer ``name``'s options, ``given`` over the defaults, each checked."""
    if not isinstance(name, str) or name not in table:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(table)}")
    entry = table[name]
    names = [option[0] for option in entry["options"]]
    for key in given:
        if key not in names:
            owners = [other for other, e in table.items() if key in (o[0] for o in e["options"])]
            belongs = f" ({key} belongs to {', '.join(owners)})" if owners else ""
            raise ValueError(f"{name} takes no option {key!r}{belongs}; its options: {', '.join(names)}")
    values = {option[0]: _checked(option, given.get(option[0], option[2])) for option in entry["options"]}
    for flag, needs, message in entry["requires"]:
        if values[flag] and not all(_holds(values[option], relation, value) for option, relation, value in needs):
            got = ", ".join(f"{option}={values[option]!r}" for option, _, _ in needs)
            raise ValueError(f"{message} (got {got})")
    return entry, values


def hyper(entry, values):
    """The scalar hyper-parameters in the kernels' order (a pair gives two; a flag 0.0 or 1.0)."""
    out = []
    for option, kind, *_ in entry["options"]:
        if kind == "pair":
            out += [float(v) for v in values[option]]
        elif kind in ("number", "flag"):
            out.append(float(values[option]))
    return out


def _checked(option, value):
    name, kind, default, low, high, open_ = option
    if kind == "flag":
        if isinstance(value, bool) or (hasattr(value, "dtype") and value.dtype == bool and not value.shape):
            return bool(value)
        raise ValueError(f"{name} must be True or False, not {value!r}")
    if kind == "count":
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
            raise ValueError(f"{name} must be a whole number >= {low:g}, not {value!r}")
        return int(value)
    if kind == "pair":
        if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
            raise ValueError(f"{name} must be a pair of numbers such as {default}, not {value!r}")
        return tuple(_number(f"{name}[{i}]", v, low, high, open_) for i, v in enumerate(value))
    return _number(name, value, low, high, open_)


def _number(name, value, low, high, open_):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
        raise ValueError(f"{name} must be a finite number, not {value!r}")
    value = float(value)
    top = math.inf if high is None else high
    if value < low or value > top or (open_ and value == top):
        upper = "" if high is None else f" and {'<' if open_ else '<='} {high:g}"
        raise ValueError(f"{name} must be >= {low:g}{upper}, not {value!r}")
    return value


def _holds(value, relation, bound):
    return value > bound if relation == ">" else value == bound
