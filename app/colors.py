"""Colour scales readable by colour-blind viewers and on a projector, shared by every view.

Gates (values in [0, 1]) use cividis, designed to look the same to viewers with the common colour
vision deficiencies; signed quantities (candidate, cell, hidden state) use a blue-white-orange
diverging scale (blue and orange stay apart for red-green deficiencies), centred on 0.
"""

from __future__ import annotations

import numpy as np

# Anchor colours, evenly spaced from the low end to the high end of the scale.
SCALES = {
    "cividis": ["#00204d", "#00336f", "#39486b", "#575c6d", "#707173", "#8a8779", "#a69d75", "#c4b56c",
                "#e4cf5b", "#ffea46"],
    "diverging": ["#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7", "#fee0b6", "#fdb863", "#e08214",
                  "#b35806"],
    "greys": ["#ffffff", "#d9d9d9", "#969696", "#525252", "#000000"],
}
# Line colours for input features (Okabe & Ito's palette, safe for colour-blind viewers).
LINES = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000"]


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[k : k + 2], 16) for k in (1, 3, 5)], float)


def colour_at(scale: str, value: float, vmin: float, vmax: float) -> str:
    """The hex colour of `value` on `scale` spanning [vmin, vmax] (clipped), for SVG fills."""
    anchors = SCALES[scale]
    u = 0.0 if vmax <= vmin or not np.isfinite(value) else float(np.clip((value - vmin) / (vmax - vmin), 0, 1))
    pos = u * (len(anchors) - 1)
    k = min(int(pos), len(anchors) - 2)
    rgb = _rgb(anchors[k]) * (1 - (pos - k)) + _rgb(anchors[k + 1]) * (pos - k)
    return "#" + "".join(f"{int(round(c)):02x}" for c in rgb)


def text_colour_on(background_hex: str) -> str:
    """Black or white, whichever reads better on the background (relative luminance)."""
    r, g, b = _rgb(background_hex) / 255
    return "#000000" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 else "#ffffff"


def plotly_scale(scale: str) -> list:
    anchors = SCALES[scale]
    return [[k / (len(anchors) - 1), c] for k, c in enumerate(anchors)]
