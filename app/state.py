"""The session-state schema: every key the pages use, its default, its allowed values, and which keys
live in the URL.

Widget keys are these names (never string literals in pages). A shared link carries the URL keys, so a
teacher can send a class straight to "copy task, GRU, step 57". The URL is read at one entry point,
`init()`: each value is checked against its field (one of the allowed values, a whole number in range,
a boolean); anything else falls back to the default and leaves a notice in plain words. Nothing a link
says can name a file: sample files are picked from an allow-list of names.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import streamlit as st

import lstm_core
from lstm_core.limits import MAX_STEPS

from .data import SAMPLE_FILES

SPEEDS = (1, 2, 5, 10, 20, 50)  # steps per second while playing
MAX_HIDDEN = 256
MAX_SEED = 2**31 - 1
# Train page (issue 13)
MAX_TRAIN_LENGTH, MAX_TRAIN_HIDDEN, MAX_TRAIN_SECONDS = 1000, 128, 600
TRAIN_INITS = ("chrono", "1", "0", "default")  # forget-gate initialisation (app/train_view.py: INITS says what each is)


@dataclass(frozen=True)
class Field:
    default: object
    choices: tuple = ()  # allowed values, if it is one of a list
    lo: int | None = None  # whole numbers: the allowed range
    hi: int | None = None
    url: bool = False  # carried in the address bar
    max_len: int = 200  # text

    def parse(self, raw: str):
        """The value a URL string stands for, or ValueError saying why not."""
        if isinstance(self.default, bool):
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError("is not true or false")
        if isinstance(self.default, int):
            try:
                value = int(raw.strip())
            except ValueError:
                raise ValueError("is not a whole number") from None
            return self.check(value)
        return self.check(raw)

    def check(self, value):
        if self.choices and value not in self.choices:
            shown = ", ".join(map(str, self.choices[:6])) + (", …" if len(self.choices) > 6 else "")
            raise ValueError(f"is not one of {shown}")
        if self.lo is not None and value < self.lo:
            raise ValueError(f"is below {self.lo}")
        if self.hi is not None and value > self.hi:
            raise ValueError(f"is above {self.hi:,}")
        if isinstance(value, str) and len(value) > self.max_len:
            raise ValueError(f"is longer than {self.max_len} characters")
        return value


SCHEMA = {
    # Explore: what runs
    "task": Field("adding", choices=tuple(lstm_core.TASKS), url=True),
    "model_source": Field("trained", choices=("trained", "random", "uploaded"), url=True),
    "cell": Field("lstm", choices=("lstm", "gru"), url=True),  # the main model; beside it always a vanilla RNN
    "variant": Field("vanilla", choices=tuple(lstm_core.VARIANTS), url=True),
    "hidden": Field(32, lo=1, hi=MAX_HIDDEN, url=True),  # random models
    "model_seed": Field(0, lo=0, hi=MAX_SEED, url=True),  # random models
    "sequence_source": Field("example", choices=("example", "sample", "upload"), url=True),
    "example_seed": Field(0, lo=0, hi=MAX_SEED, url=True),
    "example_length": Field(0, lo=0, hi=MAX_STEPS, url=True),  # 0: the length the model was trained on
    "sample_file": Field("sine.csv", choices=tuple(SAMPLE_FILES), url=True),
    # Explore: stepping and reading
    "step": Field(0, lo=0, hi=MAX_STEPS - 1, url=True),  # clamped to the sequence by the page
    "unit": Field(0, lo=0, hi=MAX_HIDDEN - 1, url=True),  # clamped to the model by the page
    "playing": Field(False),
    "speed": Field(5, choices=SPEEDS),  # steps per second while playing
    "layer_view": Field(False),  # the step in numbers for every unit (vectors) instead of one unit
    "text_colour": Field("c", choices=("c", "h"), url=True),  # a text input coloured by C_t or h_t
    "nudge_feature": Field(0, lo=0),
    "nudge_step": Field(0, lo=0),  # reset to the first marked step whenever the input changes
    # Uploads: the last good ones stay until a new good one arrives
    "nan_policy": Field("refuse", choices=("refuse", "drop", "ffill")),
    "normalise_upload": Field("none", choices=tuple(lstm_core.NORMALISATIONS)),
    "upload_columns": Field("", max_len=500),
    "upload_sequence": Field(0, lo=0),  # which sequence of a multi-sequence file is shown
    "plotly_figures": Field(False),  # plotly versions of the heatmaps (slower; for zoom and plotly's export)
    # --- Train page (issue 13; app/pages/train.py): what to train and how. Kept out of the URL (a link opens
    # the page's defaults); widget keys are these names. Model slots 1-3: slot 1 always trains, "none" skips 2, 3.
    "train_task": Field("copy", choices=tuple(lstm_core.TASKS)),
    "train_length": Field(0, lo=0, hi=MAX_TRAIN_LENGTH),  # 0: the task's own (delayed recall: from the delay)
    "train_delay": Field(50, lo=0, hi=MAX_TRAIN_LENGTH - 11),  # delayed recall: blank steps (k = 5 symbols)
    "train_horizon": Field(10, lo=1, hi=50),  # sine forecasting: steps ahead
    **{f"train_model_{n}": Field(kind, choices=("lstm", "gru", "rnn") + (("none",) if n > 1 else ()))
       for n, kind in ((1, "lstm"), (2, "gru"), (3, "rnn"))},
    **{f"train_variant_{n}": Field("vanilla", choices=tuple(lstm_core.VARIANTS)) for n in (1, 2, 3)},
    **{f"train_hidden_{n}": Field(32, lo=1, hi=MAX_TRAIN_HIDDEN) for n in (1, 2, 3)},
    "train_init": Field("chrono", choices=TRAIN_INITS),  # the forget gate's (GRU: update gate's) initial bias
    "train_chrono_max": Field(0, lo=0, hi=MAX_STEPS),  # chrono's T_max; 0: the task's longest dependency
    "train_lr": Field(0.01, choices=(0.001, 0.003, 0.01, 0.03, 0.1)),
    "train_clip": Field(1.0, choices=(0.0, 0.25, 0.5, 1.0, 2.0, 5.0)),  # 0: no clipping
    "train_dropout": Field(0.0, choices=(0.0, 0.1, 0.2, 0.3, 0.5)),
    "train_patience": Field(12, lo=1, hi=10_000),  # early stopping
    "train_epochs": Field(200, lo=1, hi=10_000),
    "train_seconds": Field(30, lo=1, hi=MAX_TRAIN_SECONDS),
    "train_n": Field(4000, choices=(250, 500, 1000, 2000, 4000, 8000)),  # training sequences
    "train_seed": Field(0, lo=0, hi=MAX_SEED),
    "train_gate_epoch": Field(0, lo=0),  # the epoch the saturation scatter shows once training is over (0: last)
    # --- end of the Train page's block
}
# File uploaders: widget keys that session state cannot be given values for.
FILE_WIDGETS = ("sequence_upload", "model_upload")
# Components: their keys, here so that no page spells them.
COMPONENTS = ("step_bridge", "trace_view", "step_view", "memory_follower", "text_view")
TRAIN_WIDGETS = ("train_stop", "train_open", "train_get")  # Train page (issue 13): buttons, no state
KEYS = SimpleNamespace(**{k: k for k in (*SCHEMA, *FILE_WIDGETS, *COMPONENTS, *TRAIN_WIDGETS)})  # K.task == "task"
URL_KEYS = tuple(k for k, f in SCHEMA.items() if f.url)

# Values the app keeps between runs that are not widgets, with their defaults.
STATE_READY = "_state_ready"  # init() has read the URL once
NOTICES = "_notices"  # plain-text notices for the user (e.g. a link value that was ignored), shown once
PLAY_FROM = "_play_from"  # (wall time, step) when Play started: playing follows the clock, not the ticks
PLAY_CHANGED = "_play_changed"  # Play / Pause was asked for: a full run starts or stops the stepping timer
SEEK_ACK = "_seek_ack"  # the number of the last step request from the browser that has been applied
NUDGE_FOR = "_nudge_for"  # the input whose memory chart the nudged step was chosen for
LAST_FILE = "_last_sequence_file"  # (bytes, name) of the last file, to re-read it with other options
UPLOADED_SEQUENCES = "uploaded_sequences"
UPLOADED_MODEL = "uploaded_model"
UPLOAD_ERROR = "upload_error"
MODEL_UPLOAD_ERROR = "model_upload_error"
BOOKKEEPING = {STATE_READY: False, NOTICES: (), PLAY_FROM: None, PLAY_CHANGED: False, SEEK_ACK: 0, NUDGE_FOR: None,
               LAST_FILE: None, UPLOADED_SEQUENCES: None, UPLOADED_MODEL: None, UPLOAD_ERROR: None,
               MODEL_UPLOAD_ERROR: None}


def read_url(params: dict) -> tuple[dict, list[str]]:
    """The URL's values that pass their field's check, and a notice for each one that does not."""
    values, notices = {}, []
    for key, raw in params.items():
        field = SCHEMA.get(key)
        if field is None or not field.url:
            notices.append(f"The link's parameter {key[:40]!r} is not one this page knows; it was ignored.")
            continue
        try:
            values[key] = field.parse(str(raw))
        except ValueError as e:
            notices.append(f"The link's value {str(raw)[:60]!r} for {key!r} {e}; using {field.default!r} instead.")
    return values, notices


def init() -> None:
    """Fill in missing keys: from the URL on the session's first run, else the default. Keys that exist
    are written back, which keeps widget values when the user visits another page and returns."""
    ss = st.session_state
    first = not ss.get(STATE_READY)
    url, notices = read_url({k: st.query_params[k] for k in st.query_params}) if first else ({}, [])
    for key, field in SCHEMA.items():
        if key in ss:
            ss[key] = ss[key]
        else:
            ss[key] = url.get(key, field.default)
    for key, default in BOOKKEEPING.items():
        ss.setdefault(key, default)
    if notices:
        ss[NOTICES] = tuple(notices)
    ss[STATE_READY] = True


def clamp(key: str, hi: int) -> int:
    """Keep a whole-number key inside 0..hi (e.g. the step inside a shorter sequence); returns it."""
    value = max(0, min(int(st.session_state[key]), hi))
    if value != st.session_state[key]:
        st.session_state[key] = value
    return value


def sync_url() -> None:
    """Put the URL keys that differ from their defaults into the address bar (on a full run). The step
    is written by the browser's step bridge, which knows it first (app/stepping.py)."""
    ss = st.session_state
    wanted = {k: str(ss[k]) for k in URL_KEYS if k != "step" and ss.get(k, SCHEMA[k].default) != SCHEMA[k].default}
    current = {k: st.query_params[k] for k in st.query_params}
    if wanted != current:
        st.query_params.from_dict(wanted)
