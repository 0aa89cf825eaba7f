"""The Memory page's computations: thin, cached calls of lstm_core.memory (keys derived from every argument,
app/cache.py), returning plain arrays the page hands to app/memory_views.py."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import numpy as np

import lstm_core
from lstm_core.checkpoint import Checkpoint

from . import data, figures, story, trace_payload
from .cache import cached, frozen, key_of
from .selection import Selection

MAX_GRADIENT_STEPS = 2000  # gradient flow over the last steps of a longer sequence (it costs ~4 passes a step)
PROBE_SEQUENCES = 48  # generated sequences of the task the probes learn and are scored on


def models(sel: Selection) -> tuple:
    """(name, checkpoint) of each model compared: the page's main model, the RNN beside it, and the shipped
    model of the other gated kind when the input is its task's (so LSTM, GRU and RNN sit side by side)."""
    out = [(story.model_name(sel.main), sel.main), (story.model_name(sel.rnn), sel.rnn)]
    other = {"lstm": "gru", "gru": "lstm"}.get(sel.main.kind)
    if sel.task and other and data.shipped(sel.task, other) is not None and sel.main.task is not None:
        ck = data.load_shipped(sel.task, other)
        if ck.input_size == sel.main.input_size:
            out.insert(1, (story.model_name(ck), ck))
    return tuple(out)


@cached(max_mb=16)
def retention(model: Checkpoint, x: np.ndarray, step: int, mode: str) -> dict:
    r = lstm_core.retention(model, x, step, mode=mode, eps=1.0 if mode == "perturb" else 1e-2, seed=0)
    return {"steps": frozen(r.steps), "h": frozen(r.h), "c": None if r.c is None else frozen(r.c)}


@cached(max_mb=16)
def gradients(model: Checkpoint, x: np.ndarray) -> dict:
    """‖∂h_T/∂x_t‖ for the last MAX_GRADIENT_STEPS steps; the LSTM's cell and hidden paths too."""
    start = max(0, len(x) - MAX_GRADIENT_STEPS)
    g = lstm_core.gradient_flow(model, x[start:], split=model.kind == "lstm")
    steps = np.arange(start, len(x))
    return {"steps": frozen(steps), "norm": frozen(g.norm), "cell": None if g.cell is None else frozen(g.cell),
            "hidden": None if g.hidden is None else frozen(g.hidden)}


@cached(max_mb=8)
def saturation(model: Checkpoint, x: np.ndarray) -> dict:
    """{gate: (below, above)} per unit for each sigmoid gate the model has."""
    tr = data.trace(model, x)
    gates = [q.key for q in lstm_core.CELLS[model.kind].quantities if q.fixed == (0.0, 1.0)]
    return {g: tuple(frozen(a) for a in lstm_core.saturation(tr, g)) for g in gates}


@cached(max_mb=8)
def trajectory(model: Checkpoint, x: np.ndarray, which: str) -> tuple:
    points, ratio = lstm_core.state_pca(data.trace(model, x), which=which, k=2)
    return frozen(points), frozen(ratio)


@cached(max_mb=8)
def forget_times(model: Checkpoint, x: np.ndarray) -> np.ndarray | None:
    gate = lstm_core.CELLS[model.kind].forget_gate
    if gate is None:
        return None
    return frozen(lstm_core.forget_time(data.trace(model, x), gate=gate))


@cached(max_mb=64)
def probes(model: Checkpoint, task: str, params: dict, normalisation: dict | None, lags: int, kind: str,
           which: str) -> dict:
    """R² of decoding the input x_{t-k} from the state at t, k = 0..lags-1, on PROBE_SEQUENCES generated
    sequences of the task (split by sequence), and the memory capacity Σ_k R²_k."""
    extra = {k: v for k, v in params.items() if k not in ("n", "length", "seed")}
    d = lstm_core.make_task(task, PROBE_SEQUENCES, params.get("length"), 7, **extra)
    x = d.x if normalisation is None else lstm_core.Normalisation.from_dict(normalisation).apply(d.x)
    tr = lstm_core.trace(model, x, d.lengths)
    r2 = lstm_core.probe_lags(tr[which], x, range(min(lags, x.shape[1] - 1)), kind=kind, seed=0,
                              where=tr.mask)
    return {"r2": frozen(r2), "mc": lstm_core.memory_capacity(r2),
            "scale": float(np.nanstd(np.where(tr.mask[..., None], x, np.nan)))}


RECALL_SEQUENCES = 1000  # generated delayed-recall sequences the delayed-symbol probes learn (70 %) and are scored on


@cached(max_mb=8)
def recall(model: Checkpoint, kind: str, which: str, at: str, delay: int | None, k: int | None,
           alphabet: int | None) -> dict:
    """The delayed symbols read off the state (lstm_core.recall_probe, seed 0): R² and accuracy per symbol and
    for one probe of all of them, the model's own readout beside it, and where (steps, lags) they were read."""
    r = lstm_core.recall_probe(model, kind=kind, which=which, at=at, n=RECALL_SEQUENCES, seed=0, delay=delay, k=k,
                               alphabet=alphabet)
    return {"r2": frozen(r.r2), "accuracy": frozen(r.accuracy), "r2_all": r.r2_all, "accuracy_all": r.accuracy_all,
            "head_r2": None if r.head_r2 is None else frozen(r.head_r2),
            "head_accuracy": None if r.head_accuracy is None else frozen(r.head_accuracy),
            "steps": frozen(r.steps), "lags": frozen(r.lags), "k": r.k, "delay": r.delay, "alphabet": r.alphabet,
            "n_train": r.n_train, "n_test": r.n_test}


def _clamp_trace(model: Checkpoint, x: np.ndarray, clamps: tuple) -> lstm_core.Trace:
    arrays = lstm_core.clamped_trace(model, x, [dict(c) for c in clamps])
    for a in arrays.values():
        a.flags.writeable = False
    return lstm_core.Trace("lstm", model.variant, arrays, x)


@cached(max_mb=64)
def clamped(model: Checkpoint, x: np.ndarray, clamps: tuple) -> lstm_core.Trace:
    """The LSTM run with its gates held (clamps: tuples of (key, value) pairs, hashable)."""
    return _clamp_trace(model, x, clamps)


@cached(max_mb=64)
def clamp_payload(model: Checkpoint, x: np.ndarray, raw: np.ndarray, names: tuple, marks: tuple,
                  clamps: tuple) -> bytes:
    """The trace view of a clamp: the input, C_t and h_t unclamped, then clamped, then the change of C_t."""
    base, held = data.trace(model, x), clamped(model, x, clamps)
    change = lstm_core.Trace("lstm", model.variant, {"c": frozen(held["c"] - base["c"])}, x)
    panels = [figures.input_panel(raw, names),
              figures.quantity_panel(base, "c", note="as trained"),
              figures.quantity_panel(held, "c", prefix="held_", note="with the gate held"),
              figures.quantity_panel(change, "c", prefix="change_", note="held minus as trained"),
              figures.quantity_panel(base, "h", note="as trained"),
              figures.quantity_panel(held, "h", prefix="held_", note="with the gate held")]
    view = hashlib.blake2b(key_of((model, x, clamps)).encode(), digest_size=6).hexdigest()
    return trace_payload.encode(panels, base.steps, marks=marks, title="gates held", view_id=view)


TEXT_SEQUENCES = 32  # text windows the interpretable-cell correlations are taken over


@cached(max_mb=8)
def interpretable(model: Checkpoint, task: str, params: dict, which: str) -> dict:
    """The units that best track a property of the text (inside quotes, inside brackets, position in the
    line), by correlation over TEXT_SEQUENCES generated windows of the task's text (one window rarely holds
    a quote)."""
    extra = {k: v for k, v in params.items() if k not in ("n", "length", "seed")}
    d = lstm_core.make_task(task, TEXT_SEQUENCES, params.get("length"), 11, **extra)
    names = tuple(d.feature_names)
    states, props = [], {}
    tr = lstm_core.trace(model, d.x)
    for b in range(d.x.shape[0]):
        chars = story.text_of(d.x[b], names) or []
        states.append(np.asarray(tr[which][b], np.float64))
        for k, v in text_properties(chars).items():
            props.setdefault(k, []).append(v)
    flat = {which: np.concatenate(states)}
    out = {}
    for name, parts in props.items():
        values = np.concatenate(parts)
        if np.std(values) == 0:
            continue
        units, r = lstm_core.interpretable_units(flat, values, which=which)
        out[name] = (frozen(units[:3]), frozen(r[:3]))
    return out


def text_properties(chars: list) -> dict:
    """Per character: inside double quotes (1/0), inside parentheses or brackets (1/0), and the position in
    its line (characters since the last newline)."""
    quote = bracket = pos = 0
    inside_q, inside_b, position = [], [], []
    for ch in chars:
        if ch == '"':
            quote ^= 1
        if ch in "([":
            bracket += 1
        inside_q.append(quote)
        inside_b.append(int(bracket > 0))
        position.append(pos)
        if ch in ")]":
            bracket = max(0, bracket - 1)
        pos = 0 if ch == "\n" else pos + 1
    return {"inside quotes": np.array(inside_q, float), "inside brackets": np.array(inside_b, float),
            "position in the line": np.array(position, float)}


SWEEP_FILE = Path(__file__).resolve().parents[1] / "assets" / "sweeps" / "copy_delay.json"


def shipped_sweep(path: Path = SWEEP_FILE) -> lstm_core.Sweep:
    """The delay sweep shipped in assets/sweeps/ (checked by lstm_core.load_sweep; a LabError if it is not
    there or not right), read once per version of the file."""
    stat = path.stat() if path.is_file() else None
    return _sweep(str(path), None if stat is None else (stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=4)
def _sweep(path: str, version: tuple | None) -> lstm_core.Sweep:
    return lstm_core.load_sweep(path)


SWEEP_NAMES = {"lstm": "LSTM", "gru": "GRU", "rnn": "vanilla RNN"}  # as the page's other charts name them


def sweep_name(kind: str) -> str:
    return SWEEP_NAMES.get(kind, lstm_core.CELLS[kind].label)


def sweep_curves(points) -> dict:
    """{model name: (delays, accuracies)} of SweepPoints, for memory_views.delay_sweep."""
    out = {}
    for p in points:
        ds, accs = out.setdefault(sweep_name(p.model), ([], []))
        ds.append(p.delay)
        accs.append(p.accuracy)
    return out
