"""How long a recurrent network remembers, and along which path: retention, gradient flow, gate
saturation, clamped gates, state PCA, forget times, lag probes and memory capacity, unit correlations.

Conventions
- One sequence x is (T, F). Trace-like inputs are `tracing.Trace` objects or plain mappings of (T, H)
  (or padded (B, T, H)) arrays, such as `clamped_trace` returns; padded steps (Trace.mask False, or
  NaN) never count.
- Every norm is the Euclidean / Frobenius norm. ‖∂h_T/∂x_t‖ is the Frobenius norm of the (H, F)
  Jacobian J_t = ∂h_T/∂x_t, i.e. sqrt(Σ_{j,f} (∂h_T[j]/∂x_t[f])²), with h_T the hidden state after the
  last step (index T-1).
- Everything random takes a seed (numpy's default_rng), never the global RNG.

Gradient flow, and its split into the cell path and the hidden path (LSTM)
The cell path of ∂h_T/∂x_t is the gradient with every recurrent connection h_{s-1} -> gates_s cut
(h_prev detached where it enters the gates, at every step; in the readable step h_prev enters nothing
else). What remains travels from x_t into the gates of step t, then only along the cell state,
C_{s-1} -> C_s with factor ∂C_s/∂C_{s-1} = f_s (peephole LSTM: f_s plus the peephole terms through f_s
and i_s), and out through h_T = o_T ⊙ tanh(C_T); at t = T-1 it also holds the output gate's own path.
So for t < T-1 the cell-path Jacobian is diag(∂h_T/∂C_T ⊙ Π_{s=t+1}^{T-1} f_s) ∂C_t/∂x_t|_{C_{t-1},h_{t-1}
fixed}: unit j of h_T sees x_t only through unit j's own cell. The hidden path is the rest,
J_hidden = J_total - J_cell: exactly the sum over every path that takes at least one h_{s-1} -> gates_s
hop (the chain rule is a sum over paths, so the split is exact for the Jacobians; their norms do not add).

How it is computed (method="fast", the default): one forward pass (`trace` in float32, the readable
numpy step in float64), then the local derivatives of every step's elementwise part (gates, cell and
hidden state as functions of the pre-activations and C_{t-1}): by torch autograd over the readable step
for the LSTM variants, all steps at once, and by the textbook formulas for the vanilla cells (tested equal).
Then a reverse-mode recursion carries the whole adjoint [∂h_T/∂h_t; ∂h_T/∂C_t] ((2H, H) for an LSTM) back
in time: the work of H backward passes, as one (H, 2H) x (2H, H) product and two scalings a step (the gate
derivatives are folded into the recurrent weights a chunk of steps at a time). The adjoint is rescaled
every few steps and its scale kept in float64, so norms far below float32's range (a vanishing gradient)
are still reported, down to float64's (below ~1e-308 they are 0). method="autograd" is the plain
definition: torch autograd through the readable step over H copies of the sequence, one backward of
Σ_j h_T[j] of copy j (slow; for checking, and for small models). The LSTM's cell path is the same
recursion with the hops cut, where the adjoint stays diagonal: a product of f's per unit, O(T H F).

For the LSTM in float32 (the default) the recursion, the cell path and the norms run as compiled loops
(flow_kernels.py) that call numpy's own sgemm directly (blas.py) for the per-step products: no Python or
torch call per step, on the calling thread only. Without numpy's OpenBLAS (blas.address returns 0), and for
float64 (the reference the tests hold it to), the recursion runs in torch as below; the GRU and RNN always do.
There the per-step products are small ((64, 128) x (128, 64) at H = 64): with torch's default two threads on
a busy machine its thread pool can make them much slower; torch.set_num_threads(1) in the caller avoids it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from . import blas
from .analysis import row_distances
from .errors import LabError
from .network import Network
from .registry import CELLS
from .step import Params, gru_step, lstm_step, rnn_step, sigmoid
from .tasks import make_task
from .tracing import trace

__all__ = ["PROBE_KINDS", "RECALL_AT", "Clamp", "GradientFlow", "RecallProbe", "Retention", "clamped_trace",
           "forget_time", "gradient_flow", "interpretable_units", "memory_capacity", "probe_lags", "recall_probe",
           "recall_steps", "retention", "saturation", "state_pca"]


def _torch_params(net: Network, dtype: str) -> tuple:
    """torch and the network's weights as torch tensors of `dtype`: the one place this module reaches torch
    (swap it for the project's bridge module); the other torch helpers get the module from here."""
    import torch

    def tensor(a):
        return None if a is None else torch.from_numpy(np.array(a, dtype=dtype))

    p = net.params
    return torch, Params(tensor(p.weight_ih), tensor(p.weight_hh), tensor(p.bias_ih), tensor(p.bias_hh),
                         tensor(p.peephole))


# ---------------------------------------------------------------------------------------------------
# Arguments

_DTYPES = ("float32", "float64")


def _unpack(model) -> tuple:
    """(Network, head or None, loss name or None) of a Network or a Checkpoint."""
    if isinstance(model, Network):
        return model, None, None
    net = getattr(model, "network", None)
    if isinstance(net, Network):
        task = getattr(model, "task", None) or {}
        return net, getattr(model, "head", None), task.get("loss") if isinstance(task, Mapping) else None
    raise LabError(f"model: expected a Network or a Checkpoint (with a .network); got {type(model).__name__}")


def _sequence(x, net: Network) -> np.ndarray:
    """One input sequence as float64 (T, F), checked."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise LabError(f"x: expected an array of numbers; got {type(x).__name__} ({e})") from None
    F = net.input_size
    if a.ndim != 2 or a.shape[1] != F or a.shape[0] < 1:
        raise LabError(f"x: expected one sequence of shape (T, {F}) with T >= 1; got shape {a.shape}")
    if not np.isfinite(a).all():
        raise LabError(f"x: expected finite numbers; got {int((~np.isfinite(a)).sum())} NaN/Inf value(s)")
    return a


def _dtype(dtype: str) -> str:
    if dtype not in _DTYPES:
        raise LabError(f"dtype: expected one of {', '.join(_DTYPES)}; got {dtype!r}")
    return dtype


def _real(a, mask=None) -> np.ndarray:
    """(N, ...) rows of the real steps of a (T, ...) or padded (B, T, ...) array."""
    a = np.asarray(a, dtype=np.float64)
    if mask is not None and a.ndim == 3:
        m = np.asarray(mask, bool)
        if m.shape != a.shape[:2]:
            raise LabError(f"mask: expected shape {a.shape[:2]} to match the arrays; got {m.shape}")
        a = a[m]
    a = a.reshape(-1, a.shape[-1])
    return a[np.isfinite(a).all(axis=1)]


def _quantity(tr, name: str, what: str) -> np.ndarray:
    if not isinstance(tr, Mapping):
        raise LabError(f"trace: expected a Trace or a mapping of arrays; got {type(tr).__name__}")
    if name not in tr:
        raise LabError(f"{what}: expected one of the trace's quantities ({', '.join(map(str, tr))}); got {name!r}")
    a = np.asarray(tr[name])
    if a.ndim not in (2, 3) or a.size == 0:
        raise LabError(f"{what}: expected trace[{name!r}] of shape (T, H) or (B, T, H); got {a.shape}")
    return a


def _rows(tr, name: str, what: str) -> np.ndarray:
    """The real steps of trace[name] as (N, H) float64; LabError if there are none."""
    a = _quantity(tr, name, what)
    rows = _real(a, getattr(tr, "mask", None) if a.ndim == 3 else None)
    if len(rows) == 0:
        raise LabError(f"{what}: expected at least one real (unpadded, finite) step of {name!r}; got none")
    return rows


# ---------------------------------------------------------------------------------------------------
# 1. Retention


@dataclass(frozen=True)
class Retention:
    """How far the states move after the input at `step` is changed: one entry per step t >= step."""

    step: int
    mode: str
    steps: np.ndarray  # (T - step,) the steps t = step .. T-1
    h: np.ndarray  # (T - step,) ‖h_t(changed) - h_t(original)‖
    c: np.ndarray | None  # (T - step,) the same for the LSTM cell state, else None


def retention(model, x, s: int, mode: str = "zero", eps: float = 1e-2, seed: int = 0) -> Retention:
    """‖Δh_t‖ (and ‖ΔC_t‖) for t >= s after x_s is zeroed (mode="zero") or moved by eps in a seeded random direction."""
    net, _, _ = _unpack(model)
    xa = _sequence(x, net)
    T, F = xa.shape
    if isinstance(s, bool) or not isinstance(s, int | np.integer) or not 0 <= s < T:
        raise LabError(f"s: expected a step between 0 and {T - 1}; got {s!r}")
    changed = xa.copy()
    if mode == "zero":
        changed[s] = 0.0
    elif mode == "perturb":
        if not (isinstance(eps, int | float | np.number) and math.isfinite(eps) and eps > 0):
            raise LabError(f"eps: expected a finite number > 0; got {eps!r}")
        u = np.random.default_rng(seed).standard_normal(F)
        changed[s] += eps * u / np.linalg.norm(u)
    else:
        raise LabError(f"mode: expected 'zero' or 'perturb'; got {mode!r}")
    tr = trace(net, np.stack([xa, changed]).astype(np.float32))
    dh = row_distances(tr["h"][1, s:], tr["h"][0, s:])
    dc = row_distances(tr["c"][1, s:], tr["c"][0, s:]) if "c" in tr else None
    return Retention(int(s), mode, np.arange(s, T), dh, dc)


# ---------------------------------------------------------------------------------------------------
# 2. Gradient flow


@dataclass(frozen=True)
class GradientFlow:
    """Per-step gradient norms ‖∂h_T/∂x_t‖_F (or ‖∂loss/∂x_t‖), with the LSTM's cell/hidden-path split."""

    wrt: str  # "h_T" | "loss"
    norm: np.ndarray  # (T,) float64
    cell: np.ndarray | None  # (T,) norm of the cell-path part (LSTM with split=True), else None
    hidden: np.ndarray | None  # (T,) norm of the hidden-path part, J - J_cell
    jacobian: np.ndarray | None = None  # (T, H, F) for h_T, (T, F) for the loss, if asked
    cell_jacobian: np.ndarray | None = None  # the cell-path part of `jacobian`, if asked and split

    def fall(self, lag: int) -> float:
        """norm at the last step over the norm `lag` steps earlier (inf if that is 0)."""
        T = len(self.norm)
        if isinstance(lag, bool) or not isinstance(lag, int | np.integer) or not 0 <= lag < T:
            raise LabError(f"lag: expected a whole number between 0 and {T - 1}; got {lag!r}")
        last, early = float(self.norm[-1]), float(self.norm[T - 1 - lag])
        return last / early if early > 0 else math.inf


def gradient_flow(model, x, wrt: str = "h_T", *, head=None, target=None, loss: str | None = None,
                  mask=None, split: bool = True, jacobian: bool = False, dtype: str = "float32",
                  method: str = "fast") -> GradientFlow:
    """Norms of ∂h_T/∂x_t (Frobenius, H x F) or ∂loss/∂x_t for every step t; the LSTM's cell/hidden split."""
    net, ck_head, ck_loss = _unpack(model)
    xa = _sequence(x, net)
    dtype = _dtype(dtype)
    if method not in ("fast", "autograd"):
        raise LabError(f"method: expected 'fast' or 'autograd'; got {method!r}")
    split = bool(split) and net.kind == "lstm"
    if wrt == "h_T":
        g = None
    elif wrt == "loss":
        head = ck_head if head is None else head
        loss = ck_loss if loss is None else loss
        g = _loss_cotangents(net, xa, head, target, loss, mask, dtype)
    else:
        raise LabError(f"wrt: expected 'h_T' or 'loss'; got {wrt!r}")
    if method == "fast":
        J, Jc = _fast_jacobians(net, xa, g, split, dtype)
    else:
        J, Jc = _autograd_jacobians(net, xa, g, split, dtype)
    cell = hidden = None
    if not split:
        norm = _norms(J)
    elif method == "fast" and _compiled(net, dtype):
        from . import flow_kernels  # lazily, for start-up time (numba)

        norm, cell, hidden = np.empty(len(J)), np.empty(len(J)), np.empty(len(J))
        flow_kernels.jacobian_norms(J, Jc, norm, cell, hidden)
    else:
        norm, cell, hidden = _norms(J), _norms(Jc), _norms(J - Jc)
    if g is not None:  # one output: (T, 1, F) -> (T, F)
        J, Jc = J[:, 0], None if Jc is None else Jc[:, 0]
    return GradientFlow(wrt, norm, cell, hidden, J if jacobian else None, Jc if (jacobian and split) else None)


def _norms(J: np.ndarray) -> np.ndarray:
    """Frobenius norm of each step's Jacobian: (T, R, F) -> (T,)."""
    J = J.reshape(len(J), -1)
    return np.sqrt(np.einsum("ti,ti->t", J, J))


def _loss_cotangents(net: Network, x: np.ndarray, head, target, loss, mask, dtype: str) -> np.ndarray:
    """g_t = ∂loss/∂h_t (T, H) for a linear head y = W h + b, the loss averaged like training does."""
    if head is None or not all(hasattr(head, a) for a in ("weight", "bias", "readout")):
        raise LabError("head: expected a readout head (weight, bias, readout), e.g. Checkpoint.head; got "
                       f"{type(head).__name__}")
    if loss not in ("mse", "ce"):
        raise LabError(f"loss: expected 'mse' or 'ce' (a Checkpoint's task says which); got {loss!r}")
    if target is None:
        raise LabError("target: expected the target of x (what the task's y holds for this sequence); got None")
    W, b = np.asarray(head.weight, np.float64), np.asarray(head.bias, np.float64)
    T, H = len(x), net.hidden_size
    if W.shape != (len(b), H):
        raise LabError(f"head: expected weight ({len(b)}, {H}) to match the network; got {W.shape}")
    h = _forward(net, x, dtype)["h"].astype(np.float64)  # (T, H)
    n = len(b)
    y = np.asarray(target)
    if head.readout == "final":
        rows = np.array([T - 1])
        y = y.reshape(1, -1) if loss == "mse" else y.reshape(1)
    elif head.readout == "per_step":
        want = (T, n) if loss == "mse" else (T,)
        if y.shape != want and not (loss == "mse" and n == 1 and y.shape == (T,)):
            raise LabError(f"target: expected shape {want} for a per-step {loss} readout; got {y.shape}")
        y = y.reshape(T, -1) if loss == "mse" else y
        m = np.ones(T, bool) if loss == "mse" else (y >= 0)
        if mask is not None:
            m = m & np.asarray(mask, bool).reshape(T)
        rows = np.flatnonzero(m)
        y = y[rows]
    else:
        raise LabError(f"head.readout: expected 'final' or 'per_step'; got {head.readout!r}")
    if len(rows) == 0:
        raise LabError("mask: expected at least one scored step; got none")
    out = h[rows] @ W.T + b  # (N, n)
    if loss == "mse":
        y = np.asarray(y, np.float64)
        if y.shape != out.shape:
            raise LabError(f"target: expected {out.shape[1]} value(s) per scored step; got shape {np.shape(target)}")
        d_out = 2.0 * (out - y) / (n * len(rows))
    else:
        y = np.asarray(y)
        if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= n:
            raise LabError(f"target: expected class ids between 0 and {n - 1}; got {np.unique(y)[:5]}")
        p = np.exp(out - out.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(len(rows)), y.astype(np.int64)] -= 1.0
        d_out = p / len(rows)
    g = np.zeros((T, H))
    g[rows] = d_out @ W
    return g


def _forward(net: Network, x: np.ndarray, dtype: str) -> dict:
    """Every gate and state of every step, (T, H) each: the compiled trace in float32, the readable numpy
    step in float64."""
    cell = CELLS[net.kind]
    names = cell.keys
    if dtype == "float32":
        tr = trace(net, x.astype(np.float32))
        return {k: np.asarray(tr[k]) for k in names}
    p = net.params
    p64 = Params(*(None if a is None else np.asarray(a, np.float64) for a in
                   (p.weight_ih, p.weight_hh, p.bias_ih, p.bias_hh, p.peephole)))
    T, H = len(x), net.hidden_size
    prev = {k: np.zeros(H) for k in cell.states}
    out = {k: np.empty((T, H)) for k in names}
    for t in range(T):
        s = cell.step(p64, x[t], prev, net.variant, net.nonlinearity)
        prev = {k: s[k] for k in cell.states}
        for k in names:
            out[k][t] = s[k]
    return out


def _shifted(a: np.ndarray) -> np.ndarray:
    """a_{t-1} for every t (zeros at t = 0)."""
    return np.concatenate([np.zeros_like(a[:1]), a[:-1]])


def _local_derivatives(net: Network, x: np.ndarray, fw: dict, dtype: str, autograd: bool = False) -> dict:
    """Every step's elementwise derivatives (each unit's gates, cell and hidden state as functions of its own
    pre-activations and C_{t-1}; the recurrent product is the caller's), numpy arrays of `dtype`.

    LSTM: dh/dC_t, dh/dpre_o, dC_t/dpre_{i,f,g}, dC_t/dC_{t-1}. RNN: dh/dpre. GRU: dh/d(W x + b_i),
    dh/d(U h + b_h) and the direct dh_t/dh_{t-1} = z. The LSTM variants (and anything with autograd=True)
    take them by torch autograd over the readable step; the vanilla cells by their textbook derivatives
    (the same numbers, checked against each other in tests), which cost a hundredth of that."""
    if autograd or (net.kind == "lstm" and net.variant != "vanilla"):
        return _local_derivatives_autograd(net, x, fw, dtype)
    if net.kind == "lstm":
        f, i, g, o, c = (fw[k].astype(dtype, copy=False) for k in ("f", "i", "g", "o", "c"))
        tc = np.tanh(c)
        return {"dh_dc": o * (1 - tc * tc), "dh_dpre_o": tc * o * (1 - o),
                "dc_dpre": np.stack([g * i * (1 - i), _shifted(c) * f * (1 - f), i * (1 - g * g)], axis=1),
                "dc_dcprev": f}
    if net.kind == "rnn":
        h = fw["h"].astype(dtype, copy=False)
        return {"dh_dpre": (h > 0).astype(dtype) if net.nonlinearity == "relu" else 1 - h * h}
    r, z, n, h = (fw[k].astype(dtype, copy=False) for k in ("r", "z", "n", "h"))
    H, p = net.hidden_size, net.params
    h_prev = _shifted(h)
    u_n = h_prev @ np.asarray(p.weight_hh[2 * H:], dtype).T + np.asarray(p.bias_hh[2 * H:], dtype)  # U_n h + b_hn
    dn = (1 - z) * (1 - n * n)  # dh/dpre_n
    dr = dn * u_n * r * (1 - r)  # pre_n = W_n x + b_in + r * (U_n h + b_hn)
    dz = (h_prev - n) * z * (1 - z)  # h = (1 - z) n + z h_prev
    return {"dh_dgx": np.stack([dr, dz, dn], axis=1), "dh_dgh": np.stack([dr, dz, dn * r], axis=1),
            "dh_dhprev": z}


def _local_derivatives_autograd(net: Network, x: np.ndarray, fw: dict, dtype: str) -> dict:
    """_local_derivatives by torch autograd over the readable step, all steps at once: the pre-activations
    (and C_{t-1}) are made leaves and the step runs with identity input weights and no recurrent input."""
    torch, pt = _torch_params(net, dtype)
    T, H = len(x), net.hidden_size
    G = len(CELLS[net.kind].blocks)
    X = torch.from_numpy(x.astype(dtype))
    h_prev = torch.from_numpy(_shifted(fw["h"]).astype(dtype))
    eye, zeros_w, zeros_b = torch.eye(G * H, dtype=X.dtype), torch.zeros(G * H, H, dtype=X.dtype), \
        torch.zeros(G * H, dtype=X.dtype)

    def d(out, inputs):
        grads = torch.autograd.grad(out.sum(), inputs, retain_graph=True, allow_unused=True, materialize_grads=True)
        return [a.detach().numpy() for a in grads]

    if net.kind == "lstm":
        c_prev = torch.from_numpy(_shifted(fw["c"]).astype(dtype)).requires_grad_(True)
        pre = (X @ pt.weight_ih.T + h_prev @ pt.weight_hh.T + pt.bias_ih + pt.bias_hh).requires_grad_(True)
        s = lstm_step(Params(eye, zeros_w, zeros_b, zeros_b, pt.peephole), pre, torch.zeros_like(h_prev), c_prev,
                      net.variant)
        dh_pre, dh_c = d(s["h"], [pre, s["c"]])
        dc_pre, dc_cprev = d(s["c"], [pre, c_prev])
        return {"dh_dc": dh_c, "dh_dpre_o": dh_pre[:, 3 * H:], "dc_dpre": dc_pre[:, :3 * H].reshape(T, 3, H),
                "dc_dcprev": dc_cprev}
    if net.kind == "rnn":
        pre = (X @ pt.weight_ih.T + h_prev @ pt.weight_hh.T + pt.bias_ih + pt.bias_hh).requires_grad_(True)
        s = rnn_step(Params(eye, zeros_w, zeros_b, zeros_b), pre, torch.zeros_like(h_prev), net.nonlinearity)
        (dh_pre,) = d(s["h"], [pre])
        return {"dh_dpre": dh_pre}
    # GRU: the input side W x + b_i is the leaf; the recurrent side U h_{t-1} + b_h enters r and z as the
    # input side does, and the candidate through r * (U_n h_{t-1} + b_hn) (torch's definition).
    gx = (X @ pt.weight_ih.T + pt.bias_ih).requires_grad_(True)
    s = gru_step(Params(eye, pt.weight_hh, zeros_b, pt.bias_hh), gx, h_prev)
    (dh_gx,) = d(s["h"], [gx])
    dh_gx = dh_gx.reshape(T, 3, H)
    dh_gh = dh_gx.copy()
    dh_gh[:, 2] *= s["r"].detach().numpy()
    return {"dh_dgx": dh_gx, "dh_dgh": dh_gh, "dh_dhprev": s["z"].detach().numpy()}


_RESCALE_EVERY = 16  # steps between checks of the adjoint's size
_CHUNK = 128  # steps whose per-step matrices are made, and input Jacobians formed, in one go


def _fast_jacobians(net: Network, x: np.ndarray, g, split: bool, dtype: str) -> tuple:
    """(J (T, R, F), J_cell or None) by the reverse recursion; R = H output units (h_T) or 1 (a loss)."""
    T, F = x.shape
    fw = _forward(net, x, dtype)
    loc = _local_derivatives(net, x, fw, dtype)
    if _compiled(net, dtype):
        return _lstm_recursion_compiled(net, loc, g, T, F), (_cell_path_compiled(net, loc, g) if split else None)
    if net.kind != "lstm":  # numpy: the Memory page's GRU and RNN curves need no torch (1.3 s to import)
        return _gru_rnn_recursion(net, loc, g, T, F, dtype), None
    torch, pt = _torch_params(net, dtype)
    J = _lstm_recursion(torch, net, pt, loc, g, T, F, dtype)
    return J, (_cell_path(net, loc, g, T, net.hidden_size, F) if split else None)


def _compiled(net: Network, dtype: str) -> bool:
    """Whether the float32 LSTM runs the compiled loops (flow_kernels.py): they need numpy's sgemm (blas.py);
    without it, and for float64 (the reference), the recursion runs in torch."""
    return net.kind == "lstm" and dtype == "float32" and bool(blas.address("sgemm"))


def _cell_path_compiled(net: Network, loc: dict, g) -> np.ndarray:
    """_cell_path (float64) as one compiled loop."""
    from . import flow_kernels  # lazily, for start-up time (numba)

    T, H = loc["dh_dc"].shape
    F = net.input_size
    has_g = g is not None
    out = np.empty((T, 1 if has_g else H, F))
    flow_kernels.lstm_cell_path(np.ascontiguousarray(net.params.weight_ih), *(np.ascontiguousarray(loc[k]) for k in
                                ("dh_dc", "dh_dpre_o", "dc_dpre", "dc_dcprev")),
                                np.ascontiguousarray(g) if has_g else np.zeros((1, H)), has_g, out)
    return out


def _lstm_recursion_compiled(net: Network, loc: dict, g, T: int, F: int) -> np.ndarray:
    """_lstm_recursion in float32 as one compiled loop (flow_kernels.py) calling numpy's sgemm: the same
    recursion and rescaling, without a Python or torch call per step."""
    from . import flow_kernels  # lazily, for start-up time (numba; the first call compiles, later ones load the cache)

    H = net.hidden_size
    R = H if g is None else 1

    def f32(a):
        return np.ascontiguousarray(a, dtype=np.float32)

    p = net.params
    has_g = g is not None
    gg = f32(g) if has_g else np.zeros((1, H), np.float32)
    hits = np.any(g != 0, axis=1) if has_g else np.zeros(1, bool)
    J, logs = np.empty((T, R, F)), np.zeros(T)
    flow_kernels.lstm_adjoint(blas.address("sgemm"), f32(p.weight_hh), f32(p.weight_ih), f32(loc["dh_dpre_o"]),
                              f32(loc["dc_dpre"]), f32(loc["dh_dc"]), f32(loc["dc_dcprev"]), gg, has_g, hits, J, logs)
    return _unscaled(J, logs)


class _Scale:
    """Keeps an adjoint near 1 (no float32 underflow or overflow, no subnormal slowdown): the true adjoint
    is the held one times exp(log). Checked every _RESCALE_EVERY steps; an adjoint that changes by more
    than a factor 2^±60 within that many steps could still leave float32's range."""

    def __init__(self):
        self.log = 0.0

    # In-place arithmetic on numpy arrays or torch tensors alike.
    def check(self, *held) -> None:
        m = max(float(abs(a).max()) for a in held)
        if m > 0 and not 2.0**-30 < m < 2.0**30:
            for a in held:
                a /= m
            self.log += math.log(m)

    def add(self, target, cotangent, *others) -> None:
        """target += cotangent (a true-scale O(1) value) at a common scale; `others` are held with target."""
        if self.log > 0:  # the held adjoint is the larger: the cotangent joins at its scale
            target += cotangent * math.exp(-self.log)
            return
        if self.log < 0:  # the cotangent is the larger: back to the true scale (tiny values may flush to 0)
            for a in (target, *others):
                a *= math.exp(self.log)
            self.log = 0.0
        target += cotangent


def _unscaled(J: np.ndarray, logs: np.ndarray) -> np.ndarray:
    with np.errstate(under="ignore", over="ignore"):
        J *= np.exp(logs)[:, None, None]
    return J


def _lstm_recursion(torch, net: Network, pt: Params, loc: dict, g, T: int, F: int, dtype: str) -> np.ndarray:
    """The LSTM's input Jacobians (T, R, F), the adjoints held transposed: S_t = [∂out/∂h_t; ∂out/∂C_t]^T
    (2H, R), with ∂out/∂C_t counting the path through h_t too.

    Going back one step is S_{t-1} = [P_t S_t; f'_t ⊙ (S_t)_C + dh/dC_{t-1} ⊙ (P_t S_t)], where
    P_t = [U_o^T diag(dh/dpre_o) | Σ_{k=i,f,g} U_k^T diag(dC/dpre_k)] (H, 2H) folds the gates into the
    recurrent weights (f' = dC_t/dC_{t-1}): one (H, 2H) x (2H, R) product and two scalings a step. The
    P_t (and V_t, the same with the input weights, giving J_t^T = V_t S_t) are made a chunk at a time."""
    H = net.hidden_size
    R = H if g is None else 1
    tdt = pt.weight_hh.dtype
    U = [pt.weight_hh[k * H:(k + 1) * H] for k in range(4)]  # U_k (H, H), k = i, f, g, o
    W = [pt.weight_ih[k * H:(k + 1) * H] for k in range(4)]  # W_k (H, F)

    def tensor(a):
        return torch.from_numpy(np.ascontiguousarray(a, dtype=dtype))

    d_o, d_ifg = tensor(loc["dh_dpre_o"]), tensor(loc["dc_dpre"])  # (T, H), (T, 3, H)
    dh_dc = tensor(loc["dh_dc"]).unsqueeze(-1).unbind(0)  # (H, 1) per step
    dc_dcp = tensor(loc["dc_dcprev"]).unsqueeze(-1).unbind(0)
    inject = None if g is None else tensor(g).unsqueeze(-1).unbind(0)
    hits = None if g is None else np.any(g != 0, axis=1)  # the steps with a cotangent to add
    C = min(_CHUNK, T)
    S = torch.empty(C + 1, 2 * H, R, dtype=tdt)  # slot k: step c0 + k of the chunk; slot C: step c0 - 1
    S_all, S_h, S_c = S.unbind(0), [a[:H] for a in S.unbind(0)], [a[H:] for a in S.unbind(0)]
    P = torch.empty(C, 2 * H, H, dtype=tdt)  # P_t^T, V_t^T: made by scaling rows, which writes contiguously
    V = torch.empty(C, 2 * H, F, dtype=tdt)
    P_all = [a.T for a in P.unbind(0)]
    carry = torch.empty(H, R, dtype=tdt)
    J = np.empty((T, R, F))
    scale = _Scale()
    logs = np.zeros(T)  # step t's held adjoint times exp(logs[t]) is the true one
    mm, mul, addcmul = torch.mm, torch.mul, torch.addcmul
    c0 = (T - 1) // C * C  # the last chunk first
    top = T - 1 - c0
    if g is None:
        S_h[top].copy_(torch.eye(H, dtype=tdt))
    else:
        S_h[top].copy_(inject[T - 1])
    torch.mul(S_h[top], dh_dc[T - 1], out=S_c[top])
    while c0 >= 0:
        n = min(C, T - c0)
        for M, Wk in ((P, U), (V, W)):  # [diag(d_o) Wk_o; sum_k diag(d_k) Wk_k] for every step of the chunk
            torch.mul(Wk[3], d_o[c0:c0 + n, :, None], out=M[:n, :H])
            lower = M[:n, H:]
            torch.mul(Wk[0], d_ifg[c0:c0 + n, 0, :, None], out=lower)
            lower.addcmul_(Wk[1], d_ifg[c0:c0 + n, 1, :, None])
            lower.addcmul_(Wk[2], d_ifg[c0:c0 + n, 2, :, None])
        for t in range(c0 + n - 1, max(c0, 1) - 1, -1):  # step t's slot -> step t-1's slot
            k = t - c0
            j = k - 1 if k else C
            h_j = S_h[j]
            mm(P_all[k], S_all[k], out=h_j)
            mul(S_c[k], dc_dcp[t], out=carry)
            if inject is not None and hits[t - 1]:
                scale.add(h_j, inject[t - 1], carry)
            addcmul(carry, h_j, dh_dc[t - 1], out=S_c[j])
            if (t - 1) % _RESCALE_EVERY == 0:
                scale.check(S_all[j])
            logs[t - 1] = scale.log
        Jt = torch.bmm(S[:n].transpose(1, 2), V[:n])  # (n, R, F)
        J[c0:c0 + n] = Jt.double().numpy()
        if c0 > 0:
            S[C - 1].copy_(S[C])  # step c0 - 1 is the next chunk's last slot
        c0 -= C
    return _unscaled(J, logs)


def _gru_rnn_recursion(net: Network, loc: dict, g, T: int, F: int, dtype: str) -> np.ndarray:
    """The GRU's or RNN's input Jacobians (T, R, F), the adjoint ∂out/∂h_t held transposed (H, R):
    RNN: A_{t-1} = W_hh^T (dh/dpre ⊙ A_t); GRU: A_{t-1} = z ⊙ A_t + W_hh^T (dh/d(U h + b_h) ⊙ A_t).
    numpy, in `dtype`: one (H, G·H) x (G·H, R) product a step, the input Jacobians a chunk of steps at a time."""
    H, G = net.hidden_size, len(CELLS[net.kind].blocks)
    R = H if g is None else 1
    dt = np.dtype(dtype)
    W_hhT = np.ascontiguousarray(np.asarray(net.params.weight_hh, dt).T)  # (H, G·H)
    W_ihT = np.ascontiguousarray(np.asarray(net.params.weight_ih, dt).T)  # (F, G·H)

    def steps(a):  # (T, ..., H) -> (T, ..., H, 1): per step, broadcast over the adjoint's R columns
        return np.ascontiguousarray(a, dtype=dt)[..., None]

    inject = None if g is None else steps(g)
    hits = None if g is None else np.any(g != 0, axis=1)  # the steps with a cotangent to add
    A = np.eye(H, dtype=dt) if g is None else np.zeros((H, 1), dt)
    A_next = np.empty((H, R), dt)
    C = min(_CHUNK, T)
    buf = np.empty((C, G, H, R), dt)  # per step: the adjoint of the input side's pre-activations
    if net.kind == "rnn":
        d1 = steps(loc["dh_dpre"][:, None])  # (T, 1, H, 1)
    else:
        dgx, dgh, dhp = steps(loc["dh_dgx"]), steps(loc["dh_dgh"]), steps(loc["dh_dhprev"])
        gh = np.empty((G, H, R), dt)
    J = np.empty((T, R, F))
    scale = _Scale()
    logs = np.zeros(T)
    for t in range(T - 1, -1, -1):
        if inject is not None and hits[t]:
            scale.add(A, inject[t])
        k = t % C
        E = buf[k]
        if net.kind == "rnn":
            np.multiply(A, d1[t], out=E)
            np.matmul(W_hhT, E.reshape(G * H, R), out=A)
        else:
            np.multiply(A, dgx[t], out=E)
            np.multiply(A, dgh[t], out=gh)
            np.multiply(A, dhp[t], out=A_next)
            A_next += W_hhT @ gh.reshape(G * H, R)
            A, A_next = A_next, A
        logs[t] = scale.log
        if k == 0:  # the input Jacobians of the steps t .. t+n-1 in one product
            n = min(C, T - t)
            J[t:t + n] = np.matmul(W_ihT, buf[:n].reshape(n, G * H, R)).transpose(0, 2, 1)
        if t % _RESCALE_EVERY == 0:
            scale.check(A)
    return _unscaled(J, logs)


def _cell_path(net: Network, loc: dict, g, T: int, H: int, F: int) -> np.ndarray:
    """The cell-path Jacobian (T, R, F): the recursion with the h -> gates hops cut, where the adjoint of
    C_t stays diagonal (unit j of the output sees only cell j) and is a vector a_t (float64)."""
    dh_dc, dh_do, dc_dpre, dc_dcp = (np.asarray(loc[k], np.float64)
                                      for k in ("dh_dc", "dh_dpre_o", "dc_dpre", "dc_dcprev"))
    W = np.asarray(net.params.weight_ih, np.float64).reshape(4, H, F)  # per gate, per unit: its input weights
    a = np.zeros((T, H))  # ∂out/∂C_t in full along the cell path (per unit)
    inj = np.zeros((T, H))  # the cotangent of h_t: 1 for unit j of h_T at T-1, or g_t
    if g is None:
        inj[T - 1] = 1.0
    else:
        inj[:] = g
    if g is None:  # a_t = dh_T/dC_T * prod_{s=t+1}^{T-1} dC_s/dC_{s-1}
        a[T - 1] = dh_dc[T - 1]
        if T > 1:
            with np.errstate(under="ignore"):
                a[:-1] = dh_dc[T - 1] * np.cumprod(dc_dcp[:0:-1], axis=0)[::-1]
    else:
        carry = np.zeros(H)
        for t in range(T - 1, -1, -1):
            a[t] = carry + inj[t] * dh_dc[t]
            carry = a[t] * dc_dcp[t]
    coef = np.concatenate([a[:, None, :] * dc_dpre, (inj * dh_do)[:, None, :]], axis=1)  # (T, 4, H)
    rows = coef[:, 0, :, None] * W[0]  # (T, H, F): row j is output unit j's cell path (no BLAS: no threads)
    for k in range(1, 4):
        rows += coef[:, k, :, None] * W[k]
    return rows if g is None else rows.sum(axis=1, keepdims=True)


def _autograd_jacobians(net: Network, x: np.ndarray, g, split: bool, dtype: str) -> tuple:
    """(J, J_cell) by plain autograd through the readable step over R copies of the sequence."""
    torch, pt = _torch_params(net, dtype)
    T, F = x.shape
    H = net.hidden_size
    R = H if g is None else 1

    def run(cut: bool):
        X = torch.from_numpy(np.repeat(x[None].astype(dtype), R, axis=0)).requires_grad_(True)  # (R, T, F)
        h = torch.zeros(R, H, dtype=X.dtype)
        c = torch.zeros(R, H, dtype=X.dtype)
        out = 0.0
        cell = CELLS[net.kind]
        for t in range(T):
            hp = h.detach() if cut else h  # cut: every h_{t-1} -> gates_t connection
            s = cell.step(pt, X[:, t], {"h": hp, "c": c}, net.variant, net.nonlinearity)
            c = s["c"] if "c" in cell.states else c
            h = s["h"]
            if g is not None:
                out = out + (h[0] * torch.from_numpy(g[t].astype(dtype))).sum()
        if g is None:
            out = torch.diagonal(h).sum()  # Σ_j h_T[j] of copy j
        (dx,) = torch.autograd.grad(out, X)
        return dx.transpose(0, 1).double().numpy()  # (T, R, F)

    return run(False), (run(True) if split else None)


# ---------------------------------------------------------------------------------------------------
# 3. Saturation


def saturation(tr, gate: str, lo: float = 0.1, hi: float = 0.9) -> tuple:
    """Per unit, the fraction of real steps with the gate below lo and above hi: (low (H,), high (H,))."""
    if not (isinstance(lo, int | float | np.number) and isinstance(hi, int | float | np.number) and lo < hi):
        raise LabError(f"lo, hi: expected two numbers with lo < hi; got {lo!r}, {hi!r}")
    a = _rows(tr, gate, "gate")
    return (a < lo).mean(axis=0), (a > hi).mean(axis=0)


# ---------------------------------------------------------------------------------------------------
# 4. Clamped gates


@dataclass(frozen=True)
class Clamp:
    """Hold one LSTM gate at `value` for some units (None: all) over steps [start, stop) (None: all)."""

    gate: str  # "f" | "i" | "g" | "o"
    value: float
    units: tuple | list | None = None
    steps: tuple | None = None  # (start, stop), stop exclusive; either may be None


def _clamps(clamps, T: int, H: int) -> list:
    """[(gate, value, unit mask (H,), step mask (T,))] from Clamp objects or mappings with the same keys."""
    if isinstance(clamps, Clamp | Mapping):
        clamps = [clamps]
    out = []
    for k, cl in enumerate(clamps):
        if isinstance(cl, Mapping):
            try:
                cl = Clamp(**cl)
            except TypeError as e:
                raise LabError(f"clamps[{k}]: expected keys gate, value, units, steps; got {sorted(cl)} ({e})") \
                    from None
        if not isinstance(cl, Clamp):
            raise LabError(f"clamps[{k}]: expected a Clamp or a mapping; got {type(cl).__name__}")
        if cl.gate not in ("f", "i", "g", "o"):
            raise LabError(f"clamps[{k}].gate: expected one of f, i, g, o; got {cl.gate!r}")
        if isinstance(cl.value, bool) or not isinstance(cl.value, int | float | np.number) \
                or not math.isfinite(cl.value):
            raise LabError(f"clamps[{k}].value: expected a finite number; got {cl.value!r}")
        units = np.zeros(H, bool)
        if cl.units is None:
            units[:] = True
        else:
            u = np.asarray(list(cl.units))
            if u.size and (not np.issubdtype(u.dtype, np.integer) or u.min() < 0 or u.max() >= H):
                raise LabError(f"clamps[{k}].units: expected unit numbers between 0 and {H - 1}; got {list(cl.units)}")
            units[u.astype(np.int64)] = True
        start, stop = (None, None) if cl.steps is None else tuple(cl.steps)
        start, stop = 0 if start is None else start, T if stop is None else stop
        if not (isinstance(start, int | np.integer) and isinstance(stop, int | np.integer) and 0 <= start <= stop <= T):
            raise LabError(f"clamps[{k}].steps: expected (start, stop) with 0 <= start <= stop <= {T}; "
                           f"got {cl.steps!r}")
        steps = np.zeros(T, bool)
        steps[start:stop] = True
        out.append((cl.gate, float(cl.value), units, steps))
    return out


def clamped_trace(model, x, clamps, dtype: str = "float32") -> dict:
    """An LSTM run by the readable numpy step with gates held by `clamps`: {f, i, g, c, o, h} each (T, H)."""
    net, _, _ = _unpack(model)
    if net.kind != "lstm":
        raise LabError(f"model: expected an LSTM (gates f, i, g, o to clamp); got a {net.kind.upper()}")
    xa = _sequence(x, net).astype(_dtype(dtype))
    T, H = len(xa), net.hidden_size
    rules = _clamps(clamps, T, H)
    p = net.params
    p = Params(*(None if a is None else np.asarray(a, dtype) for a in
                 (p.weight_ih, p.weight_hh, p.bias_ih, p.bias_hh, p.peephole)))
    v = net.variant
    out = {k: np.empty((T, H), dtype) for k in ("f", "i", "g", "c", "o", "h")}
    h, c = np.zeros(H, dtype), np.zeros(H, dtype)
    for t in range(T):
        s = lstm_step(p, xa[t], h, c, v)
        active = [(gate, val, units) for gate, val, units, steps in rules if steps[t]]
        if not active:
            vals = {k: s[k] for k in out}
        else:
            def held(name, a, active=active):
                a = np.array(a, dtype)
                for gate, val, units in active:
                    if gate == name:
                        a[units] = val
                return a

            f = held("f", s["f"])
            i = held("i", (1 - f) if v == "cifg" else s["i"])  # cifg: the input gate follows the (held) forget gate
            g = held("g", s["g"])
            c_new = f * c + i * g  # C_t = f_t * C_{t-1} + i_t * C~_t
            o = s["o"]
            if v == "peephole":  # the output gate sees the new cell state
                o = sigmoid(s["pre_o"] + p.peephole[2] * (c_new - s["c"]))
            o = held("o", o)
            h_new = o * (c_new if v == "noaf" else np.tanh(c_new))  # h_t = o_t * tanh(C_t)
            vals = {"f": f, "i": i, "g": g, "c": c_new, "o": o, "h": h_new}
        for k in out:
            out[k][t] = vals[k]
        h, c = out["h"][t], out["c"][t]
    return out


# ---------------------------------------------------------------------------------------------------
# 5. State PCA, 6. forget times


def state_pca(tr, which: str = "h", k: int = 2) -> tuple:
    """The states on their first k principal components, (T, k) or (B, T, k), and the explained variance ratios (k,)."""
    a = _quantity(tr, which, "which")
    H = a.shape[-1]
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= H:
        raise LabError(f"k: expected a whole number between 1 and {H}; got {k!r}")
    mask = getattr(tr, "mask", None) if a.ndim == 3 else None
    rows = _real(a, mask)
    if len(rows) < 2:
        raise LabError(f"which: expected at least two real steps of {which!r}; got {len(rows)}")
    mean = rows.mean(axis=0)
    _, sv, vt = np.linalg.svd(rows - mean, full_matrices=False)
    comps = vt[:k]
    # sign convention: each component's largest-magnitude loading is positive
    signs = np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(axis=1)])
    comps = comps * np.where(signs == 0, 1.0, signs)[:, None]
    var = sv**2
    total = var.sum()
    ratio = var[:k] / total if total > 0 else np.zeros(k)
    if len(ratio) < k:  # fewer rows than k
        ratio = np.concatenate([ratio, np.zeros(k - len(ratio))])
        comps = np.vstack([comps, np.zeros((k - len(comps), H))])
    proj = (np.asarray(a, np.float64) - mean) @ comps.T
    if mask is not None:
        proj[~np.asarray(mask, bool)] = np.nan
    return proj, ratio


def forget_time(tr, gate: str = "f") -> np.ndarray:
    """τ_j = 1 / (1 - mean f_j) per unit over real steps, in steps (inf where the gate stays at 1)."""
    mean = _rows(tr, gate, "gate").mean(axis=0)
    with np.errstate(divide="ignore"):
        return np.where(mean >= 1.0, np.inf, 1.0 / np.maximum(1.0 - mean, 0.0))


# ---------------------------------------------------------------------------------------------------
# 7. Probes and memory capacity


PROBE_KINDS = ("linear", "mlp", "logistic", "softmax_mlp")
LOGISTIC_ALPHAS = (1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0)  # the L2 strengths a logistic probe chooses among


def _probe_data(states, target, where) -> tuple:
    """states (B, T, H), target (B, T, D), where (B, T) bool, all float64 / bool."""
    S = np.asarray(states, np.float64)
    Y = np.asarray(target, np.float64)
    if S.ndim not in (2, 3) or S.shape[-1] < 1 or S.shape[-2] < 2:
        raise LabError(f"states: expected (T, H) or (B, T, H) with T >= 2; got shape {S.shape}")
    lead = S.shape[:-1]
    if Y.shape == lead:
        Y = Y[..., None]
    if Y.ndim != S.ndim or Y.shape[:-1] != lead:
        raise LabError(f"target: expected shape {lead} or {(*lead, 'D')} to match the states; got {np.shape(target)}")
    W = np.ones(lead, bool) if where is None else np.asarray(where, bool)
    if W.shape != lead:
        raise LabError(f"where: expected a bool array of shape {lead}; got {np.shape(where)}")
    if S.ndim == 2:
        S, Y, W = S[None], Y[None], W[None]
    return S, Y, W


def _r2(y: np.ndarray, pred: np.ndarray) -> float:
    """Pooled R² over the target's columns (= variance-weighted), relative to the test mean. For a one-hot
    target and predicted class probabilities this is the Brier skill score against the test's class rates."""
    ss_tot = ((y - y.mean(axis=0)) ** 2).sum()
    if ss_tot <= 0:
        return float("nan")
    return float(1.0 - ((y - pred) ** 2).sum() / ss_tot)


def _ridge(Xtr, Ytr, Xte, alpha: float) -> np.ndarray:
    mx, my = Xtr.mean(axis=0), Ytr.mean(axis=0)
    Xc = Xtr - mx
    A = Xc.T @ Xc
    lam = alpha * max(np.trace(A) / A.shape[0], 1e-300)
    Wt = np.linalg.solve(A + lam * np.eye(A.shape[0]), Xc.T @ (Ytr - my))
    return (Xte - mx) @ Wt + my


def _adam(params: list, grads: list, m: list, v: list, step: int, lr: float) -> None:
    for q, gq, mq, vq in zip(params, grads, m, v, strict=True):
        mq *= 0.9
        mq += 0.1 * gq
        vq *= 0.999
        vq += 0.001 * gq**2
        q -= lr * (mq / (1 - 0.9**step)) / (np.sqrt(vq / (1 - 0.999**step)) + 1e-8)


def _mlp(Xtr, Ytr, Xte, seed: int, hidden: int = 32, steps: int = 400, lr: float = 0.01,
         decay: float = 1e-4) -> np.ndarray:
    """A one-hidden-layer tanh network, full-batch Adam, standardised inputs and targets; numpy, seeded."""
    rng = np.random.default_rng(seed)
    mx, sx = Xtr.mean(axis=0), Xtr.std(axis=0) + 1e-8
    my, sy = Ytr.mean(axis=0), Ytr.std(axis=0) + 1e-8
    X, Y = (Xtr - mx) / sx, (Ytr - my) / sy
    n, d = X.shape
    params = [rng.standard_normal((d, hidden)) / math.sqrt(d), np.zeros(hidden),
              rng.standard_normal((hidden, Y.shape[1])) / math.sqrt(hidden), np.zeros(Y.shape[1])]
    m = [np.zeros_like(q) for q in params]
    v = [np.zeros_like(q) for q in params]
    for step in range(1, steps + 1):
        W1, b1, W2, b2 = params
        z = np.tanh(X @ W1 + b1)
        err = (z @ W2 + b2 - Y) * (2.0 / n)
        dz = (err @ W2.T) * (1 - z**2)
        _adam(params, [X.T @ dz + decay * W1, dz.sum(axis=0), z.T @ err + decay * W2, err.sum(axis=0)], m, v,
              step, lr)
    W1, b1, W2, b2 = params
    return (np.tanh(((Xte - mx) / sx) @ W1 + b1) @ W2 + b2) * sy + my


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _cross_entropy(Y: np.ndarray, P: np.ndarray) -> float:
    return float(-(Y * np.log(np.maximum(P, 1e-300))).sum(axis=1).mean())


def _logistic_fit(X, Y, lam: float, iters: int = 500, memory: int = 10, start: tuple | None = None,
                  tol: float = 1e-5) -> tuple:
    """Multinomial logistic regression: minimise mean_n CE(y_n, softmax(x_n W + b)) + lam/2 ‖W‖² (b free) by
    L-BFGS with a backtracking (Armijo) line search, from zero or from `start` = (W, b), until every partial
    derivative is below `tol` (or `iters` steps). X (n, d), Y (n, D) rows of class probabilities. Returns
    (W (d, D), b (D,)). For lam > 0 the optimum's W and probabilities are unique (b up to a constant shared by
    every class); the start changes only how fast it is reached."""
    n, d = X.shape
    D = Y.shape[1]

    def f(w):
        W, b = w[: d * D].reshape(d, D), w[d * D:]
        Z = X @ W + b
        Z -= Z.max(axis=1, keepdims=True)
        E = np.exp(Z)
        total = E.sum(axis=1)
        loss = float((np.log(total) - (Y * Z).sum(axis=1)).mean() + 0.5 * lam * (W * W).sum())
        G = (E / total[:, None] - Y) / n
        return loss, np.concatenate([(X.T @ G + lam * W).ravel(), G.sum(axis=0)])

    w = np.zeros(d * D + D) if start is None else np.concatenate([np.ravel(start[0]), start[1]])
    fw, g = f(w)
    S, Yd = [], []
    for _ in range(iters):
        q, a = g.copy(), []
        for s, y in zip(reversed(S), reversed(Yd), strict=True):
            a.append((s @ q) / (y @ s))
            q -= a[-1] * y
        if S:
            q *= (S[-1] @ Yd[-1]) / (Yd[-1] @ Yd[-1])
        for s, y, ak in zip(S, Yd, reversed(a), strict=True):
            q += s * (ak - (y @ q) / (y @ s))
        p = -q
        if g @ p >= 0:  # not a descent direction: restart from the gradient
            p, S, Yd = -g, [], []
        t = 1.0
        while True:
            f2, g2 = f(w + t * p)
            if f2 <= fw + 1e-4 * t * (g @ p) or t < 1e-10:
                break
            t *= 0.5
        s, y = t * p, g2 - g
        if s @ y > 1e-12:
            S.append(s)
            Yd.append(y)
            if len(S) > memory:
                S.pop(0)
                Yd.pop(0)
        w, fw, g = w + s, f2, g2
        if np.abs(g).max() < tol:
            break
    return w[: d * D].reshape(d, D), w[d * D:]


def _validation_split(n: int, seed: int) -> tuple:
    """A seeded fifth of the training rows to choose a probe's regularisation on (and stop early on)."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = max(1, n // 5)
    return order[n_val:], order[:n_val]


def _classes(Ytr: np.ndarray) -> np.ndarray:
    """The target columns seen in training (a class never seen gets probability 0: its bias would run away)."""
    return np.flatnonzero(Ytr.sum(axis=0) > 0)


def _class_problem(Xtr, Ytr, Xte) -> tuple:
    """What the class probes share: the states standardised on the training rows (A train, B test), the
    classes seen in training (`cols`) and their targets `Yc`, and the (test, all classes) probabilities to fill
    (a class never seen gets 0; with one class seen it already has probability 1)."""
    mx, sx = Xtr.mean(axis=0), Xtr.std(axis=0) + 1e-8
    cols = _classes(Ytr)
    out = np.zeros((len(Xte), Ytr.shape[1]))
    if len(cols) == 1:
        out[:, cols] = 1.0
    return (Xtr - mx) / sx, (Xte - mx) / sx, cols, Ytr[:, cols], out


def _logistic(Xtr, Ytr, Xte, seed: int, alpha: float | None = None) -> np.ndarray:
    """Class probabilities of a multinomial logistic (softmax) probe on standardised states. alpha None: the
    L2 strength is the one of LOGISTIC_ALPHAS with the lowest cross-entropy on a seeded fifth of the training
    rows, then the probe is refitted on all of them."""
    A, B, cols, Yc, out = _class_problem(Xtr, Ytr, Xte)
    if len(cols) == 1:  # one class seen in training: it is certain
        return out
    start = None
    if alpha is None:  # from the strongest penalty down, each fit starting from the last one's optimum
        fit, val = _validation_split(len(A), seed)
        best = (np.inf, None, None)
        for lam in sorted(LOGISTIC_ALPHAS, reverse=True):
            W, b = _logistic_fit(A[fit], Yc[fit], lam, start=start)
            start = (W, b)
            loss = _cross_entropy(Yc[val], _softmax(A[val] @ W + b))
            if loss < best[0]:
                best = (loss, lam, start)
        _, alpha, start = best
    W, b = _logistic_fit(A, Yc, alpha, start=start)
    out[:, cols] = _softmax(B @ W + b)
    return out


def _softmax_mlp(Xtr, Ytr, Xte, seed: int, hidden: int = 64, steps: int = 2000, lr: float = 0.01,
                 decays: tuple = (1e-4, 1e-3, 1e-2), patience: int = 200) -> np.ndarray:
    """Class probabilities of a one-hidden-layer tanh MLP with a softmax output, trained on the cross-entropy
    by full-batch Adam on standardised states, numpy, seeded: for each weight decay of `decays` it trains on
    four fifths of the training rows and keeps the weights with the lowest cross-entropy on the other fifth
    (checked every 10 steps, stopping `patience` steps after the best); the decay whose best is lowest wins."""
    A, B, cols, Yc, out = _class_problem(Xtr, Ytr, Xte)
    if len(cols) == 1:  # one class seen in training: it is certain
        return out
    fit, val = _validation_split(len(A), seed)
    X, Y = A[fit], Yc[fit]
    n, d = X.shape
    D = Y.shape[1]

    def run(params, Z):
        return _softmax(np.tanh(Z @ params[0] + params[1]) @ params[2] + params[3])

    best = (np.inf, None)
    for decay in decays:
        rng = np.random.default_rng(seed)
        params = [rng.standard_normal((d, hidden)) / math.sqrt(d), np.zeros(hidden),
                  rng.standard_normal((hidden, D)) * (0.1 / math.sqrt(hidden)), np.zeros(D)]
        m = [np.zeros_like(q) for q in params]
        v = [np.zeros_like(q) for q in params]
        low, low_at, kept = np.inf, 0, None
        for step in range(1, steps + 1):
            W1, b1, W2, b2 = params
            z = np.tanh(X @ W1 + b1)
            err = (_softmax(z @ W2 + b2) - Y) / n
            dz = (err @ W2.T) * (1 - z**2)
            _adam(params, [X.T @ dz + decay * W1, dz.sum(axis=0), z.T @ err + decay * W2, err.sum(axis=0)], m, v,
                  step, lr)
            if step % 10 == 0:
                loss = _cross_entropy(Yc[val], run(params, A[val]))
                if loss < low:
                    low, low_at, kept = loss, step, [q.copy() for q in params]
                elif step - low_at > patience:
                    break
        if low < best[0]:
            best = (low, kept)
    out[:, cols] = run(best[1], B)
    return out


def _check_probabilities(rows: np.ndarray, kind: str) -> None:
    """rows (N, D): the target rows a class-predicting probe learns from."""
    rows = rows[np.isfinite(rows).all(axis=1)]
    if rows.shape[-1] < 2 or (rows < -1e-9).any() or not np.allclose(rows.sum(axis=1), 1.0, atol=1e-6):
        raise LabError(f"target: kind {kind!r} predicts classes, so it expects one-hot rows (or class "
                       f"probabilities: >= 0, summing to 1) over D >= 2 columns where it is probed; got D = "
                       f"{rows.shape[-1]}" + ("" if rows.shape[-1] < 2 else " with rows that are not probabilities"))


def _train_sequences(B: int, seed: int, train_frac: float) -> np.ndarray:
    """(B,) bool: the sequences a batched probe trains on (a seeded random train_frac of them; the rest test)."""
    order = np.random.default_rng(seed).permutation(B)
    train = np.zeros(B, bool)
    train[order[: min(B - 1, max(1, round(train_frac * B)))]] = True
    return train


def _probe_predictions(states, target, lags, kind: str, seed: int, train_frac: float, where, alpha):
    """For each lag: (held-out targets, held-out predictions), or None where too few rows; checks arguments."""
    if kind not in PROBE_KINDS:
        raise LabError(f"kind: expected one of {', '.join(map(repr, PROBE_KINDS))}; got {kind!r}")
    if not (isinstance(train_frac, int | float | np.number) and 0 < train_frac < 1):
        raise LabError(f"train_frac: expected a number between 0 and 1 (exclusive); got {train_frac!r}")
    if alpha is not None and not (isinstance(alpha, int | float | np.number) and alpha >= 0):
        raise LabError(f"alpha: expected a number >= 0 (or None: the kind's default); got {alpha!r}")
    if kind == "logistic" and alpha is not None and alpha <= 0:
        raise LabError(f"alpha: a logistic probe needs an L2 strength > 0 (or None: chosen on held-back rows); "
                       f"got {alpha!r}")
    batched = np.ndim(states) == 3
    S, Y, W = _probe_data(states, target, where)
    if kind in ("logistic", "softmax_mlp"):
        _check_probabilities(Y[W], kind)  # the rows `where` marks: the ones probed
    B, T, _ = S.shape
    lags = [int(k) for k in lags]
    if not lags or min(lags) < 0 or max(lags) >= T:
        more = "..." if len(lags) > 3 else ""
        raise LabError(f"lags: expected whole numbers between 0 and {T - 1}; got {lags[:3]}{more}")
    if batched:  # split by sequence, in a seeded random order
        if B < 2:
            raise LabError(f"states: expected at least 2 sequences to split by sequence; got {B}")
        train_seq = _train_sequences(B, seed, train_frac)
    else:  # one sequence: split in time (the states' step)
        cut = min(T - 1, max(1, round(train_frac * T)))
    out = []
    for k in lags:
        b, t = np.nonzero(W[:, : T - k])  # source steps t of the target; states at t + k
        xs, ys = S[b, t + k], Y[b, t]
        ok = np.isfinite(xs).all(axis=1) & np.isfinite(ys).all(axis=1)
        in_train = train_seq[b] if batched else (t + k) < cut
        tr, te = in_train & ok, ~in_train & ok
        if tr.sum() < 2 or te.sum() < 2:
            out.append(None)
            continue
        if kind == "linear":
            pred = _ridge(xs[tr], ys[tr], xs[te], 1e-6 if alpha is None else alpha)
        elif kind == "mlp":
            pred = _mlp(xs[tr], ys[tr], xs[te], seed)
        elif kind == "logistic":
            pred = _logistic(xs[tr], ys[tr], xs[te], seed, alpha)
        else:
            pred = _softmax_mlp(xs[tr], ys[tr], xs[te], seed)
        out.append((ys[te], pred))
    return out


def _score(pair, score: str) -> float:
    if pair is None:
        return float("nan")
    y, pred = pair
    if score == "r2":
        return _r2(y, pred)
    return float((pred.argmax(axis=1) == y.argmax(axis=1)).mean())


def probe_lags(states, target, lags: Iterable[int] = range(10), kind: str = "linear", seed: int = 0,
               train_frac: float = 0.7, where=None, alpha: float | None = None, score: str = "r2") -> np.ndarray:
    """Held-out R² (or argmax accuracy) of decoding target_{t-k} from states_t, per lag k.

    kind: "linear" (ridge, alpha default 1e-6 of the mean eigenvalue), "mlp" (a small tanh MLP regressing the
    standardised target), "logistic" (multinomial logistic / softmax regression; alpha is its L2 strength on
    standardised states, None: chosen among LOGISTIC_ALPHAS on a seeded fifth of the training rows) or
    "softmax_mlp" (a tanh MLP with a softmax output trained on the cross-entropy, weight decay and stopping
    step chosen on a seeded fifth of the training rows). The last two predict classes: the target must be
    one-hot (or class probabilities), and their R² scores the predicted probabilities against the one-hot
    target — the Brier skill score, 1 − Σ‖y − p‖² / Σ‖y − ȳ‖² with ȳ the test rows' class rates (0: the
    base rates; 1: every class certain and right). Every kind's R² is this pooled one.
    """
    if score not in ("r2", "accuracy"):
        raise LabError(f"score: expected 'r2' or 'accuracy'; got {score!r}")
    columns = np.shape(target)[-1] if np.ndim(target) == np.ndim(states) else 1
    if score == "accuracy" and columns < 2:
        raise LabError(f"score: 'accuracy' compares argmaxes of a one-hot target (D >= 2 columns); got D = {columns}")
    pairs = _probe_predictions(states, target, lags, kind, seed, train_frac, where, alpha)
    return np.array([_score(p, score) for p in pairs])


def memory_capacity(r2) -> float:
    """Jaeger's (2001) memory capacity Σ_k R²_k, each lag's held-out R² clipped to [0, 1] (NaN counts 0)."""
    a = np.asarray(r2, np.float64)
    if a.ndim != 1:
        raise LabError(f"r2: expected one R² per lag, shape (K,); got shape {a.shape}")
    return float(np.clip(np.nan_to_num(a, nan=0.0), 0.0, 1.0).sum())


# The delayed-recall task ("copy"): where "decoding the delayed symbol at the delay" looks.
RECALL_AT = {
    "recall": "the step the task asks for symbol j back, j + k + delay + 1 (lag k + delay + 1 for every symbol)",
    "go": "the go cue, step k + delay (lag k + delay − j): the end of the blank stretch, before any recall",
    "delay": "step j + delay (lag = delay): inside the blank stretch for every symbol",
}
RECALL_STATES = ("h", "c", "h+c")


@dataclass(frozen=True)
class RecallProbe:
    """Held-out decoding of the delayed-recall task's symbols from the model's state (see recall_probe).

    r2 / accuracy: one probe per symbol j = 0..k-1 (k,); r2_all / accuracy_all: one probe for all k symbols
    at once (at="recall" and "delay", where every symbol sits at the same lag; NaN at "go"); head_r2 /
    head_accuracy: the model's own readout at the recall steps on the same held-out sequences (None without a
    head over the alphabet). steps, lags: (k,) the state's step and its distance from symbol j's step."""

    kind: str
    which: str
    at: str
    k: int
    delay: int
    alphabet: int
    steps: np.ndarray
    lags: np.ndarray
    r2: np.ndarray
    accuracy: np.ndarray
    r2_all: float
    accuracy_all: float
    head_r2: np.ndarray | None
    head_accuracy: np.ndarray | None
    n_train: int
    n_test: int
    seed: int


def recall_steps(k: int, delay: int, at: str = "recall") -> np.ndarray:
    """The step whose state is probed for each symbol j = 0..k-1 of the delayed-recall task (k symbols at
    steps 0..k-1, `delay` blank steps, the go cue at step k + delay, recall over k + delay + 1 .. 2k + delay).
    "At the delay" (at="recall") is the step where the task asks for symbol j back: j + k + delay + 1, the same
    lag, k + delay + 1, for every symbol (what tasks.longest_dependency calls the task's dependency)."""
    if at not in RECALL_AT:
        raise LabError(f"at: expected one of {', '.join(map(repr, RECALL_AT))}; got {at!r}")
    j = np.arange(k)
    return {"recall": j + k + delay + 1, "go": np.full(k, k + delay), "delay": j + delay}[at]


def recall_probe(model, *, kind: str = "logistic", which: str = "h", at: str = "recall", n: int = 1000,
                 seed: int = 0, train_frac: float = 0.7, delay: int | None = None, k: int | None = None,
                 alphabet: int | None = None) -> RecallProbe:
    """Can a probe read each delayed symbol of the copy task off the model's state at the delay?

    Generates n sequences of task "copy" (seed `seed`; k, alphabet and delay default to the ones the model was
    trained with, else the task's 5, 8 and 50), runs the model, and decodes the one-hot symbol j from the
    state (`which`: "h", "c" or both concatenated, "h+c") at recall_steps(k, delay, at) with probe_lags (kind,
    seed; split by sequence, train_frac of them train). R² scores the held-out predictions against the
    one-hot symbol (for "logistic" and "softmax_mlp": the Brier skill score of the predicted probabilities)."""
    net, head, _ = _unpack(model)
    if which not in RECALL_STATES:
        raise LabError(f"which: expected one of {', '.join(map(repr, RECALL_STATES))}; got {which!r}")
    if which != "h" and net.kind != "lstm":
        raise LabError(f"which: {which!r} needs a cell state, which an LSTM has; got a {net.kind.upper()}")
    if not (isinstance(n, int | np.integer) and n >= 4):
        raise LabError(f"n: expected a whole number of sequences >= 4; got {n!r}")
    task = getattr(model, "task", None) or {}
    own = dict(task.get("params") or {}) if task.get("name") == "copy" else {}
    params = {"k": own.get("k", 5) if k is None else k, "alphabet": own.get("alphabet", 8) if alphabet is None
              else alphabet, "delay": own.get("delay", 50) if delay is None else delay}
    data = make_task("copy", int(n), None, seed, **params)
    K, A, D = data.params.get("k", params["k"]), params["alphabet"], params["delay"]
    if net.input_size != A + 2:
        raise LabError(f"model: expected {A + 2} inputs (the copy task's {A} symbols, blank and go cue); got "
                       f"{net.input_size}")
    steps = recall_steps(K, D, at)
    x = data.x
    norm = getattr(model, "normalisation", None)
    if norm is not None:
        x = norm.apply(x)
    tr = trace(net, x)
    states = np.concatenate([tr[q] for q in ("h", "c")], axis=-1) if which == "h+c" else tr[which]
    target = np.asarray(data.x[..., :A], np.float64)  # the one-hot symbol (zero rows elsewhere: never probed)
    B, T = target.shape[:2]
    r2, acc = np.full(K, np.nan), np.full(K, np.nan)
    for j in range(K):
        where = np.zeros((B, T), bool)
        where[:, j] = True
        (pair,) = _probe_predictions(states, target, [int(steps[j] - j)], kind, seed, train_frac, where, None)
        r2[j], acc[j] = _score(pair, "r2"), _score(pair, "accuracy")
    r2_all = acc_all = float("nan")
    if at != "go":
        where = np.zeros((B, T), bool)
        where[:, :K] = True
        (pair,) = _probe_predictions(states, target, [int(steps[0])], kind, seed, train_frac, where, None)
        r2_all, acc_all = _score(pair, "r2"), _score(pair, "accuracy")
    test = ~_train_sequences(B, seed, train_frac)
    head_r2 = head_acc = None
    weight = getattr(head, "weight", None)
    if weight is not None and np.shape(weight)[0] == A:
        recall = recall_steps(K, D, "recall")
        logits = np.asarray(tr["h"], np.float64)[test][:, recall] @ np.asarray(weight, np.float64).T + head.bias
        P = np.exp(logits - logits.max(axis=-1, keepdims=True))
        P /= P.sum(axis=-1, keepdims=True)
        Y = target[test][:, np.arange(K)]
        head_r2 = np.array([_r2(Y[:, j], P[:, j]) for j in range(K)])
        head_acc = (P.argmax(-1) == Y.argmax(-1)).mean(axis=0)
    return RecallProbe(kind, which, at, K, D, A, steps, steps - np.arange(K), r2, acc, r2_all, acc_all, head_r2,
                       head_acc, int((~test).sum()), int(test.sum()), seed)


# ---------------------------------------------------------------------------------------------------
# 8. Interpretable units


def interpretable_units(tr, property_values, which: str = "c") -> tuple:
    """Units ranked by |Pearson r| of trace[which] with a per-step property: (units (H,), r (H,) in that order)."""
    a = _quantity(tr, which, "which")
    prop = np.asarray(property_values, np.float64)
    if prop.shape != a.shape[:-1]:
        raise LabError(f"property_values: expected one value per step, shape {a.shape[:-1]}; got {prop.shape}")
    both = np.concatenate([np.asarray(a, np.float64), prop[..., None]], axis=-1)
    rows = _real(both, getattr(tr, "mask", None) if a.ndim == 3 else None)
    if len(rows) < 2:
        raise LabError(f"which: expected at least two real steps; got {len(rows)}")
    X, p = rows[:, :-1], rows[:, -1]
    Xc, pc = X - X.mean(axis=0), p - p.mean()
    den = np.sqrt((Xc**2).sum(axis=0) * (pc**2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(den > 0, (Xc * pc[:, None]).sum(axis=0) / np.where(den > 0, den, 1.0), 0.0)
    units = np.argsort(-np.abs(r), kind="stable")
    return units, r[units]
