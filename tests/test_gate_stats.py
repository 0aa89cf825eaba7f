"""Gate statistics (lstm_core/gate_stats.py) against hand calculations: a gate whose bias is +50 is open at every
step and one at -50 closed, whatever the input; padded steps never count."""

import numpy as np
import pytest
import torch

from lstm_core import make_cell
from lstm_core.bridge import from_torch
from lstm_core.gate_stats import CLOSED, OPEN, gate_stats, gates_of


def lstm_with_gate_biases(H=3, F=2, **biases):
    """An LSTM whose gates' biases are set by hand (i, f, g, o blocks of H rows), weights small."""
    cell = make_cell("lstm", F, H, seed=0)
    with torch.no_grad():
        cell.weight_ih_l0.mul_(0.01)
        cell.weight_hh_l0.mul_(0.01)
        cell.bias_hh_l0.zero_()
        for k, name in enumerate("ifgo"):
            cell.bias_ih_l0[k * H:(k + 1) * H] = biases.get(name, 0.0)
    return from_torch(cell)


def test_a_gate_biased_open_is_open_at_every_step_and_one_biased_shut_is_closed():
    net = lstm_with_gate_biases(f=50.0, i=-50.0, o=0.0)
    x = np.random.default_rng(0).standard_normal((4, 7, 2)).astype(np.float32)
    s = gate_stats(net, x)
    assert s.gates == ("f", "i", "o") and s.steps == 28
    np.testing.assert_array_equal(s.open["f"], 1.0)
    np.testing.assert_array_equal(s.closed["f"], 0.0)
    np.testing.assert_array_equal(s.closed["i"], 1.0)
    np.testing.assert_array_equal(s.open["i"], 0.0)
    # o = sigmoid(about 0): never saturated either way, its mean is about 1/2
    np.testing.assert_array_equal(s.open["o"] + s.closed["o"], 0.0)
    assert s.mean["o"] == pytest.approx(0.5, abs=0.01)
    assert s.forget == pytest.approx(1.0) and s.mean["i"] == pytest.approx(0.0, abs=1e-6)


def test_fractions_count_real_steps_only():
    # The forget gate's bias is chosen so that f sits exactly between the thresholds on zero input and crosses
    # OPEN on input 1 (weight 20 on feature 0, other weights zero): count the steps by hand.
    H, F = 2, 1
    cell = make_cell("lstm", F, H, seed=0)
    with torch.no_grad():
        for p in cell.parameters():
            p.zero_()
        cell.weight_ih_l0[H:2 * H, 0] = 20.0  # f's rows
    x = np.zeros((2, 5, 1), np.float32)
    x[0, [1, 3], 0] = 1.0  # sequence 0: f open at steps 1 and 3 of its 5
    x[1, [0, 4], 0] = 1.0  # sequence 1 has 3 real steps: only step 0 counts; step 4 is padding
    s = gate_stats(from_torch(cell), x, lengths=[5, 3])
    assert s.steps == 8
    np.testing.assert_allclose(s.open["f"], 3 / 8)  # sigmoid(20) > 0.9 at 3 of the 8 real steps
    np.testing.assert_allclose(s.closed["f"], 0.0)  # sigmoid(0) = 0.5 elsewhere
    assert CLOSED < 0.5 < OPEN


def test_kinds_name_their_gates_and_the_gru_forget_gate_is_z():
    assert gates_of("lstm") == ("f", "i", "o")
    assert gates_of("gru") == ("r", "z")
    assert gates_of("rnn") == ()
    s = gate_stats(from_torch(make_cell("gru", 2, 4, seed=1)), np.ones((1, 6, 2), np.float32))
    assert s.forget == s.mean["z"]
