"""Packaging facts: every package is installed, the kernels install as derive.kernels and import without SymPy,
and a folder named generated/ in the user's working directory cannot shadow them."""
import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "derive").rglob("__init__.py")}
    assert found | {"derive.kernels"} == listed


def test_kernels_import_without_sympy_from_any_folder(tmp_path):
    (tmp_path / "generated").mkdir()
    (tmp_path / "generated" / "__init__.py").write_text("raise ImportError('a user folder named generated')\n")
    code = ("import sys, derive.kernels as k; m = k.load('neuron_sigmoid_bce'); "
            "print(m.__name__, 'sympy' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["derive.kernels.neuron_sigmoid_bce", "False"]


def test_the_kernels_folder_refuses_another_module_name():
    """numba caches compiled code by file: a module imported as generated.x would fill the cache with code that
    only the name generated.x can load, and derive.kernels would then fail to load it."""
    done = subprocess.run([sys.executable, "-c", "import generated._shuffle"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == ("ImportError: the kernels are the package derive.kernels: import them "
                                            "by that name, not as 'generated'")


def test_idle_openblas_threads_sleep_unless_the_user_chose_otherwise(tmp_path):
    """derive.kernels imported before NumPy sets OPENBLAS_THREAD_TIMEOUT=4 (its idle threads would otherwise spin
    on the cores the kernels' threads need); a value the user set, or NumPy loaded first, is left alone."""
    code = ("import os, sys; {first}; import derive.kernels, numpy; "
            "print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'))")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    for first, extra, expected in (("pass", {}, "4"), ("pass", {"OPENBLAS_THREAD_TIMEOUT": "12"}, "12"),
                                   ("import numpy", {}, "None")):
        done = subprocess.run([sys.executable, "-c", code.format(first=first)], cwd=tmp_path, capture_output=True,
                              text=True, timeout=120, env={**env, **extra})
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == [expected], (first, extra, done.stdout)
