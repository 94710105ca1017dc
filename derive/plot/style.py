"""How every figure looks and is written: the Agg canvas, fixed fonts and colours, and bytes that do not change
from run to run (no date, a fixed SVG hash salt, text kept as text so an SVG can be searched).

matplotlib is an optional extra (``pip install 'derive[plot]'``): ``require`` imports it or raises a one-line
``ToolMissing``. Figures are ``matplotlib.figure.Figure`` objects on an explicit Agg canvas, never pyplot's
global state.
"""
from __future__ import annotations

import io
from contextlib import contextmanager

from derive.errors import ToolMissing

INSTALL = "derive plot needs matplotlib, an optional extra: pip install 'derive[plot]'"
INK, GREY = "#1a1a1a", "#8c8c8c"
BLUE, ORANGE, GREEN, RED, PURPLE = "#0072B2", "#D55E00", "#009E73", "#CC3311", "#7E2F8E"   # Okabe–Ito, print-safe
STYLE = {
    "font.family": "DejaVu Sans", "mathtext.fontset": "dejavusans", "font.size": 10, "axes.titlesize": 11,
    "axes.labelsize": 10, "legend.fontsize": 9, "xtick.labelsize": 9, "ytick.labelsize": 9,
    "axes.spines.top": False, "axes.spines.right": False, "axes.edgecolor": INK, "axes.labelcolor": INK,
    "xtick.color": INK, "ytick.color": INK, "text.color": INK, "lines.linewidth": 1.8, "axes.grid": True,
    "grid.color": "#dddddd", "grid.linewidth": 0.6, "legend.frameon": False, "savefig.dpi": 150,
    "svg.hashsalt": "derive", "svg.fonttype": "none", "axes.unicode_minus": True,
}
METADATA = {"svg": {"Date": None, "Creator": "derive"}, "png": {"Software": "derive"}}
FORMATS = tuple(METADATA)


def require():
    """matplotlib, or a one-line ToolMissing that says how to install it."""
    try:
        import matplotlib
    except ImportError:
        raise ToolMissing(INSTALL) from None
    return matplotlib


@contextmanager
def style():
    """The house style, for drawing and for writing a figure."""
    matplotlib = require()
    with matplotlib.rc_context(STYLE):
        yield


def new_figure(width: float, height: float):
    """A Figure of ``width`` × ``height`` inches on its own Agg canvas."""
    require()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    figure.get_layout_engine().set(h_pad=0.1, hspace=0.04)
    FigureCanvasAgg(figure)
    return figure


def to_bytes(figure, fmt: str) -> bytes:
    """``figure`` as PNG or SVG bytes, the same bytes on every run."""
    out = io.BytesIO()
    with style():
        figure.savefig(out, format=fmt, metadata=METADATA[fmt])
    return out.getvalue()


def svg_inline(figure) -> str:
    """``figure`` as an <svg> element to put inside an HTML page: no XML prolog, no namespaces or metadata that
    name a web address (HTML knows SVG without them)."""
    import re
    text = to_bytes(figure, "svg").decode("utf-8")
    text = text[text.index("<svg"):]
    text = re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", text, count=2)
    return re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
