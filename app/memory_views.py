"""Pure figure builders of the Memory page (arrays in, Vega-Lite specs as plain dicts out; no Streamlit).

Every chart names its axes with units, uses the models' colours of figures.MODEL_COLOURS (readable with
the common colour-vision deficiencies), and a log scale where the numbers span orders of magnitude.
"""

from __future__ import annotations

import numpy as np

from .figures import ONE_ROW, _chart

COLOURS = {"LSTM": "#0072b2", "GRU": "#009e73", "vanilla RNN": "#d55e00"}
FLOOR = 1e-30  # a log scale cannot show 0: smaller values are drawn at a floor (the tooltip is exact)
SPAN = 1e-15  # ... and so are values below this fraction of a chart's largest: 15 decades are plenty to read
MAX_POINTS = 500  # points drawn per line at most (every k-th, and the last)
MAX_TRAJECTORY_POINTS = 300  # dots drawn per trajectory panel at most (every k-th step, the marked ones, the last)
# A mark of many items (a line's points, a scatter's dots) carries no ARIA description per item: Vega would compute
# one string per point through its expression interpreter (a fifth of a long line chart's time in the browser) for
# SVG elements a screen reader cannot use one by one. The chart's `description`, its axes and legends keep theirs.
QUIET = {"aria": False}


def colour(name: str) -> str:
    return next((c for k, c in COLOURS.items() if name.startswith(k)), "#555555")


def _legend(field: str, names: list) -> dict:
    return {"field": field, "type": "nominal", "title": None,
            "scale": {"domain": names, "range": [colour(n) for n in names]},
            "legend": {"orient": "top", "labelFontSize": 14, "labelLimit": 400}}


def lines(curves: dict, x_title: str, y_title: str, log: bool = False, dashed: tuple = (),
          marker: int | None = None, height: int = 260) -> dict:
    """One line per curve: curves {name: (xs, ys)}. `dashed` names are drawn dashed (e.g. a path of the
    gradient); `marker` draws a grey rule at that x (e.g. the nudged step). A curve longer than MAX_POINTS is
    drawn at every k-th point and its last (the x axis's title says so): the browser's Vega work grows with the
    points, and a few hundred per line fill the chart's width."""
    rows, names = [], list(curves)
    top = max((float(np.nanmax(ys)) for _, ys in curves.values() if np.isfinite(ys).any()), default=1.0)
    floor = max(FLOOR, top * SPAN)
    k = max(1, -(-max((len(ys) for _, ys in curves.values()), default=1) // MAX_POINTS))
    if k > 1:
        x_title = f"{x_title} (1 point in {k} drawn)"
    for name, (xs, ys) in curves.items():
        n = len(ys)
        keep = [i for i in range(n) if i % k == 0 or i == n - 1] if k > 1 else range(n)
        xs, ys = np.asarray(xs)[keep], np.asarray(ys, np.float64)[keep]
        for x, y in zip(xs.tolist(), ys.tolist(), strict=True):
            if np.isfinite(y):
                rows.append({"x": x, "y": max(y, floor) if log else y, "value": y, "series": name})
    y_enc = {"field": "y", "type": "quantitative", "title": y_title}
    if log:
        y_enc["scale"] = {"type": "log"}
    layer = {"data": {"values": rows}, "mark": {"type": "line", "strokeWidth": 2.5, **QUIET}, "encoding": {
        "x": {"field": "x", "type": "quantitative", "title": x_title}, "y": y_enc,
        "color": _legend("series", names),
        "tooltip": [{"field": "series", "type": "nominal"}, {"field": "x", "type": "quantitative", "title": x_title},
                    {"field": "value", "type": "quantitative", "format": ".3g", "title": y_title}]}}
    if dashed:  # a dash scale only where a line is dashed: it is one more lookup per point in the browser
        layer["encoding"]["strokeDash"] = {
            "field": "series", "type": "nominal", "legend": None,
            "scale": {"domain": names, "range": [[6, 4] if n in dashed else [1, 0] for n in names]}}
    layers = [layer]
    if marker is not None:
        layers.append({"data": ONE_ROW, "mark": {"type": "rule", "strokeWidth": 2, "color": "#999999",
                                                           "strokeDash": [4, 3]}, "encoding": {"x": {"datum": marker}}})
    spec = _chart(layers, height)
    spec["description"] = f"{y_title} against {x_title}: {', '.join(names)}"
    return spec


# The two charts below have one panel per gate or model. Each panel carries its own rows: a chart whose data sits at
# the top of its spec (as a facet's must) makes Streamlit turn the rows into an Arrow table, which imports pandas
# and pyarrow (0.7 s of the Memory page's first visit on a fresh server) and sends the same numbers twice.
PANEL_TITLE = {"fontSize": 15, "fontWeight": "normal"}
PANELS_A_ROW = 3  # panels of ~200 px: three fit the main column at 1280 px with the sidebar open; more wrap
AXES = {"axis": {"labelFontSize": 13, "titleFontSize": 14}}


def saturation(points: dict) -> dict:
    """Gate saturation per unit (Karpathy et al. 2015): points {(model, gate): (below (H,), above (H,))}; x the
    share of steps a unit's gate is below 0.1, y above 0.9, one panel per gate."""
    names = list(dict.fromkeys(m for m, _ in points))
    panels = {}
    for (m, g), (lo, hi) in points.items():
        panels.setdefault(g, []).extend({"below": float(b), "above": float(a), "unit": int(j), "model": m, "gate": g}
                                        for j, (b, a) in enumerate(zip(lo, hi, strict=True)))
    encoding = {
        "x": {"field": "below", "type": "quantitative", "scale": {"domain": [0, 1]},
              "title": "share of steps < 0.1 (closed)"},
        "y": {"field": "above", "type": "quantitative", "scale": {"domain": [0, 1]},
              "title": "share of steps > 0.9 (open)"},
        "color": _legend("model", names),
        "shape": {"field": "model", "type": "nominal", "legend": None},
        "tooltip": [{"field": "model"}, {"field": "gate"}, {"field": "unit"},
                    {"field": "below", "format": ".2f"}, {"field": "above", "format": ".2f"}]}
    return {"$schema": "https://vega.github.io/schema/vega-lite/v5.json",
            "concat": [{"title": {"text": g, **PANEL_TITLE}, "width": 190, "height": 190, "data": {"values": rows},
                         "mark": {"type": "point", "filled": True, "size": 70, "opacity": 0.8, **QUIET},
                         "encoding": encoding} for g, rows in panels.items()],
            "description": f"Gate saturation per unit of {', '.join(names)}: share of steps closed against open, "
                           f"one panel per gate ({', '.join(panels)})",
            "columns": PANELS_A_ROW, "resolve": {"scale": {"color": "shared", "shape": "shared"}}, "config": AXES}


def trajectory(points: dict, marks: tuple = ()) -> dict:
    """A 2-D PCA of the states, coloured by time: points {model: (T, 2)}; marked steps drawn large. A panel of more
    than MAX_TRAJECTORY_POINTS steps draws a dot at every k-th step, each marked step and the last (the colour legend
    says so; the grey path still goes through every step): thousands of dots made the page's slowest chart in the
    browser."""
    T = max((len(p) for p in points.values()), default=1)
    k = max(1, -(-T // MAX_TRAJECTORY_POINTS))

    def panel(name, p):
        p = np.asarray(p)
        keep = [t for t in range(len(p)) if t % k == 0 or t in marks or t == len(p) - 1]
        rows = [{"pc1": float(p[t, 0]), "pc2": float(p[t, 1]), "t": t, "model": name, "marked": t in marks}
                for t in keep]
        # the grey path goes through every step (one SVG path, however long): joining only the drawn dots would
        # cut chords across an oscillating path that the states never took
        path = [{"pc1": float(a), "pc2": float(b), "t": t} for t, (a, b) in enumerate(p)] if k > 1 else None
        return {"title": {"text": name, **PANEL_TITLE}, "width": 200, "height": 200, "data": {"values": rows},
                "layer": [
            {**({"data": {"values": path}} if path else {}),
             "mark": {"type": "line", "color": "#bbbbbb", "strokeWidth": 1, **QUIET},
             "encoding": {"x": {"field": "pc1", "type": "quantitative", "title": "1st principal component"},
                          "y": {"field": "pc2", "type": "quantitative", "title": "2nd principal component"},
                          "order": {"field": "t"}}},
            {"mark": {"type": "point", "filled": True, **QUIET},
             "encoding": {"x": {"field": "pc1", "type": "quantitative"},
                          "y": {"field": "pc2", "type": "quantitative"},
                          "color": {"field": "t", "type": "quantitative",
                                    "title": "step t" if k == 1 else f"step t (1 in {k} drawn)",
                                    "scale": {"scheme": "viridis"}, "legend": {"orient": "bottom"}},
                          "size": {"field": "marked", "type": "nominal", "legend": None,
                                   "scale": {"domain": [False, True], "range": [30, 220]}},
                          "tooltip": [{"field": "t", "title": "step"}, {"field": "pc1", "format": ".3f"},
                                      {"field": "pc2", "format": ".3f"}]}}]}

    return {"$schema": "https://vega.github.io/schema/vega-lite/v5.json",
            "concat": [panel(name, p) for name, p in points.items()], "columns": PANELS_A_ROW,
            "description": f"The states' path in their first two principal components, coloured by time: "
                           f"{', '.join(points)}",
            "resolve": {"scale": {"x": "independent", "y": "independent", "color": "shared"}}, "config": AXES}


def histogram(values: dict, title: str, log: bool = True) -> dict:
    """Per-unit values as a histogram per model (forget times on a log axis): values {model: (H,)}."""
    rows = [{"v": float(v), "model": m} for m, vs in values.items() for v in np.asarray(vs) if np.isfinite(v)]
    names = list(values)
    x = {"field": "v", "type": "quantitative", "title": title, "bin": {"maxbins": 30}}
    if log:
        rows = [{"v": float(np.log10(max(r["v"], 1e-9))), "model": r["model"]} for r in rows]
        x["title"] = f"{title}, log10"
    return _chart([{"data": {"values": rows}, "mark": {"type": "bar", "opacity": 0.75},
                    "encoding": {"x": x, "y": {"aggregate": "count", "type": "quantitative", "title": "units",
                                               "stack": None},
                                 "color": _legend("model", names)}}], 220)


def recall_bars(results: dict, goal: float = 0.9) -> dict:
    """Held-out R² of reading each delayed symbol off the state, grouped by symbol, one bar per model and state
    (the y title is short: a title longer than the plot's height makes Vega-Lite shrink the plot to a sliver;
    the page's caption says what 1 and 0 mean):
    results {series: {"r2": (k,), "accuracy": (k,), "r2_all", "accuracy_all", "lags": (k,), "steps": (k,)}}. A
    dashed rule marks `goal`."""
    rows, names = [], list(results)
    for name, r in results.items():
        k = len(r["r2"])
        groups = [(f"symbol {j + 1}", float(r["r2"][j]), float(r["accuracy"][j]), int(r["lags"][j]), int(r["steps"][j]))
                  for j in range(k)]
        if np.isfinite(r["r2_all"]):
            groups.append(("all (one probe)", float(r["r2_all"]), float(r["accuracy_all"]), int(r["lags"][0]), None))
        rows += [{"symbol": g, "r2": v, "accuracy": a, "lag": lag, "step": step, "series": name}
                 for g, v, a, lag, step in groups if np.isfinite(v)]
    order = list(dict.fromkeys(r["symbol"] for r in rows))
    bars = {"data": {"values": rows}, "mark": {"type": "bar"}, "encoding": {
        "x": {"field": "symbol", "type": "nominal", "sort": order, "title": None, "axis": {"labelAngle": 0}},
        "xOffset": {"field": "series", "type": "nominal", "sort": names},
        "y": {"field": "r2", "type": "quantitative", "title": "held-out R² of the symbol", "scale": {"domainMax": 1}},
        "color": _legend("series", names),
        "tooltip": [{"field": "series", "type": "nominal"}, {"field": "symbol", "type": "nominal"},
                    {"field": "r2", "type": "quantitative", "format": ".3f", "title": "R²"},
                    {"field": "accuracy", "type": "quantitative", "format": ".3f"},
                    {"field": "lag", "type": "quantitative", "title": "lag (steps after the symbol)"},
                    {"field": "step", "type": "quantitative", "title": "state's step"}]}}
    rule = {"data": ONE_ROW, "mark": {"type": "rule", "strokeWidth": 2, "color": "#999999",
                                                "strokeDash": [4, 3]}, "encoding": {"y": {"datum": goal}}}
    return _chart([bars, rule], 260)


SHIPPED_RUN, THIS_SESSION = "shipped sweep", "this session"


def delay_sweep(shipped: dict, chance: float, band: float, session: dict | None = None) -> dict:
    """Accuracy against delay on a log axis, one colour per model, the chance level as a rule with the band that
    still counts as chance shaded under it. shipped {model: (delays, accuracies)} (one entry per seed; the
    line joins the median per delay), session {model: (delays, accuracies)}: this session's reruns, drawn as
    large outlined diamonds."""
    session = session or {}
    names = list(dict.fromkeys([*shipped, *session]))
    rows = []
    for source, curves in ((SHIPPED_RUN, shipped), (THIS_SESSION, session)):
        for name, (delays, accs) in curves.items():
            rows += [{"delay": int(d), "accuracy": float(a), "model": name, "source": source}
                     for d, a in zip(np.asarray(delays).tolist(), np.asarray(accs, np.float64).tolist(), strict=True)]
    medians = []
    for name, (delays, accs) in shipped.items():
        by = {}
        for d, a in zip(np.asarray(delays).tolist(), np.asarray(accs, np.float64).tolist(), strict=True):
            by.setdefault(int(d), []).append(a)
        medians += [{"delay": d, "median": float(np.median(v)), "model": name} for d, v in sorted(by.items())]
    ds = [r["delay"] for r in rows] or [1]
    x = {"field": "delay", "type": "quantitative",
         "title": "delay: blank steps each symbol is held through (log scale)",
         "scale": {"type": "log", "domain": [max(1, min(ds)) / 1.3, max(ds) * 1.3], "nice": False},
         "axis": {"values": sorted(set(ds)), "format": "d", "labelFontSize": 13}}
    y = {"field": "accuracy", "type": "quantitative", "title": "validation accuracy (share of symbols recalled)",
         "scale": {"domain": [0, 1]}}
    colour = _legend("model", names)
    tooltip = [{"field": "model", "type": "nominal"}, {"field": "source", "type": "nominal"},
               {"field": "delay", "type": "quantitative", "title": "delay in steps"},
               {"field": "accuracy", "type": "quantitative", "format": ".3f"}]
    layers = [
        {"data": {"values": [{"lo": 0.0, "hi": band}]}, "mark": {"type": "rect", "color": "#bbbbbb", "opacity": 0.3},
         "encoding": {"y": {**y, "field": "lo"}, "y2": {"field": "hi"}}},
        {"data": ONE_ROW, "mark": {"type": "rule", "strokeWidth": 2, "color": "#555555",
                                             "strokeDash": [6, 4]}, "encoding": {"y": {"datum": chance}}},
        {"data": ONE_ROW, "mark": {"type": "text", "align": "left", "baseline": "bottom", "dx": 4, "dy": -2,
                                             "fontSize": 13, "color": "#333333", "text": f"chance {chance:.3f}"},
         "encoding": {"y": {"datum": band}, "x": {"datum": max(1, min(ds)) / 1.3}}},
        {"data": {"values": medians}, "mark": {"type": "line", "strokeWidth": 2.5},
         "encoding": {"x": {**x, "field": "delay"}, "y": {**y, "field": "median"}, "color": colour}},
        {"data": {"values": rows}, "mark": {"type": "point", "filled": True, "opacity": 1},
         "encoding": {"x": x, "y": y, "color": colour,
                      "shape": {"field": "source", "type": "nominal", "title": None,
                                "scale": {"domain": [SHIPPED_RUN, THIS_SESSION], "range": ["circle", "diamond"]},
                                "legend": {"orient": "top", "labelFontSize": 14, "labelLimit": 400}},
                      "size": {"field": "source", "type": "nominal", "legend": None,
                               "scale": {"domain": [SHIPPED_RUN, THIS_SESSION], "range": [80, 320]}},
                      "stroke": {"field": "source", "type": "nominal", "legend": None,
                                 "scale": {"domain": [SHIPPED_RUN, THIS_SESSION], "range": ["#ffffff", "#000000"]}},
                      "tooltip": tooltip}},
    ]
    spec = _chart(layers, 320)
    spec["resolve"] = {"scale": {"color": "shared"}}
    return spec
