"""Worked examples against the numbers published worked examples print, through the command a user types.

- Matt Mazur, "A Step by Step Backpropagation Example" (2015): a 2-2-2 sigmoid network, E = Σ ½(target − out)²
  (our mse's mean over K = 2 outputs), biases held fixed, α = 0.5. Every number he prints is compared to ours at
  --digits 9, rounded to the digits he gives.
- CS231n, "Linear classification" notes, the figure comparing the SVM and softmax losses on one image
  (x = [−15, 22, −44, 56], three classes, the true class third): scores −2.85, 0.86, 0.28, probabilities
  0.016, 0.631, 0.353 and loss 1.04 as printed there; the notes print no gradient, so ∂L/∂W and ∂L/∂b are
  checked against an independent NumPy computation, x(p − onehot)ᵀ and p − onehot.
- Grokking Deep Learning (Trask), chapter 4: the gradient-descent loop with input 0.5 that converges, the one
  with input 2 that diverges, and the one with α = 0.1 that converges again; the printed Error/Prediction
  sequences come from the book's notebook (iamtrask/Grokking-Deep-Learning, chapter 4). The book's
  weight_delta = input·(pred − goal) has no factor 2, so its α is our lr = α/2 on mse's 2(a − y)x.
"""
import json
import math
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest

from derive.cli import main

MAZUR = ("--activation", "sigmoid", "--loss", "mse", "--model", "mlp", "--hidden", "sigmoid", "--at",
         "x=[0.05,0.10],y=[0.01,0.99],W1=[[0.15,0.25],[0.20,0.30]],b1=[0.35,0.35],W2=[[0.40,0.50],[0.45,0.55]],"
         "b2=[0.60,0.60],lr=0.5", "--fix", "b1,b2", "--digits", "9")
# what he prints -> the row of ours that holds it (w1 joins i1 -> h1, so W1 = [[w1, w3], [w2, w4]] is stored
# (inputs, outputs) and w_k is W_ij with i the unit it feeds, j the unit it comes from)
MAZUR_NUMBERS = {
    "z₁⁽¹⁾ =": "0.3775",             # net_h1
    "a₁⁽¹⁾ =": "0.593269992",        # out_h1
    "a₂⁽¹⁾ =": "0.596884378",        # out_h2
    "a₁⁽²⁾ =": "0.75136507",         # out_o1
    "a₂⁽²⁾ =": "0.772928465",        # out_o2
    "L =": "0.298371109",            # E_total
    "∂L/∂a₁⁽²⁾ =": "0.74136507",     # ∂E_total/∂out_o1
    "∂a₁⁽²⁾/∂z₁⁽²⁾ =": "0.186815602",  # ∂out_o1/∂net_o1
    "∂z₁⁽²⁾/∂W₁₁⁽²⁾ =": "0.593269992",  # ∂net_o1/∂w5
    "∂L/∂W₁₁⁽²⁾ =": "0.082167041",   # ∂E_total/∂w5
    "W₁₁⁽²⁾ ←": "0.35891648",        # w5+
    "W₁₂⁽²⁾ ←": "0.408666186",       # w6+
    "W₂₁⁽²⁾ ←": "0.511301270",       # w7+
    "W₂₂⁽²⁾ ←": "0.561370121",       # w8+
    "∂L/∂a₁⁽¹⁾ =": "0.036350306",    # ∂E_total/∂out_h1
    "∂a₁⁽¹⁾/∂z₁⁽¹⁾ =": "0.241300709",  # ∂out_h1/∂net_h1
    "∂L/∂W₁₁⁽¹⁾ =": "0.000438568",   # ∂E_total/∂w1
    "W₁₁⁽¹⁾ ←": "0.149780716",       # w1+
    "W₁₂⁽¹⁾ ←": "0.19956143",        # w2+
    "W₂₁⁽¹⁾ ←": "0.24975114",        # w3+
    "W₂₂⁽¹⁾ ←": "0.29950229",        # w4+
}


def derive_out(*args) -> str:
    """What ``derive show ARGS`` writes (run in this process, into a file)."""
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "out"
        assert main(["show", *args, "--output", str(target)]) == 0
        return target.read_text(encoding="utf-8")


SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def parse(number: str) -> float:
    """A number as the text renderer prints it: −0.25, 1.5×10⁻⁵."""
    number = number.replace("−", "-")
    mantissa, _, exponent = number.partition("×10")
    return float(f"{mantissa}e{exponent.translate(SUPERSCRIPTS)}" if exponent else mantissa)


def final_values(text: str, start: str) -> list[str]:
    """The last side (the value) of every row of ``text`` that begins with ``start``, continuation lines joined."""
    lines, found = text.splitlines(), []
    for index, line in enumerate(lines):
        if line.strip().startswith(start):
            row = line
            for more in lines[index + 1:]:
                if not more.strip().startswith("="):
                    break
                row += " " + more.strip()
            found.append(re.sub(r"\s*\[[^\]]*\]\s*$", "", row).rsplit("= ", 1)[1].strip())
    return found


def significant(number: str) -> int:
    digits = number.lstrip("0.").replace(".", "")
    return len(digits)


def rounded(value: float, digits: int) -> float:
    return float(f"{value:.{digits}g}")


# --- Mazur ------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mazur():
    """The worked example of the Mazur command (the derivation before it has rows that start alike)."""
    text = derive_out(*MAZUR)
    return text[text.index("Worked example"):]


@pytest.mark.parametrize("row, published", MAZUR_NUMBERS.items())
def test_mazur_numbers_digit_for_digit(mazur, row, published):
    shown = final_values(mazur, row)
    assert shown, f"no row {row!r}"
    ours = shown[0]
    assert significant(ours.replace("−", "")) <= 9
    assert rounded(parse(ours), significant(published)) == float(published), (row, ours, published)


def test_mazur_biases_stay_fixed_and_every_weight_moves(mazur):
    assert not final_values(mazur, "b₁⁽¹⁾ ←") and not final_values(mazur, "b₁⁽²⁾ ←")
    assert "Fixed (not updated): b⁽¹⁾, b⁽²⁾." in mazur
    assert len([line for line in mazur.splitlines() if "← W" in line]) == 8


def test_mazur_hidden_weights_use_the_original_output_weights(mazur):
    """Backpropagation sends δ back through W⁽²⁾ before it is updated: his w1⁺ uses w5 = 0.40, not 0.3589."""
    assert "0.4·0.138498562 + 0.5·(−0.0380982365)" in mazur


# --- CS231n -----------------------------------------------------------------------------------------------------
X = [-15, 22, -44, 56]
W_ROWS = [[0.01, -0.05, 0.1, 0.05], [0.7, 0.2, 0.05, 0.16], [0.0, -0.45, -0.2, 0.03]]   # one row per class
B = [0.0, 0.2, -0.3]
CS231N = ("--activation", "softmax", "--loss", "cross_entropy", "--model", "softmax", "--format", "json", "--at",
          f"x={X},W={np.array(W_ROWS).T.tolist()},b={B},y=2,lr=0.1".replace(" ", ""), "--digits", "6")


def test_cs231n_softmax_probabilities_and_loss():
    data = json.loads(derive_out(*CS231N))
    values = {v["quantity"]: v["value"] for v in data["example"]["values"]}
    assert [round(values[f"z_{k}"], 2) for k in (1, 2, 3)] == [-2.85, 0.86, 0.28]
    # the figure normalises its rounded exponentials (0.058, 2.36, 1.32), so its 0.016 is 0.058/3.738 = 0.0155
    # rounded up; the exact p₁ = 0.01545 rounds to 0.015. p₂, p₃ agree to every digit printed.
    assert [round(values[f"p_{k}"], 3) for k in (2, 3)] == [0.631, 0.353]
    assert round(0.058 / (0.058 + 2.36 + 1.32), 3) == 0.016 and abs(values["p_1"] - 0.016) < 0.0006
    assert round(values["L"], 2) == 1.04
    # the gradient, against NumPy on its own
    scores = np.array(W_ROWS) @ np.array(X, dtype=float) + np.array(B)
    p = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
    error = p - np.eye(3)[2]
    for j in range(4):
        for k in range(3):
            assert math.isclose(values[f"dL/dW_{j + 1}{k + 1}"], X[j] * error[k], rel_tol=1e-12)
    for k in range(3):
        assert math.isclose(values[f"dL/db_{k + 1}"], error[k], rel_tol=1e-12)
        assert math.isclose(values[f"p_{k + 1}"], p[k], rel_tol=1e-12)


# --- Grokking Deep Learning, chapter 4 ---------------------------------------------------------------------------
CONVERGES = """0.30250000000000005 0.25|0.17015625000000004 0.3875|0.095712890625 0.49062500000000003|
0.05383850097656251 0.56796875|0.03028415679931642 0.6259765625|0.0170348381996155 0.669482421875|
0.00958209648728372 0.70211181640625|0.005389929274097089 0.7265838623046875|
0.0030318352166796153 0.7449378967285156|0.0017054073093822882 0.7587034225463867|
0.0009592916115275371 0.76902756690979|0.0005396015314842384 0.7767706751823426|
0.000303525861459885 0.7825780063867569|0.00017073329707118678 0.7869335047900676|
9.603747960254256e-05 0.7902001285925507|5.402108227642978e-05 0.7926500964444131|
3.038685878049206e-05 0.7944875723333098|1.7092608064027242e-05 0.7958656792499823|
9.614592036015323e-06 0.7968992594374867|5.408208020258491e-06 0.7976744445781151"""
DIVERGES = """0.03999999999999998 1.0|0.3599999999999998 0.20000000000000018|3.2399999999999984 2.5999999999999996|
29.159999999999986 -4.599999999999999|262.4399999999999 16.999999999999996|2361.959999999998 -47.79999999999998|
21257.639999999978 146.59999999999994|191318.75999999983 -436.5999999999998|1721868.839999999 1312.9999999999995|
15496819.559999991 -3935.799999999999|139471376.03999993 11810.599999999997|1255242384.3599997 -35428.59999999999|
11297181459.239996 106288.99999999999|101674633133.15994 -318863.79999999993|915071698198.4395 956594.5999999997|
8235645283785.954 -2869780.599999999|74120807554073.56 8609344.999999996|667087267986662.1 -25828031.799999986|
6003785411879960.0 77484098.59999996|5.403406870691965e+16 -232452292.5999999"""
ALPHA = """0.03999999999999998 1.0|0.0144 0.92|0.005183999999999993 0.872|0.0018662400000000014 0.8432000000000001|
0.0006718464000000028 0.8259200000000001|0.00024186470400000033 0.815552|8.70712934399997e-05 0.8093312|
3.134566563839939e-05 0.80559872|1.1284439629823931e-05 0.803359232|4.062398266736526e-06 0.8020155392|
1.4624633760252567e-06 0.8012093235200001|5.264868153690924e-07 0.8007255941120001|
1.8953525353291194e-07 0.8004353564672001|6.82326912718715e-08 0.8002612138803201|
2.456376885786678e-08 0.8001567283281921|8.842956788836216e-09 0.8000940369969153|
3.1834644439835434e-09 0.8000564221981492|1.1460471998340758e-09 0.8000338533188895|
4.125769919393652e-10 0.8000203119913337|1.485277170987127e-10 0.8000121871948003"""


def book(printed: str) -> list[tuple[float, float]]:
    """The book's lines 'Error:e Prediction:p' as (error, prediction) pairs."""
    return [tuple(map(float, pair.split())) for pair in printed.replace("\n", "").split("|")]


def trace_rows(text: str) -> list[tuple[float, float]]:
    """(L, a) of each row of the printed trace table (columns: step, a, L, w₁)."""
    table = text.split("Training trace")[1]
    rows = [line.split() for line in table.splitlines() if re.fullmatch(r"\s+\d+\s+\S+\s+\S+\s+\S+", line)]
    return [(parse(row[2]), parse(row[1])) for row in rows]


@pytest.mark.parametrize("name, inputs, lr, printed", [
    ("converges, input 0.5", 0.5, 0.5, CONVERGES),   # the book's α = 1 is our lr = 1/2 on 2(a − y)x
    ("diverges, input 2", 2, 0.5, DIVERGES),
    ("alpha 0.1, input 2", 2, 0.05, ALPHA),
])
def test_grokking_loops_digit_for_digit(name, inputs, lr, printed):
    text = derive_out("--activation", "identity", "--loss", "mse", "--at", f"w=0.5,x={inputs},y=0.8,lr={lr}",
                      "--fix", "b", "--steps", "19", "--digits", "17")
    ours, theirs = trace_rows(text), book(printed)
    assert len(ours) == len(theirs) == 20
    assert ours == theirs, next((k, o, t) for k, (o, t) in enumerate(zip(ours, theirs)) if o != t)
    grows = any(b[0] > a[0] for a, b in zip(theirs, theirs[1:]))
    assert ("overshoots the minimum" in text) == grows
    if grows:   # the condition, from the structure: α·x₁²·∂²L/∂z² with ∂²L/∂z² = 2 for identity + mse
        assert "α·x₁²·∂²L/∂z² = 0.5·2²·2 = 4" in text.replace("\n  ", " ") and "∂²L/∂z² = 2." in text
