"""LaTeX that compiles with amsmath alone: one ``align*`` per run of equations, each justification in one
column at the right margin (``\\tag*`` holding a fixed-width ragged-right box, which amsmath moves to the next
line when the row leaves no room), notes as paragraphs between them, rule trees indented with ``\\quad``.
Prose goes through ``latex_prose``: the maths in it (found by ``derive.render.prose``) as ``$…$``, TeX's special
characters escaped. ``standalone=True`` wraps a whole document.
"""
from __future__ import annotations

import re
import unicodedata

from derive.render import numbers as numerals
from derive.render.base import Renderer, Row, is_number
from derive.render.printers import InlineLatexPrinter, LatexPrinter, TextPrinter
from derive.render.prose import GREEK, OPERATORS as SIGNS, segments

TEXT = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "_": r"\_", "&": r"\&", "%": r"\%", "#": r"\#",
        "$": r"\$", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "’": "'", "‘": "`", "“": "``",
        "”": "''", "—": "---", "–": "--", "\u00a0": "~", "<": r"\textless{}", ">": r"\textgreater{}"}
RELATIONS = {"=": "=", "≠": r"\neq", "<": "<", ">": ">", "≤": r"\leq", "≥": r"\geq", "←": r"\leftarrow"}
ROOM = 64        # characters of maths (as the text printer counts them) that fit across the page
TABLE_COLUMNS = 8  # columns of a tabular across the page; a wider table is set in parts, each repeating column 0
WHY_BOX = r"\parbox[t]{0.3\textwidth}{\raggedright\small "  # the justification column, closed by "}"
PREAMBLE = r"""\documentclass{article}
\usepackage{amsmath}
\setlength{\textwidth}{6.5in}\setlength{\oddsidemargin}{0in}\setlength{\evensidemargin}{0in}
\setlength{\textheight}{9in}\setlength{\topmargin}{-0.5in}
\setlength{\parindent}{0pt}\setlength{\parskip}{0.6ex}
\allowdisplaybreaks
"""


def latex_prose(text: str) -> str:
    """Plain words for LaTeX: maths as $…$, `code` in \\texttt, TeX's specials escaped."""
    out = []
    for kind, s in segments(text):
        if kind == "math":
            out.append(f"${s}$")
        elif kind == "code":
            out.append(r"\texttt{" + "".join(TEXT.get(c, _ascii(c)) for c in s) + "}")
        else:
            out.append("".join(TEXT.get(c) or _stray(c) for c in s))
    return "".join(out)


def _stray(c: str) -> str:
    """A maths character the scanner left in the words (a lone −, ·, ∂): inline maths; anything else ASCII."""
    latex = GREEK.get(c) or (SIGNS.get(c) if c not in "-+=/" else None)
    return f"${latex}$" if latex else _ascii(c)


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
    inline_printer = InlineLatexPrinter()
    measure = TextPrinter()

    def document(self, parts):
        body = "\n\n".join([rf"\section*{{{latex_prose(self.derivation.title)}}}", *parts]) + "\n"
        return standalone_document(body) if self.standalone else body

    def heading(self, title):
        return rf"\subsection*{{{latex_prose(title)}}}"

    def prose(self, parts):
        return "".join(latex_prose(p) if isinstance(p, str) else f"${self.inline(p)}$" for p in parts)

    def math(self, groups):
        rows = [" \\\\\n".join(line for row in group for line in self.row_lines(row)) for group in groups]
        return "\\begin{align*}\n" + " \\\\[1ex]\n".join(rows) + "\n\\end{align*}"

    def table(self, table):
        """The caption as a paragraph, then a centred tabular (numbers right-aligned, in maths mode)."""
        numeric = [any(is_number(row[i]) for row in table.rows) for i in range(len(table.columns))]
        heading = lambda c: latex_prose(c) if isinstance(c, str) else f"${self.inline(c)}$"
        cell = lambda c: f"${numerals.latex(c, table.digits)}$" if is_number(c) else heading(c)
        parts = [latex_prose(table.caption)] if table.caption else []
        for group in column_chunks(len(table.columns), TABLE_COLUMNS):
            spec = "".join("r" if numeric[i] else "l" for i in group)
            lines = [" & ".join(heading(table.columns[i]) for i in group) + r" \\ \hline"]
            lines += [" & ".join(cell(row[i]) for i in group) + r" \\" for row in table.rows]
            parts.append("\\begin{center}\n\\begin{tabular}{" + spec + "}\n" + "\n".join(lines) +
                         "\n\\end{tabular}\n\\end{center}")
        return "\n".join(parts)

    def row_lines(self, row: Row) -> list[str]:
        return self.justify(self.layout(row), row.why)

    def layout(self, row: Row) -> list[str]:
        """The row as align lines ``lhs & = side …``, broken where it would run past the page."""
        indent = r"\quad" * (2 * row.depth)
        rels = [self.relation(row.rel if i == 0 else "=") for i in range(len(row.rhs))]
        sides = [f"{rel} {self.show(side)}" for rel, side in zip(rels, row.rhs)]
        widths = [self.width(side) + 2 for side in row.rhs]
        lhs = self.show(row.lhs) if row.lhs is not None else ""
        lhs_width = self.width(row.lhs) if row.lhs is not None else 0
        room = ROOM - 2 * row.depth
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
        return [piece for line in lines for piece in self.split(line, room, more)]

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
        """``why`` in the justification column at the right margin of the row's last line."""
        if not why:
            return lines
        return lines[:-1] + [lines[-1] + rf" \tag*{{{WHY_BOX}{latex_prose(why)}}}}}"]

    def relation(self, rel: str) -> str:
        return RELATIONS[rel]

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


def column_chunks(count: int, most: int) -> list[list[int]]:
    """Column indices in groups of at most ``most``, each starting with column 0."""
    rest = list(range(1, count))
    return [[0, *rest[k:k + most - 1]] for k in range(0, max(len(rest), 1), most - 1)]
