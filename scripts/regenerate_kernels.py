"""Rewrite generated/ from the registry: the same function as `python -m derive generate`."""
import sys

from derive.codegen.generate import generate

if __name__ == "__main__":
    report = generate(progress=lambda line: print(line, file=sys.stderr))
    print(f"{len(report.written)} written, {len(report.removed)} removed, {report.unchanged} unchanged")
