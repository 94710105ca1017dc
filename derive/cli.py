"""The ``derive`` command: ``derive list``, ``show``, ``plot``, ``generate``, ``verify`` and ``warm``.

Every ``DeriveError`` becomes one line, ``derive: <message>``, and exit status 2; any other exception is an
internal error (exit 3, one line; ``DERIVE_DEBUG=1`` shows the traceback). To add a subcommand, add a
``Command`` to ``COMMANDS``: its help line, a function that adds its options, and a function that runs it.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import textwrap
from typing import Callable, NamedTuple

import sympy as sp

from derive.cli_kernels import (configure_generate, configure_verify, configure_warm, run_generate, run_verify,
                                run_warm)
from derive.cli_plot import configure_plot, run_plot
from derive.cli_select import configure_selection, selection
from derive.errors import BadValue, DeriveError, UnknownName

LIST_WIDTH = 80  # as the text renderer: an 80-column terminal


class Command(NamedTuple):
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int | None]


# --- derive list ------------------------------------------------------------------------------------------------
def configure_list(parser: argparse.ArgumentParser) -> None:
    pass


def run_list(args: argparse.Namespace) -> int:
    from derive.catalogue import ACTIVATIONS, LOSSES, valid_pairs
    from derive.models import MODELS
    from derive.render.printers import TextPrinter

    show = TextPrinter().doprint
    out = [_table("Activations  a = f(z)", ("name", "f(z)", "output range", "PyTorch"),
                  [(e.name, e.description if e.vector else show(e.expr), _interval(e.output_range), e.torch)
                   for e in sorted(ACTIVATIONS.values(), key=lambda e: e.name)]),
           _table("Losses  L(a, y)", ("name", "L(a, y)", "predictions a", "labels y"),
                  [(e.name, show(e.expr), _interval(e.accepts), e.labels.text)
                   for e in sorted(LOSSES.values(), key=lambda e: e.name)]),
           _table("Models", ("name", "description", "parameters"),
                  [(m.name, m.description, m.parameters) for m in MODELS.values()])]
    hidden = ", ".join(sorted(name for name, e in ACTIVATIONS.items() if not e.vector))
    for model in MODELS.values():
        by_loss: dict[str, list[str]] = {}
        for activation, loss in valid_pairs(model):
            by_loss.setdefault(loss, []).append(activation)
        lines = [f"Valid pairs for --model {model.name} (loss: activations)", "─" * LIST_WIDTH]
        for loss, activations in sorted(by_loss.items()):
            lines += textwrap.wrap(", ".join(activations), LIST_WIDTH, initial_indent=f"  {loss:<15}",
                                   subsequent_indent=" " * 17)
        if model.hidden_layers:
            lines += textwrap.wrap(hidden, LIST_WIDTH, initial_indent=f"  {'--hidden':<15}", subsequent_indent=" " * 17)
        out.append("\n".join(lines))
    print("\n\n".join(out))
    return 0


def _table(title: str, header: tuple, rows: list[tuple]) -> str:
    """Columns that fit LIST_WIDTH: the widest column wraps (after a space, '; ' or a dot inside a dotted name
    such as torch.nn.functional.elu) until the table fits."""
    from derive.render.text import prose_text, width

    def wrap(cell: str, room: int) -> list[str]:
        lines = []
        for piece in re.split(r"(?<=;) ", cell):
            line = ""
            for word in re.findall(r"[^ .]*(?:\.(?=\w)|$| +)|\S+", piece):
                if line and width(line + word.rstrip()) > room:
                    lines.append(line.rstrip())
                    line = ""
                while width(word.rstrip()) > room:  # a word longer than the column: cut it
                    lines.append(word[:room])
                    word = word[room:]
                line += word
            lines.append(line.rstrip())
        return [line for line in lines if line] or [""]

    rows = [(r[0], *(prose_text(str(c)) for c in r[1:])) for r in rows]
    widths = [max(width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    while 2 + sum(widths) + 2 * (len(widths) - 1) > LIST_WIDTH:
        widths[widths.index(max(widths))] -= 1
    lines = [title, "─" * LIST_WIDTH]
    for r in [header, *rows]:
        cells = [wrap(c, w) for c, w in zip(r, widths)]
        for k in range(max(len(c) for c in cells)):
            lines.append(("  " + "  ".join((c[k] if k < len(c) else "").ljust(w) for c, w in zip(cells, widths))).rstrip())
    return "\n".join(lines)


def _interval(values: sp.Set) -> str:
    if isinstance(values, sp.Interval):
        show = lambda v: "∞" if v == sp.oo else "−∞" if v == -sp.oo else f"{float(v):.4g}".replace("-", "−")
        return f"{'(' if values.left_open else '['}{show(values.inf)}, {show(values.sup)}{')' if values.right_open else ']'}"
    return {sp.Reals: "(−∞, ∞)", sp.Naturals0: "0, 1, 2, …"}.get(values, str(values))


# --- derive show ------------------------------------------------------------------------------------------------
def configure_show(parser: argparse.ArgumentParser) -> None:
    configure_selection(parser)
    parser.add_argument("--format", metavar="F", default="text", help="text (default), latex, markdown, json or html")
    parser.add_argument("--standalone", action="store_true", help="with --format latex: a whole document")
    parser.add_argument("--output", metavar="FILE", help="write to FILE instead of the terminal ('-': standard output)")
    parser.add_argument("--pdf", metavar="FILE", help="compile a PDF with pdflatex and write it to FILE")
    parser.add_argument("--figures", action="store_true",
                        help="with --format html: the figures of 'derive plot' inline, as SVG (needs matplotlib)")


def run_show(args: argparse.Namespace) -> int:
    from derive import files
    from derive.render import FORMATS
    from derive.render.pdf import write_pdf

    if args.format not in FORMATS:
        raise UnknownName("format", args.format, FORMATS)
    if args.standalone and args.format != "latex":
        raise BadValue("--standalone applies to --format latex only")
    if args.pdf and args.output and files.same_output(args.pdf, args.output):
        raise BadValue(f"--pdf and --output both name {args.output!r}; give them different files")
    for path in filter(None, (args.output, args.pdf)):
        files.check_output(path)
    if args.figures and args.format != "html":
        raise BadValue("--figures applies to --format html only")
    d = selection(args)
    if args.pdf:
        write_pdf(d, args.pdf)
    if args.output or not args.pdf:
        text = html_with_figures(args, d) if args.figures else d.render(args.format, standalone=args.standalone)
        files.write_output(args.output or files.STDOUT, text.encode())
    return 0


def html_with_figures(args: argparse.Namespace, d) -> str:
    """The HTML page with every figure that applies, each an inline SVG under its description."""
    from derive.cli_plot import chosen
    from derive.plot import FIGURES, Selection, applicable, figure, svg
    from derive.plot.style import require
    from derive.render.html import HtmlRenderer

    require()
    picked = chosen(args, Selection)
    figures = [(FIGURES[name].description[:1].upper() + FIGURES[name].description[1:] + ".",
                svg(figure(picked, name))) for name in applicable(picked)]
    return HtmlRenderer(d, figures=figures).render()


# --- the program ------------------------------------------------------------------------------------------------
COMMANDS: dict[str, Command] = {
    "list": Command("list the activations, losses, models and the pairs that fit", configure_list, run_list),
    "show": Command("show the derivation of a weight update", configure_show, run_show),
    "plot": Command("draw the figures of a derivation to a PNG or SVG file (needs matplotlib)", configure_plot,
                    run_plot),
    "generate": Command("write the kernels in generated/ from the registry (--check: only list stale files)",
                        configure_generate, run_generate),
    "verify": Command("check generated kernels against central finite differences", configure_verify, run_verify),
    "warm": Command("compile generated kernels ahead of time into numba's cache", configure_warm, run_warm),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="derive", description="Step-by-step chain-rule derivations of "
                                     "neural-network weight updates, and the kernels generated from them.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, command in COMMANDS.items():
        sub = commands.add_parser(name, help=command.help, description=command.help)
        command.configure(sub)
        sub.set_defaults(run=command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        status = args.run(args) or 0
        sys.stdout.flush()
        return status
    except DeriveError as error:
        return _fail(_one_line(error), error.exit_code)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (derive show … | head): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except Exception as error:  # noqa: BLE001 - the user gets one line, a developer gets DERIVE_DEBUG=1
        if os.environ.get("DERIVE_DEBUG") == "1":
            raise
        return _fail(f"internal error: {type(error).__name__}: {_one_line(error).rstrip('.')}; please report it", 3)


def _fail(message: str, status: int) -> int:
    print(f"derive: {message}", file=sys.stderr)
    return status


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__
