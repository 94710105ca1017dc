"""How long `derive show` takes on ordinary and on hostile custom expressions, and how each ends.

Each case runs `python -m derive show …` in a new process (interpreter start and imports included), with a
timeout, so a case that would hang is reported as such instead of blocking the run. Ordinary expressions should
derive in a few seconds; hostile ones should end within the budget (DERIVE_TIME_LIMIT, 10 s by default), each
with a derivation or one line and exit 2. To add a case, add one entry to ``CASES``.

    python scripts/bench_bounded.py [--timeout SECONDS] [NAME ...]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time

SHOW = [sys.executable, "-m", "derive", "show"]
FEATURES = 1000
AT = f"w=[{','.join(['0.01'] * FEATURES)}],x=[{','.join(['1'] * FEATURES)}],b=0,y=1,lr=0.1"
BCE_TEXT = "-y*log(a)-(1-y)*log(1-a)"

CASES = {  # name -> (kind, arguments after `derive show`)
    "polynomial degree 7": ("ordinary", ["--activation-expr", "z**7-3*z**5+z", "--loss", "mse"]),
    "rational function": ("ordinary", ["--activation-expr", "(z**2+1)/(z**2+z+2)", "--loss", "mse"]),
    "composition 4 deep": ("ordinary", ["--activation-expr", "tanh(sin(exp(atan(z))))", "--loss", "mse"]),
    f"--at with {FEATURES} features": ("ordinary", ["--activation", "sigmoid", "--loss", "bce", "--at", AT]),
    "softsign as an expression": ("ordinary", ["--activation-expr", "z/(1+Abs(z))", "--loss", "mse"]),
    "tan(z)**1000": ("hostile", ["--activation-expr", "tan(z)**1000", "--loss", "mse"]),
    "exp nested 8 deep": ("hostile", ["--activation-expr", "exp(" * 8 + "z" + ")" * 8, "--loss", "mse"]),
    "Max of 30 arguments": ("hostile", ["--activation-expr", f"Max({','.join(f'{k}*z' for k in range(1, 31))})",
                                        "--loss", "mse"]),
    "sin nested 16 deep": ("hostile", ["--activation-expr", "sin(" * 16 + "z" + ")" * 16, "--loss", "mse"]),
    "loss (a-y)**1000": ("hostile", ["--activation", "identity", "--loss-expr", "(a-y)**1000"]),
    **{text: ("valid", ["--activation-expr", text, "--loss", "mse"]) for text in (
        "log(z)", "sqrt(z)", "z**0.5", "z**(1/3)", "z**pi", "(-1)**z", "z**1000", "exp(1000)*z", "sign(z)")},
    "identity + custom BCE": ("valid", ["--activation", "identity", f"--loss-expr={BCE_TEXT}"]),
    "sigmoid + custom BCE": ("valid", ["--activation", "sigmoid", f"--loss-expr={BCE_TEXT}"]),
}


def run(arguments: list[str], timeout: float) -> tuple[float, str]:
    """(seconds, outcome): 'exit 0', or 'exit N: <the message>', or 'timeout'."""
    start = time.perf_counter()
    try:
        done = subprocess.run([*SHOW, *arguments], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return time.perf_counter() - start, "timeout"
    lines = done.stderr.strip().splitlines()
    message = f": {lines[-1][:110]}" if done.returncode and lines else ""
    return time.perf_counter() - start, f"exit {done.returncode}{message}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before a case counts as hung")
    parser.add_argument("names", nargs="*", help="cases to run (default: all)")
    args = parser.parse_args()
    for name, (kind, arguments) in CASES.items():
        if args.names and name not in args.names:
            continue
        seconds, outcome = run(arguments, args.timeout)
        print(f"{kind:8}  {name:28}  {seconds:6.2f} s  {outcome}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
