"""memory.py against independent references: finite differences of the readable numpy step (float64),
closed forms (the cell path, a linear network's memory capacity), hand-built arrays and hand-set weights."""

from pathlib import Path

import numpy as np
import pytest

from lstm_core.errors import LabError
from lstm_core.memory import (
    Clamp,
    _logistic_fit,
    clamped_trace,
    forget_time,
    gradient_flow,
    interpretable_units,
    memory_capacity,
    probe_lags,
    recall_probe,
    recall_steps,
    retention,
    saturation,
    state_pca,
)
from lstm_core.network import Network
from lstm_core.step import Params, gru_step, lstm_step, rnn_step
from lstm_core.tracing import trace

GATES = {"lstm": 4, "gru": 3, "rnn": 1}
VARIANTS = ("vanilla", "peephole", "cifg", "nfg", "nig", "nog", "niaf", "noaf")  # Greff et al.'s, as step.py runs them


def make_net(kind, H=3, F=2, variant="vanilla", nonlinearity="tanh", seed=0, scale=1.0, no_recurrence=False):
    rng = np.random.default_rng(seed)
    G = GATES[kind]
    sd = {"weight_ih_l0": rng.standard_normal((G * H, F)) * scale,
          "weight_hh_l0": np.zeros((G * H, H)) if no_recurrence else rng.standard_normal((G * H, H)) * scale,
          "bias_ih_l0": rng.standard_normal(G * H) * 0.5, "bias_hh_l0": rng.standard_normal(G * H) * 0.5}
    if variant == "peephole":
        sd["weight_peep_l0"] = rng.standard_normal((3, H))
    return Network.from_state_dict(kind, sd, variant, nonlinearity)


def params64(net):
    p = net.params
    return Params(*(None if a is None else np.asarray(a, np.float64) for a in
                    (p.weight_ih, p.weight_hh, p.bias_ih, p.bias_hh, p.peephole)))


def run64(net, x):
    """Every step's values by the readable numpy step in float64: a list of Step."""
    p, H = params64(net), net.hidden_size
    h, c, out = np.zeros(H), np.zeros(H), []
    for t in range(len(x)):
        if net.kind == "lstm":
            s = lstm_step(p, x[t], h, c, net.variant)
            c = s["c"]
        elif net.kind == "gru":
            s = gru_step(p, x[t], h)
        else:
            s = rnn_step(p, x[t], h, net.nonlinearity)
        h = s["h"]
        out.append(s)
    return out


def fd_jacobian(fun, x, eps=1e-6):
    """Central differences of fun(x) (any shape) with respect to every x[t, f]: (T, *out, F)."""
    T, F = x.shape
    cols = []
    for t in range(T):
        row = []
        for f in range(F):
            a, b = x.copy(), x.copy()
            a[t, f] += eps
            b[t, f] -= eps
            row.append((np.asarray(fun(a)) - np.asarray(fun(b))) / (2 * eps))
        cols.append(np.stack(row, axis=-1))
    return np.stack(cols)


CASES = [("lstm", v, "tanh") for v in VARIANTS] + [("gru", "vanilla", "tanh"), ("rnn", "vanilla", "tanh"),
                                                    ("rnn", "vanilla", "relu")]


# ---------------------------------------------------------------------------------------------------
# gradient_flow


@pytest.mark.parametrize("kind, variant, nonlinearity", CASES)
@pytest.mark.parametrize("method", ["fast", "autograd"])
def test_gradient_flow_equals_finite_differences(kind, variant, nonlinearity, method):
    net = make_net(kind, variant=variant, nonlinearity=nonlinearity, seed=3)
    x = np.random.default_rng(4).standard_normal((6, 2))
    ref = fd_jacobian(lambda a: run64(net, a)[-1]["h"], x)  # (T, H, F)
    gf = gradient_flow(net, x, jacobian=True, dtype="float64", method=method)
    np.testing.assert_allclose(gf.jacobian, ref, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gf.norm, np.sqrt((ref**2).sum(axis=(1, 2))), rtol=1e-6, atol=1e-8)
    assert (gf.cell is not None) == (kind == "lstm")


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("T", [1, 128, 259])
def test_fast_path_equals_plain_autograd_across_chunks(kind, T):
    """The recursion works a chunk of 128 steps at a time: lengths at and across chunk edges."""
    rng = np.random.default_rng(T)
    net = make_net(kind, H=3, seed=31, variant="peephole" if kind == "lstm" else "vanilla")
    x = rng.standard_normal((T, 2))
    a = gradient_flow(net, x, jacobian=True, dtype="float64")
    b = gradient_flow(net, x, jacobian=True, dtype="float64", method="autograd")
    np.testing.assert_allclose(a.jacobian, b.jacobian, rtol=1e-9, atol=1e-300)
    if kind == "lstm":
        np.testing.assert_allclose(a.cell_jacobian, b.cell_jacobian, rtol=1e-9, atol=1e-300)
    head = _Head("per_step", rng.standard_normal((3, 3)), rng.standard_normal(3))
    y = rng.integers(-1, 3, T)
    y[-1] = 1
    a = gradient_flow(net, x, "loss", head=head, target=y, loss="ce", jacobian=True, dtype="float64")
    b = gradient_flow(net, x, "loss", head=head, target=y, loss="ce", jacobian=True, dtype="float64",
                      method="autograd")
    np.testing.assert_allclose(a.jacobian, b.jacobian, rtol=1e-9, atol=1e-300)


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_float32_fast_path_agrees_with_float64(kind):
    net = make_net(kind, H=8, F=3, seed=5)
    x = np.random.default_rng(6).standard_normal((40, 3))
    a = gradient_flow(net, x, dtype="float32")
    b = gradient_flow(net, x, dtype="float64")
    np.testing.assert_allclose(a.norm, b.norm, rtol=2e-4, atol=1e-9)


def test_cell_path_is_the_product_of_forget_gates_times_the_local_cell_jacobian():
    """Vanilla LSTM: for t < T-1 the cell path is diag(o_T tanh'(C_T) prod_{s>t} f_s) dC_t/dx_t, the last
    with h_{t-1}, C_{t-1} fixed (finite differences of one readable step); at T-1 it is the whole gradient."""
    net = make_net("lstm", H=3, seed=7)
    x = np.random.default_rng(8).standard_normal((6, 2))
    T = len(x)
    steps = run64(net, x)
    gf = gradient_flow(net, x, jacobian=True, dtype="float64")
    p, H = params64(net), 3
    o_T, c_T = steps[-1]["o"], steps[-1]["c"]
    for t in range(T - 1):
        h_prev = steps[t - 1]["h"] if t else np.zeros(H)
        c_prev = steps[t - 1]["c"] if t else np.zeros(H)
        local = fd_jacobian(lambda a, t=t, h_prev=h_prev, c_prev=c_prev: lstm_step(p, a[t], h_prev, c_prev)["c"],
                            x)[t]  # (H, F)
        carry = o_T * (1 - np.tanh(c_T) ** 2) * np.prod([steps[s]["f"] for s in range(t + 1, T)], axis=0)
        np.testing.assert_allclose(gf.cell_jacobian[t], carry[:, None] * local, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(gf.cell_jacobian[-1], gf.jacobian[-1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gf.hidden, np.sqrt(((gf.jacobian - gf.cell_jacobian) ** 2).sum(axis=(1, 2))))


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_without_recurrent_weights_everything_flows_through_the_cell(variant):
    net = make_net("lstm", variant=variant, seed=9, no_recurrence=True)
    x = np.random.default_rng(10).standard_normal((7, 2))
    gf = gradient_flow(net, x, jacobian=True, dtype="float64")
    np.testing.assert_allclose(gf.cell_jacobian, gf.jacobian, rtol=1e-10, atol=1e-14)
    assert np.all(gf.hidden < 1e-12)


def test_cell_path_split_equals_autograd_with_h_detached():
    net = make_net("lstm", H=4, F=3, variant="peephole", seed=11)
    x = np.random.default_rng(12).standard_normal((9, 3))
    a = gradient_flow(net, x, jacobian=True, dtype="float64")
    b = gradient_flow(net, x, jacobian=True, dtype="float64", method="autograd")
    np.testing.assert_allclose(a.cell_jacobian, b.cell_jacobian, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(a.hidden, b.hidden, rtol=1e-8, atol=1e-14)


class _Head:
    def __init__(self, readout, W, b):
        self.readout, self.weight, self.bias = readout, W, b


def _mse_final(net, head, x, y):
    out = run64(net, x)[-1]["h"] @ head.weight.T + head.bias
    return np.mean((out - y) ** 2)


def _ce_per_step(net, head, x, y):
    hs = np.stack([s["h"] for s in run64(net, x)])
    logits = hs @ head.weight.T + head.bias
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    m = y >= 0
    return -logp[np.flatnonzero(m), y[m]].mean()


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("method", ["fast", "autograd"])
def test_gradient_of_the_loss_equals_finite_differences(kind, method):
    rng = np.random.default_rng(13)
    net = make_net(kind, H=3, seed=14)
    x = rng.standard_normal((6, 2))
    head = _Head("final", rng.standard_normal((2, 3)), rng.standard_normal(2))
    y = rng.standard_normal(2)
    gf = gradient_flow(net, x, "loss", head=head, target=y, loss="mse", jacobian=True, dtype="float64",
                       method=method)
    ref = fd_jacobian(lambda a: _mse_final(net, head, a, y), x)  # (T, F)
    np.testing.assert_allclose(gf.jacobian, ref, rtol=1e-6, atol=1e-9)
    head = _Head("per_step", rng.standard_normal((4, 3)), rng.standard_normal(4))
    y = np.array([2, -1, 0, 3, -1, 1])
    gf = gradient_flow(net, x, "loss", head=head, target=y, loss="ce", jacobian=True, dtype="float64",
                       method=method)
    ref = fd_jacobian(lambda a: _ce_per_step(net, head, a, y), x)
    np.testing.assert_allclose(gf.jacobian, ref, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(gf.norm, np.linalg.norm(ref, axis=1), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm"])
def test_a_vanishing_gradient_far_below_float32_is_still_measured(kind):
    """The recursion rescales its adjoint: norms of 1e-60 come out of a float32 run, as in float64."""
    net = make_net(kind, H=4, seed=15, scale=0.15)
    T = 600
    x = np.random.default_rng(16).standard_normal((T, 2))
    a = gradient_flow(net, x, dtype="float32")
    b = gradient_flow(net, x, dtype="float64")
    assert ((b.norm > 0) & (b.norm < 1e-50)).any()  # far below float32's smallest number
    np.testing.assert_allclose(a.norm, b.norm, rtol=2e-3)
    assert b.fall(T - 1) > 1e40
    if kind == "lstm":
        np.testing.assert_allclose(a.cell, b.cell, rtol=2e-3)
    rng = np.random.default_rng(17)
    head = _Head("per_step", rng.standard_normal((2, 4)), np.zeros(2))  # a loss at every step: added on the way
    y = rng.integers(0, 2, T)
    la = gradient_flow(net, x, "loss", head=head, target=y, loss="ce", dtype="float32")
    lb = gradient_flow(net, x, "loss", head=head, target=y, loss="ce", dtype="float64")
    np.testing.assert_allclose(la.norm, lb.norm, rtol=2e-3)
    head = _Head("final", np.ones((1, 4)), np.zeros(1))
    la = gradient_flow(net, x, "loss", head=head, target=[1.0], loss="mse", dtype="float32")
    lb = gradient_flow(net, x, "loss", head=head, target=[1.0], loss="mse", dtype="float64")
    np.testing.assert_allclose(la.norm, lb.norm, rtol=2e-3)
    assert ((lb.norm > 0) & (lb.norm < 1e-50)).any()


# ---------------------------------------------------------------------------------------------------
# retention


def test_an_rnn_without_recurrent_weights_forgets_after_one_step_exactly():
    net = make_net("rnn", H=5, F=3, seed=17, no_recurrence=True)
    x = np.random.default_rng(18).standard_normal((20, 3))
    for r in (retention(net, x, 7), retention(net, x, 7, mode="perturb", eps=0.5, seed=1)):
        assert r.h[0] > 0 and r.c is None
        assert np.all(r.h[1:] == 0.0)
        np.testing.assert_array_equal(r.steps, np.arange(7, 20))


def test_retention_of_an_lstm_reports_the_cell_and_a_seeded_direction():
    net = make_net("lstm", H=4, F=3, seed=19)
    x = np.random.default_rng(20).standard_normal((15, 3))
    a = retention(net, x, 3, mode="perturb", eps=0.1, seed=5)
    b = retention(net, x, 3, mode="perturb", eps=0.1, seed=5)
    np.testing.assert_array_equal(a.h, b.h)
    assert a.c.shape == (12,) and a.c[0] > 0
    # the first changed step against an explicit recomputation with the readable step
    u = np.random.default_rng(5).standard_normal(3)
    x2 = x.copy()
    x2[3] += 0.1 * u / np.linalg.norm(u)
    dh = np.linalg.norm(run64(net, x2)[3]["h"] - run64(net, x)[3]["h"])
    assert a.h[0] == pytest.approx(dh, rel=1e-3)


# ---------------------------------------------------------------------------------------------------
# saturation, forget_time, state_pca, interpretable_units


def test_saturation_fractions_on_hand_built_arrays():
    f = np.array([[0.05, 0.5, 0.95], [0.05, 0.95, 0.95], [0.5, 0.5, 0.99], [0.09, 0.91, 0.1]])
    low, high = saturation({"f": f}, "f")
    np.testing.assert_allclose(low, [3 / 4, 0, 0])
    np.testing.assert_allclose(high, [0, 2 / 4, 3 / 4])
    low, high = saturation({"f": f}, "f", lo=0.5, hi=0.99)
    np.testing.assert_allclose(low, [3 / 4, 0, 1 / 4])
    np.testing.assert_allclose(high, [0, 0, 0])
    padded = np.full((2, 3, 3), np.nan)  # NaN-padded batch, no mask: NaN rows are not steps
    padded[0], padded[1, :1] = f[:3], f[3:]
    np.testing.assert_allclose(saturation({"f": padded}, "f")[0], [3 / 4, 0, 0])


def test_saturation_respects_the_mask_of_a_padded_trace():
    net = make_net("lstm", H=4, F=2, seed=21, scale=3.0)
    x = np.random.default_rng(22).standard_normal((3, 30, 2)).astype(np.float32)
    tr = trace(net, x, lengths=np.array([30, 10, 4]))
    low, high = saturation(tr, "i", 0.2, 0.8)
    real = np.concatenate([tr["i"][0], tr["i"][1, :10], tr["i"][2, :4]])
    np.testing.assert_allclose(low, (real < 0.2).mean(axis=0))
    np.testing.assert_allclose(high, (real > 0.8).mean(axis=0))


def test_forget_time_is_one_over_one_minus_the_mean_forget_gate():
    f = np.stack([np.full(10, 0.9), np.ones(10), np.linspace(0.0, 1.0, 10)], axis=1)
    tau = forget_time({"f": f})
    np.testing.assert_allclose(tau, [10.0, np.inf, 2.0])


def test_state_pca_recovers_known_axes_with_a_fixed_sign():
    rng = np.random.default_rng(23)
    a, b = rng.standard_normal(500), rng.standard_normal(500)
    basis = np.linalg.qr(rng.standard_normal((4, 4)))[0][:, :2]  # two orthonormal directions in R^4
    h = 3 * a[:, None] * basis[:, 0] + b[:, None] * basis[:, 1] + 5.0
    proj, ratio = state_pca({"h": h}, k=2)
    ac, bc = a - a.mean(), b - b.mean()
    np.testing.assert_allclose(ratio, [(9 * ac @ ac), (bc @ bc)] / (9 * ac @ ac + bc @ bc), rtol=0.05)
    assert abs(np.corrcoef(proj[:, 0], a)[0, 1]) > 0.99 and abs(np.corrcoef(proj[:, 1], b)[0, 1]) > 0.95
    proj_neg, _ = state_pca({"h": -h}, k=2)  # the sign convention, not the data's sign, fixes the axes
    np.testing.assert_allclose(proj_neg, -proj, atol=1e-9)
    ev = np.sort(np.linalg.eigvalsh(np.cov(h.T)))[::-1]
    np.testing.assert_allclose(ratio, ev[:2] / ev.sum(), rtol=1e-9)


def test_interpretable_units_ranks_by_absolute_correlation():
    rng = np.random.default_rng(24)
    prop = (rng.random(300) < 0.3).astype(float)
    c = np.stack([rng.standard_normal(300), -2 * prop + 0.05 * rng.standard_normal(300), prop,
                  0.5 * prop + rng.standard_normal(300), np.zeros(300)], axis=1)
    units, r = interpretable_units({"c": c}, prop)
    assert list(units[:2]) == [2, 1] and units[-1] == 4
    assert r[0] == pytest.approx(1.0) and r[1] < -0.99 and r[-1] == 0.0
    np.testing.assert_allclose(r[2], np.corrcoef(c[:, units[2]], prop)[0, 1])


# ---------------------------------------------------------------------------------------------------
# clamped_trace


def test_forget_one_and_input_zero_hold_the_cell_exactly_flat():
    net = make_net("lstm", H=4, F=3, seed=25)
    x = np.random.default_rng(26).standard_normal((30, 3))
    s = 12
    out = clamped_trace(net, x, [Clamp("f", 1.0, steps=(s, None)), Clamp("i", 0.0, steps=(s, None))])
    assert np.all(out["c"][s:] == out["c"][s - 1])
    assert not np.all(out["h"][s:] == out["h"][s - 1])  # the output gate still moves h
    free = clamped_trace(net, x, [])
    tr = trace(net, x.astype(np.float32))
    for k in ("f", "i", "g", "c", "o", "h"):
        np.testing.assert_allclose(free[k], tr[k], atol=1e-5)
        np.testing.assert_array_equal(out[k][:s], free[k][:s])


def test_clamps_on_some_units_and_the_coupled_gate():
    net = make_net("lstm", H=4, F=3, variant="cifg", seed=27)
    x = np.random.default_rng(28).standard_normal((20, 3))
    out = clamped_trace(net, x, {"gate": "f", "value": 1.0, "units": [1, 3], "steps": (5, 15)})
    assert np.all(out["i"][5:15, [1, 3]] == 0.0)  # cifg: i = 1 - f follows the held forget gate
    assert np.all(out["c"][5:15, [1, 3]] == out["c"][4, [1, 3]])
    assert not np.all(out["c"][5:15, 0] == out["c"][4, 0])
    net = make_net("lstm", H=4, F=3, variant="peephole", seed=29)
    out = clamped_trace(net, x, [Clamp("o", 0.5), Clamp("g", 0.0, units=[0])], dtype="float64")
    assert np.all(out["o"] == 0.5) and np.all(out["c"][:, 0] == 0.0)
    np.testing.assert_allclose(out["h"], 0.5 * np.tanh(out["c"]))


# ---------------------------------------------------------------------------------------------------
# probes and memory capacity


def _linear_network(N=20, T=20_000, rho=0.95, seed=0):
    rng = np.random.default_rng(seed)
    W = rho * np.linalg.qr(rng.standard_normal((N, N)))[0]  # orthogonal, spectral radius rho
    v = rng.uniform(-1, 1, N)
    x = rng.uniform(-1, 1, T)
    h, s = np.empty((T, N)), np.zeros(N)
    for t in range(T):  # h_t = W h_{t-1} + v x_t
        s = W @ s + v * x[t]
        h[t] = s
    return W, v, h[200:], x[200:]


def test_memory_capacity_of_a_linear_network_is_close_to_its_size():
    N = 20
    W, v, h, x = _linear_network(N)
    r2 = probe_lags(h, x, lags=range(100))
    assert 18.0 <= memory_capacity(r2[:40]) <= N
    # against the closed form: R²_k = c_k' C^-1 c_k with c_k = W^k v, C = sum_k c_k c_k' (sums to N)
    c = np.empty((2000, N))
    c[0] = v
    for k in range(1, 2000):
        c[k] = W @ c[k - 1]
    theory = np.einsum("ki,ij,kj->k", c, np.linalg.inv(c.T @ c), c)
    assert theory[:100].sum() <= N + 1e-9
    assert abs(memory_capacity(r2) - theory[:100].sum()) < 0.5
    np.testing.assert_allclose(r2, theory[:100], atol=0.03)


def _latch(T=3000, period=10, seed=0):
    """A one-unit LSTM latch, x = (value, flag): the flag opens the write gate and closes the forget gate;
    otherwise f ~ 1 and i ~ 0, so the cell holds tanh(value / 2) from the last flagged step."""
    w_ih = np.array([[0.0, 30.0], [0.0, -30.0], [0.5, 0.0], [0.0, 0.0]])  # rows i, f, g, o
    b = np.array([-15.0, 15.0, 0.0, 15.0])
    net = Network.from_state_dict("lstm", {"weight_ih_l0": w_ih, "weight_hh_l0": np.zeros((4, 1)),
                                           "bias_ih_l0": b, "bias_hh_l0": np.zeros(4)})
    rng = np.random.default_rng(seed)
    flag = (np.arange(T) % period) == 0
    x = np.stack([rng.uniform(-1, 1, T), flag], axis=1)
    return net, x, flag


@pytest.mark.parametrize("kind", ["linear", "mlp"])
def test_a_probe_decodes_the_latched_value_until_the_next_write(kind):
    net, x, flag = _latch()
    h = trace(net, x)["h"]
    r2 = probe_lags(h, x[:, 0], lags=range(20), kind=kind, seed=0, where=flag)
    assert np.all(r2[:10] > 0.99 if kind == "linear" else r2[:10] > 0.97)  # held for the 10 steps of a period
    assert np.all(np.abs(r2[10:]) < 0.05)  # then overwritten by an independent value
    assert memory_capacity(r2) == pytest.approx(np.clip(r2, 0, 1).sum())


def test_probe_splits_batches_by_sequence_with_a_seed():
    rng = np.random.default_rng(30)
    s = rng.standard_normal((40, 12, 3))
    y = s[..., 0] * 2 + 1  # decodable at lag 0 only
    r2 = probe_lags(s, y, lags=[0, 3], seed=1)
    assert r2[0] > 0.999 and abs(r2[1]) < 0.2
    np.testing.assert_array_equal(r2, probe_lags(s, y, lags=[0, 3], seed=1))
    onehot = np.eye(2)[(s[..., 1] > 0).astype(int)]  # the sign of unit 1, as two classes
    acc = probe_lags(s, onehot, lags=[0, 3], seed=1, score="accuracy")
    assert acc[0] > 0.95 and acc[1] < 0.7


# class-predicting probes (logistic, softmax MLP): R² of the probabilities = the Brier skill score


def _brier_skill(y, p):
    """1 - Σ‖y - p‖² / Σ‖y - ȳ‖², written out here (ȳ: the rows' class rates)."""
    return 1.0 - np.sum((y - p) ** 2) / np.sum((y - y.mean(axis=0)) ** 2)


def _newton_logistic(X, Y, lam, steps=30):
    """The same penalised multinomial logistic fit by Newton's method (exact Hessian, least-squares steps: the
    shared bias direction is flat), written here as the reference."""
    n, d = X.shape
    D = Y.shape[1]
    A = np.hstack([X, np.ones((n, 1))])
    w = np.zeros((d + 1, D))
    penalty = np.diag([lam] * d + [0.0])
    for _ in range(steps):
        Z = A @ w
        P = np.exp(Z - Z.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        grad = (A.T @ (P - Y) / n + penalty @ w).T.ravel()  # class-major
        H = np.zeros((D * (d + 1), D * (d + 1)))
        for a in range(D):
            for c in range(D):
                weight = P[:, a] * ((a == c) - P[:, c]) / n
                H[a * (d + 1):(a + 1) * (d + 1), c * (d + 1):(c + 1) * (d + 1)] = (A * weight[:, None]).T @ A \
                    + (penalty if a == c else 0)
        w -= np.linalg.lstsq(H, grad, rcond=None)[0].reshape(D, d + 1).T
    Z = A @ w
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    return w[:d], P / P.sum(axis=1, keepdims=True)


def test_the_logistic_fit_is_the_penalised_optimum_newton_finds():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, 4))
    labels = (X[:, 0] + 0.5 * rng.standard_normal(300) > 0).astype(int) + (X[:, 1] > 0.5)
    Y = np.eye(3)[labels]
    for lam in (1e-3, 0.1):
        W, b = _logistic_fit(X, Y, lam)
        Z = X @ W + b
        P = np.exp(Z - Z.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        W_ref, P_ref = _newton_logistic(X, Y, lam)
        np.testing.assert_allclose(P, P_ref, atol=1e-4)
        np.testing.assert_allclose(W, W_ref, atol=1e-3 * max(1.0, np.abs(W_ref).max()))


def _three_points(n=400, noise=0.05, seed=0):
    """Three classes on a line, at -1, 0 and +1 (plus noise): separable, but the middle one-hot column is not an
    affine function of the state."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    return (labels - 1.0 + noise * rng.standard_normal(n))[:, None], np.eye(3)[labels]


def test_a_separable_code_a_logistic_probe_reads_and_a_linear_one_cannot():
    s, y = _three_points()
    linear = probe_lags(s, y, lags=[0])[0]
    # least squares of each one-hot column on x in {-1, 0, 1} (equal shares): columns -1 and +1 reach
    # R² = 0.75, the middle one 0, so the pooled R² is 1 - (1/18 + 1/18 + 2/9) / (3 · 2/9) = 0.5
    assert linear == pytest.approx(0.5, abs=0.05)
    for kind in ("logistic", "softmax_mlp"):
        assert probe_lags(s, y, lags=[0], kind=kind)[0] > 0.97, kind
        assert probe_lags(s, y, lags=[0], kind=kind, score="accuracy")[0] == 1.0, kind


def test_a_class_probe_on_unrelated_states_scores_about_zero_on_held_out_rows():
    rng = np.random.default_rng(4)
    s = rng.standard_normal((40, 20, 8))
    y = np.eye(4)[rng.integers(0, 4, (40, 20))]
    for kind in ("logistic", "softmax_mlp"):
        r2 = probe_lags(s, y, lags=[0, 1], kind=kind, seed=2)
        assert np.all(r2 < 0.02) and np.all(r2 > -0.1), (kind, r2)
        acc = probe_lags(s, y, lags=[0], kind=kind, seed=2, score="accuracy")[0]
        assert abs(acc - 0.25) < 0.06, (kind, acc)


def _symbol_latch(A=4, last=False):
    """A hand-set LSTM of A units, input (one-hot symbol of A, flag[, blank, go]): while the flag (or, last=True,
    any symbol channel) is on, i = 1, f = 0 and unit a writes tanh(2) if symbol a is shown, else tanh(-2);
    otherwise f = 1 and i = 0 (to ~3e-7), so C holds a ±0.96 code of the last symbol written. o = 1."""
    F = A + 2 if last else A + 1
    write = np.zeros(F)
    write[:A] = 1.0 if last else 0.0
    if not last:
        write[A] = 1.0
    w_ih = np.zeros((4 * A, F))
    w_ih[:A] = 30 * write  # i
    w_ih[A:2 * A] = -30 * write  # f
    w_ih[2 * A:3 * A, :A] = 4 * np.eye(A)  # g: tanh(4 [symbol a] - 2)
    b = np.concatenate([np.full(A, -15.0), np.full(A, 15.0), np.full(A, -2.0), np.full(A, 15.0)])
    return Network.from_state_dict("lstm", {"weight_ih_l0": w_ih, "weight_hh_l0": np.zeros((4 * A, A)),
                                            "bias_ih_l0": b, "bias_hh_l0": np.zeros(4 * A)})


def test_a_logistic_probe_decodes_the_latched_symbol_until_the_next_write():
    A, T, period = 4, 3000, 10
    rng = np.random.default_rng(5)
    flag = (np.arange(T) % period) == 0
    symbols = np.eye(A)[rng.integers(0, A, T)]
    x = np.concatenate([symbols, flag[:, None]], axis=1)
    h = trace(_symbol_latch(A), x)["h"]
    r2 = probe_lags(h, symbols, lags=range(20), kind="logistic", where=flag)
    assert np.all(r2[:10] > 0.99)  # held through the period
    assert np.all(np.abs(r2[10:]) < 0.05)  # then replaced by an independent symbol
    assert np.all(probe_lags(h, symbols, lags=range(10), kind="logistic", where=flag, score="accuracy") == 1.0)


def test_recall_steps_are_the_steps_the_task_asks_for_each_symbol_back():
    from lstm_core.tasks import make_task

    data = make_task("copy", 20, None, 1, k=5, alphabet=8, delay=50)
    steps = recall_steps(5, 50)
    np.testing.assert_array_equal(steps, [56, 57, 58, 59, 60])  # j + k + delay + 1: lag 56 for every symbol
    shown = data.x[:, :5, :8].argmax(axis=-1)
    np.testing.assert_array_equal(data.y[:, steps], shown)  # the task's target at those steps is symbol j
    assert np.all(data.x[:, recall_steps(5, 50, "go"), 9] == 1)  # the go cue
    np.testing.assert_array_equal(recall_steps(5, 50, "delay"), [50, 51, 52, 53, 54])
    assert np.all(data.x[:, recall_steps(5, 50, "delay"), 8] == 1)  # blank steps


def test_recall_probe_finds_the_one_symbol_a_latch_keeps():
    # the latch writes on every symbol step, so it ends the symbols holding the last one (j = 4) only
    net = _symbol_latch(8, last=True)
    for at in ("recall", "go", "delay"):
        r = recall_probe(net, at=at, n=300, seed=1, delay=20)
        assert r.head_r2 is None and r.n_train == 210 and r.n_test == 90
        np.testing.assert_array_equal(r.steps, recall_steps(5, 20, at))
        assert r.r2[4] > 0.99 and r.accuracy[4] == 1.0, at
        assert np.all(np.abs(r.r2[:4]) < 0.06), (at, r.r2)
        # one probe for all five: the state tells symbol 4, so the best guess is 0.3 for it and 0.1 for each other
        # symbol; the squared error is 0.56 on the rows it is right (j = 4, or by chance) and 0.96 on the others
        # (mean 0.2·0.56 + 0.8·(0.56/8 + 0.96·7/8) = 0.84) against 7/8 for the base rates: R² = 1 − 0.84/0.875
        assert np.isnan(r.r2_all) if at == "go" else abs(r.r2_all - 0.04) < 0.03, (at, r.r2_all)
    h_c = recall_probe(net, which="h+c", n=300, seed=1, delay=20)
    assert h_c.r2[4] > 0.99


def test_the_shipped_lstm_recalls_the_delayed_symbol_and_the_rnn_does_not():
    from lstm_core.models import load_model

    models = Path(__file__).resolve().parents[1] / "assets" / "models"
    lstm = recall_probe(load_model(models / "copy-lstm.npz"), n=500, seed=0)
    rnn = recall_probe(load_model(models / "copy-rnn.npz"), n=500, seed=0)
    assert lstm.r2_all >= 0.9 and rnn.r2_all < 0.2
    assert np.all(lstm.head_accuracy > 0.9)  # the model's own readout, on the same held-out sequences


# ---------------------------------------------------------------------------------------------------
# refusals: what, expected, got


@pytest.mark.parametrize("call, words", [
    (lambda n, x: retention(n, x, 99), "expected a step between 0 and 9; got 99"),
    (lambda n, x: retention(n, x, 2, mode="scramble"), "mode: expected 'zero' or 'perturb'"),
    (lambda n, x: retention(n, x[:, :1], 2), "expected one sequence of shape (T, 2)"),
    (lambda n, x: gradient_flow(n, x, wrt="h_0"), "wrt: expected 'h_T' or 'loss'"),
    (lambda n, x: gradient_flow(n, x, wrt="loss"), "head: expected a readout head"),
    (lambda n, x: gradient_flow(n, x, dtype="float16"), "dtype: expected one of float32, float64"),
    (lambda n, x: saturation({"f": np.zeros((3, 2))}, "q"), "gate: expected one of the trace's quantities (f)"),
    (lambda n, x: saturation({"f": np.zeros((3, 2))}, "f", 0.9, 0.1), "lo < hi"),
    (lambda n, x: clamped_trace(n, x, [Clamp("z", 1.0)]), "clamps[0].gate: expected one of f, i, g, o"),
    (lambda n, x: clamped_trace(n, x, [Clamp("f", 1.0, units=[7])]), "between 0 and 2; got [7]"),
    (lambda n, x: clamped_trace(n, x, [Clamp("f", 1.0, steps=(5, 50))]), "0 <= start <= stop <= 10"),
    (lambda n, x: clamped_trace(make_net("gru"), x, []), "expected an LSTM"),
    (lambda n, x: probe_lags(np.zeros((10, 2)), np.zeros(10), lags=[12]), "lags: expected whole numbers"),
    (lambda n, x: probe_lags(np.zeros((10, 2)), np.zeros(9)), "target: expected shape (10,)"),
    (lambda n, x: probe_lags(np.zeros((10, 2)), np.zeros(10), kind="svm"),
     "kind: expected one of 'linear', 'mlp', 'logistic'"),
    (lambda n, x: probe_lags(np.zeros((10, 2)), np.ones(10) * 0.5, kind="logistic"), "expects one-hot rows"),
    (lambda n, x: probe_lags(np.zeros((10, 2)), np.eye(2)[np.arange(10) % 2], kind="logistic", alpha=0),
     "an L2 strength > 0"),
    (lambda n, x: recall_steps(5, 50, at="middle"), "at: expected one of 'recall', 'go', 'delay'"),
    (lambda n, x: recall_probe(make_net("gru"), which="c"), "needs a cell state"),
    (lambda n, x: recall_probe(n), "expected 10 inputs (the copy task's 8 symbols, blank and go cue); got 2"),
    (lambda n, x: recall_probe(n, which="C"), "which: expected one of 'h', 'c', 'h+c'"),
    (lambda n, x: probe_lags(np.zeros((10, 2)), np.zeros(10), score="accuracy"), "one-hot target (D >= 2"),
    (lambda n, x: state_pca({"h": np.zeros((5, 3))}, k=4), "k: expected a whole number between 1 and 3"),
    (lambda n, x: interpretable_units({"c": np.zeros((5, 3))}, np.zeros(4)), "expected one value per step"),
    (lambda n, x: gradient_flow(object(), x), "expected a Network or a Checkpoint"),
])
def test_bad_arguments_are_refused_with_what_was_expected(call, words):
    net = make_net("lstm")
    x = np.zeros((10, 2))
    with pytest.raises(LabError) as e:
        call(net, x)
    assert words in str(e.value)


def test_the_gru_and_rnn_gradient_flows_need_no_torch():
    """Their fast recursion runs in numpy (the Memory page's first visit on a fresh server should not wait
    1.3 s for torch); the LSTM's float32 path runs compiled loops."""
    import subprocess
    import sys

    code = ("import sys, numpy as np, lstm_core\n"
            "x = np.random.default_rng(0).normal(size=(50, 1)).astype(np.float32)\n"
            "for k in ('gru', 'rnn', 'lstm'):\n"
            "    g = lstm_core.gradient_flow(lstm_core.load_model(f'assets/models/sine-{k}.npz'), x)\n"
            "    assert np.all(np.isfinite(g.norm)) and g.norm[-1] > 0, k\n"
            "print('torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False"


def test_row_distances_are_the_float64_norms_of_the_differences_across_blocks():
    from lstm_core.analysis import ROWS_AT_ONCE, row_distances

    rng = np.random.default_rng(5)
    a = rng.standard_normal((2 * ROWS_AT_ONCE + 17, 9)).astype(np.float32)  # three blocks, the last a short one
    b = (a + rng.standard_normal(a.shape) * 1e-3).astype(np.float32)
    want = np.sqrt(((a.astype(np.float64) - b.astype(np.float64)) ** 2).sum(axis=1))
    got = row_distances(a, b)
    assert got.dtype == np.float64 and got.shape == (len(a),)
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)
    assert (row_distances(a, a) == 0).all()


def test_a_nudge_of_an_empty_sequence_says_the_sequence_is_empty():
    from lstm_core.analysis import memory_curve

    with pytest.raises(LabError, match="empty sequence"):
        memory_curve(make_net("lstm"), np.zeros((0, 2), np.float32), 0)
