"""The compiled loop's tanh approximation against the exact tanh."""

import numpy as np

from lstm_core import kernels


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
