"""What the Explore page runs: the main model, the vanilla RNN beside it, and the input sequence.

Reads session state (app.state's schema), never draws widgets; the sidebar draws them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import streamlit as st

import lstm_core
from lstm_core.checkpoint import Checkpoint

from . import data
from . import state as S
from .cache import frozen


@dataclass(frozen=True)
class Selection:
    main: Checkpoint
    rnn: Checkpoint
    x: np.ndarray  # (T, F) model input, read-only
    raw: np.ndarray  # (T, F) in the data's units, for display, read-only
    feature_names: tuple
    marks: tuple  # steps that carry what must be remembered
    what: str  # one sentence on the input
    target: str  # the right answer, if known
    messages: tuple = ()  # notes for the user (e.g. why a random model was used)
    task: str = ""  # the task the input belongs to ("" for a file)
    question: str = ""  # the task as one plain question
    y: np.ndarray | None = None  # the right answer for a generated example (TaskData.y of its sequence)
    scored: np.ndarray | None = None  # (T,) bool, where the task scores an answer

    @property
    def steps(self) -> int:
        return self.x.shape[0]

    @property
    def title(self) -> str:
        return f"{self.main.describe()} vs. {self.rnn.describe()}"


def _main_model(task: str, F: int | None, messages: list, ss) -> Checkpoint:
    source = ss[S.KEYS.model_source]
    if source == "uploaded" and ss.get(S.UPLOADED_MODEL) is not None:
        ck = ss[S.UPLOADED_MODEL]
        if F is None or ck.input_size == F:
            return ck
        messages.append(f"Your model reads {ck.input_size} feature(s) but this input has {F}: showing a random "
                        f"model instead. Upload a sequence with {ck.input_size} feature(s), or pick the columns it "
                        "was trained on under Reading options.")
        return data.random_checkpoint(ss[S.KEYS.cell], F, ck.hidden_size, int(ss[S.KEYS.model_seed]))
    if source == "uploaded":
        messages.append("No model uploaded yet: showing the trained model. Upload one in the sidebar.")
    kind = ss[S.KEYS.cell]
    if source != "random" and data.shipped(task, kind) is not None and F == _task_inputs(task, kind):
        return data.load_shipped(task, kind)
    if source != "random":  # another task's trained model may read this many features
        fits = [t for t in lstm_core.TASKS if data.shipped(t, kind) is not None and _task_inputs(t, kind) == F]
        if fits:
            messages.append(f"The {kind.upper()} trained on {task} reads {_task_inputs(task, kind)} feature(s); this "
                            f"input has {F}. Showing the {kind.upper()} trained on {fits[0]} instead, only because "
                            f"it reads {F} feature(s): it never saw data like yours, so its gates show how a "
                            f"{fits[0]} model reacts to this input, not what your data means. For a meaningful "
                            "picture, upload a model trained on your data, or pick the task this file belongs to.")
            return data.load_shipped(fits[0], kind)
        messages.append(f"No trained {kind.upper()} reads {F} feature(s): showing a random one.")
    return data.random_checkpoint(kind, F or _task_inputs(task, "lstm"), int(ss[S.KEYS.hidden]),
                                  int(ss[S.KEYS.model_seed]))


def _task_inputs(task: str, kind: str) -> int | None:
    path = data.shipped(task, kind)
    return None if path is None else data.load_shipped(task, kind).input_size


def _rnn_beside(main: Checkpoint, task: str, ss) -> Checkpoint:
    """The shipped RNN for the same task when it fits the input, else a random one of the same size."""
    if main.task and data.shipped(task, "rnn") is not None:
        rnn = data.load_shipped(task, "rnn")
        if rnn.input_size == main.input_size:
            return rnn
    return data.random_checkpoint("rnn", main.input_size, main.hidden_size, int(ss[S.KEYS.model_seed]))


def _hand_set(ss, messages: list) -> Selection:
    """A one-unit LSTM with the weights on the sliders (lstm_core.presets), on its preset's own input."""
    from lstm_core import presets

    name = ss[S.KEYS.preset]
    p = presets.preset(name)
    weights = tuple((g, c, float(ss[k])) for (g, c), k in S.HAND_KEYS.items())
    length = int(ss[S.KEYS.example_length]) or 200
    x, marks = data.preset_input(name, min(length, 20_000), int(ss[S.KEYS.example_seed]))
    if ss[S.KEYS.sequence_source] != "example":
        messages.append("A hand-set unit reads its own input (value, write, reset): the sequence picked in the "
                        "sidebar is not used.")
    if length > 20_000:
        messages.append("A hand-set unit's input is at most 20,000 steps long.")
    main, rnn = data.hand_set(weights, name), data.hand_set_rnn(name)
    return Selection(main, rnn, x, x, presets.FEATURES, marks, f"{p.title}: a hand-set LSTM unit that {p.does}",
                     "", tuple(messages), "", f"{p.title}: what does one LSTM unit with hand-set weights do?")


def current(values=None) -> Selection:
    """What runs, read from session state (or from `values`, any mapping of the schema's keys: a lesson stop)."""
    ss = st.session_state if values is None else values
    task = ss[S.KEYS.task]
    messages: list = []
    from_file = ss[S.KEYS.sequence_source] in ("upload", "sample")
    uploaded = ss.get(S.UPLOADED_SEQUENCES) if from_file else None
    if from_file and uploaded is None:
        messages.append("No file read yet: showing a generated example. Pick a sample or upload a file.")
    if uploaded is not None:
        F = uploaded.x.shape[-1]
        main = _main_model(task, F, messages, ss)
        b = min(int(ss[S.KEYS.upload_sequence]), uploaded.batch_size - 1)  # the sidebar's widget holds it
        n = int(uploaded.lengths[b])
        raw = (uploaded.raw if uploaded.raw is not None else uploaded.x)[b, :n]
        x = uploaded.x[b, :n]
        if main.normalisation is not None and uploaded.normalisation is None:
            x = main.normalisation.apply(raw)
            messages.append("The file is read with the model's own training normalisation.")
        names, marks = tuple(uploaded.feature_names), ()
        what = f"your file {uploaded.source} (sequence {uploaded.sequence_ids[b]}, {n} steps)"
        target, question, y, scored, input_task = "", f"What do the gates do with {what}?", None, None, ""
    elif ss[S.KEYS.model_source] == "handset":
        return _forget_shifted(_hand_set(ss, messages), ss)
    else:
        main = _main_model(task, _task_inputs(task, "lstm"), messages, ss)
        own = main.task is not None and main.task.get("name") == task  # the model's own task: its settings
        params = dict(main.task.get("params") or {}) if own else {}
        params.setdefault("length", lstm_core.TASKS[task].default_length)
        if int(ss[S.KEYS.example_length]) > 0:
            params["length"] = int(ss[S.KEYS.example_length])
            params.pop("delay", None)  # the copy task derives its delay from the length
        norm = None if main.normalisation is None else main.normalisation.to_dict()
        ex = data.example(task, int(ss[S.KEYS.example_seed]), params, norm)
        x, raw, names, marks = ex.x, ex.raw, ex.feature_names, ex.marks
        what, target, question, input_task = ex.description, ex.target, ex.question, task
        y, scored = (ex.y, ex.scored) if own else (None, None)  # another task's model answers another question
    variant = ss[S.KEYS.variant]
    if variant != main.variant and variant in main.network.cell.variants:
        trained = main.variant
        main = data.as_variant(main, variant)
        if main.network.cell.variants[variant].peephole:
            messages.append(f"The peephole variant adds weights p_i, p_f, p_o that these {trained} weights were "
                            "trained without. They start at zero, so this LSTM computes exactly what the "
                            f"{trained} one does: a peephole model needs peephole training.")
    rnn = _rnn_beside(main, (main.task or {}).get("name", task), ss)
    return _forget_shifted(Selection(main, rnn, frozen(np.asarray(x, np.float32)), frozen(np.asarray(raw, np.float32)),
                                     tuple(names), tuple(marks), what, target, tuple(messages), input_task, question,
                                     y, scored), ss)


def _forget_shifted(sel: Selection, ss) -> Selection:
    """The selection with the forget-bias slider's shift added to the main LSTM's b_f (issue 15)."""
    shift = float(ss[S.KEYS.forget_shift])
    if shift == 0 or sel.main.kind != "lstm" or sel.main.network.cell.variants[sel.main.variant].fixes == "f":
        return sel
    return dataclasses.replace(sel, main=data.forget_shifted(sel.main, shift),
                               messages=(*sel.messages, f"The forget-gate bias b_f of every unit is shifted by "
                                                        f"{shift:+.1f} (the slider in the sidebar)."))


def outcomes(sel: Selection) -> tuple:
    """Each model's answers on a generated example of its own task (None where there is no answer to judge)."""
    if sel.y is None:
        return None, None
    return tuple(data.outcome(m, sel.x, sel.y, sel.scored)
                 if m.head is not None and (m.task or {}).get("name") == sel.task else None
                 for m in (sel.main, sel.rnn))
