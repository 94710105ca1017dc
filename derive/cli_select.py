"""The options that select a derivation and its worked example, shared by ``derive show`` and ``derive plot``:
--activation, --loss, --model, --hidden, --layers, --outputs, custom expressions, --at with --digits, --fix
and --steps, and the training: --optimizer, --weight-decay and the optimizers' options (from the registry).
``parse_at`` reads --at's numbers and nested lists without evaluating anything.
"""
from __future__ import annotations

import argparse
import re

from derive.cli_kernels import whole_number
from derive.derivations import MAX_LAYERS, MAX_OUTPUTS
from derive.errors import BadValue

EXAMPLE_AT = "--at w=0.5,b=0,x=2,y=1,lr=0.1 (lists for several features: w=[0.5,-0.2],x=[2,1])"


def configure_selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--activation", metavar="A", help="activation name (see 'derive list')")
    parser.add_argument("--loss", metavar="L", help="loss name (see 'derive list')")
    parser.add_argument("--model", metavar="M", default="neuron", help="neuron (default), softmax or mlp")
    parser.add_argument("--hidden", metavar="H", help="hidden activation of --model mlp (default tanh)")
    parser.add_argument("--layers", metavar="N", type=whole_number("--layers", 1, MAX_LAYERS), default=None,
                        help=f"hidden layers of --model mlp (1 to {MAX_LAYERS}; default 1, or as --at implies)")
    parser.add_argument("--outputs", metavar="K", type=whole_number("--outputs", 1, MAX_OUTPUTS), default=None,
                        help="outputs of the head, K (default 1, or as --at implies; softmax: 2 classes at least)")
    parser.add_argument("--at", metavar="VALUES", help=f"add a worked example, e.g. {EXAMPLE_AT}; matrices as "
                        "nested lists stored (inputs, outputs): W1=[[0.15,0.25],[0.2,0.3]]")
    parser.add_argument("--digits", metavar="N", type=whole_number("--digits", 1, 17), default=None,
                        help="with --at: significant digits of the numbers (default 4; computed in float64)")
    parser.add_argument("--fix", metavar="NAMES", type=names_list, default=(),
                        help="with --at: keep these parameters at their values, e.g. b or b1,b2 (0 if not given)")
    parser.add_argument("--steps", metavar="K", type=whole_number("--steps", 0, 1000), default=0,
                        help="with --at: repeat the update K times and show the trace")
    parser.add_argument("--activation-expr", metavar="EXPR", help="your own f(z), e.g. 'z/(1+Abs(z))'")
    parser.add_argument("--loss-expr", metavar="EXPR", help="your own L(a, y), e.g. '(a-y)**2'")
    configure_training(parser)


def configure_training(parser: argparse.ArgumentParser) -> None:
    """--optimizer, --weight-decay and every option of the optimizer registry, under torch.optim's names."""
    from derive.catalogue.optimizers import OPTIMIZERS
    parser.add_argument("--optimizer", metavar="NAME", help=f"write the update as this optimizer's: "
                        f"{', '.join(OPTIMIZERS)} (default: plain gradient descent)")
    parser.add_argument("--weight-decay", metavar="λ", type=_number("--weight-decay"), default=None,
                        help="L2 penalty (λ/2)·Σ w² on the weights, derived (AdamW: its decoupled decay)")
    seen = {"weight_decay"}
    for entry in OPTIMIZERS.values():
        for option in entry.options:
            if option.name in seen:
                continue
            seen.add(option.name)
            flag = "--" + option.name.replace("_", "-")
            owners = ", ".join(e.name for e in OPTIMIZERS.values() if option.name in e.names)
            text = f"{owners}: {option.meaning} (default {option.default})"
            if option.kind == "flag":
                parser.add_argument(flag, action="store_const", const=True, default=None, help=text)
            else:
                parser.add_argument(flag, metavar="V", default=None, help=text,
                                    type=_pair(flag) if option.kind == "pair" else
                                    whole_number(flag, 1, 10**6) if option.kind == "count" else _number(flag))


def _number(option: str):
    def parse(text: str) -> float:
        try:
            return float(text)
        except ValueError:
            raise BadValue(f"{option} must be a number, not {text!r}") from None
    return parse


def _pair(option: str):
    def parse(text: str) -> tuple:
        parts = text.split(",")
        if len(parts) != 2:
            raise BadValue(f"{option} takes two numbers separated by a comma, e.g. 0.9,0.999; not {text!r}")
        return tuple(_number(option)(part) for part in parts)
    return parse


def training_options(args: argparse.Namespace) -> dict:
    """The optimizer options given on the command line (torch.optim's names), the rest left to their defaults."""
    from derive.catalogue.optimizers import OPTIMIZERS
    names = {option.name for entry in OPTIMIZERS.values() for option in entry.options} - {"weight_decay"}
    return {name: getattr(args, name) for name in sorted(names) if getattr(args, name, None) is not None}


def names_list(text: str) -> tuple:
    """'b1, b2' -> ('b1', 'b2'); an empty name is refused."""
    names = tuple(name.strip() for name in text.split(","))
    if not all(names):
        raise BadValue(f"--fix takes parameter names separated by commas, e.g. b1,b2, not {text!r}")
    return names


def selection(args: argparse.Namespace):
    """The derivation ``args`` select (with its worked example when --at is given); ``derive plot`` shares it.
    --outputs and --layers default to what the --at arrays imply; given, they must agree with them."""
    import derive
    from derive.derivations.example import At, DIGITS, implied
    from derive.models import MODELS
    from derive.catalogue import lookup

    if args.at is None:
        if args.digits is not None or args.fix or args.steps:
            raise BadValue("--digits, --fix and --steps apply to a worked example: give --at too, e.g. " + EXAMPLE_AT)
        example, outputs, layers = None, args.outputs, args.layers
    else:
        values = parse_at(args.at)
        outputs, layers = implied(values, lookup(MODELS, args.model, "model").hidden_layers)
        checks = (("--outputs", args.outputs, outputs, "outputs (the last weights' columns)"),
                  ("--layers", args.layers, layers, "hidden layers (weights W1 … Wn less one)"))
        for option, given, found, what in checks:
            if given is not None and found is not None and given != found:
                raise BadValue(f"{option} {given} disagrees with --at, which gives {found} {what}; drop {option}")
        outputs, layers = args.outputs or outputs, args.layers or layers
        example = At(values, DIGITS if args.digits is None else args.digits, args.fix, args.steps)
    return derive.derivation(args.activation, args.loss, args.model, hidden=args.hidden, layers=layers or 1,
                             outputs=outputs, activation_expr=args.activation_expr, loss_expr=args.loss_expr,
                             example=example, weight_decay=args.weight_decay, optimizer=args.optimizer,
                             optimizer_options=training_options(args))


def parse_at(text: str) -> dict:
    """'w=[0.5,-0.2],b=0,x=[2,1],y=1' -> {'w': [0.5, -0.2], 'b': 0.0, 'x': [2.0, 1.0], 'y': 1.0}; matrices are
    nested lists, W1=[[0.15,0.25],[0.2,0.3]]. Nothing is evaluated: only numbers, brackets and commas."""
    values: dict = {}
    for item in _top_level_items(text):
        match = re.fullmatch(r"\s*([A-Za-z_]\w*)\s*=\s*(\S(?:.*\S)?)\s*", item, flags=re.S)
        if not match:
            raise BadValue(f"--at: cannot read {item!r}; write NAME=NUMBER or NAME=[N1,N2,…], e.g. {EXAMPLE_AT}")
        name, value = match[1], match[2]
        if name in values:
            raise BadValue(f"--at: {name} is given twice; give each value once, e.g. {EXAMPLE_AT}")
        try:
            values[name] = _nested(value)
        except ValueError:
            raise BadValue(f"--at: {item.strip()!r} is not a number or a list of numbers; e.g. {EXAMPLE_AT}") from None
    return values


def _nested(text: str):
    """'0.5' -> 0.5; '[[1,2],[3,4]]' -> [[1.0, 2.0], [3.0, 4.0]]; ValueError for anything else."""
    tokens = re.findall(r"\[|\]|,|[^\[\],]+", text)
    position = 0

    def value():
        nonlocal position
        if position >= len(tokens):
            raise ValueError(text)
        token = tokens[position].strip()
        position += 1
        if token != "[":
            return float(token)
        items = [value()]
        while position < len(tokens) and tokens[position] == ",":
            position += 1
            items.append(value())
        if position >= len(tokens) or tokens[position] != "]":
            raise ValueError(text)
        position += 1
        return items

    result = value()
    if position != len(tokens):
        raise ValueError(text)
    return result


def _top_level_items(text: str) -> list[str]:
    """``text`` split at the commas outside brackets."""
    items, depth, current = [], 0, ""
    for c in text:
        depth += (c == "[") - (c == "]")
        if depth < 0 or depth > 3:
            raise BadValue(f"--at: unbalanced brackets in {text!r}; e.g. {EXAMPLE_AT}")
        if c == "," and depth == 0:
            items.append(current)
            current = ""
        else:
            current += c
    if depth:
        raise BadValue(f"--at: unclosed '[' in {text!r}; e.g. {EXAMPLE_AT}")
    return items + [current]
