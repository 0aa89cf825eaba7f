"""Hostile input to the core: checkpoint metadata (checkpoint_meta.validate_meta, for .npz and .pt alike)
and array files whose headers promise more than the limits allow.

Each metadata case starts from a shipped checkpoint, changes one field, saves the file in both formats and
loads it: it must be refused with the pinned message (starting with the file name), or, for text that is
only displayed, accepted as it is.
"""

import copy
import dataclasses
import io
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import lstm_core
from lstm_core import LabError, load_model
from lstm_core import checkpoint_meta as cm
from lstm_core.network import Network
from lstm_core.readers import ReadOptions, read_sequences

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "assets" / "models"
TASK_NAMES = "adding, copy, sine, spike, anomaly, charlm"
SCRIPT = "<img src=x onerror=alert(1)>"
DELETE = object()


def shipped(stem: str) -> tuple[dict, dict]:
    """The metadata (as JSON) and the weights of a shipped checkpoint."""
    with np.load(MODELS / f"{stem}.npz") as z:
        arrays = {k: z[k] for k in z.files}
    return json.loads(str(arrays.pop("meta"))), arrays


def changed(meta: dict, path: tuple, value) -> dict:
    meta = copy.deepcopy(meta)
    *parents, last = path
    node = meta
    for key in parents:
        node = node[key]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return meta


def save(meta: dict, arrays: dict, fmt: str) -> bytes:
    buf = io.BytesIO()
    if fmt == "npz":
        np.savez(buf, meta=np.array(json.dumps(meta)), **arrays)
    else:
        torch.save({**meta, "state_dict": {k: torch.from_numpy(v) for k, v in arrays.items()}}, buf)
    return buf.getvalue()


def load(meta: dict, arrays: dict, fmt: str):
    return load_model(save(meta, arrays, fmt), name=f"model.{fmt}")


# (base checkpoint, path to the field, new value, message or None when the value is accepted)
CASES = [
    # task: the field the app used to build a file path
    ("adding-lstm", ("task", "name"), DELETE, r"metadata field 'task\.name' is missing$"),
    ("adding-lstm", ("task",), "adding", r"metadata field 'task' must be an object; got a string$"),
    ("adding-lstm", ("task",), ["adding"], r"metadata field 'task' must be an object; got a list$"),
    ("adding-lstm", ("task", "name"), "../../x",
     rf"metadata field 'task\.name' must be one of {TASK_NAMES}; got '\.\./\.\./x'$"),
    ("adding-lstm", ("task", "name"), "/etc/passwd",
     rf"metadata field 'task\.name' must be one of {TASK_NAMES}; got '/etc/passwd'$"),
    ("adding-lstm", ("task", "name"), "adding\x00.npz", r"must be one of .*; got 'adding\\x00\.npz'$"),
    ("adding-lstm", ("task", "name"), 3, rf"metadata field 'task\.name' must be one of {TASK_NAMES}; got 3$"),
    ("adding-lstm", ("task", "name"), None, r"must be one of .*; got null$"),
    ("adding-lstm", ("task", "name"), "x" * 5000, r"got 'x{60}'\.\.\.$"),
    ("adding-lstm", ("task", "secret"), 1,
     r"unknown metadata field 'task\.secret'; 'task' holds only name, title, params, description, metric, loss, "
     r"readout, n_outputs, baseline, feature_names, output_names$"),
    ("adding-lstm", ("task", "params", "length"), 400_000,
     r"metadata field 'task\.params\.length' must be at most 100000 \(MAX_STEPS\); got 400000$"),
    ("adding-lstm", ("task", "params", "length"), 1e300, r"'task\.params\.length' must be at most 100000"),
    ("adding-lstm", ("task", "params", "length"), "100",
     r"metadata field 'task\.params\.length' must be a number, null or a list of names; got a string$"),
    ("adding-lstm", ("task", "params"), [100], r"metadata field 'task\.params' must be an object; got a list$"),
    ("adding-lstm", ("task", "params", "k"), 5,
     r"unknown metadata field 'task\.params\.k'; task 'adding' takes n, length, seed$"),
    ("adding-lstm", ("task", "params", "seed"), -1,
     r"metadata field 'task\.params' is not accepted by make_task: task 'adding': seed must be >= 0; got -1$"),
    ("adding-lstm", ("task", "params", "n"), 0, r"is not accepted by make_task: task 'adding': n must be >= 1"),
    ("copy-lstm", ("task", "params", "delay"), 400_000,
     r"is not accepted by make_task: task 'copy': length 61 does not fit delay 400000 and k 5"),
    ("copy-lstm", ("task", "params", "alphabet"), 30,
     r"is not accepted by make_task: task 'copy': alphabet must be between 2 and 26; got 30$"),
    ("copy-lstm", ("task", "params", "alphabet"), 4,
     r"metadata field 'task\.params' makes inputs of 6 features; the cell reads 10$"),
    ("anomaly-lstm", ("task", "params", "faults"), ["spike", SCRIPT],
     r"is not accepted by make_task: unknown fault '<img src=x onerror=alert\(1\)>'; choose one of spike, shift"),
    ("anomaly-lstm", ("task", "params", "faults"), "spike",
     r"metadata field 'task\.params\.faults' must be a number, null or a list of names; got a string$"),
    ("anomaly-lstm", ("task", "params", "faults"), [["spike"]],
     r"metadata field 'task\.params\.faults\[0\]' must be a string; got a list$"),
    ("adding-lstm", ("task", "description"), SCRIPT, None),
    ("adding-lstm", ("task", "title"), SCRIPT, None),
    ("adding-lstm", ("task", "feature_names"), [SCRIPT, "marker"], None),
    ("adding-lstm", ("task", "output_names"), ["<b>sum</b>"], None),
    ("adding-lstm", ("task", "description"), SCRIPT * 100,
     r"metadata field 'task\.description' must be at most 2000 characters long; got 2800$"),
    ("adding-lstm", ("task", "feature_names"), ["v" * 201, "marker"],
     r"metadata field 'task\.feature_names\[0\]' must be at most 200 characters long; got 201$"),
    ("adding-lstm", ("task", "feature_names"), ["value"],
     r"metadata field 'task\.feature_names' must name the cell's 2 inputs; got 1 names$"),
    ("adding-lstm", ("task", "feature_names"), "value,marker",
     r"metadata field 'task\.feature_names' must be a list; got a string$"),
    ("adding-lstm", ("task", "output_names"), ["sum", "product"],
     r"metadata field 'task\.output_names' must name the task's 1 outputs; got 2 names$"),
    ("adding-lstm", ("task", "title"), 5, r"metadata field 'task\.title' must be a string; got 5$"),
    ("adding-lstm", ("task", "metric"), "mse; rm -rf /",
     r"metadata field 'task\.metric' must be one of mse, accuracy, f1, perplexity, rmse; got 'mse; rm -rf /'$"),
    ("adding-lstm", ("task", "loss"), "hinge", r"metadata field 'task\.loss' must be one of mse, ce; got 'hinge'$"),
    ("adding-lstm", ("task", "readout"), "per_step",
     r"metadata field 'task\.readout' is 'per_step' but the head's is 'final'$"),
    ("adding-lstm", ("task", "n_outputs"), "1",
     r"metadata field 'task\.n_outputs' must be a whole number; got a string$"),
    ("adding-lstm", ("task", "n_outputs"), 3, r"metadata field 'task\.n_outputs' is 3 but the head's is 1$"),
    ("adding-lstm", ("task", "n_outputs"), True, r"'task\.n_outputs' must be a whole number; got true \(a boolean\)$"),
    ("adding-lstm", ("task", "baseline"), math.nan,
     r"metadata field 'task\.baseline' must be a finite number; got nan$"),
    ("adding-lstm", ("task", "baseline"), [0.1], r"metadata field 'task\.baseline' must be a number; got a list$"),
    # cell and head: sizes and names that pick code paths
    ("adding-lstm", ("cell",), DELETE, r"metadata field 'cell' is missing$"),
    ("adding-lstm", ("cell", "kind"), "transformer",
     r"metadata field 'cell\.kind' must be one of lstm, gru, rnn; got 'transformer'$"),
    ("adding-lstm", ("cell", "variant"), "__import__('os')",
     r"metadata field 'cell\.variant' must be one of vanilla, "),
    ("adding-rnn", ("cell", "nonlinearity"), "sigmoid",
     r"metadata field 'cell\.nonlinearity' must be one of tanh, relu; got 'sigmoid'$"),
    ("adding-lstm", ("cell", "hidden_size"), "32",
     r"metadata field 'cell\.hidden_size' must be a whole number; got a string"),
    ("adding-lstm", ("cell", "hidden_size"), 32.0,
     r"metadata field 'cell\.hidden_size' must be a whole number; got 32\.0$"),
    ("adding-lstm", ("cell", "hidden_size"), 2**40,
     r"metadata field 'cell\.hidden_size' must be between 1 and 65536; got 1099511627776$"),
    ("adding-lstm", ("cell", "input_size"), 0,
     r"metadata field 'cell\.input_size' must be between 1 and 65536; got 0$"),
    ("adding-lstm", ("cell", "depth"), 2, r"unknown metadata field 'cell\.depth'; 'cell' holds only kind, variant, "),
    ("adding-lstm", ("cell",), "lstm", r"metadata field 'cell' must be an object; got a string$"),
    ("adding-lstm", ("head", "readout"), "all",
     r"metadata field 'head\.readout' must be one of final, per_step; got 'all'$"),
    ("adding-lstm", ("head", "dropout"), 1.5,
     r"metadata field 'head\.dropout' must be a number >= 0 and < 1; got 1\.5$"),
    ("adding-lstm", ("head", "n_outputs"), DELETE, r"metadata field 'head\.n_outputs' is missing$"),
    ("adding-lstm", ("head",), [], r"metadata field 'head' must be an object; got a list$"),
    # normalisation, vocabulary
    ("adding-lstm", ("normalisation", "kind"), "evil",
     r"metadata field 'normalisation\.kind' must be one of none, zscore, minmax; got 'evil'$"),
    ("adding-lstm", ("normalisation", "shift"), [0.5, "a"],
     r"metadata field 'normalisation\.shift\[1\]' must be a number; got a string$"),
    ("adding-lstm", ("normalisation",), {"kind": "zscore", "shift": [0.5], "scale": [2.0]},
     r"metadata field 'normalisation' must have one shift and scale per input of the cell \(2\); got 1$"),
    ("adding-lstm", ("normalisation", "scale"), [0.0, 1.0],
     r"metadata field 'normalisation': scale must not be 0; got 0 for feature 0$"),
    ("adding-lstm", ("normalisation", "scale"), [math.inf, 1.0],
     r"metadata field 'normalisation\.scale\[0\]' must be a finite number; got inf$"),
    ("adding-lstm", ("normalisation", "feature_names"), [SCRIPT, "marker"], None),
    ("charlm-gru", ("vocab",), "abc", r"metadata field 'vocab' must be a list; got a string$"),
    ("charlm-gru", ("vocab", 0), "ab", r"metadata field 'vocab\[0\]' must be a single character; got 'ab'$"),
    ("charlm-gru", ("vocab", 0), 10, r"metadata field 'vocab\[0\]' must be a single character; got 10$"),
    ("charlm-gru", ("vocab", 1), "\n", r"metadata field 'vocab' lists a character twice"),
    ("charlm-gru", ("vocab",), list("abc"), r"metadata field 'vocab' must list the cell's 71 input characters; got 3$"),
    # history, metrics, seed, config, versions, the top level
    ("adding-lstm", ("history",), {}, r"metadata field 'history' must be a list; got an object$"),
    ("adding-lstm", ("history", 0, "epoch"), "1",
     r"metadata field 'history\[0\]\.epoch' must be a whole number; got a"),
    ("adding-lstm", ("history", 0, "note"), SCRIPT,
     r"unknown metadata field 'history\[0\]\.note'; 'history\[0\]' holds"),
    ("adding-lstm", ("history", 0, "best"), "yes",
     r"metadata field 'history\[0\]\.best' must be true or false; got a str"),
    ("adding-lstm", ("history", 0, "val_loss"), math.nan, None),  # a diverged run records NaN losses
    ("adding-lstm", ("history",), [{}] * 100_001,
     r"metadata field 'history' must hold at most 100000 items; got 100001$"),
    ("adding-lstm", ("metrics", "stop_reason"), SCRIPT,
     r"metadata field 'metrics\.stop_reason' must be one of early stopping, time budget, max epochs, stopped; "
     r"got '<img"),
    ("adding-lstm", ("metrics", "leak"), 1, r"unknown metadata field 'metrics\.leak'"),
    ("adding-lstm", ("metrics",), 0.1, r"metadata field 'metrics' must be an object; got 0\.1$"),
    ("sine-lstm", ("metrics", "horizon_rmse"), [0.1, "x"],
     r"metadata field 'metrics\.horizon_rmse\[1\]' must be a number"),
    ("adding-lstm", ("seed",), "0", r"metadata field 'seed' must be a whole number; got a string$"),
    ("adding-lstm", ("seed",), 1.5, r"metadata field 'seed' must be a whole number; got 1\.5$"),
    ("adding-lstm", ("seed",), 2**70,
     r"metadata field 'seed' must be between -9223372036854775808 and 18446744073709551615; got"),
    ("adding-lstm", ("seed",), None, None),
    ("adding-lstm", ("config", "task"), "../x",
     rf"metadata field 'config\.task' must be one of {TASK_NAMES}; got '\.\./x'$"),
    ("adding-lstm", ("config", "length"), 400_000,
     r"metadata field 'config\.length' must be between 1 and 100000; got 400000$"),
    ("adding-lstm", ("config", "lr"), 0, r"metadata field 'config\.lr' must be a number > 0; got 0$"),
    ("adding-lstm", ("config", "exec"), "import os",
     r"unknown metadata field 'config\.exec'; 'config' holds only task, "),
    ("adding-lstm", ("config", "task_params"), {"delay": 5},
     r"unknown metadata field 'config\.task_params\.delay'; task 'adding' takes no parameters$"),
    ("copy-lstm", ("config", "task_params", "delay"), "50",
     r"metadata field 'config\.task_params\.delay' must be a number, null or a list of names; got a string$"),
    ("adding-lstm", ("versions", "torch"), "2" * 65,
     r"metadata field 'versions\.torch' must be at most 64 characters long"),
    ("adding-lstm", ("versions", "python"), "3.11",
     r"unknown metadata field 'versions\.python'; 'versions' holds only "),
    ("adding-lstm", ("version",), 2, r"metadata field 'version' must be 1; got 2$"),
    ("adding-lstm", ("evil",), 1,
     r"unknown metadata field 'evil'; a checkpoint's metadata holds only format, version, "),
    ("adding-lstm", (SCRIPT,), 1, r"unknown metadata field '<img src=x onerror=alert\(1\)>'"),
]


@pytest.mark.parametrize("fmt", ["npz", "pt"])
@pytest.mark.parametrize("base, path, value, message", CASES, ids=[f"{c[0]}:{'.'.join(map(str, c[1]))}:{str(c[2])[:20]}"
                                                                  for c in CASES])
def test_hostile_metadata_is_refused_with_the_field_named(fmt, base, path, value, message):
    meta, arrays = shipped(base)
    bad = changed(meta, path, value)
    if message is None:
        ck = load(bad, arrays, fmt)
        assert ck.meta()[path[0]] == bad[path[0]] or (  # NaN != NaN: compare the JSON text
            json.dumps(ck.meta()[path[0]]) == json.dumps(bad[path[0]]))
        assert ck.describe()  # what the app shows first
        return
    with pytest.raises(LabError, match=message) as caught:
        load(bad, arrays, fmt)
    assert str(caught.value).startswith(f"model.{fmt}: ")
    assert len(str(caught.value)) < 600  # a hostile value is never echoed at length


def test_the_corpus_covers_every_field_of_a_checkpoint():
    touched = {c[1][0] for c in CASES}
    assert _keys(cm.META) - {"format"} <= touched  # the format mark picks the reader: tested below
    assert {c[1][1] for c in CASES if c[1][0] == "task" and len(c[1]) > 1} >= _keys(cm.TASK)


@pytest.mark.parametrize("fmt", ["npz", "pt"])
def test_a_file_without_the_format_mark_is_not_read_as_a_checkpoint(fmt):
    meta, arrays = shipped("adding-lstm")
    message = {"npz": r"model\.npz: an \.npz file that is not a checkpoint of this app",
               "pt": r"model\.pt: no weight tensors found"}[fmt]  # a .pt without the mark is a state_dict
    with pytest.raises(LabError, match=message):
        load(changed(meta, ("format",), "other"), arrays, fmt)


def test_pt_only_hostility_non_string_keys_and_tensors_as_values():
    meta, arrays = shipped("adding-lstm")
    with pytest.raises(LabError, match=r"^model\.pt: metadata field 'task' has a key 1 that is not a string$"):
        load(changed(meta, ("task", 1), "x"), arrays, "pt")
    with pytest.raises(LabError, match=r"^model\.pt: metadata field 'seed' must be a whole number; got a Tensor$"):
        load(changed(meta, ("seed",), torch.tensor(3)), arrays, "pt")
    with pytest.raises(LabError, match=r"^model\.pt: metadata field 'task\.params' has a key 7 that is not a param"):
        load(changed(meta, ("task", "params", 7), 1), arrays, "pt")
    ck = load(changed(meta, ("task", "feature_names"), ("value", "marker")), arrays, "pt")  # tuples are lists
    assert ck.task["feature_names"] == ["value", "marker"]


def test_npz_only_hostility_deep_nesting_and_a_meta_that_is_not_an_object():
    _, arrays = shipped("adding-lstm")
    deep = '{"format": "lstm-gate-lab checkpoint", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    buf = io.BytesIO()
    np.savez(buf, meta=np.array(deep), **arrays)
    with pytest.raises(LabError, match=r"^model\.npz: a damaged checkpoint \(RecursionError"):
        load_model(buf.getvalue(), name="model.npz")
    buf = io.BytesIO()
    np.savez(buf, meta=np.array('["lstm-gate-lab checkpoint"]'), **arrays)
    with pytest.raises(LabError, match=r"not a checkpoint of this app"):
        load_model(buf.getvalue(), name="model.npz")


def test_metadata_is_checked_before_any_weight_is_read(monkeypatch):
    meta, arrays = shipped("adding-lstm")

    def no_weights(*args, **kwargs):
        raise AssertionError("weights were read before the metadata was checked")

    monkeypatch.setattr(Network, "from_state_dict", no_weights)
    with pytest.raises(LabError, match="metadata field 'task' must be an object"):
        load(changed(meta, ("task",), "x"), arrays, "npz")


# ---------------------------------------------------------------------- what must keep loading unchanged

@pytest.mark.parametrize("path", sorted(MODELS.glob("*.npz")), ids=lambda p: p.name)
def test_every_shipped_checkpoint_validates_unchanged(path):
    meta, arrays = shipped(path.stem)
    assert cm.validate_meta(meta, path.name) == meta
    ck = load_model(path)
    assert ck.task == meta["task"] and ck.history == meta["history"] and ck.config == meta["config"]
    for fmt in ("npz", "pt"):  # and the same metadata through the other format
        assert load(ck.meta(), ck.arrays(), fmt).meta() == ck.meta()


def test_the_schema_lists_what_the_training_code_writes():
    from lstm_core import training

    assert set(cm.TASK_METRICS) == set(lstm_core.METRICS)
    assert cm.NORMALISE_CHOICES == training.NORMALISE_CHOICES
    assert _keys(cm.CONFIG) == {f.name for f in dataclasses.fields(training.TrainConfig)}
    report = training.EpochReport(1, 0.5, 0.5, 0.5, "mse", 1.0, True)
    assert _keys(cm.EPOCH) == set(report.record())  # what a checkpoint's history keeps (not the gates' statistics)
    assert cm.CHRONO == training.CHRONO
    assert cm.FORMAT == lstm_core.checkpoint.FORMAT


def _keys(check) -> set:
    """The fields an object check accepts, read back from the error it gives for an unknown one."""
    with pytest.raises(LabError) as caught:
        check({"\x01": 0}, "x")
    return set(str(caught.value).split(" holds only ")[1].split(", "))


@pytest.mark.parametrize("task", list(lstm_core.TASKS))
def test_a_checkpoint_the_training_code_writes_loads_unchanged(tmp_path, task):
    from lstm_core.training import TrainConfig, train

    length = {"anomaly": 40, "copy": 15, "spike": 24}.get(task, 12)
    res = train(TrainConfig.for_task(task, length=length, n_train=32, n_val=16, hidden_size=3, max_epochs=2,
                                     batch_size=16))
    meta = res.checkpoint.meta()
    assert cm.validate_meta(meta, "trained") == json.loads(json.dumps(meta))
    assert set(meta["task"]) == _keys(cm.TASK)  # every task key training writes, and no other
    for suffix in (".npz", ".pt"):
        lstm_core.save_model(res.checkpoint, tmp_path / f"m{suffix}")
        back = load_model(tmp_path / f"m{suffix}")
        assert json.dumps(back.meta(), sort_keys=True) == json.dumps(json.loads(json.dumps(meta)), sort_keys=True)


def test_random_and_state_dict_models_still_round_trip():
    ck = lstm_core.random_model("gru:random:H=3:seed=5", 2)
    assert load_model(ck.to_bytes(), name="r.npz").seed == 5
    buf = io.BytesIO()
    torch.save({**torch.nn.LSTM(2, 3).state_dict(), "fc.weight": torch.zeros(1, 3), "fc.bias": torch.zeros(1)}, buf)
    ck = load_model(buf.getvalue(), name="sd.pt")
    assert load_model(lstm_core.model_bytes(ck, "pt"), name="again.pt").head.readout == "per_step"


# -------------------------------------------------------------------- any metadata: a Checkpoint or a LabError

JSON = st.recursive(st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                    max_leaves=8)
PATHS = [("task",), ("task", "name"), ("task", "params"), ("task", "params", "length"), ("task", "params", "delay"),
         ("task", "feature_names"), ("cell",), ("cell", "kind"), ("cell", "hidden_size"), ("head",),
         ("head", "n_outputs"), ("normalisation",), ("vocab",), ("history",), ("metrics",), ("seed",), ("config",),
         ("config", "task_params"), ("versions",), ("version",)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.sampled_from(["adding-lstm", "copy-gru", "charlm-rnn"]), path=st.sampled_from(PATHS), value=JSON,
       fmt=st.sampled_from(["npz", "pt"]))
def test_any_metadata_value_loads_or_is_refused_by_name(base, path, value, fmt):
    meta, arrays = shipped(base)
    assume(path[0] in meta and (len(path) <= 2 or isinstance(meta[path[0]].get(path[1]), dict)))
    try:
        ck = load(changed(meta, path, value), arrays, fmt)
    except LabError as e:
        text = str(e)
        assert text.startswith(f"model.{fmt}: "), text
        assert not re.search(r"(KeyError|TypeError|AttributeError|ValueError)", text), text  # never a stray error
        return
    assert ck.task is None or ck.task["name"] in lstm_core.TASKS
    assert ck.describe()


# ---------------------------------------------------------------------------- arrays that promise too much

def _npy_header(shape, dtype="<f2") -> bytes:
    """The header of a .npy file (magic included) promising `shape`; the data is up to the caller."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue()


@pytest.mark.parametrize("shape, payload, message", [
    ((1, 200_000, 1), 400_000, r"the sequence has 200000 steps; the limit is 100000 \(max_steps\)$"),
    ((3, 150_000, 1), 900_000, r"each of the 3 sequences has 150000 steps; the limit is 100000 \(max_steps\)$"),
    ((20_000, 2, 1), 80_000, r"the file has 20000 sequences; the limit is 10000 \(max_sequences\)$"),
    ((1, 100_000, 1_000), 0, r"the array is truncated: its header promises shape \(1, 100000, 1000\) of float16 "
                             r"\(200000000 bytes\), the file holds 0 bytes of data$"),
    ((1, 100_000, 2_000), 0, r"the array has shape \(1, 100000, 2000\): 200000000 values; the limit is 134217728$"),
    ((10**12,), 0, r"the array has shape \(1000000000000,\): 1000000000000 values; the limit is 134217728$"),
])
def test_an_npy_header_is_checked_against_the_limits_before_its_data_is_touched(monkeypatch, shape, payload, message):
    from lstm_core.readers import numpy_files as _npy

    def no_data(*args, **kwargs):
        raise AssertionError("the data was read before the limits were checked")

    monkeypatch.setattr(_npy, "_view", no_data)
    data = _npy_header(shape) + bytes(payload)
    with pytest.raises(LabError, match=re.escape("big.npy: ") + message):
        read_sequences(data, "big.npy")


def test_an_npz_member_is_checked_before_it_is_unpacked(monkeypatch):
    from lstm_core.readers import numpy_files as _npy

    monkeypatch.setattr(_npy, "_view", lambda *a, **k: (_ for _ in ()).throw(AssertionError("unpacked")))
    buf = io.BytesIO()
    np.savez_compressed(buf, x=np.zeros((1, 150_000, 1), np.float16))
    with pytest.raises(LabError, match=r"^big\.npz: the sequence has 150000 steps; the limit is 100000"):
        read_sequences(buf.getvalue(), "big.npz")
    buf = io.BytesIO()
    np.savez_compressed(buf, a=np.zeros(150_000, np.float16), b=np.zeros(3, np.float16))
    with pytest.raises(LabError, match=r"^big\.npz: array 'a' has 150000 steps; the limit is 100000"):
        read_sequences(buf.getvalue(), "big.npz")
    buf = io.BytesIO()
    np.savez_compressed(buf, only=np.zeros(150_000, np.float16))
    with pytest.raises(LabError, match=r"^big\.npz: the sequence has 150000 steps; the limit is 90 \(max_steps\)$"):
        read_sequences(buf.getvalue(), "big.npz", ReadOptions(max_steps=90))
