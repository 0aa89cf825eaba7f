"""Seeded toy tasks that show what a recurrent network must remember, as plain arrays.

Every task returns a `TaskData`: inputs x (N, T, F) zero-padded past each sequence's length,
targets y shaped by its readout and loss, the steps that are scored (`loss_mask`), the steps that
carry what must be remembered (`marks`) and the headline metric of a trivial predictor (`baseline`).
Everything is drawn from `np.random.default_rng(seed)`, never the global RNG, so the same name,
n, length, seed and parameters give byte-identical arrays. `TASKS` is the registry, `make_task`
the one entry point that validates names and parameters.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import LabError, choose
from .limits import MAX_STEPS

__all__ = ["FAULTS", "TASKS", "TEXT_PATH", "Task", "TaskData", "check_params", "load_text", "longest_dependency",
           "make_task"]

# The text of task "charlm"; assets/text/README.md says where it comes from.
TEXT_PATH = Path(__file__).resolve().parents[1] / "assets" / "text" / "american_documents.txt"
# Fault kinds of task "anomaly", in the order their ids are drawn.
FAULTS = ("spike", "shift", "flat")
# Task "anomaly" places at most one fault in each block of this many steps, never on a block's first
# or last step, so faults never touch and each one's label run can be told apart.
_BLOCK = 20


@dataclass(frozen=True, eq=False)
class TaskData:
    """One generated data set: inputs, targets and what a trainer and the app need to read them."""

    task: str  # registry name
    x: np.ndarray = field(repr=False)  # (N, T, F) float32, zeros past each sequence's length
    # final/mse: (N, n_outputs) float32; final/ce: (N,) int64;
    # per_step/ce: (N, T) int64, -1 where loss_mask is False; per_step/mse: (N, T, n_outputs) float32
    y: np.ndarray = field(repr=False)
    lengths: np.ndarray = field(repr=False)  # (N,) int64 in 1..T
    loss_mask: np.ndarray = field(repr=False)  # (N, T) bool, the scored steps
    readout: str  # "final" | "per_step"
    loss: str  # "mse" | "ce"
    n_outputs: int  # regression outputs or classes
    metric: str  # "mse" | "accuracy" | "f1" | "perplexity" | "rmse"
    baseline: float  # the metric of a trivial predictor; each task's docstring says which
    description: str  # for a student: what must be remembered, for how long
    feature_names: tuple  # one per input feature
    output_names: tuple  # one per output or class
    marks: np.ndarray = field(repr=False)  # (N, T) bool, the steps that carry what must be remembered
    params: dict = field(default_factory=dict)  # every generator parameter, JSON-serialisable
    question: str = ""  # the task as one plain question, e.g. "Can it add two numbers marked 90 steps apart?"


@dataclass(frozen=True)
class Task:
    """A registry entry: what the task is and how to generate it."""

    name: str
    title: str
    description: str
    default_length: int  # T when `length` is not given
    defaults: dict  # the other parameters with their defaults
    generate: Callable[..., TaskData] = field(repr=False)  # generate(n, length, seed, **params)


def make_task(name: str, n: int, length: int | None = None, seed: int = 0, **params) -> TaskData:
    """Generate `n` sequences of task `name`; unknown names and parameters, and sequences longer than
    MAX_STEPS (given as `length` or derived, like copy's delay), raise LabError before anything is built."""
    task = TASKS[choose("task", name, TASKS)]
    unknown = [key for key in params if key not in task.defaults]
    if unknown:
        allowed = ", ".join(["n", "length", "seed", *task.defaults])
        raise LabError(f"task {name!r} has no parameter {', '.join(map(repr, unknown))}; "
                       f"it takes {allowed}")
    if length is not None and _whole(name, "length", length, 1) > MAX_STEPS:
        raise LabError(f"task {name!r}: length {length} is over the limit of {MAX_STEPS} steps (MAX_STEPS)")
    return task.generate(n, length, seed, **params)


def check_params(name: str, params: dict) -> TaskData:
    """Check a task's recorded parameters (TaskData.params: n, length, seed and the task's own) the way
    the app replays them, make_task(name, 1, length, seed, **rest); return that one-sequence TaskData.

    Lengths are checked against MAX_STEPS first, so a hostile record costs nothing to refuse."""
    task = TASKS[choose("task", name, TASKS)]
    rest = {k: v for k, v in params.items() if k not in ("n", "length", "seed")}
    if "n" in params:
        _whole(name, "n", params["n"], 1)
    return make_task(task.name, 1, params.get("length"), params.get("seed", 0), **rest)


# ---------------------------------------------------------------------------------------------
# Validation shared by the generators


def _whole(task: str, name: str, value, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise LabError(f"task {task!r}: {name} must be a whole number; got {value!r}")
    if value < lo or (hi is not None and value > hi):
        expected = f">= {lo}" if hi is None else f"between {lo} and {hi}"
        raise LabError(f"task {task!r}: {name} must be {expected}; got {value}")
    return int(value)


def _number(task: str, name: str, value, lo: float, hi: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise LabError(f"task {task!r}: {name} must be a number; got {value!r}")
    if not lo <= value <= hi:
        expected = f">= {lo}" if hi == math.inf else f"between {lo} and {hi}"
        raise LabError(f"task {task!r}: {name} must be {expected}; got {value}")
    return float(value)


def _start(task: str, n, length, seed, min_length: int, max_length: int | None = None):
    """Check n, length (None -> the task's default; at most MAX_STEPS) and seed; return them and the
    task's RNG."""
    n = _whole(task, "n", n, 1)
    length = _whole(task, "length", TASKS[task].default_length if length is None else length,
                    min_length, max_length)
    if length > MAX_STEPS:
        raise LabError(f"task {task!r}: length {length} is over the limit of {MAX_STEPS} steps (MAX_STEPS)")
    seed = _whole(task, "seed", seed, 0)
    return n, length, seed, np.random.default_rng(seed)


def _fixed_lengths(n: int, T: int) -> np.ndarray:
    return np.full(n, T, dtype=np.int64)


def _last_steps(lengths: np.ndarray, T: int) -> np.ndarray:
    """(N, T) bool, True at each sequence's last real step: where a final readout is scored."""
    return np.arange(T) == (lengths - 1)[:, None]


# ---------------------------------------------------------------------------------------------
# The tasks


def _adding(n: int, length: int | None = None, seed: int = 0) -> TaskData:
    """Adding problem (Hochreiter & Schmidhuber 1997): sum the two marked values of a sequence.

    Values ~ U(0, 1); one marker in the first half (steps 0..T//2-1), one in the second half
    (T//2..T-1). Baseline: the MSE of predicting the mean, i.e. the target's variance, computed
    analytically: Var(U1 + U2) = 2 * 1/12 = 1/6.
    """
    n, T, seed, rng = _start("adding", n, length, seed, 2)
    values = rng.random((n, T), dtype=np.float32)
    rows = np.arange(n)
    first = rng.integers(0, T // 2, size=n)
    second = rng.integers(T // 2, T, size=n)
    marks = np.zeros((n, T), dtype=bool)
    marks[rows, first] = True
    marks[rows, second] = True
    x = np.stack([values, marks.astype(np.float32)], axis=-1)  # (N, T, 2)
    y = (values[rows, first] + values[rows, second])[:, None]  # (N, 1)
    lengths = _fixed_lengths(n, T)
    return TaskData(
        task="adding", x=x, y=y, lengths=lengths, loss_mask=_last_steps(lengths, T),
        readout="final", loss="mse", n_outputs=1, metric="mse", baseline=1 / 6,
        description=(f"Among {T} random values two are marked, one in each half; at the end output "
                     f"their sum. The first marked value must be held for up to {T - 1} steps "
                     "while every unmarked value is ignored."),
        question=f"Add two marked numbers out of {T}, holding the first until the end",
        feature_names=("value", "marker"), output_names=("sum",), marks=marks,
        params={"n": n, "length": T, "seed": seed})


def _copy(n: int, length: int | None = None, seed: int = 0, *, k: int = 5, alphabet: int = 8,
          delay: int | None = None) -> TaskData:
    """Delayed recall: k symbols, `delay` blank steps, a go cue, then the k symbols back in order.

    T = k + delay + 1 + k. Give `length` or `delay`, not both unless they agree: delay = length
    - 2k - 1; with neither, delay is 50. The input is one-hot over alphabet + blank + go; the blank
    channel is on during the delay and the recall steps. Baseline: 1/alphabet, the accuracy of
    guessing (analytic; symbols are uniform).
    """
    k = _whole("copy", "k", k, 1)
    A = _whole("copy", "alphabet", alphabet, 2, 26)
    derived = length is None or delay is not None
    if delay is not None:
        delay = _whole("copy", "delay", delay, 0)
        if length is not None and length != 2 * k + delay + 1:
            raise LabError(f"task 'copy': length {length} does not fit delay {delay} and k {k} "
                           f"(length = 2k + delay + 1 = {2 * k + delay + 1}); give only one of them")
        length = 2 * k + delay + 1
    elif length is None:
        length = 2 * k + 50 + 1
    if derived and length > MAX_STEPS:  # say where the length came from
        raise LabError(f"task 'copy': k {k} and delay {50 if delay is None else delay} make sequences of "
                       f"2k + delay + 1 = {length} steps; the limit is {MAX_STEPS} (MAX_STEPS)")
    n, T, seed, rng = _start("copy", n, length, seed, 2 * k + 1)
    delay = T - 2 * k - 1
    symbols = rng.integers(0, A, size=(n, k))
    go = k + delay  # the go cue's step; recall runs over go+1 .. T-1
    x = np.zeros((n, T, A + 2), dtype=np.float32)
    x[np.arange(n)[:, None], np.arange(k), symbols] = 1.0
    x[:, k:go, A] = 1.0
    x[:, go + 1:, A] = 1.0
    x[:, go, A + 1] = 1.0
    y = np.full((n, T), -1, dtype=np.int64)
    y[:, go + 1:] = symbols
    loss_mask = np.zeros((n, T), dtype=bool)
    loss_mask[:, go + 1:] = True
    marks = np.zeros((n, T), dtype=bool)
    marks[:, :k] = True
    letters = tuple(chr(ord("A") + a) for a in range(A))
    return TaskData(
        task="copy", x=x, y=y, lengths=_fixed_lengths(n, T), loss_mask=loss_mask,
        readout="per_step", loss="ce", n_outputs=A, metric="accuracy", baseline=1 / A,
        description=(f"See {k} symbols (of {A}), wait through {delay} blank steps, then at the go cue "
                     f"write the {k} symbols back in order: each must be held for {k + delay + 1} "
                     "steps."),
        question=f"Hold {k} symbols through {delay} blank steps, then write them back in order",
        feature_names=(*letters, "blank", "go"), output_names=letters, marks=marks,
        params={"n": n, "length": T, "seed": seed, "k": k, "alphabet": A, "delay": delay})


def _sine(n: int, length: int | None = None, seed: int = 0, *, horizon: int = 10, noise: float = 0.1,
          min_period: float = 10.0, max_period: float = 50.0) -> TaskData:
    """Forecast the next `horizon` noise-free values of a noisy sine wave.

    Per sequence: frequency ~ U(1/max_period, 1/min_period) cycles per step, phase ~ U(0, 2 pi),
    amplitude ~ U(0.5, 1.5); the input adds N(0, noise^2). The noise is drawn last, so with the same
    seed the waves (and y) do not depend on `noise`. Baseline: the RMSE of repeating the last observed
    (noisy) value for every horizon step, computed on this data.
    """
    horizon = _whole("sine", "horizon", horizon, 1, 1000)
    noise = _number("sine", "noise", noise, 0.0)
    min_period = _number("sine", "min_period", min_period, 2.0)
    max_period = _number("sine", "max_period", max_period, min_period)
    n, T, seed, rng = _start("sine", n, length, seed, 1)
    freq = rng.uniform(1 / max_period, 1 / min_period, size=n)
    phase = rng.uniform(0, 2 * np.pi, size=n)
    amp = rng.uniform(0.5, 1.5, size=n)
    t = np.arange(T + horizon)
    wave = amp[:, None] * np.sin(2 * np.pi * freq[:, None] * t + phase[:, None])  # (N, T + horizon)
    x = (wave[:, :T] + noise * rng.standard_normal((n, T)))[..., None].astype(np.float32)  # (N, T, 1)
    y = wave[:, T:].astype(np.float32)  # (N, horizon)
    baseline = float(np.sqrt(np.mean((y.astype(np.float64) - x[:, -1, :]) ** 2)))
    lengths = _fixed_lengths(n, T)
    return TaskData(
        task="sine", x=x, y=y, lengths=lengths, loss_mask=_last_steps(lengths, T),
        readout="final", loss="mse", n_outputs=horizon, metric="rmse", baseline=baseline,
        description=(f"Read {T} steps of a noisy sine wave and predict its next {horizon} clean values. "
                     "The model needs the wave's recent phase and frequency, not a long memory."),
        question=f"Forecast a noisy sine wave {horizon} steps ahead from its last {T} steps",
        feature_names=("signal",), output_names=tuple(f"t+{h}" for h in range(1, horizon + 1)),
        marks=np.zeros((n, T), dtype=bool),
        params={"n": n, "length": T, "seed": seed, "horizon": horizon, "noise": noise,
                "min_period": min_period, "max_period": max_period})


def _spike(n: int, length: int | None = None, seed: int = 0, *, min_length: int = 20) -> TaskData:
    """Variable-length classification: was there a spike before the cue at the last step?

    `length` is the longest sequence (T); lengths ~ U{min_length..T}. Noise ~ U(-1, 1); with
    probability 1/2 one step in the first quarter (steps 0..max(1, L//4)-1) is replaced by a spike
    ~ U(4, 6), so any value above 1 is a spike. Baseline: the majority-class rate of this data.
    """
    n, T, seed, rng = _start("spike", n, length, seed, 2)
    min_length = _whole("spike", "min_length", min_length, 2, T)
    lengths = rng.integers(min_length, T + 1, size=n)  # int64
    signal = rng.uniform(-1.0, 1.0, size=(n, T))
    spiked = rng.random(n) < 0.5
    at = rng.integers(0, np.maximum(1, lengths // 4))
    height = rng.uniform(4.0, 6.0, size=n)
    rows = np.flatnonzero(spiked)
    signal[rows, at[rows]] = height[rows]
    marks = np.zeros((n, T), dtype=bool)
    marks[rows, at[rows]] = True
    real = np.arange(T) < lengths[:, None]  # (N, T)
    cue = _last_steps(lengths, T)
    x = np.stack([np.where(real, signal, 0.0), cue], axis=-1).astype(np.float32)  # (N, T, 2)
    rate = float(spiked.mean())
    return TaskData(
        task="spike", x=x, y=spiked.astype(np.int64), lengths=lengths, loss_mask=cue,
        readout="final", loss="ce", n_outputs=2, metric="accuracy", baseline=max(rate, 1 - rate),
        description=(f"Sequences of {min_length} to {T} noisy steps; half have one large spike in their "
                     "first quarter. When the cue fires at the last step, say whether there was a "
                     f"spike: one event must be remembered for up to {T - 1} steps."),
        question="Was there a spike early on? Say so at the very end",
        feature_names=("signal", "cue"), output_names=("no spike", "spike"), marks=marks,
        params={"n": n, "length": T, "seed": seed, "min_length": min_length})


def _anomaly(n: int, length: int | None = None, seed: int = 0, *, faults: tuple = FAULTS,
             fault_rate: float = 0.3, noise: float = 0.1) -> TaskData:
    """Per-step anomaly labels on a noisy sine wave with injected faults.

    The wave (period ~ U(20, 60), amplitude ~ U(0.5, 1.5), random phase, N(0, noise^2) noise) is
    drawn first, so faults=() gives the same wave without faults. Each block of 20 steps gets, with
    probability fault_rate, one fault of a kind drawn uniformly from `faults`: "spike" adds
    +-U(3, 5) at one step, "shift" adds +-U(1.5, 3) over 3..10 steps, "flat" holds the value of the
    step before it over 3..10 steps. Faults never start or end a block, so they never touch.
    Baseline: the F1 of predicting "anomaly" at every step, 2p / (1 + p) for the anomaly rate p of
    this data (0 if there is no anomaly).
    """
    if isinstance(faults, str) or not isinstance(faults, list | tuple):
        raise LabError(f"task 'anomaly': faults must be a list of {', '.join(FAULTS)}; got {faults!r}")
    faults = [choose("fault", kind, FAULTS) for kind in faults]
    fault_rate = _number("anomaly", "fault_rate", fault_rate, 0.0, 1.0)
    noise = _number("anomaly", "noise", noise, 0.0)
    n, T, seed, rng = _start("anomaly", n, length, seed, _BLOCK)
    period = rng.uniform(20.0, 60.0, size=n)
    phase = rng.uniform(0, 2 * np.pi, size=n)
    amp = rng.uniform(0.5, 1.5, size=n)
    wave = amp[:, None] * np.sin(2 * np.pi * np.arange(T) / period[:, None] + phase[:, None])
    signal = wave + noise * rng.standard_normal((n, T))  # (N, T)
    labels = np.zeros((n, T), dtype=bool)
    if faults:
        B, nb = _BLOCK, T // _BLOCK
        has = rng.random((n, nb)) < fault_rate  # (N, nb)
        kind = np.array([FAULTS.index(f) for f in faults])[rng.integers(0, len(faults), (n, nb))]
        dur = np.where(kind == 0, 1, rng.integers(3, 11, (n, nb)))
        start = np.arange(nb) * B + rng.integers(1, B - dur)  # absolute; the block's ends stay normal
        sign = np.where(rng.random((n, nb)) < 0.5, -1.0, 1.0)
        size = sign * np.where(kind == 0, rng.uniform(3.0, 5.0, (n, nb)), rng.uniform(1.5, 3.0, (n, nb)))
        step = np.arange(nb * B).reshape(nb, B)  # absolute step of each (block, offset)
        inside = has[..., None] & (step >= start[..., None]) & (step < (start + dur)[..., None])
        clean = signal[:, :nb * B].reshape(n, nb, B)
        held = np.take_along_axis(signal, start - 1, axis=1)  # the last normal value before each fault
        faulty = np.where((kind == 2)[..., None], held[..., None], clean + size[..., None])
        signal[:, :nb * B] = np.where(inside, faulty, clean).reshape(n, nb * B)
        labels[:, :nb * B] = inside.reshape(n, nb * B)
    p = float(labels.mean())
    y = labels.astype(np.int64)
    return TaskData(
        task="anomaly", x=signal[..., None].astype(np.float32), y=y, lengths=_fixed_lengths(n, T),
        loss_mask=np.ones((n, T), dtype=bool), readout="per_step", loss="ce", n_outputs=2,
        metric="f1", baseline=2 * p / (1 + p),
        description=(f"Label every step of a noisy wave normal or anomalous; faults "
                     f"({', '.join(faults) or 'none'}) "
                     "are injected. A spike or shift shows in the value itself, a frozen (flat) "
                     "stretch only against the last few steps, so a short memory suffices."),
        question="Flag the faulty steps of a noisy signal as they happen",
        feature_names=("signal",), output_names=("normal", "anomaly"), marks=labels,
        params={"n": n, "length": T, "seed": seed, "faults": faults, "fault_rate": fault_rate,
                "noise": noise})


def load_text(path: str | Path | None = None) -> str:
    """The text of task "charlm" (TEXT_PATH unless `path` is given), read once and cached."""
    return _read_text(Path(TEXT_PATH if path is None else path))


@lru_cache(maxsize=4)
def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise LabError(f"the text of task 'charlm' is missing: expected {path}; restore the "
                       "assets/text/ folder of the repository") from None
    except UnicodeDecodeError as err:
        raise LabError(f"{path}: byte {err.start} is not plain ASCII; the text must be ASCII") from None


def _charlm(n: int, length: int | None = None, seed: int = 0) -> TaskData:
    """Character-level language modelling on random windows of the shipped text.

    Vocabulary: the sorted distinct characters of the whole text. x one-hot (N, T, V), y[:, t] the id
    of the character after x's character t. Baseline: the perplexity of the unigram distribution of
    the whole text, exp(-sum p log p), i.e. predicting every character by its frequency.
    """
    text = load_text()
    vocab = tuple(sorted(set(text)))
    n, T, seed, rng = _start("charlm", n, length, seed, 1, len(text) - 1)
    table = np.zeros(128, dtype=np.int64)
    table[[ord(c) for c in vocab]] = np.arange(len(vocab))
    ids = table[np.frombuffer(text.encode("ascii"), dtype=np.uint8)]  # (len(text),)
    starts = rng.integers(0, len(text) - T, size=n)  # each window holds T + 1 characters
    window = ids[starts[:, None] + np.arange(T + 1)]  # (N, T + 1)
    x = np.eye(len(vocab), dtype=np.float32)[window[:, :T]]  # (N, T, V)
    p = np.bincount(ids, minlength=len(vocab)) / len(ids)
    return TaskData(
        task="charlm", x=x, y=window[:, 1:], lengths=_fixed_lengths(n, T),
        loss_mask=np.ones((n, T), dtype=bool), readout="per_step", loss="ce", n_outputs=len(vocab),
        metric="perplexity", baseline=float(np.exp(-np.sum(p * np.log(p)))),
        description=(f"Read {T} characters of American founding documents and predict each next "
                     "character. Remembering the current word and sentence lowers the perplexity."),
        question="Read English text and guess every next character",
        feature_names=vocab, output_names=vocab, marks=np.zeros((n, T), dtype=bool),
        params={"n": n, "length": T, "seed": seed})


# How far back the answer can depend on the input, in steps, per task (from TaskData.params): chrono
# initialisation's T_max by default (Tallec & Ollivier 2018 set it to the longest dependency of the task).
_DEPENDENCY = {
    "adding": lambda p: p["length"] - 1,  # a marked value can come first; the sum is asked for at the last step
    "copy": lambda p: p["k"] + p["delay"] + 1,  # each symbol is written back k + delay + 1 steps after it is seen
    "sine": lambda p: math.ceil(p["max_period"]),  # one period of the slowest wave tells its phase and frequency
    "spike": lambda p: p["length"] - 1,  # a spike in the first quarter, the question at the last step
    "anomaly": lambda p: _BLOCK,  # a frozen stretch (up to 10 steps) shows only against the steps before it
    "charlm": lambda p: p["length"],  # the window: a word, a sentence
}


def longest_dependency(data: TaskData) -> int:
    """How many steps back the right answer can depend on the input (at least 2): the default T_max of chrono
    initialisation (training.chrono_bias)."""
    return max(2, int(_DEPENDENCY[data.task](data.params)))


def _task(name: str, title: str, description: str, default_length: int, generate) -> Task:
    """A registry entry whose defaults are read off the generator's keyword-only parameters."""
    defaults = {p.name: p.default for p in inspect.signature(generate).parameters.values()
                if p.kind is inspect.Parameter.KEYWORD_ONLY}
    return Task(name, title, description, default_length, defaults, generate)


TASKS = {task.name: task for task in (
    _task("adding", "Adding problem",
          "Sum the two marked values of a long random sequence.", 100, _adding),
    _task("copy", "Delayed recall (copy)",
          "Remember a few symbols through a long blank delay and write them back on cue.", 61, _copy),
    _task("sine", "Sine forecasting",
          "Forecast the next values of a noisy sine wave.", 100, _sine),
    _task("spike", "Spike before the cue",
          "Sequences of varying length: say at the end whether an early spike occurred.", 100, _spike),
    _task("anomaly", "Anomaly detection",
          "Label each step of a signal with injected faults as normal or anomalous.", 200, _anomaly),
    _task("charlm", "Character language model",
          "Predict the next character of real English text.", 100, _charlm),
)}
