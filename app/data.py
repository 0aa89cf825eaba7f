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
from lstm_core.analysis import memory_curve
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
                   data.description, target)


@cached(max_mb=512)
def trace(model: Checkpoint, x: np.ndarray) -> lstm_core.Trace:
    return lstm_core.trace(model, x)


@cached(max_mb=32)
def memory_spec(main: Checkpoint, rnn: Checkpoint, x: np.ndarray, step: int, feature: int) -> dict:
    """The memory chart for a nudge at `step` (the current-step marker is moved by figures.at_step)."""
    m = memory_curve(main, x, step, feature)
    r = memory_curve(rnn, x, step, feature)
    name = main.kind.upper()
    curves = {f"{name} h_t": m.h, **({f"{name} C_t": m.c} if m.c is not None else {}), "RNN h_t": r.h}
    return figures.memory_chart(curves, step, x.shape[0])


@cached(max_mb=1)
def ranges(model: Checkpoint, x: np.ndarray) -> dict:
    """Each quantity's colour range over the whole trace (for the cell diagrams), as the heatmaps use."""
    return figures.diagram_ranges(trace(model, x))


@cached(max_mb=256)
def payload(main: Checkpoint, rnn: Checkpoint, x: np.ndarray, raw: np.ndarray, feature_names: tuple,
            marks: tuple, title: str) -> bytes:
    """The trace view's message: both models' traces of `x`, drawn over `raw` (x in the data's units)."""
    main_tr, rnn_tr = trace(main, x), trace(rnn, x)
    panels = figures.trace_panels(main_tr, rnn_tr, raw, feature_names)
    view_id = hashlib.blake2b(key_of((main, rnn, x, raw)).encode(), digest_size=6).hexdigest()
    return trace_payload.encode(panels, main_tr.steps, marks=marks, title=title, view_id=view_id)
