"""derive plot: every figure writes a valid PNG and SVG, the same bytes on every run (in this process and from the
command line), with the derivation's notation in its text; without matplotlib the command says how to get it.

matplotlib comes with the test extra (``pip install -e ".[test]"``), so none of these skip.
"""
import os
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import derive
import derive.plot as plot
from derive.derivations.example import At
from derive.errors import DeriveError

MAZUR = At(dict(x=[0.05, 0.10], y=[0.01, 0.99], W1=[[0.15, 0.25], [0.20, 0.30]], b1=[0.35, 0.35],
                W2=[[0.40, 0.50], [0.45, 0.55]], b2=[0.60, 0.60], lr=0.5), fix=("b1", "b2"), steps=4)
GROKKING = At(dict(w=0.5, x=2, y=0.8, lr=0.5), fix=("b",), steps=5)
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def mlp():
    return derive.derivation("sigmoid", "mse", "mlp", hidden="sigmoid", outputs=2, example=MAZUR)


@pytest.fixture(scope="module")
def neuron():
    return derive.derivation("identity", "mse", example=GROKKING)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def svg_text(data: bytes) -> str:
    """Every text of the SVG, joined: what a reader (or a search) finds in it."""
    root = ET.fromstring(data)
    assert root.tag == f"{SVG}svg"
    return " ".join("".join(node.itertext()) for node in root.iter(f"{SVG}text"))


FIGURES = [  # (which derivation, figure, text the SVG must hold)
    ("mlp", "activation", ["σ(z)", "σ′(z) = a(1 − a)", "σ and its derivative"]),
    ("mlp", "loss", ["W₁₁⁽²⁾", "∂L/∂W₁₁⁽²⁾ = 0.08217", "other parameters move too"]),
    ("mlp", "graph", ["a₁⁽¹⁾", "δ = 0.1385", "0.7514", "∂L/∂Wᵢⱼ = δᵢ·aⱼ"]),
    ("mlp", "delta", ["δ⁽¹⁾", "δ⁽²⁾", "0.1436", "‖δ⁽ˡ⁾‖"]),
    ("mlp", "curve", ["loss L", "step"]),
    ("neuron", "loss", ["w₁", "∂L/∂w₁ = 0.8", "gradient-descent steps"]),
    ("neuron", "graph", ["w₁", "x₁", "∂L/∂z = 0.4", "L = 0.04", "y = 0.8"]),
]


@pytest.mark.parametrize("which, name, labels", FIGURES, ids=[f"{w}-{n}" for w, n, _ in FIGURES])
def test_each_figure_is_a_deterministic_png_and_svg(request, which, name, labels, tmp_path):
    d = request.getfixturevalue(which)
    for suffix in ("svg", "png"):
        first, second = tmp_path / f"one.{suffix}", tmp_path / f"two.{suffix}"
        plot.save(plot.figure(d, name), first)
        plot.save(plot.figure(d, name), second)
        assert first.stat().st_size > 2000 and first.read_bytes() == second.read_bytes()
    width, height = png_size((tmp_path / "one.png").read_bytes())
    assert width >= 600 and height >= 300
    text = svg_text((tmp_path / "one.svg").read_bytes())
    for label in labels:
        assert label in text, (label, text[:600])


def test_activation_kinks_are_marked(tmp_path):
    d = derive.derivation("relu", "mse")
    plot.save(plot.figure(d, "activation"), tmp_path / "relu.svg")
    assert "kink at z = 0: ReLU′(0) = 0" in svg_text((tmp_path / "relu.svg").read_bytes())


def test_every_figure_that_applies_stacks_in_one_file(mlp, tmp_path):
    assert plot.applicable(mlp) == ["activation", "loss", "graph", "delta", "curve"]
    assert plot.applicable(derive.derivation("sigmoid", "bce")) == ["activation"]
    plot.save(plot.figure(mlp), tmp_path / "all.png")
    width, height = png_size((tmp_path / "all.png").read_bytes())
    assert height > 2 * width   # five panels, one under the other


def test_training_curve_from_losses(tmp_path):
    losses = 0.7 * np.exp(-np.arange(12) / 3) + 0.05      # what module.fit(...) returns: one mean per epoch
    plot.save(plot.training_curve(losses), tmp_path / "curve.svg")
    text = svg_text((tmp_path / "curve.svg").read_bytes())
    assert "epoch" in text and "mean loss L̄" in text


def test_the_command_writes_the_same_bytes(mlp, tmp_path):
    """The command line (another process) and the library draw the same SVG, byte for byte."""
    target = tmp_path / "cli.svg"
    done = subprocess.run([sys.executable, "-m", "derive", "plot", "--activation", "sigmoid", "--loss", "mse",
                           "--model", "mlp", "--hidden", "sigmoid", "--at",
                           "x=[0.05,0.10],y=[0.01,0.99],W1=[[0.15,0.25],[0.20,0.30]],b1=[0.35,0.35],"
                           "W2=[[0.40,0.50],[0.45,0.55]],b2=[0.60,0.60],lr=0.5", "--fix", "b1,b2", "--steps", "4",
                           "--figure", "graph", "--output", str(target)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    plot.save(plot.figure(mlp, "graph"), tmp_path / "library.svg")
    assert target.read_bytes() == (tmp_path / "library.svg").read_bytes()


@pytest.mark.parametrize("args, message", [
    (["--activation", "sigmoid", "--output", "x.pdf"], "end the file name in .png or .svg"),
    (["--activation", "sigmoid", "--loss", "bce", "--figure", "delta", "--output", "x.png"],
     "the delta figure does not apply here: it needs a worked example: give --at"),
    (["--activation", "softmax", "--output", "x.png"], "no figure applies here"),
    (["--activation", "sigmoid", "--loss", "bce", "--at", "w=1,b=0,x=1,y=1", "--figure", "loss", "--weight",
      "v[0]", "--output", "x.png"], "unknown --weight 'v[0]'"),
])
def test_refusals_are_one_line(args, message, tmp_path):
    done = subprocess.run([sys.executable, "-m", "derive", "plot", *args], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr


def test_without_matplotlib_the_command_says_how_to_install_it(tmp_path):
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.modules['matplotlib'] = None\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "derive", "plot", "--activation", "relu", "--output",
                           str(tmp_path / "x.png")], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 2 and done.stderr == ("derive: derive plot needs matplotlib, an optional extra: "
                                                    "pip install 'derive[plot]'\n")
    assert not (tmp_path / "x.png").exists()


def test_a_weight_of_the_loss_figure_by_its_storage_index(mlp, tmp_path):
    plot.save(plot.figure(mlp, "loss", weight="W1[1,0]"), tmp_path / "w.svg")
    assert "W₁₂⁽¹⁾" in svg_text((tmp_path / "w.svg").read_bytes())   # stored (inputs, outputs): input 2 -> unit 1
    with pytest.raises(DeriveError, match=r"W1 has shape \(2, 2\)"):
        plot.figure(mlp, "loss", weight="W1[2,0]")


def test_a_custom_activation_is_drawn_with_its_derived_slope(tmp_path):
    from derive.cli import main
    assert main(["plot", "--activation-expr", "z/(1+Abs(z))", "--output", str(tmp_path / "custom.svg")]) == 0
    assert "f′(z) = 1/(1 + |z|)²" in svg_text((tmp_path / "custom.svg").read_bytes())
