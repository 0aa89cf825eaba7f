"""Sequence and model files: uploads and one-click samples, parsed by lstm_core, kept in session state.

A file is parsed once, when it arrives (a widget callback). A good one replaces the current sequence
(or model); a bad one leaves the current one on screen and puts its specific message next to the
uploader. Nothing here draws the Explore page itself.
"""

from __future__ import annotations

import streamlit as st

import lstm_core
from lstm_core.limits import MAX_STEPS

from . import data
from . import state as S
from .text import plain

K = S.KEYS
MAX_UPLOAD_BYTES = 20 * 2**20  # the app's own limit, checked before parsing (Streamlit's is in config.toml)
MAX_UPLOAD_STEPS = MAX_STEPS
# A parsed upload is kept in its session as float32 (the model's input and, for display, the raw values):
# 8M numbers are 32 MB each, so one session's upload holds at most about 64 MB.
MAX_UPLOAD_CELLS = 8 * 2**20


def _options():
    from lstm_core.readers import ReadOptions

    ss = st.session_state
    vocab = None
    if ss[K.task] == "charlm" and ss[K.model_source] == "trained" and data.shipped("charlm", ss[K.cell]):
        vocab = data.load_shipped("charlm", ss[K.cell]).vocab  # text is read with the model's characters
    columns = tuple(c.strip() for c in ss[K.upload_columns].split(",") if c.strip()) or None
    return ReadOptions(max_bytes=MAX_UPLOAD_BYTES, max_steps=MAX_UPLOAD_STEPS, max_cells=MAX_UPLOAD_CELLS,
                       nan_policy=ss[K.nan_policy],
                       normalise=ss[K.normalise_upload], columns=columns, vocab=vocab)


def _read(raw: bytes, name: str, reset_step: bool = True) -> None:
    ss = st.session_state
    from lstm_core.readers import read_sequences

    ss[S.LAST_FILE] = (raw, name)
    try:
        result = read_sequences(raw, name=name, options=_options())
    except lstm_core.LabError as e:
        ss[S.UPLOAD_ERROR] = str(e)  # the previous good sequence stays
        return
    ss[S.UPLOADED_SEQUENCES] = result
    ss[S.UPLOAD_ERROR] = None
    ss[K.upload_sequence] = 0
    if reset_step:
        ss[K.step] = 0


def on_sequence_upload() -> None:
    f = st.session_state[K.sequence_upload]
    if f is not None:
        _read(f.getvalue(), f.name)


def on_sequence_source() -> None:
    """Picking "Sample file" reads the selected sample at once: one click to a new sequence."""
    st.session_state[K.step] = 0
    if st.session_state[K.sequence_source] == "sample":
        on_sample_pick()


def on_sample_pick(reset_step: bool = True) -> None:
    name = st.session_state[K.sample_file]
    path = data.SAMPLE_FILES.get(name)  # an allow-list: a name that is not a shipped sample opens nothing
    if path is None:
        st.session_state[S.UPLOAD_ERROR] = f"{name[:60]!r} is not one of the sample files."
        return
    _read(path.read_bytes(), name, reset_step)


def on_read_options() -> None:
    """Read the last file again with the new NaN policy, normalisation or columns."""
    last = st.session_state.get(S.LAST_FILE)
    if last is not None:
        _read(*last)


def on_model_upload() -> None:
    ss = st.session_state
    f = ss[K.model_upload]
    if f is None:
        return
    try:
        ck = lstm_core.load_model(f.getvalue(), name=f.name)
    except lstm_core.LabError as e:
        ss[S.MODEL_UPLOAD_ERROR] = str(e)  # the previous model stays
        return
    ss[S.UPLOADED_MODEL] = ck
    ss[S.MODEL_UPLOAD_ERROR] = None
    ss[K.model_source] = "uploaded"
    ss[K.step] = 0


def draw_sequence_inputs(sb) -> None:
    """The sidebar's sequence file controls (upload, samples, reading options) and their messages."""
    ss = st.session_state
    source = ss[K.sequence_source]
    if source not in ("sample", "upload"):
        return
    from lstm_core.readers import FORMATS, NAN_POLICIES  # pandas, needed only for files

    if source == "sample" and ss[S.UPLOADED_SEQUENCES] is None and not ss[S.UPLOAD_ERROR]:
        on_sample_pick(reset_step=False)  # a link that says "sample file" shows it, at the link's step
    if source == "sample":
        sb.selectbox("Sample file", list(data.SAMPLE_FILES), key=K.sample_file, on_change=on_sample_pick,
                     help="Files in assets/sequences; the ones named bad_* show what the checks say.")
    elif source == "upload":
        sb.file_uploader("Sequence file", type=[e.lstrip(".") for e in FORMATS], key=K.sequence_upload,
                         on_change=on_sequence_upload,
                         help=" · ".join(f"{e}: {f.description}" for e, f in FORMATS.items()) +
                         f" · at most {MAX_UPLOAD_BYTES // 2**20} MB and {MAX_UPLOAD_STEPS:,} steps")
    if source in ("sample", "upload"):
        with sb.expander("Reading options"):
            st.radio("Missing values", list(NAN_POLICIES), key=K.nan_policy, on_change=on_read_options,
                     format_func=lambda p: f"{p}: {NAN_POLICIES[p]}")
            st.radio("Normalise", list(lstm_core.NORMALISATIONS), key=K.normalise_upload,
                     on_change=on_read_options, horizontal=True,
                     help="Fitted on the file itself. 'none' lets a trained model use its own training "
                          "normalisation.")
            st.text_input("Columns (comma-separated; empty = every numeric column)", key=K.upload_columns,
                          on_change=on_read_options)
        if ss.get(S.UPLOAD_ERROR):
            sb.error(plain(ss[S.UPLOAD_ERROR]), icon="⚠️")
        result = ss.get(S.UPLOADED_SEQUENCES)
        if result is not None:
            if result.batch_size > 1:
                sb.selectbox("Sequence in the file", range(result.batch_size), key=K.upload_sequence,
                             format_func=lambda b: f"{result.sequence_ids[b]} ({result.lengths[b]} steps)")
            sb.caption(plain(f"Showing {result.source}: {result.batch_size} sequence(s), {result.x.shape[-1]} "
                             "feature(s)."))


def draw_model_inputs(sb) -> None:
    ss = st.session_state
    if ss[K.model_source] != "uploaded":
        return
    sb.file_uploader("Model file (.pt or .npz)", type=["pt", "pth", "bin", "npz"], key=K.model_upload,
                     on_change=on_model_upload,
                     help="A checkpoint saved by this app (.npz or .pt), or a state_dict / whole torch.nn.LSTM, GRU "
                          "or RNN (single layer). Loaded without running any pickled code.")
    if ss.get(S.MODEL_UPLOAD_ERROR):
        sb.error(plain(ss[S.MODEL_UPLOAD_ERROR]), icon="⚠️")
    ck = ss.get(S.UPLOADED_MODEL)
    if ck is not None:
        sb.caption(plain(f"Using {ck.describe()} from {ck.source}. "
                         + " ".join(n[0].upper() + n[1:] + "." for n in ck.notes if n)))
