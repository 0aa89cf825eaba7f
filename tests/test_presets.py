"""Hand-set weights (lstm_core/presets.py) against hand calculations and the readable step."""

import math

import numpy as np
import pytest

import lstm_core
from lstm_core import presets
from lstm_core.step import lstm_step


def sig(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def latch_input(T: int, write: int, value: float, reset: int) -> np.ndarray:
    rng = np.random.default_rng(1)
    x = np.zeros((T, 3), np.float32)
    x[:, 0] = rng.uniform(-0.9, 0.9, T)  # a noisy value at every step: the latch must ignore it
    x[write] = (value, 1, 0)
    x[reset, 2] = 1
    return x


def readable_cells(net, x) -> np.ndarray:
    """C_t by the seed's six equations, one step at a time (lstm_core.step.lstm_step), in float64."""
    p = net.params
    p64 = lstm_core.Params(*(np.asarray(a, np.float64) for a in (p.weight_ih, p.weight_hh, p.bias_ih, p.bias_hh)))
    h, c, out = np.zeros(1), np.zeros(1), []
    for x_t in np.asarray(x, np.float64):
        s = lstm_step(p64, x_t, h, c)
        h, c = s["h"], s["c"]
        out.append(c[0])
    return np.array(out)


def test_the_latch_holds_its_value_within_one_percent_for_1000_steps_until_reset():
    net = presets.lstm_network(presets.preset("latch").table())
    write, reset = 10, 1011
    x = latch_input(1100, write, 0.7, reset)
    c = lstm_core.trace(net, x)["c"][:, 0]
    # by hand: the write step opens i (σ(20 - 10)) and shuts f (σ(12 - 20)); C_{write-1} is ~0
    stored = sig(10) * math.tanh(0.7)
    assert c[write] == pytest.approx(stored, rel=1e-3)
    held = c[write : reset]  # 1,001 steps: the write step and the 1,000 after it
    assert len(held) == 1001
    assert np.abs(held - stored).max() < 0.01 * stored
    # each later step keeps f = σ(12) of it (the noisy value leaks in through i = σ(-10), negligibly)
    assert c[write + 1000] == pytest.approx(sig(12) ** 1000 * stored, abs=2e-3)
    assert abs(c[reset]) < 0.01 * stored  # reset shuts f: the memory is gone in one step
    # the fast loop (float32) = the readable step (float64): σ(12) rounded to float32 drifts 5e-5 in 1,000 steps
    np.testing.assert_allclose(c, readable_cells(net, x), atol=2e-4)


def test_the_counter_adds_tanh_point_one_per_write_pulse_and_empties_on_reset():
    net = presets.lstm_network(presets.preset("counter").table())
    x, _ = presets.counter_input(300, seed=3)
    c = lstm_core.trace(net, x)["c"][:, 0]
    reset = int(np.flatnonzero(x[:, 2])[0])
    ticks = np.cumsum(x[:, 1])
    expected = ticks[reset - 1] * math.tanh(0.1) * sig(10)
    assert c[reset - 1] == pytest.approx(expected, rel=0.01)
    assert abs(c[reset]) < 1e-3
    after = x[reset + 1 :, 1].sum() * math.tanh(0.1) * sig(10)
    assert c[-1] == pytest.approx(after, rel=0.01)


def test_forget_everything_holds_only_the_present():
    net = presets.lstm_network(presets.preset("forget").table())
    x, _ = presets.demo_input(100, seed=2)
    c = lstm_core.trace(net, x)["c"][:, 0]
    np.testing.assert_allclose(c, sig(10) * np.tanh(x[:, 0]), atol=1e-4)  # f = σ(-12): nothing carried over


def test_weights_land_in_torchs_gate_order():
    net = presets.lstm_network({("f", "b"): 3.0, ("o", "write"): -2.0, ("g", "h"): 0.5})
    assert net.params.bias_ih.tolist() == [0, 3, 0, 0]  # i, f, g, o
    assert net.params.weight_ih[3].tolist() == [0, -2, 0]
    assert net.params.weight_hh[:, 0].tolist() == [0, 0, 0.5, 0]
    with pytest.raises(lstm_core.LabError, match="unknown hand-set weight"):
        presets.lstm_network({("x", "b"): 1.0})


def test_shifting_the_forget_bias_moves_f_by_exactly_that_pre_activation():
    ck = lstm_core.load_model(lstm_core.__path__[0] + "/../assets/models/copy-lstm.npz")
    x = np.random.default_rng(0).normal(size=(30, ck.input_size)).astype(np.float32)
    before = lstm_core.trace(ck.network, x[:1])  # one step: same h_{t-1} = 0 for both
    after = lstm_core.trace(presets.shift_forget_bias(ck.network, -2.5), x[:1])
    pre = before["pre_f"][0].astype(np.float64)
    np.testing.assert_allclose(after["f"][0], 1 / (1 + np.exp(-(pre - 2.5))), atol=1e-6)
    np.testing.assert_array_equal(after["i"][0], before["i"][0])
    with pytest.raises(lstm_core.LabError, match="only an LSTM"):
        presets.shift_forget_bias(lstm_core.load_model(lstm_core.__path__[0] + "/../assets/models/copy-gru.npz")
                                  .network, 1.0)


def test_every_preset_has_a_demo_input_of_the_asked_length():
    for name in presets.PRESETS:
        x, marks = presets.preset_input(name, 150, seed=4)
        assert x.shape == (150, 3) and marks and all(x[m, 1] == 1 for m in marks)
    with pytest.raises(lstm_core.LabError, match="at least 20"):
        presets.demo_input(10)
