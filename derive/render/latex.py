"""LaTeX that compiles with amsmath alone: one ``align*`` per run of equations, justifications as
``&& \\text{…}`` (long ones in a narrow \\parbox), notes as paragraphs between them, rule trees indented with
``\\quad``. Prose goes through ``latex_prose``: TeX's special characters escaped, and Unicode maths (− · ∂ α ²
ⱼ …) turned into inline maths through the one table ``MATH``. ``standalone=True`` wraps a whole document.
"""
from __future__ import annotations

import re
import unicodedata

from derive.render.base import Renderer, Row
from derive.render.printers import SUB, SUP, LatexPrinter, TextPrinter

MATH = {"−": "-", "·": r"\cdot", "≠": r"\neq", "±": r"\pm", "∂": r"\partial", "←": r"\leftarrow",
        "→": r"\to", "Σ": r"\Sigma", "∞": r"\infty", "≤": r"\leq", "≥": r"\geq", "⊙": r"\odot", "×": r"\times",
        "′": "'", "∈": r"\in", "≈": r"\approx", "…": r"\dots", "α": r"\alpha", "β": r"\beta", "γ": r"\gamma",
        "δ": r"\delta", "ε": r"\varepsilon", "η": r"\eta", "θ": r"\theta", "λ": r"\lambda", "μ": r"\mu",
        "π": r"\pi", "σ": r"\sigma", "τ": r"\tau", "φ": r"\phi", "Φ": r"\Phi", "ω": r"\omega", "Δ": r"\Delta",
        "<": "<", ">": ">", "|": "|"}
TEXT = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "_": r"\_", "&": r"\&", "%": r"\%", "#": r"\#",
        "$": r"\$", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "’": "'", "‘": "`", "“": "``",
        "”": "''", "—": "---", "–": "--", "\u00a0": "~"}
SCRIPTS = {**{v: ("^", k) for k, v in SUP.items()}, **{v: ("_", k) for k, v in SUB.items()}}
SUBSCRIPTED = re.compile(r"([A-Za-zα-ωΑ-Ω])_(\{[^}]*\}|[ijklmn0-9]{1,2}\b)")  # x_j, W_jk, n_{l+1}
MACRON = "\u0304"
ROOM = 78        # characters of maths (as the text printer counts them) that fit across the page
WHY_BESIDE = 38  # longer justifications wrap in a box this wide:
WHY_WIDTH = "2.3in"
PREAMBLE = r"""\documentclass{article}
\usepackage{amsmath}
\setlength{\textwidth}{6.5in}\setlength{\oddsidemargin}{0in}\setlength{\evensidemargin}{0in}
\setlength{\textheight}{9in}\setlength{\topmargin}{-0.5in}
\setlength{\parindent}{0pt}\setlength{\parskip}{0.6ex}
\allowdisplaybreaks
"""


def latex_prose(text: str) -> str:
    """Plain words for LaTeX: specials escaped, `code` in \\texttt, Unicode maths as inline maths."""
    segments: list[list] = []  # [kind, text], kind 'text' or 'math'

    def add(kind, s):
        if segments and segments[-1][0] == kind:
            segments[-1][1] += s
        else:
            segments.append([kind, s])

    for part in re.split(r"(`[^`]*`)", text):
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            add("text", r"\texttt{" + "".join(TEXT.get(c, _ascii(c)) for c in part[1:-1]) + "}")
            continue
        part, position = part.replace(" - ", " − "), 0
        for match in SUBSCRIPTED.finditer(part):
            _chars(part[position:match.start()], add, segments)
            add("math", f"{MATH.get(match[1], match[1])}_{{{match[2].strip('{}')}}} ")
            position = match.end()
        _chars(part[position:], add, segments)
    return "".join(f"${s.strip()}$" if kind == "math" else s for kind, s in segments)


def _chars(text: str, add, segments) -> None:
    for c in text:
        if c in SCRIPTS:
            mark, plain = SCRIPTS[c]
            if segments and segments[-1][0] == "text" and segments[-1][1][-1:].isalpha():
                letter = segments[-1][1][-1]
                segments[-1][1] = segments[-1][1][:-1]
                add("math", letter)
            add("math", f"{mark}{{{MATH.get(plain, plain)}}}")
        elif c == MACRON and segments:
            kind, s = segments[-1]
            segments[-1][1] = s[:-1]
            add("math", rf"\bar{{{s[-1]}}}")
        elif c in MATH and (c not in "<>|" or True):
            add("math", MATH[c] + " ")
        else:
            add("text", TEXT.get(c, _ascii(c)))


def _ascii(c: str) -> str:
    if ord(c) < 128:
        return c
    return unicodedata.normalize("NFKD", c).encode("ascii", "ignore").decode() or "?"


def breaks(s: str) -> list[int]:
    """Top-level places to break a LaTeX formula: before + and −, after \\cdot."""
    depth, points = 0, []
    for match in re.finditer(r"\\left\b|\\right\b|\\begin|\\end|[{}]| [+-] | \\cdot ", s):
        token = match[0]
        if token in ("{", r"\left", r"\begin"):
            depth += 1
        elif token in ("}", r"\right", r"\end"):
            depth -= 1
        elif depth == 0:
            points.append(match.start() if token.strip() in "+-" else match.end())
    return points


class LatexRenderer(Renderer):
    printer = LatexPrinter()
    measure = TextPrinter()

    def document(self, parts):
        body = "\n\n".join([rf"\section*{{{latex_prose(self.derivation.title)}}}", *parts]) + "\n"
        return standalone_document(body) if self.standalone else body

    def heading(self, title):
        return rf"\subsection*{{{latex_prose(title)}}}"

    def prose(self, text):
        return latex_prose(text)

    def math(self, groups):
        rows = [" \\\\\n".join(line for row in group for line in self.row_lines(row)) for group in groups]
        return "\\begin{align*}\n" + " \\\\[1ex]\n".join(rows) + "\n\\end{align*}"

    def row_lines(self, row: Row) -> list[str]:
        indent = r"\quad" * (2 * row.depth)
        rels = [self.relation(row.rel if i == 0 else "=") for i in range(len(row.rhs))]
        sides = [f"{rel} {self.show(side)}" for rel, side in zip(rels, row.rhs)]
        widths = [self.width(side) + 2 for side in row.rhs]
        lhs = self.show(row.lhs) if row.lhs is not None else ""
        lhs_width = self.width(row.lhs) if row.lhs is not None else 0
        room = ROOM - 2 * row.depth - (min(len(row.why), WHY_BESIDE) + 4 if row.why else 0)
        if row.depth == 0:
            first = f"{lhs} &" if row.lhs is not None else "&"
        else:
            first = f"& {indent} {lhs} " if row.lhs is not None else f"& {indent} "
            indent += r"\qquad" if row.lhs is not None else ""
        more = "&" if row.depth == 0 else f"& {indent} "
        if lhs_width + sum(widths) <= room:
            lines = [first + " ".join(sides)]
        elif row.lhs is not None and lhs_width + widths[0] <= room:
            lines = [first + sides[0]] + [more + s for s in sides[1:]]
        else:
            lines = ([first.rstrip(" &") + (" &" if row.depth == 0 else "")] if row.lhs is not None else []) + \
                [more + s for s in sides]
        lines = [piece for line in lines for piece in self.split(line, room, more)]
        return self.justify(lines, row.why)

    def split(self, line: str, room: int, more: str) -> list[str]:
        """A line too wide for the page, broken at top-level + − and \\cdot."""
        if self.visible(line) <= room:
            return [line]
        start = line.index("&") + 1
        points = [p + start for p in breaks(line[start:])]
        pieces, begin = [], 0
        for a, b in zip(points, points[1:] + [len(line)]):
            if self.visible(line[begin:b]) > room and a > begin:
                pieces.append(line[begin:a].rstrip())
                begin = a
        pieces.append(line[begin:])
        return [pieces[0]] + [f"{more}\\qquad {p.strip()}" for p in pieces[1:]]

    def justify(self, lines: list[str], why: str) -> list[str]:
        if not why:
            return lines
        if len(why) <= WHY_BESIDE:
            return lines[:-1] + [lines[-1] + rf" && \text{{{latex_prose(why)}}}"]
        return lines[:-1] + [lines[-1] + rf" && \parbox{{{WHY_WIDTH}}}{{\raggedright\small {latex_prose(why)}}}"]

    def relation(self, rel: str) -> str:
        return {"=": "=", "←": r"\leftarrow"}[rel]

    def width(self, expr) -> int:
        return len(self.measure.doprint(expr))

    @staticmethod
    def visible(s: str) -> int:
        """About how many characters ``s`` shows: commands count one, braces and spacing none."""
        s = re.sub(r"\\(left|right|quad|qquad|text|operatorname|frac|begin\{cases\}|end\{cases\})", "", s)
        return len(re.sub(r"\\[A-Za-z]+", "x", re.sub(r"[{}&\s^_]", "", s)))


def standalone_document(body: str) -> str:
    """``body`` as a whole document that pdflatex compiles with amsmath alone."""
    return PREAMBLE + "\\begin{document}\n\n" + body + "\n\\end{document}\n"
