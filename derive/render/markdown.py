"""Markdown for GitHub: ``#`` headings, notes as paragraphs in Unicode, maths as ``$$`` blocks holding
``\\begin{aligned}…\\end{aligned}`` (the rows of the LaTeX renderer), with standard commands only, so GitHub's
MathJax shows them. Justifications are ``&& \\text{…}`` in Unicode, since MathJax has no ``\\parbox``; one that
does not fit beside its row goes on rows of its own below it, in the same column. No line of a block is longer
than ``LINE`` characters (GitHub would scroll it sideways): long formulas are folded at spaces, which TeX ignores.
"""
from __future__ import annotations

import re
import textwrap

from derive.render import numbers as numerals
from derive.render.base import is_number
from derive.render.latex import LatexRenderer
from derive.render.printers import TextPrinter
from derive.render.text import prose_text

MARKDOWN_SPECIALS = re.compile(r"([\\*_<>\[\]])")
TEXT_SPECIALS = re.compile(r"([\\{}$&%#])")
LINE = 100       # the longest line of a maths block
WHY_WIDTH = 60   # a justification on rows of its own is wrapped to this many characters
UNSAFE_START = re.compile(r"[-+=*#>|0-9]")  # a line starting so might read as Markdown (list, heading, quote)


class MarkdownRenderer(LatexRenderer):
    words_printer = TextPrinter()

    def document(self, parts):
        return "\n\n".join([f"# {self.derivation.title}", *parts]) + "\n"

    def heading(self, title):
        return f"## {title}"

    def prose(self, parts):
        text = "".join(prose_text(p) if isinstance(p, str) else self.words(p) for p in parts)
        pieces = re.split(r"(`[^`]*`)", text)
        return "".join(p if p.startswith("`") else MARKDOWN_SPECIALS.sub(r"\\\1", p) for p in pieces)

    def words(self, maths) -> str:
        """A note's maths in Unicode, as the text renderer prints it."""
        if isinstance(maths, tuple):
            return " ".join(p if isinstance(p, str) else self.words(p) for p in maths)
        return self.words_printer.doprint(maths)

    def table(self, table):
        """The caption as a paragraph, then a pipe table in Unicode (numbers right-aligned)."""
        numeric = [any(is_number(row[i]) for row in table.rows) for i in range(len(table.columns))]
        escape = lambda s: MARKDOWN_SPECIALS.sub(r"\\\1", s).replace("|", r"\|")
        heading = lambda c: escape(prose_text(c) if isinstance(c, str) else self.words(c))
        cell = lambda c: numerals.text(c, table.digits) if is_number(c) else heading(c)
        lines = ["| " + " | ".join(heading(c) for c in table.columns) + " |",
                 "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
        lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in table.rows]
        return "\n\n".join(([self.prose((table.caption,))] if table.caption else []) + ["\n".join(lines)])

    def math(self, groups):
        rows = [" \\\\\n".join(line for row in group for line in self.row_lines(row)) for group in groups]
        body = " \\\\[1ex]\n".join(rows)
        lines = [piece for line in body.splitlines() for piece in fold(line, LINE)]
        return "$$\n\\begin{aligned}\n" + "\n".join(lines) + "\n\\end{aligned}\n$$"

    def justify(self, lines, why):
        if not why:
            return lines
        shown = TEXT_SPECIALS.sub(r"\\\1", prose_text(why))
        beside = f"{lines[-1]} && \\text{{{shown}}}"
        if len(beside) + len(" \\\\[1ex]") <= LINE:
            return lines[:-1] + [beside]
        return lines + [f"&& \\text{{{piece}}}" for piece in textwrap.wrap(shown, WHY_WIDTH)]


def fold(line: str, room: int) -> list[str]:
    """``line`` broken at spaces (outside \\text{…}) into pieces of at most ``room`` characters; no piece starts
    with a character Markdown would read, nor with the row's closing \\\\."""
    if len(line) <= room:
        return [line]
    breaks, depth, text_depth = [], 0, None
    for i, c in enumerate(line):
        if line.startswith("\\text{", i) and text_depth is None:
            text_depth = depth
        depth += (c == "{") - (c == "}")
        if c == "}" and text_depth is not None and depth == text_depth:
            text_depth = None
        if c == " " and text_depth is None and not UNSAFE_START.match(line[i + 1:i + 2] or "-") \
                and not line.startswith("\\\\", i + 1):
            breaks.append(i)
    pieces, start = [], 0
    while len(line) - start > room:
        fitting = [b for b in breaks if start < b <= start + room]
        if not fitting:
            break
        pieces.append(line[start:fitting[-1]])
        start = fitting[-1] + 1
    return pieces + [line[start:]]
