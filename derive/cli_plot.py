"""``derive plot``: the figures of a derivation (matplotlib, an optional extra) to a PNG or SVG file.

It takes the selection options of ``derive show`` (``derive/cli_select.py``). With only an activation it draws
f and f'; with a loss and --at it adds the loss along a weight with the path of --steps, the computational graph,
‖δ‖ per layer for an MLP and the loss per step. Several figures go to one file as panels of one figure, stacked;
``--figure NAME`` draws one alone.
"""
from __future__ import annotations

import argparse
import dataclasses

from derive.cli_select import configure_selection, selection
from derive.errors import BadValue


def configure_plot(parser: argparse.ArgumentParser) -> None:
    configure_selection(parser)
    parser.add_argument("--figure", metavar="NAME",
                        help="only this figure: activation, loss, graph, delta or curve (default: every one that "
                             "applies, stacked in one file)")
    parser.add_argument("--weight", metavar="NAME",
                        help="the weight of the loss figure as the kernels store it, e.g. W2[0,1] or w[0] (default: "
                             "the first weight of the top layer)")
    parser.add_argument("--output", metavar="FILE", required=True, help="the file to write, .png or .svg")


def run_plot(args: argparse.Namespace) -> int:
    from derive import files
    from derive.plot.style import require

    require()   # before any work: one line saying how to install matplotlib
    from derive.plot import Selection, figure, format_of, save

    format_of(args.output)
    files.check_output(args.output)
    save(figure(chosen(args, Selection), args.figure, weight=args.weight), args.output)
    return 0


def chosen(args: argparse.Namespace, Selection):
    """The Selection the options make: an activation alone, or a derivation (with its worked example)."""
    from derive.catalogue import ACTIVATIONS, lookup
    from derive.catalogue.custom import custom_activation
    from derive.derivations import custom_work, entries

    if args.loss is None and args.loss_expr is None:
        if args.at is not None or args.model != "neuron" or args.hidden:
            raise BadValue("a worked example or a model needs a loss: give --loss (see 'derive list')")
        if args.activation_expr is not None and args.activation is not None:
            raise BadValue("give either --activation NAME or --activation-expr EXPR, not both")
        if args.activation_expr is not None:
            with custom_work(args.activation_expr, None):
                return Selection(derived(custom_activation(args.activation_expr)))
        if args.activation is None:
            raise BadValue("give --activation NAME (see 'derive list') or --activation-expr EXPR")
        return Selection(lookup(ACTIVATIONS, args.activation, "activation"))
    d = selection(args)
    with custom_work(args.activation_expr, args.loss_expr):
        _, activation, _, _ = entries(args.activation, args.loss, args.model, hidden=args.hidden,
                                      activation_expr=args.activation_expr, loss_expr=args.loss_expr)
    if activation.derivative is None and "activation_derivative" in d.pieces:   # a custom f: as the derivation has it
        activation = dataclasses.replace(activation, derivative=d.pieces["activation_derivative"])
    return Selection(activation, d)


def derived(activation):
    """A custom activation with its derivative worked out by the rules (and put in its shortest form), as a
    derivation would, so that its figure can draw f'."""
    from derive.catalogue.symbols import z
    from derive.presenter import simplest
    from derive.rules import differentiate

    if activation.derivative is not None:
        return activation
    return dataclasses.replace(activation, derivative=simplest(differentiate(activation.expr, z).result))
