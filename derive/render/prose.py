"""Maths inside sentences: ``segments`` splits plain words into text, `code` and maths, the maths as LaTeX, so
that LaTeX prints it as ``$…$`` and HTML as MathML instead of roman letters and carets.

A maths span reads as a formula: symbols with scripts (x_j, W_ij⁽ˡ⁾, δ⁽ᴸ⁾, L̄, a²), Greek letters, ∂ and Σ,
calls (σ(z), max(0, z), ReLU'(0)), groups ((a − y)², |a − y|, (−1, 1)) and the operators between them
(= − + · / ≠ ± ← …); ``e^-z`` and ``e^(z_k)`` are powers. A lone letter is a symbol, except the article
'a' (or 'A', 'I') before a word; a lone number, a word, a snake_case name or a parenthesis holding words stay
text.
To teach it a function name, add it to ``FUNCTIONS`` (a LaTeX command) or let it print as \\operatorname.
"""
from __future__ import annotations

import re

GREEK = {"α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ε": r"\varepsilon", "η": r"\eta",
         "θ": r"\theta", "λ": r"\lambda", "μ": r"\mu", "π": r"\pi", "σ": r"\sigma", "τ": r"\tau", "φ": r"\phi",
         "ω": r"\omega", "Δ": r"\Delta", "Φ": r"\Phi", "Σ": r"\sum"}
OPERATORS = {"=": "=", "≠": r"\neq", "<": "<", ">": ">", "≤": r"\leq", "≥": r"\geq", "←": r"\leftarrow",
             "→": r"\to", "+": "+", "−": "-", "-": "-", "±": r"\pm", "·": r"\cdot", "×": r"\times",
             "⊙": r"\odot", "≈": r"\approx", "/": "/", "∈": r"\in"}
UNARY = ("−", "-", "±", "+", "×")
FUNCTIONS = {"log": r"\log", "exp": r"\exp", "max": r"\max", "min": r"\min", "tanh": r"\tanh", "cosh": r"\cosh",
             "sinh": r"\sinh", "sin": r"\sin", "cos": r"\cos"}
PREFIX = ("log", "exp", "tanh", "cosh", "sinh")  # written before their argument without parentheses: log a
SUB = dict(zip("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", "0123456789+-=()aehijklmnoprstuvx"))
SUP = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂ",
               "0123456789+-=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVW"))
MACRON, PRIMES = "\u0304", "'′"
LETTER = re.compile(r"[A-Za-zα-ωΑ-Ω]")
WORD = re.compile(r"[A-Za-z]{2,}")
NUMBER = re.compile(r"\d+(?:\.\d+)?")
INDEX = re.compile(r"_(\{[^{}]*\}|[A-Za-z0-9]{1,3}(?![A-Za-z0-9]))")
ARTICLES = {"a", "A", "I"}
ARTICLE = re.compile(r" (?!(?:and|or|for|is|are|in|of|to|with|if|at|as|then|so|by|on|from|when|where|has|was)\b)"
                     r"[A-Za-z]{2,}")  # 'a large input': the article; 'a and z', 'log a for': the symbol


def segments(text: str) -> list[tuple[str, str]]:
    """``text`` as [(kind, s)]: kind 'text' (plain characters), 'code' (inside backticks) or 'math' (LaTeX)."""
    out: list[tuple[str, str]] = []
    for part in re.split(r"(`[^`]*`)", text):
        if len(part) > 1 and part.startswith("`") and part.endswith("`"):
            out.append(("code", part[1:-1]))
        elif part:
            out += _Scanner(part).run()
    return out


class _Scanner:
    """One pass over plain words; each ``_name`` method reads one piece of maths at ``self.i`` and returns its
    LaTeX, or None with ``self.i`` where it was."""

    def __init__(self, s: str):
        self.s, self.i = s, 0

    def run(self) -> list[tuple[str, str]]:
        out: list[list[str]] = []
        while self.i < len(self.s):
            start = self.i
            latex = self.span() if self.at_boundary() else None
            if latex is not None:
                out.append(["math", latex])
                continue
            self.i = start
            word = WORD.match(self.s, start) or re.compile(r"[A-Za-z0-9]+").match(self.s, start)
            self.i = word.end() if word else start + 1
            if out and out[-1][0] == "text":
                out[-1][1] += self.s[start:self.i]
            else:
                out.append(["text", self.s[start:self.i]])
        return [(kind, s) for kind, s in out]

    def at_boundary(self) -> bool:
        """At the start of a word: not inside 'cross_entropy', nor the s of "update's"."""
        return self.i == 0 or not (self.s[self.i - 1].isalnum() or self.s[self.i - 1] in "'’_")

    # --- grammar: span := [unary] term (op term)*;  term := factor (juxtaposed factor)* -------------------------
    def span(self) -> str | None:
        start, pieces = self.i, []
        term = self.signed_term()
        if term is None:
            return self.undo(start)
        pieces.append(term[0])
        maths = term[1]
        while True:
            save = self.i
            op = self.operator()
            following = self.signed_term() if op is not None else None
            if following is None:
                self.i = save
                break
            pieces += [op, following[0]]
            maths = True
        return " ".join(pieces) if maths else self.undo(start)

    def signed_term(self) -> tuple[str, bool] | None:
        """A term, after a sign written against it (−log p_c, ±1, ×2) but not a hyphen (-th, -entropy)."""
        start, sign = self.i, ""
        if self.peek() in UNARY and self.s[self.i + 1:self.i + 2] not in (" ", ""):
            sign, self.i = OPERATORS[self.peek()] + " ", self.i + 1
        term = self.term()
        if term is None:
            return self.undo(start)
        return sign + term[0], term[1] or bool(sign)

    def undo(self, start: int) -> None:
        self.i = start
        return None

    def operator(self) -> str | None:
        m = re.compile(r" ?([=≠<>≤≥←→+−\-±·×⊙≈/∈]) ?").match(self.s, self.i)
        if not m or (m[1] == "-" and m[0] == "-" and self.s[m.end():m.end() + 1].isalpha()):
            return None  # one-hot, i-th: a hyphen between words
        self.i = m.end()
        return OPERATORS[m[1]]

    def term(self) -> tuple[str, bool] | None:
        """(LaTeX, whether it is surely maths): a lone number or the article 'a' alone is not."""
        first = self.factor()
        if first is None:
            return None
        pieces, sure = [first[0]], first[1]
        while True:
            save = self.i
            if self.peek() == " ":
                self.i += 1
                nxt = self.factor(strong=True)
            elif self.peek() in "(|":  # σ(z), y|…|; but 'a = y |a − y|' is two formulas
                nxt = self.factor()
            else:
                break
            if nxt is None:
                self.i = save
                break
            pieces.append(nxt[0])
            sure = True
        return " ".join(pieces), sure

    def factor(self, strong: bool = False) -> tuple[str, bool] | None:
        """A symbol, number, call, group or |…|, with its scripts; ``strong``: only what cannot be a word."""
        start, c = self.i, self.peek()
        if c == "∂":
            self.i += 1
            inner = self.factor()
            return (r"\partial " + inner[0], True) if inner else self.undo(start)
        if c in "(|":
            return None if strong and c == "|" else self.group()
        number = NUMBER.match(self.s, self.i)
        if number:
            if strong:
                return None
            self.i = number.end()
            return self.scripts(number[0], False)
        word = WORD.match(self.s, self.i)
        if word:
            return self.call(word[0])
        if LETTER.match(c) and not self.s[self.i + 1:self.i + 2].isalnum():
            self.i += 1
            if c in ARTICLES and ARTICLE.match(self.s, self.i):
                return self.undo(start)
            return self.scripts(GREEK.get(c, c), True)
        return None

    def call(self, name: str) -> tuple[str, bool] | None:
        """max(0, z), ReLU'(0), log a."""
        start = self.i
        self.i += len(name)
        head = FUNCTIONS.get(name, rf"\operatorname{{{name}}}")
        primes = re.compile(f"[{PRIMES}]*").match(self.s, self.i)[0]
        self.i += len(primes)
        if self.peek() == "(":
            group = self.group()
            if group:
                return head + "'" * len(primes) + group[0], True
        elif name in PREFIX and not primes and self.peek() == " ":
            self.i += 1
            argument = self.factor(strong=True)
            if argument:
                return f"{head} {argument[0]}", True
        return self.undo(start)

    def group(self) -> tuple[str, bool] | None:
        """( span, span … ) or |span|, then its scripts: (a − y)², (−1, 1); None when it holds words."""
        start, open_ = self.i, self.peek()
        close = ")" if open_ == "(" else "|"
        self.i += 1
        items = []
        while True:
            item = self.span() or self.bare()
            if item is None:
                return self.undo(start)
            items.append(item)
            if self.s.startswith(", ", self.i) and open_ == "(":
                self.i += 2
                continue
            if self.peek() != close:
                return self.undo(start)
            self.i += 1
            break
        inside = ", ".join(items)
        return self.scripts(f"({inside})" if open_ == "(" else f"|{inside}|", True)

    def bare(self) -> str | None:
        """A lone number or symbol inside a group: the 1 of (−1, 1), the z of max(0, z)."""
        factor = self.factor()
        return factor[0] if factor else None

    def scripts(self, base: str, sure: bool) -> tuple[str, bool]:
        """``base`` with what follows it: _j, _{k≠j}, ᵢ, ⁽ˡ⁾, ², ′, the macron of L̄, ^z, ^-z, ^(z_k)."""
        latex = base
        while True:
            c = self.peek()
            index = INDEX.match(self.s, self.i)
            if c == MACRON:
                latex, self.i = rf"\bar{{{latex}}}", self.i + 1
            elif c in PRIMES:
                latex, self.i = latex + "'", self.i + 1
            elif index:
                latex += "_{" + plain(index[1].strip("{}")) + "}"
                self.i = index.end()
            elif c in SUB:
                run = re.compile(f"[{''.join(SUB)}]+").match(self.s, self.i)[0]
                latex, self.i = latex + "_{" + "".join(SUB[x] for x in run) + "}", self.i + len(run)
            elif c in SUP:
                run = re.compile(f"[{''.join(SUP)}]+").match(self.s, self.i)[0]
                shown = "".join(SUP[x] for x in run).replace("T", r"\top")
                latex, self.i = latex + "^{" + shown + "}", self.i + len(run)
            elif c == "^":
                power = self.power()
                if power is None:
                    return latex, sure
                latex += "^{" + power + "}"
            else:
                return latex, sure or latex != base
            sure = True

    def power(self) -> str | None:
        """What follows ^: (z_k) as z_k, -z, z, 2."""
        start = self.i
        self.i += 1
        if self.peek() == "(":
            group = self.group()
            return group[0][1:-1] if group and group[0].endswith(")") else self.undo(start)
        sign = "-" if self.peek() in "-−" else ""
        self.i += len(sign)
        factor = self.factor()
        return sign + factor[0] if factor else self.undo(start)

    def peek(self) -> str:
        """The next character, or NUL at the end (which no table holds)."""
        return self.s[self.i] if self.i < len(self.s) else "\0"


def plain(s: str) -> str:
    """Characters of an index as LaTeX: k≠j -> k \\neq j."""
    return "".join(GREEK.get(c) or (f" {OPERATORS[c]} " if OPERATORS.get(c, "").startswith("\\") else c) for c in s)
