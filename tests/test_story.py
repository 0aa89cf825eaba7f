"""The first screen's story: each model's answer (lstm_core/outcome.py), whether it solves its task
(scores.skill), and the sentence on memory (analysis.memory_span, app/story.py), checked against torch
forwards of the shipped models and hand calculations, and on the page (AppTest)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

import lstm_core
from app import story
from lstm_core.analysis import FELT, MemorySpan, memory_span
from lstm_core.outcome import outcome
from tests.test_app import example_input, unescape
from tests.test_memory_page import charts

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "assets" / "models"
APP = str(ROOT / "app" / "streamlit_app.py")
TASKS = list(lstm_core.TASKS)


def shipped(task, kind="lstm"):
    return lstm_core.load_model(MODELS / f"{task}-{kind}.npz")


def example(task, ck, seed=0):
    params = {k: v for k, v in ck.task["params"].items() if k not in ("n", "length", "seed")}
    return lstm_core.make_task(task, 1, ck.task["params"]["length"], seed, **params)


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("kind", ["lstm", "rnn"])
def test_answers_are_the_torch_models_answers(task, kind):
    ck = shipped(task, kind)
    data = example(task, ck)
    x = example_input(task, ck)
    out = outcome(ck, lstm_core.trace(ck, x)["h"], data.y[0], data.loss_mask[0, : len(x)], ck.task)
    with torch.no_grad():  # torch's own LSTM/RNN + linear head over the same weights: the independent reference
        ref = lstm_core.sequence_model(ck).cell(torch.from_numpy(x)[None])[0][0]
        ref = lstm_core.sequence_model(ck).head(ref).numpy()  # (T, n)
    np.testing.assert_allclose(out.outputs, ref, atol=2e-4)
    if ck.task["readout"] == "final" and ck.task["loss"] == "mse":
        assert [float(v) for v in out.said] == pytest.approx(list(ref[-1]), abs=1.5e-3)
        assert out.truth == tuple(f"{v:.3f}" for v in np.atleast_1d(data.y[0]))
    else:
        steps = [len(x) - 1] if ck.task["readout"] == "final" else np.flatnonzero(data.loss_mask[0, : len(x)])
        names = ck.task["output_names"]
        assert out.said == tuple(names[i] for i in ref[steps].argmax(1))
        right = [names[int(v)] for v in np.atleast_1d(data.y[0])[steps if ck.task["readout"] != "final" else [0]]]
        assert list(out.truth) == right
        assert list(out.right) == [a == b for a, b in zip(out.said, right, strict=True)]


def test_a_regression_answer_is_right_within_a_tenth_of_guessing():
    ck = shipped("adding")
    task = {**ck.task, "baseline": 1 / 6}  # guessing's RMSE is sqrt(1/6) = 0.408: the tolerance is 0.0408
    h = np.zeros((3, ck.hidden_size), np.float32)
    b = float(ck.head.bias[0])  # with h = 0 the head says its bias
    for target, expected in ((b + 0.040, True), (b - 0.0405, True), (b + 0.0420, False)):
        assert outcome(ck, h, np.array([target]), None, task).right.tolist() == [expected]


def test_skill_is_the_share_of_the_way_from_guessing_to_perfect():
    assert lstm_core.skill("accuracy", 0.5625, 0.125) == pytest.approx(0.5)  # (0.5625 - 0.125) / 0.875
    assert lstm_core.skill("mse", 0.04, 0.16) == pytest.approx(0.75)
    assert lstm_core.skill("perplexity", 3.0, 5.0) == pytest.approx(0.5)  # perfect is 1: (5 - 3) / (5 - 1)
    assert not lstm_core.solves("accuracy", 0.16, 0.125) and lstm_core.solves("accuracy", 0.97, 0.125)
    assert lstm_core.skill("rmse", 2.0, 1.0) == pytest.approx(-1.0)  # worse than guessing


def test_memory_span_on_hand_made_curves():
    change = np.array([0, 0, 5.0, 4.0, 0.06, 0.049, 0.2, 0.0])  # peak 5: felt while >= 0.05
    span = memory_span(change, 2)
    assert (span.peak, span.last_felt, span.to_the_end) == (5.0, 4, False)  # 0.049 at step 5 is below
    assert memory_span(np.array([0, 1.0, 0.5, 0.02]), 1) == MemorySpan(1, 1.0, 3, True)
    assert memory_span(np.zeros(4), 1) == MemorySpan(1, 0.0, 1, False)


def _torch_changes(ck, x, s, memory):
    """||state_t(x nudged at s) - state_t(x)|| for every t, by torch stepping the layer one step at a time."""
    cell = lstm_core.sequence_model(ck).cell
    nudged = x.copy()
    nudged[s, 0] += 1.0
    states = []
    with torch.no_grad():
        for seq in (x, nudged):
            hx, out = None, []
            for t in range(len(seq)):
                step = torch.from_numpy(seq[t : t + 1])[None]
                y, hx = cell(step, hx)
                out.append((hx[1] if isinstance(hx, tuple) and memory == "c" else
                            (hx[0] if isinstance(hx, tuple) else hx)).reshape(-1).numpy().astype(np.float64))
            states.append(np.array(out))
    return np.linalg.norm(states[1] - states[0], axis=1)


def _first_below(change, s):
    peak = change[s:].max()
    below = [t for t in range(s + 1, len(change)) if change[t] < FELT * peak]
    return below[0] if below else None


@pytest.mark.parametrize("task", ["adding", "copy", "charlm"])
def test_the_sentence_names_the_steps_the_memory_curves_give(task):
    main, rnn = shipped(task), shipped(task, "rnn")
    data = example(task, main)
    x = example_input(task, main)
    marks = np.flatnonzero(data.marks[0])
    s = int(marks[0]) if len(marks) else 0
    from app import data as app_data  # the page's own cached call, as the page makes it

    spans = app_data.memory_spans(main, rnn, x, s)
    text = story.sentence(main, rnn, spans, len(x), bool(len(marks)))
    lstm_part, rnn_part = text.split(";")
    assert f"(step {s})" in lstm_part
    for part, ck, memory in ((lstm_part, main, "c"), (rnn_part, rnn, "h")):
        lost = _first_below(_torch_changes(ck, x, s, memory), s)
        if lost is None:
            assert f"still feels it at the last step, {len(x) - 1 - s} steps later" in part
        else:
            assert re.search(rf"forgotten it by step {lost}, {lost - s} steps? later", part), (part, lost)


def _page(**params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app" / "streamlit_app.py"), default_timeout=60)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def _story_text(at) -> list[str]:
    return [m.value for m in at.markdown if "Right answer" in m.value or m.value.startswith("Nudge")
            or "LSTM" in m.value or "RNN" in m.value]


def test_the_page_shows_each_models_answer_the_warning_and_the_sentence():
    at = _page(task="copy")
    assert not at.exception
    shown = " ".join(m.value for m in at.markdown).replace("\\", "")
    data = example("copy", shipped("copy"))
    truth = " ".join(shipped("copy").task["output_names"][int(v)] for v in data.y[0] if v >= 0)
    assert f"**Right answer**  \n{truth}" in shown
    assert "**LSTM** :green[✓ right]" in shown  # the shipped copy LSTM solves it (held-out accuracy 0.97)
    assert "fails this task (accuracy 0.160, guessing 0.125)" in shown  # the RNN: the manifest's held-out figure
    sentence = next(m.value for m in at.markdown if m.value.startswith("Nudge"))
    at.query_params["example_seed"] = "3"
    at2 = _page(task="copy", example_seed="3")
    assert next(m.value for m in at2.markdown if m.value.startswith("Nudge")) != sentence or \
        _story_text(at2) != _story_text(at)


def test_the_sentence_follows_the_input_the_model_and_the_variant():
    def sentence(**params):
        at = _page(**params)
        assert not at.exception
        return next(m.value for m in at.markdown if m.value.startswith("Nudge"))

    base = sentence(task="adding")
    assert sentence(task="adding", example_seed="5") != base  # another input: another marked step
    assert sentence(task="adding", cell="gru") != base  # another model
    assert sentence(task="adding", variant="nfg") != base  # the same weights without a forget gate


def test_a_peephole_variant_on_vanilla_weights_says_it_equals_the_vanilla_lstm():
    at = _page(task="adding", variant="peephole")
    assert any("They start at zero, so this LSTM computes exactly what the vanilla one does" in unescape(i.value)
               for i in at.info)


def test_text_is_shown_as_text_coloured_by_the_units_state():
    at = _page(task="charlm")
    assert not at.exception
    chars = story.text_of(example_input("charlm", shipped("charlm")), tuple(shipped("charlm").vocab))
    assert chars is not None and len(chars) == 100
    ck = shipped("charlm")
    x = example_input("charlm", ck)
    tr = lstm_core.trace(ck, x)
    from app import data as app_data

    msg = app_data.text_view(ck, x, tuple(ck.vocab), "c", 3)
    assert msg["chars"] == chars
    assert msg["values"][7] == f"C_t = {tr['c'][7, 3]:+.3f}"


def test_a_forecast_is_drawn_against_the_truth():
    at = _page(task="sine")
    assert not at.exception
    assert "##### The forecast against the truth" in [m.value for m in at.markdown]
    assert "##### The forecast against the truth" not in [m.value for m in _page(task="adding").markdown]
    ck = shipped("sine")
    data = example("sine", ck)
    x = example_input("sine", ck)
    with torch.no_grad():
        h = lstm_core.sequence_model(ck).cell(torch.from_numpy(x)[None])[0][0]
        forecast = lstm_core.sequence_model(ck).head(h).numpy()[-1]
    from app import figures

    spec = figures.forecast_chart(data.x[0, -30:, 0], data.y[0], {"LSTM": forecast})
    rows = spec["layer"][0]["data"]["values"]
    assert [r["value"] for r in rows if r["series"] == "right answer"] == pytest.approx(list(data.y[0]))
    assert [r["value"] for r in rows if r["series"] == "LSTM forecast"] == pytest.approx(list(forecast), abs=1e-5)
    assert [r["step"] for r in rows if r["series"] == "input"][-1] == 0


def test_the_memory_chart_comes_after_the_first_screen_and_draws_the_nudge_torch_computes():
    at = AppTest.from_file(APP, default_timeout=60).run()  # the first screen: the shipped adding models
    assert not at.exception
    assert not charts(at)  # its place only, until the browser says the trace view has drawn
    assert any(c.value == "Drawing the chart…" for c in at.caption)
    at.session_state["_memory_ready"] = True  # what the step follower's call sets (app/sections.py memory)
    at.run()
    [spec] = charts(at)
    main, rnn = shipped("adding"), shipped("adding", "rnn")
    x = example_input("adding", main)
    s = int(np.flatnonzero(example("adding", main).marks[0])[0])
    rows = spec["layer"][0]["data"]["values"]
    for name, ck, memory in (("LSTM C_t", main, "c"), ("LSTM h_t", main, "h"), ("RNN h_t", rnn, "h")):
        drawn = {r["step"]: r["change"] for r in rows if r["state"] == name}
        assert sorted(drawn) == list(range(len(x)))  # T = 100: every step is drawn
        want = _torch_changes(ck, x, s, memory)
        np.testing.assert_allclose([drawn[t] for t in range(len(x))], want, rtol=2e-3, atol=2e-5, err_msg=name)
    assert spec["layer"][1]["encoding"]["x"]["datum"] == s  # the nudged step's rule


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_a_nudge_traced_beside_its_input_or_against_the_inputs_own_trace_gives_the_same_curve(kind):
    """memory_curve(base=trace of x) traces only the nudged run (the page passes its cached trace); the curve is
    the same, bit for bit, as with both runs traced together; a base of another length is refused."""
    ck = shipped("adding", kind)
    x = example_input("adding", ck)
    s = int(np.flatnonzero(example("adding", ck).marks[0])[0])
    both = lstm_core.analysis.memory_curve(ck, x, s)
    alone = lstm_core.analysis.memory_curve(ck, x, s, base=lstm_core.trace(ck, x))
    np.testing.assert_array_equal(both.h, alone.h)
    if kind == "lstm":
        np.testing.assert_array_equal(both.c, alone.c)
    assert both.h[:s].max() == 0 and both.h[s] > 0  # nothing moves before the nudge
    with pytest.raises(lstm_core.LabError, match="base must be the trace of x"):
        lstm_core.analysis.memory_curve(ck, x, s, base=lstm_core.trace(ck, x[:50]))


def test_numba_loads_once_explores_first_screen_has_drawn_and_after_other_pages(monkeypatch):
    from app import sections
    from lstm_core import loops

    calls = []
    monkeypatch.setattr(loops, "warm_up_in_background", lambda *a: calls.append(a))
    follower = {}
    real = sections.step_follower
    monkeypatch.setattr(sections, "step_follower", lambda *a, **kw: (follower.update(kw), real(*a, **kw)))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception and calls == [] and loops._deferred  # Explore's first run: numba waits
    follower["on_sync"]()  # what the browser's "the trace view has drawn" runs
    assert calls == [()]
    at.switch_page("screens/memory.py").run()
    assert not at.exception and calls == [(), ()]
