"""Plain text for an 80-column terminal: underlined headings, wrapped prose, equations one ``= …`` a line when
they do not fit on one, rule trees indented under the equation they work out, and each justification in
brackets at the right margin of its line (or of the next line, when it does not fit beside it).
"""
from __future__ import annotations

import re
import textwrap

from derive.render import numbers as numerals
from derive.render.base import Renderer, Row, is_number
from derive.render.printers import SUB, TextPrinter

WIDTH = 80
INDENT = 2       # maths and prose start here
GAP = 3          # at least this many spaces before a justification
COLUMN_GAP = 2   # spaces between the columns of a table
COMBINING = frozenset(chr(c) for c in range(0x300, 0x370))  # the combining diacritical marks
CODE = re.compile(r"(`[^`]*`)")
SUBSCRIPT = re.compile(r"(?<=[A-Za-zα-ωΣ])_([ijklmn0-9]{1,2})\b")  # x_j, W_jk: indices, never words


def width(s: str) -> int:
    """Columns ``s`` takes in a terminal (combining marks, as in L̄, take none)."""
    return len(s) - sum(1 for c in s if c in COMBINING)


def breakpoints(s: str) -> list[tuple[int, int]]:
    """(depth, index) where a long formula may break: before + and −, after · and after a )/( fraction bar."""
    depth, points = 0, []
    for i, c in enumerate(s):
        depth += c in "([{"
        depth -= c in ")]}"
        if i > 0 and (s.startswith(" + ", i) or s.startswith(" − ", i)):
            points.append((depth, i))
        elif (c == "·" and s[i - 1] != " ") or (c == "/" and s[i - 1] == ")" and s[i + 1:i + 2] == "("):
            points.append((depth, i + 1))
    return points


def wrap_formula(line: str, hang: int) -> list[str]:
    """``line`` broken at its outermost operators so each piece fits, continuations indented to ``hang``."""
    out = []
    while width(line) > WIDTH:
        points = sorted(breakpoints(line))
        usable = [(d, p) for d, p in points if p > hang and line[:p].strip()]
        fitting = [(d, p) for d, p in usable if width(line[:p].rstrip()) <= WIDTH and width(line[p:]) + hang < width(line)]
        if not fitting:
            break
        shallowest = min(d for d, _ in fitting)
        cut = max(p for d, p in fitting if d == shallowest)
        out.append(line[:cut].rstrip())
        line = " " * hang + line[cut:].lstrip()
    return out + [line]


def prose_text(text: str) -> str:
    """Notes as the maths prints them: w_j -> wⱼ and a - y -> a − y, except inside `code`."""
    def plain(part):
        part = SUBSCRIPT.sub(lambda m: "".join(SUB[c] for c in m[1]) if all(c in SUB for c in m[1]) else m[0], part)
        return part.replace(" - ", " − ")
    return "".join(part if part.startswith("`") else plain(part) for part in CODE.split(text))


class TextRenderer(Renderer):
    printer = TextPrinter()

    def document(self, parts):
        title = self.derivation.title
        return "\n\n".join([f"{title}\n{'═' * width(title)}", *parts]) + "\n"

    def heading(self, title):
        return f"{title}\n{'─' * width(title)}"

    def prose(self, parts):
        text = "".join(prose_text(p) if isinstance(p, str) else self.inline(p) for p in parts)
        return textwrap.fill(text, WIDTH, initial_indent=" " * INDENT, subsequent_indent=" " * INDENT,
                             break_on_hyphens=False)

    def math(self, groups):
        """Groups one after the other; a blank line around any group of more than one row."""
        text = ""
        for index, group in enumerate(groups):
            if index:
                text += "\n\n" if len(group) > 1 or len(groups[index - 1]) > 1 else "\n"
            text += "\n".join(self.group_lines(group))
        return text

    def table(self, table):
        """The caption, then the columns (numbers right-aligned); a table wider than the terminal is printed in
        parts, each repeating the first column."""
        header = [prose_text(c) if isinstance(c, str) else self.show(c) for c in table.columns]
        rows = [[numerals.text(c, table.digits) if is_number(c) else prose_text(c) if isinstance(c, str)
                 else self.show(c) for c in row] for row in table.rows]
        widths = [max(width(cell) for cell in [h, *(row[i] for row in rows)]) for i, h in enumerate(header)]
        numeric = [any(is_number(row[i]) for row in table.rows) for i in range(len(header))]
        pad = lambda cell, i: " " * (widths[i] - width(cell)) + cell if numeric[i] \
            else cell + " " * (widths[i] - width(cell))
        parts = [self.prose((table.caption,))] if table.caption else []
        for group in column_groups(widths, WIDTH - INDENT):
            lines = [" " * INDENT + (" " * COLUMN_GAP).join(pad(line[i], i) for i in group).rstrip()
                     for line in [header, *rows]]
            lines.insert(1, " " * INDENT + (" " * COLUMN_GAP).join("─" * widths[i] for i in group))
            parts.append("\n".join(lines))
        return "\n\n".join(parts)

    def group_lines(self, rows: list[Row]) -> list[str]:
        lines, columns = [], {}  # columns: depth -> where that depth's continuation '=' goes
        for row in rows:
            if row.lhs is not None:
                start = INDENT if row.depth == 0 else columns[0] + 2 * row.depth
                lhs = self.show(row.lhs)
                columns[row.depth] = start + width(lhs) + 1 if row.depth == 0 else start
                lines += self.chain(" " * start + lhs + " ", start + width(lhs) + 1, row, start + 4)
            else:
                column = columns.get(row.depth, INDENT)
                lines += self.chain(None, column, row, column)
        return lines

    def chain(self, prefix: str | None, column: int, row: Row, fallback: int) -> list[str]:
        """lhs = a = b …: on one line if it fits, else one ``= side`` a line under the first '='.

        The first layout that keeps every line and the justification within the width wins.
        """
        parts = [f"{row.rel if i == 0 else '='} {self.show(side)}" for i, side in enumerate(row.rhs)]
        layouts = [[prefix + " ".join(parts)]] if prefix is not None else []
        layouts += [self.stacked(prefix, c, parts, below) for c, below in
                    ((column, False), (column, True), (min(column, fallback), True))]
        fits = [lines for lines in layouts if all(width(line) <= WIDTH for line in lines)] or layouts[-1:]
        below = lambda lines: not self.beside(lines[-1], row.why)
        return self.justify(min(fits, key=lambda lines: (len(lines) + below(lines), below(lines))), row.why)

    @staticmethod
    def stacked(prefix: str | None, column: int, parts: list[str], below: bool) -> list[str]:
        lines = []
        if prefix is not None:
            if parts and not below and width(prefix + parts[0]) <= WIDTH:
                lines, parts = [prefix + parts[0]], parts[1:]
            else:
                lines = [prefix.rstrip()]
        for part in parts:
            lines += wrap_formula(" " * column + part, column + 2)
        return lines

    @staticmethod
    def beside(line: str, why: str) -> bool:
        return not why or width(line) + GAP + width(prose_text(why)) + 2 <= WIDTH

    @staticmethod
    def justify(lines: list[str], why: str) -> list[str]:
        """Put ``[why]`` at the right margin of the last line, or on a line of its own below."""
        if not why:
            return lines
        note = f"[{prose_text(why)}]"
        last = lines[-1]
        if TextRenderer.beside(last, why):
            return lines[:-1] + [last + " " * (WIDTH - width(last) - width(note)) + note]
        if width(note) <= WIDTH - INDENT - 4:
            return lines + [" " * (WIDTH - width(note)) + note]
        indent = " " * (INDENT + 4)
        return lines + textwrap.wrap(note, WIDTH, initial_indent=indent, subsequent_indent=indent + " ")


def column_groups(widths: list[int], room: int) -> list[list[int]]:
    """Column indices in groups that fit ``room``, each group starting with column 0."""
    groups, group = [], [0]
    for index in range(1, len(widths)):
        if len(group) > 1 and sum(widths[i] + COLUMN_GAP for i in group) + widths[index] > room:
            groups.append(group)
            group = [0]
        group.append(index)
    return groups + [group]
