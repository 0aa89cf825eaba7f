"""The step in numbers, as plain data for the step-view component: equations and cell diagrams.

Pure functions (a Step from lstm_core.step_at in, dicts of strings and numbers out; no Streamlit). The
component (components/step_view.js) writes every string with textContent, so nothing here is markup:
an equation is text in which `_{...}` marks a subscript, and a diagram is the name of a trusted SVG
template in assets/diagrams plus the text and colours of its slots.

The equations' text comes from each kind's record (lstm_core.registry; written in lstm_core/step.py
beside the step function). Each equation is {"eq": the seed's equation, "num": [its lines with this
step's numbers]}; the last number of the last line is the quantity's value (tests read it there).
"""

from __future__ import annotations

import numpy as np

import lstm_core

from .colors import colour_at, text_colour_on


def _unit(s, j: int) -> dict:
    return {k: float(np.asarray(s[k])[j]) for k in s.keys() if k != "x"}


def equations(net, s, j: int) -> list[dict]:
    """The equations of a network's kind (its record's `equations`, lstm_core/step.py) for unit j, with the
    step's numbers, as its variant and nonlinearity run them."""
    return net.cell.equations(_unit(s, j), net.variant, net.nonlinearity)


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
    `ink` on that fill. The template is the kind's diagram, assets/diagrams/{diagram}.svg."""
    v = _unit(s, j)
    text = {k: f"{val:+.3f}".replace("-", "−") for k, val in v.items() if not k.startswith("pre_")}
    fill, ink = {}, {}
    for k in text:
        if k in ranges:
            scale, lo, hi = ranges[k]
            fill[k] = colour_at(scale, v[k], lo, hi)
            ink[k] = text_colour_on(fill[k])
    text.update(x=x_text, unit=str(j), t=str(t))
    return {"template": lstm_core.CELLS[kind].diagram, "text": text, "fill": fill, "ink": ink}


def layer_table(s, names: tuple):
    """Every unit's numbers at this step: one row per unit, one column per quantity."""
    import pandas as pd

    cols = {k: np.asarray(s[k]) for k in names if k in s}
    return pd.DataFrame(cols).rename_axis("unit")
