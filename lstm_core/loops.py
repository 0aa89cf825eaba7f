"""Each kind's whole-sequence run (registry.py names them), which loop it runs, and the numpy twins of the
compiled loops (kernels.py).

Compiling the loops takes a few seconds once after an install (then numba's disk cache has them), and
importing numba alone takes 0.2 s: the first screen need not wait for either. Each twin does the compiled
loop's float32 operations in the same order (the same rational tanh; the recurrent sum four rows at a time,
or, from BLAS_BATCH sequences on, the same calls to numpy's sgemm, cut the same way: blas.py), vectorised
over sequences and units, so its numbers are the same bit for bit on either path (tests/test_kernels.py
checks it), and a trace's numbers never depend on whether numba was ready.

The two paths of the recurrent product sum in different orders, so a sequence traced alone (or in a batch
of fewer than BLAS_BATCH) and the same sequence in a larger batch agree to float32 rounding, not bit for bit.
On the gemm path a sequence's numbers do not depend on the other sequences of its batch or its place in it
(OpenBLAS computes a row of a product the same way whatever rows surround it; BLAS does not promise it, so
tests/test_blas.py checks it where the tests run), so two sequences of one trace that agree up to a step
agree bit for bit from there (the differences Memory's retention reports carry no rounding of the batch).

A twin is slow for long sequences: `loop` runs it only for small work while a background thread imports
and prepares the compiled loop. A server can hold that thread back (`defer_warm_up`) until its first page is
on screen, then start it (`warm_up_in_background`): numba's import and cache load hold the GIL for about half a
second, which the first page's own run and the serving of its files would otherwise wait behind. This module
never imports numba itself.
"""

from __future__ import annotations

import os
import sys
import threading

import numpy as np

from . import blas
from .loop_codes import CIFG, NFG, NIAF, NIG, NOAF, NOG, PEEPHOLE, TANH_CLAMP, VARIANT_CODES


def np_tanh(x: np.ndarray) -> np.ndarray:
    """fast_tanh on a float32 array."""
    x = np.minimum(np.maximum(x, -TANH_CLAMP), TANH_CLAMP)
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
    return np.minimum(np.maximum(p * x / q, np.float32(-1.0)), np.float32(1.0))


def np_sigmoid(x: np.ndarray) -> np.ndarray:
    half = np.float32(0.5)
    return half * np_tanh(half * x) + half


def _np_add_matvec(z: np.ndarray, w_t: np.ndarray, h: np.ndarray) -> None:
    """z (B, R) += h (B, H) W, in _add_matvec's order."""
    H = w_t.shape[0]
    k = 0
    while k + 4 <= H:
        z += (w_t[k] * h[:, k, None] + w_t[k + 1] * h[:, k + 1, None]) + (
            w_t[k + 2] * h[:, k + 2, None] + w_t[k + 3] * h[:, k + 3, None])
        k += 4
    while k < H:
        z += w_t[k] * h[:, k, None]
        k += 1


def _recurrent_product(z: np.ndarray, w_t: np.ndarray, h: np.ndarray, gemm: int) -> None:
    """z (B, R) += h (B, H) W as the compiled loop adds it: rows four at a time, or by numpy's gemm."""
    if gemm:
        blas.add_product(z, h, w_t)
    else:
        _np_add_matvec(z, w_t, h)


def lstm_loop_numpy(x, w_ih_t, bias, w_hh_t, peep, h0, c0, variant, gemm, b0, b1, z, s, c, h):
    """lstm_loop in numpy (same arguments, same results; z, s, c, h time-major)."""
    H = c.shape[2]
    one = np.float32(1.0)
    hp, cp = h0[b0:b1], c0[b0:b1]
    for t in range(z.shape[0]):
        zb, sb, ct = z[t, b0:b1], s[t, b0:b1], c[t, b0:b1]
        zb[:] = bias
        _np_add_matvec(zb, w_ih_t, x[b0:b1, t])  # + x_t W_ih^T, as _input_step sums it
        _recurrent_product(zb, w_hh_t, hp, gemm)
        if variant == PEEPHOLE:
            zb[:, :H] += peep[0] * cp
            zb[:, H : 2 * H] += peep[1] * cp
        sb[:, H : 2 * H] = one if variant == NFG else np_sigmoid(zb[:, H : 2 * H])
        if variant == CIFG:
            sb[:, :H] = one - sb[:, H : 2 * H]
        elif variant == NIG:
            sb[:, :H] = one
        else:
            sb[:, :H] = np_sigmoid(zb[:, :H])
        sb[:, 2 * H : 3 * H] = zb[:, 2 * H : 3 * H] if variant == NIAF else np_tanh(zb[:, 2 * H : 3 * H])
        ct[:] = sb[:, H : 2 * H] * cp + sb[:, :H] * sb[:, 2 * H : 3 * H]
        if variant == PEEPHOLE:
            zb[:, 3 * H :] += peep[2] * ct
        sb[:, 3 * H :] = one if variant == NOG else np_sigmoid(zb[:, 3 * H :])
        h[t, b0:b1] = sb[:, 3 * H :] * (ct if variant == NOAF else np_tanh(ct))
        hp, cp = h[t, b0:b1], ct


def gru_loop_numpy(gi, w_hh_t, b_hh, h0, gemm, pre, gates, h):
    """gru_loop in numpy (same arguments, same results)."""
    B, T, H3 = gi.shape
    H = H3 // 3
    one = np.float32(1.0)
    hp = h0
    for t in range(T):
        gh = np.broadcast_to(b_hh, (B, H3)).copy()
        _recurrent_product(gh, w_hh_t, hp, gemm)
        pre[:, t, : 2 * H] = gi[:, t, : 2 * H] + gh[:, : 2 * H]
        gates[:, t, : 2 * H] = np_sigmoid(pre[:, t, : 2 * H])
        pre[:, t, 2 * H :] = gi[:, t, 2 * H :] + gates[:, t, :H] * gh[:, 2 * H :]
        gates[:, t, 2 * H :] = np_tanh(pre[:, t, 2 * H :])
        zt = gates[:, t, H : 2 * H]
        h[:, t] = (one - zt) * gates[:, t, 2 * H :] + zt * hp
        hp = h[:, t]


def rnn_loop_numpy(z, w_hh_t, h0, relu, gemm, h):
    """rnn_loop in numpy (same arguments, same results)."""
    T = z.shape[1]
    hp = h0
    for t in range(T):
        _recurrent_product(z[:, t], w_hh_t, hp, gemm)
        h[:, t] = np.maximum(z[:, t], np.float32(0.0)) if relu else np_tanh(z[:, t])
        hp = h[:, t]


# The whole-sequence runs: registry.py names them as each kind's loop. Each takes a Network (duck-typed:
# .params, .hidden_size, .variant, .nonlinearity) and x (B, T, F) float32, and returns every buffer it
# filled, (B, T, .) each: the quantities and the pre-activations.

def _empty(*shape) -> np.ndarray:
    """An uninitialised float32 array; numpy asks Linux for huge pages on large arrays, so a 10,000-step
    trace takes a few dozen page faults instead of ~12,000."""
    return np.empty(shape, np.float32)


def _input_projection(net, x: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """x_t W_ih^T + bias for every step at once: (B, T, F) -> (B, T, G*H), one matrix product."""
    B, T, F = x.shape
    out = _empty(B, T, net.params.weight_ih.shape[0])
    np.matmul(x.reshape(-1, F), net.params.weight_ih.T, out=out.reshape(B * T, -1))
    out += bias
    return out


def _arg(a) -> np.ndarray:
    """An array as the compiled loops were compiled for it: float32, C-contiguous and writable. numba compiles
    anew for a read-only array (the app's cached inputs and weights are read-only): seconds in the middle of a
    page, and again after every fresh install, for a type warm() never prepared. A copy only when needed."""
    return np.require(a, np.float32, ["C_CONTIGUOUS", "WRITEABLE"])


def _recurrent_t(net) -> np.ndarray:
    return _arg(net.params.weight_hh.T)  # W_hh^T (H, G*H)


BLAS_BATCH = 4  # from this many sequences on, the recurrent product of a step is one gemm for all of them


def gemm_for(B: int) -> int:
    """The gemm the loops use for a batch of B sequences (blas.address), or 0: rows of W_hh^T four at a time.
    Every sequence of a trace takes the same path, so the parts of a batch split between threads agree."""
    return blas.address("sgemm") if B >= BLAS_BATCH else 0


_SPARE: list = [None]  # the buffer _buffer handed out last
_SPARE_LOCK = threading.Lock()
SPARE_MAX_BYTES = 128 * 2**20  # a larger buffer (a 100,000-step page's trace: 256 MB) is not kept for reuse


def _buffer(n: int) -> np.ndarray:
    """n uninitialised float32 numbers: the buffer handed out last, once nothing holds it any more (CPython's
    reference count says so) and when it is at most twice as large, else a new one. The kernel zeroes every
    fresh page as it is first touched: 10 of the 40 ms of a B=32, T=500, H=128 LSTM trace, which torch,
    whose smaller buffers glibc recycles, does not pay. A process keeps one idle buffer at most, of at most
    SPARE_MAX_BYTES (a server holds it for good)."""
    with _SPARE_LOCK:
        spare = _SPARE[0]
        if spare is not None and n <= spare.size <= 2 * n and sys.getrefcount(spare) == 3:  # _SPARE, spare, argument
            return spare[:n]
        fresh = _empty(n)
        if fresh.nbytes <= SPARE_MAX_BYTES:
            _SPARE[0] = fresh
        return fresh


def _time_major(B: int, T: int, *widths: int) -> list:
    """Uninitialised time-major float32 arrays (T, B, w), one for each width, carved from one buffer: one
    mapping has huge pages (see _empty) all along, where four would have 4 kB pages at each of their ends
    (72 page faults against 2,083 at B=32, T=500, H=128)."""
    flat = _buffer(T * B * sum(widths))
    out, start = [], 0
    for w in widths:
        out.append(flat[start : start + T * B * w].reshape(T, B, w))
        start += T * B * w
    return out


def run_lstm(net, x: np.ndarray) -> dict:
    """All LSTM variants: the compiled loop over time, which computes each step's input projection as it
    goes, the batch split between threads (sequences are independent). The buffers are time-major (see
    kernels.lstm_loop); the trace gets (B, T, .) views of them."""
    B, T, _ = x.shape
    H = net.hidden_size
    p = net.params
    x, w_ih, bias = _arg(x), _arg(p.weight_ih.T), _arg(p.bias_ih + p.bias_hh)  # (B, T, F), W_ih^T (F, 4H), (4H)
    peep = np.zeros((3, H), np.float32) if p.peephole is None else _arg(p.peephole)
    z, s, c, h = _time_major(B, T, 4 * H, 4 * H, H, H)  # (T, B, .)
    zeros = np.zeros((B, H), np.float32)
    code = VARIANT_CODES[net.variant]
    w = _recurrent_t(net)

    run_loop, gemm = loop("lstm", B * T * H), gemm_for(B)
    _split(B, lambda b0, b1: run_loop(x, w_ih, bias, w, peep, zeros, zeros, code, gemm, b0, b1, z, s, c, h))
    z, s = z.transpose(1, 0, 2), s.transpose(1, 0, 2)  # (B, T, 4H)
    bufs = {"h": h.transpose(1, 0, 2), "c": c.transpose(1, 0, 2)}
    for k, name in enumerate("ifgo"):  # torch's gate order
        bufs[name] = s[..., k * H : (k + 1) * H]
        bufs["pre_" + name] = z[..., k * H : (k + 1) * H]
    return bufs


_POOL: list = []


def _cores() -> int:
    """The cores this process may run on (its affinity mask where the OS has one, as in a container)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def _split(B: int, run) -> None:
    """run(b0, b1) over the batch, in as many contiguous parts as there are cores (the compiled loops
    release the GIL); one part runs in the calling thread."""
    parts = min(B, _cores())
    if parts == 1:
        run(0, B)
        return
    if not _POOL:
        from concurrent.futures import ThreadPoolExecutor

        _POOL.append(ThreadPoolExecutor(max_workers=parts - 1, thread_name_prefix="lstm_core-trace"))
    edges = np.linspace(0, B, parts + 1).astype(int)
    futures = [_POOL[0].submit(run, edges[k], edges[k + 1]) for k in range(1, parts)]
    run(edges[0], edges[1])
    for f in futures:
        f.result()


def run_gru(net, x: np.ndarray) -> dict:
    B, T, _ = x.shape
    H = net.hidden_size
    gi = _input_projection(net, x, net.params.bias_ih)
    pre, gates, h = np.empty_like(gi), np.empty_like(gi), _empty(B, T, H)
    zeros = np.zeros((B, H), np.float32)
    w, bh = _recurrent_t(net), _arg(net.params.bias_hh)
    run_loop, gemm = loop("gru", B * T * H), gemm_for(B)
    _split(B, lambda b0, b1: run_loop(gi[b0:b1], w, bh, zeros[b0:b1], gemm, pre[b0:b1], gates[b0:b1], h[b0:b1]))
    bufs = {"h": h}
    for k, name in enumerate("rzn"):
        bufs[name] = gates[..., k * H : (k + 1) * H]
        bufs["pre_" + name] = pre[..., k * H : (k + 1) * H]
    return bufs


def run_rnn(net, x: np.ndarray) -> dict:
    B, T, _ = x.shape
    H = net.hidden_size
    z = _input_projection(net, x, net.params.bias_ih + net.params.bias_hh)
    h = _empty(B, T, H)
    zeros = np.zeros((B, H), np.float32)
    w, relu = _recurrent_t(net), net.nonlinearity == "relu"
    run_loop, gemm = loop("rnn", B * T * H), gemm_for(B)
    _split(B, lambda b0, b1: run_loop(z[b0:b1], w, zeros[b0:b1], relu, gemm, h[b0:b1]))
    return {"h": h, "pre_h": z}





TWINS = {"lstm": lstm_loop_numpy, "gru": gru_loop_numpy, "rnn": rnn_loop_numpy}
SMALL_WORK = 200_000  # B·T·H up to which the numpy twin is quicker than waiting for a compile
_ready: dict = {}  # kind -> the compiled loop, once a warm-up has prepared it in this process
_warming: dict[str, threading.Thread] = {}
_warming_lock = threading.Lock()
_deferred = False  # defer_warm_up(): small traces run the twins and start no background compile


def _compiled(kind: str):
    from . import kernels  # lazily, for start-up time (numba); an import under way in another thread is waited for

    return {"lstm": kernels.lstm_loop, "gru": kernels.gru_loop, "rnn": kernels.rnn_loop}[kind]


def _warm(kind: str) -> None:
    from . import kernels  # lazily, for start-up time (numba)

    kernels.warm(kind)
    _ready[kind] = _compiled(kind)


def prepare(kinds=tuple(TWINS)) -> None:
    """Make the compiled loops of `kinds` ready in this process now, in this thread (compiled, or loaded from
    numba's disk cache), so no trace starts a background compile later: for a process that trains and
    traces at once, or one that forks workers (app/training_jobs.py)."""
    for kind in kinds:
        if kind not in _ready:
            _warm(kind)


def defer_warm_up() -> None:
    """From now on `loop` starts no background warm-up; small traces run the twins until
    `warm_up_in_background` (or `prepare`) has made the compiled loops ready. Large work still waits for them."""
    global _deferred
    _deferred = True


def warm_up_in_background(kinds=tuple(TWINS)) -> None:
    """Import numba and prepare the compiled loops of `kinds` in background threads (once per kind and process)."""
    for kind in kinds:
        _start_warm_up(kind)


def _start_warm_up(kind: str) -> None:
    with _warming_lock:
        if kind not in _ready and kind not in _warming:
            _warming[kind] = threading.Thread(target=_warm, args=(kind,), daemon=True,
                                              name=f"lstm_core-compile-{kind}")
            _warming[kind].start()


def loop(kind: str, work: int):
    """The loop a trace of `kind` runs: the compiled one once it is ready in this process (or when the work,
    B·T·H, is large: then the caller waits for it); before that its numpy twin, while a background
    thread prepares the compiled one (unless `defer_warm_up` holds it back)."""
    ready = _ready.get(kind)
    if ready is not None:
        return ready
    if work > SMALL_WORK:
        return _compiled(kind)
    if not _deferred:
        _start_warm_up(kind)
    return TWINS[kind]
