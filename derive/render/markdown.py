"""Markdown for GitHub: ``#`` headings, notes as paragraphs, maths as ``$$`` blocks holding
``\\begin{aligned}…\\end{aligned}`` (the rows of the LaTeX renderer), with standard commands only, so GitHub's
MathJax shows them. Justifications are ``\\text{…}`` in Unicode, since MathJax has no ``\\parbox``.
"""
from __future__ import annotations

import re

from derive.render.latex import LatexRenderer
from derive.render.text import prose_text

MARKDOWN_SPECIALS = re.compile(r"([\\*_<>\[\]])")
TEXT_SPECIALS = re.compile(r"([\\{}$&%#])")


class MarkdownRenderer(LatexRenderer):
    def document(self, parts):
        return "\n\n".join([f"# {self.derivation.title}", *parts]) + "\n"

    def heading(self, title):
        return f"## {title}"

    def prose(self, text):
        parts = re.split(r"(`[^`]*`)", prose_text(text))
        return "".join(p if p.startswith("`") else MARKDOWN_SPECIALS.sub(r"\\\1", p) for p in parts)

    def math(self, groups):
        rows = [" \\\\\n".join(line for row in group for line in self.row_lines(row)) for group in groups]
        return "$$\n\\begin{aligned}\n" + " \\\\[1ex]\n".join(rows) + "\n\\end{aligned}\n$$"

    def justify(self, lines, why):
        if not why:
            return lines
        shown = TEXT_SPECIALS.sub(r"\\\1", prose_text(why))
        return lines[:-1] + [lines[-1] + rf" && \text{{{shown}}}"]
