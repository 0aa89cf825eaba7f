"""Cached calls into lstm_core for the pages: shipped models, examples, traces and what is drawn from them.

Every cached function takes checkpoints, arrays and plain values, and `app.cache.cached` builds its key
from all of them by content: no id is passed by hand, so none can be forgotten. Files are opened by key
from allow-lists built from the folders (`SHIPPED_MODELS`, `SAMPLE_FILES`), never by joining a user's
string to a path.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import lstm_core
from lstm_core.analysis import MemoryCurve, memory_curve, memory_span
from lstm_core.checkpoint import Checkpoint

from . import figures, trace_payload
from .cache import cached, frozen, key_of

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "assets" / "models"
SEQUENCES = ROOT / "assets" / "sequences"
SEQUENCE_SUFFIXES = (".csv", ".tsv", ".npy", ".npz", ".json", ".txt")

# (task, kind) -> path of the shipped checkpoint: the only model files the app opens by name.
SHIPPED_MODELS = {(t, k): MODELS / f"{t}-{k}.npz" for t in lstm_core.TASKS for k in lstm_core.CELLS
                  if (MODELS / f"{t}-{k}.npz").is_file()}
# name -> path of each sample sequence file: the only sequence files the app opens by name.
SAMPLE_FILES = {p.name: p for p in sorted(SEQUENCES.iterdir())
                if p.is_file() and p.suffix in SEQUENCE_SUFFIXES and not p.name.startswith("make_")}


@cached(max_mb=1)
def manifest() -> dict:
    path = MODELS / "manifest.json"
    return json.loads(path.read_text()) if path.exists() else {"models": []}


def held_out(ck: Checkpoint) -> dict | None:
    """The manifest's held-out score of a shipped checkpoint (None for any other model, and for a shipped one
    run with another variant's equations: the score belongs to the weights as trained)."""
    task = (ck.task or {}).get("name")
    if task is None or shipped(task, ck.kind) is None or ck is not load_shipped(task, ck.kind):
        return None
    name = SHIPPED_MODELS[(task, ck.kind)].name
    return next((m["held_out"] for m in manifest()["models"] if m["file"] == name), None)


def shipped(task: str, kind: str) -> Path | None:
    return SHIPPED_MODELS.get((task, kind))


@cached(max_mb=16)
def load_shipped(task: str, kind: str) -> Checkpoint:
    return lstm_core.load_model(SHIPPED_MODELS[(task, kind)])  # numpy only: no torch on the first screen


@cached(max_mb=64)
def random_checkpoint(kind: str, input_size: int, hidden: int, seed: int) -> Checkpoint:
    spec = f"{kind}:random:H={hidden}:seed={seed}"
    return lstm_core.random_model(spec, input_size)


@cached(max_mb=64)
def as_variant(ck: Checkpoint, variant: str) -> Checkpoint:
    """The same LSTM weights run with another variant's equations: an ablation (e.g. no forget gate).
    A peephole variant gets zero peepholes, so it starts out identical to the vanilla LSTM."""
    if variant == ck.variant:
        return ck
    return dataclasses.replace(ck, network=ck.network.with_variant(variant))


@dataclass(frozen=True)
class Example:
    x: np.ndarray  # (T, F) in the model's input units (normalised as the model was trained), read-only
    raw: np.ndarray  # (T, F) in the data's own units, for display, read-only
    marks: tuple  # steps that carry what must be remembered
    feature_names: tuple
    description: str
    target: str  # what the right answer is, in words
    question: str = ""  # the task as one plain question (TaskData.question)
    y: np.ndarray | None = None  # the task's target for this sequence (TaskData.y[0]), read-only
    scored: np.ndarray | None = None  # (T,) bool, the steps the task scores, read-only


@cached(max_mb=128)
def example(task: str, seed: int, params: dict, normalisation: dict | None) -> Example:
    """One generated sequence of `task` (with the model's task parameters), normalised like training."""
    extra = {k: v for k, v in params.items() if k not in ("n", "length", "seed")}
    data = lstm_core.make_task(task, 1, params.get("length"), seed, **extra)
    T = int(data.lengths[0])
    raw = data.x[0, :T]
    x = raw if normalisation is None else lstm_core.Normalisation.from_dict(normalisation).apply(raw)
    y = data.y[0]
    if data.readout == "final" and data.loss == "mse":
        target = ", ".join(f"{n} = {v:.3f}" for n, v in zip(data.output_names, np.atleast_1d(y), strict=False))
    elif data.readout == "final":
        target = f"class {data.output_names[int(y)]}"
    elif task == "copy":
        target = "recall " + " ".join(data.output_names[int(v)] for v in y[y >= 0])
    else:
        target = f"{int((y >= 0).sum())} scored steps"
    return Example(frozen(np.asarray(x, np.float32)), frozen(np.asarray(raw, np.float32)),
                   tuple(int(t) for t in np.flatnonzero(data.marks[0])), tuple(data.feature_names),
                   data.description, target, data.question, frozen(np.array(y)),
                   frozen(np.asarray(data.loss_mask[0, :T], bool)))


@cached(max_mb=512)
def trace(model: Checkpoint, x: np.ndarray) -> lstm_core.Trace:
    return lstm_core.trace(model, x)


@cached(max_mb=32)
def curve(model: Checkpoint, x: np.ndarray, step: int, feature: int) -> MemoryCurve:
    """How much a nudge of input `feature` at `step` changes the model's states at every step (the unnudged run
    is the page's own cached trace of x)."""
    return memory_curve(model, x, step, feature, base=trace(model, x))


@cached(max_mb=32)
def memory_spec(main: Checkpoint, rnn: Checkpoint, x: np.ndarray, step: int, feature: int) -> dict:
    """The memory chart for a nudge at `step` (the current-step marker is moved by figures.at_step)."""
    m = curve(main, x, step, feature)
    r = curve(rnn, x, step, feature)
    name = main.kind.upper()
    curves = {f"{name} h_t": m.h, **({f"{name} C_t": m.c} if m.c is not None else {}), "RNN h_t": r.h}
    return figures.memory_chart(curves, step, x.shape[0])


@cached(max_mb=8)
def outcome(model: Checkpoint, x: np.ndarray, y: np.ndarray, scored: np.ndarray) -> lstm_core.outcome.Outcome:
    """The model's answers on x next to the right ones (its head applied to its trace; lstm_core.outcome)."""
    return lstm_core.outcome.outcome(model, trace(model, x)["h"], y, scored, model.task)


@cached(max_mb=1)
def memory_spans(main: Checkpoint, rnn: Checkpoint, x: np.ndarray, step: int) -> tuple:
    """How long a nudge of the input at `step` is felt: in the main model's memory state (an LSTM's C_t) and in
    the RNN's h_t (lstm_core.analysis.memory_span)."""
    spans = []
    for model in (main, rnn):
        change = curve(model, x, step, 0)
        spans.append(memory_span(change.c if model.network.cell.memory == "c" else change.h, step))
    return tuple(spans)


@cached(max_mb=16)
def text_view(model: Checkpoint, x: np.ndarray, feature_names: tuple, key: str, unit: int) -> dict:
    """The text view's message: the input's characters coloured by `unit`'s `key` (c or h) over the
    quantity's heatmap range."""
    tr = trace(model, x)
    q = lstm_core.CELLS[model.kind].quantity(key)
    lo, hi = figures.colour_range(q, tr[key])
    from .story import model_name, text_of, text_view_data

    return text_view_data(text_of(x, feature_names), tr[key][:, unit], q, lo, hi, model_name(model), unit)


@cached(max_mb=1)
def ranges(model: Checkpoint, x: np.ndarray) -> dict:
    """Each quantity's colour range over the whole trace (for the cell diagrams), as the heatmaps use."""
    return figures.diagram_ranges(trace(model, x))


@cached(max_mb=256)
def payload(main: Checkpoint, rnn: Checkpoint, x: np.ndarray, raw: np.ndarray, feature_names: tuple,
            marks: tuple, title: str, right: np.ndarray | None = None, answer_names: tuple = (),
            show_input: bool = True, keys: tuple = (), present: bool = False) -> bytes:
    """The trace view's message: both models' traces of `x`, drawn over `raw` (x in the data's units), and
    `right` (T, models), the probability each model gives the right answer at the scored steps, if any.
    `keys` keeps only those panels, in that order (a lesson stop's); `present` draws for a projector."""
    main_tr, rnn_tr = trace(main, x), trace(rnn, x)
    answers = None if right is None else figures.answers_panel(right, answer_names)
    panels = figures.trace_panels(main_tr, rnn_tr, raw, feature_names, answers, show_input)
    if keys:
        by_key = {p.key: p for p in panels}
        panels = [by_key[k] for k in keys if k in by_key]
    view_id = hashlib.blake2b(key_of((main, rnn, x, raw, right, show_input, keys)).encode(),
                              digest_size=6).hexdigest()
    return trace_payload.encode(panels, main_tr.steps, marks=marks, title=title, view_id=view_id, present=present)


# Classroom (issue 15): hand-set one-unit LSTMs (lstm_core.presets) and the forget-bias shift.
@cached(max_mb=8)
def preset_input(name: str, length: int, seed: int) -> tuple:
    """The input a preset is shown on (read-only) and the steps that write."""
    from lstm_core import presets

    x, marks = presets.preset_input(name, length, seed)
    return frozen(x), marks


@cached(max_mb=4)
def hand_set(weights: tuple, preset: str) -> Checkpoint:
    """A one-unit LSTM from ((gate, column, value), ...): the sliders' weights."""
    from lstm_core import presets

    net = presets.lstm_network({(g, c): v for g, c, v in weights})
    return Checkpoint(net, source=f"hand-set ({presets.preset(preset).title})")


@cached(max_mb=4)
def hand_set_rnn(preset: str) -> Checkpoint:
    """The one-unit vanilla RNN beside a hand-set LSTM."""
    from lstm_core import presets

    return Checkpoint(presets.rnn_network(presets.preset(preset).rnn), source="hand-set RNN")


@cached(max_mb=64)
def forget_shifted(ck: Checkpoint, shift: float) -> Checkpoint:
    """The same model with `shift` added to its LSTM's forget-gate bias (task, head and all kept)."""
    from lstm_core import presets

    return dataclasses.replace(ck, network=presets.shift_forget_bias(ck.network, shift))
