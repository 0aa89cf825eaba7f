"""The classroom features under AppTest (issue 15): every lesson stop, hand-set weights and the forget-bias
shift on Explore, and the links that carry them. Numbers are checked against lstm_core run here on the
shipped models, or against a hand calculation."""

import math

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import lstm_core
from app import lesson
from app import state as S
from lstm_core import presets

from .test_app import APP, TIMEOUT, fresh, message, reference_trace, shown, step_view, unescape


def open_stop(k: int, url: str = "") -> AppTest:
    """The Lesson page as a link to /lesson?stop=k&... opens it: its first run is the lesson's."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in (p.split("=", 1) for p in f"stop={k}&{url}".split("&") if p):
        at.query_params[key] = value
    at.switch_page("screens/lesson.py")
    return at.run()


def sig(z: float) -> float:
    return 1 / (1 + math.exp(-z))


@pytest.mark.parametrize("k", range(len(lesson.STOPS)))
def test_every_stop_renders_its_own_figure_and_question(k):
    stop = lesson.STOPS[k]
    at = open_stop(k)
    assert not at.exception
    assert unescape(at.markdown[0].value) == f"### {stop.title}"
    radio = at.radio(key="lesson_answer")
    assert radio.value is None  # nothing revealed before a prediction
    assert not at.success and not at.error
    if stop.panels:
        header, arrays = message(at)
        assert [p["key"] for p in header["panels"]] == list(stop.panels)
        if stop.setup.get("task") == "copy" and not stop.setup.get("variant"):
            tr = reference_trace("copy")  # the shipped model on its example, traced here
            for key in set(stop.panels) & set(tr.quantities):
                np.testing.assert_allclose(arrays[key], tr[key].T, atol=2e-5)
        assert step_view(at)["t"] == min(stop.step, header["steps"] - 1)


@pytest.mark.parametrize("k", range(len(lesson.STOPS)))
def test_a_wrong_choice_reveals_the_right_answer_and_the_right_one_says_so(k):
    q = lesson.STOPS[k].question
    at = open_stop(k)
    wrong = next(i for i in range(len(q.choices)) if i != q.right)
    at.radio(key="lesson_answer").set_value(wrong).run()
    assert not at.exception
    assert len(at.error) == 1 and "Not quite" in unescape(at.error[0].value)
    at.radio(key="lesson_answer").set_value(q.right).run()
    assert len(at.success) == 1 and unescape(at.success[0].value).startswith("Right.")
    assert not at.error


def test_next_and_previous_move_the_stop_set_it_up_and_hide_the_answer_again():
    at = open_stop(1)
    at.radio(key="lesson_answer").set_value(1).run()
    at.button[[b.label for b in at.button].index("Next ▶")].click().run()
    assert at.session_state["stop"] == 2 and at.query_params["stop"] == "2"
    assert at.radio(key="lesson_answer").value is None
    assert step_view(at)["t"] == lesson.STOPS[2].step
    at.button[[b.label for b in at.button].index("◀ Previous")].click().run()
    assert at.session_state["stop"] == 1 and step_view(at)["t"] == lesson.STOPS[1].step


def test_the_black_box_question_uses_this_steps_numbers():
    k = next(i for i, s in enumerate(lesson.STOPS) if s.key == "update")
    stop = lesson.STOPS[k]
    at = open_stop(k)
    tr = reference_trace("copy")
    t, j = stop.step, stop.unit
    c = tr["f"][t, j] * tr["c"][t - 1, j] + tr["i"][t, j] * tr["g"][t, j]  # by hand, from the trace
    right = unescape(at.radio(key="lesson_answer").options[stop.question.right])
    assert right.endswith(f"= {c:.3f}".replace("-", "−"))


def test_a_stop_link_keeps_its_step_and_unit():
    at = open_stop(4, "step=20&unit=3")
    assert step_view(at)["t"] == 20 and step_view(at)["unit"] == 3


def test_the_forget_gate_stop_slider_moves_the_latchs_forget_gate():
    k = next(i for i, s in enumerate(lesson.STOPS) if s.key == "forget")
    at = open_stop(k)
    assert shown(at, "f_t") == pytest.approx(sig(12), abs=6e-4)  # the latch between writes: f = σ(b_f)
    at.slider(key="hand_f_b").set_value(0.0).run()
    assert shown(at, "f_t") == pytest.approx(0.5, abs=6e-4)
    assert at.query_params["hand_f_b"] == "0.0"  # the link carries the change


def test_hand_set_weights_on_explore_follow_the_sliders():
    at = fresh("model_source=handset&step=40")
    assert not at.exception
    x, marks = presets.demo_input(200, 0)
    assert 40 not in marks and x[40, 2] == 0  # no write or reset at step 40
    assert shown(at, "f_t") == pytest.approx(sig(12), abs=6e-4)
    assert shown(at, "i_t") == pytest.approx(sig(-10), abs=6e-4)
    at.slider(key="hand_i_b").set_value(-2.0).run()
    assert shown(at, "i_t") == pytest.approx(sig(-2), abs=6e-4)
    at.selectbox(key="preset").set_value("forget").run()  # a preset brings its own weights
    assert shown(at, "f_t") == pytest.approx(sig(-12), abs=6e-4)
    assert "hand_i_b" not in at.query_params and at.query_params["preset"] == "forget"


def test_a_link_with_a_preset_and_no_weights_gets_the_presets_weights():
    at = fresh("model_source=handset&preset=counter&step=5")
    for (g, c), key in S.HAND_KEYS.items():
        assert at.session_state[key] == presets.preset("counter").weight(g, c)


def test_the_forget_bias_shift_moves_every_forget_gate_of_a_trained_lstm():
    at = fresh("task=copy&forget_shift=-3.0&step=20&unit=8")
    assert not at.exception
    pre = float(reference_trace("copy")["pre_f"][0, 8])
    at2 = fresh("task=copy&forget_shift=-3.0&step=0&unit=8")
    assert shown(at2, "f_t") == pytest.approx(sig(pre - 3.0), abs=6e-4)  # step 0: h_{t-1} = 0 for both
    assert any("shifted by" in unescape(i.value) for i in at.info)


@pytest.mark.parametrize("url", ["stop=99", "stop=-1", "stop=1.5", "present=maybe", "preset=../../etc",
                                 "hand_f_b=1e9", "hand_f_b=nan", "forget_shift=inf", "hand_g_value=abc"])
def test_tampered_classroom_links_fall_back_with_a_notice(url):
    at = open_stop(0, url) if url.startswith("stop") else fresh(f"model_source=handset&{url}")
    assert not at.exception
    key = url.split("=")[0]
    notices = " ".join(unescape(w.value) for w in at.warning)
    assert f"for {key!r}" in notices and "using" in notices
    assert at.session_state[key] == S.SCHEMA[key].default_in(at.session_state)


def test_presentation_mode_is_in_the_link_and_draws_for_a_projector():
    at = fresh("present=true&task=copy")
    header, _ = message(at)
    assert header["present"] is True
    assert [p["key"] for p in header["panels"]] == ["c", "rnn_h"]
    assert at.query_params["present"] == "True"
    at.toggle(key="present").set_value(False).run()
    assert "present" not in at.query_params and message(at)[0]["present"] is False


def test_the_handout_buttons_are_offered_on_both_pages():
    explore = fresh("task=copy")
    assert not [b for b in explore.get("download_button") if b.label.startswith("Handout")]  # until opened
    explore.session_state["handout_open"] = True
    for at in (explore.run(), open_stop(2)):
        labels = [b.label for b in at.get("download_button")]
        assert "Handout (HTML)" in labels and "Handout (PNG)" in labels
        assert lstm_core  # the module is imported for reference_trace's sake
