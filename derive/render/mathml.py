"""LaTeX to MathML Core, the MathML that Chromium, Firefox and Safari draw natively: ``latex2mathml`` converts,
then ``core`` rewrites what it emits outside the Core subset or draws poorly there:

- ``<mfenced>`` (not in Core) becomes ``<mrow><mo>(</mo>…<mo>)</mo></mrow>``;
- a sum's limits (``<msubsup><mo>∑</mo>…``) become ``<munderover>``, so display style puts them below and above;
- a word set as an operator (``\\operatorname{BCE}`` -> ``<mo>BCE</mo>``) becomes ``<mi>``, spaced as a name;
- ± set as an identifier becomes an operator, and a prime set as a superscript (g' -> <msup>…′) a plain ′;
- \\left( … \\right) around nothing tall keeps its brackets at text size, as TeX does, not Chromium's
  larger variants;
- spacing TeX gives and Core does not: a thin space around a function name (y log a, not ylog a), none
  around a slash or ∂ (∂L/∂w), and a sign after an opening bracket, a relation or at the start is unary
  (= −1).

``<menclose>`` (``\\cancel``) is refused: Chromium does not draw it.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

from latex2mathml.converter import convert

NS = "http://www.w3.org/1998/Math/MathML"
ET.register_namespace("", NS)
ROWS = {"math", "mrow", "mtd", "msqrt", "mstyle", "mpadded", "mphantom"}  # children in a row, any number
PRIMES = ("′", "″", "‴")
TALL = {"mfrac", "munderover", "munder", "mover", "mtable", "msqrt"}
LIMITS = {"msubsup": "munderover", "msub": "munder", "msup": "mover"}
BIG_OPERATORS = ("∑", "∏")
OPERATOR_SYMBOLS = ("±", "∓")
SIGNS = ("−", "+", "±", "∓", "×")
CLOSING = (")", "]", "}", "|", "‖")
THIN = "0.1667em"


def mathml(latex: str, *, display: bool = False) -> str:
    """``latex`` as one ``<math>`` element; ``display`` sets display style (full-size fractions, limits below)."""
    root = ET.fromstring(convert(latex))
    core(root)
    root.attrib.pop("display", None)  # inline, the default
    if display:
        root.set("displaystyle", "true")
    shown = ET.tostring(root, encoding="unicode", short_empty_elements=True)
    return shown.replace(f' xmlns="{NS}"', "", 1)  # HTML puts <math> in the MathML namespace itself


def core(element: ET.Element) -> None:
    """Rewrite ``element``'s tree in place into MathML Core (see the module docstring)."""
    for child in list(element):
        core(child)
    tag = local(element.tag)
    if tag == "menclose":
        raise ValueError("MathML <menclose> (from \\cancel) is not drawn by Chromium; write the maths without it")
    if tag == "mfenced":
        unfence(element)
    elif tag in LIMITS and len(element) and local(element[0].tag) == "mo" and element[0].text in BIG_OPERATORS:
        element.tag = f"{{{NS}}}{LIMITS[tag]}"
    elif tag == "mo" and element.text and len(element.text) > 1 and element.text.isalpha():
        element.tag = f"{{{NS}}}mi"
    elif tag == "mi" and element.text in OPERATOR_SYMBOLS:
        element.tag = f"{{{NS}}}mo"
    elif tag == "msup" and len(element) == 2 and element[1].text in PRIMES:
        unprime(element)
    elif tag == "mrow":
        unstretch(element)
    if tag in ROWS:
        space(element)


def unprime(msup: ET.Element) -> None:
    """<msup><mi>g</mi><mi>′</mi></msup> -> <mrow><mi>g</mi><mo>′</mo></mrow>: the prime glyph is already raised."""
    base, prime = list(msup)
    msup.remove(prime)
    msup.tag = f"{{{NS}}}mrow"
    mark = operator(prime.text)
    mark.set("lspace", "0")
    mark.set("rspace", "0")
    msup.append(mark)


def unstretch(mrow: ET.Element) -> None:
    """Brackets from \\left … \\right around nothing taller than a line: drawn at text size."""
    fences = [c for c in (mrow[:1] + mrow[-1:]) if local(c.tag) == "mo" and c.get("fence") == "true"]
    if len(mrow) > 1 and len(fences) == 2 and not any(local(e.tag) in TALL for e in mrow.iter()):
        for fence in fences:
            fence.set("stretchy", "false")


def space(element: ET.Element) -> None:
    """TeX's spacing among ``element``'s children: function names, slashes and signs (see the module docstring)."""
    children = list(element)
    for index, child in enumerate(children):
        before = children[index - 1] if index else None
        after = children[index + 1] if index + 1 < len(children) else None
        if name(child):
            if before is not None and (local(before.tag) != "mo" or before.text in CLOSING):
                element.insert(list(element).index(child), padding())
            if after is not None and local(after.tag) in ("mi", "mn") and not name(after):
                element.insert(list(element).index(child) + 1, padding())
        elif local(child.tag) == "mo" and child.text in ("/", "∂"):
            child.set("lspace", "0")
            child.set("rspace", "0")
        elif local(child.tag) == "mo" and child.text in SIGNS and (
                before is None or (local(before.tag) == "mo" and before.text not in CLOSING)):
            child.set("lspace", "0")
            child.set("rspace", "0")


def name(element: ET.Element) -> bool:
    """A function's name set upright: log, tanh, BCE, max."""
    return local(element.tag) == "mi" and bool(element.text) and len(element.text) > 1 and element.text.isalpha()


def padding() -> ET.Element:
    return ET.Element(f"{{{NS}}}mspace", width=THIN)


def unfence(element: ET.Element) -> None:
    """<mfenced open="(" close=")">a b</mfenced> -> <mrow><mo>(</mo>a<mo>,</mo>b<mo>)</mo></mrow>."""
    opening, closing = element.get("open", "("), element.get("close", ")")
    separators = (element.get("separators", ",").replace(" ", "") or ",")
    children = list(element)
    for child in children:
        element.remove(child)
    element.attrib.clear()
    element.tag = f"{{{NS}}}mrow"
    element.append(operator(opening))
    for index, child in enumerate(children):
        if index:
            element.append(operator(separators[min(index - 1, len(separators) - 1)]))
        element.append(child)
    element.append(operator(closing))


def operator(text: str) -> ET.Element:
    mo = ET.Element(f"{{{NS}}}mo")
    mo.text = text
    return mo


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
