"""The trace against torch itself: torch's outputs, and every gate recomputed from torch's weights."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import lstm_core
from lstm_core import LabError, Trace, trace

TORCH = {"lstm": lambda F, H: torch.nn.LSTM(F, H, batch_first=True),
         "gru": lambda F, H: torch.nn.GRU(F, H, batch_first=True),
         "rnn_tanh": lambda F, H: torch.nn.RNN(F, H, batch_first=True, nonlinearity="tanh"),
         "rnn_relu": lambda F, H: torch.nn.RNN(F, H, batch_first=True, nonlinearity="relu")}
ATOL = 1e-5


def torch_run(m, x, lengths):
    """torch's own answer: output (zeros past each length) and final states, via pack_padded_sequence."""
    with torch.no_grad():
        if lengths is None:
            return m(x)
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, state = m(packed)
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        return out, state


def _case(draw_kind, B, T, F, H, seed, with_lengths):
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    m = TORCH[draw_kind](F, H)
    x = torch.randn(B, T, F, generator=g)
    lengths = torch.randint(1, T + 1, (B,), generator=g) if with_lengths else None
    return m, x, lengths


# B from 4 on takes the gemm path of the recurrent product (loops.BLAS_BATCH)
@given(kind=st.sampled_from(sorted(TORCH)), B=st.integers(1, 8), T=st.integers(1, 300), F=st.integers(1, 5),
       H=st.integers(1, 64), seed=st.integers(0, 2**31 - 1), with_lengths=st.booleans())
def test_hidden_states_and_final_states_equal_torch(kind, B, T, F, H, seed, with_lengths):
    m, x, lengths = _case(kind, B, T, F, H, seed, with_lengths)
    tr = trace(lstm_core.from_torch(m), x, lengths)
    out, state = torch_run(m, x, lengths)
    h = tr["h"]
    mask = tr.mask
    assert h.shape == (B, T, H)
    np.testing.assert_allclose(h[mask], out.numpy()[mask], rtol=0, atol=ATOL)
    assert np.isnan(h[~mask]).all()  # steps past a sequence's length are NaN, as documented
    h_n = state[0] if kind == "lstm" else state
    np.testing.assert_allclose(tr.h_n, h_n[0].numpy(), rtol=0, atol=ATOL)
    if kind == "lstm":
        np.testing.assert_allclose(tr.c_n, state[1][0].numpy(), rtol=1e-5, atol=ATOL)
    else:
        assert tr.c_n is None


def _prev(h):  # h_{t-1} for every t of (B, T, H), with h_0 = 0
    return torch.cat([torch.zeros_like(h[:, :1]), h[:, :-1]], 1)


@pytest.mark.parametrize("batch_first", [True, False])
def test_lstm_gates_equal_the_seed_equations_on_torch_weights(batch_first):
    torch.manual_seed(3)
    m = torch.nn.LSTM(3, 6, batch_first=batch_first)
    x = torch.randn(2, 40, 3)
    tr = trace(lstm_core.from_torch(m), x if batch_first else x.transpose(0, 1).contiguous().transpose(0, 1))
    with torch.no_grad():
        out, _ = m(x if batch_first else x.transpose(0, 1))
        out = out if batch_first else out.transpose(0, 1)
        W = torch.cat([m.weight_hh_l0, m.weight_ih_l0], 1)  # acts on [h_{t-1}, x_t], as the seed writes it
        b = m.bias_ih_l0 + m.bias_hh_l0
        hx = torch.cat([_prev(out), x], 2)
        W_i, W_f, W_c, W_o = W.chunk(4)
        b_i, b_f, b_c, b_o = b.chunk(4)
        f = torch.sigmoid(hx @ W_f.T + b_f)
        i = torch.sigmoid(hx @ W_i.T + b_i)
        g = torch.tanh(hx @ W_c.T + b_c)
        o = torch.sigmoid(hx @ W_o.T + b_o)
        c = torch.zeros(2, 6)
        cs = []
        for t in range(40):
            c = f[:, t] * c + i[:, t] * g[:, t]
            cs.append(c)
        c = torch.stack(cs, 1)
    for name, ref in {"f": f, "i": i, "g": g, "o": o, "c": c, "h": o * torch.tanh(c),
                      "pre_f": hx @ W_f.T + b_f, "pre_o": hx @ W_o.T + b_o}.items():
        np.testing.assert_allclose(tr[name], ref.numpy(), rtol=0, atol=ATOL, err_msg=name)


def test_gru_gates_equal_torch_definition():
    torch.manual_seed(4)
    m = torch.nn.GRU(2, 5, batch_first=True)
    x = torch.randn(3, 30, 2)
    tr = trace(lstm_core.from_torch(m), x)
    with torch.no_grad():
        out, _ = m(x)
        hp = _prev(out)
        gi = x @ m.weight_ih_l0.T + m.bias_ih_l0
        gh = hp @ m.weight_hh_l0.T + m.bias_hh_l0
        r = torch.sigmoid(gi[..., :5] + gh[..., :5])
        z = torch.sigmoid(gi[..., 5:10] + gh[..., 5:10])
        n = torch.tanh(gi[..., 10:] + r * gh[..., 10:])
    for name, ref in {"r": r, "z": z, "n": n, "h": (1 - z) * n + z * hp}.items():
        np.testing.assert_allclose(tr[name], ref.numpy(), rtol=0, atol=ATOL, err_msg=name)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_pre_activation_equals_torch_definition(nonlinearity):
    torch.manual_seed(5)
    m = torch.nn.RNN(2, 4, nonlinearity=nonlinearity, batch_first=True)
    x = torch.randn(1, 25, 2)
    tr = trace(lstm_core.from_torch(m), x)
    with torch.no_grad():
        out, _ = m(x)
        pre = x @ m.weight_ih_l0.T + m.bias_ih_l0 + _prev(out) @ m.weight_hh_l0.T + m.bias_hh_l0
    np.testing.assert_allclose(tr["pre_h"], pre.numpy(), rtol=0, atol=ATOL)
    assert tr.nonlinearity == nonlinearity
    assert list(tr) == ["h", "pre_h"]


def test_unbatched_input_gives_time_by_unit_arrays():
    m = lstm_core.make_cell("lstm", 2, 3, seed=0)
    x = np.random.default_rng(0).standard_normal((17, 2))
    tr = trace(lstm_core.from_torch(m), x)
    assert tr["f"].shape == (17, 3) and tr.h_n.shape == (3,) and tr.c_n.shape == (3,)
    assert not tr.batched and tr.mask.shape == (17,) and tr.mask.all()
    batched = trace(lstm_core.from_torch(m), x[None])
    np.testing.assert_array_equal(batched["c"][0], tr["c"])


def test_trace_arrays_are_read_only():
    tr = trace(lstm_core.from_torch(lstm_core.make_cell("gru", 1, 2, seed=0)), np.zeros((5, 1)))
    with pytest.raises(ValueError, match="read-only"):
        tr["h"][0, 0] = 1.0


def test_an_lstm_traces_buffer_is_reused_only_once_nothing_holds_any_of_its_arrays():
    """The buffer is recycled (loops._buffer), never while one view of a trace, a single gate, is alive."""
    net = lstm_core.from_torch(lstm_core.make_cell("lstm", 2, 8, seed=0))
    x, y = np.random.default_rng(0).standard_normal((2, 5, 40, 2)).astype(np.float32)
    first = trace(net, x)
    f, f_values = first["f"], first["f"].copy()
    del first  # the forget gate alone still holds the buffer
    second = trace(net, y)
    np.testing.assert_array_equal(f, f_values)
    assert not any(np.shares_memory(f, a) for a in second.values())
    where, h_values = second["h"].__array_interface__["data"][0], second["h"].copy()
    del second  # nothing holds its buffer now: the next trace of this size fills it again
    third = trace(net, y)
    assert third["h"].__array_interface__["data"][0] == where
    np.testing.assert_array_equal(third["h"], h_values)
    np.testing.assert_array_equal(f, f_values)


def test_a_buffer_larger_than_the_cap_is_not_kept_for_reuse(monkeypatch):
    from lstm_core import loops

    net = lstm_core.from_torch(lstm_core.make_cell("lstm", 2, 8, seed=0))
    x = np.random.default_rng(0).standard_normal((5, 40, 2)).astype(np.float32)
    small = trace(net, x[:, :10])
    kept = loops._SPARE[0]
    assert np.shares_memory(kept, small["h"])
    monkeypatch.setattr(loops, "SPARE_MAX_BYTES", kept.nbytes)  # the 40-step trace's buffer is larger
    big = trace(net, x)
    assert loops._SPARE[0] is kept and not np.shares_memory(kept, big["h"])


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_npz_round_trip_keeps_every_array_and_the_metadata(tmp_path, kind):
    m = lstm_core.make_cell(kind, 2, 3, seed=1)
    x = np.random.default_rng(1).standard_normal((3, 9, 2))
    tr = trace(lstm_core.from_torch(m), x, lengths=[9, 4, 1])
    tr.save(tmp_path / "t.npz")
    back = Trace.load(tmp_path / "t.npz")
    assert (back.kind, back.variant, list(back)) == (tr.kind, tr.variant, list(tr))
    for k in tr:
        np.testing.assert_array_equal(back[k], tr[k])
    np.testing.assert_array_equal(back.lengths, [9, 4, 1])
    np.testing.assert_array_equal(back.x, tr.x)
    with np.load(tmp_path / "t.npz", allow_pickle=False) as z:  # the keys are the quantities' names
        assert set(tr) <= set(z.files)


def test_loading_a_file_that_is_not_a_trace_is_refused(tmp_path):
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(LabError, match="not a saved trace"):
        Trace.load(tmp_path / "other.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip at all")
    with pytest.raises(LabError, match="not a saved trace"):
        Trace.load(tmp_path / "junk.npz")


def test_tidy_frame_has_one_row_per_step_unit_quantity():
    m = lstm_core.make_cell("lstm", 1, 2, seed=0)
    x = np.linspace(-1, 1, 4)[:, None]
    tr = trace(lstm_core.from_torch(m), x)
    df = tr.to_frame(["f", "h"])
    assert list(df.columns) == ["step", "unit", "quantity", "value"]
    assert len(df) == 2 * 4 * 2
    row = df[(df.quantity == "h") & (df.step == 3) & (df.unit == 1)]
    assert row.value.item() == pytest.approx(float(tr["h"][3, 1]))
    batched = trace(lstm_core.from_torch(m), np.stack([x, x]), lengths=[4, 2]).to_frame(["c"])
    assert list(batched.columns) == ["sequence", "step", "unit", "quantity", "value"]
    assert batched[(batched.sequence == 1) & (batched.step >= 2)].value.isna().all()


def _read_back(data: bytes, frame):
    import io

    import pandas as pd

    back = pd.read_csv(io.BytesIO(data), dtype={"value": np.float32})
    back["quantity"] = pd.Categorical(back["quantity"], categories=frame["quantity"].cat.categories)
    return back


@pytest.mark.parametrize("batched", [False, True])
def test_tidy_csv_reads_back_as_the_tidy_frame(batched):
    import pandas as pd

    m = lstm_core.make_cell("gru", 2, 3, seed=1)
    x = np.random.default_rng(2).standard_normal((2, 6, 2)).astype(np.float32)
    tr = trace(lstm_core.from_torch(m), x, lengths=[6, 4]) if batched else trace(lstm_core.from_torch(m), x[0])
    for names in (None, ["h", "pre_z"]):
        frame = tr.to_frame(names)
        data = tr.to_csv_bytes(names)
        back = _read_back(data, frame)
        pd.testing.assert_frame_equal(back, frame, check_dtype=False)  # NaN past a length reads back as NaN
        np.testing.assert_array_equal(back["value"].to_numpy(), frame["value"].to_numpy())  # every float32 exact
        assert data == frame.to_csv(index=False).encode()  # and the very text pandas writes


def test_tidy_rows_counts_quantities_sequences_steps_and_units():
    m = lstm_core.make_cell("lstm", 1, 5, seed=0)
    tr = trace(lstm_core.from_torch(m), np.zeros((3, 7, 1)))
    assert tr.tidy_rows == 10 * 3 * 7 * 5 == len(tr.to_frame())  # f i g c o h and 4 pre-activations
    assert trace(lstm_core.from_torch(m), np.zeros((7, 1))).tidy_rows == 10 * 7 * 5


def test_tidy_csv_refuses_more_rows_than_max_rows_before_writing(monkeypatch):
    m = lstm_core.make_cell("rnn", 1, 4, seed=0)
    tr = trace(lstm_core.from_torch(m), np.zeros((2, 50, 1)))  # h and pre_h: 2 x 2 x 50 x 4 = 800 rows
    assert len(tr.to_csv_bytes(max_rows=800).splitlines()) == 801
    message = (r"^a tidy CSV of this trace would have 800 rows "
               r"\(2 quantities x 2 sequence\(s\) x 50 steps x 4 units\); the limit is 799 rows \(max_rows\): "
               r"export fewer quantities or steps, or the whole trace as \.npz$")
    with monkeypatch.context() as patch:
        patch.setattr(lstm_core.tracing, "csv_rows", lambda *a: pytest.fail("wrote rows past the limit"))
        with pytest.raises(LabError, match=message):
            tr.to_csv_bytes(max_rows=799)
    assert len(tr.to_csv_bytes(["h"], max_rows=400).splitlines()) == 401


def test_the_default_csv_limit_refuses_a_100000_step_trace():
    m = lstm_core.make_cell("lstm", 1, 32, seed=0)
    tr = trace(lstm_core.from_torch(m), np.zeros((100_000, 1), np.float32))
    assert tr.tidy_rows == 32_000_000
    with pytest.raises(LabError, match=r"would have 32,000,000 rows .*; the limit is 2,000,000 rows"):
        tr.to_csv_bytes()


@pytest.mark.parametrize("bad, message", [
    (np.zeros((4,)), r"x must have shape \(T, 2\) or \(B, T, 2\); got \(4,\)"),
    (np.zeros((4, 3)), r"x must have 2 feature\(s\) per step.*got shape \(4, 3\)"),
    (np.zeros((0, 2)), r"at least one step"),
    (np.array([[0.0, np.nan], [1, 1]]), r"1 NaN/Inf value\(s\), the first at step 0, feature 1"),
    (np.array([["a", "b"]]), r"x must be an array of numbers"),
])
def test_bad_input_gets_a_specific_message(bad, message):
    m = lstm_core.make_cell("lstm", 2, 3, seed=0)
    with pytest.raises(LabError, match=message):
        trace(lstm_core.from_torch(m), bad)


def test_bad_lengths_get_a_specific_message():
    m = lstm_core.make_cell("rnn", 1, 2, seed=0)
    with pytest.raises(LabError, match="between 1 and T=5"):
        trace(lstm_core.from_torch(m), np.zeros((2, 5, 1)), lengths=[5, 0])
    with pytest.raises(LabError, match="one per sequence"):
        trace(lstm_core.from_torch(m), np.zeros((2, 5, 1)), lengths=[5])
    with pytest.raises(LabError, match="padded batch"):
        trace(lstm_core.from_torch(m), np.zeros((5, 1)), lengths=[5])


def test_only_single_layer_unidirectional_networks_are_traced():
    with pytest.raises(LabError, match="num_layers=2"):
        trace(lstm_core.from_torch(torch.nn.LSTM(2, 3, num_layers=2)), np.zeros((3, 2)))
    with pytest.raises(LabError, match="bidirectional"):
        trace(lstm_core.from_torch(torch.nn.GRU(2, 3, bidirectional=True)), np.zeros((3, 2)))
    with pytest.raises(LabError, match="expected a torch.nn.LSTM, GRU or RNN; got Linear"):
        trace(lstm_core.from_torch(torch.nn.Linear(2, 3)), np.zeros((3, 2)))
