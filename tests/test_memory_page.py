"""The Memory page (app/screens/memory.py): every section draws, and its charts carry the numbers of an
independent computation (torch, finite properties of clamps, numpy's own correlation)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

import lstm_core
from app import memory_data, memory_views, trace_payload
from tests.test_app import example_input, unescape

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "assets" / "models"
SECTIONS = ["Retention", "Gradient flow", "Gate saturation", "Interventions", "State trajectory", "A memory ruler"]


def memory_page(**state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app" / "streamlit_app.py"), default_timeout=120)
    at.run()
    at.switch_page("screens/memory.py").run()
    if state:
        for k, v in state.items():
            at.session_state[k] = v
        at.run()
    assert not at.exception, at.exception
    return at


def _elements(node, out):
    children = getattr(node, "children", None)
    for c in (children.values() if isinstance(children, dict) else children or []):
        out.append(c)
        _elements(c, out)
    return out


def charts(at) -> list[dict]:
    found = [e for e in _elements(at._tree, []) if type(e).__name__ == "UnknownElement" and e.type == "vega_lite_chart"]
    return [json.loads(e.proto.spec) for e in found]


def clamp_view(at) -> tuple[dict, dict]:
    """The clamp's trace view: the one trace view on the page with a held C_t panel."""
    views = [trace_payload.decode(c.proto.bytes) for c in at.get("bidi_component")
             if c.proto.component_name == "lstmlab_trace_view"]
    found = [v for v in views if "held_c" in v[1]]
    assert len(found) == 1, f"{len(found)} clamp views"
    return found[0]


def rows(spec: dict) -> list[dict]:
    layer = spec["layer"][0] if "layer" in spec else spec
    data = layer.get("data", spec.get("data"))
    return data["values"] if "values" in data else spec["datasets"][data["name"]]


@pytest.mark.parametrize("task", ["adding", "copy"])
def test_every_section_draws_for_lstm_gru_and_rnn(task):
    at = memory_page(task=task)
    headings = [m.value for m in at.markdown if m.value.startswith("#####")]
    for name in SECTIONS:
        assert any(h.startswith(f"##### {name}") for h in headings), name
    assert len(charts(at)) >= 6  # retention, gradient, saturation, trajectory, forget times, probes
    legend = charts(at)[0]["layer"][0]["encoding"]["color"]["scale"]["domain"]
    assert legend == ["LSTM h_t", "LSTM C_t", "GRU h_t", "vanilla RNN h_t"]


def test_the_retention_chart_is_the_change_torch_computes():
    at = memory_page(task="adding")
    ck = lstm_core.load_model(MODELS / "adding-lstm.npz")
    x = example_input("adding", ck)
    s = int(np.flatnonzero(lstm_core.make_task("adding", 1, 100, 0).marks[0])[0])  # the first marked step
    changed = x.copy()
    changed[s] = 0.0
    with torch.no_grad():
        cell = lstm_core.sequence_model(ck).cell
        h0, h1 = (cell(torch.from_numpy(v)[None])[0][0].numpy().astype(np.float64) for v in (x, changed))
    expected = np.linalg.norm(h1 - h0, axis=1)[s:]
    shown = [r["value"] for r in rows(charts(at)[0]) if r["series"] == "LSTM h_t"]
    np.testing.assert_allclose(shown, expected, rtol=2e-3, atol=1e-5)


def _torch_lstm_gates(ck, x) -> dict:
    """i, f, o (T, H) of the shipped LSTM, from its torch weights step by step (torch's gate order i, f, g, o)."""
    sd = {k: v.double() for k, v in lstm_core.sequence_model(ck).cell.state_dict().items()}
    H = ck.hidden_size
    h, out = torch.zeros(H, dtype=torch.float64), {"i": [], "f": [], "o": []}
    c = torch.zeros(H, dtype=torch.float64)
    for xt in torch.from_numpy(x).double():
        z = sd["weight_ih_l0"] @ xt + sd["bias_ih_l0"] + sd["weight_hh_l0"] @ h + sd["bias_hh_l0"]
        i, f, o = torch.sigmoid(z[:H]), torch.sigmoid(z[H:2 * H]), torch.sigmoid(z[3 * H:])
        g = torch.tanh(z[2 * H:3 * H])
        c = f * c + i * g
        h = o * torch.tanh(c)
        for k, v in (("i", i), ("f", f), ("o", o)):
            out[k].append(v.numpy())
    return {k: np.array(v) for k, v in out.items()}


def test_the_saturation_and_trajectory_panels_carry_torchs_numbers():
    at = memory_page(task="adding")
    ck = lstm_core.load_model(MODELS / "adding-lstm.npz")
    x = example_input("adding", ck)
    gates = _torch_lstm_gates(ck, x)
    spec = next(c for c in charts(at) if c.get("concat") and "below" in json.dumps(c))
    assert "data" not in spec  # the rows live in the panels (no Arrow table): see memory_views
    seen = set()
    for panel in spec["concat"]:
        for g in ("i", "f", "o"):
            mine = sorted((r["unit"], r["below"], r["above"]) for r in panel["data"]["values"]
                          if r["model"] == "LSTM" and r["gate"].startswith(g))
            if not mine:
                continue
            seen.add(g)
            assert panel["title"]["text"].startswith(g)
            a = gates[g]
            np.testing.assert_allclose([m[1] for m in mine], (a < 0.1).mean(axis=0), atol=1e-12, err_msg=g)
            np.testing.assert_allclose([m[2] for m in mine], (a > 0.9).mean(axis=0), atol=1e-12, err_msg=g)
    assert seen == {"i", "f", "o"}
    spec = next(c for c in charts(at) if c.get("concat") and "pc1" in json.dumps(c))
    [panel] = [p for p in spec["concat"] if p["title"]["text"].startswith("LSTM h_t")]
    with torch.no_grad():
        h = lstm_core.sequence_model(ck).cell(torch.from_numpy(x)[None])[0][0].numpy().astype(np.float64)
    _, sv, vt = np.linalg.svd(h - h.mean(axis=0), full_matrices=False)
    want = (h - h.mean(axis=0)) @ vt[:2].T
    drawn = sorted(panel["data"]["values"], key=lambda r: r["t"])
    got, want = np.array([[r["pc1"], r["pc2"]] for r in drawn]), want[[r["t"] for r in drawn]]
    for k in range(2):  # a principal direction is defined up to its sign
        np.testing.assert_allclose(np.abs(got[:, k]), np.abs(want[:, k]), rtol=1e-3, atol=1e-4)
    assert f"{(sv[:2] ** 2).sum() / (sv ** 2).sum():.0%} of the variance" in panel["title"]["text"]


def test_the_gradient_chart_falls_for_the_rnn_and_not_for_the_lstm():
    at = memory_page(task="adding")
    spec = next(c for c in charts(at) if c.get("layer") and "‖∂h_T" in c["layer"][0]["encoding"]["y"]["title"])
    by = {}
    for r in rows(spec):
        by.setdefault(r["series"], []).append(r["value"])
    rnn, lstm = np.array(by["vanilla RNN"]), np.array(by["LSTM"])
    assert rnn[-1] / rnn[-100] > 1e4  # the shipped adding RNN: the first inputs barely reach h_T
    assert lstm[-1] / lstm[-100] < 1e2  # the LSTM's gradient does not vanish over 100 steps
    caption = next(c.value for c in at.caption if "How much more the last input" in c.value)
    assert "vanilla RNN" in caption


def test_freezing_the_memory_holds_the_cell_state_exactly_on_the_page():
    at = memory_page(task="adding", clamp="freeze", clamp_from=30)
    header, arrays = clamp_view(at)
    held = arrays["held_c"]  # (units, steps): f = 1 and i = 0 from step 30 on
    assert np.array_equal(held[:, 30:], np.repeat(held[:, 29:30], held.shape[1] - 30, axis=1))
    assert not np.array_equal(arrays["c"][:, 30:], held[:, 30:])  # as trained, C keeps moving
    said = [m.value for m in at.markdown if "with the gate held" in m.value]
    assert said, "the answer with the gate held"


def test_a_custom_clamp_on_chosen_units_leaves_the_other_units_alone():
    at = memory_page(task="adding", clamp="custom", clamp_gate="f", clamp_value=0, clamp_units="2, 5")
    _, arrays = clamp_view(at)
    change = arrays["change_c"]
    others = [j for j in range(change.shape[0]) if j not in (2, 5)]
    start = int(np.flatnonzero(lstm_core.make_task("adding", 1, 100, 0).marks[0])[-1]) + 1  # after the marks
    assert np.abs(change[:, :start]).max() < 1e-5  # before the clamp nothing differs (but float32 rounding)
    assert np.abs(change[[2, 5], start:]).max() > 0.01
    assert np.abs(change[others, start]).max() < 1e-5  # the held units' change reaches the others one step later


def test_a_bad_unit_list_is_a_message_not_an_error():
    at = memory_page(task="adding", clamp_units="<b>1</b>")
    assert any("is not 'all' or unit numbers" in w.value.replace("\\", "") for w in at.warning)


def test_interpretable_cells_on_text_match_numpys_correlation():
    at = memory_page(task="charlm")
    assert any(m.value.startswith("##### Interpretable cells") for m in at.markdown)
    ck = lstm_core.load_model(MODELS / "charlm-lstm.npz")
    params = ck.task["params"]
    d = lstm_core.make_task("charlm", memory_data.TEXT_SEQUENCES, params["length"], 11)
    c, props = [], {}
    with torch.no_grad():  # C_t by torch, one step at a time: the independent reference
        cell = lstm_core.sequence_model(ck).cell
        for b in range(d.x.shape[0]):
            hx, cs = None, []
            for t in range(d.x.shape[1]):
                _, hx = cell(torch.from_numpy(d.x[b, t : t + 1])[None], hx)
                cs.append(hx[1].reshape(-1).numpy().astype(np.float64))
            c.append(np.array(cs))
            chars = [ck.vocab[int(np.argmax(r))] for r in d.x[b]]
            for k, v in memory_data.text_properties(chars).items():
                props.setdefault(k, []).append(v)
    c = np.concatenate(c)
    found = memory_data.interpretable(ck, "charlm", params, "c")
    assert "position in the line" in found
    for prop, (units, r) in found.items():
        values = np.concatenate(props[prop])
        corr = np.array([np.corrcoef(c[:, j], values)[0, 1] for j in range(c.shape[1])])
        best = np.argsort(-np.abs(np.nan_to_num(corr)))[:3]
        assert list(units) == list(best), prop
        np.testing.assert_allclose(r, corr[best], atol=1e-4)


def test_text_properties_by_hand():
    p = memory_data.text_properties(list('a "b" (c)\nd'))
    assert p["inside quotes"].tolist() == [0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    assert p["inside brackets"].tolist() == [0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0]
    assert p["position in the line"].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0]


def test_log_charts_keep_the_exact_value_and_draw_tiny_ones_at_a_floor():
    spec = memory_views.lines({"RNN": ([0, 1, 2, 3], [1.0, 0.0, 1e-40, 1e-10])}, "t", "change", log=True)
    r = rows(spec)
    assert [v["value"] for v in r] == [1.0, 0.0, 1e-40, 1e-10]
    assert [v["y"] for v in r] == [1.0, 1e-15, 1e-15, 1e-10]  # 15 decades below the largest


def recall_rows(at) -> dict:
    spec = next(c for c in charts(at) if c.get("layer") and "xOffset" in c["layer"][0]["encoding"])
    out = {}
    for r in rows(spec):
        out.setdefault(r["series"], {})[r["symbol"]] = r
    return out


def test_the_delayed_symbols_are_read_at_the_delay_for_lstm_gru_and_rnn():
    at = memory_page(task="copy")
    shown = recall_rows(at)
    assert list(shown) == ["LSTM h_t", "GRU h_t", "vanilla RNN h_t"]
    direct = lstm_core.recall_probe(lstm_core.load_model(MODELS / "copy-lstm.npz"), n=memory_data.RECALL_SEQUENCES)
    np.testing.assert_allclose([shown["LSTM h_t"][f"symbol {j + 1}"]["r2"] for j in range(5)], direct.r2)
    assert [shown["LSTM h_t"][f"symbol {j + 1}"]["lag"] for j in range(5)] == [56] * 5  # k + delay + 1
    assert shown["LSTM h_t"]["all (one probe)"]["r2"] >= 0.9  # issue 14's goal, on the page
    assert shown["vanilla RNN h_t"]["all (one probe)"]["r2"] < 0.2
    caption = next(c.value for c in at.caption if c.value.startswith("Where each symbol"))
    assert "Brier skill score" in caption and "300 held" in caption

    at = memory_page(task="copy", recall_at="go", recall_state="both", recall_kind="linear")
    shown = recall_rows(at)
    assert list(shown) == ["LSTM h_t and C_t", "GRU h_t", "vanilla RNN h_t"]
    assert "all (one probe)" not in shown["LSTM h_t and C_t"]  # at the go cue every symbol has its own lag
    assert [shown["GRU h_t"][f"symbol {j + 1}"]["lag"] for j in range(5)] == [55, 54, 53, 52, 51]
    caption = next(c.value for c in at.caption if c.value.startswith("Where each symbol"))
    assert "go cue" in caption and "least" in caption


# ---------------------------------------------------------------------------------------------------------
# The delay sweep: the shipped results as a chart and in words, and a rerun in the background


def sweep_chart(at) -> dict:
    return next(c for c in charts(at) if c.get("layer") and len(c["layer"]) > 4
                and c["layer"][4]["encoding"]["x"]["field"] == "delay")


def sweep_rows(spec: dict, source: str) -> list[dict]:
    return [r for r in spec["layer"][4]["data"]["values"] if r["source"] == source]


def test_the_sweep_figure_plots_exactly_the_numbers_it_is_given():
    shipped = {"LSTM": ([5, 50, 500], [1.0, 0.95, 0.2]), "vanilla RNN": ([5, 50, 500], [0.9, 0.13, 0.12])}
    spec = memory_views.delay_sweep(shipped, 0.125, 0.145, {"LSTM": ([30], [0.5])})
    drawn = {(r["model"], r["source"], r["delay"], r["accuracy"]) for r in spec["layer"][4]["data"]["values"]}
    assert drawn == {("LSTM", "shipped sweep", 5, 1.0), ("LSTM", "shipped sweep", 50, 0.95),
                     ("LSTM", "shipped sweep", 500, 0.2), ("vanilla RNN", "shipped sweep", 5, 0.9),
                     ("vanilla RNN", "shipped sweep", 50, 0.13), ("vanilla RNN", "shipped sweep", 500, 0.12),
                     ("LSTM", "this session", 30, 0.5)}
    assert spec["layer"][4]["encoding"]["x"]["scale"]["type"] == "log"
    assert "blank steps" in spec["layer"][4]["encoding"]["x"]["title"]
    assert spec["layer"][1]["encoding"]["y"]["datum"] == 0.125  # the chance line
    assert spec["layer"][0]["data"]["values"] == [{"lo": 0.0, "hi": 0.145}]  # the band still counted as chance
    colours = spec["layer"][4]["encoding"]["color"]["scale"]
    assert colours["domain"] == ["LSTM", "vanilla RNN"] and colours["range"] == ["#0072b2", "#d55e00"]  # Okabe-Ito


def test_the_delay_sweep_section_shows_the_shipped_file():
    at = memory_page(task="adding")  # the sweep is delayed recall's, whatever the sidebar shows
    s = lstm_core.load_sweep(memory_data.SWEEP_FILE)
    spec = sweep_chart(at)
    names = {"lstm": "LSTM", "gru": "GRU", "rnn": "vanilla RNN"}
    drawn = sorted((r["model"], r["delay"], r["accuracy"]) for r in sweep_rows(spec, "shipped sweep"))
    assert drawn == sorted((names[p.model], p.delay, p.accuracy) for p in s.points)
    said = " ".join(unescape(m.value) for m in at.markdown)
    for m in s.models:
        fall, first = s.falls_to_chance(m), s.first_at_chance(m)
        assert f"{names[m]}: accuracy" in said
        if fall is not None:
            assert f"from {fall} steps on" in said or f"from a delay of {fall} steps on" in said
        if first is not None:
            assert f"at chance at a delay of {first} steps" in said or f"from a delay of {first} steps on" in said
    assert any(s.command in unescape(c.value) for c in at.caption)  # the command that made it
    assert at.number_input(key="sweep_delay").value == 50


def test_a_missing_or_tampered_sweep_file_is_a_message(tmp_path, monkeypatch):
    bad = tmp_path / "copy_delay.json"
    bad.write_text(memory_data.SWEEP_FILE.read_text().replace('"accuracy": 0', '"accuracy": 1', 1))
    monkeypatch.setattr(memory_data, "SWEEP_FILE", bad)
    monkeypatch.setattr(memory_data.shipped_sweep, "__defaults__", (bad,))
    at = memory_page(task="adding")
    assert any("cannot be shown" in unescape(e.value) and "digest" in unescape(e.value) for e in at.error)


@pytest.mark.slow
def rerun_button(at):
    assert not at.exception, at.exception
    found = [b for b in at.button if b.label.startswith("▶ Rerun")]
    assert found, ([b.label for b in at.button], [unescape(p.proto.text) for p in at.get("progress")],
                   [unescape(e.value) for e in at.error])
    return found[0]


def test_a_rerun_trains_the_three_models_in_the_background_and_can_be_stopped():
    import time

    from lstm_core import sweep as sw

    at = memory_page(task="adding")
    at.number_input(key="sweep_delay").set_value(30).run()
    at.number_input(key="sweep_epochs").set_value(10_000).run()
    rerun_button(at).click().run()
    assert not at.exception
    end = time.monotonic() + 120  # a bound for a page that never answers, not a speed requirement
    # Stop once a model has reported an epoch: a job stopped while its process still starts may take longer than
    # the pool's grace period on a loaded machine (training_jobs.STOP_GRACE_SECONDS), and is then ended unheard.
    while not any("best validation accuracy" in unescape(p.proto.text) for p in at.get("progress")):
        assert time.monotonic() < end, [p.proto.text for p in at.get("progress")]
        at.run()
    links = [e.proto.label for e in at.get("page_link")]
    assert not any("Back to Memory" in unescape(label) for label in links), links  # we are on Memory
    at.button(key="sweep_stop").click().run()
    while any(b.label.startswith("■ Stop") for b in at.button):
        assert time.monotonic() < end, [p.proto.text for p in at.get("progress")]
        at.run()
    said = " ".join(unescape(c.value) for c in at.caption)
    assert "at delay 30, seed 0" in said, [unescape(p.proto.text) for p in at.get("progress")]
    assert "at delay 30, seed 0" in said and "not reproducible" in said  # stopped: marked as such
    # A short rerun: one epoch at delay 3; the diamonds are the accuracies the same configs give in this process.
    at.number_input(key="sweep_delay").set_value(3).run()
    at.number_input(key="sweep_epochs").set_value(1).run()
    rerun_button(at).click().run()
    end = time.monotonic() + 300
    while any(b.label.startswith("■ Stop") for b in at.button) or not any(
            r["delay"] == 3 for r in sweep_rows(sweep_chart(at), "this session")):
        assert time.monotonic() < end, [p.proto.text for p in at.get("progress")]
        at.run()
    assert not at.exception
    mine = {r["model"]: r["accuracy"] for r in sweep_rows(sweep_chart(at), "this session") if r["delay"] == 3}
    s = lstm_core.load_sweep(memory_data.SWEEP_FILE)
    names = {"lstm": "LSTM", "gru": "GRU", "rnn": "vanilla RNN"}
    over = {**s.settings["overrides"], "max_epochs": 1, "max_seconds": 600.0}
    for m in s.models:
        cfg = sw.point_config(m, 3, 0, forget_bias=s.settings["forget_bias"], **over)
        assert mine[names[m]] == pytest.approx(lstm_core.train(cfg).metrics["val_metric"], abs=1e-9), m


def test_the_memory_page_imports_neither_torch_nor_pandas_nor_starts_the_training_pool():
    """Every view of the page runs on numpy (gradient flow's recursions, the sweep's results file, the probes):
    a first visit on a fresh server does not wait 1.3 s for torch. Only a rerun of the sweep trains, in the
    training pool's own processes. Every chart keeps its rows inside its layers or panels, so Streamlit makes no
    Arrow table of them (pandas and pyarrow: 0.7 s)."""
    import subprocess
    import sys

    code = ("import sys; from streamlit.testing.v1 import AppTest\n"
            f"at = AppTest.from_file({str(ROOT / 'app' / 'streamlit_app.py')!r}, default_timeout=120)\n"
            "at.query_params['task'] = 'sine'; at.query_params['example_length'] = '1000'\n"
            "at.run(); at.switch_page('screens/memory.py').run()\n"
            "assert not at.exception, at.exception\n"
            "assert len(at.get('bidi_component')) >= 1 and 'Delay sweep' in ' '.join(m.value for m in at.markdown)\n"
            "print(sorted(m for m in ('torch', 'pandas', 'pyarrow') if m in sys.modules))\n"
            "from app import training_jobs\n"
            "print('training pool:', training_jobs.existing())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    # nor does it start the training pool, whose forkserver imports torch: 1-2 s of a core while the page loads
    assert out.stdout.strip().splitlines()[-2:] == ["[]", "training pool: None"], out.stdout[-2000:]


def test_a_long_curve_is_drawn_at_every_kth_point_with_its_exact_values_and_its_last():
    xs = np.arange(1000)
    ys = np.exp(-xs / 100.0)
    spec = memory_views.lines({"LSTM": (xs, ys), "vanilla RNN": (xs, 2 * ys)}, "step t", "change", log=True)
    drawn = rows(spec)
    for name, scale in (("LSTM", 1.0), ("vanilla RNN", 2.0)):
        got = {r["x"]: r["value"] for r in drawn if r["series"] == name}
        assert sorted(got) == [*range(0, 1000, 2), 999]  # every 2nd step (1,000 > MAX_POINTS) and the last
        assert all(v == scale * np.exp(-x / 100.0) for x, v in got.items())
    assert spec["layer"][0]["encoding"]["x"]["title"] == "step t (1 point in 2 drawn)"
    short = memory_views.lines({"LSTM": (xs[:100], ys[:100])}, "step t", "change")
    assert len(rows(short)) == 100 and short["layer"][0]["encoding"]["x"]["title"] == "step t"


def test_a_long_trajectory_is_drawn_at_every_kth_step_with_its_marked_steps_and_its_last():
    t = np.arange(1000, dtype=np.float64)
    path = np.stack([np.cos(t / 50), t / 1000], axis=1)
    spec = memory_views.trajectory({"LSTM h_t": path, "vanilla RNN h_t": -path}, marks=(7, 500))
    for panel, sign in zip(spec["concat"], (1, -1), strict=True):
        got = {r["t"]: r for r in panel["data"]["values"]}
        assert sorted(got) == sorted({*range(0, 1000, 4), 7, 999})  # 1,000 > 300 points: every 4th, 7 and the last
        assert all(r["pc1"] == sign * np.cos(k / 50) and r["pc2"] == sign * k / 1000 for k, r in got.items())
        assert [k for k, r in got.items() if r["marked"]] == [7, 500]
        assert panel["layer"][1]["encoding"]["color"]["title"] == "step t (1 in 4 drawn)"
        line = panel["layer"][0]["data"]["values"]  # the grey path: every step, in order
        assert [r["t"] for r in line] == list(range(1000))
        assert all(r["pc1"] == sign * np.cos(r["t"] / 50) and r["pc2"] == sign * r["t"] / 1000 for r in line)
    short = memory_views.trajectory({"LSTM h_t": path[:300]})
    assert len(short["concat"][0]["data"]["values"]) == 300
    assert short["concat"][0]["layer"][1]["encoding"]["color"]["title"] == "step t"
    assert "data" not in short["concat"][0]["layer"][0]  # all steps drawn: the path uses the panel's rows

