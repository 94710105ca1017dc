"""The real ``derive`` command in subprocesses: what a user sees, one line per error, never a traceback.

The commands start together in a thread pool (each pays for importing SymPy), and each test reads its own.
"""
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from derive.catalogue import ACTIVATIONS, LOSSES
from derive.models import MODELS
from derive.render import FORMATS
from derive.render.text import width

COMMAND = [shutil.which("derive")] if shutil.which("derive") else [sys.executable, "-m", "derive"]


SCRATCH = Path(tempfile.mkdtemp(prefix="derive-cli-test-"))
EMPTY_PATH = SCRATCH / "bin"
EMPTY_PATH.mkdir()
PLANTED = SCRATCH / "site"
PLANTED.mkdir()
(PLANTED / "sitecustomize.py").write_text(
    "import derive.render.text as t\n"
    "def boom(self, *a, **k):\n    raise ZeroDivisionError('planted')\n"
    "t.TextRenderer.document = boom\n")
BUG = {"PYTHONPATH": os.pathsep.join([str(PLANTED), os.environ.get("PYTHONPATH", "")])}
SHOW = ("show", "--activation", "sigmoid", "--loss", "bce")
AT = "w=[0.5,-0.2],b=0,x=[2,1],y=1,lr=0.1"
BAD_AT = [("w=0.5,b", "'b'"), ("w=[0.5,b=1", "unclosed"), ("w=x,b=0", "'w=x'"), ("w=0.5,w=1", "twice")]
HOSTILE = SCRATCH / "pwned_x"

COMMANDS = {  # name: (arguments, extra environment[, program])
    "show": (SHOW, None),
    "list": (("list",), None),
    "typo": (("show", "--activation", "sigmoidd", "--loss", "bce"), None),
    "pair": (("show", "--activation", "relu", "--loss", "bce"), None),
    "hostile": (("show", "--activation-expr", f"__import__('os').system('touch {HOSTILE}')", "--loss", "mse"), None),
    "no-tex": ((*SHOW, "--pdf", str(SCRATCH / "no-tex.pdf")), {"PATH": str(EMPTY_PATH)}),
    "pdf": ((*SHOW, "--pdf", str(SCRATCH / "pdf" / "out.pdf")), None),
    "missing-folder": ((*SHOW, "--output", str(SCRATCH / "missing" / "out.txt")), None),
    "output": ((*SHOW, "--format", "markdown", "--output", str(SCRATCH / "output" / "out.md")), None),
    "format": ((*SHOW, "--format", "nope"), None),
    "at": ((*SHOW, "--at", AT), None),
    "usage": (("show", "--layers", "many"), None),
    "bug": (SHOW, BUG),
    "bug-debug": (SHOW, {**BUG, "DERIVE_DEBUG": "1"}),
    **{f"at:{at}": ((*SHOW, "--at", at), None) for at, _ in BAD_AT},
    "dash-m": (("show", "--activation", "tanh", "--loss", "mse"), None, [sys.executable, "-m", "derive"]),
    "at-matrices": (("show", "--activation", "sigmoid", "--loss", "bce", "--model", "mlp", "--hidden", "relu", "--at",
                     "x=[1,2],W1=[[0.1,0.2,0.3],[0.4,0.5,0.6]],b1=[0,0,0],W2=[[1],[2],[3]],b2=[0],y=1"), None),
    "at-outputs": (("show", "--activation", "sigmoid", "--loss", "bce", "--outputs", "3", "--at",
                    "x=[1,2],W=[[0.1,0.2],[0.3,0.4]],b=[0,0],y=[0,1]"), None),
    "at-options": (("show", "--activation", "sigmoid", "--loss", "bce", "--steps", "3"), None),
}
(SCRATCH / "pdf").mkdir()
(SCRATCH / "output").mkdir()


def _run(args, env, program=COMMAND):
    return subprocess.run([*program, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


_FUTURES: dict = {}
atexit.register(shutil.rmtree, SCRATCH, ignore_errors=True)


def run(name, check_clean=True):
    """The finished command ``name``; the first call starts them all."""
    if not _FUTURES:
        pool = ThreadPoolExecutor(max_workers=4)
        _FUTURES.update({key: pool.submit(_run, *command) for key, command in COMMANDS.items()})
        pool.shutdown(wait=False)
    done = _FUTURES[name].result()
    if check_clean:
        assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    return done


def one_error_line(done, status=2):
    assert done.returncode == status, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("derive: "), done.stderr
    return lines[0]


def test_show_sigmoid_bce():
    done = run("show")
    assert done.returncode == 0 and done.stderr == ""
    assert "∂L/∂wⱼ = ∂L/∂z · ∂z/∂wⱼ = (a − y)·xⱼ" in done.stdout
    assert "= a(1 − a)" in done.stdout
    assert all(width(line) <= 80 for line in done.stdout.splitlines())


def test_python_dash_m_runs_the_same_program():
    done = run("dash-m")
    assert done.returncode == 0 and "2(a − y)(1 − a²)·xⱼ" in done.stdout


def test_list_names_every_registry_entry():
    done = run("list")
    assert done.returncode == 0
    words = set(done.stdout.replace(",", " ").split())
    for name in [*ACTIVATIONS, *LOSSES, *MODELS]:
        assert name in words, name
    assert all(width(line) <= 80 for line in done.stdout.splitlines()), "derive list is for an 80-column terminal"


def test_unknown_activation_suggests():
    line = one_error_line(run("typo"))
    assert "'sigmoid'" in line and "did you mean" in line


def test_invalid_pair_says_why():
    line = one_error_line(run("pair"))
    assert "relu cannot feed bce" in line and "sigmoid" in line


def test_hostile_expression_is_refused():
    assert "__import__" in one_error_line(run("hostile"))
    assert not HOSTILE.exists()


def test_pdf_without_pdflatex():
    line = one_error_line(run("no-tex"))
    assert line == ("derive: pdflatex is not installed; install TeX Live (Debian: apt-get install "
                    "texlive-latex-base) or use --format latex --standalone --output FILE.tex")
    assert not (SCRATCH / "no-tex.pdf").exists()


def test_pdf_with_pdflatex():
    if shutil.which("pdflatex") is None:
        if os.environ.get("CI"):
            pytest.fail("pdflatex is required under CI")
        pytest.skip("pdflatex is not installed")
    done = run("pdf")
    assert done.returncode == 0, done.stderr
    folder = SCRATCH / "pdf"
    assert [p.name for p in folder.iterdir()] == ["out.pdf"] and (folder / "out.pdf").read_bytes()[:4] == b"%PDF"


def test_output_into_a_missing_folder():
    assert "does not exist" in one_error_line(run("missing-folder"))
    assert not (SCRATCH / "missing").exists()


def test_output_writes_the_file_and_nothing_else():
    done = run("output")
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""
    folder = SCRATCH / "output"
    assert [p.name for p in folder.iterdir()] == ["out.md"]
    assert (folder / "out.md").read_text(encoding="utf-8").startswith("# Weight update")


def test_unknown_format_suggests_formats():
    line = one_error_line(run("format"))
    assert all(name in line for name in FORMATS)


@pytest.mark.parametrize("at, named", BAD_AT)
def test_bad_at_values(at, named):
    line = one_error_line(run(f"at:{at}"))
    assert named in line and "--at w=0.5,b=0,x=2,y=1,lr=0.1" in line


def test_at_with_lists():
    done = run("at")
    assert done.returncode == 0, done.stderr
    assert "Worked example" in done.stdout and "w₂ ←" in done.stdout


def test_at_with_matrices_implies_the_layers_and_sizes():
    done = run("at-matrices")
    assert done.returncode == 0, done.stderr
    assert "z₃⁽¹⁾ = W₃₁⁽¹⁾·a₁⁽⁰⁾ + W₃₂⁽¹⁾·a₂⁽⁰⁾ + b₃⁽¹⁾" in done.stdout and "W₁₃⁽²⁾ ←" in done.stdout


def test_at_that_disagrees_with_an_option_is_one_line():
    assert one_error_line(run("at-outputs")) == ("derive: --outputs 3 disagrees with --at, which gives 2 outputs (the "
                                                 "last weights' columns); drop --outputs")
    assert "give --at too" in one_error_line(run("at-options"))


def test_a_number_option_that_is_not_a_number_is_one_line():
    assert one_error_line(run("usage")) == "derive: --layers must be a whole number from 1 to 8, not 'many'"


def test_broken_pipe_is_quiet():
    command = " ".join(f"'{part}'" for part in COMMAND)
    shell = f"{command} show --activation sigmoid --loss bce --format json | head -c 10"
    done = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=300)
    assert done.stderr == "" and len(done.stdout) == 10


def test_internal_error_is_one_line():
    """A bug inside derive prints one line and exit 3; DERIVE_DEBUG=1 shows the traceback."""
    line = one_error_line(run("bug"), status=3)
    assert line == "derive: internal error: ZeroDivisionError: planted; please report it"
    debug = run("bug-debug", check_clean=False)
    assert debug.returncode != 0 and "Traceback" in debug.stderr and "planted" in debug.stderr


def test_interrupt_exits_130_quietly(monkeypatch, capsys):
    from derive import cli

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setitem(cli.COMMANDS, "list", cli.Command("list", cli.configure_list, interrupted))
    assert cli.main(["list"]) == 130
    assert capsys.readouterr() == ("", "")
