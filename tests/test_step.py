"""The readable single-step functions against torch, and against the fast whole-sequence trace."""

import numpy as np
import pytest
import torch

from lstm_core import VARIANTS, Network, from_torch, gru_step, lstm_step, make_cell, params_of, rnn_step, trace
from lstm_core.step import Params, sigmoid


def numpy_params(m):
    p = params_of(m)
    return Params(*(None if a is None else a.detach().numpy() for a in
                    (p.weight_ih, p.weight_hh, p.bias_ih, p.bias_hh, p.peephole)))


def run_steps(step, m, x, with_c=True, **kw):
    p = numpy_params(m)
    H = m.hidden_size
    h, c, out = np.zeros(H, np.float32), np.zeros(H, np.float32), []
    for t in range(len(x)):
        s = step(p, x[t], h, c, **kw) if with_c else step(p, x[t], h, **kw)
        h = s["h"]
        c = s["c"] if with_c else c
        out.append(s)
    return out


@pytest.mark.parametrize("kind, step, with_c, kw", [
    ("lstm", lstm_step, True, {}),
    ("gru", gru_step, False, {}),
    ("rnn", rnn_step, False, {"nonlinearity": "tanh"}),
    ("rnn", rnn_step, False, {"nonlinearity": "relu"}),
])
def test_single_steps_reproduce_torch(kind, step, with_c, kw):
    torch.manual_seed(11)
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[kind]
    m = cls(3, 5, **kw)
    x = torch.randn(30, 3)
    with torch.no_grad():
        out, _ = m(x)
    steps = run_steps(step, m, x.numpy(), with_c, **kw)
    np.testing.assert_allclose(np.stack([s["h"] for s in steps]), out.numpy(), rtol=0, atol=1e-6)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_single_step_and_fast_trace_agree(variant):
    m = make_cell("lstm", 2, 7, variant=variant, seed=2)
    x = np.random.default_rng(2).standard_normal((45, 2)).astype(np.float32)
    tr = trace(from_torch(m), x)
    steps = run_steps(lstm_step, m, x, variant=variant)
    for name in tr:
        np.testing.assert_allclose(np.stack([s[name] for s in steps]), tr[name], rtol=1e-5, atol=2e-6,
                                   err_msg=name)
    assert set(steps[0].keys()) == set(tr)


def test_gru_and_rnn_steps_agree_with_their_traces():
    x = np.random.default_rng(0).standard_normal((20, 2)).astype(np.float32)
    for kind, step in (("gru", gru_step), ("rnn", rnn_step)):
        m = make_cell(kind, 2, 3, seed=0)
        tr = trace(from_torch(m), x)
        steps = run_steps(step, m, x, with_c=False)
        for name in tr:
            np.testing.assert_allclose(np.stack([s[name] for s in steps]), tr[name], atol=2e-6)


def test_step_works_on_torch_tensors_with_a_batch():
    m = make_cell("lstm", 2, 3, variant="cifg", seed=0)
    p = params_of(m)
    x, h, c = torch.randn(4, 2), torch.randn(4, 3), torch.randn(4, 3)
    s = lstm_step(p, x, h, c, "cifg")
    assert s["h"].shape == (4, 3)
    with torch.no_grad():  # one CIFG step written out in torch, from the definition
        zi, zf, zg, zo = (x @ m.weight_ih_l0.T + m.bias_ih_l0 + h @ m.weight_hh_l0.T + m.bias_hh_l0).split(3, dim=1)
        f = torch.sigmoid(zf)
        c_new = f * c + (1 - f) * torch.tanh(zg)  # coupled: i = 1 - f
        h_new = torch.sigmoid(zo) * torch.tanh(c_new)
    torch.testing.assert_close(s["i"], 1 - s["f"])
    torch.testing.assert_close(s["f"].detach(), f)
    torch.testing.assert_close(s["c"].detach(), c_new)
    torch.testing.assert_close(s["h"].detach(), h_new)
    pn = numpy_params(m)
    s_np = lstm_step(pn, x.numpy(), h.numpy(), c.numpy(), "cifg")
    np.testing.assert_allclose(s["h"].detach().numpy(), s_np["h"], atol=1e-6)


def test_hand_calculation_saturated_gates_keep_the_cell():
    """Forget bias +50 and input bias -50: C_t stays C_0 whatever the input (a hand calculation)."""
    H = 2
    p = Params(np.zeros((4 * H, 1), np.float32), np.zeros((4 * H, H), np.float32),
               np.array([-50, -50, 50, 50, 0, 0, 0, 0], np.float32), np.zeros(4 * H, np.float32))
    c0 = np.array([0.7, -0.3], np.float32)
    s = lstm_step(p, np.array([3.0], np.float32), np.zeros(H, np.float32), c0)
    np.testing.assert_allclose(s["c"], c0, atol=1e-12)
    np.testing.assert_allclose(s["h"], 0.5 * np.tanh(c0), atol=1e-7)  # o = sigmoid(0) = 1/2


def test_hand_calculation_gru_step_follows_torchs_convention():
    """H = 1, x = 0.3, h_0 = 0.2. By hand:
    r = sigmoid(-1) = 0.26894142, z = sigmoid(2) = 0.88079708,
    n = tanh(2 * 0.3 + 1 + r * (1.5 * 0.2 + 0.5)) = tanh(1.81515314) = 0.94835293 (r scales U_n h + b_hn),
    h = (1 - z) n + z h_0 = 0.28920586 (z keeps the old state)."""
    p = Params(np.array([[0.0], [0.0], [2.0]], np.float32), np.array([[0.0], [0.0], [1.5]], np.float32),
               np.array([-1.0, 2.0, 1.0], np.float32), np.array([0.0, 0.0, 0.5], np.float32))
    x, h0 = np.array([0.3], np.float32), np.array([0.2], np.float32)
    s = gru_step(p, x, h0)
    np.testing.assert_allclose(s["r"], [0.26894142], atol=1e-7)
    np.testing.assert_allclose(s["z"], [0.88079708], atol=1e-7)
    np.testing.assert_allclose(s["pre_n"], [1.81515314], atol=1e-6)
    np.testing.assert_allclose(s["n"], [0.94835293], atol=1e-6)
    np.testing.assert_allclose(s["h"], [0.28920586], atol=1e-6)
    tr = trace(Network("gru", p), np.array([[0.3], [0.0]], np.float32))  # the trace's first step, from h_0 = 0
    np.testing.assert_allclose(tr["h"][0], [(1 - 0.88079708) * np.tanh(1.6 + 0.26894142 * 0.5)], atol=1e-6)


@pytest.mark.parametrize("nonlinearity, expected", [("tanh", [0.71629787, -0.42189901]), ("relu", [0.9, 0.0])])
def test_hand_calculation_rnn_step(nonlinearity, expected):
    """pre_h = W_ih x + b_ih + W_hh h_0 + b_hh = [0.3 + 0.5 + 0.1, -0.6 + 0.25 - 0.1] = [0.9, -0.45]."""
    p = Params(np.array([[1.0], [-2.0]], np.float32), np.array([[0.2, 0.0], [0.0, 0.1]], np.float32),
               np.array([0.5, 0.0], np.float32), np.array([0.0, 0.25], np.float32))
    s = rnn_step(p, np.array([0.3], np.float32), np.array([0.5, -1.0], np.float32), nonlinearity=nonlinearity)
    np.testing.assert_allclose(s["pre_h"], [0.9, -0.45], atol=1e-6)
    np.testing.assert_allclose(s["h"], expected, atol=1e-6)
    tr = trace(Network("rnn", p, nonlinearity=nonlinearity), np.array([[0.3]], np.float32))  # from h_0 = 0
    np.testing.assert_allclose(tr["pre_h"][0], [0.8, -0.35], atol=1e-6)
    np.testing.assert_allclose(tr["h"][0], {"tanh": [0.66403677, -0.33637554], "relu": [0.8, 0.0]}[nonlinearity],
                               atol=1e-6)


def test_numpy_sigmoid_is_stable_at_extremes():
    z = np.array([-1000.0, 0.0, 1000.0], np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is the right answer
        np.testing.assert_allclose(sigmoid(z), [0.0, 0.5, 1.0])
