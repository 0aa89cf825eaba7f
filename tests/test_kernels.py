"""The compiled loops: the tanh approximation against the exact tanh, and their numpy twins bit for bit."""

import numpy as np
import pytest

import lstm_core
from lstm_core import blas, kernels, loops


def test_fast_tanh_is_within_4e7_of_tanh_and_never_leaves_minus_one_one():
    x = np.concatenate([np.linspace(-20, 20, 2_000_001), [0.0, 1e-30, -1e-30, 1e30, -1e30, np.inf, -np.inf]])
    x = x.astype(np.float32)
    out = np.empty_like(x)
    kernels.tanh_array(x, out)
    err = np.abs(out.astype(np.float64) - np.tanh(x.astype(np.float64)))
    assert err.max() < 4e-7
    assert (np.abs(out) <= 1).all()
    assert out[np.argmax(x == 0)] == 0  # odd function: exactly zero at zero
    np.testing.assert_array_equal(out[x > 0], -kernels_tanh(-x[x > 0]))


def kernels_tanh(x):
    out = np.empty_like(x)
    kernels.tanh_array(np.ascontiguousarray(x), out)
    return out


GEMM = blas.address("sgemm")
PATHS = [pytest.param(0, id="rows-of-four"),
         pytest.param(GEMM, id="gemm", marks=pytest.mark.skipif(not GEMM, reason="numpy's OpenBLAS not found"))]


@pytest.mark.parametrize("gemm", PATHS)
@pytest.mark.parametrize("variant", list(kernels.VARIANT_CODES))
@pytest.mark.parametrize("H", [5, 8])  # a tail of rows after the blocks of four, and none
def test_the_numpy_twins_give_the_compiled_loops_numbers_bit_for_bit(variant, H, gemm):
    """On either path of the recurrent product (the twin calls the same gemm in the same pieces)."""
    rng = np.random.default_rng(H)
    B, T, F = 3, 30, 7  # F = 7: the input product, four features at a time, has a tail
    x = rng.standard_normal((B, T, F)).astype(np.float32)
    w_ih, bias = rng.standard_normal((F, 4 * H)).astype(np.float32), rng.standard_normal(4 * H).astype(np.float32)
    w = (rng.standard_normal((H, 4 * H)) * 0.4).astype(np.float32)
    peep = rng.standard_normal((3, H)).astype(np.float32)
    h0, c0 = rng.standard_normal((2, B, H)).astype(np.float32)
    runs = []
    for loop in (kernels.lstm_loop, loops.lstm_loop_numpy):
        z, s = np.full((T, B, 4 * H), np.nan, np.float32), np.full((T, B, 4 * H), np.nan, np.float32)
        c, h = np.full((T, B, H), np.nan, np.float32), np.full((T, B, H), np.nan, np.float32)
        for b0, b1 in ((0, 1), (1, B)):  # a batch in two parts, as two threads run it
            loop(x, w_ih, bias, w, peep, h0, c0, kernels.VARIANT_CODES[variant], gemm, b0, b1, z, s, c, h)
        assert not np.isnan(z).any() and not np.isnan(h).any()  # the parts fill every sequence
        runs.append((z, s, c, h))
    for compiled, twin in zip(*runs, strict=True):
        np.testing.assert_array_equal(twin, compiled)
    gi = rng.standard_normal((B, T, 3 * H)).astype(np.float32)
    wg, bh = (rng.standard_normal((H, 3 * H)) * 0.4).astype(np.float32), rng.standard_normal(3 * H).astype(np.float32)
    runs = []
    for loop in (kernels.gru_loop, loops.gru_loop_numpy):
        pre, gates, h = np.empty_like(gi), np.empty_like(gi), np.empty((B, T, H), np.float32)
        loop(gi, wg, bh, h0, gemm, pre, gates, h)
        runs.append((pre, gates, h))
    for compiled, twin in zip(*runs, strict=True):
        np.testing.assert_array_equal(twin, compiled)
    for relu in (False, True):
        zr = rng.standard_normal((B, T, H)).astype(np.float32)
        wr = (rng.standard_normal((H, H)) * 0.4).astype(np.float32)
        runs = []
        for loop in (kernels.rnn_loop, loops.rnn_loop_numpy):
            z, h = zr.copy(), np.empty((B, T, H), np.float32)
            loop(z, wr, h0, relu, gemm, h)
            runs.append((z, h))
        for compiled, twin in zip(*runs, strict=True):
            np.testing.assert_array_equal(twin, compiled)


FRESH = r"""
import sys
import numpy as np, lstm_core
import lstm_core.tracing
from lstm_core import loops
assert "numba" not in sys.modules, "numba imported before any trace"
ck = lstm_core.load_model("assets/models/adding-lstm.npz")
x = np.random.default_rng(0).random((100, 2), dtype=np.float32)
xs = np.random.default_rng(1).random((6, 100, 2), dtype=np.float32)  # a batch: the gemm path when found
assert loops.loop("lstm", 100 * 32) is loops.lstm_loop_numpy  # small work: no waiting for numba
first, first_batch = lstm_core.trace(ck, x), lstm_core.trace(ck, xs)
loops._warming["lstm"].join(timeout=120)  # the compiled loop was prepared in the background
from lstm_core import kernels
assert kernels.lstm_loop.signatures and loops.loop("lstm", 100 * 32) is kernels.lstm_loop
again, again_batch = lstm_core.trace(ck, x), lstm_core.trace(ck, xs)
for a, b in ((first, again), (first_batch, again_batch)):  # the twin's numbers are the compiled loop's
    for k in a:
        assert np.array_equal(a[k], b[k], equal_nan=True), k
assert loops.loop("rnn", 10**6) is kernels.rnn_loop  # large work waits for the compiled loop
print("ok")
"""


def test_a_fresh_process_traces_without_numba_first_then_with_the_compiled_loop():
    import subprocess
    import sys
    from pathlib import Path

    done = subprocess.run([sys.executable, "-c", FRESH], cwd=Path(__file__).resolve().parents[1],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]


DEFERRED = r"""
import sys
import numpy as np, lstm_core
from lstm_core import loops
loops.defer_warm_up()
ck = lstm_core.load_model("assets/models/adding-lstm.npz")
x = np.random.default_rng(0).random((100, 2), dtype=np.float32)
first = lstm_core.trace(ck, x)
assert not loops._warming and "numba" not in sys.modules, "a deferred warm-up started"
loops.warm_up_in_background(("lstm",))
loops._warming["lstm"].join(timeout=120)
from lstm_core import kernels
assert loops.loop("lstm", 100 * 32) is kernels.lstm_loop and set(loops._warming) == {"lstm"}
again = lstm_core.trace(ck, x)
assert all(np.array_equal(first[k], again[k], equal_nan=True) for k in first)
print("ok")
"""


def test_a_deferred_warm_up_waits_for_its_call_and_changes_no_number():
    import subprocess
    import sys
    from pathlib import Path

    done = subprocess.run([sys.executable, "-c", DEFERRED], cwd=Path(__file__).resolve().parents[1],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_read_only_inputs_and_weights_need_no_new_compile(kind):
    """The app's cached inputs and weights are read-only; numba would compile the loops again for them (seconds,
    in the middle of a 100,000-step page) if they reached the compiled loop as they are."""
    from lstm_core import kernels

    loops.prepare((kind,))
    compiled = {"lstm": kernels.lstm_loop, "gru": kernels.gru_loop, "rnn": kernels.rnn_loop}[kind]
    before = len(compiled.signatures)
    net = lstm_core.from_torch(lstm_core.make_cell(kind, 1, 3, seed=0))
    for a in (net.params.weight_ih, net.params.weight_hh, net.params.bias_ih, net.params.bias_hh):
        a.flags.writeable = False
    x = np.random.default_rng(0).random((loops.SMALL_WORK // 3 + 1, 1), dtype=np.float32)  # large: compiled
    x.flags.writeable = False
    tr = lstm_core.trace(net, x)
    assert len(compiled.signatures) == before, compiled.signatures
    assert np.isfinite(tr["h"]).all()
