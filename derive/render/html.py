"""HTML: one self-contained page that works offline, the maths as MathML Core (drawn natively by Chromium,
Firefox and Safari; no script, no font or stylesheet fetched), a small embedded stylesheet that also prints.

The maths is the LaTeX renderer's, row for row, converted by ``derive.render.mathml``: each aligned block is a
table with one row per line, the left side right-aligned before the relation, the rest left-aligned, and the
justification in a column of its own. Prose and justifications are HTML text, their maths MathML.
``fragment=True`` gives the body alone, its style scoped to it (Jupyter's ``_repr_html_``). Tables of numbers
(a worked example, a trace) are HTML tables; figures (``derive show --format html --figures``) are inline SVG
with their text kept as text.
"""
from __future__ import annotations

from html import escape

from derive.render import numbers as numerals
from derive.render.base import Row, is_number
from derive.render.latex import LatexRenderer
from derive.render.mathml import mathml
from derive.render.prose import segments

STYLE = """
.derivation { font-family: "Latin Modern Roman", "STIX Two Text", Georgia, "Times New Roman", serif;
  line-height: 1.5; color: #111; background: #fff; max-width: 60em; margin: 0 auto; padding: 1.5em 1em; }
.derivation h1 { font-size: 1.5em; margin: 0 0 0.8em; }
.derivation h2 { font-size: 1.2em; margin: 1.6em 0 0.6em; border-bottom: 1px solid #ccc; }
.derivation math { font-family: math, "STIX Two Math", "Latin Modern Math", "Cambria Math", serif;
  font-size: 1.1em; }
.derivation .maths { margin: 0.6em 0 0.6em 1.5em; }
.derivation table { border-collapse: collapse; width: 100%; }
.derivation td { padding: 0.2em 0.25em; vertical-align: baseline; }
.derivation td.lhs { text-align: right; white-space: nowrap; padding-right: 0; }
.derivation td.rhs { text-align: left; white-space: nowrap; width: 100%; padding-left: 0; }
.derivation td.why { color: #444; font-size: 0.9em; padding-left: 2em; min-width: 16em; }
.derivation tr.gap > td { padding-top: 0.9em; }
.derivation code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.9em; }
.derivation .numbers { overflow-x: auto; margin: 0.6em 0 0.6em 1.5em; }
.derivation .numbers table { width: auto; }
.derivation .numbers th, .derivation .numbers td { padding: 0.15em 0.8em; border-bottom: 1px solid #ddd; }
.derivation .numbers td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.derivation .numbers caption { text-align: left; padding-bottom: 0.4em; }
.derivation figure { margin: 1em 0; }
.derivation figure svg { max-width: 100%; height: auto; }
.derivation figcaption { color: #444; font-size: 0.9em; }
@media print {
  .derivation { max-width: none; padding: 0; }
  .derivation tr, .derivation p { break-inside: avoid; }
  .derivation h2 { break-after: avoid; }
}
""".strip()
PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
{style}
</style>
</head>
<body>
{body}
</body>
</html>
"""


class HtmlRenderer(LatexRenderer):
    """``figures``: (caption, inline <svg>) pairs (``derive.plot``) put at the end under "Figures"."""

    def __init__(self, derivation, *, standalone: bool = False, fragment: bool = False, figures: tuple = ()):
        super().__init__(derivation, standalone=standalone)
        self.fragment = fragment
        self.figures = tuple(figures)

    def document(self, parts):
        if self.figures:
            parts = [*parts, self.heading("Figures"),
                     *(f"<figure>\n{svg}\n<figcaption>{words(caption)}</figcaption>\n</figure>"
                       for caption, svg in self.figures)]
        body = "\n".join(['<div class="derivation">', f"<h1>{words(self.derivation.title)}</h1>", *parts, "</div>"])
        if self.fragment:
            return f"<style>\n{STYLE}\n</style>\n{body}\n"
        return PAGE.format(title=escape(self.derivation.title), style=STYLE, body=body)

    def heading(self, title):
        return f"<h2>{words(title)}</h2>"

    def prose(self, parts):
        shown = "".join(words(p) if isinstance(p, str) else mathml(self.inline(p)) for p in parts)
        return f"<p>{shown}</p>"

    def math(self, groups):
        rows, justified = [], any(row.why for group in groups for row in group)
        for group in groups:
            for index, row in enumerate(group):
                rows += self.table_rows(row, gap=bool(rows) and index == 0, justified=justified)
        return '<div class="maths"><table>\n' + "\n".join(rows) + "\n</table></div>"

    def table(self, table):
        """A table of numbers: the caption, the column heads as MathML, numbers right-aligned in Unicode."""
        heading = lambda c: words(c) if isinstance(c, str) else mathml(self.inline(c))
        cell = lambda c: f'<td class="n">{numerals.text(c, table.digits)}</td>' if is_number(c) \
            else f"<td>{words(c) if isinstance(c, str) else mathml(self.inline(c))}</td>"
        rows = ["<tr>" + "".join(f"<th>{heading(c)}</th>" for c in table.columns) + "</tr>"]
        rows += ["<tr>" + "".join(cell(c) for c in row) + "</tr>" for row in table.rows]
        caption = f"<caption>{words(table.caption)}</caption>\n" if table.caption else ""
        return '<div class="numbers"><table>\n' + caption + "\n".join(rows) + "\n</table></div>"

    def table_rows(self, row: Row, gap: bool, justified: bool) -> list[str]:
        """One <tr> per line of the LaTeX layout: left side | relation and the rest | justification (when the
        block has any)."""
        lines = self.layout(row)
        out = []
        for number, line in enumerate(lines):
            left, right = line.split("&", 1)
            why = words(row.why) if row.why and number == len(lines) - 1 else ""
            cells = [f'<td class="lhs">{mathml(left, display=True) if left.strip() else ""}</td>',
                     f'<td class="rhs">{mathml(right, display=True) if right.strip() else ""}</td>',
                     f'<td class="why">{why}</td>' if justified else ""]
            opening = '<tr class="gap">' if gap and number == 0 else "<tr>"
            out.append(opening + "".join(cells) + "</tr>")
        return out


def words(text: str) -> str:
    """Plain words as HTML: their maths as MathML, `code` as <code>, the rest escaped."""
    out = []
    for kind, s in segments(text):
        if kind == "math":
            out.append(mathml(s))
        elif kind == "code":
            out.append(f"<code>{escape(s)}</code>")
        else:
            out.append(escape(s, quote=False))
    return "".join(out)
