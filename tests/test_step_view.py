"""The step in numbers as plain data (app/step_view.py): equations and diagram slots, checked against
traces of torch-layout cells and hand calculations."""

import re
from pathlib import Path

import numpy as np
import pytest

import lstm_core
from app import colors, figures, step_view

DIAGRAMS = Path(__file__).resolve().parents[1] / "assets" / "diagrams"


def numbers(text: str) -> list[float]:
    return [float(v.replace("−", "-")) for v in re.findall(r"−?\d+\.\d+", text)]


@pytest.fixture(scope="module")
def traces():
    x = np.random.default_rng(0).standard_normal((30, 2)).astype(np.float32)
    cells = {k: lstm_core.from_torch(lstm_core.make_cell(k, 2, 5, seed=1)) for k in ("lstm", "gru", "rnn")}
    return x, cells, {k: lstm_core.trace(c, x) for k, c in cells.items()}


def test_lstm_equations_show_the_step_numbers_and_c_by_hand(traces):
    _, cells, tr = traces
    s = lstm_core.step_at(cells["lstm"], tr["lstm"], 12)
    eqs = step_view.equations(cells["lstm"], s, 3)
    assert [e["eq"].split(" =")[0] for e in eqs] == ["f_{t}", "i_{t}", "C̃_{t}", "C_{t}", "o_{t}", "h_{t}"]
    for e, key in zip(eqs, ("f", "i", "g", "c", "o", "h"), strict=True):
        assert numbers(e["num"][-1])[-1] == pytest.approx(float(tr["lstm"][key][12, 3]), abs=6e-4), key
    f, c_prev, i, g = numbers(eqs[3]["num"][0])  # C_t = f × C_{t-1} + i × C̃_t, the numbers written out
    assert c_prev == pytest.approx(float(tr["lstm"]["c"][11, 3]), abs=6e-4)
    assert f * c_prev + i * g == pytest.approx(numbers(eqs[3]["num"][1])[0], abs=3e-3)  # checkable by hand


@pytest.mark.parametrize("variant", list(lstm_core.VARIANTS))
def test_each_variant_writes_its_own_equations(traces, variant):
    x = traces[0]
    cell = lstm_core.from_torch(lstm_core.make_cell("lstm", 2, 5, variant=variant, seed=1))
    tr = lstm_core.trace(cell, x)
    eqs = step_view.equations(cell, lstm_core.step_at(cell, tr, 4), 1)
    text = " ".join(e["eq"] for e in eqs)
    expected = {"nfg": "f_{t} = 1", "nig": "i_{t} = 1", "nog": "o_{t} = 1", "cifg": "i_{t} = 1 − f_{t}",
                "niaf": "(no tanh)", "noaf": "h_{t} = o_{t} ⊙ C_{t}", "peephole": "p_{f} ⊙ C_{t−1}"}
    assert variant == "vanilla" or expected[variant] in text
    h = eqs[-1]
    assert numbers((h["num"] or [h["eq"]])[-1])[-1] == pytest.approx(float(tr["h"][4, 1]), abs=6e-4)


def test_gru_and_rnn_equations(traces):
    _, cells, tr = traces
    s = lstm_core.step_at(cells["gru"], tr["gru"], 7)
    eqs = step_view.equations(cells["gru"], s, 2)
    for e, key in zip(eqs, ("r", "z", "n", "h"), strict=True):
        assert numbers(e["num"][-1])[-1] == pytest.approx(float(tr["gru"][key][7, 2]), abs=6e-4), key
    z, n, z2, h_prev = numbers(eqs[3]["num"][0])
    assert z == pytest.approx(1 - z2, abs=1.5e-3) and h_prev == pytest.approx(float(tr["gru"]["h"][6, 2]), abs=6e-4)
    rs = lstm_core.step_at(cells["rnn"], tr["rnn"], 7)
    pre, h = numbers(step_view.equations(cells["rnn"], rs, 2)[0]["num"][0])
    assert h == pytest.approx(np.tanh(pre), abs=1e-3) and h == pytest.approx(float(tr["rnn"]["h"][7, 2]), abs=6e-4)


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_diagrams_fill_every_slot_of_their_template_with_numbers_and_readable_colours(traces, kind):
    _, cells, tr = traces
    s = lstm_core.step_at(cells[kind], tr[kind], 5)
    d = step_view.diagram(kind, s, 2, 5, figures.diagram_ranges(tr[kind]), "(0.10, 0.20)")
    slots = set(re.findall(r"\{\{(\w+)\}\}", (DIAGRAMS / f"{lstm_core.CELLS[kind].diagram}.svg").read_text()))
    assert slots  # a template without slots would make the loop below check nothing
    for slot in slots:
        if slot.endswith("_fill"):
            assert re.fullmatch(r"#[0-9a-f]{6}", d["fill"][slot[:-5]])
        elif slot.endswith("_text"):
            base = slot[:-5]
            assert d["ink"][base] == colors.text_colour_on(d["fill"][base])
        else:
            assert slot in d["text"], slot
    assert d["text"]["t"] == "5" and d["text"]["unit"] == "2" and d["text"]["x"] == "(0.10, 0.20)"
    assert float(d["text"]["h"].replace("−", "-")) == pytest.approx(float(tr[kind]["h"][5, 2]), abs=6e-4)
    assert float(d["text"]["h_prev"].replace("−", "-")) == pytest.approx(float(tr[kind]["h"][4, 2]), abs=6e-4)


def test_x_label_names_a_character_or_shows_values():
    one_hot = np.zeros(6)
    one_hot[2] = 1
    assert step_view.x_label(one_hot, tuple("ab cde")) == "space"
    one_hot[2], one_hot[4] = 0, 1
    assert step_view.x_label(one_hot, ("a", "b", "c", "d", "<b>", "f")) == "<b>"  # as text; the view escapes nothing
    assert step_view.x_label(np.zeros(6), tuple("abcdef")) == "unknown (zeros)"
    assert step_view.x_label(np.array([0.5, -1.0]), ("a", "b")) == "(0.50, -1.00)"


def test_input_csv():
    text = figures.input_csv(np.array([[1.0, 2.0], [3.0, 4.0]]), ("a", "b"))
    assert text.splitlines() == ["step,a,b", "0,1.0,2.0", "1,3.0,4.0"]
