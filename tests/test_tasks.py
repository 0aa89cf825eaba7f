"""Tests for lstm_core/tasks.py: every target is recomputed here, plainly, from the inputs."""

import json
import math
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_core import tasks
from lstm_core.errors import LabError
from lstm_core.limits import MAX_STEPS
from lstm_core.tasks import TASKS, TaskData, make_task

ROOT = Path(__file__).resolve().parents[1]
TEXT = ROOT / "assets" / "text" / "american_documents.txt"
NAMES = ["adding", "copy", "sine", "spike", "anomaly", "charlm"]
# lengths each task accepts with its default parameters, for the property test
LENGTHS = {"adding": (2, 60), "copy": (11, 70), "sine": (1, 60), "spike": (20, 80),
           "anomaly": (20, 100), "charlm": (1, 120)}


def check_contract(d: TaskData, name: str) -> None:
    """The TaskData contract the trainer and the app rely on, for any task."""
    assert d.task == name
    assert d.x.ndim == 3 and d.x.dtype == np.float32
    N, T, F = d.x.shape
    assert np.isfinite(d.x).all()
    assert d.lengths.shape == (N,) and d.lengths.dtype == np.int64
    assert ((d.lengths >= 1) & (d.lengths <= T)).all()
    real = np.arange(T)[None, :] < d.lengths[:, None]
    assert not d.x[~real].any(), "x must be zero past each sequence's length"
    for mask in (d.loss_mask, d.marks):
        assert mask.shape == (N, T) and mask.dtype == np.bool_
        assert not (mask & ~real).any()
    assert d.readout in ("final", "per_step") and d.loss in ("mse", "ce")
    assert d.metric in ("mse", "accuracy", "f1", "perplexity", "rmse")
    if d.readout == "final":
        last = np.zeros((N, T), dtype=bool)
        last[np.arange(N), d.lengths - 1] = True
        np.testing.assert_array_equal(d.loss_mask, last)
        if d.loss == "mse":
            assert d.y.shape == (N, d.n_outputs) and d.y.dtype == np.float32
        else:
            assert d.y.shape == (N,) and d.y.dtype == np.int64
            assert ((d.y >= 0) & (d.y < d.n_outputs)).all()
    elif d.loss == "ce":
        assert d.y.shape == (N, T) and d.y.dtype == np.int64
        assert ((d.y[d.loss_mask] >= 0) & (d.y[d.loss_mask] < d.n_outputs)).all()
        assert (d.y[~d.loss_mask] == -1).all()
    else:
        assert d.y.shape == (N, T, d.n_outputs) and d.y.dtype == np.float32
    assert d.loss_mask.any(axis=1).all(), "every sequence has a scored step"
    assert len(d.feature_names) == F and len(d.output_names) == d.n_outputs
    assert isinstance(d.baseline, float) and math.isfinite(d.baseline)
    assert isinstance(d.description, str) and d.description
    assert json.loads(json.dumps(d.params))["seed"] == d.params["seed"]
    assert d.params["n"] == N and d.params["length"] == T


@pytest.mark.parametrize("name", NAMES)
def test_contract_with_defaults(name):
    d = make_task(name, 6, seed=1)
    check_contract(d, name)
    assert d.x.shape[1] == TASKS[name].default_length
    assert d.params == {"n": 6, "length": TASKS[name].default_length, "seed": 1,
                        **{k: v for k, v in d.params.items() if k in TASKS[name].defaults}}
    assert set(d.params) == {"n", "length", "seed", *TASKS[name].defaults}


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_contract_property(data):
    name = data.draw(st.sampled_from(NAMES))
    n = data.draw(st.integers(1, 8))
    length = data.draw(st.integers(*LENGTHS[name]))
    seed = data.draw(st.integers(0, 2**32))
    check_contract(make_task(name, n, length=length, seed=seed), name)


def test_registry_order_and_defaults():
    assert list(TASKS) == NAMES
    assert TASKS["copy"].defaults == {"k": 5, "alphabet": 8, "delay": None}
    assert TASKS["sine"].defaults["horizon"] == 10
    assert TASKS["spike"].defaults == {"min_length": 20}
    assert TASKS["adding"].defaults == {} and TASKS["charlm"].defaults == {}


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_bytes_other_seed_other_data(name):
    a, b, c = (make_task(name, 4, seed=s) for s in (7, 7, 8))
    for field in ("x", "y", "lengths", "loss_mask", "marks"):
        assert getattr(a, field).tobytes() == getattr(b, field).tobytes()
    assert a.baseline == b.baseline and a.params == b.params
    assert not np.array_equal(a.x, c.x)


def test_generate_directly_equals_make_task():
    direct = TASKS["copy"].generate(3, None, 2, k=2)
    np.testing.assert_array_equal(direct.x, make_task("copy", 3, seed=2, k=2).x)


# --- adding --------------------------------------------------------------------------------------

def test_adding_target_is_the_sum_of_the_two_marked_values():
    d = make_task("adding", 50, length=31, seed=3)
    for i in range(50):
        values, marker = d.x[i, :, 0], d.x[i, :, 1]
        assert set(np.unique(marker)) <= {0.0, 1.0}
        steps = np.flatnonzero(marker == 1)
        assert len(steps) == 2 and steps[0] < 31 // 2 <= steps[1]
        assert d.y[i, 0] == pytest.approx(float(values[steps[0]]) + float(values[steps[1]]), abs=1e-6)
        assert ((values >= 0) & (values < 1)).all()
        np.testing.assert_array_equal(d.marks[i], marker == 1)


def test_adding_baseline_is_the_target_variance():
    d = make_task("adding", 20000, length=10, seed=11)
    assert d.baseline == pytest.approx(1 / 6)
    assert abs(float(np.var(d.y)) - 1 / 6) < 0.01


# --- copy ----------------------------------------------------------------------------------------

def test_copy_recalls_the_symbols_after_blank_delay_and_go_cue():
    k, A, delay = 3, 6, 9
    d = make_task("copy", 40, seed=4, k=k, alphabet=A, delay=delay)
    T = 2 * k + delay + 1
    assert d.x.shape == (40, T, A + 2) and d.n_outputs == A
    blank, go = np.eye(A + 2)[A], np.eye(A + 2)[A + 1]
    for i in range(40):
        shown = d.x[i, :k]
        assert (shown.sum(axis=1) == 1).all() and not shown[:, A:].any()
        symbols = shown.argmax(axis=1)
        for t in range(k, k + delay):
            np.testing.assert_array_equal(d.x[i, t], blank)
        np.testing.assert_array_equal(d.x[i, k + delay], go)
        for t in range(k + delay + 1, T):
            np.testing.assert_array_equal(d.x[i, t], blank)
        np.testing.assert_array_equal(d.y[i, T - k:], symbols)
        assert (d.y[i, :T - k] == -1).all()
        np.testing.assert_array_equal(d.loss_mask[i], np.arange(T) >= T - k)
        np.testing.assert_array_equal(d.marks[i], np.arange(T) < k)


def test_copy_length_and_delay():
    assert make_task("copy", 2).x.shape[1] == 5 + 50 + 1 + 5  # the benchmark's delay of 50
    assert make_task("copy", 2, k=2).params["delay"] == 50
    assert make_task("copy", 2, length=30).params["delay"] == 30 - 2 * 5 - 1
    assert make_task("copy", 2, delay=7).x.shape[1] == 18
    assert make_task("copy", 2, length=18, delay=7).params["delay"] == 7
    with pytest.raises(LabError, match=re.escape("length 30 does not fit delay 50 and k 5 "
                                                 "(length = 2k + delay + 1 = 61)")):
        make_task("copy", 2, length=30, delay=50)
    with pytest.raises(LabError, match=re.escape("task 'copy': length must be >= 11; got 10")):
        make_task("copy", 2, length=10)


def test_copy_baseline_is_one_over_the_alphabet():
    d = make_task("copy", 4000, seed=5, alphabet=8, delay=0)
    assert d.baseline == pytest.approx(1 / 8)
    assert make_task("copy", 1, alphabet=3).baseline == pytest.approx(1 / 3)
    counts = np.bincount(d.y[d.loss_mask], minlength=8)
    assert abs(counts.max() / counts.sum() - 1 / 8) < 0.01  # no symbol is easier to guess


# --- sine ----------------------------------------------------------------------------------------

def test_sine_target_continues_the_wave():
    T, horizon = 60, 7
    d = make_task("sine", 30, length=T, seed=6, horizon=horizon, noise=0.0)
    t = np.arange(T + horizon)
    for i in range(30):
        s = d.x[i, :, 0].astype(np.float64)
        # s[t+1] + s[t-1] = 2 cos(w) s[t] for any sine; least squares over t gives cos(w)
        cos_w = np.sum(s[1:-1] * (s[2:] + s[:-2])) / (2 * np.sum(s[1:-1] ** 2))
        w = math.acos(cos_w)
        assert 1 / 50 - 1e-4 <= w / (2 * math.pi) <= 1 / 10 + 1e-4
        basis = np.stack([np.sin(w * t), np.cos(w * t)], axis=1)
        coef, *_ = np.linalg.lstsq(basis[:T], s, rcond=None)
        assert 0.5 - 1e-3 <= np.hypot(*coef) <= 1.5 + 1e-3
        np.testing.assert_allclose(d.y[i], basis[T:] @ coef, atol=2e-3)
    assert not d.marks.any()


def test_sine_noise_is_added_last_and_has_the_given_scale():
    clean = make_task("sine", 200, seed=9, noise=0.0)
    noisy = make_task("sine", 200, seed=9, noise=0.1)
    np.testing.assert_array_equal(clean.y, noisy.y)
    residual = (noisy.x - clean.x).astype(np.float64) / 0.1
    assert abs(residual.mean()) < 0.03 and abs(residual.std() - 1) < 0.03


def test_sine_baseline_repeats_the_last_value():
    d = make_task("sine", 100, seed=2, horizon=4)
    last = d.x[:, -1, 0].astype(np.float64)
    errors = [(float(d.y[i, h]) - last[i]) ** 2 for i in range(100) for h in range(4)]
    assert d.baseline == pytest.approx(math.sqrt(sum(errors) / len(errors)), rel=1e-6)
    assert d.metric == "rmse" and d.output_names == ("t+1", "t+2", "t+3", "t+4")


# --- spike ---------------------------------------------------------------------------------------

def test_spike_label_is_whether_a_spike_came_before_the_cue():
    d = make_task("spike", 300, length=60, seed=8, min_length=10)
    assert len(set(d.lengths.tolist())) > 10
    for i in range(300):
        L = int(d.lengths[i])
        assert 10 <= L <= 60
        signal, cue = d.x[i, :, 0], d.x[i, :, 1]
        assert not d.x[i, L:].any()
        np.testing.assert_array_equal(cue, np.arange(60) == L - 1)
        real = signal[:L]
        assert (((real >= -1) & (real <= 1)) | ((real >= 4) & (real <= 6))).all()
        spikes = np.flatnonzero(real > 1)
        assert d.y[i] == int(np.any(real[:L - 1] > 1))
        assert len(spikes) <= 1 and all(s < max(1, L // 4) for s in spikes)
        np.testing.assert_array_equal(d.marks[i, :L], real > 1)
    rate = d.y.mean()
    assert d.baseline == pytest.approx(max(rate, 1 - rate))
    assert 0.35 < rate < 0.65


# --- anomaly -------------------------------------------------------------------------------------

def runs(labels: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True."""
    edges = np.diff(np.concatenate([[0], labels.astype(int), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def fault_kind(x: np.ndarray, clean: np.ndarray, a: int, b: int) -> str:
    """Which documented fault explains x[a:b]; fails if none does."""
    diff = x[a:b].astype(np.float64) - clean[a:b]
    if b - a == 1 and 3 - 1e-5 <= abs(diff[0]) <= 5 + 1e-5:
        return "spike"
    assert 3 <= b - a <= 10, (a, b)
    if (x[a:b] == x[a - 1]).all():
        return "flat"
    assert np.allclose(diff, diff[0], atol=1e-5) and 1.5 - 1e-5 <= abs(diff[0]) <= 3 + 1e-5, (a, b)
    return "shift"


def test_anomaly_labels_are_exactly_the_injected_faults():
    d = make_task("anomaly", 100, seed=12)
    clean = make_task("anomaly", 100, seed=12, faults=[])
    assert not clean.y.any()
    np.testing.assert_array_equal(d.y == 1, d.x[..., 0] != clean.x[..., 0])
    np.testing.assert_array_equal(d.marks, d.y == 1)
    kinds = Counter()
    for i in range(100):
        blocks = []
        for a, b in runs(d.y[i] == 1):
            assert a // 20 == (b - 1) // 20 and a % 20 != 0 and (b - 1) % 20 != 19
            blocks.append(a // 20)
            kinds[fault_kind(d.x[i, :, 0], clean.x[i, :, 0], a, b)] += 1
        assert len(blocks) == len(set(blocks))  # at most one fault per block
    assert set(kinds) == {"spike", "shift", "flat"}


def test_anomaly_fault_choice_and_rate():
    d = make_task("anomaly", 30, seed=3, faults=["flat"], fault_rate=1.0)
    clean = make_task("anomaly", 30, seed=3, faults=[])
    for i in range(30):
        found = runs(d.y[i] == 1)
        assert len(found) == 200 // 20
        assert {fault_kind(d.x[i, :, 0], clean.x[i, :, 0], a, b) for a, b in found} == {"flat"}
    none = make_task("anomaly", 5, seed=3, fault_rate=0.0)
    assert not none.y.any() and none.baseline == 0.0


def test_anomaly_baseline_is_f1_of_always_anomaly():
    d = make_task("anomaly", 50, seed=4)
    tp = int((d.y == 1).sum())
    fp = int((d.y == 0).sum())
    fn = 0  # predicting anomaly everywhere misses nothing
    assert d.baseline == pytest.approx(2 * tp / (2 * tp + fp + fn))
    assert 0 < d.baseline < 1


# --- charlm --------------------------------------------------------------------------------------

def test_charlm_predicts_the_next_character_of_a_window_of_the_text():
    text = TEXT.read_text(encoding="ascii")
    vocab = sorted(set(text))
    d = make_task("charlm", 40, length=50, seed=13)
    assert d.feature_names == tuple(vocab) == d.output_names and d.n_outputs == len(vocab)
    for i in range(40):
        assert (d.x[i].sum(axis=1) == 1).all()
        chars = [vocab[j] for j in d.x[i].argmax(axis=1)]
        window = "".join(chars) + vocab[d.y[i, -1]]
        assert window in text
        assert d.y[i, :-1].tolist() == [vocab.index(c) for c in chars[1:]]
    assert d.loss_mask.all() and not d.marks.any()


def test_charlm_baseline_is_unigram_perplexity():
    text = TEXT.read_text(encoding="ascii")
    counts = Counter(text)
    entropy = -sum(c / len(text) * math.log(c / len(text)) for c in counts.values())
    assert make_task("charlm", 1).baseline == pytest.approx(math.exp(entropy))


def test_shipped_text_is_small_plain_ascii_and_documented():
    raw = TEXT.read_bytes()
    assert 15_000 <= len(raw) <= 40_000
    assert max(raw) < 128 and b"\r" not in raw and raw.endswith(b"\n")
    assert "public domain" in (TEXT.parent / "README.md").read_text().lower()


def test_charlm_missing_text(monkeypatch, tmp_path):
    monkeypatch.setattr(tasks, "TEXT_PATH", tmp_path / "gone.txt")
    with pytest.raises(LabError, match=r"the text of task 'charlm' is missing: expected .*gone\.txt"):
        make_task("charlm", 1)


# --- errors --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "kwargs", "message"), [
    ("addng", {}, "unknown task 'addng'; choose one of adding, copy, sine, spike, anomaly, charlm"),
    ("adding", {"horizon": 3}, "task 'adding' has no parameter 'horizon'; it takes n, length, seed"),
    ("sine", {"horizn": 3, "nois": 1},
     "task 'sine' has no parameter 'horizn', 'nois'; it takes n, length, seed, horizon, noise, "
     "min_period, max_period"),
    ("adding", {"n": 0}, "task 'adding': n must be >= 1; got 0"),
    ("adding", {"n": 2.5}, "task 'adding': n must be a whole number; got 2.5"),
    ("adding", {"n": True}, "task 'adding': n must be a whole number; got True"),
    ("adding", {"length": 1}, "task 'adding': length must be >= 2; got 1"),
    ("adding", {"seed": -1}, "task 'adding': seed must be >= 0; got -1"),
    ("copy", {"alphabet": 30}, "task 'copy': alphabet must be between 2 and 26; got 30"),
    ("sine", {"noise": -1}, "task 'sine': noise must be >= 0.0; got -1"),
    ("sine", {"horizon": 0}, "task 'sine': horizon must be between 1 and 1000; got 0"),
    ("spike", {"length": 100, "min_length": 150},
     "task 'spike': min_length must be between 2 and 100; got 150"),
    ("anomaly", {"length": 10}, "task 'anomaly': length must be >= 20; got 10"),
    ("anomaly", {"faults": ["spark"]}, "unknown fault 'spark'; choose one of spike, shift, flat"),
    ("anomaly", {"faults": "spike"}, "task 'anomaly': faults must be a list of spike, shift, flat"),
    ("anomaly", {"fault_rate": 2}, "task 'anomaly': fault_rate must be between 0.0 and 1.0; got 2"),
    ("charlm", {"length": 30_000}, "task 'charlm': length must be between 1 and "
                                   f"{len(TEXT.read_text(encoding='ascii')) - 1}; got 30000"),
    ("charlm", {"length": 10**7}, "task 'charlm': length 10000000 is over the limit of 100000 steps (MAX_STEPS)"),
    ("adding", {"length": 400_000}, "task 'adding': length 400000 is over the limit of 100000 steps (MAX_STEPS)"),
    ("copy", {"delay": 400_000}, "task 'copy': k 5 and delay 400000 make sequences of 2k + delay + 1 = 400011 "
                                 "steps; the limit is 100000 (MAX_STEPS)"),
    ("copy", {"k": 50_000}, "task 'copy': k 50000 and delay 50 make sequences of 2k + delay + 1 = 100051 steps; "
                            "the limit is 100000 (MAX_STEPS)"),
    ("copy", {"length": 100_001, "k": 2}, "task 'copy': length 100001 is over the limit of 100000 steps"),
    ("sine", {"length": "100"}, "task 'sine': length must be a whole number; got '100'"),
])
def test_bad_input_raises_lab_error(name, kwargs, message):
    kwargs = {"n": 2, **kwargs}
    with pytest.raises(LabError, match=re.escape(message)):
        make_task(name, **kwargs)


# --- the one length limit (limits.MAX_STEPS) -------------------------------------------------------

def test_max_steps_is_one_hundred_thousand():
    assert MAX_STEPS == 100_000  # the longest sequence the app and the CLI trace, as documented


@pytest.mark.parametrize("name", [n for n in NAMES if n != "charlm"])
def test_every_task_refuses_one_step_too_many_before_building_anything(name):
    # 10**6 sequences of 100,001 steps would need terabytes: only a check that runs first can answer
    with pytest.raises(LabError, match=re.escape(f"task {name!r}: length 100001 is over the limit of 100000")):
        make_task(name, 10**6, length=MAX_STEPS + 1)


@pytest.mark.parametrize("name, params", [("adding", {}), ("sine", {"horizon": 1}), ("copy", {"k": 1}),
                                          ("spike", {}), ("anomaly", {})])
def test_a_sequence_of_exactly_max_steps_is_made(name, params):
    assert make_task(name, 1, length=MAX_STEPS, **params).x.shape[1] == 100_000


def test_copy_delay_up_to_the_limit():
    assert make_task("copy", 1, k=1, delay=MAX_STEPS - 3).x.shape[1] == 100_000
    with pytest.raises(LabError, match=r"2k \+ delay \+ 1 = 100001 steps; the limit is 100000"):
        make_task("copy", 10**6, k=1, delay=MAX_STEPS - 2)


@pytest.mark.parametrize("name", NAMES)
def test_check_params_replays_recorded_parameters_as_one_sequence(name):
    d = make_task(name, 3, seed=4)
    one = tasks.check_params(name, json.loads(json.dumps(d.params)))  # as a checkpoint stores them
    assert one.x.shape == (1, d.params["length"], d.x.shape[2])
    assert one.params == {**d.params, "n": 1}


@pytest.mark.parametrize("name, params, message", [
    ("adding", {"n": 0}, "task 'adding': n must be >= 1; got 0"),
    ("adding", {"n": 10**12, "length": 400_000}, "task 'adding': length 400000 is over the limit"),
    ("copy", {"length": 61, "delay": 7}, "task 'copy': length 61 does not fit delay 7 and k 5"),
    ("sine", {"horizon": 2.5}, "task 'sine': horizon must be a whole number; got 2.5"),
    ("spike", {"speed": 1}, "task 'spike' has no parameter 'speed'"),
    ("anomaly", {"faults": ["<script>"]}, "unknown fault '<script>'; choose one of spike, shift, flat"),
])
def test_check_params_refuses(name, params, message):
    with pytest.raises(LabError, match=re.escape(message)):
        tasks.check_params(name, params)
