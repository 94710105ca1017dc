"""LaTeX that compiles with amsmath alone: one ``align*`` per run of equations, justifications as
``&& \\text{…}`` (long ones as ``\\tag*`` at the margin), notes as paragraphs between them, rule trees indented with
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
ROOM = 64        # characters of maths (as the text printer counts them) that fit across the page
WHY_BESIDE = 30  # longer justifications go to the right margin as \tag*, on a line of their own if need be
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
    merged: list[list] = []
    for kind, s in segments:
        if not s:
            continue
        if merged and merged[-1][0] == kind:
            merged[-1][1] += s
        else:
            merged.append([kind, s])
    return "".join(f"${s.strip()}$" if kind == "math" else s for kind, s in merged)


def _chars(text: str, add, segments) -> None:
    for c in text:
        if c in SCRIPTS:
            mark, plain = SCRIPTS[c]
            last = segments[-1] if segments else None
            if last and last[0] == "math" and last[1].endswith("}") and last[1].rsplit("{", 1)[0].endswith(mark):
                last[1] = last[1][:-1] + MATH.get(plain, plain) + "}"  # one more character of the same script
                continue
            if last and last[0] == "text" and last[1][-1:].isalpha():
                last[1], letter = last[1][:-1], last[1][-1]
                add("math", letter)
            add("math", f"{mark}{{{MATH.get(plain, plain)}}}")
        elif c == MACRON and segments:
            kind, s = segments[-1]
            segments[-1][1] = s[:-1]
            add("math", rf"\bar{{{s[-1]}}}")
        elif c in MATH:
            add("math", MATH[c] + " ")
        else:
            add("text", TEXT.get(c, _ascii(c)))


def _ascii(c: str) -> str:
    if ord(c) < 128:
        return c
    return unicodedata.normalize("NFKD", c).encode("ascii", "ignore").decode() or "?"


TOKEN = re.compile(r"\\left.|\\right.|\\begin\{[a-z*]+\}|\\end\{[a-z*]+\}|\\[A-Za-z]+|\\.|\s+|.")
OPERATORS = ("+", "-", "=", r"\cdot", "&", r"\leftarrow", r"\odot")
PREFIXES = (r"\sum", r"\frac{1}{N}", r"\frac{d}")  # operators written before what they act on


def breaks(s: str) -> list[tuple[int, str]]:
    """Top-level places to break a LaTeX formula: (index, kind) with kind 'before' a + or −, 'after' a
    \\cdot, or 'product' between two juxtaposed factors (the continuation then starts with \\cdot)."""
    depth, points, word = 0, [], 0
    tokens = [(m.start(), m[0]) for m in TOKEN.finditer(s)]
    for k, (i, token) in enumerate(tokens):
        if token == "{" or token.startswith((r"\left", r"\begin")):
            depth += 1
        elif token == "}" or token.startswith((r"\right", r"\end")):
            depth -= 1
        elif depth == 0 and token == r"\cdot":
            points.append((i + len(token), "after"))
        elif depth == 0 and token.isspace():
            after = tokens[k + 1][1] if k + 1 < len(tokens) else ""
            before = s[word:i]
            if after in ("+", "-") and before not in OPERATORS:
                points.append((i, "before"))
            elif before and after and before not in OPERATORS and after not in OPERATORS \
                    and not before.startswith(PREFIXES) and not after.isspace():
                points.append((i, "product"))
            word = i + len(token)
    return points


class LatexRenderer(Renderer):
    printer = LatexPrinter()
    measure = TextPrinter()
    reserve = 0  # width the justification column takes in the current align

    def document(self, parts):
        body = "\n\n".join([rf"\section*{{{latex_prose(self.derivation.title)}}}", *parts]) + "\n"
        return standalone_document(body) if self.standalone else body

    def heading(self, title):
        return rf"\subsection*{{{latex_prose(title)}}}"

    def prose(self, text):
        return latex_prose(text)

    def math(self, groups):
        short = [len(row.why) for group in groups for row in group if 0 < len(row.why) <= WHY_BESIDE]
        self.reserve = round(0.6 * max(short)) + 3 if short else 0  # the && column's width, in maths characters
        rows = [" \\\\\n".join(line for row in group for line in self.row_lines(row)) for group in groups]
        return "\\begin{align*}\n" + " \\\\[1ex]\n".join(rows) + "\n\\end{align*}"

    def row_lines(self, row: Row) -> list[str]:
        indent = r"\quad" * (2 * row.depth)
        rels = [self.relation(row.rel if i == 0 else "=") for i in range(len(row.rhs))]
        sides = [f"{rel} {self.show(side)}" for rel, side in zip(rels, row.rhs)]
        widths = [self.width(side) + 2 for side in row.rhs]
        lhs = self.show(row.lhs) if row.lhs is not None else ""
        lhs_width = self.width(row.lhs) if row.lhs is not None else 0
        room = ROOM - 2 * row.depth - self.reserve
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
        else:  # the left side alone, then one '= side' a line
            lines = ([first.rstrip()] if row.lhs is not None else []) + [more + s for s in sides]
        lines = [piece for line in lines for piece in self.split(line, room, more)]
        return self.justify(lines, row.why)

    def split(self, line: str, room: int, more: str) -> list[str]:
        """A line too wide for the page, broken at its top-level + and −, after \\cdot, or between factors."""
        if self.visible(line) <= room:
            return [line]
        start = line.index("&") + 1
        points = [(p + start, kind) for p, kind in breaks(line[start:])]
        pieces, begin, kinds = [], 0, [""]
        for (a, kind), (b, _) in zip(points, points[1:] + [(len(line), "")]):
            if self.visible(line[begin:b]) > room and a > begin:
                pieces.append(line[begin:a].rstrip())
                kinds.append(kind)
                begin = a
        pieces.append(line[begin:])
        times = {"product": "\\cdot "}
        return [pieces[0]] + [f"{more}\\qquad {times.get(kind, '')}{p.strip()}" for p, kind in zip(pieces[1:], kinds[1:])]

    def justify(self, lines: list[str], why: str) -> list[str]:
        if not why:
            return lines
        if len(why) <= WHY_BESIDE:
            return lines[:-1] + [lines[-1] + rf" && \text{{\small {latex_prose(why)}}}"]
        return lines[:-1] + [lines[-1] + rf" \tag*{{\small {latex_prose(why)}}}"]

    def relation(self, rel: str) -> str:
        return {"=": "=", "←": r"\leftarrow"}[rel]

    def width(self, expr) -> int:
        """About how wide ``expr`` is, as the text printer counts it."""
        if ("width", expr) not in self._shown:
            self._shown["width", expr] = len(self.measure.doprint(expr))
        return self._shown["width", expr]

    @staticmethod
    def visible(s: str) -> int:
        """About how many characters ``s`` shows: commands count one, braces and spacing none."""
        s = re.sub(r"\\(left|right|quad|qquad|text|operatorname|frac|begin\{cases\}|end\{cases\})", "", s)
        return len(re.sub(r"\\[A-Za-z]+", "x", re.sub(r"[{}&\s^_]", "", s)))


def standalone_document(body: str) -> str:
    """``body`` as a whole document that pdflatex compiles with amsmath alone."""
    return PREAMBLE + "\\begin{document}\n\n" + body + "\n\\end{document}\n"
