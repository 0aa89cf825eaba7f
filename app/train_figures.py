"""Pure builders for the Train page: the live curves, the saturation scatter and the results table, from the
jobs' reports (training_jobs.JobView). Rows in, plain Vega-Lite dicts and table rows out; no Streamlit here.

The charts keep their spec constant while training runs and only their rows grow, so the browser updates the
data of the chart it has instead of drawing a new one. They are drawn as SVG, which also lets a browser test
count the points.
"""

from __future__ import annotations

import math

import numpy as np

import lstm_core
from lstm_core.gate_stats import CLOSED, OPEN

PALETTE = ("#0072b2", "#009e73", "#d55e00")  # one colour per model slot (colour-vision safe: Okabe-Ito)
GATE_NAMES = {"f": "forget gate f", "i": "input gate i", "o": "output gate o", "r": "reset gate r",
              "z": "update gate z"}
HIGHER_IS_BETTER = lstm_core.METRICS


def _svg(spec: dict) -> dict:
    """SVG rather than canvas: a few hundred marks draw quickly either way, and SVG marks are in the page."""
    return {**spec, "usermeta": {"embedOptions": {"renderer": "svg"}}}


def colours(labels: list[str]) -> dict:
    return {"field": "model", "type": "nominal", "title": None,
            "scale": {"domain": list(labels), "range": list(PALETTE[: len(labels)])},
            "legend": {"orient": "top", "labelFontSize": 13, "labelLimit": 400}}


MAX_EPOCHS_DRAWN = 300  # per model: a longer run is drawn at every k-th epoch (and its newest), so a poll stays cheap


def drawn(epochs: tuple) -> list:
    """The epochs a chart draws: all of them up to MAX_EPOCHS_DRAWN, else every k-th and the newest."""
    k = -(-len(epochs) // MAX_EPOCHS_DRAWN)
    return [r for i, r in enumerate(epochs) if i % k == 0 or i == len(epochs) - 1] if k > 1 else list(epochs)


CURVES = ("val_loss", "train_loss", "metric", "gap", "forget")  # a row's numbers, one column each
# Column types by pyarrow's names (pyarrow is imported when a table is made: not on every page's first run)
CURVE_TYPES = (("model", "string"), ("epoch", "int64"), *((c, "float64") for c in CURVES))
SATURATION_TYPES = (("model", "string"), ("panel", "string"), ("unit", "int64"), ("closed", "float64"),
                    ("open", "float64"), ("epoch", "int64"))


def curve_rows(jobs) -> list[dict]:
    """One row per model and epoch, one column per curve: validation and training loss, the metric, the gap
    (validation - training loss) and the mean forget gate; None where a value is missing or not finite.
    (Wide rows: a fifth of the rows and bytes each poll sends that one row per value would take.)"""
    rows = []
    for job in jobs:
        for r in drawn(job.epochs):
            row = {"model": job.label, "epoch": r["epoch"], "val_loss": r["val_loss"], "train_loss": r["train_loss"],
                   "metric": r["val_metric"], "gap": r["val_loss"] - r["train_loss"], "forget": r.get("forget")}
            rows.append({k: (None if k in CURVES and not _finite(v) else v) for k, v in row.items()})
    return rows


def table(rows: list[dict], types: tuple):
    """Chart rows as an Arrow table with fixed column types. Streamlit sends an Arrow table as it is; a list of
    dicts it first makes into a pandas DataFrame, about 1 ms per chart, which was most of the live fragment's
    server time on every poll (py-spy, benchmarks/class_load.py --with-training). Fixed types also keep a column
    that is still all None (the forget gate of an RNN) a float column."""
    import pyarrow as pa  # start-up time: the Explore page's first run never needs it

    return pa.Table.from_pylist(rows, schema=pa.schema([(name, getattr(pa, t)()) for name, t in types]))


def _finite(v) -> bool:
    return isinstance(v, float | int) and math.isfinite(v)


def curves_spec(labels: list[str], metric: str, baseline: float | None) -> dict:
    """Four panels on one shared epoch axis: loss (log scale; validation with dots, training dashed), the task's
    metric (with the trivial baseline), the overfitting gap, and the mean forget gate (LSTM f, GRU z)."""
    colour = colours(labels)
    x = {"field": "epoch", "type": "quantitative", "title": "epoch", "axis": {"tickMinStep": 1}}

    def line(field, y, title, point=False, dash=None):
        mark = {"type": "line", "point": point, "strokeWidth": 2, **({"strokeDash": dash} if dash else {})}
        return {"transform": [{"filter": {"field": field, "valid": True}}], "mark": mark,
                "encoding": {"x": x, "y": {"field": field, "type": "quantitative", **y}, "color": colour,
                             "tooltip": [{"field": "model", "type": "nominal"},
                                         {"field": "epoch", "type": "quantitative"},
                                         {"field": field, "type": "quantitative", "format": ".4f", "title": title}]}}

    def panel(title, layers):
        return {"title": {"text": title, "fontSize": 14, "anchor": "start"}, "width": 300, "height": 170,
                "layer": layers}

    loss = {"title": "loss (log scale)", "scale": {"type": "log"}}
    better = "higher" if HIGHER_IS_BETTER.get(metric, True) else "lower"
    guess = [] if baseline is None else [{"mark": {"type": "rule", "strokeDash": [4, 3], "color": "#888888"},
                                          "encoding": {"y": {"datum": float(baseline)}}}]
    half = [{"mark": {"type": "rule", "strokeDash": [2, 2], "color": "#bbbbbb"}, "encoding": {"y": {"datum": 0.5}}}]
    return _svg({
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "concat": [
            panel("Loss per epoch (validation: dots, training: dashed)",
                  [line("val_loss", loss, "validation loss", point=True),
                   line("train_loss", loss, "training loss", dash=[5, 3])]),
            panel(f"Validation {metric} ({better} is better; dashed: guessing)",
                  [line("metric", {"title": metric}, f"validation {metric}"), *guess]),
            panel("Overfitting gap: validation − training loss",
                  [line("gap", {"title": "loss difference"}, "gap")]),
            panel("Mean forget gate: LSTM f, GRU update gate z (1 keeps)",
                  [line("forget", {"title": "mean gate value", "scale": {"domain": [0, 1]}}, "mean forget gate"),
                   *half]),
        ],
        "columns": 2, "resolve": {"scale": {"x": "shared", "color": "shared"}},
        "config": {"axis": {"labelFontSize": 12, "titleFontSize": 13}},
    })


def saturation_rows(jobs, epoch: int | None = None) -> tuple[list[dict], dict]:
    """Each gate unit of each model as a point: the fraction of steps it is below 0.1 against above 0.9, at the
    newest frame at or before `epoch` (None: the newest). Returns the rows and {model: epoch shown}."""
    rows, shown = [], {}
    for job in jobs:
        frames = [f for f in job.frames if epoch is None or f[0] <= epoch]
        if not frames:
            continue
        e, stats = frames[-1]
        shown[job.label] = e
        for g in stats.gates:
            panel = f"{job.label} · {GATE_NAMES.get(g, g)}"
            for unit, (lo, hi) in enumerate(zip(stats.closed[g], stats.open[g], strict=True)):
                rows.append({"model": job.label, "panel": panel, "unit": unit, "closed": float(lo), "open": float(hi),
                             "epoch": e})
    return rows, shown


def saturation_spec(labels: list[str], panels: list[str]) -> dict:
    """Karpathy et al. (2015)'s picture of gate saturation: per unit, the fraction of steps the gate is below
    0.1 (x, mostly closed) against above 0.9 (y, mostly open); one panel per model and gate."""
    axis = {"type": "quantitative", "scale": {"domain": [0, 1]}}
    return _svg({
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "facet": {"field": "panel", "type": "nominal", "title": None, "sort": list(panels),
                  "header": {"labelFontSize": 13}},
        "columns": 3,
        "spec": {"width": 190, "height": 190, "layer": [
            {"mark": {"type": "rule", "color": "#cccccc"},
             "encoding": {"x": {"datum": 0}, "y": {"datum": 1}, "x2": {"datum": 1}, "y2": {"datum": 0}}},
            {"mark": {"type": "circle", "size": 45, "opacity": 0.75},
             "encoding": {"x": {"field": "closed", **axis, "title": f"fraction of steps < {CLOSED} (closed)"},
                          "y": {"field": "open", **axis, "title": f"fraction of steps > {OPEN} (open)"},
                          "color": colours(labels),
                          "tooltip": [{"field": "model", "type": "nominal"}, {"field": "unit", "type": "quantitative"},
                                      {"field": "closed", "type": "quantitative", "format": ".2f"},
                                      {"field": "open", "type": "quantitative", "format": ".2f"},
                                      {"field": "epoch", "type": "quantitative"}]}},
        ]},
        "config": {"axis": {"labelFontSize": 11, "titleFontSize": 12}},
    })


def n_parameters(ck) -> int:
    """Weights and biases of the cell and the readout head."""
    return int(sum(np.asarray(a).size for a in ck.arrays().values()))


def results_table(jobs, checkpoints: dict) -> dict:
    """The results side by side: {model: {measure: text}} (checkpoints: job id -> Checkpoint of the finished
    ones). Measures are rows, models columns, as a person compares them."""
    metric = next((j.epochs[0]["metric"] for j in jobs if j.epochs), "metric")
    out = {}
    for job in jobs:
        m = (job.result or {}).get("metrics", {})
        ck = checkpoints.get(job.id)
        init = job.config.get("forget_bias")
        if lstm_core.CELLS[job.config["model"]].forget_gate is None:
            init = "— (no gate)"
        elif init == "chrono":
            init = f"chrono, T_max {job.config.get('chrono_max')}"
        elif init is None:
            init = "torch's own"
        col = {"ended by": (job.result or {}).get("stop_reason") or job.stop_why or job.state,
               "epochs": str(m.get("epochs", len(job.epochs))),
               "seconds": _fmt(m.get("seconds"), ".1f"),
               f"validation {metric} (best epoch)": _fmt(m.get("val_metric"), ".4f"),
               f"{metric} of guessing": _fmt(m.get("baseline"), ".4f"),
               "validation loss": _fmt(m.get("val_loss"), ".4f"),
               "training loss": _fmt(m.get("train_loss"), ".4f"),
               "overfitting gap (validation − training loss)": _fmt(m.get("gap"), ".4f")}
        for k, v in enumerate(m.get("horizon_rmse") or []):
            col[f"RMSE {k + 1} step{'s' if k else ''} ahead"] = _fmt(v, ".4f")
        col["latency per step, µs (10,000-step sequence)"] = _fmt(m.get("latency_us_per_step"), ".1f")
        col["parameters"] = "" if ck is None else f"{n_parameters(ck):,}"
        col["forget-gate init"] = str(init)
        if job.error:
            col["ended by"] = f"failed: {job.error}"
        elif job.state == "cancelled":
            col["ended by"] = f"not started ({job.stop_why})"
        out[job.label] = col
    return out


def _fmt(v, spec: str) -> str:
    return "" if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(float(v), spec)
