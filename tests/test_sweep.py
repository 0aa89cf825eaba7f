"""lstm_core/sweep.py and `python -m lstm_core sweep`: the delay sweep on tiny budgets.

Reference facts come from outside the code under test: chance on delayed recall with 8 symbols is 1/8 by
construction, the binomial band is worked out by hand, an accuracy over n_val x k symbols is a whole number
of symbols, and two runs of the same seeded, epoch-budgeted sweep agree bit for bit.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest

import lstm_core
from lstm_core import sweep as sw
from lstm_core.cli import main
from lstm_core.errors import LabError

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "assets" / "sweeps" / "copy_delay.json"
TINY = {"hidden_size": 4, "n_train": 64, "n_val": 16, "batch_size": 32, "max_epochs": 2, "max_seconds": 600.0}


@pytest.fixture(scope="module")
def tiny() -> lstm_core.Sweep:
    return lstm_core.delay_sweep([0, 3], ["lstm", "rnn"], [0], **TINY)


def test_the_chance_band_by_hand():
    # 8 symbols: chance 1/8; 500 sequences x 5 symbols = 2,500 guesses; sd sqrt(0.125 * 0.875 / 2500) = 0.0066144
    assert sw.chance_band(0.125, 2500) == pytest.approx(0.125 + 3 * 0.0066144, abs=1e-6)
    with pytest.raises(LabError, match="chance must be in"):
        sw.chance_band(1.0, 10)


def test_the_step_budget_gives_long_delays_fewer_epochs():
    assert sw.sequence_length(500) == 511  # 5 symbols, 500 blanks, the go cue, 5 symbols back
    assert sw.epochs_for(500, 150, 2000, 34_000_000) == 33  # 34e6 // (2000 * 511) = 33.27...
    assert sw.epochs_for(100, 150, 2000, 34_000_000) == 150  # 153 would fit: the epoch cap binds
    assert sw.epochs_for(5000, 150, 2000, 1) == 1  # at least one epoch
    assert sw.epochs_for(500, 150, 2000, None) == 150


def test_point_config_is_the_copy_task_at_the_delay():
    cfg = lstm_core.point_config("lstm", 20, 3, step_budget=34_000_000)
    assert (cfg.task, cfg.task_params, cfg.seed, cfg.forget_bias, cfg.max_epochs) == ("copy", {"delay": 20}, 3,
                                                                                      "chrono", 150)
    assert lstm_core.point_config("rnn", 20).forget_bias is None  # no forget gate: the config says so
    assert lstm_core.point_config("gru", 20, forget_bias=2.0).forget_bias == 2.0
    with pytest.raises(LabError, match="the sweep sets task"):
        lstm_core.point_config("lstm", 20, task="adding")
    with pytest.raises(LabError, match="unknown cell 'lstmm'"):
        lstm_core.point_config("lstmm", 20)
    with pytest.raises(LabError, match="delay must be a whole number"):
        lstm_core.point_config("lstm", -1)


def test_a_tiny_sweep_records_one_point_per_model_and_delay(tiny):
    assert [(p.delay, p.model) for p in tiny.points] == [(0, "lstm"), (0, "rnn"), (3, "lstm"), (3, "rnn")]
    assert tiny.complete
    for p in tiny.points:
        assert p.chance == 1 / 8  # the copy task's alphabet of 8, uniform symbols
        assert p.chance_band == pytest.approx(0.125 + 3 * math.sqrt(0.125 * 0.875 / (16 * 5)))
        n = round(p.accuracy * 16 * 5)  # an accuracy over 16 sequences x 5 recalled symbols
        assert p.accuracy == pytest.approx(n / 80, abs=1e-6)
        assert p.stop_reason == "max epochs" and p.epochs == 2 and 1 <= p.best_epoch <= 2 and p.reproducible
        cfg = lstm_core.TrainConfig.from_dict(p.config)
        assert (cfg.model, cfg.task_params["delay"], cfg.hidden_size, cfg.n_val) == (p.model, p.delay, 4, 16)


def test_the_same_sweep_gives_the_same_numbers(tiny):
    again = lstm_core.delay_sweep([0, 3], ["lstm", "rnn"], [0], **TINY)
    same = ("model", "delay", "seed", "accuracy", "epochs", "best_epoch", "stop_reason", "config")
    assert [[getattr(p, f) for f in same] for p in again.points] == [[getattr(p, f) for f in same] for p in tiny.points]


def test_stop_ends_the_sweep_with_what_it_has():
    calls = []
    out = lstm_core.delay_sweep([0, 3], ["rnn"], [0], stop=lambda: True, on_point=calls.append, **TINY)
    assert len(out.points) == 1 and not out.complete
    assert out.points[0].stop_reason == "stopped" and not out.points[0].reproducible
    assert calls == [out]


def test_save_and_load_give_back_the_same_sweep(tiny, tmp_path):
    tiny.save(tmp_path / "s.json")
    assert lstm_core.load_sweep(tmp_path / "s.json") == tiny
    assert lstm_core.load_sweep((tmp_path / "s.json").read_bytes()) == tiny


def _resealed(d: dict) -> dict:
    """A file edited by someone who also recomputed its digest."""
    body = {k: v for k, v in d.items() if k not in ("format", "schema", "digest")}
    return {**d, "digest": sw._digest(body)}


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d["points"][0].update(accuracy=0.99), "does not match its digest"),
    (lambda d: d.update(_resealed({**d, "points": [{**d["points"][0], "accuracy": 1.5}]})),
     r"point 1 \(lstm, delay 0\): accuracy must be a number from 0 to 1"),
    (lambda d: d.update(_resealed({**d, "points": [{**d["points"][0], "chance": 0.5}]})), "do not follow from"),
    (lambda d: d.update(_resealed({**d, "points": [{**d["points"][0], "at_chance": not d["points"][0]["at_chance"]}]})),
     "at_chance says"),
    (lambda d: d.update(_resealed({**d, "points": [{**d["points"][0], "model": "lstmm"}]})), "model must be one of"),
    (lambda d: d.update(_resealed({**d, "points": [d["points"][0], d["points"][0]]})), "appears twice"),
    (lambda d: d.update(_resealed({**d, "points": [{**d["points"][0], "delay": 7}]})), "its config trains"),
    (lambda d: d.update(schema=99), "schema version 99"),
    (lambda d: d.update(format="something else"), "not a delay sweep"),
])
def test_a_tampered_file_is_refused_with_a_clear_message(tiny, tmp_path, edit, message):
    d = tiny.to_dict()
    edit(d)
    path = tmp_path / "s.json"
    path.write_text(json.dumps(d))
    with pytest.raises(LabError, match=message):
        lstm_core.load_sweep(path)


def test_a_file_that_is_not_json_or_missing_is_refused(tmp_path):
    (tmp_path / "s.json").write_bytes(b"\xff{")
    with pytest.raises(LabError, match="is not valid JSON"):
        lstm_core.load_sweep(tmp_path / "s.json")
    with pytest.raises(LabError, match="does not exist"):
        lstm_core.load_sweep(tmp_path / "nothing.json")


def _point(model, delay, acc, seed=0):
    cfg = lstm_core.point_config(model, delay, seed)
    band = sw.chance_band(0.125, 2500)
    return sw.SweepPoint(model, delay, seed, acc, 0.125, band, 10, 10, 1.0, "max epochs", dataclasses.asdict(cfg))


def test_where_a_model_falls_to_chance_and_how_far_it_holds():
    # band 0.1448: 0.14 is at chance, 0.15 is not
    pts = [_point("rnn", 5, 0.95), _point("rnn", 10, 0.5), _point("rnn", 20, 0.14), _point("rnn", 50, 0.15),
           _point("rnn", 100, 0.13), _point("rnn", 200, 0.12),
           _point("lstm", 5, 1.0), _point("lstm", 10, 0.92), _point("lstm", 20, 0.91, 0), _point("lstm", 20, 0.3, 1)]
    s = sw.Sweep(tuple(pts), {}, "", True)
    assert s.falls_to_chance("rnn") == 100  # 20 is at chance, but 50 is above it again
    assert s.holds("rnn") == 5
    assert s.falls_to_chance("lstm") is None
    assert s.curve("lstm")["median"] == [1.0, 0.92, pytest.approx(0.605)]
    assert s.holds("lstm") == 10  # the median of the two seeds at 20 is 0.605
    assert s.first_at_chance("rnn") == 20 and s.first_at_chance("lstm") is None
    assert s.summary("rnn", "vanilla RNN") == (
        "vanilla RNN: accuracy ≥ 0.9 up to a delay of 5 steps; first at chance at a delay of 20 steps, above it again "
        "after, at chance from 100 steps on")
    assert s.summary("lstm").endswith("above chance at every delay tried (up to 20 steps)")


def test_the_cli_writes_the_sweep_and_records_its_command(tmp_path, capsys):
    out = tmp_path / "s.json"
    args = ["sweep", "--delays", "0,3", "--models", "rnn", "--seeds", "0,1", "--max-epochs", "1", "--hidden", "4",
            "--n-train", "32", "--n-val", "16", "--step-budget", "1e9", "--out", str(out)]
    assert main(args) == 0, capsys.readouterr().err
    s = lstm_core.load_sweep(out)
    assert s.command == "python -m lstm_core " + " ".join(args)
    assert [(p.delay, p.seed) for p in s.points] == [(0, 0), (0, 1), (3, 0), (3, 1)]
    assert s.settings["step_budget"] == 10**9 and s.settings["overrides"]["n_train"] == 32
    printed = capsys.readouterr().out
    assert "rnn  delay    3 seed 1: accuracy" in printed and "wrote 4 points" in printed


@pytest.mark.parametrize(("args", "message"), [
    (["--delays", "5,x"], "is not a comma-separated list of int"),
    (["--models", "lstm,lstmm"], "unknown cell 'lstmm'"),
    (["--delays", "5,5"], "each delay must be given once"),
    (["--out", "/no/such/folder/s.json"], "does not exist"),
    (["--max-epochs", "0"], "max_epochs must be a whole number"),
])
def test_bad_cli_arguments_are_one_line(tmp_path, capsys, args, message):
    base = {"--delays": "5", "--models": "rnn", "--out": str(tmp_path / "s.json"), "--max-epochs": "1"}
    for k, v in zip(args[::2], args[1::2], strict=True):
        base[k] = v
    try:
        code = main(["sweep", *[x for kv in base.items() for x in kv]])
    except SystemExit as e:  # argparse's own refusals
        code = e.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.skipif(not SHIPPED.exists(), reason="the shipped sweep is made by the command in the README")
def test_the_shipped_sweep_loads_and_records_its_command():
    s = lstm_core.load_sweep(SHIPPED)
    assert s.complete and s.command.startswith("python -m lstm_core sweep ")
    assert s.models == ["lstm", "gru", "rnn"] and s.delays == [5, 10, 20, 50, 100, 200, 500]
    readme = (ROOT / "README.md").read_text()
    assert s.command in readme
