"""Renderers: a Derivation as text, LaTeX, Markdown, JSON or HTML. To add a format, add its renderer to FORMATS."""
from __future__ import annotations

from derive.errors import UnknownName
from derive.render.html import HtmlRenderer
from derive.render.json import JsonRenderer
from derive.render.latex import LatexRenderer
from derive.render.markdown import MarkdownRenderer
from derive.render.text import TextRenderer

FORMATS = {"text": TextRenderer, "latex": LatexRenderer, "markdown": MarkdownRenderer, "json": JsonRenderer,
           "html": HtmlRenderer}


def render(derivation, fmt: str = "text", *, standalone: bool = False) -> str:
    """``derivation`` in format ``fmt``; ``standalone`` makes LaTeX a whole document (HTML is always a page)."""
    if fmt not in FORMATS:
        raise UnknownName("format", fmt, FORMATS)
    return FORMATS[fmt](derivation, standalone=standalone).render()


__all__ = ["FORMATS", "render"]
