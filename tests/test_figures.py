"""Figure builders are pure functions: arrays in, figures (payloads, LaTeX, SVG, specs) out."""

from pathlib import Path

import numpy as np
import pytest

import lstm_core
from app import colors, figures, trace_payload


@pytest.fixture(scope="module")
def traces():
    x = np.random.default_rng(0).standard_normal((30, 2)).astype(np.float32)
    lstm = lstm_core.trace(lstm_core.from_torch(lstm_core.make_cell("lstm", 2, 5, seed=1)), x)
    rnn = lstm_core.trace(lstm_core.from_torch(lstm_core.make_cell("rnn", 2, 5, seed=1)), x)
    return x, lstm, rnn


def test_downsample_means_bins_and_ignores_nan():
    values = np.arange(10, dtype=np.float32)[:, None].repeat(2, 1)
    values[9, 1] = np.nan
    cols, w = trace_payload.downsample(values, max_columns=4)
    assert w == 3 and cols.shape == (4, 2)
    np.testing.assert_allclose(cols[:, 0], [1, 4, 7, 9])  # means of 0-2, 3-5, 6-8 and the lone 9
    assert np.isnan(cols[3, 1])  # a bin with no finite value stays empty
    same, w1 = trace_payload.downsample(values, max_columns=100)
    assert w1 == 1 and np.array_equal(same, values, equal_nan=True)


def test_downsample_of_whole_bins_skips_a_nan_and_keeps_an_infinity_in_its_bin_only():
    values = np.arange(12, dtype=np.float32)[:, None].repeat(2, 1)  # 12 steps -> 4 whole bins of 3
    values[4, 0], values[7, 1] = np.nan, np.inf
    cols, w = trace_payload.downsample(values, max_columns=4)
    assert w == 3
    np.testing.assert_array_equal(cols[:, 0], [1, 4, 7, 10])  # bin 1 is the mean of 3 and 5, the NaN skipped
    np.testing.assert_array_equal(cols[:, 1], [1, 4, np.inf, 10])


def test_shares_beyond_a_range_and_the_full_limit_count_finite_values_only():
    assert colors.beyond(np.array([[0.0, 0.5], [1.0, 0.25]]), 0.0, 1.0) == (0.0, 0.0)
    a = np.array([-3.0, np.nan, 0.5, 2.0, np.inf, 0.0])  # finite: -3, 0.5, 2, 0
    assert colors.beyond(a, -1.0, 1.0) == (0.25, 0.25)
    assert colors.full_limit(a) == 3.0
    assert colors.full_limit(np.array([np.nan, -np.inf])) == 1.0 and colors.full_limit(np.zeros((0, 3))) == 1.0
    assert colors.full_limit(np.array([[-0.5, 0.25]], np.float32)) == 0.5


def test_payload_round_trips_the_panels(traces):
    x, lstm, rnn = traces
    panels = figures.trace_panels(lstm, rnn, x, ("a", "b"))
    assert [p.key for p in panels] == ["x", "c", "rnn_h", "f", "i", "g", "o", "h"]  # input, the two memories, gates
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
    assert heat.colorbar.title.text == lstm_core.CELLS["lstm"].quantity("o").units
    assert fig.layout.shapes[0].x0 == 9


# ------------------------------------------------------------------------------------------------
# Colour ranges of signed quantities, and the input panel's unknown characters


@pytest.fixture(scope="module")
def copy_trace():
    """The shipped delayed-recall LSTM on its task's example: |C_t| from 0.5 in some units to 41 in others."""
    ck = lstm_core.load_model(Path(__file__).resolve().parents[1] / "assets" / "models" / "copy-lstm.npz")
    params = ck.task["params"]
    d = lstm_core.make_task("copy", 1, params.get("length"), 0,
                            **{k: v for k, v in params.items() if k not in ("n", "length", "seed")})
    x = ck.normalisation.apply(d.x[0]) if ck.normalisation else d.x[0]
    return lstm_core.trace(ck, x)


def visible_units(values: np.ndarray, lo: float, hi: float) -> float:
    """Share of units whose values, as drawn (clipped to [lo, hi]), span at least 20% of the colour range."""
    drawn = np.clip(values, lo, hi)
    return float(((drawn.max(0) - drawn.min(0)) >= 0.2 * (hi - lo)).mean())


def test_cell_state_colours_show_most_units_of_the_copy_task(copy_trace):
    c = copy_trace["c"]
    top = float(np.abs(c).max())
    before = visible_units(c, -top, top)  # the old range: the largest |value|, about ±41
    lo, hi = figures.colour_range(lstm_core.CELLS["lstm"].quantity("c"), c)
    after = visible_units(c, lo, hi)
    assert before < 0.5 and after >= 0.75, (before, after)
    assert lo == -hi and hi < top / 5
    # the rule, by hand: the median over units of each unit's 99th percentile of |C_t|
    assert hi == pytest.approx(np.median(np.percentile(np.abs(c), 99, axis=0)))
    r = figures.colour_range(lstm_core.CELLS["lstm"].quantity("c"), c)
    assert (r.under, r.over) == (pytest.approx((c < lo).mean()), pytest.approx((c > hi).mean()))
    assert r.full == (pytest.approx(-top), pytest.approx(top)) and r.note.startswith("robust range")


def test_cell_diagrams_and_plotly_use_the_panels_ranges(copy_trace):
    panel = figures.quantity_panel(copy_trace, "c")
    ranges = figures.diagram_ranges(copy_trace)
    assert ranges["c"] == ranges["c_prev"] == ("diverging", panel.vmin, panel.vmax)
    assert panel.range_note.startswith("robust range") and panel.over > 0 and panel.under > 0
    assert len(panel.full_range) == 2
    heat = figures.heatmap_figure(copy_trace, "c").data[0]
    assert (heat.zmin, heat.zmax) == (panel.vmin, panel.vmax)
    # a colour past the range is the end colour: the diagram of a saturated value is not lighter
    assert colors.colour_at("diverging", 40.0, panel.vmin, panel.vmax) == colors.SCALES["diverging"][-1]


def test_a_few_large_values_saturate_instead_of_washing_out_the_rest():
    rng = np.random.default_rng(3)
    values = rng.uniform(-1, 1, (200, 8))
    values[50, 2] = 40.0  # one spike
    r = colors.signed_range(values, "C_t")
    assert 0.9 < r.vmax < 1.0 and r.vmin == -r.vmax  # about the units' 99th percentile, not 40
    assert r.over == pytest.approx(float((values > r.vmax).sum()) / values.size) and r.over < 0.01
    assert r.full == (-40.0, 40.0)
    # units alike and no spike: the largest value is within 3x, so the full range is drawn
    uniform = rng.uniform(-2, 2, (200, 8))
    alike = colors.signed_range(uniform, "C_t")
    assert alike.vmax == pytest.approx(np.abs(uniform).max()) and alike.note == "full range (max |C_t|)"
    assert (alike.under, alike.over, alike.full) == (0.0, 0.0, ())


def test_robust_range_floors_and_empty_traces():
    silent = np.full((50, 8), 1e-4)
    silent[::2] *= -1
    silent[:, 0] = np.linspace(-5, 5, 50)  # one loud unit among silent ones
    assert colors.signed_range(silent, "C_t").vmax == pytest.approx(5 / 50)  # never below 1/50 of the max
    g = np.full((50, 8), 0.1)
    g[:, 0] = np.linspace(-30, 30, 50)  # niaf: the candidate leaves [-1, 1] in one unit
    lstm = lstm_core.CELLS["lstm"]
    lo, hi = figures.colour_range(lstm.quantity("g"), g)
    assert (lo, hi) == (-1.0, 1.0)  # max(median unit 0.1, the tanh range 1, 30 / 50); 30 > 3 x 1: robust
    assert figures.colour_range(lstm.quantity("g"), g).over == pytest.approx(float((g > 1).mean()))
    assert tuple(figures.colour_range(lstm.quantity("g"), np.full((5, 3), 0.5))) == (-1.0, 1.0)  # inside: fixed
    assert tuple(figures.colour_range(lstm.quantity("f"), np.full((5, 3), 0.5))) == (0.0, 1.0)
    empty = colors.signed_range(np.full((5, 3), np.nan), "C_t")
    assert (empty.vmin, empty.vmax, empty.over) == (-1.0, 1.0, 0.0)
    padded = np.vstack([np.random.default_rng(0).uniform(-1, 1, (20, 4)), np.full((5, 4), np.nan)])
    assert np.isfinite(tuple(colors.signed_range(padded, "C_t"))).all()


def test_input_panel_marks_steps_outside_the_vocabulary():
    one_hot = np.eye(6, dtype=np.float32)[[0, 1, 2, 3, 4, 5, 0, 1]]
    one_hot[[2, 5]] = 0.0  # two characters the model has no index for, fed as zeros
    p = figures.input_panel(one_hot, tuple("abcdef"))
    assert p.unknown_steps == (2, 5)
    assert p.note.startswith("2 steps outside the vocabulary, fed as zeros")
    one_hot[5, 1] = 1.0
    assert figures.input_panel(one_hot, tuple("abcdef")).note.startswith("1 step outside the vocabulary")
    clean = figures.input_panel(np.eye(6, dtype=np.float32), tuple("abcdef"))
    assert clean.unknown_steps == () and "vocabulary" not in clean.note
    multi_hot = np.zeros((4, 6), np.float32)
    multi_hot[1, :2] = 1.0  # two 1s in a step: not one-hot text, a zero step is just a zero step
    assert figures.input_panel(multi_hot, tuple("abcdef")).unknown_steps == ()
    padded = np.vstack([np.eye(6, dtype=np.float32), np.full((3, 6), np.nan)])
    assert figures.input_panel(padded, tuple("abcdef")).unknown_steps == ()  # padding is not unknown
    assert figures.input_panel(np.zeros((5, 2), np.float32), ("a", "b")).unknown_steps == ()  # lines panel
