"""Cached calls into lstm_core for the pages: shipped models, examples, traces and their payloads.

Shared read-only objects (checkpoints, traces, payload bytes) use st.cache_resource: they are never
mutated (trace arrays are read-only), and copying a 100,000-step trace on every rerun would cost more
than computing it. Each cached function takes hashable arguments only, or an `_object` plus its id.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

import lstm_core
from lstm_core.analysis import memory_curve
from lstm_core.models import Checkpoint

from . import figures, trace_payload

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "assets" / "models"
SEQUENCES = ROOT / "assets" / "sequences"


@st.cache_resource(show_spinner=False)
def manifest() -> dict:
    path = MODELS / "manifest.json"
    return json.loads(path.read_text()) if path.exists() else {"models": []}


def shipped(task: str, kind: str) -> Path | None:
    path = MODELS / f"{task}-{kind}.npz"
    return path if path.exists() else None


@st.cache_resource(show_spinner=False, max_entries=32)
def load_shipped(task: str, kind: str) -> Checkpoint:
    return lstm_core.load_model(MODELS / f"{task}-{kind}.npz")  # numpy only: no torch on the first screen


@st.cache_resource(show_spinner=False, max_entries=16)
def random_checkpoint(kind: str, input_size: int, hidden: int, seed: int, variant: str = "vanilla") -> Checkpoint:
    spec = f"{kind}:random:H={hidden}:seed={seed}" + (f":variant={variant}" if kind == "lstm" else "")
    return lstm_core.random_model(spec, input_size)


@st.cache_resource(show_spinner=False, max_entries=32)
def as_variant(_ck: Checkpoint, ck_id: str, variant: str) -> Checkpoint:
    """The same LSTM weights run with another variant's equations: an ablation (e.g. no forget gate).
    A peephole variant gets zero peepholes, so it starts out identical to the vanilla LSTM."""
    if variant == _ck.variant:
        return _ck
    return dataclasses.replace(_ck, network=_ck.network.with_variant(variant), _model=None)


@dataclass(frozen=True)
class Example:
    x: np.ndarray  # (T, F) in the model's input units (normalised as the model was trained)
    raw: np.ndarray  # (T, F) in the data's own units, for display
    marks: tuple  # steps that carry what must be remembered
    feature_names: tuple
    description: str
    target: str  # what the right answer is, in words


@st.cache_data(show_spinner=False, max_entries=64)
def example(task: str, seed: int, params_json: str, norm_json: str | None) -> Example:
    """One generated sequence of `task` (with the model's task parameters), normalised like training."""
    params = {k: v for k, v in json.loads(params_json).items() if k not in ("n", "length", "seed")}
    length = json.loads(params_json).get("length")
    data = lstm_core.make_task(task, 1, length, seed, **params)
    T = int(data.lengths[0])
    raw = data.x[0, :T]
    x = raw if norm_json is None else lstm_core.Normalisation.from_dict(json.loads(norm_json)).apply(raw)
    y = data.y[0]
    if data.readout == "final" and data.loss == "mse":
        target = ", ".join(f"{n} = {v:.3f}" for n, v in zip(data.output_names, np.atleast_1d(y), strict=False))
    elif data.readout == "final":
        target = f"class {data.output_names[int(y)]}"
    elif task == "copy":
        target = "recall " + " ".join(data.output_names[int(v)] for v in y[y >= 0])
    else:
        target = f"{int((y >= 0).sum())} scored steps"
    return Example(np.ascontiguousarray(x, np.float32), raw, tuple(int(t) for t in np.flatnonzero(data.marks[0])),
                   tuple(data.feature_names), data.description, target)


def array_id(*arrays) -> str:
    h = hashlib.blake2b(digest_size=12)
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str((a.shape, a.dtype)).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def model_id(ck: Checkpoint) -> str:
    h = hashlib.blake2b(digest_size=12)
    h.update(f"{ck.kind}/{ck.variant}/{ck.network.nonlinearity}/{ck.source}".encode())
    for k, v in ck.network.state_dict().items():
        h.update(k.encode())
        h.update(np.ascontiguousarray(v).tobytes())
    return h.hexdigest()


@st.cache_resource(show_spinner=False, max_entries=24)
def trace(_ck: Checkpoint, ck_id: str, _x: np.ndarray, x_id: str) -> lstm_core.Trace:
    return lstm_core.trace(_ck, _x)


@st.cache_resource(show_spinner=False, max_entries=24)
def memory(_ck: Checkpoint, ck_id: str, _x: np.ndarray, x_id: str, step: int, feature: int):
    return memory_curve(_ck, _x, step, feature)


@st.cache_resource(show_spinner=False, max_entries=24)
def memory_spec(_main: Checkpoint, main_id: str, _rnn: Checkpoint, rnn_id: str, _x: np.ndarray, x_id: str,
                step: int, feature: int) -> dict:
    """The memory chart for a nudge at `step` (the current-step marker is moved by figures.at_step)."""
    m = memory(_main, main_id, _x, x_id, step, feature)
    r = memory(_rnn, rnn_id, _x, x_id, step, feature)
    name = _main.kind.upper()
    curves = {f"{name} h_t": m.h, **({f"{name} C_t": m.c} if m.c is not None else {}), "RNN h_t": r.h}
    return figures.memory_chart(curves, step, _x.shape[0])


@st.cache_resource(show_spinner=False, max_entries=24)
def ranges(_tr: lstm_core.Trace, tr_id: str) -> dict:
    """Each quantity's colour range over the whole trace (for the cell diagrams)."""
    return figures.diagram_ranges(_tr)


@st.cache_resource(show_spinner=False, max_entries=24)
def payload(_main: lstm_core.Trace, main_id: str, _rnn: lstm_core.Trace, rnn_id: str, _raw: np.ndarray,
            feature_names: tuple, marks: tuple, title: str) -> bytes:
    """The trace view's message (built once per model pair and input)."""
    panels = figures.trace_panels(_main, _rnn, _raw, feature_names)
    return trace_payload.encode(panels, _main.steps, marks=marks, title=title, view_id=main_id[:8])
