"""The shipped checkpoints: all there, loadable without torch's pickle, traceable, and showing the lesson."""

import functools
import json
from pathlib import Path

import numpy as np
import pytest
import torch

import lstm_core
from lstm_core.scores import better
from lstm_core.training import held_out_metrics

MODELS = Path(__file__).resolve().parents[1] / "assets" / "models"
MANIFEST = json.loads((MODELS / "manifest.json").read_text())
ENTRIES = {(m["task"], m["kind"]): m for m in MANIFEST["models"]}
MEMORY_TASKS = ("adding", "copy", "spike")  # the answer depends on an input far back in the sequence
TORCH_CLASSES = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}


@functools.cache
def shipped(task: str, kind: str):
    return lstm_core.load_model(MODELS / ENTRIES[(task, kind)]["file"])


@functools.cache
def held_out(task: str, kind: str) -> dict:
    """The held-out figure computed again here, on the manifest's data (n and seed), not read from it."""
    recorded = ENTRIES[(task, kind)]["held_out"]
    return held_out_metrics(shipped(task, kind), n=recorded["n"], seed=recorded["seed"])


def test_every_task_has_an_lstm_a_gru_and_an_rnn_and_the_command_that_made_them():
    assert set(ENTRIES) == {(t, k) for t in lstm_core.TASKS for k in ("lstm", "gru", "rnn")}
    assert MANIFEST["command"] == "python -m lstm_core.pretrain"
    for m in MANIFEST["models"]:
        path = MODELS / m["file"]
        assert path.exists() and path.stat().st_size == m["bytes"] < 100_000, m["file"]


@pytest.mark.parametrize("task, kind", sorted(ENTRIES))
def test_a_shipped_model_reproduces_its_held_out_figure_and_traces(task, kind):
    ck = shipped(task, kind)
    assert (ck.task["name"], ck.kind) == (task, kind)
    recorded = ENTRIES[(task, kind)]["held_out"]
    again = held_out(task, kind)
    assert again["metric"] == recorded["metric"]
    assert again["value"] == pytest.approx(recorded["value"], rel=1e-4, abs=1e-6)
    data = lstm_core.make_task(task, 1, ck.task["params"]["length"], seed=3,
                               **{k: v for k, v in ck.task["params"].items() if k not in ("n", "length", "seed")})
    x = data.x[0, : data.lengths[0]]
    xn = x if ck.normalisation is None else ck.normalisation.apply(x)
    tr = lstm_core.trace(ck, xn)
    assert tr["h"].shape == (data.lengths[0], ck.hidden_size)
    # torch's own layer with the shipped weights (all shipped models are plain LSTM, GRU and tanh RNN)
    assert ck.variant == "vanilla" and ck.network.nonlinearity == "tanh"
    reference = TORCH_CLASSES[kind](ck.input_size, ck.hidden_size, batch_first=True)
    reference.load_state_dict({k: torch.from_numpy(v) for k, v in ck.network.state_dict().items()})
    with torch.no_grad():
        expected = reference(torch.from_numpy(np.asarray(xn, np.float32))[None])[0][0].numpy()
    np.testing.assert_allclose(tr["h"], expected, rtol=0, atol=1e-5)


@pytest.mark.parametrize("task", MEMORY_TASKS)
def test_the_lstm_beats_the_rnn_by_a_clear_margin_on_memory_tasks(task):
    lstm, rnn = held_out(task, "lstm"), held_out(task, "rnn")  # computed here, not read from the manifest
    for kind, figure in (("lstm", lstm), ("rnn", rnn)):  # and they are the figures the manifest shows
        assert figure["value"] == pytest.approx(ENTRIES[(task, kind)]["held_out"]["value"], rel=1e-4, abs=1e-6)
    metric = lstm["metric"]
    assert better(metric, lstm["value"], rnn["value"])
    if metric == "mse":
        assert lstm["value"] < 0.1 * rnn["value"]  # ten times smaller error
        assert rnn["value"] > 0.8 * rnn["baseline"]  # the RNN barely beats predicting the mean
    else:
        assert lstm["value"] - rnn["value"] > 0.4  # forty points of accuracy
