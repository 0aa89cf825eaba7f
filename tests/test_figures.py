"""Figure builders are pure functions: arrays in, figures (payloads, LaTeX, SVG, specs) out."""

import re

import numpy as np
import pytest

import lstm_core
from app import colors, figures, trace_payload
from app.content import QUANTITIES


@pytest.fixture(scope="module")
def traces():
    x = np.random.default_rng(0).standard_normal((30, 2)).astype(np.float32)
    lstm = lstm_core.trace(lstm_core.make_cell("lstm", 2, 5, seed=1), x)
    rnn = lstm_core.trace(lstm_core.make_cell("rnn", 2, 5, seed=1), x)
    return x, lstm, rnn


def test_downsample_means_bins_and_ignores_nan():
    values = np.arange(10, dtype=np.float32)[:, None].repeat(2, 1)
    values[9, 1] = np.nan
    cols, w = trace_payload.downsample(values, max_columns=4)
    assert w == 3 and cols.shape == (4, 2)
    np.testing.assert_allclose(cols[:, 0], [1, 4, 7, 9])  # means of 0-2, 3-5, 6-8 and the lone 9
    assert np.isnan(cols[3, 1])  # a bin with no finite value stays empty
    same, w1 = trace_payload.downsample(values, max_columns=100)
    assert w1 == 1 and same is values or np.array_equal(same, values, equal_nan=True)


def test_payload_round_trips_the_panels(traces):
    x, lstm, rnn = traces
    panels = figures.trace_panels(lstm, rnn, x, ("a", "b"))
    assert [p.key for p in panels] == ["x", "f", "i", "g", "c", "o", "h", "rnn_h"]  # input, seed order, RNN
    payload = trace_payload.encode(panels, 30, marks=(3, 7), title="t", view_id="v")
    header, arrays = trace_payload.decode(payload)
    assert (header["steps"], header["columns"], header["bin"], header["marks"]) == (30, 30, 1, [3, 7])
    np.testing.assert_array_equal(arrays["f"], lstm["f"].T)
    np.testing.assert_array_equal(arrays["rnn_h"], rnn["h"].T)
    by_key = {p["key"]: p for p in header["panels"]}
    assert (by_key["f"]["vmin"], by_key["f"]["vmax"]) == (0.0, 1.0)  # gates: fixed [0, 1]
    c_lim = float(np.abs(lstm["c"]).max())
    assert by_key["c"]["vmin"] == pytest.approx(-c_lim) and by_key["c"]["vmax"] == pytest.approx(c_lim)
    assert by_key["x"]["kind"] == "lines" and by_key["x"]["row_names"] == ["a", "b"]
    assert set(header["scales"]) >= {by_key[k]["scale"] for k in by_key}
    with pytest.raises(ValueError, match="must be"):
        trace_payload.encode(panels, 31)


def test_a_long_trace_is_drawn_in_at_most_2000_columns():
    values = np.ones((100_000, 3), np.float32)
    header, arrays = trace_payload.decode(trace_payload.encode([trace_payload.Panel("k", "k", "", values)], 100_000))
    assert header["columns"] <= 2000 and header["bin"] == 50 and arrays["k"].shape == (3, 2000)


def test_lstm_equations_show_the_step_numbers_and_the_variant(traces):
    x, lstm, _ = traces
    m = lstm_core.make_cell("lstm", 2, 5, seed=1)
    s = lstm_core.step_at(m, lstm, 12)
    lines = figures.lstm_equations(s, 3)
    text = " ".join(lines)
    for key in ("f", "i", "g", "c", "o", "h"):
        assert f"{float(lstm[key][12, 3]):.3f}" in text, key
    assert f"{float(lstm['c'][11, 3]):.3f}".lstrip("-") in text  # C_{t-1}, by hand
    block = figures.aligned(lines)
    assert block.startswith(r"\small\begin{aligned}") and block.count(r"\\") == len(lines) - 1
    cifg = lstm_core.trace(lstm_core.make_cell("lstm", 2, 5, variant="cifg", seed=1), x)
    s2 = lstm_core.step_at(lstm_core.make_cell("lstm", 2, 5, variant="cifg", seed=1), cifg, 12)
    assert any(line.startswith("i_t = 1 - f_t") for line in figures.lstm_equations(s2, 0, "cifg"))


def test_cell_diagram_fills_every_slot_with_numbers_and_readable_colours(traces):
    _, lstm, rnn = traces
    m = lstm_core.make_cell("lstm", 2, 5, seed=1)
    s = lstm_core.step_at(m, lstm, 5)
    svg = figures.cell_diagram("lstm", s, 2, 5, figures.diagram_ranges(lstm), "(0.10, 0.20)")
    assert "{{" not in svg and "at step t = 5" in svg
    assert f"{float(lstm['f'][5, 2]):+.3f}" in svg and f"{float(lstm['c'][4, 2]):+.3f}" in svg
    fill = re.search(r'fill="(#[0-9a-f]{6})"[^>]*/>\s*<text[^>]*fill="(#[0-9a-f]{6})">f', svg)
    assert fill and fill.group(2) == colors.text_colour_on(fill.group(1))
    rs = lstm_core.step_at(lstm_core.make_cell("rnn", 2, 5, seed=1), rnn, 5)
    assert "{{" not in figures.cell_diagram("rnn", rs, 2, 5, figures.diagram_ranges(rnn), "x")
    with pytest.raises(KeyError):
        figures.fill_diagram("{{nothing}}", {}, {})


def test_colour_scale_ends_and_text_contrast():
    assert colors.colour_at("cividis", 0.0, 0, 1) == colors.SCALES["cividis"][0]
    assert colors.colour_at("cividis", 5.0, 0, 1) == colors.SCALES["cividis"][-1]  # clipped
    assert colors.colour_at("diverging", 0.0, -1, 1) == "#f7f7f7"  # zero is white
    assert colors.text_colour_on("#ffffff") == "#000000" and colors.text_colour_on("#00204d") == "#ffffff"


def test_memory_chart_spec_marks_the_nudge_and_moves_the_step_marker():
    curves = {"LSTM h_t": np.linspace(0, 1, 50), "RNN h_t": np.zeros(50)}
    spec = figures.memory_chart(curves, nudged=4, steps=50)
    moved = figures.at_step(spec, 17)
    assert moved["layer"][-1]["encoding"]["x"]["datum"] == 17
    assert spec["layer"][-1]["encoding"]["x"]["datum"] == 0  # the cached spec is untouched
    assert moved["layer"][1]["encoding"]["x"]["datum"] == 4
    values = moved["layer"][0]["data"]["values"]
    assert len(values) == 100 and {v["state"] for v in values} == set(curves)
    long = figures.memory_chart({"RNN h_t": np.zeros(6001)}, nudged=5, steps=6001)
    assert len(long["layer"][0]["data"]["values"]) <= 610  # thinned for speed, the nudged step kept
    assert any(v["step"] == 5 for v in long["layer"][0]["data"]["values"])


def test_plotly_heatmap_has_the_quantity_units_and_the_cursor(traces):
    _, lstm, _ = traces
    fig = figures.heatmap_figure(lstm, "o", step=9)
    heat = fig.data[0]
    assert heat.z.shape == (5, 30) and (heat.zmin, heat.zmax) == (0.0, 1.0)
    assert heat.colorbar.title.text == QUANTITIES["o"].units
    assert fig.layout.shapes[0].x0 == 9


def test_input_csv_and_x_label():
    text = figures.input_csv(np.array([[1.0, 2.0], [3.0, 4.0]]), ("a", "b"))
    assert text.splitlines() == ["step,a,b", "0,1.0,2.0", "1,3.0,4.0"]
    one_hot = np.zeros(6)
    one_hot[2] = 1
    assert figures.x_label(one_hot, tuple("ab cde")) == "space"
    assert figures.x_label(np.array([0.5, -1.0]), ("a", "b")) == "(0.50, -1.00)"
