"""PDF through pdflatex: the standalone LaTeX document compiled in a temporary folder, then written with
``derive.files.write_output``, so a file destination is either the old file or the whole new one, never half a PDF.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from derive.errors import DeriveError, ToolMissing
from derive.files import check_output, write_output

PDFLATEX = "pdflatex"
MISSING = ("pdflatex is not installed; install TeX Live (Debian: apt-get install texlive-latex-base) "
           "or use --format latex --standalone --output FILE.tex")
TIMEOUT = 120  # seconds


def write_pdf(derivation, destination: str | os.PathLike) -> Path:
    """Compile ``derivation`` to a PDF at ``destination``."""
    program = shutil.which(PDFLATEX)
    if program is None:
        raise ToolMissing(MISSING)
    check_output(destination)
    with tempfile.TemporaryDirectory(prefix="derive-pdf-") as folder:
        source = Path(folder, "derivation.tex")
        source.write_text(derivation.render("latex", standalone=True), encoding="utf-8")
        try:
            done = subprocess.run([program, "-interaction=nonstopmode", "-halt-on-error", source.name], cwd=folder,
                                  stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            raise DeriveError(f"pdflatex took longer than {TIMEOUT} s and was stopped") from None
        pdf = Path(folder, "derivation.pdf")
        if done.returncode != 0 or not pdf.exists():
            raise DeriveError(f"pdflatex failed: {first_error(done.stdout.decode('utf-8', 'replace'))}")
        write_output(destination, pdf.read_bytes())
    return Path(destination)


def first_error(log: str) -> str:
    """The first '! …' line of a LaTeX log, or its last line."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    return next((line for line in lines if line.startswith("!")), lines[-1] if lines else "no output")
