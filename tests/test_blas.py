"""numpy's gemm called directly (blas.py): found where numpy bundles OpenBLAS, products right, a row's numbers
independent of the rows beside it; batched traces and gradient flow on it agree with torch, with the paths
that do without it, and with themselves across batch compositions; and without it everything still works."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import lstm_core
from lstm_core import blas, loops, memory, trace

GEMM = blas.address("sgemm")
needs_gemm = pytest.mark.skipif(not GEMM, reason="numpy's OpenBLAS not found")


def test_numpy_wheels_bundled_openblas_is_found():
    """numpy >= 2 wheels bundle scipy-openblas (ILP64): if that is what numpy says it uses, we must find it,
    or batched traces and gradient flow would quietly run their slow paths."""
    info = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    if info.get("name") != "scipy-openblas":
        pytest.skip(f"numpy uses {info.get('name')!r}: the loops' own products are used")
    assert GEMM and blas.address("dgemm")


@needs_gemm
def test_add_product_of_one_row_arrays_whatever_numpy_says_their_row_stride_is():
    """A (1, N) array may carry any row stride ((1, 3) with strides (4, 4)): BLAS then refused the call
    ("parameter number 8 had an illegal value") and left c as it was. A one-unit GRU's W_hh^T is such an array;
    its batch of four traced 0.04 away from torch on the numpy twin."""
    b = np.ascontiguousarray(np.array([[1.0], [2.0], [3.0]], np.float32).T)  # (1, 3), strides (4, 4)
    a = np.array([[2.0], [-1.0]], np.float32)
    assert b.strides[0] < 3 * b.itemsize
    c = np.ones((2, 3), np.float32)
    blas.add_product(c, a, b)
    np.testing.assert_array_equal(c, 1 + a @ b)
    row = np.ascontiguousarray(np.array([[4.0, 5.0]], np.float32).T).T  # (1, 2) strides (4, 4) as a, K = 2
    c = np.zeros((1, 3), np.float32)
    blas.add_product(c, row, np.ones((2, 3), np.float32))
    np.testing.assert_array_equal(c, [[9.0, 9.0, 9.0]])


@pytest.mark.parametrize("path", ["twin", "compiled"])
def test_a_one_unit_gru_batch_on_the_gemm_path_equals_torch(path, monkeypatch):
    torch.manual_seed(0)
    m = torch.nn.GRU(1, 1, batch_first=True)
    x = torch.randn(4, 2, 1, generator=torch.Generator().manual_seed(0))
    if path == "twin":
        monkeypatch.setattr(loops, "loop", lambda kind, work: loops.TWINS[kind])
    else:
        loops.prepare(("gru",))
    with torch.no_grad():
        want = m(x)[0].numpy()
    np.testing.assert_allclose(trace(lstm_core.from_torch(m), x)["h"], want, rtol=0, atol=1e-6)


@needs_gemm
@pytest.mark.parametrize("K, N", [(128, 512), (64, 256), (5, 15), (300, 1200)])  # the last: cut into columns
def test_add_product_is_a_product_for_any_rows_of_a(K, N):
    rng = np.random.default_rng(K)
    a = rng.standard_normal((11, K)).astype(np.float32)
    b = rng.standard_normal((K, N)).astype(np.float32)
    c0 = rng.standard_normal((11, N)).astype(np.float32)
    whole = c0.copy()
    blas.add_product(whole, a, b)
    exact = c0.astype(np.float64) + a.astype(np.float64) @ b.astype(np.float64)
    rounding = 2e-6 * np.abs(a).max() * np.abs(b).max() * K  # float32 rounding of a K-term sum
    np.testing.assert_allclose(whole, exact, rtol=0, atol=rounding)
    # a row alone (a one-row view: its row stride is arbitrary), or a slice of rows: the product of those rows.
    # Not the same bits on every CPU: OpenBLAS may take another kernel for the rows past a multiple of its tile
    # (seen on AMD EPYC: rows beyond the last multiple of 4), so the last bits may depend on the call's rows.
    for lo, hi in [(0, 1), (3, 4), (2, 9), (5, 11)]:
        part = c0[lo:hi].copy()
        blas.add_product(part, a[lo:hi], b)
        np.testing.assert_allclose(part, exact[lo:hi], rtol=0, atol=rounding)
    c64 = c0.astype(np.float64)
    blas.add_product(c64, a.astype(np.float64), b.astype(np.float64))  # dgemm
    np.testing.assert_allclose(c64, exact, rtol=1e-12, atol=1e-10)


def _torch_out(kind, m, x):
    with torch.no_grad():
        return m(torch.from_numpy(x))[0].numpy()


@needs_gemm
@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_a_batched_trace_on_the_gemm_path_equals_torch_and_the_one_sequence_path(kind):
    torch.manual_seed(1)
    m = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[kind](3, 40, batch_first=True)
    net = lstm_core.from_torch(m)
    x = np.random.default_rng(2).standard_normal((9, 120, 3)).astype(np.float32)
    assert loops.gemm_for(len(x)) == GEMM and loops.gemm_for(1) == 0
    tr = trace(net, x)
    np.testing.assert_allclose(tr["h"], _torch_out(kind, m, x), rtol=0, atol=1e-5)
    for b in (0, 4, 8):  # against each sequence traced alone (rows of W_hh^T four at a time)
        alone = trace(net, x[b])
        for k in tr:
            np.testing.assert_allclose(tr[k][b], alone[k], rtol=1e-5, atol=1e-5, err_msg=k)
    # a sequence's numbers do not depend on which other sequences share its batch, or on its place in it, beyond
    # float32 rounding (the last bits may: see test_add_product_is_a_product_for_any_rows_of_a)
    other, again = trace(net, np.concatenate([x[5:], x[:2]])), trace(net, x)
    for k in tr:
        np.testing.assert_array_equal(again[k], tr[k], err_msg=k)  # the same batch: the same bits
        np.testing.assert_allclose(other[k][:4], tr[k][5:], rtol=1e-5, atol=1e-6, err_msg=k)


def test_without_numpys_gemm_traces_and_gradient_flow_take_their_own_paths(monkeypatch):
    torch.manual_seed(3)
    m = torch.nn.LSTM(2, 16, batch_first=True)
    net = lstm_core.from_torch(m)
    x = np.random.default_rng(4).standard_normal((6, 50, 2)).astype(np.float32)
    with_gemm, flow = trace(net, x), memory.gradient_flow(net, x[0])
    monkeypatch.setattr(blas, "address", lambda routine: 0)
    assert loops.gemm_for(len(x)) == 0 and not memory._compiled(net, "float32")
    without = trace(net, x)
    np.testing.assert_allclose(without["h"], _torch_out("lstm", m, x), rtol=0, atol=1e-5)
    for k in without:
        np.testing.assert_allclose(without[k], with_gemm[k], rtol=1e-5, atol=1e-5, err_msg=k)
    plain = memory.gradient_flow(net, x[0])  # the torch recursion
    tiny = 1e-6 * flow.norm.max()  # the hidden path at the last step is 0 up to float32 rounding in both
    for part in ("norm", "cell", "hidden"):
        np.testing.assert_allclose(getattr(plain, part), getattr(flow, part), rtol=1e-4, atol=tiny, err_msg=part)


NO_BLAS = r"""
import numpy as np, torch, lstm_core
from lstm_core import blas, loops, memory
assert blas.address("sgemm") == 0 and loops.gemm_for(32) == 0
torch.manual_seed(0)
m = torch.nn.GRU(2, 8, batch_first=True)
x = np.random.default_rng(0).standard_normal((5, 30, 2)).astype(np.float32)
with torch.no_grad():
    assert np.allclose(lstm_core.trace(lstm_core.from_torch(m), x)["h"], m(torch.from_numpy(x))[0].numpy(), atol=1e-5)
net = lstm_core.from_torch(torch.nn.LSTM(2, 8, batch_first=True))
a, b = memory.gradient_flow(net, x[0]), memory.gradient_flow(net, x[0], dtype="float64")
assert np.allclose(a.norm, b.norm, rtol=1e-4)
print("ok")
"""


def test_a_process_that_finds_no_gemm_traces_and_measures_gradient_flow_all_the_same():
    import os

    env = {**os.environ, "LSTM_CORE_NO_BLAS": "1"}
    done = subprocess.run([sys.executable, "-c", NO_BLAS], cwd=Path(__file__).resolve().parents[1], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]


# ---------------------------------------------------------------------------------------------------
# gradient flow: the compiled loop (flow_kernels.py) against the torch recursion and float64

VARIANTS = ("vanilla", "peephole", "cifg", "nfg", "nig", "nog", "niaf", "noaf")


def _net(H, F, seed, scale=1.0, variant="vanilla"):
    rng = np.random.default_rng(seed)
    sd = {"weight_ih_l0": rng.standard_normal((4 * H, F)) * scale,
          "weight_hh_l0": rng.standard_normal((4 * H, H)) * scale,
          "bias_ih_l0": rng.standard_normal(4 * H) * 0.5, "bias_hh_l0": rng.standard_normal(4 * H) * 0.5}
    if variant == "peephole":
        sd["weight_peep_l0"] = rng.standard_normal((3, H))
    return lstm_core.Network.from_state_dict("lstm", sd, variant)


@needs_gemm
@pytest.mark.parametrize("variant", VARIANTS)
def test_the_compiled_recursion_equals_float64_for_every_variant(variant):
    net = _net(6, 3, 8, variant=variant)
    x = np.random.default_rng(9).standard_normal((70, 3))  # rescale checks every 16 steps: several of them
    assert memory._compiled(net, "float32")
    a = memory.gradient_flow(net, x, jacobian=True)
    b = memory.gradient_flow(net, x, jacobian=True, dtype="float64")
    tiny = 1e-6 * b.norm.max()  # the hidden path at the last step: 0 in float64, float32 rounding in float32
    for part in ("norm", "cell", "hidden"):
        np.testing.assert_allclose(getattr(a, part), getattr(b, part), rtol=2e-4, atol=tiny, err_msg=part)
    np.testing.assert_allclose(a.jacobian, b.jacobian, rtol=2e-3, atol=2e-5 * np.abs(b.jacobian).max())
    rng = np.random.default_rng(10)
    y, hot = rng.standard_normal((70, 6)), rng.random(70) < 0.3  # a cotangent on some steps only
    a = memory.gradient_flow(net, x, "loss", head=_Head(np.eye(6)), target=y, loss="mse", mask=hot)
    b = memory.gradient_flow(net, x, "loss", head=_Head(np.eye(6)), target=y, loss="mse", mask=hot, dtype="float64")
    np.testing.assert_allclose(a.norm, b.norm, rtol=2e-4, atol=1e-6 * b.norm.max())
    np.testing.assert_allclose(a.cell, b.cell, rtol=2e-4, atol=1e-6 * b.norm.max())


class _Head:
    """A per-step linear readout, as a checkpoint's head."""

    def __init__(self, weight):
        self.readout, self.weight, self.bias = "per_step", np.asarray(weight, float), np.zeros(len(weight))


@needs_gemm
@pytest.mark.parametrize("wrt", ["h_T", "loss"])
def test_an_exploding_adjoint_is_rescaled_and_later_cotangents_join_at_its_scale(wrt):
    """Made-up local derivatives with dC_t/dC_{t-1} = 2: the adjoint grows 2^400-fold going back, far past
    float32's range; with a loss, cotangents join it on the way at its scale (the branch where the held
    adjoint is the larger). The compiled loop against the torch recursion in float64, on the same inputs."""
    H, F, T = 5, 3, 400
    net = _net(H, F, 14, scale=0.3)
    rng = np.random.default_rng(15)
    loc = {"dh_dpre_o": rng.uniform(0, 0.25, (T, H)), "dc_dpre": rng.uniform(-0.3, 0.3, (T, 3, H)),
           "dh_dc": rng.uniform(0, 1, (T, H)), "dc_dcprev": np.full((T, H), 2.0)}
    g = None
    if wrt == "loss":
        g = rng.standard_normal((T, H)) * (rng.random((T, 1)) < 0.2)
    torch_, pt = memory._torch_params(net, "float64")
    ref = memory._lstm_recursion(torch_, net, pt, loc, g, T, F, "float64")
    got = memory._lstm_recursion_compiled(net, loc, g, T, F)
    norm_ref, norm = memory._norms(ref), memory._norms(got)
    assert norm_ref.max() > 1e100
    np.testing.assert_allclose(norm, norm_ref, rtol=2e-3)
