"""Every renderer over the registry: text fits 80 columns, key lines read as a textbook prints them, JSON
gradients parse back, Markdown maths blocks balance, and every LaTeX document compiles with pdflatex."""
import json
import os
import re
import shutil
import subprocess

import pytest
import sympy as sp

import derive
from derive.derivations.example import At
from derive.catalogue import valid_pairs
from derive.models import MODELS
from derive.catalogue.functions import NAMED
from derive.errors import UnknownName
from derive.render import FORMATS, render
from derive.render.latex import WHY_BOX, latex_prose, standalone_document
from derive.render.text import WIDTH, breakpoints, width

NEURON = valid_pairs(MODELS["neuron"])
ALL = [(model, activation, loss) for model in MODELS for activation, loss in valid_pairs(MODELS[model])]


@pytest.fixture(scope="module")
def derivations():
    return {case: derive.derivation(case[1], case[2], case[0]) for case in ALL}


RENDERED: dict = {}


def rendered(derivations, case, fmt):
    """Each derivation rendered once per format, however many tests read it."""
    if (case, fmt) not in RENDERED:
        RENDERED[case, fmt] = render(derivations[case], fmt)
    return RENDERED[case, fmt]


def text_of(activation, loss):
    return derive.derivation(activation, loss).render("text")


# --- every pair, every format -----------------------------------------------------------------------------------
@pytest.mark.parametrize("activation, loss", NEURON)
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_neuron_pair_renders(derivations, fmt, activation, loss):
    out = rendered(derivations, ("neuron", activation, loss), fmt)
    assert out.strip() and "Named_" not in out and "Derivative(" not in out


@pytest.mark.parametrize("case", ALL, ids="-".join)
def test_text_fits_80_columns(derivations, case):
    for line in rendered(derivations, case, "text").splitlines():
        if width(line) > WIDTH:  # only a formula with no place to break may run over
            assert not breakpoints(line.strip()), f"{case}: {line!r} is {width(line)} columns"


def test_text_has_no_ascii_leftovers(derivations):
    for case in derivations:
        maths = [line for line in rendered(derivations, case, "text").splitlines() if "=" in line and "`" not in line]
        for line in maths:
            assert not re.search(r"\*\*|\w\*\w|exp\(|sqrt\(|alpha|delta", line), f"{case}: {line!r}"


# --- the lines a learner reads first ----------------------------------------------------------------------------
def lines_of(text):
    return [line.strip() for line in text.splitlines()]


def test_sigmoid_bce_key_lines():
    lines = lines_of(text_of("sigmoid", "bce"))
    assert "∂L/∂wⱼ = ∂L/∂z · ∂z/∂wⱼ = (a − y)·xⱼ" in lines
    assert "∂L/∂wⱼ = ∂L/∂a · ∂a/∂z · ∂z/∂wⱼ                                   [chain rule]" in lines
    sigma_prime = next(i for i, line in enumerate(lines) if line.startswith("∂a/∂z = d/dz (1/(1 + e^(−z)))"))
    ending = next(line for line in lines[sigma_prime:] if line.startswith("= a(1 − a)"))
    assert re.fullmatch(r"= a\(1 − a\)\s+\[written with a = σ\(z\)\]", ending)
    assert "a = σ(z) = 1/(1 + e^(−z))" in " ".join(lines)
    assert "∂L̄/∂wⱼ = (1/N) Σₙ (a⁽ⁿ⁾ − y⁽ⁿ⁾)·xⱼ⁽ⁿ⁾" in lines
    assert "wⱼ ← wⱼ − α·∂L̄/∂wⱼ" in lines


def test_identity_mse_key_line():
    assert "∂L/∂wⱼ = ∂L/∂z · ∂z/∂wⱼ = 2(a − y)·xⱼ" in lines_of(text_of("identity", "mse"))


def test_tanh_mse_key_line():
    assert "∂L/∂wⱼ = ∂L/∂z · ∂z/∂wⱼ = 2(a − y)(1 − a²)·xⱼ" in lines_of(text_of("tanh", "mse"))


def test_rule_tree_nests_children_under_their_rule():
    lines = text_of("sigmoid", "bce").splitlines()
    start = next(i for i, line in enumerate(lines) if "d/dz (1 + e^(−z)) = d/dz e^(−z)" in line)
    indents = [len(line) - len(line.lstrip()) for line in lines[start:start + 3]]
    assert indents[0] < indents[1] < indents[2]
    assert lines[start + 3].strip().startswith("= −e^(−z)")


def test_worked_example_prints_numbers():
    d = derive.derivation("sigmoid", "bce", example={"w": [0.5, -0.2], "b": 0, "x": [2, 1], "y": 1, "lr": 0.1})
    text = d.render("text")
    assert "z = w₁·x₁ + w₂·x₂ + b = 0.5·2 + (−0.2)·1 + 0 = 0.8" in text
    assert "(0.69 − 1)·2" in text and "−0.2 − 0.1·(−0.31)" in text


def test_worked_numbers_keep_the_chain_order_and_signs():
    """Numbers go into the derivation's display form: (a − y)·x₁ stays in that order, with its minus sign, even
    where y = 0 (SymPy's value would print 1·(0.982 + 0)); a negative number is bracketed after an operator."""
    text = derive.derivation("sigmoid", "bce", example={"w": 4, "b": 0, "x": 1, "y": 0}).render("text")
    assert "∂L/∂w₁ = (a − y)·x₁ = (0.982 − 0)·1 = 0.982" in text and "∂L/∂b = a − y = 0.982 − 0 = 0.982" in text
    text = derive.derivation("identity", "mse", example={"w": 0.5, "b": 0, "x": -2, "y": -1}).render("text")
    assert "∂L/∂w₁ = 2(a − y)·x₁ = 2(−1 − (−1))·(−2) = 0" in text
    latex = derive.derivation("identity", "mse", example={"w": 0.5, "b": 0, "x": 2, "y": 1.5}).render("latex")
    assert r"2 (a - y) \cdot x_{1} = 2 (1 - 1.5) \cdot 2 = -2" in latex


# --- JSON -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", ALL, ids="-".join)
def test_json_gradients_round_trip(derivations, case):
    d = derivations[case]
    data = json.loads(rendered(derivations, case, "json"))
    assert [s["kind"] for s in data["steps"]] == [type(s).__name__ for s in d.steps]
    assert data["model"] == case[0] and data["symbols"] == d.symbols
    by_name = {s.name: s for g in d.gradients.values() for s in g.free_symbols}
    names = {ident: by_name[name] for ident, name in data["gradient_symbols"].items()}
    for parameter, gradient in d.gradients.items():
        parsed = sp.sympify(data["gradients"][parameter.name], locals={**names, **{f.__name__: f for f in NAMED}})
        assert parsed == gradient, (parameter, data["gradients"][parameter.name])


@pytest.mark.parametrize("case", ALL, ids="-".join)
def test_json_keeps_unicode_readable(derivations, case):
    out = rendered(derivations, case, "json")
    assert "\\u" not in out and "∂" in out


def test_json_rule_trees_nest():
    data = json.loads(derive.derivation("sigmoid", "bce").render("json"))
    tree = next(s for s in data["steps"] if s["kind"] == "LocalDerivative")["tree"]
    assert tree["rule"] == "sum rule" and tree["children"][0]["children"]
    assert set(tree["expr"]) == {"text", "latex"}


# --- Markdown ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", ALL, ids="-".join)
def test_markdown_blocks_balance(derivations, case):
    out = rendered(derivations, case, "markdown")
    fences = [line for line in out.splitlines() if line.strip() == "$$"]
    assert len(fences) % 2 == 0 and out.count("$$") == len(fences)
    assert out.count(r"\begin{aligned}") == out.count(r"\end{aligned}") == len(fences) // 2
    assert r"\operatorname*" not in out and r"\tag" not in out and r"\parbox" not in out
    inside = False
    for line in out.splitlines():
        inside = not inside if line.strip() == "$$" else inside
        assert not inside or len(line) <= 100, f"{case}: a {len(line)}-character line in a maths block: {line!r}"


# --- LaTeX ------------------------------------------------------------------------------------------------------
def test_latex_prose_escapes_and_sets_maths_as_maths():
    out = latex_prose("100% of snake_case & {x} ~ # $ \\ ∂L̄/∂w_j ≠ 0, δ⁽ᴸ⁾, so L = −log p_c, "
                      "σ(z) = 1/(1 + e^-z), `goal_pred`")
    assert r"100\%" in out and r"snake\_case" in out and r"\&" in out and r"\{" in out and r"\#" in out
    assert r"$\partial \bar{L} / \partial w_{j} \neq 0$" in out and r"$\delta^{(L)}$" in out
    assert r"$L = - \log p_{c}$" in out and r"$\sigma (z) = 1 / (1 + e^{-z})$" in out
    assert r"\texttt{goal\_pred}" in out and "$$" not in out and r"\textasciicircum" not in out
    assert all(ord(c) < 128 for c in out)
    assert latex_prose("a large input moves w_j a lot") == "a large input moves $w_{j}$ a lot"
    assert latex_prose("at a = y |a − y| has no derivative") == "at $a = y$ $|a - y|$ has no derivative"


# --- prose reads as words and maths, never as Python --------------------------------------------------------
PYTHON = re.compile(r"\*\*|\w\s?\*\s?[\w(]|\)\s?\*|Abs\(|Piecewise|sqrt\(|exp\(|sigmoid\(")
CODE = {"text": r"`[^`]*`", "markdown": r"`[^`]*`", "latex": r"\\texttt\{[^}]*\}", "html": r"<code>.*?</code>"}
MATHS = {"latex": r"\$[^$]*\$|\\begin\{align\*\}.*?\\end\{align\*\}", "html": r"<math.*?</math>"}


@pytest.mark.parametrize("activation, loss", NEURON)
@pytest.mark.parametrize("fmt", ["text", "markdown", "latex", "html"])
def test_prose_has_no_python_syntax(derivations, fmt, activation, loss):
    """Notes and justifications print maths as maths: no a**2, (a - y)*x, Abs( or Piecewise( as words, and in
    LaTeX and HTML (where maths is marked) no sign( or raw caret outside it either."""
    out = re.sub(CODE[fmt], "", rendered(derivations, ("neuron", activation, loss), fmt), flags=re.S)
    assert not PYTHON.search(out), PYTHON.search(out)
    if fmt in MATHS:
        words = re.sub(MATHS[fmt], "", out, flags=re.S)
        assert "sign(" not in words and "^" not in words and r"\textasciicircum" not in words


def test_folded_constant_is_maths_in_every_format():
    d = derive.derivation("tanh", "mse")
    joined = lambda fmt: " ".join(d.render(fmt).split())
    assert "leaving wⱼ ← wⱼ − α(a − y)(1 − a²)·xⱼ." in joined("text")
    assert "leaving wⱼ ← wⱼ − α(a − y)(1 − a²)·xⱼ." in joined("markdown")
    assert r"leaving $w_{j} \leftarrow w_{j} - \alpha \cdot (a - y) \cdot (1 - a^{2}) \cdot x_{j}$." in joined("latex")
    html = joined("html")
    start = html.index("The constant")
    assert "<mo>←</mo>" in html[start:html.index("</p>", start)]
    custom = " ".join(derive.derivation(activation_expr="z/(1+Abs(z))", loss="mse").render("text").split())
    assert "leaving wⱼ ← wⱼ − α(a − y)(1/(1 + |z|)²)·xⱼ." in custom


def test_notes_keep_maths_apart_from_words():
    from derive.derivations.notes import against_gradient, input_factor
    from derive.steps import Note
    assert Note("Σ_{k≠j} stays {as is}").parts() == ("Σ_{k≠j} stays {as is}",)
    parts = input_factor(sp.Symbol("x_j", real=True), "W_ij⁽ˡ⁾").parts()
    assert parts[:2] == ("The input ", sp.Symbol("x_j", real=True))
    assert sp.Symbol("W_ij^(l)", real=True) in parts
    assert against_gradient("W_ij⁽ˡ⁾").maths[0][1:] == (">", 0)
    mlp = " ".join(derive.derivation("sigmoid", "bce", "mlp").render("text").split())
    assert "where ∂L̄/∂Wᵢⱼ⁽ˡ⁾ > 0, raising Wᵢⱼ⁽ˡ⁾ would raise the loss" in mlp


def test_softmax_label_is_maths_in_latex():
    out = derive.derivation("softmax", "cross_entropy", "softmax").render("latex")
    assert r"so $L = - \log p_{c}$" in out and r"p\_c" not in out


@pytest.mark.parametrize("case", ALL, ids="-".join)
def test_latex_justifications_share_one_column(derivations, case):
    """Every justification is a fixed-width box at the right margin: none in a middle && column."""
    out = rendered(derivations, case, "latex")
    assert "&&" not in out
    assert out.count(r"\tag*{") == out.count(r"\tag*{" + WHY_BOX) > 0


def test_unknown_format_suggests():
    with pytest.raises(UnknownName, match="did you mean 'latex'"):
        render(derive.derivation("sigmoid", "bce"), "latx")


def pdflatex_or_skip():
    program = shutil.which("pdflatex")
    if program is None:
        if os.environ.get("CI"):
            pytest.fail("pdflatex is required under CI")
        pytest.skip("pdflatex is not installed")
    return program


@pytest.mark.parametrize("model", sorted(MODELS))
def test_latex_compiles(derivations, model, tmp_path):
    """Every pair of ``model`` as sections of one document (one pdflatex run per model keeps this fast)."""
    program = pdflatex_or_skip()
    bodies = [rendered(derivations, case, "latex") for case in derivations if case[0] == model]
    if model == "mlp":
        bodies.append(derive.derivation("sigmoid", "bce", "mlp", hidden="gelu", layers=3).render("latex"))
        bodies.append(derive.derivation("sigmoid", "mse", "mlp", hidden="sigmoid", outputs=2, example=At(
            dict(x=[0.05, 0.1], y=[0.01, 0.99], W1=[[0.15, 0.25], [0.2, 0.3]], b1=[0.35, 0.35],
                 W2=[[0.4, 0.5], [0.45, 0.55]], b2=[0.6, 0.6], lr=0.5), fix=("b1", "b2"), steps=3)).render("latex"))
    if model == "neuron":
        bodies.append(derive.derivation("sigmoid", "bce", example={"w": [0.5, -0.2], "b": 0, "x": [2, 1], "y": 1,
                                                                   "lr": 0.1}).render("latex"))
        bodies.append(derive.derivation(activation_expr="z/(1+Abs(z))", loss_expr="(a-y)**2/2").render("latex"))
        bodies.append(derive.derivation("identity", "mse", example=At(dict(w=0.5, x=2, y=0.8, lr=0.5), fix=("b",),
                                                                      steps=4, digits=17)).render("latex"))
    source = tmp_path / f"{model}.tex"
    source.write_text(standalone_document("\n\\clearpage\n".join(bodies)), encoding="utf-8")
    done = subprocess.run([program, "-interaction=nonstopmode", "-halt-on-error", source.name], cwd=tmp_path,
                          capture_output=True, text=True, errors="replace", timeout=300)
    errors = [line for line in done.stdout.splitlines() if line.startswith("!")]
    assert done.returncode == 0 and (tmp_path / f"{model}.pdf").exists(), errors or done.stdout[-2000:]
    packages = re.findall(r"\\usepackage(?:\[[^]]*\])?\{([^}]*)\}", source.read_text(encoding="utf-8"))
    assert packages == ["amsmath"]


def test_standalone_is_a_document():
    out = derive.derivation("sigmoid", "bce").render("latex", standalone=True)
    assert out.startswith("\\documentclass{article}\n\\usepackage{amsmath}") and out.rstrip().endswith(
        "\\end{document}")
    assert "\\documentclass" not in derive.derivation("sigmoid", "bce").render("latex")


def test_pdf_compile_failure_names_the_latex_error(tmp_path):
    pdflatex_or_skip()
    from derive.errors import DeriveError
    from derive.render.pdf import write_pdf

    class Broken:
        def render(self, fmt, standalone=False):
            return "\\documentclass{article}\n\\begin{document}\n\\nosuchcommand\n\\end{document}\n"

    target = tmp_path / "out.pdf"
    with pytest.raises(DeriveError, match=r"pdflatex failed: ! Undefined control sequence"):
        write_pdf(Broken(), target)
    assert list(tmp_path.iterdir()) == []
