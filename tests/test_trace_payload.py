"""The trace view's message (app/trace_payload.py) and the view itself (app/components/trace_view.js)."""

import json
import re
import struct
from pathlib import Path

import numpy as np
import pytest

from app import trace_payload
from app.trace_payload import Panel

VIEW_JS = Path(__file__).resolve().parents[1] / "app" / "components" / "trace_view.js"


def test_old_style_panels_still_encode_and_get_their_saturation_counted():
    values = np.linspace(-2, 2, 40, dtype=np.float32).reshape(20, 2)
    old = Panel("c", "C_t  cell state", "note", values, "heatmap", "diverging", -1.0, 1.0, "cell value")
    header, arrays = trace_payload.decode(trace_payload.encode([old], 20))
    (meta,) = header["panels"]
    np.testing.assert_array_equal(arrays["c"], values.T)
    assert meta["range_note"] == "" and meta["full_range"] == [] and meta["unknown_steps"] == []
    # shares of values beyond [-1, 1]: of 40 values evenly spread over [-2, 2], a quarter on each side
    assert meta["under"] == pytest.approx((values < -1).sum() / 40)
    assert meta["over"] == pytest.approx((values > 1).sum() / 40)
    assert meta["under"] == meta["over"] == 10 / 40
    lines = Panel("x", "x", "", values, kind="lines", vmin=-1.0, vmax=1.0)
    assert trace_payload.decode(trace_payload.encode([lines], 20))[0]["panels"][0]["over"] == 0.0


def test_range_metadata_round_trips():
    values = np.zeros((10, 3), np.float32)
    p = Panel("c", "C_t", "", values, scale="diverging", vmin=-3.0, vmax=3.0,
              range_note="robust range (median unit's 99th pct of |C_t|)", under=0.25, over=0.125,
              full_range=(-41.0, 41.0), unknown_steps=(2, 7))
    meta = trace_payload.decode(trace_payload.encode([p], 10))[0]["panels"][0]
    assert meta["range_note"] == p.range_note and (meta["under"], meta["over"]) == (0.25, 0.125)
    assert meta["full_range"] == [-41.0, 41.0] and meta["unknown_steps"] == [2, 7]


def test_unknown_steps_are_one_per_drawn_column_of_a_long_input():
    T = 100_000
    p = Panel("x", "x", "", np.zeros((T, 6), np.float32), unknown_steps=(0, 3, 49, 50, 75, T - 1))
    header = trace_payload.decode(trace_payload.encode([p], T))[0]
    assert header["bin"] == 50
    assert header["panels"][0]["unknown_steps"] == [0, 50, T - 50]  # the first step of each marked column


def test_decode_reads_a_message_without_the_new_fields():
    meta = {"key": "f", "title": "f", "note": "", "kind": "heatmap", "rows": 1, "offset": 0, "scale": "cividis",
            "vmin": 0.0, "vmax": 1.0, "units": "", "row_label": "unit", "row_names": []}
    raw = json.dumps({"version": 1, "columns": 3, "steps": 3, "bin": 1, "panels": [meta]}).encode()
    body = np.array([0.1, 0.2, 0.3], "<f4").tobytes()
    payload = struct.pack("<I", len(raw)) + raw + b" " * ((-(4 + len(raw))) % 4) + body
    header, arrays = trace_payload.decode(payload)
    assert header["steps"] == 3 and [p["key"] for p in header["panels"]] == ["f"]
    np.testing.assert_allclose(arrays["f"], [[0.1, 0.2, 0.3]])


def test_the_view_never_turns_a_string_into_markup():
    source = VIEW_JS.read_text()
    code = re.sub(r"//[^\n]*", "", source)  # comments may name what is avoided
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "DOMParser",
                 "createContextualFragment", "srcdoc"):
        assert sink not in code, sink
    assert "textContent" in code and "createElement" in code
    # the PNG's file name keeps only letters, digits, _ and - of the view id
    assert re.search(r"replace\(/\[\^A-Za-z0-9_-\]/g, \"\"\)", code)
    assert re.search(r"safeName\(state\.header\.id", code)
