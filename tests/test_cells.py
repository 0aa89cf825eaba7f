"""Cells keep torch.nn's layout; the LSTM variants follow their definitions (Greff et al. 2017)."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import lstm_core
from lstm_core import VARIANTS, LabError, from_torch, make_cell, trace


def reference_variant(m, x, variant):
    """A plain step-by-step LSTM variant, written from the definitions independently of lstm_core."""
    H = m.hidden_size
    h = torch.zeros(x.shape[0], H)
    c = torch.zeros(x.shape[0], H)
    p = getattr(m, "weight_peep_l0", torch.zeros(3, H))
    rec = {k: [] for k in "ifgoch"}
    for t in range(x.shape[1]):
        z = x[:, t] @ m.weight_ih_l0.T + m.bias_ih_l0 + h @ m.weight_hh_l0.T + m.bias_hh_l0
        zi, zf, zg, zo = z.split(H, dim=1)
        if variant == "peephole":
            zi, zf = zi + p[0] * c, zf + p[1] * c
        f = torch.ones_like(zf) if variant == "nfg" else torch.sigmoid(zf)
        i = {"cifg": 1 - f, "nig": torch.ones_like(zi)}.get(variant, torch.sigmoid(zi))
        g = zg if variant == "niaf" else torch.tanh(zg)
        c = f * c + i * g
        if variant == "peephole":
            zo = zo + p[2] * c
        o = torch.ones_like(zo) if variant == "nog" else torch.sigmoid(zo)
        h = o * (c if variant == "noaf" else torch.tanh(c))
        for k, v in zip("ifgoch", (i, f, g, o, c, h), strict=True):
            rec[k].append(v)
    return {k: torch.stack(v, 1).detach().numpy() for k, v in rec.items()}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_variant_matches_a_plain_step_by_step_reference(variant):
    m = make_cell("lstm", 3, 8, variant=variant, seed=7)
    x = torch.randn(2, 60, 3, generator=torch.Generator().manual_seed(7))
    ref = reference_variant(m, x, variant)
    tr = trace(from_torch(m), x)
    with torch.no_grad():
        out, (h_n, c_n) = m(x)  # the module's own (autograd) forward, used for training
    for k, v in ref.items():  # nfg lets |C| grow with t: compare relative to its size
        np.testing.assert_allclose(tr[k], v, rtol=1e-5, atol=1e-5, err_msg=f"{variant} {k}")
    np.testing.assert_allclose(out.numpy(), ref["h"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(c_n[0].numpy(), ref["c"][:, -1], rtol=1e-5, atol=1e-5)


def test_variant_identities_hold_in_the_trace():
    x = np.random.default_rng(0).standard_normal((50, 2))
    tr = {v: trace(from_torch(make_cell("lstm", 2, 4, variant=v, seed=1)), x) for v in VARIANTS}
    np.testing.assert_allclose(tr["cifg"]["i"], 1 - tr["cifg"]["f"], atol=1e-7)
    assert (tr["nfg"]["f"] == 1).all() and "pre_f" not in tr["nfg"]
    assert (tr["nig"]["i"] == 1).all() and "pre_i" not in tr["nig"]
    assert (tr["nog"]["o"] == 1).all() and "pre_o" not in tr["nog"]
    np.testing.assert_array_equal(tr["niaf"]["g"], tr["niaf"]["pre_g"])
    np.testing.assert_allclose(tr["noaf"]["h"], tr["noaf"]["o"] * tr["noaf"]["c"], atol=1e-6)
    # Only what the variant changes differs: with the same seed the weights are the same, so at step 0
    # (h_0 = C_0 = 0) every variant's candidate pre-activation is the same W_ih x_0 + b.
    for v in VARIANTS:
        np.testing.assert_allclose(tr[v]["pre_g"][0], tr["vanilla"]["pre_g"][0], atol=1e-6, err_msg=v)
    assert np.abs(tr["niaf"]["g"]).max() > 1  # unsquashed candidates leave [-1, 1]


def test_peephole_with_zero_peepholes_is_the_vanilla_lstm():
    peep = make_cell("lstm", 2, 5, variant="peephole", seed=3)
    vanilla = make_cell("lstm", 2, 5, seed=3)
    vanilla.load_state_dict({k: v for k, v in peep.state_dict().items() if k != "weight_peep_l0"})
    with torch.no_grad():
        peep.weight_peep_l0.zero_()
    x = np.random.default_rng(3).standard_normal((40, 2))
    a, b = trace(from_torch(peep), x), trace(from_torch(vanilla), x)
    for k in ("i", "f", "g", "o", "c", "h"):
        np.testing.assert_allclose(a[k], b[k], atol=1e-6)
    with torch.no_grad():
        peep.weight_peep_l0.fill_(0.5)
    assert np.abs(trace(from_torch(peep), x)["f"] - b["f"]).max() > 1e-3  # and non-zero peepholes do matter


@pytest.mark.parametrize("cls, kind", [(torch.nn.LSTM, "lstm"), (torch.nn.GRU, "gru"), (torch.nn.RNN, "rnn")])
def test_a_torch_state_dict_loads_as_is(cls, kind):
    torch.manual_seed(0)
    theirs = cls(3, 4, batch_first=True)
    ours = make_cell(kind, 3, 4, seed=99)
    ours.load_state_dict(theirs.state_dict())  # strict: same names, same shapes
    x = torch.randn(2, 10, 3)
    with torch.no_grad():
        ref = theirs(x)[0].numpy()  # torch's own module, whose state_dict was loaded
    np.testing.assert_allclose(trace(from_torch(ours), x.numpy())["h"], ref, rtol=0, atol=1e-5)


def test_the_same_seed_gives_the_same_weights_and_another_seed_does_not():
    a, b, c = (make_cell("lstm", 2, 3, variant="peephole", seed=s) for s in (5, 5, 6))
    for k, v in a.state_dict().items():
        assert torch.equal(v, b.state_dict()[k])
    assert not torch.equal(a.weight_hh_l0, c.weight_hh_l0)
    torch.manual_seed(0)
    before = torch.rand(1)
    torch.manual_seed(0)
    make_cell("gru", 2, 3, seed=1)  # does not disturb the global random state
    assert torch.equal(torch.rand(1), before)


def test_variants_train_through_autograd():
    """The peephole gradient autograd computes equals a central finite difference of the loss."""
    m = make_cell("lstm", 1, 3, variant="peephole", seed=0).double()
    x = torch.randn(2, 5, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    m(x)[0].sum().backward()
    eps = 1e-6
    with torch.no_grad():
        w = m.weight_peep_l0
        w0 = w[1, 0].item()
        w[1, 0] = w0 + eps
        up = m(x)[0].sum().item()
        w[1, 0] = w0 - eps
        down = m(x)[0].sum().item()
        w[1, 0] = w0
    assert m.weight_peep_l0.grad[1, 0].item() != 0
    assert m.weight_peep_l0.grad[1, 0].item() == pytest.approx((up - down) / (2 * eps), rel=1e-5)


@pytest.mark.parametrize("call, message", [
    (lambda: make_cell("lstmm", 1, 1), "unknown cell 'lstmm'; choose one of lstm, gru, rnn"),
    (lambda: make_cell("lstm", 1, 1, variant="peep"), "unknown LSTM variant 'peep'; choose one of vanilla, "),
    (lambda: make_cell("gru", 1, 1, variant="cifg"), "variant 'cifg' applies to LSTM cells only"),
    (lambda: make_cell("rnn", 1, 1, nonlinearity="gelu"), "unknown RNN nonlinearity 'gelu'"),
    (lambda: make_cell("lstm", 0, 1), "input_size must be a positive whole number; got 0"),
])
def test_bad_names_and_sizes_are_refused(call, message):
    with pytest.raises(LabError, match=message):
        call()


@given(variant=st.sampled_from(list(VARIANTS)), seed=st.integers(0, 10_000), T=st.integers(1, 80),
       scale=st.floats(0.1, 20))
def test_gates_stay_in_unit_interval_and_standard_h_is_bounded(variant, seed, T, scale):
    m = make_cell("lstm", 2, 6, variant=variant, seed=seed)
    x = np.random.default_rng(seed).standard_normal((T, 2)) * scale
    tr = trace(from_torch(m), x)
    for gate in ("i", "f", "o"):
        assert (tr[gate] >= 0).all() and (tr[gate] <= 1).all(), gate
    bounded = variant in ("vanilla", "peephole", "cifg", "nig", "nog")  # o * tanh(C): |h| <= 1
    assert not bounded or (np.abs(tr["h"]) <= 1).all()
    again = trace(from_torch(make_cell("lstm", 2, 6, variant=variant, seed=seed)), x)
    for k in tr:  # determinism: the same seed gives bit-identical pictures
        np.testing.assert_array_equal(tr[k], again[k])


@given(kind=st.sampled_from(["gru", "rnn"]), seed=st.integers(0, 10_000), T=st.integers(1, 80))
def test_gru_gates_in_unit_interval_and_bounded_h(kind, seed, T):
    m = make_cell(kind, 2, 5, seed=seed)
    tr = trace(from_torch(m), np.random.default_rng(seed).standard_normal((T, 2)) * 5)
    for gate in {"gru": ("r", "z"), "rnn": ()}[kind]:
        assert (tr[gate] >= 0).all() and (tr[gate] <= 1).all()
    assert (np.abs(tr["h"]) <= 1).all()


def test_from_torch_copies_the_weights_so_a_new_call_traces_what_training_changed():
    m = torch.nn.LSTM(1, 2)
    x = np.ones((3, 1))
    net = lstm_core.from_torch(m)
    before = trace(net, x)["h"].copy()
    with torch.no_grad():
        m.bias_ih_l0.add_(1.0)  # a training step
        ref = m(torch.from_numpy(x).float())[0].numpy()  # torch's own forward with the changed weights
    np.testing.assert_allclose(trace(lstm_core.from_torch(m), x)["h"], ref, rtol=0, atol=1e-5)
    assert not np.allclose(ref, before)  # the change matters ...
    np.testing.assert_array_equal(trace(net, x)["h"], before)  # ... and the earlier Network was a copy
