"""_ahead: from an empty numba cache, a helper process compiles the shared fit loops while the first fit
compiles its own code; the fit then loads them from the cache and gives the same bits as without the helper."""
import os
import subprocess
import sys
import textwrap

import pytest

PROGRAM = textwrap.dedent("""
    import numpy as np
    import derive.kernels as kernels
    from derive.kernels import _ahead, _dense
    m = kernels.load("{name}")
    started = _ahead._helper is not None
    X = np.random.default_rng(0).normal(size=(600, 4))
    y = {labels}
    params = m.init(4, {shape}seed=2)
    m.fit(params, X, y, 0.05, epochs=2, batch_size=64, optimizer="adam")
    misses = sum(_dense._fit.stats.cache_misses.values())
    print(started, misses, _ahead._helper is None, *[p.ravel().tobytes().hex() for p in params])
""")
CASES = {"mlp_tanh_sigmoid_bce": ("(X[:, 0] > 0).astype(float)", "(8,), "),
         "neuron_identity_mse": ("X[:, :3] * 2.0", "n_outputs=3, ")}


def _run(name, cache, ahead):
    labels, shape = CASES[name]
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "DERIVE_QUIET": "1", "DERIVE_AHEAD": ahead}
    done = subprocess.run([sys.executable, "-c", PROGRAM.format(name=name, labels=labels, shape=shape)], env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.split()


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the helper needs a second core")
@pytest.mark.parametrize("name", sorted(CASES))
def test_a_helper_compiles_the_fit_loop_and_the_fit_gives_the_same_bits(name, tmp_path):
    started, misses, joined, *helped = _run(name, tmp_path / "with", "1")
    loaded_at_once = name.startswith("mlp")   # a neuron starts it in fit, once it sees K > 1 outputs
    assert (started, misses, joined) == (str(loaded_at_once), "0", "True")   # _fit came from the helper's cache
    started, misses, _, *alone = _run(name, tmp_path / "without", "0")
    assert (started, misses) == ("False", "1")                              # compiled here
    assert helped == alone


def test_join_survives_a_helper_that_failed():
    from derive.kernels import _ahead
    _ahead._helper = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    _ahead.join()
    assert _ahead._helper is None
