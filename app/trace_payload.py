"""Pack a trace for the trace-view component: one binary message, sent once per (model, input).

Layout: uint32 little-endian header length, the header as UTF-8 JSON, zero padding to a multiple of 4,
then one float32 block per panel, (rows, columns) in C order. Long traces are drawn downsampled: each
column is the mean of `bin` consecutive steps (NaN steps ignored); the numbers pages show for a step
always come from the full trace, never from these columns.

Every panel's metadata says how its colour range was chosen (`range_note`), which shares of its values
lie beyond it (`under`, `over`: drawn in the end colours, marked on the colour bar), the full range when
a robust one is shown (`full_range`, for the colour bar's toggle), and for a one-hot text input the
steps whose character is outside the model's vocabulary (`unknown_steps`, at most one per drawn column).
Fields added after version 1 have defaults, so older callers and older messages still work.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field

import numpy as np

from .colors import LINES, SCALES, beyond

MAX_COLUMNS = 2000  # more columns than a projector has pixels across a panel


@dataclass(frozen=True)
class Panel:
    key: str
    title: str  # e.g. "f_t  forget gate"
    note: str  # the one-line intuition shown under the title
    values: np.ndarray = field(repr=False)  # (T, rows); NaN = no value (padding)
    kind: str = "heatmap"  # "heatmap" | "lines"
    scale: str = "cividis"
    vmin: float = 0.0
    vmax: float = 1.0
    units: str = ""
    row_label: str = "unit"
    row_names: tuple = ()
    range_note: str = ""  # how vmin/vmax were chosen, e.g. "robust range (…)"; "" for a fixed range
    under: float | None = None  # share of values below vmin / above vmax; None: encode counts them
    over: float | None = None
    full_range: tuple = ()  # (lo, hi) of the full range when a narrower robust range is shown
    unknown_steps: tuple = ()  # steps fed as all-zero because their character is not in the vocabulary


def downsample(values: np.ndarray, max_columns: int = MAX_COLUMNS) -> tuple[np.ndarray, int]:
    """(T, R) -> (C, R) column means of `bin` consecutive steps, with C <= max_columns, and bin."""
    T = values.shape[0]
    w = max(1, -(-T // max_columns))  # ceil
    if w == 1:
        return values.astype(np.float32, copy=False), 1
    C, whole = -(-T // w), T // w
    # The common case, every value finite: the whole bins in one pass, the short last bin apart (a padded copy of
    # the trace cost 20x more). A NaN or an infinity in a bin makes its mean non-finite: then the careful way.
    means = np.empty((C, values.shape[1]), np.float32)
    # contiguous first: a gate's columns of the (T, 4H) trace, meant in place, took 3x as long as copy and mean
    means[:whole] = np.ascontiguousarray(values[: whole * w]).reshape(whole, w, -1).mean(1, dtype=np.float32)
    if whole < C:
        means[whole:] = values[whole * w :].mean(0, dtype=np.float32)
    if np.isfinite(means).all():
        return means, w
    padded = np.full((C * w, values.shape[1]), np.nan, np.float32)
    padded[:T] = values
    blocks = padded.reshape(C, w, -1)
    counts = np.isfinite(blocks).sum(1)
    sums = np.nansum(blocks, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return means.astype(np.float32), w


def panel_meta(p: Panel, rows: int, offset: int, w: int) -> dict:
    """One panel's entry in the header (everything but its numbers)."""
    under, over = beyond(p.values, p.vmin, p.vmax) if p.kind == "heatmap" else (0.0, 0.0)
    under = under if p.under is None else p.under
    over = over if p.over is None else p.over
    columns = sorted({int(t) // w for t in p.unknown_steps})  # one tick per drawn column is all that shows
    return {"key": p.key, "title": p.title, "note": p.note, "kind": p.kind, "rows": rows, "offset": offset,
            "scale": p.scale, "vmin": float(p.vmin), "vmax": float(p.vmax), "units": p.units,
            "row_label": p.row_label, "row_names": list(p.row_names), "range_note": p.range_note,
            "under": float(under), "over": float(over), "full_range": [float(v) for v in p.full_range],
            "unknown_steps": [c * w for c in columns]}


def encode(panels: list[Panel], steps: int, marks=(), max_columns: int = MAX_COLUMNS, title: str = "",
           step_label: str = "time step t", view_id: str = "", present: bool = False) -> bytes:
    """The component's message. All panels share the time axis (T steps). `present`: drawn for a projector
    (larger text, thicker lines, panels fitted to the window)."""
    blocks, meta, offset, w = [], [], 0, 1
    for p in panels:
        if p.values.ndim != 2 or p.values.shape[0] != steps:
            raise ValueError(f"panel {p.key!r} must be (T={steps}, rows); got {p.values.shape}")
        cols, w = downsample(p.values, max_columns)
        block = np.ascontiguousarray(cols.T, dtype="<f4")  # (rows, C)
        meta.append(panel_meta(p, int(block.shape[0]), offset, w))
        blocks.append(block.tobytes())
        offset += block.nbytes
    header = {"version": 1, "id": view_id, "title": title, "steps": int(steps),
              "columns": int(-(-steps // w)), "bin": int(w), "step_label": step_label,
              "marks": [int(m) for m in marks], "panels": meta, "scales": SCALES, "lines": LINES,
              "present": bool(present)}
    raw = json.dumps(header, separators=(",", ":")).encode()
    pad = (-(4 + len(raw))) % 4
    return struct.pack("<I", len(raw)) + raw + b" " * pad + b"".join(blocks)


def decode(payload: bytes) -> tuple[dict, dict]:
    """Inverse of encode (for tests and tools): header and {panel key: (rows, C) array}."""
    (n,) = struct.unpack_from("<I", payload)
    header = json.loads(payload[4 : 4 + n])
    start = 4 + n + ((-(4 + n)) % 4)
    C = header["columns"]
    arrays = {p["key"]: np.frombuffer(payload, "<f4", count=p["rows"] * C, offset=start + p["offset"])
              .reshape(p["rows"], C) for p in header["panels"]}
    return header, arrays
