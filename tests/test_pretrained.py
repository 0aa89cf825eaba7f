"""The shipped checkpoints: all there, loadable without torch's pickle, traceable, and showing the lesson."""

import json
from pathlib import Path

import numpy as np
import pytest

import lstm_core
from lstm_core.metrics import better
from lstm_core.training import held_out_metrics

MODELS = Path(__file__).resolve().parents[1] / "assets" / "models"
MANIFEST = json.loads((MODELS / "manifest.json").read_text())
ENTRIES = {(m["task"], m["kind"]): m for m in MANIFEST["models"]}
MEMORY_TASKS = ("adding", "copy", "spike")  # the answer depends on an input far back in the sequence


def test_every_task_has_an_lstm_a_gru_and_an_rnn_and_the_command_that_made_them():
    assert set(ENTRIES) == {(t, k) for t in lstm_core.TASKS for k in ("lstm", "gru", "rnn")}
    assert MANIFEST["command"] == "python -m lstm_core.pretrain"
    for m in MANIFEST["models"]:
        path = MODELS / m["file"]
        assert path.exists() and path.stat().st_size == m["bytes"] < 100_000, m["file"]


@pytest.mark.parametrize("task, kind", sorted(ENTRIES))
def test_a_shipped_model_reproduces_its_held_out_figure_and_traces(task, kind):
    ck = lstm_core.load_model(MODELS / ENTRIES[(task, kind)]["file"])
    assert (ck.task["name"], ck.kind) == (task, kind)
    recorded = ENTRIES[(task, kind)]["held_out"]
    again = held_out_metrics(ck, n=recorded["n"], seed=recorded["seed"])
    assert again["value"] == pytest.approx(recorded["value"], rel=1e-4, abs=1e-6)
    data = lstm_core.make_task(task, 1, ck.task["params"]["length"], seed=3,
                               **{k: v for k, v in ck.task["params"].items() if k not in ("n", "length", "seed")})
    x = data.x[0, : data.lengths[0]]
    tr = lstm_core.trace(ck, x if ck.normalisation is None else ck.normalisation.apply(x))
    assert np.isfinite(tr["h"]).all() and tr["h"].shape == (data.lengths[0], ck.hidden_size)


@pytest.mark.parametrize("task", MEMORY_TASKS)
def test_the_lstm_beats_the_rnn_by_a_clear_margin_on_memory_tasks(task):
    lstm, rnn = ENTRIES[(task, "lstm")]["held_out"], ENTRIES[(task, "rnn")]["held_out"]
    metric = lstm["metric"]
    assert better(metric, lstm["value"], rnn["value"])
    if metric == "mse":
        assert lstm["value"] < 0.1 * rnn["value"]  # ten times smaller error
        assert rnn["value"] > 0.8 * rnn["baseline"]  # the RNN barely beats predicting the mean
    else:
        assert lstm["value"] - rnn["value"] > 0.4  # forty points of accuracy
