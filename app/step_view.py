"""The step in numbers, as plain data for the step-view component: equations and cell diagrams.

Pure functions (a Step from lstm_core.step_at in, dicts of strings and numbers out; no Streamlit). The
component (components/step_view.js) writes every string with textContent, so nothing here is markup:
an equation is text in which `_{...}` marks a subscript, and a diagram is the name of a trusted SVG
template in assets/diagrams plus the text and colours of its slots.

Each equation is {"eq": the seed's equation, "num": [its lines with this step's numbers]}; the last
number of the last line is the quantity's value (tests read it there).
"""

from __future__ import annotations

import numpy as np

from .colors import colour_at, text_colour_on

SYMBOLS = {"f": "f_{t}", "i": "i_{t}", "g": "C̃_{t}", "c": "C_{t}", "o": "o_{t}", "h": "h_{t}", "r": "r_{t}",
           "z": "z_{t}", "n": "n_{t}"}
_PRE = "W_{%s}·[h_{t−1}, x_{t}] + b_{%s}"


def _n(v: float) -> str:
    return f"{v:.3f}".replace("-", "−")


def _p(v: float) -> str:
    """A factor: negatives in parentheses."""
    return f"({_n(v)})" if v < 0 else _n(v)


def _unit(s, j: int) -> dict:
    return {k: float(np.asarray(s[k])[j]) for k in s.keys() if k != "x"}


def lstm_equations(s, j: int, variant: str = "vanilla") -> list[dict]:
    """The seed's six LSTM equations for unit j, with the step's numbers, as `variant` runs them."""
    v = _unit(s, j)
    peep = variant == "peephole"

    def gate(key: str, sees: str) -> dict:
        extra = f" + p_{{{key}}} ⊙ {sees}" if peep else ""
        return {"eq": f"{SYMBOLS[key]} = σ({_PRE % (key, key)}{extra})",
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


def gru_equations(s, j: int) -> list[dict]:
    """torch.nn.GRU's four equations for unit j, with the step's numbers."""
    v = _unit(s, j)
    return [
        {"eq": "r_{t} = σ(W_{r} x_{t} + U_{r} h_{t−1} + b_{r})", "num": [f"= σ({_n(v['pre_r'])}) = {_n(v['r'])}"]},
        {"eq": "z_{t} = σ(W_{z} x_{t} + U_{z} h_{t−1} + b_{z})", "num": [f"= σ({_n(v['pre_z'])}) = {_n(v['z'])}"]},
        {"eq": "n_{t} = tanh(W_{n} x_{t} + b_{in} + r_{t} ⊙ (U_{n} h_{t−1} + b_{hn}))",
         "num": [f"= tanh({_n(v['pre_n'])}) = {_n(v['n'])}"]},
        {"eq": "h_{t} = (1 − z_{t}) ⊙ n_{t} + z_{t} ⊙ h_{t−1}",
         "num": [f"= {_n(1 - v['z'])} × {_p(v['n'])} + {_n(v['z'])} × {_p(v['h_prev'])}", f"= {_n(v['h'])}"]},
    ]


def rnn_equations(s, j: int) -> list[dict]:
    """The vanilla RNN's one equation for unit j, with the step's numbers."""
    v = _unit(s, j)
    return [{"eq": "h_{t} = tanh(W·[h_{t−1}, x_{t}] + b)", "num": [f"= tanh({_n(v['pre_h'])}) = {_n(v['h'])}"]}]


def equations(kind: str, s, j: int, variant: str = "vanilla") -> list[dict]:
    if kind == "lstm":
        return lstm_equations(s, j, variant)
    return gru_equations(s, j) if kind == "gru" else rnn_equations(s, j)


def feature_label(name: str) -> str:
    """A feature's name as a person reads it: whitespace characters by name."""
    return {" ": "space", "\n": "newline", "\t": "tab", "": "(empty)"}.get(name, name)


def x_label(x_t, feature_names: tuple) -> str:
    """The input at this step in a few characters: the character of a one-hot text input, else values."""
    x_t = np.asarray(x_t)
    one_hot = len(x_t) > 4 and set(np.unique(x_t)) <= {0.0, 1.0}
    if one_hot and x_t.sum() == 1:
        name = feature_names[int(np.argmax(x_t))] if feature_names else str(int(np.argmax(x_t)))
        return feature_label(name)
    if one_hot and x_t.sum() == 0:
        return "unknown (zeros)"
    shown = ", ".join(f"{v:.2f}" for v in x_t[:3])
    return f"({shown}{', …' if len(x_t) > 3 else ''})" if len(x_t) > 1 else shown


def diagram(kind: str, s, j: int, t: int, ranges: dict, x_text: str) -> dict:
    """A cell diagram's slots for unit j at step t: `text` (numbers, the input, unit, step) and, for each
    coloured value, its `fill` on the quantity's colour scale (`ranges`, as the heatmaps) and a readable
    `ink` on that fill. The template is assets/diagrams/{kind}_cell.svg."""
    v = _unit(s, j)
    text = {k: f"{val:+.3f}".replace("-", "−") for k, val in v.items() if not k.startswith("pre_")}
    fill, ink = {}, {}
    for k in text:
        if k in ranges:
            scale, lo, hi = ranges[k]
            fill[k] = colour_at(scale, v[k], lo, hi)
            ink[k] = text_colour_on(fill[k])
    text.update(x=x_text, unit=str(j), t=str(t))
    return {"template": kind, "text": text, "fill": fill, "ink": ink}


def layer_table(s, names: tuple):
    """Every unit's numbers at this step: one row per unit, one column per quantity."""
    import pandas as pd

    cols = {k: np.asarray(s[k]) for k in names if k in s}
    return pd.DataFrame(cols).rename_axis("unit")
