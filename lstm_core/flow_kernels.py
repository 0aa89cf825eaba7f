"""The compiled reverse recursion of gradient_flow for the LSTM (memory.py), float32, with numpy's sgemm
called straight from the loop (blas.py): no Python or torch between steps.

The adjoint is held as rows, one per output: S_t = [∂out/∂h_t | ∂out/∂C_t] (R, 2H), ∂out/∂C_t counting the
path through h_t. Going back one step is
    S_{t-1}[:, :H] = S_t P_t,   S_{t-1}[:, H:] = S_t[:, H:] ⊙ f'_t + S_{t-1}[:, :H] ⊙ dh/dC_{t-1},
with P_t = [diag(dh/dpre_o) U_o; Σ_{k=i,f,g} diag(dC/dpre_k) U_k] (2H, H) (rows of W_hh scaled; f' =
dC_t/dC_{t-1}), and step t's input Jacobian is J_t = S_t V_t, V_t the same with the input weights (2H, F).
The rescaling is memory._Scale's, in float64: the held adjoint times exp(logs[t]) is the true one.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .kernels import _addr, add_product

_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}
RESCALE_EVERY = 16  # steps between checks of the adjoint's size (memory._RESCALE_EVERY)


@numba.njit(inline="always", **_JIT)
def _fold(out, d_o, d_ifg, M, t):  # pragma: no cover - compiled
    """out (2H, n) = [diag(d_o[t]) M_o; Σ_k diag(d_ifg[t, k]) M_k] for M (4H, n) stacked i, f, g, o."""
    H = d_o.shape[1]
    n = M.shape[1]
    for b in range(H):
        do, di, df, dg = d_o[t, b], d_ifg[t, 0, b], d_ifg[t, 1, b], d_ifg[t, 2, b]
        for a in range(n):
            out[b, a] = do * M[3 * H + b, a]
            out[H + b, a] = di * M[b, a] + df * M[H + b, a] + dg * M[2 * H + b, a]


@numba.njit(**_JIT)
def lstm_adjoint(gemm, U, W, d_o, d_ifg, dh_dc, dc_dcp, g, has_g, hits, J, logs):  # pragma: no cover - compiled
    """Fill J (T, R, F) (float64, held scale) and logs (T,) going back from step T-1.

    gemm: numpy's sgemm (blas.address). U = W_hh (4H, H), W = W_ih (4H, F); d_o = dh/dpre_o (T, H),
    d_ifg = dC/dpre_{i,f,g} (T, 3, H), dh_dc (T, H), dc_dcp = dC_t/dC_{t-1} (T, H), all float32. has_g: g (T, H)
    is the cotangent of every h_t (a loss; R = 1) and hits[t] says whether step t has one; else R = H and
    out = h_T (g is unused)."""
    T, H = d_o.shape
    F = W.shape[1]
    R = J.shape[1]
    H2 = 2 * H
    S = np.zeros((R, H2), np.float32)
    Sn = np.empty((R, H2), np.float32)
    P = np.empty((H2, H), np.float32)
    V = np.empty((H2, F), np.float32)
    Jt = np.empty((R, F), np.float32)
    for r in range(R):
        for j in range(H):
            S[r, j] = g[T - 1, j] if has_g else (np.float32(1.0) if r == j else np.float32(0.0))
            S[r, H + j] = S[r, j] * dh_dc[T - 1, j]
    log = 0.0
    for t in range(T - 1, -1, -1):
        _fold(V, d_o, d_ifg, W, t)  # J_t = S_t V_t
        Jt[:] = 0.0
        add_product(gemm, R, F, H2, _addr(S), H2, _addr(V), F, _addr(Jt), F, 4)
        for r in range(R):
            for f in range(F):
                J[t, r, f] = Jt[r, f]
        logs[t] = log
        if t == 0:
            break
        _fold(P, d_o, d_ifg, U, t)  # S_{t-1}
        for r in range(R):
            for j in range(H):
                Sn[r, j] = 0.0
                Sn[r, H + j] = S[r, H + j] * dc_dcp[t, j]  # the carry along the cell
        add_product(gemm, R, H, H2, _addr(S), H2, _addr(P), H, _addr(Sn), H2, 4)
        if has_g and hits[t - 1]:  # + the cotangent of h_{t-1}, at a common scale (memory._Scale.add)
            if log > 0:
                k = np.float32(math.exp(-log))
                for j in range(H):
                    Sn[0, j] += g[t - 1, j] * k
            else:
                if log < 0:  # the cotangent is the larger: back to the true scale (tiny values may flush to 0)
                    k = np.float32(math.exp(log))
                    for j in range(H2):
                        Sn[0, j] *= k
                    log = 0.0
                for j in range(H):
                    Sn[0, j] += g[t - 1, j]
        for r in range(R):
            for j in range(H):
                Sn[r, H + j] += Sn[r, j] * dh_dc[t - 1, j]
        if (t - 1) % RESCALE_EVERY == 0:  # keep the held adjoint near 1 (memory._Scale.check)
            m = np.float32(0.0)
            for r in range(R):
                for j in range(H2):
                    m = max(m, abs(Sn[r, j]))
            if m > 0 and not 2.0**-30 < m < 2.0**30:
                for r in range(R):
                    for j in range(H2):
                        Sn[r, j] /= m
                log += math.log(m)
        S, Sn = Sn, S


@numba.njit(**_JIT)
def lstm_cell_path(W, dh_dc, dh_do, dc_dpre, dc_dcp, g, has_g, out):  # pragma: no cover - compiled
    """memory._cell_path in float64 as one loop: out (T, R, F) gets the cell-path Jacobians. W = W_ih (4H, F);
    the local derivatives as in lstm_adjoint (any float dtype); g (T, H) the cotangents of h_t if has_g
    (R = 1: the units summed), else out = h_T (R = H: row j is output unit j, which sees only cell j)."""
    T, H = dh_dc.shape
    F = W.shape[1]
    carry = np.zeros(H)  # ∂out/∂C_t along the cell path, per unit: a_t
    if has_g:
        out[:] = 0.0
    for t in range(T - 1, -1, -1):
        for j in range(H):
            if has_g:
                inj = np.float64(g[t, j])
                a = carry[j] + inj * dh_dc[t, j]
            else:  # a_t = dh_T/dC_T * prod_{s=t+1}^{T-1} dC_s/dC_{s-1}; the cotangent is 1 at T-1 only
                inj = 1.0 if t == T - 1 else 0.0
                a = np.float64(dh_dc[T - 1, j]) if t == T - 1 else carry[j]
            carry[j] = a * dc_dcp[t, j]
            ci, cf, cg, co = a * dc_dpre[t, 0, j], a * dc_dpre[t, 1, j], a * dc_dpre[t, 2, j], inj * dh_do[t, j]
            r = 0 if has_g else j
            for f in range(F):  # row j of step t: unit j's cell through its four gates' input weights
                v = ci * W[j, f] + cf * W[H + j, f] + cg * W[2 * H + j, f] + co * W[3 * H + j, f]
                if has_g:
                    out[t, 0, f] += v
                else:
                    out[t, r, f] = v


@numba.njit(**_JIT)
def jacobian_norms(J, Jc, norm, cell, hidden):  # pragma: no cover - compiled
    """Frobenius norms per step of J, Jc and J - Jc ((T, R, F) each) in one pass."""
    T, R, F = J.shape
    for t in range(T):
        a = b = d = 0.0
        for r in range(R):
            for f in range(F):
                x, y = J[t, r, f], Jc[t, r, f]
                a += x * x
                b += y * y
                d += (x - y) * (x - y)
        norm[t], cell[t], hidden[t] = math.sqrt(a), math.sqrt(b), math.sqrt(d)
