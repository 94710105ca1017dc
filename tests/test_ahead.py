"""_ahead: from an empty numba cache, a helper process compiles a shared fit loop while the first fit compiles
its own code; the fit then loads the loop from the cache and gives the same bits as without the helper."""
import os
import subprocess
import sys
import textwrap

import pytest

PROGRAM = textwrap.dedent("""
    import numpy as np
    import derive.kernels as kernels
    from derive.kernels import _ahead, _dense, _fused
    m = kernels.load("{name}")
    at_load = sorted(_ahead._helpers)
    X = np.random.default_rng(0).normal(size=(600, 4))
    y = {labels}
    params = m.init(4, {shape}seed=2)
    m.fit(params, X, y, 0.05, epochs=2, batch_size=64, optimizer="adam")
    misses = sum({loop}.stats.cache_misses.values())
    print(",".join(at_load) or "-", misses, not _ahead._helpers, *[p.ravel().tobytes().hex() for p in params])
""")
CASES = {  # name: (labels, init arguments, the shared loop, a helper started as the module loads)
    "mlp_tanh_sigmoid_bce": ("(X[:, 0] > 0).astype(float)", "(8,), ", "_dense._fit", "dense"),
    "neuron_identity_mse": ("X[:, :3] * 2.0", "n_outputs=3, ", "_dense._fit", "-"),      # K > 1: started by fit
    "neuron_sigmoid_bce": ("(X[:, 0] > 0).astype(float)", "", "_fused.fit_batches", "-"),  # mini-batches: by fit
}


def _run(name, cache, ahead):
    labels, shape, loop, _ = CASES[name]
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "DERIVE_QUIET": "1", "DERIVE_AHEAD": ahead}
    program = PROGRAM.format(name=name, labels=labels, shape=shape, loop=loop)
    done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.split()


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the helper needs a second core")
@pytest.mark.parametrize("name", sorted(CASES))
def test_a_helper_compiles_the_fit_loop_and_the_fit_gives_the_same_bits(name, tmp_path):
    at_load, misses, joined, *helped = _run(name, tmp_path / "with", "1")
    assert (at_load, misses, joined) == (CASES[name][3], "0", "True")   # the loop came from the helper's cache
    at_load, misses, _, *alone = _run(name, tmp_path / "without", "0")
    assert (at_load, misses) == ("-", "1")                              # compiled here
    assert helped == alone


def test_join_survives_a_helper_that_failed():
    from derive.kernels import _ahead
    _ahead._helpers["test"] = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    _ahead.join("test")
    assert "test" not in _ahead._helpers
