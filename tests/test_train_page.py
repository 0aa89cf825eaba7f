"""The Train page under AppTest: its settings, what it says must be remembered, a refused setting, and three
models trained for two seconds, their results table, downloads and Open on Explore.

AppTest does not run the page's polling timer: each at.run() is a full run, which draws the live fragment
once, as its timer would. The trainings run in the server's pool (app/training_jobs.py), as in the app.
"""

from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

import lstm_core
from app import state as S

from .test_app import APP, TIMEOUT, heading, unescape

DEADLINE = 120.0  # seconds: a bound for a page that never finishes, not a speed requirement
APPTEST_SESSION = "test session id"  # AppTest gives every app it runs this session id


def train_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    return at.switch_page("screens/train.py").run()


def texts(at) -> list[str]:
    return [unescape(t) for t in [m.value for m in at.markdown] + [i.value for i in at.info]]


def progress(at) -> list[str]:
    return [unescape(p.proto.text) for p in at.get("progress")]


def test_the_page_offers_three_models_and_says_what_must_be_remembered():
    at = train_page()
    assert not at.exception
    assert any(t.startswith("What must be remembered: See 5 symbols (of 8), wait through 50 blank steps")
               for t in texts(at))
    assert at.selectbox(key="train_task").value == "copy"
    assert [at.selectbox(key=f"train_model_{n}").value for n in (1, 2, 3)] == ["lstm", "gru", "rnn"]
    assert at.radio(key="train_init").value == "chrono"
    assert [b.label for b in at.button if "Train" in b.label] == [r"▶ Train 3 model\(s\)"]
    at.number_input(key="train_delay").set_value(20).run()
    assert any("wait through 20 blank steps" in t for t in texts(at))
    at.selectbox(key="train_task").set_value("sine").run()
    assert at.number_input(key="train_horizon").value == 10  # the task's own settings follow the task
    assert any("predict its next 10 clean values" in t for t in texts(at))
    at.selectbox(key="train_model_3").set_value("none").run()
    assert [b.label for b in at.button if "Train" in b.label] == [r"▶ Train 2 model\(s\)"]


def test_a_setting_the_task_refuses_is_one_message_and_nothing_trains():
    at = train_page()
    at.selectbox(key="train_task").set_value("adding").run()
    at.number_input(key="train_length").set_value(1).run()
    assert not at.exception
    assert len(at.error) == 1 and "length must be" in unescape(at.error[0].value)
    assert not [b for b in at.button if "Train" in b.label]


@pytest.mark.slow
def test_three_models_train_for_two_seconds_then_show_results_and_open_on_explore():
    at = train_page()
    at.selectbox(key="train_task").set_value("adding").run()
    for key, value in (("train_length", 20), ("train_seconds", 2)):
        at.number_input(key=key).set_value(value).run()
    at.select_slider(key="train_n").set_value(250).run()
    at.radio(key="train_init").set_value("1").run()
    next(b for b in at.button if "Train" in b.label).click().run()
    assert not at.exception
    seen, end = [], time.monotonic() + DEADLINE
    while not any(s.value == "Results" for s in at.subheader):
        assert time.monotonic() < end, f"no results within {DEADLINE:.0f} s: {progress(at)}"
        seen += progress(at)
        at.run()
        assert not at.exception
    assert any(t.startswith("epoch ") and "of the 2 s budget left" in t for t in seen)  # it was shown while it ran
    table = at.table[0].value.rename(index=unescape, columns=unescape).map(unescape)  # cells are escaped Markdown
    models = ["LSTM (vanilla, 32 units)", "GRU (32 units)", "RNN (32 units)"]
    assert list(table.columns) == models
    assert set(table.loc["ended by"]) <= {"time budget", "early stopping"}
    assert all(float(v) < 1.0 for v in table.loc["validation mse (best epoch)"])
    assert list(table.loc["forget-gate init"]) == ["1.0", "1.0", "— (no gate)"]
    assert [int(v.replace(",", "")) for v in table.loc["parameters"]] == [4 * 32 * (2 + 32 + 2) + 33,
                                                                         3 * 32 * (2 + 32 + 2) + 33,
                                                                         32 * (2 + 32 + 2) + 33]
    downloads = at.get("download_button")
    assert len(downloads) == 3
    val = float(table.loc["validation mse (best epoch)", models[0]])
    opens = [b for b in at.button if (b.key or "").startswith(S.KEYS.train_open)]
    assert len(opens) == 3
    opens[0].click().run()  # the LSTM, on Explore
    assert not at.exception
    assert at.session_state["model_source"] == "uploaded" and at.session_state["task"] == "adding"
    ck = at.session_state[S.UPLOADED_MODEL]
    assert ck.kind == "lstm" and ck.task["params"]["length"] == 20
    assert ck.metrics["val_metric"] == pytest.approx(val, abs=5e-5)
    assert "LSTM (vanilla, 32 units) trained on adding" in heading(at)  # Explore shows it
    assert lstm_core.load_model(ck.to_bytes(), name="again").metrics == ck.metrics


@pytest.mark.slow
def test_training_goes_on_while_the_session_looks_at_explore():
    from app import training_jobs

    at = train_page()
    at.selectbox(key="train_task").set_value("adding").run()
    at.number_input(key="train_length").set_value(20).run()
    at.number_input(key="train_seconds").set_value(120).run()
    next(b for b in at.button if "Train" in b.label).click().run()
    at.switch_page("screens/explore.py").run()  # Explore
    assert not at.exception
    notes = [unescape(c.value) for c in at.sidebar.caption]
    assert any(n.startswith("Training 3 model(s): it goes on while you look around.") for n in notes), notes
    pool = training_jobs.pool()
    assert len(pool.views(APPTEST_SESSION)) == 3 and all(v.active for v in pool.views(APPTEST_SESSION))
    pool.stop(APPTEST_SESSION)  # leave nothing running for the next test
    end = time.monotonic() + DEADLINE
    while pool.has_active(APPTEST_SESSION):
        assert time.monotonic() < end, "the stopped jobs did not end"
        pool.touch(APPTEST_SESSION)
        time.sleep(0.05)
