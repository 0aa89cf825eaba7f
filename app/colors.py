"""Colour scales readable by colour-blind viewers and on a projector, shared by every view.

Gates (values in [0, 1]) use cividis, designed to look the same to viewers with the common colour
vision deficiencies; signed quantities (candidate, cell, hidden state) use a blue-white-orange
diverging scale (blue and orange stay apart for red-green deficiencies), centred on 0.

Signed quantities without a natural bound (the cell state C_t; h_t, C̃_t, n_t of variants that drop a
tanh) get a data-driven range from `signed_range`: robust when a few large units would otherwise wash
out the rest, with the share of values beyond it (drawn in the end colours) said on the colour bar.
"""

from __future__ import annotations

from dataclasses import dataclass

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


# The robust range of a signed quantity (see signed_range for why these numbers).
UNIT_PERCENTILE = 99.0  # a unit's size: the 99th percentile of its |value| over time (its rare spikes saturate)
FULL_WITHIN = 3.0  # draw the full range when the largest |value| is at most 3x the robust limit
MIN_SHARE_OF_MAX = 1 / 50  # never narrower than 1/50 of the largest |value| (silent units stay white)


@dataclass(frozen=True)
class ColourRange:
    """A heatmap's colour range; unpacks as `lo, hi`. Values outside it are drawn in the end colours."""

    vmin: float
    vmax: float
    note: str = ""  # how the range was chosen, for the colour bar ("" for a quantity's fixed range)
    under: float = 0.0  # share of the finite values below vmin
    over: float = 0.0  # share of the finite values above vmax
    full: tuple = ()  # (lo, hi) of the full range when a narrower, robust one is in force

    def __iter__(self):
        yield self.vmin
        yield self.vmax


def _finite(values: np.ndarray) -> np.ndarray:
    """The finite values (the array itself, without a copy, when all are finite: the common case)."""
    values = np.asarray(values)
    finite = np.isfinite(values)
    return values if finite.all() else values[finite]


def _bounds(values: np.ndarray) -> tuple[float, float] | None:
    """(min, max) when every value is finite (two reductions, no temporary array), else None."""
    values = np.asarray(values)
    if not values.size:
        return None
    lo, hi = float(values.min()), float(values.max())  # a NaN anywhere makes both NaN
    return (lo, hi) if np.isfinite(lo) and np.isfinite(hi) else None


def beyond(values: np.ndarray, vmin: float, vmax: float) -> tuple[float, float]:
    """(share below vmin, share above vmax) of the finite values; (0, 0) when there are none."""
    b = _bounds(values)
    if b is not None and vmin <= b[0] and b[1] <= vmax:  # the common case, gates above all: nothing to count
        return 0.0, 0.0
    finite = _finite(values)
    if not finite.size:
        return 0.0, 0.0
    return float(np.count_nonzero(finite < vmin) / finite.size), float(np.count_nonzero(finite > vmax) / finite.size)


def full_limit(values: np.ndarray) -> float:
    """The largest |value| (1 if there is no nonzero finite value): the full symmetric range."""
    b = _bounds(values)
    if b is None:
        finite = _finite(values)
        b = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    m = max(b[1], -b[0])
    return m if m > 0 else 1.0


PERCENTILE_ROWS = 20_000  # steps a unit's percentile is taken from (evenly spaced) when the trace is longer


def signed_range(values: np.ndarray, symbol: str, floor: float = 1e-6) -> ColourRange:
    """A symmetric range ±L for a signed quantity (T, units) that has no natural bound.

    L is the median over units of each unit's 99th percentile of |value|: the range fits the typical
    unit, so the half of the units that are larger saturate instead of washing out the rest (a
    percentile over all values cannot do that when unit sizes differ by orders of magnitude: on the
    delayed-recall task |C_t| runs from 0.5 in some units to 41 in others, and even its 70th
    percentile leaves a third of the units white). When units are alike it is about the 99th
    percentile of all values. L is never below `floor` nor 1/50 of the largest |value| (so units
    that are all but silent cannot set the scale and be drawn as full-contrast noise), and when the largest
    |value| is within 3x of L the full range is drawn: clipping would gain little contrast.
    """
    v = np.asarray(values)
    v = v.reshape(-1, v.shape[-1]) if v.ndim >= 2 else v.reshape(-1, 1)  # (steps, units)
    top = full_limit(v)
    full = ColourRange(-top, top, f"full range (max |{symbol}|)")
    if np.isfinite(v).all():  # the common case: np.percentile partitions each column, O(T)
        step = max(1, v.shape[0] // PERCENTILE_ROWS)  # a long trace: every k-th step is plenty for a percentile
        per_unit = np.percentile(np.abs(v[::step]), UNIT_PERCENTILE, axis=0).astype(np.float64)
    else:  # padded steps (NaN): nanpercentile, which is much slower
        a = np.where(np.isfinite(v), np.abs(v.astype(np.float64)), np.nan)
        live = np.isfinite(a).any(0)
        if not live.any():
            return full
        per_unit = np.nanpercentile(a[:, live], UNIT_PERCENTILE, axis=0)
    limit = max(float(np.median(per_unit)), floor, top * MIN_SHARE_OF_MAX)
    if top <= FULL_WITHIN * limit:
        return full
    under, over = beyond(v, -limit, limit)
    return ColourRange(-limit, limit, f"robust range (median unit's 99th pct of |{symbol}|)", under, over,
                       (-top, top))
