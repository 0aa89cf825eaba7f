"""The Explore page's pickers: task, model, LSTM variant, sequence (and, from issue 5, uploads)."""

from __future__ import annotations

import streamlit as st

import lstm_core
from lstm_core.limits import MAX_STEPS

from . import data, handset, uploads
from . import state as S

MODEL_SOURCES = {"trained": "Trained (shipped)", "random": "Random, seeded", "uploaded": "Uploaded model",
                 "handset": "Hand-set weights"}
SEQUENCE_SOURCES = {"example": "Generated example", "sample": "Sample file", "upload": "Upload a file"}


def _reset_step() -> None:
    st.session_state[S.KEYS.step] = 0


def draw(speeds: tuple) -> None:
    K = S.KEYS
    sb = st.sidebar
    sb.header("What runs")
    sb.selectbox("Task", list(lstm_core.TASKS), key=K.task, on_change=_reset_step,
                 format_func=lambda t: lstm_core.TASKS[t].title,
                 help="Each task needs a different kind of memory; the shipped models were trained on it.")
    sb.radio("Model", list(MODEL_SOURCES), key=K.model_source, format_func=MODEL_SOURCES.get, horizontal=True,
             on_change=_reset_step)
    sb.radio("Cell", S.SCHEMA["cell"].choices, key=K.cell, format_func=lambda k: lstm_core.CELLS[k].label,
             horizontal=True, help="Beside it always runs a vanilla RNN on the same input.")
    sb.selectbox("LSTM variant", list(lstm_core.VARIANTS), key=K.variant,
                 disabled=len(lstm_core.CELLS[st.session_state[K.cell]].variants) == 1,
                 format_func=lambda v: f"{v}: {lstm_core.VARIANTS[v]}",
                 help="Runs the same weights with the variant's equations: on a trained model this is an "
                      "ablation (what breaks without the forget gate?). Peepholes start at zero.")
    uploads.draw_model_inputs(sb)
    handset.draw_controls(sb)
    if st.session_state[K.model_source] == "random":
        c1, c2 = sb.columns(2)
        c1.number_input("Hidden units", 1, S.MAX_HIDDEN, key=K.hidden)
        c2.number_input("Model seed", 0, S.MAX_SEED, key=K.model_seed)
    sb.header("Input sequence")
    sb.radio("Sequence", list(SEQUENCE_SOURCES), key=K.sequence_source, format_func=SEQUENCE_SOURCES.get,
             on_change=uploads.on_sequence_source)
    source = st.session_state[K.sequence_source]
    uploads.draw_sequence_inputs(sb)
    if source == "example":
        c1, c2 = sb.columns(2)
        c1.number_input("Example seed", 0, S.MAX_SEED, key=K.example_seed, on_change=_reset_step,
                        help="Another seed draws another sequence of the task.")
        c2.number_input("Length (steps)", 0, MAX_STEPS, step=100, key=K.example_length, on_change=_reset_step,
                        help="0 = the length the model was trained on. Longer sequences test whether what it "
                             "learned carries over (up to 100,000 steps; long ones are drawn downsampled).")
    sb.selectbox("Playback speed", speeds, key=K.speed, format_func=lambda v: f"{v} steps per second")
    manifest = data.manifest()
    if manifest["models"]:
        with sb.expander("Shipped models and their held-out scores"):
            rows = [f"{m['task']} · {m['kind'].upper()}: {m['held_out']['metric']} {m['held_out']['value']:.3f} "
                    f"(trivial {m['held_out']['baseline']:.3f})" for m in manifest["models"]]
            st.markdown("\n".join(f"- {r}" for r in rows))
            st.caption(f"Made by `{manifest.get('command', 'python -m lstm_core.pretrain')}`")
