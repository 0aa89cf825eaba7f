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


# --- forget-gate initialisation (issue 13): a number, chrono, or the kind's default


def summed_bias(cell, block: int, H: int) -> np.ndarray:
    return (cell.bias_ih_l0 + cell.bias_hh_l0)[block * H:(block + 1) * H].detach().numpy()


def test_chrono_sets_log_uniform_forget_biases_and_the_opposite_input_biases():
    cfg = TrainConfig.for_task("copy", forget_bias="chrono", hidden_size=64, seed=3)
    data = make_task("copy", 8, seed=0)  # delay 50: T_max = k + delay + 1 = 56
    cell = build_model(cfg, data).cell
    b_f = summed_bias(cell, 1, 64)
    assert ((b_f >= 0) & (b_f <= np.log(55) + 1e-6)).all()  # log U[1, T_max - 1]
    assert b_f.std() > 0.5  # spread over units: the point of chrono
    np.testing.assert_array_equal(summed_bias(cell, 0, 64), -b_f)  # b_i = -b_f
    torch.testing.assert_close(cell.bias_hh_l0[:128], torch.zeros(128))  # the bias lives in bias_ih alone
    again = build_model(cfg, data).cell
    np.testing.assert_array_equal(summed_bias(again, 1, 64), b_f)  # seeded
    # the other weights are torch's init for the seed, untouched by chrono's draw
    plain_cell = build_model(TrainConfig.for_task("copy", forget_bias=None, hidden_size=64, seed=3), data).cell
    torch.testing.assert_close(cell.weight_hh_l0, plain_cell.weight_hh_l0, rtol=0, atol=0)


def test_chrono_max_bounds_the_draw():
    cfg = TrainConfig.for_task("adding", forget_bias="chrono", chrono_max=3, hidden_size=32)
    b_f = summed_bias(build_model(cfg, make_task("adding", 4, 10)).cell, 1, 32)
    assert ((b_f >= 0) & (b_f <= np.log(2) + 1e-6)).all()


def test_the_gru_update_gate_takes_the_choice_when_asked_and_keeps_torch_init_by_default():
    data = make_task("copy", 8, seed=0)
    default = build_model(TrainConfig.for_task("copy", model="gru", hidden_size=4, seed=2), data).cell
    torch.testing.assert_close(default.bias_ih_l0, make_cell("gru", 10, 4, seed=2).bias_ih_l0, rtol=0, atol=0)
    one = build_model(TrainConfig.for_task("copy", model="gru", hidden_size=4, seed=2, forget_bias=1.0), data).cell
    np.testing.assert_array_equal(summed_bias(one, 1, 4), 1.0)  # blocks r, z, n: z is the second
    chrono = build_model(TrainConfig.for_task("copy", model="gru", hidden_size=4, forget_bias="chrono"), data).cell
    assert (summed_bias(chrono, 1, 4) > 0).all()
    torch.testing.assert_close(chrono.bias_ih_l0[:4], make_cell("gru", 10, 4, seed=0).bias_ih_l0[:4])  # r as torch's


def test_the_defaults_are_what_they_were():
    assert TrainConfig().forget_bias == 1.0  # LSTM: Jozefowicz et al. 2015
    assert TrainConfig.for_task("copy").forget_bias == 3.0  # delayed recall's preset
    assert TrainConfig(model="gru").forget_bias is None  # torch's own init
    assert TrainConfig.for_task("copy", model="gru").forget_bias is None  # the preset is the LSTM's
    assert TrainConfig.for_task("copy", model="gru", forget_bias=3.0).forget_bias == 3.0


@pytest.mark.parametrize("kw, message", [
    (dict(forget_bias="lots"), "forget_bias must be a number, 'chrono' or None"),
    (dict(forget_bias=float("nan")), "forget_bias must be a number"),
    (dict(forget_bias=True), "forget_bias must be a number"),
    (dict(chrono_max=20), "chrono_max applies to forget_bias 'chrono' only"),
    (dict(forget_bias="chrono", chrono_max=1), "chrono_max must be a whole number >= 2"),
])
def test_bad_forget_gate_choices_are_refused(kw, message):
    with pytest.raises(LabError, match=message):
        TrainConfig(**kw)


def test_a_chrono_checkpoint_keeps_its_config_and_loads_back(tmp_path):
    res = train(TrainConfig(**TINY, max_epochs=1, forget_bias="chrono", chrono_max=9))
    res.checkpoint.save(tmp_path / "m.npz")
    ck = load_model(tmp_path / "m.npz")
    assert (ck.config["forget_bias"], ck.config["chrono_max"]) == ("chrono", 9)
    cfg = TrainConfig.from_dict(ck.config)  # the stored config replays the run
    assert (cfg.forget_bias, cfg.chrono_max) == ("chrono", 9)


def test_cli_takes_chrono_and_refuses_a_word(capsys):
    from lstm_core.cli import build_parser

    args = build_parser().parse_args(["train", "--forget-bias", "chrono", "--chrono-max", "20"])
    assert (args.forget_bias, args.chrono_max) == ("chrono", 20)
    assert build_parser().parse_args(["train", "--forget-bias", "2.5"]).forget_bias == 2.5
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args(["train", "--forget-bias", "lots"])
    assert e.value.code == 2 and "'lots' is neither a number nor chrono" in capsys.readouterr().err
    assert main(["train", "--chrono-max", "20"]) == 2
    assert capsys.readouterr().err.strip() == "error: --chrono-max applies to --forget-bias chrono only"


def test_longest_dependency_per_task():
    from lstm_core.tasks import longest_dependency

    assert longest_dependency(make_task("copy", 1, delay=50)) == 56  # 5 symbols + 50 blanks + the go cue
    assert longest_dependency(make_task("adding", 1, 100)) == 99
    assert longest_dependency(make_task("sine", 1, 100)) == 50  # one period of the slowest wave
    assert all(longest_dependency(make_task(t, 1, 40)) >= 2 for t in lstm_core.TASKS if t != "copy")


# --- stopping from outside and the gates' statistics (the Train page's worker uses both)


def test_stop_ends_training_mid_epoch_and_keeps_the_best_weights():
    calls = itertools.count()
    # Stop when the 7th batch is about to start: TINY has 256 / 32 = 8 batches an epoch, so during epoch 1
    res = train(TrainConfig(**TINY, max_epochs=50), stop=lambda: next(calls) >= 6)
    assert res.stop_reason == "stopped"
    assert len(res.history) == 1  # the partial epoch is evaluated and reported, as when time runs out
    assert res.metrics["val_metric"] == pytest.approx(res.history[0].val_metric)
    res = train(TrainConfig(**TINY, max_epochs=50), stop=lambda: next(calls) >= 20)
    best = min(r.val_metric for r in res.history)
    assert res.stop_reason == "stopped" and res.metrics["val_metric"] == pytest.approx(best)


def test_stop_before_the_first_batch_still_returns_a_model():
    res = train(TrainConfig(**TINY, max_epochs=5), stop=lambda: True)
    assert res.stop_reason == "stopped" and res.history == []
    assert res.checkpoint.kind == "lstm"


def test_gate_probe_reports_the_gates_each_epoch_without_changing_the_weights():
    seen = []
    a = train(TrainConfig(**TINY, max_epochs=2), on_epoch=seen.append, gate_probe=16)
    b = train(TrainConfig(**TINY, max_epochs=2))
    assert [r.gates is not None for r in seen] == [True, True]
    g = seen[-1].gates
    assert g.gates == ("f", "i", "o") and g.closed["f"].shape == (8,) and g.steps == 16 * 12
    assert 0 < g.forget < 1
    for k, v in sequence_model(a.checkpoint).state_dict().items():
        assert torch.equal(v, sequence_model(b.checkpoint).state_dict()[k]), k
    assert "gates" not in a.checkpoint.history[0]  # the history keeps plain numbers
    rnn = train(TrainConfig(**{**TINY, "model": "rnn"}, max_epochs=1), gate_probe=16)
    assert rnn.history[0].gates is None  # a vanilla RNN has no gate
