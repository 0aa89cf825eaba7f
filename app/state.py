"""The session-state schema: every key the pages use, its default, its allowed values, and which keys
live in the URL.

Widget keys are these names (never string literals in pages). A shared link carries the URL keys, so a
teacher can send a class straight to "copy task, GRU, step 57". The URL is read at one entry point,
`init()`: each value is checked against its field (one of the allowed values, a whole number in range,
a boolean); anything else falls back to the default and leaves a notice in plain words. Nothing a link
says can name a file: sample files are picked from an allow-list of names.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import streamlit as st

import lstm_core
from lstm_core import presets
from lstm_core.limits import MAX_STEPS

from .data import SAMPLE_FILES
from .lesson import STOPS

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
    pattern: str = ""  # text: a regular expression the whole value must match
    digits: int = 1  # numbers with a fraction: rounded to this many decimals (a slider's step)
    derive: Callable | None = None  # a default that depends on other keys' values: derive(values) -> default

    def default_in(self, values) -> object:
        """The default given the other keys' current values (e.g. a hand-set weight defaults to its preset's)."""
        return self.default if self.derive is None else self.derive(values)

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
        if isinstance(self.default, float):
            try:
                value = float(raw.strip())
            except ValueError:
                raise ValueError("is not a number") from None
            if not math.isfinite(value):
                raise ValueError("is not a finite number")
            return self.check(round(value, self.digits) + 0.0)  # + 0.0: no "-0.0"
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
        if self.pattern and not re.fullmatch(self.pattern, str(value)):
            raise ValueError("is not in the expected form")
        return value


SCHEMA = {
    # Explore: what runs
    "task": Field("adding", choices=tuple(lstm_core.TASKS), url=True),
    "model_source": Field("trained", choices=("trained", "random", "uploaded", "handset"), url=True),
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
    # The Memory page
    "memory_step": Field(-1, lo=-1, hi=MAX_STEPS - 1, url=True),  # the changed input; -1: the first marked step
    "memory_mode": Field("zero", choices=("zero", "perturb"), url=True),
    "memory_state": Field("h", choices=("h", "c"), url=True),  # the state probed and projected
    "memory_unit": Field(0, lo=0, hi=MAX_HIDDEN - 1, url=True),  # the unit colouring a text
    "probe_kind": Field("linear", choices=("linear", "mlp"), url=True),
    # the delayed symbol (delayed recall): which probe, read off which state, at which step (lstm_core.RECALL_AT)
    "recall_kind": Field("logistic", choices=("logistic", "softmax_mlp", "linear"), url=True),
    "recall_state": Field("h", choices=("h", "c", "both"), url=True),  # both: h and C side by side
    "recall_at": Field("recall", choices=("recall", "go", "delay"), url=True),
    "clamp": Field("freeze", choices=("freeze", "forget", "no_write", "reveal", "custom"), url=True),
    "clamp_gate": Field("f", choices=("f", "i", "g", "o"), url=True),  # custom: this gate ...
    "clamp_value": Field(100, lo=0, hi=100, url=True),  # ... held at this value, in percent
    "clamp_units": Field("all", max_len=200, url=True, pattern=r"all|\d{1,3}( *, *\d{1,3})*"),  # or e.g. "0, 3, 5"
    "clamp_from": Field(-1, lo=-1, hi=MAX_STEPS - 1, url=True),  # -1: from the step after the last mark
    "clamp_to": Field(0, lo=0, hi=MAX_STEPS, url=True),  # 0: to the end
    # The Memory page's delay sweep (app/sweep_view.py): the delay, seed and epochs of a rerun of the three models
    "sweep_delay": Field(50, lo=1, hi=500, url=True),  # blank steps (a log axis: at least 1)
    "sweep_seed": Field(0, lo=0, hi=MAX_SEED),
    "sweep_epochs": Field(0, lo=0, hi=10_000),  # 0: the shipped sweep's budget at that delay
    # Classroom (issue 15): the lesson, presentation mode, hand-set weights. All in the URL but the answer a
    # student picks, so a shared link never gives a question's answer away.
    "stop": Field(0, lo=0, hi=len(STOPS) - 1, url=True),  # the lesson's stop (app/lesson.py)
    "lesson_answer": Field(None),  # the choice picked at this stop (None: not yet; the answer is hidden)
    "present": Field(False, url=True),  # presentation mode: large type, thick lines, no sidebar
    "preset": Field("latch", choices=tuple(presets.PRESETS), url=True),  # the hand-set one-unit LSTM
    "forget_shift": Field(0.0, lo=-10, hi=10, url=True),  # added to the forget-gate bias b_f of the main LSTM
    **{f"hand_{g}_{c}": Field(0.0, lo=-presets.LIMIT, hi=presets.LIMIT, url=True,
                              derive=lambda v, g=g, c=c: presets.preset(v["preset"]).weight(g, c))
       for g in presets.GATES for c in presets.COLUMNS},  # the hand-set unit's weights; default: its preset's
    # --- Train page (issue 13; app/screens/train.py): what to train and how. Kept out of the URL (a link opens
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
HAND_KEYS = {(g, c): f"hand_{g}_{c}" for g in presets.GATES for c in presets.COLUMNS}
# File uploaders: widget keys that session state cannot be given values for.
FILE_WIDGETS = ("sequence_upload", "model_upload")
# Components: their keys, here so that no page spells them.
COMPONENTS = ("step_bridge", "trace_view", "step_view", "memory_follower", "text_view", "clamp_view",
              "memory_text_view")
TRAIN_WIDGETS = ("train_stop", "train_open", "train_get")  # Train page (issue 13): buttons, no state
# Expanders whose contents are drawn only while open (app/sections.py `opened`): their open state.
EXPANDERS = ("data_open", "exports_open", "handout_open", "notes_open")
SWEEP_WIDGETS = ("sweep_run", "sweep_stop")  # the Memory page's delay sweep: buttons, no state
# K.task == "task"
KEYS = SimpleNamespace(**{k: k for k in (*SCHEMA, *FILE_WIDGETS, *COMPONENTS, *TRAIN_WIDGETS, *EXPANDERS,
                                           *SWEEP_WIDGETS)})
URL_KEYS = tuple(k for k, f in SCHEMA.items() if f.url)

# Values the app keeps between runs that are not widgets, with their defaults.
STATE_READY = "_state_ready"  # init() has read the URL once
NOTICES = "_notices"  # plain-text notices for the user (e.g. a link value that was ignored), shown once
PLAY_FROM = "_play_from"  # (wall time, step) when Play started: playing follows the clock, not the ticks
PLAY_CHANGED = "_play_changed"  # Play / Pause was asked for: a full run starts or stops the stepping timer
SEEK_ACK = "_seek_ack"  # the number of the last step request from the browser that has been applied
NUDGE_FOR = "_nudge_for"  # the input whose memory chart the nudged step was chosen for
MEMORY_READY = "_memory_ready"  # the session's first page has drawn: Explore's memory chart is drawn at once
LESSON_SEEN = "_lesson_seen"  # the lesson stop whose view (step, unit, weights) was last set up
LINK_KEYS = "_link_keys"  # the keys the session's link carried, until the first page has drawn (sync_url)
SAVED = "_saved"  # every schema key's value at the start of the run: what a page switch drops comes back from here
LAST_FILE = "_last_sequence_file"  # (bytes, name) of the last file, to re-read it with other options
UPLOADED_SEQUENCES = "uploaded_sequences"
UPLOADED_MODEL = "uploaded_model"
UPLOAD_ERROR = "upload_error"
MODEL_UPLOAD_ERROR = "model_upload_error"
SWEEP_MINE = "_sweep_mine"  # this session's delay-sweep reruns: {job id: lstm_core SweepPoint}
BOOKKEEPING = {STATE_READY: False, NOTICES: (), PLAY_FROM: None, PLAY_CHANGED: False, SEEK_ACK: 0, NUDGE_FOR: None,
               MEMORY_READY: False, LAST_FILE: None, UPLOADED_SEQUENCES: None, UPLOADED_MODEL: None, UPLOAD_ERROR: None,
               MODEL_UPLOAD_ERROR: None, LESSON_SEEN: None, LINK_KEYS: (), SAVED: None, SWEEP_MINE: None}


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
            fallback = "its default" if field.derive else repr(field.default)
            notices.append(f"The link's value {str(raw)[:60]!r} for {key!r} {e}; using {fallback} instead.")
    return values, notices


def init() -> None:
    """Fill in missing keys: from the URL on the session's first run, else the default. Keys that exist
    are written back, which keeps widget values when the user visits another page and returns."""
    ss = st.session_state
    first = not ss.get(STATE_READY)
    url, notices = read_url({k: st.query_params[k] for k in st.query_params}) if first else ({}, [])
    saved = ss.get(SAVED) or {}
    for key, field in SCHEMA.items():
        try:  # `key in ss` can be true for a widget the last run did not draw while reading it fails
            ss[key] = ss[key]
        except KeyError:
            if key in saved:  # its widget was not drawn last run (another page): Streamlit dropped it
                ss[key] = saved[key]
            else:
                ss[key] = url.get(key, field.default_in(ss))
    ss[SAVED] = {key: ss[key] for key in SCHEMA}
    for key, default in BOOKKEEPING.items():
        ss.setdefault(key, default)
    if notices:
        ss[NOTICES] = tuple(notices)
    if first:
        ss[LINK_KEYS] = tuple(url)
    ss[STATE_READY] = True


def clamp(key: str, hi: int, lo: int = 0) -> int:
    """Keep a whole-number key inside lo..hi (e.g. the step inside a shorter sequence); returns it."""
    value = max(lo, min(int(st.session_state[key]), hi))
    if value != st.session_state[key]:
        st.session_state[key] = value
    return value


def sync_url() -> None:
    """Put the URL keys that differ from their defaults into the address bar (on a full run). The step
    is written by the browser's step bridge, which knows it first (app/stepping.py)."""
    ss = st.session_state
    ss[LINK_KEYS] = ()  # the first page has drawn: a link's values no longer override a page's own set-up
    wanted = {k: str(ss[k]) for k in URL_KEYS
              if k != "step" and ss.get(k, SCHEMA[k].default) != SCHEMA[k].default_in(ss)}
    current = {k: st.query_params[k] for k in st.query_params}
    if wanted != current:
        st.query_params.from_dict(wanted)


def through_the_entry_point() -> None:
    """Call first in every page: a page switch drops the values of the widgets drawn on other pages (the
    sidebar's task, Explore's unit, ...) after init() has run; they come back here from SAVED, so Explore
    keeps its view while the Lesson or the Memory page is open, and the link keeps carrying it. (Page
    scripts live in app/screens/, not app/pages/, so a deep link on a fresh server runs the entry point
    first: Streamlit would run a pages/ file on its own.)"""
    ss = st.session_state
    for key, value in (ss.get(SAVED) or {}).items():
        if key not in ss:
            ss[key] = value
