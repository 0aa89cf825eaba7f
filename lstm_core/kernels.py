"""The compiled loops of the trace (numba), mirroring lstm_step in step.py and tested against it. Their
numpy twins, and the choice of which runs a trace, are in loops.py (which imports this module lazily).

One pass over time computes every gate, the cell and the hidden state and keeps them all: at B=1 this
is as fast as torch's fused forward, which keeps none of them. Arrays are time-major and contiguous,
gates stacked in torch's order i, f, g, o: z and s are (T, B, 4H).

tanh is a clamped rational approximation (|error| < 4e-7 against the exact tanh; checked in
tests/test_kernels.py) because the loop vectorises with it and would not with libm's tanh; the
sigmoid is 0.5 tanh(0.5 z) + 0.5. Sums keep their order (no fastmath), so a run is reproducible.
"""

from __future__ import annotations

import numba
import numpy as np

from .loop_codes import CIFG, NFG, NIAF, NIG, NOAF, NOG, PEEPHOLE, VARIANT_CODES  # noqa: F401  (VARIANT_CODES for tests)
from .loop_codes import TANH_CLAMP as _CLAMP

_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}  # numpy's error model lets divisions vectorise


@numba.njit(inline="always", **_JIT)
def fast_tanh(x):  # pragma: no cover - compiled
    """tanh(x) as an odd rational function of degree 13/6 on [-7.9988, 7.9988], clamped outside."""
    x = min(max(x, -_CLAMP), _CLAMP)
    x2 = x * x
    p = np.float32(-2.76076847742355e-16)
    p = p * x2 + np.float32(2.00018790482477e-13)
    p = p * x2 + np.float32(-8.60467152213735e-11)
    p = p * x2 + np.float32(5.12229709037114e-08)
    p = p * x2 + np.float32(1.48572235717979e-05)
    p = p * x2 + np.float32(6.37261928875436e-04)
    p = p * x2 + np.float32(4.89352455891786e-03)
    q = np.float32(1.19825839466702e-06)
    q = q * x2 + np.float32(1.18534705686654e-04)
    q = q * x2 + np.float32(2.26843463243900e-03)
    q = q * x2 + np.float32(4.89352518554385e-03)
    return min(max(p * x / q, np.float32(-1.0)), np.float32(1.0))


@numba.njit(inline="always", **_JIT)
def fast_sigmoid(x):  # pragma: no cover - compiled
    half = np.float32(0.5)
    return half * fast_tanh(half * x) + half


@numba.njit(**_JIT)
def tanh_array(x, out):  # pragma: no cover - compiled
    """fast_tanh over a flat array (for tests and for anyone checking the approximation)."""
    for k in range(x.size):
        out[k] = fast_tanh(x[k])


@numba.njit(inline="always", **_JIT)
def _add_matvec(z, w_t, h):  # pragma: no cover - compiled
    """z += h W (w_t = W^T, (H, R)): rows of w_t four at a time, so z is loaded and stored once per
    four rows (the loop is bound by loads and stores, not by arithmetic)."""
    H, R = w_t.shape
    k = 0
    while k + 4 <= H:
        w0, w1, w2, w3 = w_t[k], w_t[k + 1], w_t[k + 2], w_t[k + 3]
        h0, h1, h2, h3 = h[k], h[k + 1], h[k + 2], h[k + 3]
        for r in range(R):
            z[r] += (w0[r] * h0 + w1[r] * h1) + (w2[r] * h2 + w3[r] * h3)
        k += 4
    while k < H:
        wk, hk = w_t[k], h[k]
        for r in range(R):
            z[r] += wk[r] * hk
        k += 1


@numba.njit(**_JIT)
def lstm_loop(z, w_hh_t, peep, h0, c0, variant, s, c, h):  # pragma: no cover - compiled
    """Every LSTM variant over a batch of sequences, one sequence after the other.

    z (B, T, 4H) holds x_t W_ih^T + b_ih + b_hh on entry and the full pre-activations on exit; s gets
    the gates i, f, g, o; c and h (B, T, H) get C_t and h_t. w_hh_t is W_hh^T (H, 4H): the recurrent
    product is a sum of contiguous rows, which vectorises without reordering any sum. peep (3, H) is
    p_i, p_f, p_o (used by the peephole variant only). h0, c0 (B, H) are the initial states.
    """
    B, T, H4 = z.shape
    H = H4 // 4
    one = np.float32(1.0)
    for b in range(B):
        hp, cp = h0[b], c0[b]  # h_{t-1}, C_{t-1}
        for t in range(T):
            zb, sb, cb, hb = z[b, t], s[b, t], c[b, t], h[b, t]
            _add_matvec(zb, w_hh_t, hp)  # z_t += h_{t-1} W_hh^T
            if variant == PEEPHOLE:  # peephole: the input and forget gates see C_{t-1}
                for j in range(H):
                    zb[j] += peep[0, j] * cp[j]
                    zb[H + j] += peep[1, j] * cp[j]
            for j in range(H):  # forget gate
                sb[H + j] = one if variant == NFG else fast_sigmoid(zb[H + j])
            for j in range(H):  # input gate
                if variant == CIFG:
                    sb[j] = one - sb[H + j]
                elif variant == NIG:
                    sb[j] = one
                else:
                    sb[j] = fast_sigmoid(zb[j])
            for j in range(H):  # candidate
                sb[2 * H + j] = zb[2 * H + j] if variant == NIAF else fast_tanh(zb[2 * H + j])
            for j in range(H):  # cell update
                cb[j] = sb[H + j] * cp[j] + sb[j] * sb[2 * H + j]
            if variant == PEEPHOLE:  # peephole: the output gate sees C_t
                for j in range(H):
                    zb[3 * H + j] += peep[2, j] * cb[j]
            for j in range(H):  # output gate and hidden state
                sb[3 * H + j] = one if variant == NOG else fast_sigmoid(zb[3 * H + j])
                hb[j] = sb[3 * H + j] * (cb[j] if variant == NOAF else fast_tanh(cb[j]))
            hp, cp = hb, cb


@numba.njit(**_JIT)
def gru_loop(gi, w_hh_t, b_hh, h0, pre, gates, h):  # pragma: no cover - compiled
    """GRU as torch.nn.GRU defines it, over a batch. gi (B, T, 3H) holds x_t W_ih^T + b_ih (r, z, n);
    pre gets the pre-activations of r, z and n, gates the values of r, z and n, h the hidden states."""
    B, T, H3 = gi.shape
    H = H3 // 3
    one = np.float32(1.0)
    gh = np.empty(H3, np.float32)
    for b in range(B):
        hp = h0[b]
        for t in range(T):
            gib, pb, sb, hb = gi[b, t], pre[b, t], gates[b, t], h[b, t]
            for r in range(H3):
                gh[r] = b_hh[r]
            _add_matvec(gh, w_hh_t, hp)  # gh = W_hh h_{t-1} + b_hh
            for j in range(2 * H):  # reset and update gates
                pb[j] = gib[j] + gh[j]
                sb[j] = fast_sigmoid(pb[j])
            for j in range(H):  # candidate: the reset gate scales the recurrent part only
                pb[2 * H + j] = gib[2 * H + j] + sb[j] * gh[2 * H + j]
                sb[2 * H + j] = fast_tanh(pb[2 * H + j])
            for j in range(H):
                z = sb[H + j]
                hb[j] = (one - z) * sb[2 * H + j] + z * hp[j]
            hp = hb


@numba.njit(**_JIT)
def rnn_loop(z, w_hh_t, h0, relu, h):  # pragma: no cover - compiled
    """Vanilla RNN over a batch: z (B, T, H) holds x_t W_ih^T + b_ih + b_hh on entry, the
    pre-activations on exit; h gets tanh(z) (or relu(z))."""
    B, T, H = z.shape
    zero = np.float32(0.0)
    for b in range(B):
        hp = h0[b]
        for t in range(T):
            zb, hb = z[b, t], h[b, t]
            _add_matvec(zb, w_hh_t, hp)
            if relu:
                for j in range(H):
                    hb[j] = max(zb[j], zero)
            else:
                for j in range(H):
                    hb[j] = fast_tanh(zb[j])
            hp = hb


def warm(kind: str) -> None:
    """Call the compiled loop once on tiny arrays of the types tracing.py passes (compiles it, or loads it
    from numba's disk cache), so later traces find it ready."""
    f32 = np.float32
    if kind == "lstm":
        state = np.zeros((1, 1), f32)
        lstm_loop(np.zeros((1, 1, 4), f32), np.zeros((1, 4), f32), np.zeros((3, 1), f32), state, state, 0,
                  np.zeros((1, 1, 4), f32), np.zeros((1, 1, 1), f32), np.zeros((1, 1, 1), f32))
    elif kind == "gru":
        gru_loop(np.zeros((1, 1, 3), f32), np.zeros((1, 3), f32), np.zeros(3, f32), np.zeros((1, 1), f32),
                 np.zeros((1, 1, 3), f32), np.zeros((1, 1, 3), f32), np.zeros((1, 1, 1), f32))
    else:
        rnn_loop(np.zeros((1, 1, 1), f32), np.zeros((1, 1), f32), np.zeros((1, 1), f32), False,
                 np.zeros((1, 1, 1), f32))
