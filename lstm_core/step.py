"""One time step of each cell, written the way the seed notes write it, one line per equation.

These functions are the readable definition of every cell in the project. They work on numpy arrays
(the equation panel, the reference in tests) and on torch tensors (training the LSTM variants, which
have no fused kernel), with any leading batch shape: x_t (..., F), h_prev and c_prev (..., H).
The fast whole-sequence path lives in loops.py (and kernels.py) and is tested against these. Each
step function has a twin below that writes the same equations as text with one unit's numbers: the
equation panel of the app. registry.py gathers each kind's pieces into one record.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _is_numpy(a) -> bool:
    """numpy arrays and scalars take numpy's functions; anything else (a torch tensor, which training's
    LSTM variants pass) its own methods, so this module never needs torch itself."""
    return isinstance(a, np.ndarray | np.generic | float | int)


def sigmoid(z):
    """Logistic sigmoid, stable for large |z| in numpy; a tensor's own .sigmoid()."""
    if not _is_numpy(z):
        return z.sigmoid()
    z = np.asarray(z)
    return np.exp(-np.logaddexp(np.zeros((), dtype=z.dtype), -z)).astype(z.dtype, copy=False)


def tanh(z):
    return np.tanh(z) if _is_numpy(z) else z.tanh()


def relu(z):
    return np.maximum(z, 0) if _is_numpy(z) else z.relu()


def ones_like(z):
    return np.ones_like(z) if _is_numpy(z) else z.new_ones(z.shape)


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
    """One LSTM step, in the seed's order: forget, input, candidate, cell update, output, hidden.

    `variant` is a name of registry.LSTM's variants (a Network or cell checks it when it is made)."""
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
        if variant == gone:  # a removed or derived gate has no pre-activation of its own (registry: `fixes`)
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
    act = relu if nonlinearity == "relu" else tanh
    v = {"pre_h": x_t @ p.weight_ih.T + p.bias_ih + h_prev @ p.weight_hh.T + p.bias_hh}
    v["h"] = act(v["pre_h"])
    return Step(v)



# The same equations as text, with one unit's numbers: v maps each name of a Step (and 'x', 'h_prev',
# 'c_prev') to that unit's float. In the text `_{...}` marks a subscript; the app draws it as one. Each
# equation is {"eq": the seed's equation, "num": [its lines with this step's numbers]}; the last number
# of the last line is the quantity's value.
_PRE = "W_{%s}·[h_{t−1}, x_{t}] + b_{%s}"


def _n(v: float) -> str:
    return f"{v:.3f}".replace("-", "−")


def _p(v: float) -> str:
    """A factor: negatives in parentheses."""
    return f"({_n(v)})" if v < 0 else _n(v)


def lstm_equations(v: dict, variant: str = "vanilla", nonlinearity: str = "tanh") -> list[dict]:
    """The seed's six LSTM equations with one unit's numbers, as `variant` runs them."""
    peep = variant == "peephole"
    symbol = {"f": "f_{t}", "i": "i_{t}", "o": "o_{t}"}

    def gate(key: str, sees: str) -> dict:
        extra = f" + p_{{{key}}} ⊙ {sees}" if peep else ""
        return {"eq": f"{symbol[key]} = σ({_PRE % (key, key)}{extra})",
                "num": [f"= σ({_n(v['pre_' + key])}) = {_n(v[key])}"]}

    eqs = []
    eqs.append({"eq": "f_{t} = 1   (no forget gate)", "num": []} if variant == "nfg" else gate("f", "C_{t−1}"))
    if variant == "cifg":
        eqs.append({"eq": "i_{t} = 1 − f_{t}", "num": [f"= 1 − {_n(v['f'])} = {_n(v['i'])}"]})
    elif variant == "nig":
        eqs.append({"eq": "i_{t} = 1   (no input gate)", "num": []})
    else:
        eqs.append(gate("i", "C_{t−1}"))
    if variant == "niaf":
        eqs.append({"eq": f"C̃_{{t}} = {_PRE % ('c', 'c')}   (no tanh)", "num": [f"= {_n(v['g'])}"]})
    else:
        eqs.append({"eq": f"C̃_{{t}} = tanh({_PRE % ('c', 'c')})", "num": [f"= tanh({_n(v['pre_g'])}) = {_n(v['g'])}"]})
    eqs.append({"eq": "C_{t} = f_{t} ⊙ C_{t−1} + i_{t} ⊙ C̃_{t}",
                "num": [f"= {_n(v['f'])} × {_p(v['c_prev'])} + {_n(v['i'])} × {_p(v['g'])}", f"= {_n(v['c'])}"]})
    eqs.append({"eq": "o_{t} = 1   (no output gate)", "num": []} if variant == "nog" else gate("o", "C_{t}"))
    if variant == "noaf":
        eqs.append({"eq": "h_{t} = o_{t} ⊙ C_{t}", "num": [f"= {_n(v['o'])} × {_p(v['c'])} = {_n(v['h'])}"]})
    else:
        eqs.append({"eq": "h_{t} = o_{t} ⊙ tanh(C_{t})",
                    "num": [f"= {_n(v['o'])} × tanh({_n(v['c'])}) = {_n(v['h'])}"]})
    return eqs


def gru_equations(v: dict, variant: str = "vanilla", nonlinearity: str = "tanh") -> list[dict]:
    """torch.nn.GRU's four equations with one unit's numbers."""
    return [
        {"eq": "r_{t} = σ(W_{r} x_{t} + U_{r} h_{t−1} + b_{r})", "num": [f"= σ({_n(v['pre_r'])}) = {_n(v['r'])}"]},
        {"eq": "z_{t} = σ(W_{z} x_{t} + U_{z} h_{t−1} + b_{z})", "num": [f"= σ({_n(v['pre_z'])}) = {_n(v['z'])}"]},
        {"eq": "n_{t} = tanh(W_{n} x_{t} + b_{in} + r_{t} ⊙ (U_{n} h_{t−1} + b_{hn}))",
         "num": [f"= tanh({_n(v['pre_n'])}) = {_n(v['n'])}"]},
        {"eq": "h_{t} = (1 − z_{t}) ⊙ n_{t} + z_{t} ⊙ h_{t−1}",
         "num": [f"= {_n(1 - v['z'])} × {_p(v['n'])} + {_n(v['z'])} × {_p(v['h_prev'])}", f"= {_n(v['h'])}"]},
    ]


def rnn_equations(v: dict, variant: str = "vanilla", nonlinearity: str = "tanh") -> list[dict]:
    """The vanilla RNN's one equation with one unit's numbers."""
    act = "relu" if nonlinearity == "relu" else "tanh"
    return [{"eq": f"h_{{t}} = {act}(W·[h_{{t−1}}, x_{{t}}] + b)",
             "num": [f"= {act}({_n(v['pre_h'])}) = {_n(v['h'])}"]}]
