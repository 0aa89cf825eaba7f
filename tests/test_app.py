"""The Explore page under streamlit.testing.v1.AppTest: every control, and what the page shows checked
against lstm_core run independently on the same model and input.

The page's pictures are our components; AppTest sees what Python sends them: the trace view's binary
message (decoded with app.trace_payload.decode) and the step view's data (equations as text).
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import lstm_core
from app import trace_payload
from app.data import MODELS, SEQUENCES
from lstm_core.readers import ReadOptions, read_sequences

APP = str(Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py")
TIMEOUT = 60
SYMBOLS = {"f_t": "f_{t}", "i_t": "i_{t}", "C~_t": "C̃_{t}", "C_t": "C_{t}", "o_t": "o_{t}", "h_t": "h_{t}",
           "z_t": "z_{t}", "r_t": "r_{t}", "n_t": "n_{t}"}


def fresh(url: str = "") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for k, v in (p.split("=", 1) for p in url.split("&") if p):
        at.query_params[k] = unquote(v)
    return at.run()


def unescape(markdown: str) -> str:
    """What a person reads: app.text.plain escapes every punctuation character with a backslash."""
    return re.sub(r"\\(.)", r"\1", markdown)


def heading(at) -> str:
    """The page's heading as a person reads it: the task as a question, and on hover the models' technical
    names and what the input is."""
    first = at.markdown[0]
    assert first.value.startswith("#### ")
    return unescape(f"{first.value} {first.proto.help}")


def component(at, name: str):
    found = [c for c in at.get("bidi_component") if c.proto.component_name == f"lstmlab_{name}"]
    assert len(found) == 1, f"{len(found)} {name} components on the page"
    return found[0].proto


def goto(at, t: int) -> AppTest:
    """What a seek from the browser's step bridge leaves in session state (AppTest cannot click it)."""
    at.session_state["step"] = t
    return at.run()


def bridge(at) -> dict:
    """What the step bridge is told: the step, the number of steps and the last request applied."""
    return json.loads(component(at, "step_bridge").json)


def step_view(at) -> dict:
    """What the step view draws: the step bridge carries it (one element a step)."""
    return json.loads(bridge(at)["view"])


def message(at) -> tuple[dict, dict]:
    """The trace view's message: header and {panel: (rows, columns)}."""
    return trace_payload.decode(component(at, "trace_view").bytes)


def _number(text: str) -> float:
    return float(re.findall(r"−?\d+\.\d+", text)[-1].replace("−", "-"))


def shown(at, symbol: str, block: int = 0) -> float:
    """The value the page shows for a quantity: the last number of its equation's last line."""
    eq = next(e for e in step_view(at)["blocks"][block]["equations"] if e["eq"].startswith(SYMBOLS[symbol] + " "))
    return _number((eq["num"] or [eq["eq"]])[-1])


def assert_message_is(at, tr: lstm_core.Trace, rnn: lstm_core.Trace | None = None):
    """The trace view shows exactly this trace: its number of steps and every value of every panel."""
    header, arrays = message(at)
    assert header["steps"] == tr.steps and header["bin"] == 1
    for key in tr.quantities:
        np.testing.assert_allclose(arrays[key], tr[key].T, atol=2e-5, err_msg=key)
    if rnn is not None:
        np.testing.assert_allclose(arrays["rnn_h"], rnn["h"].T, atol=2e-5)


def example_input(task: str, ck, seed: int = 0, length: int | None = None) -> np.ndarray:
    params = {k: v for k, v in ck.task["params"].items() if k not in ("n", "length", "seed")}
    if length is not None:
        params.pop("delay", None)
    data = lstm_core.make_task(task, 1, length or ck.task["params"]["length"], seed, **params)
    x = data.x[0, : data.lengths[0]]
    return ck.normalisation.apply(x) if ck.normalisation is not None else x


def reference_trace(task: str, kind: str = "lstm", seed: int = 0, variant: str = "vanilla", length=None):
    """The shipped model on the task's generated example, traced here without the app (torch for variants)."""
    ck = lstm_core.load_model(MODELS / f"{task}-{kind}.npz")
    x = example_input(task, ck, seed, length)
    if variant != "vanilla":
        cell = lstm_core.make_cell("lstm", ck.input_size, ck.hidden_size, variant=variant)
        sd = dict(lstm_core.sequence_model(ck).cell.state_dict())
        if variant == "peephole":
            sd["weight_peep_l0"] = cell.weight_peep_l0.detach() * 0
        cell.load_state_dict(sd)
        return lstm_core.trace(lstm_core.from_torch(cell), x)
    return lstm_core.trace(ck, x)


def test_the_first_screen_imports_neither_torch_nor_pandas():
    """A cold start waits for every import of the first run: torch takes 1.3 s here, pandas and pyarrow 0.2-0.5 s
    (Streamlit imports them to look for dataframes in a component's nested data or a chart's top-level data)."""
    code = ("import sys; from streamlit.testing.v1 import AppTest; "
            f"at = AppTest.from_file({APP!r}, default_timeout={TIMEOUT}).run(); "
            "assert not at.exception, at.exception; assert at.get('bidi_component'), 'no components drawn'; "
            "print(sorted(m for m in ('torch', 'pandas', 'pyarrow', 'altair') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=Path(APP).parents[1])
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("page", ["explore", "screens/memory.py", "screens/lesson.py", "screens/train.py"])
def test_every_page_mounts_the_hidden_component_runtime_before_anything_else_it_draws(page):
    """The browser fetches Streamlit's component code when a first component arrives: an empty one comes first,
    while the page is still computing (app/components load_runtime), hidden by the page's stylesheet."""
    at = fresh()
    if page != "explore":
        at.switch_page(page).run()
    assert not at.exception
    first = next(iter(at.main.children.values()))
    assert type(first).__name__ == "UnknownElement" and first.proto.component_name == "lstmlab_runtime"
    assert any(".st-key-lstmlab_runtime {display: none;}" in h.proto.body for h in at.get("html"))


def test_the_server_asks_for_one_blas_thread_and_no_huge_pages_before_numpy_loads():
    code = ("import sys; from streamlit.testing.v1 import AppTest; assert 'numpy' not in sys.modules; "
            f"at = AppTest.from_file({APP!r}, default_timeout={TIMEOUT}).run(); assert not at.exception; "
            "import numpy, os; "
            "print(numpy._core.multiarray._get_madvise_hugepage(), os.environ['OPENBLAS_NUM_THREADS'])")
    env = {k: v for k, v in os.environ.items() if k not in ("NUMPY_MADVISE_HUGEPAGE", "OPENBLAS_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=Path(APP).parents[1], env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False 1"


def test_the_first_screen_is_a_trained_lstm_beside_a_trained_rnn_on_a_memory_task():
    at = fresh()
    assert not at.exception
    title = heading(at)
    assert "LSTM (vanilla, 32 units) trained on adding vs. RNN (tanh, 32 units) trained on adding" in title
    tr = reference_trace("adding")
    for sym, key in (("f_t", "f"), ("i_t", "i"), ("o_t", "o"), ("h_t", "h")):
        assert shown(at, sym) == pytest.approx(float(tr[key][0, 0]), abs=6e-4), sym
    assert_message_is(at, tr, reference_trace("adding", "rnn"))


@pytest.mark.parametrize("task", list(lstm_core.TASKS))
def test_every_task_shows_the_trace_of_its_shipped_model(task):
    at = fresh()
    at.selectbox(key="task").set_value(task).run()
    assert not at.exception
    goto(at, 7)
    assert not at.exception
    tr = reference_trace(task)
    assert shown(at, "f_t") == pytest.approx(float(tr["f"][7, 0]), abs=6e-4)
    assert shown(at, "h_t") == pytest.approx(float(tr["h"][7, 0]), abs=6e-4)
    assert_message_is(at, tr)
    assert not at.info  # no fallback message


@pytest.mark.parametrize("variant", list(lstm_core.VARIANTS))
def test_every_variant_runs_the_same_weights_with_its_equations(variant):
    at = fresh()
    at.selectbox(key="variant").set_value(variant).run()
    goto(at, 21)
    assert not at.exception
    tr = reference_trace("adding", variant=variant)
    eqs = [e["eq"] for e in step_view(at)["blocks"][0]["equations"]]
    if variant == "nfg":
        assert "f_{t} = 1   (no forget gate)" in eqs
    else:
        assert shown(at, "f_t") == pytest.approx(float(tr["f"][21, 0]), abs=6e-4)
    if variant == "cifg":
        assert "i_{t} = 1 − f_{t}" in eqs
    assert shown(at, "h_t") == pytest.approx(float(tr["h"][21, 0]), abs=6e-4)
    assert_message_is(at, tr)


def test_moving_the_step_changes_the_numbers_and_the_diagram():
    at = fresh()
    before = step_view(at)
    goto(at, 1)
    view = step_view(at)
    assert view["t"] == 1 and view["heading"] == "The step in numbers: t = 1" and view != before
    tr = reference_trace("adding")
    assert shown(at, "C_t") == pytest.approx(float(tr["c"][1, 0]), abs=6e-4)
    lstm_diagram = view["diagrams"][0]
    assert lstm_diagram["template"] == "lstm_cell" and lstm_diagram["text"]["t"] == "1"
    assert float(lstm_diagram["text"]["c"].replace("−", "-")) == pytest.approx(float(tr["c"][1, 0]), abs=6e-4)
    assert float(lstm_diagram["text"]["c_prev"].replace("−", "-")) == pytest.approx(float(tr["c"][0, 0]), abs=6e-4)
    goto(at, 0)
    assert step_view(at) == before


def test_unit_choice_and_the_rnn_numbers():
    at = fresh()
    at.number_input(key="unit").set_value(5).run()
    goto(at, 40)
    tr = reference_trace("adding")
    assert shown(at, "o_t") == pytest.approx(float(tr["o"][40, 5]), abs=6e-4)
    rnn = reference_trace("adding", kind="rnn")
    assert shown(at, "h_t", block=1) == pytest.approx(float(rnn["h"][40, 5]), abs=6e-4)


def test_the_steps_one_move_away_travel_with_the_step_and_are_what_python_sends_there():
    """The bridge carries the views of t - 1 and t + 1, which the browser shows at once on ← / →: each must be
    exactly the view Python sends when the step is there, for the unit shown."""
    at = fresh()
    at.number_input(key="unit").set_value(5).run()
    goto(at, 40)
    near = {int(k): v for k, v in json.loads(bridge(at)["near"]).items()}
    assert sorted(near) == [39, 41]
    tr = reference_trace("adding")
    for t, view in near.items():
        assert view["t"] == t and view["unit"] == 5 and view["heading"] == f"The step in numbers: t = {t}"
        o = next(e for e in view["blocks"][0]["equations"] if e["eq"].startswith("o_{t} "))
        assert _number((o["num"] or [o["eq"]])[-1]) == pytest.approx(float(tr["o"][t, 5]), abs=6e-4)
        assert step_view(goto(at, t)) == view
    assert sorted(int(k) for k in json.loads(bridge(goto(at, 0))["near"])) == [1]  # the ends have one neighbour
    assert sorted(int(k) for k in json.loads(bridge(goto(at, 99))["near"])) == [98]


def test_gru_random_model_and_another_example():
    at = fresh()
    at.radio(key="cell").set_value("gru").run()
    assert not at.exception
    assert "GRU (32 units) trained on adding" in heading(at)
    assert shown(at, "z_t") == pytest.approx(float(reference_trace("adding", "gru")["z"][0, 0]), abs=6e-4)
    at.radio(key="model_source").set_value("random").run()
    at.number_input(key="hidden").set_value(7).run()
    at.number_input(key="example_seed").set_value(3).run()
    assert not at.exception
    assert "GRU (7 units) vs. RNN (tanh, 7 units)" in heading(at)
    gru = lstm_core.random_model("gru:random:H=7:seed=0", 2)
    x = lstm_core.make_task("adding", 1, 100, 3).x[0]  # a random model reads the task's raw input
    assert_message_is(at, lstm_core.trace(gru, x))


def test_a_long_example_keeps_the_page_working():
    at = fresh()
    at.radio(key="model_source").set_value("random").run()
    at.number_input(key="example_length").set_value(5000).run()
    assert not at.exception
    goto(at, 4999)
    assert not at.exception
    assert step_view(at)["t"] == 4999
    header, arrays = message(at)
    assert header["steps"] == 5000 and header["bin"] == 3  # drawn as column means, numbers from the full trace
    x = lstm_core.make_task("adding", 1, 5000, 0).x[0]  # a random model reads the task's raw input
    tr = lstm_core.trace(lstm_core.random_model("lstm:random:H=32:seed=0", 2), x)
    h = np.asarray(tr["h"], np.float64)
    columns = np.stack([h[i : i + 3].mean(0) for i in range(0, 5000, 3)], 1)  # each column the mean of 3 steps
    np.testing.assert_allclose(arrays["h"], columns, atol=2e-5)


def test_every_unit_view_shows_the_whole_layer_at_the_step():
    at = fresh()
    goto(at, 30)
    at.toggle(key="layer_view").set_value(True).run()
    assert not at.exception
    table = at.dataframe[0].value
    tr = reference_trace("adding")
    np.testing.assert_allclose(table["c"].to_numpy(), tr["c"][30], atol=1e-5)
    np.testing.assert_allclose(table["h_prev"].to_numpy(), tr["h"][29], atol=1e-5)


def test_the_seed_notes_are_on_the_page():
    at = fresh()
    notes = next(e for e in at.expander if e.label.startswith("The LSTM in one page"))
    assert not notes.markdown and not notes.latex  # drawn only once opened: the first page stays light
    at.session_state["notes_open"] = True  # what opening it in the browser sets (and then the page reruns)
    notes = next(e for e in at.run().expander if e.label.startswith("The LSTM in one page"))
    text = " ".join(m.value for m in notes.markdown)
    assert "What memory should I erase?" in text and "Clip gradient norms" in text and "cifg" in text
    assert r"\tilde C_t &= \tanh(W_c" in notes.latex[0].value


# ------------------------------------------------------------------------------------------------
# A picture matches its numbers: every input of the view changes the trace view's message


def test_the_length_changes_the_heatmaps_not_only_the_step_range():
    at = fresh()
    at.selectbox(key="task").set_value("sine").run()
    assert_message_is(at, reference_trace("sine"))
    at.number_input(key="example_length").set_value(300).run()
    assert not at.exception
    told = {k: v for k, v in bridge(at).items() if k not in ("view", "near")}
    assert told == {"step": 0, "steps": 300, "playing": False, "ack": 0}
    assert_message_is(at, reference_trace("sine", length=300), reference_trace("sine", "rnn", length=300))


@pytest.mark.parametrize("task", ["sine", "charlm"])
def test_the_example_seed_changes_the_heatmaps(task):
    at = fresh()
    at.selectbox(key="task").set_value(task).run()
    at.number_input(key="example_seed").set_value(4).run()
    assert not at.exception
    assert_message_is(at, reference_trace(task, seed=4), reference_trace(task, "rnn", seed=4))


def test_task_cell_variant_and_model_source_each_change_the_heatmaps():
    at = fresh()
    at.selectbox(key="task").set_value("copy").run()
    assert_message_is(at, reference_trace("copy"), reference_trace("copy", "rnn"))
    at.radio(key="cell").set_value("gru").run()
    assert_message_is(at, reference_trace("copy", "gru"))
    at.radio(key="cell").set_value("lstm").run()
    at.selectbox(key="variant").set_value("nfg").run()
    assert_message_is(at, reference_trace("copy", variant="nfg"))
    at.radio(key="model_source").set_value("random").run()
    at.selectbox(key="variant").set_value("vanilla").run()
    random_lstm = lstm_core.random_model("lstm:random:H=32:seed=0", 10)
    copy = lstm_core.make_task("copy", 1, None, 0)  # the task's default length; raw input, no normalisation
    assert_message_is(at, lstm_core.trace(random_lstm, copy.x[0, : copy.lengths[0]]))


def _file_input(name: str, sequence: int = 0) -> np.ndarray:
    result = read_sequences((SEQUENCES / name).read_bytes(), name=name, options=ReadOptions())
    return result.x[sequence, : result.lengths[sequence]], result


def test_sample_files_and_the_sequences_of_a_file_each_change_the_heatmaps():
    at = fresh()
    at.radio(key="sequence_source").set_value("sample").run()
    assert not at.exception
    assert "your file sine.csv (sequence 0, 200 steps)" in heading(at)
    sine_model = lstm_core.load_model(MODELS / "sine-lstm.npz")  # the shipped model that reads 1 feature
    x, _ = _file_input("sine.csv")
    assert_message_is(at, lstm_core.trace(sine_model, sine_model.normalisation.apply(x)))
    at.selectbox(key="sample_file").set_value("many_sequences.csv").run()
    assert not at.exception and not at.error
    _, result = _file_input("many_sequences.csv")
    firsts = []
    for b in range(result.batch_size):
        at.selectbox(key="upload_sequence").set_value(b).run()
        assert not at.exception
        header, arrays = message(at)
        n = int(result.lengths[b])
        assert header["steps"] == n
        np.testing.assert_allclose(arrays["x"], result.x[b, :n].T, atol=1e-6)  # the input panel is this sequence
        assert f"(sequence {result.sequence_ids[b]}, {n} steps)" in heading(at)
        firsts.append(n)
    assert len(set(firsts)) > 1  # the file's sequences really differ in length


def test_a_bad_sample_keeps_the_previous_sequence():
    at = fresh()
    at.radio(key="sequence_source").set_value("sample").run()
    at.selectbox(key="sample_file").set_value("bad_ragged_rows.csv").run()
    assert not at.exception
    assert any("bad_ragged_rows.csv: row" in unescape(e.value) for e in at.error)
    assert "your file sine.csv" in heading(at)  # the previous sequence stays
    assert message(at)[0]["steps"] == 200


def test_a_text_outside_the_vocabulary_is_read_and_its_unknown_characters_counted():
    at = fresh()
    at.selectbox(key="task").set_value("charlm").run()
    at.radio(key="sequence_source").set_value("sample").run()
    at.selectbox(key="sample_file").set_value("gettysburg.txt").run()
    assert not at.exception and not at.error
    assert "trained on charlm" in heading(at)  # the text model itself, no fallback
    ck = lstm_core.load_model(MODELS / "charlm-lstm.npz")
    text = (SEQUENCES / "gettysburg.txt").read_text(encoding="utf-8").replace("\r\n", "\n").lstrip("\ufeff")
    unknown = sum(c not in ck.vocab for c in text)
    assert unknown >= 1
    header, arrays = message(at)
    assert header["steps"] == len(text) and "x" not in arrays  # text is shown as text, not as a one-hot matrix
    shown = json.loads(component(at, "text_view").json)["chars"]
    assert shown.count("\ufffd") == unknown  # fed as all-zero steps, shown as the replacement character
    assert "".join(c if c != "\ufffd" else "?" for c in shown) == "".join(c if c in ck.vocab else "?" for c in text)
    at.session_state["data_open"] = True
    expander = next(e for e in at.run().expander if unescape(e.label).startswith("Your data: gettysburg.txt"))
    assert any("not in the model's vocabulary" in unescape(m.value) for m in expander.markdown)


# ------------------------------------------------------------------------------------------------
# Stepping: the protocol's Python half


def test_play_follows_the_clock_and_stops_at_the_end(monkeypatch):
    from app import state as S
    from app import stepping

    clock = [1000.0]
    monkeypatch.setattr(stepping.time, "monotonic", lambda: clock[0])
    at = fresh()
    at.selectbox(key="speed").set_value(20).run()
    goto(at, 10)
    at.session_state["playing"] = True  # what on_play leaves (tested below), with the clock's start
    at.session_state[S.PLAY_FROM] = (clock[0], 10)
    at.run()
    assert not at.exception and bridge(at)["playing"]
    clock[0] += 0.5  # half a second at 20 steps per second: 10 steps, however many timer ticks ran
    at.run()
    assert at.session_state["step"] == 20 and bridge(at)["step"] == 20
    clock[0] += 10.0
    at.run()
    assert at.session_state["step"] == 99
    assert not at.session_state["playing"] and not bridge(at)["playing"]  # stopped at the last step


def test_seek_requests_are_absolute_and_acknowledged(monkeypatch):
    from app import state as S
    from app import stepping

    ss = {"step": 3, "playing": False, S.SEEK_ACK: 4, S.PLAY_FROM: None}
    monkeypatch.setattr(stepping.st, "session_state", ss)
    stepping.on_seek({"step": 9, "seq": 5})
    assert ss["step"] == 9 and ss[S.SEEK_ACK] == 5
    stepping.on_seek({"step": 7, "seq": 3})  # a late, coalesced request still lands on its absolute step
    assert ss["step"] == 7 and ss[S.SEEK_ACK] == 5  # the ack never goes back
    for junk in (None, "5", {"step": "x", "seq": 1}, {"seq": 1}):
        stepping.on_seek(junk)
    assert ss["step"] == 7


def test_play_requests_start_the_clock_and_restart_from_the_beginning_at_the_end(monkeypatch):
    from app import state as S
    from app import stepping

    monkeypatch.setattr(stepping.time, "monotonic", lambda: 50.0)
    ss = {"step": 99, "playing": False, S.SEEK_ACK: 2, S.PLAY_FROM: None}
    monkeypatch.setattr(stepping.st, "session_state", ss)
    stepping.on_play({"playing": True, "seq": 3}, steps=100)
    assert ss["playing"] and ss["step"] == 0 and ss[S.PLAY_FROM] == (50.0, 0) and ss[S.SEEK_ACK] == 3
    assert ss.pop(S.PLAY_CHANGED)  # a full run will start the timer
    stepping.on_seek({"step": 40, "seq": 4})  # a move while playing: the clock starts again from there
    assert ss[S.PLAY_FROM] == (50.0, 40)
    stepping.on_play({"playing": False, "seq": 5}, steps=100)
    assert not ss["playing"] and ss[S.PLAY_FROM] is None and ss["step"] == 40


def test_a_pause_stays_on_the_step_the_browser_shows_not_on_a_later_timer_tick(monkeypatch):
    from app import state as S
    from app import stepping

    monkeypatch.setattr(stepping.time, "monotonic", lambda: 50.0)
    ss = {"step": 45, "playing": True, S.SEEK_ACK: 6, S.PLAY_FROM: (49.0, 25), S.PLAY_CHANGED: False}
    monkeypatch.setattr(stepping.st, "session_state", ss)
    stepping.on_play({"playing": False, "seq": 7, "step": 42}, steps=100)  # the tick to 45 never reached the screen
    assert not ss["playing"] and ss["step"] == 42 and ss[S.SEEK_ACK] == 7
    stepping.on_play({"playing": False, "seq": 8, "step": 3}, steps=100)  # already paused: nothing moves
    assert ss["step"] == 42
    ss.update({"playing": True, S.PLAY_FROM: (49.0, 42)})
    stepping.on_play({"playing": False, "seq": 9, "step": "x"}, steps=100)  # a junk step: pause where it is
    assert not ss["playing"] and ss["step"] == 42


def test_a_step_beyond_the_sequence_is_clamped_when_the_length_shrinks():
    at = fresh("task=sine&example_length=300&step=250")
    assert step_view(at)["t"] == 250
    at.number_input(key="example_length").set_value(100).run()
    assert not at.exception
    assert at.session_state["step"] == 0 and step_view(at)["t"] == 0  # a new input starts at 0


def test_a_link_to_a_sample_file_opens_it_at_the_links_step():
    at = fresh("task=charlm&sequence_source=sample&sample_file=gettysburg.txt&step=40")
    assert not at.exception and not at.warning
    assert "your file gettysburg.txt" in heading(at)
    assert step_view(at)["t"] == 40 and bridge(at)["step"] == 40
    nudge = at.selectbox(key="nudge_feature")
    assert nudge.index == 0 and nudge.options[0] == "newline"  # a chosen option, by its name (never "Choose")
