"""The HTML page in a real browser: headless Chromium loads each page offline, lays out its MathML (a fraction
comes out taller than a letter, so the maths was drawn as maths, not as a row of letters), shows no TeX, and
its screenshot is not blank. The page itself is self-contained: no script, no stylesheet or font fetched.

Chromium is required under CI (``CI`` set); elsewhere the browser tests skip when it is not installed.
"""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib
from html import unescape

import pytest

import derive
from derive.render.html import HtmlRenderer
from derive.render.mathml import NS, core, mathml

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run")
TEX = re.compile(r"\\[A-Za-z]+|\$")
PROBE = """<script>
(() => {
  const first = document.querySelector("math"), fraction = document.querySelector("mfrac");
  const letter = fraction.closest("math").querySelector("mi");
  const probe = {maths: document.querySelectorAll("math").length, text: document.body.innerText,
                 math: first.getBoundingClientRect().height, fraction: fraction.getBoundingClientRect().height,
                 letter: letter.getBoundingClientRect().height};
  const out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify(probe);
  document.body.appendChild(out);
})();
</script>
"""
AT = "w=0.5,b=0,x=2,y=1,lr=0.1"


def chromium():
    found = next(filter(None, map(shutil.which, BROWSERS)), None)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required under CI (.ci/run installs it)")
        pytest.skip("chromium is not installed")
    return found


def browse(page, tmp_path, *extra):
    """Run Chromium on ``page`` (a file) with ``extra`` flags; its standard output."""
    done = subprocess.run([chromium(), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *extra, page.as_uri()],
                          capture_output=True, text=True, errors="replace", timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def page_via_cli(tmp_path):
    """The worked example through the command a user types: derive show --format html --output FILE."""
    target = tmp_path / "page.html"
    done = subprocess.run([sys.executable, "-m", "derive", "show", "--activation", "tanh", "--loss", "mse",
                           "--at", AT, "--format", "html", "--output", str(target)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout == "" and done.stderr == "", done.stderr
    return target.read_text(encoding="utf-8")


def page_with_figures(tmp_path):
    """A worked MLP example with its trace table and its figures inline: derive show --format html --figures."""
    target = tmp_path / "figures.html"
    done = subprocess.run([sys.executable, "-m", "derive", "show", "--activation", "sigmoid", "--loss", "mse",
                           "--model", "mlp", "--hidden", "sigmoid", "--at", "x=[0.05,0.10],y=[0.01,0.99],"
                           "W1=[[0.15,0.25],[0.20,0.30]],b1=[0.35,0.35],W2=[[0.40,0.50],[0.45,0.55]],b2=[0.60,0.60],"
                           "lr=0.5", "--fix", "b1,b2", "--steps", "3", "--format", "html", "--figures",
                           "--output", str(target)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout == "" and done.stderr == "", done.stderr
    return target.read_text(encoding="utf-8")


def bare_page(fragment):
    return f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>t</title></head>' \
           f"<body>{fragment}</body></html>\n"


PAGES = {
    "sigmoid-bce": lambda tmp: derive.derivation("sigmoid", "bce").render("html"),
    "tanh-mse-at": page_via_cli,
    "mlp-at-figures": page_with_figures,
    "softmax": lambda tmp: derive.derivation("softmax", "cross_entropy", "softmax").render("html"),
    "mlp-2-layers": lambda tmp: derive.derivation("sigmoid", "bce", "mlp", hidden="relu", layers=2).render("html"),
    "custom": lambda tmp: derive.derivation(activation_expr="z/(1+Abs(z))", loss="mse").render("html"),
    "jupyter": lambda tmp: bare_page(derive.derivation("sigmoid", "bce")._repr_html_()),
}


@pytest.fixture(params=sorted(PAGES))
def page(request, tmp_path):
    return request.param, PAGES[request.param](tmp_path)


# --- the page as written ----------------------------------------------------------------------------------------
def test_page_is_self_contained_mathml(page):
    name, html = page
    assert html.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in html and "<title>" in html
    assert html.count("<math") > 20 and html.count("<math") == html.count("</math>")
    inside = re.sub(r"url\(#\w+\)", "", html)   # an inline SVG's clip paths refer to its own elements
    for absent in ("<script", "<link", "src=", "@import", "url(", "http:", "https:", "<mfenced", "<menclose"):
        assert absent not in inside, f"{name}: {absent}"
    outside_code = re.sub(r"<code>.*?</code>", "", html, flags=re.S)
    assert not TEX.search(unescape(re.sub(r"<[^>]+>", " ", outside_code))), f"{name}: TeX left in the page"


def test_worked_numbers_are_tables_and_figures_are_inline_svg(tmp_path):
    html = page_with_figures(tmp_path)
    assert html.count('<div class="numbers"><table>') == 3   # ‖δ‖ per layer, the parameters, the trace
    assert '<td class="n">0.2984</td>' in html and "<caption>Gradient descent from the point" in html
    figures = re.findall(r"<figure>\s*(<svg.*?</svg>)\s*<figcaption>(.*?)</figcaption>", html, flags=re.S)
    assert [caption.split(" ")[1] for _, caption in figures] == ["activation", "loss", "computational", "length",
                                                                 "loss"]
    for svg, _ in figures:
        root = ET.fromstring(svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" '
                                         'xmlns:xlink="http://www.w3.org/1999/xlink" ', 1))
        assert root.get("viewBox") and "δ" in html


def test_prose_maths_is_mathml():
    html = derive.derivation("tanh", "mse").render("html")
    note = html[html.index("<p>The constant"):]
    note = note[:note.index("</p>")]
    assert "<mo>←</mo>" in note and "**" not in note and "<msup><mi>a</mi><mrow><mn>2</mn></mrow></msup>" in note
    softmax = derive.derivation("softmax", "cross_entropy", "softmax").render("html")
    assert "<msub><mi>p</mi><mrow><mi>c</mi></mrow></msub>" in softmax and "p_c" not in softmax


def test_jupyter_gets_a_scoped_fragment():
    fragment = derive.derivation("sigmoid", "bce")._repr_html_()
    assert "<html" not in fragment and "<!DOCTYPE" not in fragment and '<div class="derivation">' in fragment
    style = fragment[fragment.index("<style>") + 7:fragment.index("</style>")]
    selectors = [s.strip() for rule in re.findall(r"([^{}]+)\{", style) for s in rule.split(",")]
    assert selectors and all(s.startswith((".derivation", "@media")) for s in selectors), selectors
    assert fragment == HtmlRenderer(derive.derivation("sigmoid", "bce"), fragment=True).render()


def test_mathml_is_core():
    """latex2mathml's output made MathML Core: no <mfenced>, limits under and over a sum, names spaced as names,
    primes not raised twice, and \\cancel (<menclose>, which Chromium does not draw) refused."""
    shown = mathml(r"\sum_{i=1}^{K} y \log a + g'(z) \operatorname{BCE}(a, y)", display=True)
    assert shown.startswith('<math displaystyle="true">') and "<munderover><mo>∑</mo>" in shown
    assert '<mo lspace="0" rspace="0">′</mo>' in shown and "<msup><mi>g</mi>" not in shown
    assert "<mi>BCE</mi>" in shown and '<mspace width="0.1667em" /><mi>log</mi>' in shown
    fenced = ET.fromstring(f'<math xmlns="{NS}"><mfenced open="[" close=")"><mi>a</mi><mi>b</mi></mfenced></math>')
    core(fenced)
    assert ET.tostring(fenced, encoding="unicode").replace(f' xmlns="{NS}"', "") == \
        "<math><mrow><mo>[</mo><mi>a</mi><mo>,</mo><mi>b</mi><mo>)</mo></mrow></math>"
    with pytest.raises(ValueError, match="menclose"):
        core(ET.fromstring(f'<math xmlns="{NS}"><menclose notation="updiagonalstrike"><mi>a</mi></menclose></math>'))


# --- the page in Chromium ---------------------------------------------------------------------------------------
def test_chromium_lays_out_the_mathml(page, tmp_path):
    """After Chromium renders the page, its DOM holds every <math>, none shows TeX, and MathML is laid out: the
    first <math> has a height and a fraction is well over one letter tall."""
    name, html = page
    source = tmp_path / "probe.html"
    source.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = browse(source, tmp_path, "--dump-dom")
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, flags=re.S)
    assert found, f"{name}: the probe did not run: {dom[-500:]}"
    probe = json.loads(unescape(found[1]))
    assert probe["maths"] == html.count("<math") == dom.count("<math")
    assert not TEX.search(probe["text"]), f"{name}: TeX in the visible text: {TEX.search(probe['text'])}"
    assert "Weight update" in probe["text"] and "∂" in probe["text"]
    assert probe["math"] > 0 and probe["letter"] > 0
    assert probe["fraction"] > 1.6 * probe["letter"], (name, probe["fraction"], probe["letter"])


def test_chromium_screenshot_is_not_blank(page, tmp_path):
    name, html = page
    source = tmp_path / "page.html"
    source.write_text(html, encoding="utf-8")
    shot = tmp_path / "page.png"
    browse(source, tmp_path, f"--screenshot={shot}", "--window-size=1000,2000")
    width, height, pixels = png_pixels(shot.read_bytes())
    assert (width, height) == (1000, 2000)
    dark = sum(1 for pixel in pixels if min(pixel) < 160)
    assert 0.005 < dark / (width * height) < 0.5, f"{name}: {dark} dark pixels of {width * height}"


def png_pixels(data: bytes):
    """(width, height, [(r, g, b) …]) of an 8-bit RGB or RGBA PNG: enough of a decoder for a screenshot."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks, header = 8, [], None
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    step = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(b"".join(chunks)), width * step
    previous, pixels = bytearray(stride), []
    for row in range(height):
        kind, line = raw[row * (stride + 1)], bytearray(raw[row * (stride + 1) + 1:(row + 1) * (stride + 1)])
        unfilter(kind, line, previous, step)
        pixels += [tuple(line[i:i + 3]) for i in range(0, stride, step)]
        previous = line
    return width, height, pixels


def unfilter(kind: int, line: bytearray, previous: bytearray, step: int) -> None:
    """Undo one PNG row filter in place: 0 none, 1 sub, 2 up, 3 average, 4 Paeth."""
    if kind == 2:
        line[:] = bytes((a + b) & 255 for a, b in zip(line, previous))
        return
    for i in range(step if kind == 1 else 0, len(line) if kind else 0):
        left = line[i - step] if i >= step else 0
        if kind == 1:
            line[i] = (line[i] + left) & 255
        elif kind == 3:
            line[i] = (line[i] + (left + previous[i]) // 2) & 255
        else:
            up, corner = previous[i], previous[i - step] if i >= step else 0
            guess = left + up - corner
            a, b, c = abs(guess - left), abs(guess - up), abs(guess - corner)
            line[i] = (line[i] + (left if a <= b and a <= c else up if b <= c else corner)) & 255
