"""The Train page's pure builders (app/train_figures.py): rows and Vega-Lite specs from jobs' reports, checked by
inspecting what they return."""

import numpy as np

from app import train_figures as F
from app.training_jobs import JobView
from lstm_core.gate_stats import GateStats


def epoch(e, train, val, metric=0.5, forget=None):
    return {"epoch": e, "train_loss": train, "val_loss": val, "val_metric": metric, "metric": "accuracy",
            "seconds": e * 0.1, "best": True, "forget": forget}


def stats(kind, gates, H, lo, hi):
    return GateStats(kind, gates, {g: 0.5 for g in gates}, {g: np.full(H, lo) for g in gates},
                     {g: np.full(H, hi) for g in gates}, 10)


def job(label, model, epochs=(), frames=(), result=None, **config):
    return JobView(f"j-{label}", label, {"model": model, "forget_bias": 1.0, **config}, "done", None, 1.0,
                   tuple(epochs), tuple(frames), result, None, "")


def test_curve_rows_hold_losses_metric_gap_and_forget_gate_per_epoch():
    lstm = job("LSTM", "lstm", [epoch(1, 2.0, 2.5, forget=0.9), epoch(2, 1.0, float("nan"), forget=0.8)])
    rnn = job("RNN", "rnn", [epoch(1, 3.0, 3.0)])
    rows = F.curve_rows([lstm, rnn])
    assert rows[0] == {"model": "LSTM", "epoch": 1, "val_loss": 2.5, "train_loss": 2.0, "metric": 0.5, "gap": 0.5,
                       "forget": 0.9}
    assert rows[1]["val_loss"] is None and rows[1]["gap"] is None  # a NaN is left out, not drawn at 0
    assert rows[1]["train_loss"] == 1.0 and rows[1]["forget"] == 0.8
    assert rows[2]["model"] == "RNN" and rows[2]["forget"] is None  # no gate, no forget-gate curve


def test_chart_tables_keep_every_row_and_value_with_fixed_column_types():
    rnn = job("RNN", "rnn", [epoch(1, 3.0, 3.0), epoch(2, 2.0, float("nan"))])  # no forget gate at all
    rows = F.curve_rows([rnn])
    t = F.table(rows, F.CURVE_TYPES)
    assert t.to_pylist() == rows  # what the chart gets is exactly the rows (None stays missing, not NaN or 0)
    assert str(t.schema.field("forget").type) == "double" and str(t.schema.field("epoch").type) == "int64"
    lstm = job("LSTM", "lstm", frames=[(2, stats("lstm", ("f", "i", "o"), 3, 0.25, 0.5))])
    sat, _ = F.saturation_rows([lstm])
    assert F.table(sat, F.SATURATION_TYPES).to_pylist() == sat and len(sat) == 9


def test_curves_share_the_epoch_axis_and_draw_as_svg():
    spec = F.curves_spec(["LSTM", "GRU"], "accuracy", 0.125)
    assert spec["resolve"]["scale"]["x"] == "shared"
    assert spec["usermeta"]["embedOptions"]["renderer"] == "svg"
    fields = [[layer["encoding"]["y"]["field"] for layer in p["layer"] if "field" in layer["encoding"]["y"]]
              for p in spec["concat"]]
    assert fields == [["val_loss", "train_loss"], ["metric"], ["gap"], ["forget"]]
    validation, training = spec["concat"][0]["layer"]
    assert validation["encoding"]["y"]["scale"]["type"] == "log"
    assert validation["mark"]["point"] and not training["mark"]["point"]  # the points the browser test counts
    assert validation["transform"] == [{"filter": {"field": "val_loss", "valid": True}}]
    assert spec["concat"][1]["layer"][1]["encoding"]["y"]["datum"] == 0.125  # guessing, dashed
    colour = validation["encoding"]["color"]["scale"]
    assert colour["domain"] == ["LSTM", "GRU"] and len(colour["range"]) == 2
    assert F.curves_spec(["a"], "mse", None)["concat"][1]["layer"][1:] == []  # no baseline known yet


def test_saturation_shows_each_models_newest_frame_at_or_before_the_epoch():
    fio = ("f", "i", "o")
    lstm = job("LSTM (vanilla, 4 units)", "lstm",
               frames=[(1, stats("lstm", fio, 4, 0.0, 0.1)), (5, stats("lstm", fio, 4, 0.2, 0.7))])
    gru = job("GRU (4 units)", "gru", frames=[(3, stats("gru", ("r", "z"), 4, 0.5, 0.5))])
    rows, shown = F.saturation_rows([lstm, gru], epoch=4)
    assert shown == {"LSTM (vanilla, 4 units)": 1, "GRU (4 units)": 3}
    assert len(rows) == 4 * 3 + 4 * 2
    f = [r for r in rows if r["panel"] == "LSTM (vanilla, 4 units) · forget gate f"]
    assert [(r["closed"], r["open"]) for r in f] == [(0.0, 0.1)] * 4
    assert {r["panel"] for r in rows if r["model"].startswith("GRU")} == {"GRU (4 units) · reset gate r",
                                                                         "GRU (4 units) · update gate z"}
    rows, shown = F.saturation_rows([lstm], epoch=None)
    assert shown == {"LSTM (vanilla, 4 units)": 5} and rows[0]["open"] == 0.7
    assert F.saturation_rows([lstm], epoch=0) == ([], {})


def test_saturation_spec_has_fixed_unit_axes_and_one_panel_per_model_and_gate():
    spec = F.saturation_spec(["1. LSTM"], ["LSTM (vanilla, 4 units) · forget gate f", "1. LSTM · input gate i"])
    points = spec["spec"]["layer"][1]["encoding"]
    assert points["x"]["scale"]["domain"] == [0, 1] and points["y"]["scale"]["domain"] == [0, 1]
    assert spec["facet"]["sort"] == ["LSTM (vanilla, 4 units) · forget gate f", "1. LSTM · input gate i"]


def test_results_table_puts_models_side_by_side():
    metrics = {"metric": "rmse", "val_metric": 0.05, "baseline": 1.0, "val_loss": 0.0025, "train_loss": 0.002,
               "gap": 0.0005, "epochs": 7, "seconds": 3.25, "latency_us_per_step": 12.34, "horizon_rmse": [0.04, 0.06],
               "stop_reason": "time budget"}
    done = job("1. LSTM", "lstm", [dict(epoch(1, 1, 1), metric="rmse")], result={"metrics": metrics,
               "stop_reason": "time budget"}, forget_bias="chrono", chrono_max=56)
    queued = job("2. RNN", "rnn")
    table = F.results_table([done, queued], {})
    assert list(table) == ["1. LSTM", "2. RNN"]
    col = table["1. LSTM"]
    assert col["validation rmse (best epoch)"] == "0.0500" and col["rmse of guessing"] == "1.0000"
    assert col["RMSE 1 step ahead"] == "0.0400" and col["RMSE 2 steps ahead"] == "0.0600"
    assert col["seconds"] == "3.2" and col["epochs"] == "7"
    assert col["forget-gate init"] == "chrono, T_max 56"
    assert table["2. RNN"]["forget-gate init"] == "— (no gate)" and table["2. RNN"]["seconds"] == ""


def test_a_long_run_is_drawn_at_every_kth_epoch_and_its_newest():
    long = job("LSTM", "lstm", [epoch(e, 1.0, 1.0) for e in range(1, 1001)])
    epochs = [r["epoch"] for r in F.curve_rows([long])]
    assert len(epochs) <= F.MAX_EPOCHS_DRAWN + 1 and epochs[0] == 1 and epochs[-1] == 1000
    short = job("LSTM", "lstm", [epoch(e, 1.0, 1.0) for e in range(1, 51)])
    assert len(F.curve_rows([short])) == 50
