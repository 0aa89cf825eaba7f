"""Training: learns, masks padding exactly, stops early, is reproducible; the CLI prints JSON."""

import itertools
import json
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

import lstm_core.training
from lstm_core import LabError, SequenceModel, TrainConfig, load_model, make_cell, make_task, sequence_model, train
from lstm_core.cli import main
from lstm_core.metrics import masked_loss
from lstm_core.scores import evaluate
from lstm_core.training import batch_loss, build_model

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(task="adding", length=12, n_train=256, n_val=128, hidden_size=8, batch_size=32, max_seconds=60)


@pytest.mark.slow
def test_training_reduces_the_loss_on_a_tiny_task():
    # How long training takes is measured by benchmarks/train_adding.py, not asserted here.
    res = train(TrainConfig(**TINY, max_epochs=25))
    first, best = res.history[0].val_loss, min(r.val_loss for r in res.history)
    assert best < 0.5 * first
    assert res.metrics["val_metric"] == pytest.approx(best)  # the best epoch's weights are kept
    assert res.metrics["val_metric"] < res.metrics["baseline"]


def test_masked_batch_loss_equals_the_loss_of_each_unpadded_sequence_alone():
    data = make_task("spike", 6, 30, seed=4)  # variable lengths, final readout
    assert len(set(data.lengths.tolist())) > 1
    torch.manual_seed(0)
    model = SequenceModel(make_cell("gru", 2, 5, seed=0), n_outputs=2, readout="final")
    x, y, ln = torch.from_numpy(data.x), torch.from_numpy(data.y), torch.from_numpy(data.lengths)
    padded = batch_loss(model, x, y, ln, None, "ce")
    one_by_one = [torch.nn.functional.cross_entropy(model(x[b : b + 1, : ln[b]]), y[b : b + 1])
                  for b in range(6)]
    torch.testing.assert_close(padded, torch.stack(one_by_one).mean())


def test_masked_per_step_loss_weights_every_real_step_once():
    torch.manual_seed(1)
    model = SequenceModel(make_cell("lstm", 3, 4, seed=1), n_outputs=5, readout="per_step")
    lengths = torch.tensor([7, 3, 5])
    x = torch.randn(3, 7, 3)
    x[torch.arange(7)[None, :] >= lengths[:, None]] = 99.0  # junk in the padding must not matter
    y = torch.randint(0, 5, (3, 7))
    mask = torch.arange(7)[None, :] < lengths[:, None]
    padded = batch_loss(model, x, y, lengths, mask, "ce")
    total = sum(torch.nn.functional.cross_entropy(model(x[b : b + 1, : lengths[b]])[0], y[b, : lengths[b]],
                                                  reduction="sum") for b in range(3))
    torch.testing.assert_close(padded, total / lengths.sum())


def test_early_stopping_stops_when_the_metric_stops_improving():
    res = train(TrainConfig(**TINY, lr=1e-12, patience=2, max_epochs=50))
    assert res.stop_reason == "early stopping"
    assert len(res.history) == 3  # the first epoch is the best; two more without improvement
    assert [r.best for r in res.history] == [True, False, False]


def test_the_caller_can_stop_training_after_any_epoch():
    seen = []
    res = train(TrainConfig(**TINY, max_epochs=50), on_epoch=lambda r: seen.append(r.epoch) or r.epoch == 2)
    assert res.stop_reason == "stopped" and seen == [1, 2]


def test_the_time_budget_is_respected(monkeypatch):
    clock = itertools.count(0.0, 0.1)  # a fake clock: every reading is 0.1 s after the one before
    monkeypatch.setattr(lstm_core.training, "time", types.SimpleNamespace(perf_counter=lambda: next(clock)))
    res = train(TrainConfig(**{**TINY, "max_seconds": 0.35}, max_epochs=1000))
    # The start reads 0.0; batches run after the checks at 0.1, 0.2 and 0.3 s; the check at 0.4 s stops the
    # epoch, which is still evaluated and reported, and no further epoch starts.
    assert res.stop_reason == "time budget"
    assert len(res.history) == 1


def test_the_same_seed_trains_the_same_weights():
    a = sequence_model(train(TrainConfig(**TINY, max_epochs=2, seed=5)).checkpoint).state_dict()
    b = sequence_model(train(TrainConfig(**TINY, max_epochs=2, seed=5)).checkpoint).state_dict()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_forget_bias_and_training_split_normalisation():
    cfg = TrainConfig(task="sine", length=30, n_train=64, n_val=16, hidden_size=4, forget_bias=1.0)
    data = make_task("sine", 80, 30, seed=0)
    model = build_model(cfg, data)
    np.testing.assert_allclose((model.cell.bias_ih_l0 + model.cell.bias_hh_l0)[4:8].detach(), 1.0)
    res = train(TrainConfig(task="sine", length=30, n_train=64, n_val=16, hidden_size=4, max_epochs=1))
    order = np.random.default_rng(0).permutation(80)  # the split train() makes for seed 0
    train_x = data.x[np.sort(order[:64])]
    assert res.checkpoint.normalisation.shift[0] == pytest.approx(train_x.mean(), abs=1e-5)
    assert res.checkpoint.normalisation.scale[0] == pytest.approx(train_x.std(), rel=1e-4)


def test_auto_normalisation_leaves_one_hot_inputs_alone():
    res = train(TrainConfig(task="copy", length=15, n_train=32, n_val=8, hidden_size=4, max_epochs=1))
    assert res.checkpoint.normalisation is None


def test_metrics_against_hand_computed_values():
    out = np.array([[2.0, 0.0], [0.0, 1.0], [1.0, 3.0], [5.0, 0.0]])
    y = np.array([0, 1, 0, 1])
    ev = evaluate(out, y, "ce", "f1")
    assert ev["accuracy"] == 0.5
    assert ev["f1"] == pytest.approx(2 * 1 / (2 * 1 + 1 + 1))  # tp=1 (row 1), fp=1 (row 2), fn=1 (row 3)
    p = np.exp(out) / np.exp(out).sum(1, keepdims=True)
    assert ev["loss"] == pytest.approx(-np.mean(np.log(p[np.arange(4), y])))
    assert ev["perplexity"] == pytest.approx(np.exp(ev["loss"]))
    reg = evaluate(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 0.0], [1.0, 4.0]]), "mse", "rmse")
    assert reg["mse"] == pytest.approx((0 + 4 + 4 + 0) / 4)
    assert reg["horizon_rmse"] == pytest.approx([np.sqrt(2), np.sqrt(2)])
    masked = masked_loss(torch.tensor([[[1.0], [5.0]]]), torch.tensor([[[0.0], [0.0]]]), "mse",
                         torch.tensor([[True, False]]))
    assert masked.item() == pytest.approx(1.0)


@pytest.mark.parametrize("kw, message", [
    (dict(task="addition"), "unknown task 'addition'"),
    (dict(model="lstmm"), "unknown cell 'lstmm'"),
    (dict(hidden_size=0), "hidden_size must be a whole number >= 1"),
    (dict(dropout=1.5), r"dropout must be in \[0, 1\)"),
])
def test_bad_training_options_are_refused(kw, message):
    with pytest.raises(LabError, match=message):
        TrainConfig(**kw)
    with pytest.raises(LabError, match="unknown training option"):
        TrainConfig.from_dict({"epochs": 3})


@pytest.mark.slow
def test_cli_train_prints_progress_and_a_json_last_line(tmp_path):
    out = tmp_path / "m.pt"
    proc = subprocess.run([sys.executable, "-m", "lstm_core", "train", "--task", "adding", "--length", "10",
                           "--model", "gru", "--hidden", "4", "--n-train", "64", "--n-val", "32", "--max-epochs",
                           "3", "--seed", "1", "--out", str(out), "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert sum(line.startswith("epoch ") for line in lines) == 3
    summary = json.loads(lines[-1])
    assert {"task", "model", "seed", "val_loss", "val_metric", "seconds", "epochs"} <= set(summary)
    assert (summary["task"], summary["model"], summary["seed"], summary["epochs"]) == ("adding", "gru", 1, 3)
    ck = load_model(out)
    assert ck.kind == "gru" and ck.task["name"] == "adding" and len(ck.history) == 3
    assert ck.metrics["val_loss"] == pytest.approx(summary["val_loss"])


def test_cli_train_bad_option_is_one_line_on_stderr(capsys):
    assert main(["train", "--task", "adding", "--param", "delay=5"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip().splitlines() == ["error: task 'adding' has no parameter 'delay'; it takes n, length, seed"]
