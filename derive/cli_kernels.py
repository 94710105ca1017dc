"""``derive generate [--check]``, ``derive verify`` and ``derive warm``: the kernel subcommands of the CLI."""
from __future__ import annotations

import argparse
import sys
import time
from typing import Callable

from derive.errors import BadValue, UnknownName

SEEDS = (0, 2**32 - 1)  # what numpy's generators accept


def whole_number(option: str, low: int, high: int) -> Callable[[str], int]:
    """An argparse type: the text as an integer in [low, high], else one line and exit 2 (a DeriveError)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise BadValue(f"{option} must be a whole number from {low} to {high}, not {text!r}")
        return value
    return parse


def configure_generate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true",
                        help="write nothing; list the stale files and exit 1 if there are any")


def run_generate(args: argparse.Namespace) -> int:
    from derive.codegen.generate import GENERATED, generate

    started = time.perf_counter()
    report = generate(check=args.check, progress=lambda line: print(line, file=sys.stderr, flush=True))
    took = time.perf_counter() - started
    if args.check:
        for name in report.written:
            print(f"stale: generated/{name} differs from what the generator makes now")
        for name in report.removed:
            print(f"stale: generated/{name} is no longer produced by the registry")
        for name in report.leftovers:
            print(f"stale: generated/{name} is a temporary file left by an interrupted run")
        if report.stale:
            print(f"{len(report.stale)} stale file(s); run: python -m derive generate", file=sys.stderr)
            return 1
        print(f"generated/ is up to date ({report.unchanged} modules, checked in {took:.1f} s)")
        return 0
    print(f"{GENERATED}: {len(report.written)} written, {len(report.removed)} removed, "
          f"{report.unchanged} unchanged ({took:.1f} s)")
    return 0


FILTERS = ("model", "activation", "loss", "hidden")


def configure_filters(parser: argparse.ArgumentParser) -> None:
    for name in FILTERS:
        parser.add_argument(f"--{name}", metavar=name.upper(), help=f"only kernels with this {name}")


def selected(args: argparse.Namespace) -> list[str]:
    """The generated modules that match the filters given, by their registry entries' names."""
    import derive.kernels as kernels
    from derive.catalogue import ACTIVATIONS, LOSSES
    from derive.models import MODELS

    known = {"model": MODELS, "activation": ACTIVATIONS, "loss": LOSSES, "hidden": ACTIVATIONS}
    wanted = {name: getattr(args, name) for name in FILTERS if getattr(args, name)}
    for name, value in wanted.items():
        if value not in known[name]:
            raise UnknownName(name, value, known[name])
    names = [n for n in kernels.available()
             if all(getattr(kernels.load(n), name.upper(), None) == value for name, value in wanted.items())]
    if not names:
        raise BadValue("no generated kernel matches those filters; see 'derive list'")
    return names


def configure_verify(parser: argparse.ArgumentParser) -> None:
    configure_filters(parser)
    parser.add_argument("--seed", type=whole_number("--seed", *SEEDS), default=0,
                        help=f"seed of the random test problems ({SEEDS[0]} to {SEEDS[1]}, default 0)")
    parser.add_argument("--outputs", metavar="K", type=whole_number("--outputs", 1, 64), default=None,
                        help="outputs of the head (default: the least it takes, and 3 for elementwise heads)")


def run_verify(args: argparse.Namespace) -> int:
    import derive.kernels as kernels
    from derive.verify import TOLERANCE, verify_module

    names = selected(args)
    cases = [(name, k) for name in names for k in ((args.outputs,) if args.outputs else
                                                   (None, 3) if kernels.load(name).SPAN == "elementwise" else (None,))]
    width = max(len(n) for n in names)
    print(f"{'module':<{width}}  {'K':>2}  {'max rel. error':>14}  {'loss error':>10}  result")
    failed = 0
    for index, (name, outputs) in enumerate(cases, start=1):
        print(f"[{index}/{len(cases)}] {name}", file=sys.stderr, flush=True)
        result = verify_module(kernels.load(name), seed=args.seed, outputs=outputs)
        failed += not result.passed
        print(f"{name:<{width}}  {result.outputs:>2}  {result.max_relative_error:>14.2e}  {result.loss_error:>10.1e}  "
              f"{'pass' if result.passed else 'FAIL'}", flush=True)
    print(f"{len(cases) - failed} passed, {failed} failed (gradient tolerance {TOLERANCE:g} relative, "
          f"central differences in float64)")
    return 1 if failed else 0


def configure_warm(parser: argparse.ArgumentParser) -> None:
    configure_filters(parser)


def run_warm(args: argparse.Namespace) -> int:
    import derive.kernels as kernels

    names = selected(args)
    started = time.perf_counter()
    kernels.warm(names, progress=lambda name, took: print(f"{name}: {took:.1f} s", flush=True))
    print(f"{len(names)} module(s) compiled into numba's cache in {time.perf_counter() - started:.1f} s")
    return 0
