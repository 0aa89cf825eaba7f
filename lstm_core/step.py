"""One time step of each cell, written the way the seed notes write it, one line per equation.

These functions are the readable definition of every cell in the project. They work on numpy arrays
(the equation panel, the reference in tests) and on torch tensors (training the LSTM variants, which
have no fused kernel), with any leading batch shape: x_t (..., F), h_prev and c_prev (..., H).
The fast whole-sequence path lives in trace.py and is tested against these.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import choose

# The LSTM variants of Greff et al. (2017), "LSTM: A Search Space Odyssey", by name.
VARIANTS = {
    "vanilla": "standard LSTM, as torch.nn.LSTM",
    "peephole": "gates also see the cell state through diagonal peephole weights p_i, p_f, p_o",
    "cifg": "coupled input and forget gate: i_t = 1 - f_t",
    "nfg": "no forget gate: f_t = 1 (the cell only accumulates)",
    "nig": "no input gate: i_t = 1 (every candidate is written)",
    "nog": "no output gate: o_t = 1 (the whole cell is revealed)",
    "niaf": "no input activation function: the candidate is not squashed by tanh",
    "noaf": "no output activation function: h_t = o_t * C_t, without tanh",
}


def _torch_of(a):
    """The torch module if `a` is a torch tensor, else None.

    A numpy array never touches torch (its type is checked first), so tracing needs no torch. A tensor
    gets torch by a real import, never from sys.modules: while another thread imports torch for the first
    time, sys.modules holds a half-initialised module (no `Tensor` yet), and `import` waits for it."""
    if isinstance(a, np.ndarray | np.generic):
        return None
    if not any(c.__name__ == "Tensor" and c.__module__ == "torch" for c in type(a).__mro__):
        return None  # a Python number or a non-torch array
    import torch  # already loaded: whoever made the tensor imported it

    return torch


def sigmoid(z):
    """Logistic sigmoid, stable for large |z| in numpy, torch's own for tensors."""
    torch = _torch_of(z)
    if torch is not None:
        return torch.sigmoid(z)
    return np.exp(-np.logaddexp(np.zeros((), dtype=z.dtype), -z)).astype(z.dtype, copy=False)


def tanh(z):
    torch = _torch_of(z)
    return torch.tanh(z) if torch is not None else np.tanh(z)


def relu(z):
    torch = _torch_of(z)
    return torch.relu(z) if torch is not None else np.maximum(z, 0)


def ones_like(z):
    torch = _torch_of(z)
    return torch.ones_like(z) if torch is not None else np.ones_like(z)


def split(w, n: int) -> tuple:
    """Split torch's stacked gate weights (n*H, ...) into n blocks of H rows, in torch's gate order."""
    h = w.shape[0] // n
    return tuple(w[k * h : (k + 1) * h] for k in range(n))


@dataclass(frozen=True)
class Params:
    """One layer's weights in torch.nn's layout (gate order LSTM i,f,g,o; GRU r,z,n)."""

    weight_ih: object  # (G*H, F)
    weight_hh: object  # (G*H, H)
    bias_ih: object  # (G*H,)
    bias_hh: object  # (G*H,)
    peephole: object = None  # (3, H): p_i, p_f, p_o, peephole LSTM only

    @property
    def hidden_size(self) -> int:
        return self.weight_hh.shape[1]

    @property
    def input_size(self) -> int:
        return self.weight_ih.shape[1]


@dataclass(frozen=True)
class Step:
    """Everything one step computes, by the seed's names. Gates a variant removes are constants."""

    values: dict

    def __getitem__(self, name):
        return self.values[name]

    def __contains__(self, name):
        return name in self.values

    def keys(self):
        return self.values.keys()


def lstm_step(p: Params, x_t, h_prev, c_prev, variant: str = "vanilla") -> Step:
    """One LSTM step, in the seed's order: forget, input, candidate, cell update, output, hidden."""
    choose("LSTM variant", variant, VARIANTS)
    W_i, W_f, W_g, W_o = split(p.weight_ih, 4)  # each (H, F)
    U_i, U_f, U_g, U_o = split(p.weight_hh, 4)  # each (H, H)
    b_i, b_f, b_g, b_o = split(p.bias_ih + p.bias_hh, 4)  # each (H,)
    peep = variant == "peephole"
    if peep:
        p_i, p_f, p_o = p.peephole[0], p.peephole[1], p.peephole[2]
    v = {}

    # f_t = sigmoid(W_f [h_{t-1}, x_t] + b_f)            (+ p_f * C_{t-1} with peepholes)
    v["pre_f"] = x_t @ W_f.T + h_prev @ U_f.T + b_f + (p_f * c_prev if peep else 0)
    v["f"] = ones_like(v["pre_f"]) if variant == "nfg" else sigmoid(v["pre_f"])
    # i_t = sigmoid(W_i [h_{t-1}, x_t] + b_i)            (cifg: 1 - f_t; nig: 1)
    v["pre_i"] = x_t @ W_i.T + h_prev @ U_i.T + b_i + (p_i * c_prev if peep else 0)
    if variant == "cifg":
        v["i"] = 1 - v["f"]
    elif variant == "nig":
        v["i"] = ones_like(v["pre_i"])
    else:
        v["i"] = sigmoid(v["pre_i"])
    # C~_t = tanh(W_c [h_{t-1}, x_t] + b_c)              (niaf: no tanh)
    v["pre_g"] = x_t @ W_g.T + h_prev @ U_g.T + b_g
    v["g"] = v["pre_g"] if variant == "niaf" else tanh(v["pre_g"])
    # C_t = f_t * C_{t-1} + i_t * C~_t
    v["c"] = v["f"] * c_prev + v["i"] * v["g"]
    # o_t = sigmoid(W_o [h_{t-1}, x_t] + b_o)            (+ p_o * C_t with peepholes; nog: 1)
    v["pre_o"] = x_t @ W_o.T + h_prev @ U_o.T + b_o + (p_o * v["c"] if peep else 0)
    v["o"] = ones_like(v["pre_o"]) if variant == "nog" else sigmoid(v["pre_o"])
    # h_t = o_t * tanh(C_t)                              (noaf: o_t * C_t)
    v["h"] = v["o"] * (v["c"] if variant == "noaf" else tanh(v["c"]))

    for gone, name in (("nfg", "f"), ("cifg", "i"), ("nig", "i"), ("nog", "o")):
        if variant == gone:  # a removed or derived gate has no pre-activation of its own
            del v["pre_" + name]
    return Step(v)


def gru_step(p: Params, x_t, h_prev) -> Step:
    """One GRU step as torch.nn.GRU defines it (the reset gate acts on U_n h_{t-1} + b_hn)."""
    W_r, W_z, W_n = split(p.weight_ih, 3)  # each (H, F)
    U_r, U_z, U_n = split(p.weight_hh, 3)  # each (H, H)
    b_ir, b_iz, b_in = split(p.bias_ih, 3)
    b_hr, b_hz, b_hn = split(p.bias_hh, 3)
    v = {}
    v["pre_r"] = x_t @ W_r.T + b_ir + h_prev @ U_r.T + b_hr
    v["r"] = sigmoid(v["pre_r"])
    v["pre_z"] = x_t @ W_z.T + b_iz + h_prev @ U_z.T + b_hz
    v["z"] = sigmoid(v["pre_z"])
    v["pre_n"] = x_t @ W_n.T + b_in + v["r"] * (h_prev @ U_n.T + b_hn)
    v["n"] = tanh(v["pre_n"])
    v["h"] = (1 - v["z"]) * v["n"] + v["z"] * h_prev
    return Step(v)


def rnn_step(p: Params, x_t, h_prev, nonlinearity: str = "tanh") -> Step:
    """One vanilla RNN step: h_t = tanh(W [h_{t-1}, x_t] + b) (or relu)."""
    act = {"tanh": tanh, "relu": relu}[choose("RNN nonlinearity", nonlinearity, ("tanh", "relu"))]
    v = {"pre_h": x_t @ p.weight_ih.T + p.bias_ih + h_prev @ p.weight_hh.T + p.bias_hh}
    v["h"] = act(v["pre_h"])
    return Step(v)

