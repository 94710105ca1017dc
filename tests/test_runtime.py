"""derive.compile: any valid combination, custom expressions included, built into the per-user cache."""
import subprocess
import sys

import pytest

import derive
import derive.codegen.generate
from derive.errors import DeriveError, InvalidPair
from derive.runtime import cache_dir
from derive.verify import verify_module


def test_cache_dir_honours_derive_cache_dir_then_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("DERIVE_CACHE_DIR", str(tmp_path / "a"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "b"))
    assert cache_dir() == tmp_path / "a"
    monkeypatch.delenv("DERIVE_CACHE_DIR")
    assert cache_dir() == tmp_path / "b" / "derive"


def test_custom_activation_compiles_and_matches_finite_differences(monkeypatch, tmp_path):
    monkeypatch.setenv("DERIVE_CACHE_DIR", str(tmp_path))
    module = derive.compile(activation_expr="z/(1+Abs(z))", loss="mse")
    assert module.__file__.startswith(str(tmp_path))
    assert module.EXPRESSIONS["activation"] == "z/(Abs(z) + 1)"
    result = verify_module(module)
    assert result.passed, result
    assert derive.compile(activation_expr="z/(1+Abs(z))", loss="mse") is module


def test_custom_loss_in_an_mlp(monkeypatch, tmp_path):
    monkeypatch.setenv("DERIVE_CACHE_DIR", str(tmp_path))
    module = derive.compile("sigmoid", loss_expr="(a-y)**4", model="mlp", hidden="relu")
    assert module.HIDDEN == "relu" and module.LOSS.startswith("custom")
    assert verify_module(module).passed


def test_the_same_source_as_generate(monkeypatch, tmp_path):
    monkeypatch.setenv("DERIVE_CACHE_DIR", str(tmp_path))
    module = derive.compile("tanh", "mse")
    committed = (derive.codegen.generate.GENERATED / "neuron_tanh_mse.py").read_text("utf-8")
    built = open(module.__file__, encoding="utf-8").read()
    assert built.splitlines()[2:] == committed.splitlines()[2:]  # all but the provenance header


def test_invalid_pair_is_refused_before_anything_is_written(monkeypatch, tmp_path):
    monkeypatch.setenv("DERIVE_CACHE_DIR", str(tmp_path))
    with pytest.raises(InvalidPair, match="relu cannot feed bce"):
        derive.compile("relu", "bce")
    assert not any(tmp_path.iterdir())


def test_an_unwritable_cache_is_one_line(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("DERIVE_CACHE_DIR", str(blocker / "cache"))
    with pytest.raises(DeriveError, match="set DERIVE_CACHE_DIR to a writable folder") as raised:
        derive.compile("tanh", "log_cosh")
    assert "\n" not in str(raised.value)


def test_compiled_module_works_in_a_fresh_process(tmp_path):
    code = ("import derive, numpy as np; m = derive.compile(activation_expr='z*tanh(z)', loss='huber'); "
            "p = m.init(3); X = np.ones((5, 3)); print(m.loss(p, X, np.zeros(5)) > 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**__import__("os").environ, "DERIVE_CACHE_DIR": str(tmp_path)}, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
