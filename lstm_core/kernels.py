"""The compiled loops of the trace (numba), mirroring lstm_step in step.py and tested against it. Their
numpy twins, and the choice of which runs a trace, are in loops.py (which imports this module lazily).

One pass over time computes every gate, the cell and the hidden state and keeps them all: at B=1 this
is as fast as torch's fused forward, which keeps none of them. For a batch (loops.BLAS_BATCH sequences or
more) the loops go step by step and make each step's recurrent product one call of numpy's sgemm for every
sequence (blas.py; its address is an argument, so numba can cache the compiled loops). Arrays are
contiguous, gates stacked in torch's order i, f, g, o: z and s are (B, T, 4H), or (T, B, 4H) in the LSTM's
loop, which writes time-major and computes each step's input projection itself (see lstm_loop).

tanh is a clamped rational approximation (|error| < 4e-7 against the exact tanh; checked in
tests/test_kernels.py) because the loop vectorises with it and would not with libm's tanh; the
sigmoid is 0.5 tanh(0.5 z) + 0.5. Sums keep their order (no fastmath), so a run is reproducible.
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from .blas import MAX_WORK, NO_TRANS, ROW_MAJOR
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


@numba.njit(inline="always", **_JIT)
def _input_step(z, w_ih_t, bias, x):  # pragma: no cover - compiled
    """z = bias + x_t W_ih^T (w_ih_t = W_ih^T, (F, R)), features four at a time as _add_matvec sums them:
    written where the step is about to read it, not by a product over every step that writes (and faults
    in) z in a pass of its own."""
    for r in range(len(z)):
        z[r] = bias[r]
    _add_matvec(z, w_ih_t, x)


def _gemm_intrinsic(double: bool):
    """An intrinsic calling the cblas ?gemm at an address passed in at run time (so the compiled function
    holds no process-specific pointer and numba can cache it): C += A·B, row-major, no transposes, 64-bit
    integers; a, b, c are data addresses."""

    @intrinsic
    def gemm(typingctx, fn, M, N, K, a, lda, b, ldb, c, ldc):
        sig = types.void(types.int64, types.int64, types.int64, types.int64, types.intp, types.int64, types.intp,
                         types.int64, types.intp, types.int64)

        def codegen(context, builder, signature, args):
            fn, M, N, K, a, lda, b, ldb, c, ldc = args
            i32, i64 = ir.IntType(32), ir.IntType(64)
            flt = ir.DoubleType() if double else ir.FloatType()
            ptr = flt.as_pointer()
            fnty = ir.FunctionType(ir.VoidType(),
                                   [i32, i32, i32, i64, i64, i64, flt, ptr, i64, ptr, i64, flt, ptr, i64])
            one = ir.Constant(flt, 1.0)
            layout, no = ir.Constant(i32, ROW_MAJOR), ir.Constant(i32, NO_TRANS)
            builder.call(builder.inttoptr(fn, fnty.as_pointer()),
                         [layout, no, no, M, N, K, one, builder.inttoptr(a, ptr), lda, builder.inttoptr(b, ptr), ldb,
                          one, builder.inttoptr(c, ptr), ldc])
            return context.get_dummy_value()

        return sig, codegen

    return gemm


_sgemm, _dgemm = _gemm_intrinsic(False), _gemm_intrinsic(True)


@numba.njit(inline="always", **_JIT)
def _addr(a):  # pragma: no cover - compiled
    """An array's data address as a signed integer (uintp + int would make a float in numba)."""
    return np.int64(a.ctypes.data)


@numba.njit(inline="always", **_JIT)
def add_product(fn, M, N, K, a, lda, b, ldb, c, ldc, item):  # pragma: no cover - compiled
    """C += A·B by the gemm at fn, cut into calls exactly as blas.add_product cuts them (the same numbers):
    whole rows per call while rows·N·K <= MAX_WORK, else one row and columns in multiples of 16."""
    if N * K <= MAX_WORK:
        rows, cols = max(1, min(M, MAX_WORK // (N * K))), N
    else:
        rows, cols = 1, max(16, MAX_WORK // K // 16 * 16)
    for i in range(0, M, rows):
        m = min(rows, M - i)
        for j in range(0, N, cols):
            n = min(cols, N - j)
            if item == 4:
                _sgemm(fn, m, n, K, a + item * i * lda, lda, b + item * j, ldb, c + item * (i * ldc + j), ldc)
            else:
                _dgemm(fn, m, n, K, a + item * i * lda, lda, b + item * j, ldb, c + item * (i * ldc + j), ldc)


@numba.njit(inline="always", **_JIT)
def _lstm_cell(zb, sb, cb, hb, cp, peep, variant):  # pragma: no cover - compiled
    """One step of one sequence after the recurrent product: zb (4H) holds the pre-activations but the
    peepholes; fills the gates sb, the cell cb and the hidden state hb from C_{t-1} = cp."""
    H = len(cb)
    one = np.float32(1.0)
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


@numba.njit(**_JIT)
def lstm_loop(x, w_ih_t, bias, w_hh_t, peep, h0, c0, variant, gemm, b0, b1, z, s, c, h):  # pragma: no cover
    """Every LSTM variant over sequences b0 .. b1-1 of a batch (a thread's part of it).

    x (B, T, F) is the input; w_ih_t and w_hh_t are W_ih^T (F, 4H) and W_hh^T (H, 4H); bias (4H) is
    b_ih + b_hh; peep (3, H) is p_i, p_f, p_o (used by the peephole variant only); h0, c0 (B, H) are the
    initial states. The outputs are time-major, so that a step of the whole batch is one contiguous block
    (a step touching 32 rows a trace apart in each array ran at a third of the memory's speed): z gets the
    pre-activations bias + x_t W_ih^T + h_{t-1} W_hh^T (then the peepholes), summed in that order, and s
    the gates i, f, g, o, both (T, B, 4H); c and h (T, B, H) get C_t and h_t.
    gemm = 0: one sequence after the other, the recurrent product a sum of contiguous rows of w_hh_t four at
    a time (vectorises without reordering any sum; at B = 1 the fastest). gemm = the address of numpy's
    sgemm (blas.py): step by step, the recurrent product of every sequence at once as one matrix product.
    """
    T, B, H4 = z.shape
    H = H4 // 4
    if gemm == 0:
        for b in range(b0, b1):
            hp, cp = h0[b], c0[b]  # h_{t-1}, C_{t-1}
            for t in range(T):
                _input_step(z[t, b], w_ih_t, bias, x[b, t])
                _add_matvec(z[t, b], w_hh_t, hp)  # z_t += h_{t-1} W_hh^T
                _lstm_cell(z[t, b], s[t, b], c[t, b], h[t, b], cp, peep, variant)
                hp, cp = h[t, b], c[t, b]
        return
    for t in range(T):
        for b in range(b0, b1):
            _input_step(z[t, b], w_ih_t, bias, x[b, t])
        hp = _addr(h0) + 4 * b0 * H if t == 0 else _addr(h) + 4 * ((t - 1) * B + b0) * H  # rows of h_{t-1}
        add_product(gemm, b1 - b0, H4, H, hp, H, _addr(w_hh_t), H4, _addr(z) + 4 * (t * B + b0) * H4, H4, 4)
        for b in range(b0, b1):
            _lstm_cell(z[t, b], s[t, b], c[t, b], h[t, b], c0[b] if t == 0 else c[t - 1, b], peep, variant)


@numba.njit(inline="always", **_JIT)
def _gru_cell(gib, gh, pb, sb, hb, hp):  # pragma: no cover - compiled
    """One GRU step of one sequence from gh = W_hh h_{t-1} + b_hh (3H)."""
    H = len(hb)
    one = np.float32(1.0)
    for j in range(2 * H):  # reset and update gates
        pb[j] = gib[j] + gh[j]
        sb[j] = fast_sigmoid(pb[j])
    for j in range(H):  # candidate: the reset gate scales the recurrent part only
        pb[2 * H + j] = gib[2 * H + j] + sb[j] * gh[2 * H + j]
        sb[2 * H + j] = fast_tanh(pb[2 * H + j])
    for j in range(H):
        z = sb[H + j]
        hb[j] = (one - z) * sb[2 * H + j] + z * hp[j]


@numba.njit(**_JIT)
def gru_loop(gi, w_hh_t, b_hh, h0, gemm, pre, gates, h):  # pragma: no cover - compiled
    """GRU as torch.nn.GRU defines it, over a batch. gi (B, T, 3H) holds x_t W_ih^T + b_ih (r, z, n);
    pre gets the pre-activations of r, z and n, gates the values of r, z and n, h the hidden states.
    gemm: 0 or numpy's sgemm, as in lstm_loop."""
    B, T, H3 = gi.shape
    H = H3 // 3
    if gemm == 0:
        gh = np.empty(H3, np.float32)
        for b in range(B):
            hp = h0[b]
            for t in range(T):
                for r in range(H3):
                    gh[r] = b_hh[r]
                _add_matvec(gh, w_hh_t, hp)  # gh = W_hh h_{t-1} + b_hh
                _gru_cell(gi[b, t], gh, pre[b, t], gates[b, t], h[b, t], hp)
                hp = h[b, t]
        return
    ghs = np.empty((B, H3), np.float32)
    for t in range(T):
        for b in range(B):
            for r in range(H3):
                ghs[b, r] = b_hh[r]
        if t == 0:
            add_product(gemm, B, H3, H, _addr(h0), H, _addr(w_hh_t), H3, _addr(ghs), H3, 4)
        else:
            add_product(gemm, B, H3, H, _addr(h) + 4 * (t - 1) * H, T * H, _addr(w_hh_t), H3,
                        _addr(ghs), H3, 4)
        for b in range(B):
            _gru_cell(gi[b, t], ghs[b], pre[b, t], gates[b, t], h[b, t], h0[b] if t == 0 else h[b, t - 1])


@numba.njit(inline="always", **_JIT)
def _rnn_cell(zb, hb, relu):  # pragma: no cover - compiled
    if relu:
        for j in range(len(hb)):
            hb[j] = max(zb[j], np.float32(0.0))
    else:
        for j in range(len(hb)):
            hb[j] = fast_tanh(zb[j])


@numba.njit(**_JIT)
def rnn_loop(z, w_hh_t, h0, relu, gemm, h):  # pragma: no cover - compiled
    """Vanilla RNN over a batch: z (B, T, H) holds x_t W_ih^T + b_ih + b_hh on entry, the
    pre-activations on exit; h gets tanh(z) (or relu(z)). gemm: 0 or numpy's sgemm, as in lstm_loop."""
    B, T, H = z.shape
    if gemm == 0:
        for b in range(B):
            hp = h0[b]
            for t in range(T):
                _add_matvec(z[b, t], w_hh_t, hp)
                _rnn_cell(z[b, t], h[b, t], relu)
                hp = h[b, t]
        return
    for t in range(T):
        if t == 0:
            add_product(gemm, B, H, H, _addr(h0), H, _addr(w_hh_t), H, _addr(z), T * H, 4)
        else:
            add_product(gemm, B, H, H, _addr(h) + 4 * (t - 1) * H, T * H, _addr(w_hh_t), H,
                        _addr(z) + 4 * t * H, T * H, 4)
        for b in range(B):
            _rnn_cell(z[b, t], h[b, t], relu)


def warm(kind: str) -> None:
    """Call the compiled loop once on tiny arrays of the types tracing.py passes (compiles it, or loads it
    from numba's disk cache), so later traces find it ready."""
    f32 = np.float32
    if kind == "lstm":
        state = np.zeros((1, 1), f32)
        lstm_loop(np.zeros((1, 1, 1), f32), np.zeros((1, 4), f32), np.zeros(4, f32), np.zeros((1, 4), f32),
                  np.zeros((3, 1), f32), state, state, 0, 0, 0, 1, np.zeros((1, 1, 4), f32),
                  np.zeros((1, 1, 4), f32), np.zeros((1, 1, 1), f32), np.zeros((1, 1, 1), f32))
    elif kind == "gru":
        gru_loop(np.zeros((1, 1, 3), f32), np.zeros((1, 3), f32), np.zeros(3, f32), np.zeros((1, 1), f32), 0,
                 np.zeros((1, 1, 3), f32), np.zeros((1, 1, 3), f32), np.zeros((1, 1, 1), f32))
    else:
        rnn_loop(np.zeros((1, 1, 1), f32), np.zeros((1, 1), f32), np.zeros((1, 1), f32), False, 0,
                 np.zeros((1, 1, 1), f32))
