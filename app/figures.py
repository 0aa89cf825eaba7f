"""Pure figure builders: arrays in, figures (heatmap panels, plotly and Vega-Lite specs) out. No Streamlit here.

Each is tested by inspecting what it returns (tests/test_figures.py).
"""

from __future__ import annotations

import numpy as np

import lstm_core

from .colors import ColourRange, full_limit, plotly_scale, signed_range
from .trace_payload import Panel

MODEL_COLOURS = {"LSTM h_t": "#0072b2", "LSTM C_t": "#56b4e9", "GRU h_t": "#009e73", "RNN h_t": "#d55e00"}


def colour_range(q: lstm_core.Quantity, values: np.ndarray) -> ColourRange:
    """The colour range of a quantity (its record in lstm_core.registry) over a trace, a colors.ColourRange
    that unpacks as `lo, hi`: the quantity's fixed range ([0, 1] gates, [-1, 1] tanh'd states), or for the
    cell state and for signed states a variant leaves unbounded (niaf, noaf, relu) a symmetric range that
    fits the typical unit (colors.signed_range)."""
    if q.fixed:
        lo, hi = q.fixed
        if lo < 0 and full_limit(values) > hi:
            return signed_range(values, q.symbol, floor=hi)
        return ColourRange(lo, hi)  # gates are sigmoids (or 1, or 1 - f): always inside [0, 1]
    return signed_range(values, q.symbol)


def quantity(tr: lstm_core.Trace, key: str) -> lstm_core.Quantity:
    """The record of a trace's quantity: its symbol, name, intuition, colour scale and units."""
    return lstm_core.CELLS[tr.kind].quantity(key)


def quantity_panel(tr: lstm_core.Trace, key: str, prefix: str = "", note: str | None = None) -> Panel:
    q = quantity(tr, key)
    r = colour_range(q, tr[key])
    return Panel(key=f"{prefix}{key}", title=f"{prefix.upper().replace('_', ' ')}{q.symbol}  {q.name}",
                 note=q.intuition if note is None else note, values=tr[key], scale=q.scale, vmin=r.vmin,
                 vmax=r.vmax, units=q.units, range_note=r.note, under=r.under, over=r.over, full_range=r.full)


def input_panel(raw: np.ndarray, feature_names: tuple) -> Panel:
    """The input: lines for up to 4 features, else a heatmap with one row per feature. A one-hot text
    input (0/1 values, at most one 1 per step) with all-zero steps had characters outside the model's
    vocabulary there: those steps are listed (and marked under the panel) and the note says how many."""
    finite = raw[np.isfinite(raw)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if raw.shape[1] <= 4:
        pad = (hi - lo) * 0.05 or 1.0
        return Panel("x", "x_t  input", "the sequence both networks read", raw, kind="lines", vmin=lo - pad,
                     vmax=hi + pad, units="input value", row_label="value", row_names=tuple(feature_names))
    present = np.isfinite(raw).all(1)  # padded steps (NaN) are not unknown characters
    sums = np.where(present, np.nan_to_num(raw).sum(1), np.nan)
    one_hot = bool(finite.size) and bool(np.isin(finite, (0.0, 1.0)).all()) and bool((sums[present] <= 1).all())
    unknown = tuple(int(t) for t in np.flatnonzero(sums == 0)) if one_hot else ()
    note = "the sequence both networks read, one row per feature"
    if unknown:
        k = len(unknown)
        note = f"{k} step{'s' if k != 1 else ''} outside the vocabulary, fed as zeros (red ticks below) · {note}"
    return Panel("x", "x_t  input", note, raw, scale="greys", vmin=lo, vmax=hi if hi > lo else lo + 1,
                 units="input value", row_label="feature", row_names=tuple(feature_names), unknown_steps=unknown)


def answers_panel(right: np.ndarray, names: tuple) -> Panel:
    """The probability each model gives the right answer at every scored step: right (T, models), NaN where
    the task scores nothing."""
    return Panel("answers", "P(right)  the models' answers", "how sure each model is of the right answer, "
                 "at the steps the task scores", right, kind="lines", vmin=0.0, vmax=1.0,
                 units="probability of the right answer", row_label="model", row_names=tuple(names))


def trace_panels(main: lstm_core.Trace, rnn: lstm_core.Trace, raw: np.ndarray, feature_names: tuple,
                 answers: Panel | None = None, show_input: bool = True) -> list[Panel]:
    """The story first: the input, the main model's memory (an LSTM's C_t) right above the vanilla RNN's h_t,
    the models' answers over time (if the task scores steps), then the main model's other quantities in the
    seed's order. A text input is shown as text by the page (show_input=False), not as a one-hot matrix."""
    memory = lstm_core.CELLS[main.kind].memory
    label = lstm_core.CELLS[main.kind].label
    return ([input_panel(raw, feature_names)] * show_input
            + [quantity_panel(main, memory, note=f"the {label}'s memory · compare it with the RNN's just below")]
            + [quantity_panel(rnn, "h", prefix="rnn_", note="the same input through a vanilla RNN: its only memory")]
            + ([answers] if answers is not None else [])
            + [quantity_panel(main, k) for k in main.quantities if k != memory])


def heatmap_figure(tr: lstm_core.Trace, key: str, step: int | None = None, max_columns: int = 2000):
    """A plotly heatmap of one quantity (time on x, unit on y), for inspection and plotly's image export."""
    import plotly.graph_objects as go  # only when someone asks for plotly figures: it costs start-up time

    from .trace_payload import downsample

    q = quantity(tr, key)
    values, w = downsample(tr[key], max_columns)
    r = colour_range(q, tr[key])
    lo, hi = r
    x = np.arange(values.shape[0]) * w + (w - 1) / 2
    fig = go.Figure(go.Heatmap(
        z=values.T, x=x, y=np.arange(values.shape[1]), zmin=lo, zmax=hi, colorscale=plotly_scale(q.scale),
        colorbar={"title": {"text": q.units, "side": "right"}},
        hovertemplate=f"step %{{x}}<br>unit %{{y}}<br>{q.symbol} = %{{z:.3f}}<extra></extra>"))
    if step is not None:
        fig.add_vline(x=step, line={"color": "#d62728", "width": 2})
    beyond = f", {100 * (r.under + r.over):.1f}% of values beyond it" if r.under + r.over > 0 else ""
    fig.update_layout(title=f"{q.symbol}: {q.name}" + (f" (each column the mean of {w} steps)" if w > 1 else "")
                      + (f"<br><sub>colours: {r.note}{beyond}</sub>" if r.note else ""),
                      xaxis_title="time step t", yaxis_title="unit", height=300, margin={"l": 60, "r": 20, "t": 50,
                                                                                           "b": 45},
                      font={"size": 15})
    return fig


def _legend(field: str, domain: list, colours: list) -> dict:
    return {"field": field, "type": "nominal", "title": None, "scale": {"domain": domain, "range": colours},
            "legend": {"orient": "top", "labelFontSize": 14}}


def _chart(layers: list, height: int) -> dict:
    """A layered Vega-Lite spec, written as a plain dict: building it with altair took 0.2–1 s per input
    (validation and to_dict), server time that every student's steps waited behind. Data stays inside the
    layers: Streamlit converts a spec's top-level data and named datasets to Arrow through pandas, whose
    import alone held the first page back by 0.2–0.3 s."""
    return {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "height": height, "layer": layers,
            "config": {"axis": {"labelFontSize": 13, "titleFontSize": 14}}}


# A rule drawn at a datum needs one row to draw from (inline, like every layer's data).
ONE_ROW = {"values": [{}]}


def memory_chart(curves: dict, nudged: int, steps: int) -> dict:
    """How much a nudge of the input at step `nudged` still changes each model's state at every step,
    as a Vega-Lite spec (built once per input; `at_step` then moves the step marker)."""
    k = -(-steps // 600)  # keep the chart light: every k-th step (and the nudged one) of a long sequence
    keep = [t for t in range(steps) if t % k == 0 or t == nudged]
    rows = [{"step": t, "change": float(v[t]), "state": name} for name, v in curves.items() for t in keep]
    colours = [MODEL_COLOURS.get(n, "#555555") for n in curves]
    legend = _legend("state", list(curves), colours)
    lines = {"data": {"values": rows}, "mark": {"type": "line", "strokeWidth": 2.5}, "encoding": {
        "x": {"field": "step", "type": "quantitative", "title": "time step t", "scale": {"domain": [0, steps - 1]}},
        "y": {"field": "change", "type": "quantitative", "title": "change of the state (L2 norm over units)"},
        "color": legend, "strokeDash": {k: v for k, v in legend.items() if k != "scale"},
        "tooltip": [{"field": "state", "type": "nominal"}, {"field": "step", "type": "quantitative"},
                    {"field": "change", "type": "quantitative", "format": ".4f"}]}}
    nudge = {"data": ONE_ROW, "mark": {"type": "rule", "strokeWidth": 2, "color": "#999999",
                                                "strokeDash": [4, 3]}, "encoding": {"x": {"datum": int(nudged)}}}
    cursor = {"data": ONE_ROW, "mark": {"type": "rule", "strokeWidth": 2, "color": "#d62728"},
              "encoding": {"x": {"datum": 0}}}
    return _chart([lines, nudge, cursor], 260)


def forecast_chart(history: np.ndarray, truth: np.ndarray, forecasts: dict) -> dict:
    """The forecast against the truth: the input's last steps, then the right values and each model's forecast
    over the horizon, as a Vega-Lite spec. history (k,), truth (h,), forecasts {name: (h,)}; steps are
    numbered from the last input step, 0."""
    k = len(history)
    rows = [{"step": int(t - k + 1), "value": float(v), "series": "input"} for t, v in enumerate(history)]
    rows += [{"step": int(t + 1), "value": float(v), "series": "right answer"} for t, v in enumerate(truth)]
    for name, values in forecasts.items():
        rows += [{"step": int(t + 1), "value": float(v), "series": f"{name} forecast"} for t, v in enumerate(values)]
    names = ["input", "right answer", *(f"{n} forecast" for n in forecasts)]
    colours = ["#777777", "#000000", *(MODEL_COLOURS.get(f"{n} h_t", "#0072b2") for n in forecasts)]
    legend = _legend("series", names, colours)
    lines = {"data": {"values": rows}, "mark": {"type": "line", "point": True, "strokeWidth": 2.5}, "encoding": {
        "x": {"field": "step", "type": "quantitative", "title": "steps after the last input"},
        "y": {"field": "value", "type": "quantitative", "title": "signal value"},
        "color": legend, "strokeDash": {k: v for k, v in legend.items() if k != "scale"},
        "tooltip": [{"field": "series", "type": "nominal"}, {"field": "step", "type": "quantitative"},
                    {"field": "value", "type": "quantitative", "format": ".3f"}]}}
    return _chart([lines], 220)


def at_step(spec: dict, step: int) -> dict:
    """The memory chart with its current-step marker (the last layer) at `step`; `spec` is not changed."""
    layers = list(spec["layer"])
    cursor = dict(layers[-1])
    cursor["encoding"] = {**cursor["encoding"], "x": {**cursor["encoding"]["x"], "datum": int(step)}}
    layers[-1] = cursor
    return {**spec, "layer": layers}


# ------------------------------------------------------------------------------------------------
# The step in numbers


def aligned(lines: list[str]) -> str:
    """One LaTeX block, aligned on the first '=' of each line (continuation lines start with '=')."""
    return r"\small\begin{aligned}" + r"\\".join(("&" + e) if e.startswith("=") else e.replace("=", "&=", 1)
                                            for e in lines) + r"\end{aligned}"


def input_csv(x: np.ndarray, feature_names: tuple) -> str:
    """The model's input (T, F) as CSV text: one row per step."""
    import pandas as pd

    names = list(feature_names) if len(feature_names) == x.shape[1] else [f"x{k}" for k in range(x.shape[1])]
    frame = pd.DataFrame(x, columns=names)
    frame.insert(0, "step", np.arange(len(x)))
    return frame.to_csv(index=False)


# ------------------------------------------------------------------------------------------------
# Cell diagrams

def diagram_ranges(tr: lstm_core.Trace) -> dict:
    """{quantity: (scale, lo, hi)} for the cell diagrams: the very ranges of the trace view's panels."""
    out = {}
    for q in lstm_core.CELLS[tr.kind].quantities:
        lo, hi = colour_range(q, tr[q.key])
        out[q.key] = (q.scale, lo, hi)
    for state in lstm_core.CELLS[tr.kind].states:
        out[f"{state}_prev"] = out[state]
    return out
