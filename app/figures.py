"""Pure figure builders: arrays in, figures (or LaTeX, SVG, panels) out. No Streamlit here.

Each is tested by inspecting what it returns (tests/test_figures.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import altair as alt
import numpy as np

import lstm_core

from .colors import colour_at, plotly_scale, text_colour_on
from .content import QUANTITIES
from .trace_payload import Panel, symmetric_limit

DIAGRAMS = Path(__file__).resolve().parents[1] / "assets" / "diagrams"
MODEL_COLOURS = {"LSTM h_t": "#0072b2", "LSTM C_t": "#56b4e9", "GRU h_t": "#009e73", "RNN h_t": "#d55e00"}


def colour_range(key: str, values: np.ndarray) -> tuple[float, float]:
    """Fixed per quantity: [0, 1] for gates, symmetric around 0 for signed states."""
    q = QUANTITIES[key]
    if q.fixed:
        lo, hi = q.fixed
        finite = values[np.isfinite(values)]
        if key in ("g", "h", "n") and finite.size and np.abs(finite).max() > 1:  # niaf/noaf leave [-1, 1]
            m = symmetric_limit(values)
            return -m, m
        return lo, hi
    m = symmetric_limit(values)
    return -m, m


def quantity_panel(tr: lstm_core.Trace, key: str, prefix: str = "", note: str | None = None) -> Panel:
    q = QUANTITIES[key]
    lo, hi = colour_range(key, tr[key])
    return Panel(key=f"{prefix}{key}", title=f"{prefix.upper().replace('_', ' ')}{q.symbol}  {q.name}",
                 note=q.intuition if note is None else note, values=tr[key], scale=q.scale, vmin=lo, vmax=hi,
                 units=q.units)


def input_panel(raw: np.ndarray, feature_names: tuple) -> Panel:
    finite = raw[np.isfinite(raw)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if raw.shape[1] <= 4:
        pad = (hi - lo) * 0.05 or 1.0
        return Panel("x", "x_t  input", "the sequence both networks read", raw, kind="lines", vmin=lo - pad,
                     vmax=hi + pad, units="input value", row_label="value", row_names=tuple(feature_names))
    return Panel("x", "x_t  input", "the sequence both networks read, one row per feature", raw, scale="greys",
                 vmin=lo, vmax=hi if hi > lo else lo + 1, units="input value", row_label="feature",
                 row_names=tuple(feature_names))


def trace_panels(main: lstm_core.Trace, rnn: lstm_core.Trace, raw: np.ndarray, feature_names: tuple) -> list[Panel]:
    """Input, every quantity of the main model in the seed's order, then the vanilla RNN's h_t."""
    return ([input_panel(raw, feature_names)] + [quantity_panel(main, k) for k in main.quantities]
            + [quantity_panel(rnn, "h", prefix="rnn_", note="the same input through a vanilla RNN")])


def heatmap_figure(tr: lstm_core.Trace, key: str, step: int | None = None, max_columns: int = 2000):
    """A plotly heatmap of one quantity (time on x, unit on y), for inspection and plotly's image export."""
    import plotly.graph_objects as go  # only when someone asks for plotly figures: it costs start-up time

    from .trace_payload import downsample

    q = QUANTITIES[key]
    values, w = downsample(tr[key], max_columns)
    lo, hi = colour_range(key, tr[key])
    x = np.arange(values.shape[0]) * w + (w - 1) / 2
    fig = go.Figure(go.Heatmap(
        z=values.T, x=x, y=np.arange(values.shape[1]), zmin=lo, zmax=hi, colorscale=plotly_scale(q.scale),
        colorbar={"title": {"text": q.units, "side": "right"}},
        hovertemplate=f"step %{{x}}<br>unit %{{y}}<br>{q.symbol} = %{{z:.3f}}<extra></extra>"))
    if step is not None:
        fig.add_vline(x=step, line={"color": "#d62728", "width": 2})
    fig.update_layout(title=f"{q.symbol}: {q.name}" + (f" (each column the mean of {w} steps)" if w > 1 else ""),
                      xaxis_title="time step t", yaxis_title="unit", height=300, margin={"l": 60, "r": 20, "t": 50,
                                                                                           "b": 45},
                      font={"size": 15})
    return fig


def memory_chart(curves: dict, nudged: int, steps: int) -> dict:
    """How much a nudge of the input at step `nudged` still changes each model's state at every step,
    as a Vega-Lite spec (built with altair once per input; `at_step` then moves the step marker)."""
    k = -(-steps // 600)  # keep the chart light: every k-th step (and the nudged one) of a long sequence
    keep = [t for t in range(steps) if t % k == 0 or t == nudged]
    rows = [{"step": t, "change": float(v[t]), "state": name} for name, v in curves.items() for t in keep]
    colours = alt.Scale(domain=list(curves), range=[MODEL_COLOURS.get(n, "#555") for n in curves])
    x = alt.X("step:Q", title="time step t", scale=alt.Scale(domain=[0, steps - 1]))
    lines = alt.Chart(alt.Data(values=rows)).mark_line(strokeWidth=2.5).encode(
        x=x, y=alt.Y("change:Q", title="change of the state (L2 norm over units)"),
        color=alt.Color("state:N", scale=colours, title=None, legend=alt.Legend(orient="top", labelFontSize=14)),
        strokeDash=alt.StrokeDash("state:N", title=None, legend=alt.Legend(orient="top", labelFontSize=14)),
        tooltip=["state:N", "step:Q", alt.Tooltip("change:Q", format=".4f")])
    nudge = alt.Chart().mark_rule(strokeWidth=2, color="#999999", strokeDash=[4, 3]).encode(x=alt.datum(nudged))
    cursor = alt.Chart().mark_rule(strokeWidth=2, color="#d62728").encode(x=alt.datum(0))
    return ((lines + nudge + cursor).properties(height=260).configure_axis(labelFontSize=13, titleFontSize=14)
            .to_dict())


def at_step(spec: dict, step: int) -> dict:
    """The memory chart with its current-step marker (the last layer) at `step`; `spec` is not changed."""
    layers = list(spec["layer"])
    cursor = dict(layers[-1])
    cursor["encoding"] = {**cursor["encoding"], "x": {**cursor["encoding"]["x"], "datum": int(step)}}
    layers[-1] = cursor
    return {**spec, "layer": layers}


# ------------------------------------------------------------------------------------------------
# The step in numbers


def _n(v: float) -> str:
    """A number for an equation: 3 decimals, negatives in parentheses when they are factors."""
    return f"{v:.3f}"


def _p(v: float) -> str:
    return f"({v:.3f})" if v < 0 else f"{v:.3f}"


def aligned(lines: list[str]) -> str:
    """One LaTeX block, aligned on the first '=' of each line (continuation lines start with '=')."""
    return r"\small\begin{aligned}" + r"\\".join(("&" + e) if e.startswith("=") else e.replace("=", "&=", 1)
                                            for e in lines) + r"\end{aligned}"


def lstm_equations(s, j: int, variant: str = "vanilla") -> list[str]:
    """The seed's six equations for unit j, each followed by a line with the step's numbers
    (s: lstm_core.Step from lstm_core.step_at). Continuation lines start with '='."""
    v = {k: float(np.asarray(s[k])[j]) for k in s.keys() if k not in ("x", "h_prev", "c_prev")}
    c_prev = float(np.asarray(s["c_prev"])[j])
    peep = variant == "peephole"
    pre = r"W_{%s}\,[h_{t-1}, x_t] + b_{%s}"

    def sigma_gate(key: str, peephole: str) -> list[str]:  # one sigmoid gate: its equation, then its numbers
        extra = rf" + p_{key} \odot {peephole}" if peep else ""
        return [rf"{key}_t = \sigma({pre % (key, key)}{extra})",
                rf"= \sigma({_n(v['pre_' + key])}) = {_n(v[key])}"]

    lines = []
    if variant == "nfg":
        lines.append(r"f_t = 1 \quad\text{(no forget gate)}")
    else:
        lines += sigma_gate("f", "C_{t-1}")
    if variant == "cifg":
        lines.append(rf"i_t = 1 - f_t = 1 - {_n(v['f'])} = {_n(v['i'])}")
    elif variant == "nig":
        lines.append(r"i_t = 1 \quad\text{(no input gate)}")
    else:
        lines += sigma_gate("i", "C_{t-1}")
    if variant == "niaf":
        lines += [rf"\tilde C_t = {pre % ('c', 'c')} \quad\text{{(no tanh)}}", rf"= {_n(v['g'])}"]
    else:
        lines += [rf"\tilde C_t = \tanh({pre % ('c', 'c')})", rf"= \tanh({_n(v['pre_g'])}) = {_n(v['g'])}"]
    lines += [r"C_t = f_t \odot C_{t-1} + i_t \odot \tilde C_t",
              rf"= {_n(v['f'])} \times {_p(c_prev)} + {_n(v['i'])} \times {_p(v['g'])}", rf"= {_n(v['c'])}"]
    if variant == "nog":
        lines.append(r"o_t = 1 \quad\text{(no output gate)}")
    else:
        lines += sigma_gate("o", "C_t")
    if variant == "noaf":
        lines += [r"h_t = o_t \odot C_t", rf"= {_n(v['o'])} \times {_p(v['c'])} = {_n(v['h'])}"]
    else:
        lines += [r"h_t = o_t \odot \tanh(C_t)", rf"= {_n(v['o'])} \times \tanh({_n(v['c'])}) = {_n(v['h'])}"]
    return lines


def gru_equations(s, j: int) -> list[str]:
    v = {k: float(np.asarray(s[k])[j]) for k in s.keys() if k not in ("x", "h_prev", "c_prev")}
    h_prev = float(np.asarray(s["h_prev"])[j])
    return [
        r"r_t = \sigma(W_r x_t + U_r h_{t-1} + b_r)", rf"= \sigma({_n(v['pre_r'])}) = {_n(v['r'])}",
        r"z_t = \sigma(W_z x_t + U_z h_{t-1} + b_z)", rf"= \sigma({_n(v['pre_z'])}) = {_n(v['z'])}",
        r"n_t = \tanh(W_n x_t + b_{in} + r_t \odot (U_n h_{t-1} + b_{hn}))",
        rf"= \tanh({_n(v['pre_n'])}) = {_n(v['n'])}",
        r"h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}",
        rf"= {_n(1 - v['z'])} \times {_p(v['n'])} + {_n(v['z'])} \times {_p(h_prev)} = {_n(v['h'])}",
    ]


def rnn_equation(s, j: int) -> list[str]:
    """The vanilla RNN's one equation for unit j, then its numbers."""
    pre, h = float(np.asarray(s["pre_h"])[j]), float(np.asarray(s["h"])[j])
    return [r"h_t = \tanh(W\,[h_{t-1}, x_t] + b)", rf"= \tanh({_n(pre)}) = {_n(h)}"]


def input_csv(x: np.ndarray, feature_names: tuple) -> str:
    """The model's input (T, F) as CSV text: one row per step."""
    import pandas as pd

    names = list(feature_names) if len(feature_names) == x.shape[1] else [f"x{k}" for k in range(x.shape[1])]
    frame = pd.DataFrame(x, columns=names)
    frame.insert(0, "step", np.arange(len(x)))
    return frame.to_csv(index=False)


def layer_table(s, names: tuple):
    """Every unit's numbers at this step: one row per unit, one column per quantity."""
    import pandas as pd

    cols = {k: np.asarray(s[k]) for k in names if k in s}
    return pd.DataFrame(cols).rename_axis("unit")


# ------------------------------------------------------------------------------------------------
# Cell diagrams

_SLOT = re.compile(r"\{\{(\w+)\}\}")


def fill_diagram(template: str, values: dict, ranges: dict) -> str:
    """Replace {{name}} with the value's number, {{name_fill}} with its colour, {{name_text}} with a
    readable text colour on that fill. Unknown slots raise KeyError (a template/code mismatch)."""
    def slot(m):
        name = m.group(1)
        base, _, part = name.rpartition("_") if name.endswith(("_fill", "_text")) else (name, "", "")
        if part in ("fill", "text"):
            scale, lo, hi = ranges[base]
            fill = colour_at(scale, values[base], lo, hi)
            return fill if part == "fill" else text_colour_on(fill)
        v = values[name]
        return f"{v:+.3f}" if isinstance(v, float) else str(v)

    return _SLOT.sub(slot, template)


def diagram_ranges(tr: lstm_core.Trace) -> dict:
    out = {}
    for key in ("f", "i", "g", "o", "c", "h", "r", "z", "n"):
        if key in tr:
            lo, hi = colour_range(key, tr[key])
            out[key] = (QUANTITIES[key].scale, lo, hi)
    if "c" in out:
        out["c_prev"] = out["c"]
    out["h_prev"] = out["h"]
    return out


def x_label(x_t, feature_names: tuple) -> str:
    """The input at this step in a few characters: the character of a one-hot text input, else values."""
    x_t = np.asarray(x_t)
    if len(x_t) > 4 and set(np.unique(x_t)) <= {0.0, 1.0} and x_t.sum() == 1:
        name = feature_names[int(np.argmax(x_t))] if feature_names else str(int(np.argmax(x_t)))
        return {" ": "space", "\n": "newline"}.get(name, repr(name)[1:-1])
    shown = ", ".join(f"{v:.2f}" for v in x_t[:3])
    return f"({shown}{', …' if len(x_t) > 3 else ''})" if len(x_t) > 1 else shown


def cell_diagram(kind: str, s, j: int, t: int, ranges: dict, x_text: str) -> str:
    """The cell's SVG diagram with unit j's values at step t written on its wires and gates; `ranges`
    (diagram_ranges of the trace) fixes each value's colour scale."""
    template = (DIAGRAMS / ("lstm_cell.svg" if kind == "lstm" else f"{kind}_cell.svg")).read_text()
    values = {k: float(np.asarray(s[k])[j]) for k in s.keys()
              if k not in ("x", "h_prev", "c_prev") and not k.startswith("pre_")}
    values["h_prev"] = float(np.asarray(s["h_prev"])[j])
    if "c_prev" in s:
        values["c_prev"] = float(np.asarray(s["c_prev"])[j])
    values["x"] = x_text
    values["unit"] = j
    values["t"] = t
    return fill_diagram(template, values, ranges)
