"""The session-state schema: every key the pages use, its default, and which keys live in the URL.

Widget keys are these names (never string literals in pages). A shared link carries the URL keys, so a
teacher can send a class straight to "copy task, GRU, step 57".
"""

from __future__ import annotations

from types import SimpleNamespace

import streamlit as st

# key -> default
SCHEMA = {
    # Explore: what runs
    "task": "adding",
    "model_source": "trained",  # trained | random | uploaded
    "cell": "lstm",  # lstm | gru (the main model; the comparison is always a vanilla RNN)
    "variant": "vanilla",
    "hidden": 32,  # random models
    "model_seed": 0,  # random models
    "sequence_source": "example",  # example | sample | upload
    "example_seed": 0,
    "example_length": 0,  # 0: the length the model was trained on
    "sample_file": "sine.csv",
    # Explore: stepping and reading
    "step": 0,
    "unit": 0,
    "playing": False,
    "speed": 5,  # steps per second while playing
    "layer_view": False,  # the step in numbers for every unit (vectors) instead of one unit
    "nudge_feature": 0,
    "nudge_step": 0,  # reset to the first marked step whenever the input changes
    # Uploads (issue 5): the last good ones stay until a new good one arrives
    "nan_policy": "refuse",
    "normalise_upload": "none",
    "upload_columns": "",
    "upload_sequence": 0,  # which sequence of a multi-sequence file is shown
    "plotly_figures": False,  # show plotly versions of the heatmaps (slower; for zoom and plotly's export)
}
# File uploaders: widget keys that session state cannot be given values for.
FILE_WIDGETS = ("sequence_upload", "model_upload")
KEYS = SimpleNamespace(**{k: k for k in (*SCHEMA, *FILE_WIDGETS)})  # S.KEYS.task == "task": typos fail loudly
URL_KEYS = ("task", "model_source", "cell", "variant", "hidden", "model_seed", "sequence_source", "example_seed",
            "example_length", "sample_file", "step", "unit")
# Values the app keeps between runs that are not widgets (parsed uploads, messages, bookkeeping).
STATE_READY = "_state_ready"  # init() has read the URL once
TIMER_TICK = "_timer_tick"  # the next stepping-fragment run, if no widget moved, is a play-timer tick
PLAY_CHANGED = "_play_changed"  # Play was toggled: a full run restarts or stops the timer
NUDGE_FOR = "_nudge_for"  # the input whose memory chart the nudged step was chosen for
LAST_FILE = "_last_sequence_file"  # (bytes, name) of the last file, to re-read it with other options
UPLOADED_SEQUENCES = "uploaded_sequences"
UPLOADED_MODEL = "uploaded_model"
UPLOAD_ERROR = "upload_error"
MODEL_UPLOAD_ERROR = "model_upload_error"


def _parse(value: str, default):
    if isinstance(default, bool):
        return value.lower() in ("1", "true", "yes")
    if isinstance(default, int):
        return int(value)
    return value


def init() -> None:
    """Fill in missing keys: from the URL on the first run where it says so, else the default. Keys that
    exist are written back, which keeps widget values when the user visits another page and returns."""
    first = not st.session_state.get(STATE_READY)
    params = st.query_params
    for key, default in SCHEMA.items():
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
            continue
        value = default
        if first and key in URL_KEYS and key in params:
            try:
                value = _parse(params[key], default)
            except ValueError:
                value = default
        st.session_state[key] = value
    st.session_state[STATE_READY] = True


def sync_url() -> None:
    """Put the URL keys that differ from their defaults into the address bar."""
    wanted = {k: str(st.session_state[k]) for k in URL_KEYS if st.session_state.get(k, SCHEMA[k]) != SCHEMA[k]}
    current = {k: st.query_params[k] for k in st.query_params}
    if wanted != current:
        st.query_params.from_dict(wanted)
