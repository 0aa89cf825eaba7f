"""The Explore page under streamlit.testing.v1.AppTest: every control, and the numbers it shows checked
against lstm_core run independently on the same model and input."""

import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import lstm_core
from app.data import MODELS

APP = str(Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py")
TIMEOUT = 60


def fresh() -> AppTest:
    return AppTest.from_file(APP, default_timeout=TIMEOUT).run()


def button(at, label):
    return next(b for b in at.button if b.label == label)


def equations(at) -> str:
    return at.latex[0].value


def shown(at, symbol: str) -> float:
    """The value the page shows for a quantity: the last number on its equation line."""
    body = equations(at).replace(r"\begin{aligned}", "").replace(r"\end{aligned}", "").replace(r"\small", "")
    body = body.strip("$\n")
    lines = [ln.strip() for ln in body.split(r"\\")]
    k = next(i for i, ln in enumerate(lines) if ln.startswith(symbol))
    while k + 1 < len(lines) and lines[k + 1].startswith("&="):  # the result is on a continuation line
        k += 1
    return float(re.findall(r"-?\d+\.\d+", lines[k])[-1])


def reference_trace(task: str, kind: str = "lstm", seed: int = 0, variant: str = "vanilla"):
    """The shipped model on the task's generated example, traced here without the app."""
    ck = lstm_core.load_model(MODELS / f"{task}-{kind}.npz")
    params = {k: v for k, v in ck.task["params"].items() if k not in ("n", "length", "seed")}
    data = lstm_core.make_task(task, 1, ck.task["params"]["length"], seed, **params)
    x = data.x[0, : data.lengths[0]]
    if ck.normalisation is not None:
        x = ck.normalisation.apply(x)
    if variant != "vanilla":
        cell = lstm_core.make_cell("lstm", ck.input_size, ck.hidden_size, variant=variant)
        sd = dict(ck.cell.state_dict())
        if variant == "peephole":
            sd["weight_peep_l0"] = cell.weight_peep_l0.detach() * 0
        cell.load_state_dict(sd)
        return lstm_core.trace(cell, x)
    return lstm_core.trace(ck, x)


def test_the_first_screen_is_a_trained_lstm_beside_a_trained_rnn_on_a_memory_task():
    at = fresh()
    assert not at.exception
    title = at.markdown[0].value
    assert "LSTM (vanilla, 32 units) trained on adding vs. RNN (tanh, 32 units) trained on adding" in title
    tr = reference_trace("adding")
    for sym, key in (("f_t", "f"), ("i_t", "i"), ("o_t", "o"), ("h_t", "h")):
        assert shown(at, sym) == pytest.approx(float(tr[key][0, 0]), abs=6e-4), sym


@pytest.mark.parametrize("task", list(lstm_core.TASKS))
def test_every_task_shows_the_trace_of_its_shipped_model(task):
    at = fresh()
    at.selectbox(key="task").set_value(task).run()
    assert not at.exception
    at.slider(key="step").set_value(7).run()
    assert not at.exception
    tr = reference_trace(task)
    assert shown(at, "f_t") == pytest.approx(float(tr["f"][7, 0]), abs=6e-4)
    assert shown(at, "h_t") == pytest.approx(float(tr["h"][7, 0]), abs=6e-4)
    assert f"{task}-lstm" not in "".join(i.value for i in at.info)  # no fallback message


@pytest.mark.parametrize("variant", list(lstm_core.VARIANTS))
def test_every_variant_runs_the_same_weights_with_its_equations(variant):
    at = fresh()
    at.selectbox(key="variant").set_value(variant).run()
    at.slider(key="step").set_value(21).run()
    assert not at.exception
    tr = reference_trace("adding", variant=variant)
    text = equations(at)
    if variant == "nfg":
        assert r"f_t &= 1" in text
    else:
        assert shown(at, "f_t") == pytest.approx(float(tr["f"][21, 0]), abs=6e-4)
    if variant == "cifg":
        assert r"i_t &= 1 - f_t" in text
    assert shown(at, "h_t") == pytest.approx(float(tr["h"][21, 0]), abs=6e-4)


def test_step_forward_and_back_change_the_numbers():
    at = fresh()
    before = equations(at)
    button(at, "Forward ▶").click().run()
    assert at.slider(key="step").value == 1
    assert equations(at) != before
    tr = reference_trace("adding")
    assert shown(at, "C_t") == pytest.approx(float(tr["c"][1, 0]), abs=6e-4)
    button(at, "◀ Back").click().run()
    assert at.slider(key="step").value == 0
    assert equations(at) == before
    assert button(at, "◀ Back").disabled


def test_play_advances_one_step_per_tick_and_stops_at_the_end():
    at = fresh()
    at.slider(key="step").set_value(97).run()
    at.toggle(key="playing").set_value(True).run()
    assert not at.exception and at.session_state["playing"]
    at.run()  # a timer tick
    assert at.slider(key="step").value == 98
    at.run()
    at.run()
    assert at.slider(key="step").value == 99
    assert not at.session_state["playing"]  # stopped at the last step


def test_unit_choice_and_the_rnn_numbers():
    at = fresh()
    at.number_input(key="unit").set_value(5).run()
    at.slider(key="step").set_value(40).run()
    tr = reference_trace("adding")
    assert shown(at, "o_t") == pytest.approx(float(tr["o"][40, 5]), abs=6e-4)
    rnn = reference_trace("adding", kind="rnn")
    rnn_text = at.latex[1].value
    assert float(re.findall(r"-?\d+\.\d+", rnn_text)[-1]) == pytest.approx(float(rnn["h"][40, 5]), abs=6e-4)


def test_gru_random_model_and_another_example():
    at = fresh()
    at.radio(key="cell").set_value("gru").run()
    assert not at.exception
    assert r"z_t" in equations(at) and "GRU (32 units) trained on adding" in at.markdown[0].value
    at.radio(key="model_source").set_value("random").run()
    at.number_input(key="hidden").set_value(7).run()
    at.number_input(key="example_seed").set_value(3).run()
    assert not at.exception
    assert "GRU (7 units) vs. RNN (tanh, 7 units)" in at.markdown[0].value


def test_a_long_example_keeps_the_page_working():
    at = fresh()
    at.radio(key="model_source").set_value("random").run()
    at.number_input(key="example_length").set_value(5000).run()
    assert not at.exception
    at.slider(key="step").set_value(4999).run()
    assert not at.exception
    assert "t = 4999" in "".join(m.value for m in at.markdown)


def test_a_sample_file_in_one_click_and_a_bad_one_keeps_the_previous_sequence():
    at = fresh()
    at.radio(key="sequence_source").set_value("sample").run()
    assert not at.exception
    assert "your file sine.csv (sequence 0, 200 steps)" in at.caption[0].value
    assert any("trained on sine" in i.value for i in at.info)  # a trained model that reads 1 feature
    at.selectbox(key="sample_file").set_value("bad_ragged_rows.csv").run()
    assert not at.exception
    assert any("bad_ragged_rows.csv: row" in e.value for e in at.error)
    assert "your file sine.csv" in at.caption[0].value  # the previous sequence stays
    at.selectbox(key="sample_file").set_value("many_sequences.csv").run()
    assert not at.error
    at.selectbox(key="upload_sequence").set_value(2).run()
    assert not at.exception and "many_sequences.csv (sequence" in at.caption[0].value


def test_every_unit_view_shows_the_whole_layer_at_the_step():
    at = fresh()
    at.slider(key="step").set_value(30).run()
    at.toggle(key="layer_view").set_value(True).run()
    assert not at.exception
    table = at.dataframe[0].value
    tr = reference_trace("adding")
    np.testing.assert_allclose(table["c"].to_numpy(), tr["c"][30], atol=1e-5)
    np.testing.assert_allclose(table["h_prev"].to_numpy(), tr["h"][29], atol=1e-5)


def test_the_seed_notes_are_on_the_page():
    at = fresh()
    notes = next(e for e in at.expander if e.label.startswith("The LSTM in one page"))
    text = " ".join(m.value for m in notes.markdown)
    assert "What memory should I erase?" in text and "Clip gradient norms" in text and "cifg" in text
    assert r"\tilde C_t &= \tanh(W_c" in notes.latex[0].value
