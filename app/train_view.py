"""The Train page's parts: the settings, the live fragment (status, progress, charts), the results with their
Open on Explore and downloads, and the keep-alive that lets a session's training go on while it looks at
another page.

Every training runs in a process of app/training_jobs.py's pool; this module only reads session state,
submits configurations, and draws what the jobs have reported. Every string shown goes through app.text.plain.
"""

from __future__ import annotations

import dataclasses

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

import lstm_core
from lstm_core.limits import MAX_STEPS

from . import state as S
from . import train_figures as F
from . import training_jobs
from .text import plain

K = S.KEYS
POLL_SECONDS = 0.5  # the live fragment's period while a session's models train
KEEP_ALIVE_SECONDS = 5.0  # on other pages, well inside the pool's heartbeat (15 s)
EXPLORE = "screens/explore.py"
TRAIN = "screens/train.py"
MEMORY = "screens/memory.py"
# The Memory page's delay-sweep reruns are the session's second set of jobs, under its id plus this suffix: the
# two sets never replace each other, and the pool's heartbeat (the id before the "/") keeps both alive.
SWEEP_SUFFIX = "/delay-sweep"
KINDS = {"lstm": "LSTM", "gru": "GRU", "rnn": "vanilla RNN", "none": "no model"}
INITS = {"chrono": "chrono (Tallec & Ollivier 2018): b_f ~ log U[1, T_max − 1] per unit, b_i = −b_f",
         "1": "bias 1 (Jozefowicz et al. 2015)",
         "0": "bias 0",
         "default": "the command line's default: LSTM 1 (delayed recall 3), GRU torch's own"}
INIT_VALUES = {"chrono": "chrono", "1": 1.0, "0": 0.0}


def through_entry_point() -> None:
    """Call first: the values of widgets drawn on other pages, which a page switch dropped, come back
    (state.through_the_entry_point; the page scripts live in app/screens/, so a deep link runs the entry point)."""
    S.through_the_entry_point()


def session_id() -> str:
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "no session"


# ---------------------------------------------------------------------------------------------------------
# Settings (in the sidebar, as on Explore: the sidebar picks what runs)


def task_settings(disabled: bool) -> tuple[int | None, dict]:
    """The task and its own settings (length, delay, horizon): (length or None, task_params)."""
    sb = st.sidebar
    sb.header(plain("What to learn"))
    sb.selectbox(plain("Task"), list(lstm_core.TASKS), key=K.train_task, disabled=disabled,
                 format_func=lambda t: lstm_core.TASKS[t].title)  # options are shown as text, not Markdown
    task = st.session_state[K.train_task]
    params = {}
    c1, c2 = sb.columns(2)
    if task == "copy":
        c1.number_input(plain("Delay in blank steps"), 0, S.SCHEMA["train_delay"].hi, key=K.train_delay,
                        disabled=disabled, help=plain("5 symbols, this many blank steps, a go cue, the 5 back."))
        params["delay"] = int(st.session_state[K.train_delay])
        length = None
    else:
        c1.number_input(plain("Length T"), 0, S.MAX_TRAIN_LENGTH, key=K.train_length, disabled=disabled,
                        help=plain(f"Steps per sequence; 0: the task's own, {lstm_core.TASKS[task].default_length}."))
        length = int(st.session_state[K.train_length]) or None
    if task == "sine":
        c2.number_input(plain("Horizon in steps"), 1, 50, key=K.train_horizon, disabled=disabled)
        params["horizon"] = int(st.session_state[K.train_horizon])
    return length, params


def model_settings(disabled: bool) -> list[int]:
    """Up to three models side by side; returns the slots that train."""
    sb = st.sidebar
    sb.header(plain("Side by side"))
    slots = []
    for n in (1, 2, 3):
        kind_key, variant_key, hidden_key = f"train_model_{n}", f"train_variant_{n}", f"train_hidden_{n}"
        c1, c2 = sb.columns([3, 2])
        c1.selectbox(plain(f"Model {n}"), S.SCHEMA[kind_key].choices, key=kind_key, disabled=disabled,
                     format_func=KINDS.get)
        kind = st.session_state[kind_key]
        if kind == "none":
            continue
        slots.append(n)
        c2.number_input(plain("Hidden units"), 1, S.MAX_TRAIN_HIDDEN, key=hidden_key, disabled=disabled)
        if kind == "lstm":
            sb.selectbox(plain(f"Model {n} LSTM variant"), list(lstm_core.VARIANTS), key=variant_key,
                         disabled=disabled, format_func=lambda v: f"{v}: {lstm_core.VARIANTS[v]}",
                         help=plain("Greff et al. 2017: the same cell with one part removed or coupled."))
    return slots


def options(disabled: bool) -> None:
    sb = st.sidebar
    sb.header(plain("How they learn"))
    sb.radio(plain("Forget gate initialisation"), S.TRAIN_INITS, key=K.train_init,
             format_func=lambda v: plain(INITS[v]), disabled=disabled,
             help=plain("The initial bias of the LSTM's forget gate f and the GRU's update gate z. A large bias keeps "
                        "memory from the start. In torch's GRU h_t = (1 − z) n + z h_{t−1}, so z takes the forget "
                        "gate's bias with the same sign. The RNN has no gate."))
    if st.session_state[K.train_init] == "chrono":
        sb.number_input(plain("Chrono T max in steps"), 0, MAX_STEPS, key=K.train_chrono_max,
                        disabled=disabled, help=plain("The longest memory chrono prepares for; 0: the task's longest "
                                                      "dependency."))
    c1, c2 = sb.columns(2)
    cap = training_jobs.pool().max_seconds
    c1.number_input(plain("Time budget in seconds"), 1, S.MAX_TRAIN_SECONDS, key=K.train_seconds,
                    disabled=disabled,
                    help=plain(f"This server gives a training at most {cap:.0f} s." if cap < S.MAX_TRAIN_SECONDS
                               else "Training stops when it is spent, keeping the best epoch's weights."))
    c2.number_input(plain("At most epochs"), 1, 10_000, key=K.train_epochs, disabled=disabled)
    c1.number_input(plain("Early stopping patience"), 1, 10_000, key=K.train_patience, disabled=disabled,
                    help=plain("Stop after this many epochs without a better validation score."))
    c2.number_input(plain("Seed"), 0, S.MAX_SEED, key=K.train_seed, disabled=disabled,
                    help=plain("The same seed for every model: the same data, the same order of batches."))
    sb.select_slider(plain("Learning rate"), S.SCHEMA["train_lr"].choices, key=K.train_lr, disabled=disabled,
                     help=plain("Adam's step size."))
    sb.select_slider(plain("Gradient clipping"), S.SCHEMA["train_clip"].choices, key=K.train_clip,
                     disabled=disabled, help=plain("The largest gradient norm; 0 turns clipping off."))
    sb.select_slider(plain("Dropout"), S.SCHEMA["train_dropout"].choices, key=K.train_dropout, disabled=disabled,
                     help=plain("On the cell's inputs and outputs."))
    sb.select_slider(plain("Training sequences"), S.SCHEMA["train_n"].choices, key=K.train_n, disabled=disabled)


def label(cfg: lstm_core.TrainConfig) -> str:
    """'LSTM (vanilla, 32 units)': what a model is, as the charts' legends and the results' columns name it."""
    kind = lstm_core.CELLS[cfg.model]
    extra = f"{cfg.variant}, " if len(kind.variants) > 1 else ""
    return f"{kind.label} ({extra}{cfg.hidden_size} units)"


def configs(slots: list[int], length: int | None, params: dict, span: int) -> list[tuple[str, dict]]:
    """(label, TrainConfig as a dict) per model slot; a LabError if a setting is refused. span: the task's longest
    dependency, chrono's T_max unless one is given (written into the config, so the results can say it)."""
    ss = st.session_state
    init = ss[K.train_init]
    common = dict(length=length, task_params=params, lr=float(ss[K.train_lr]), clip=float(ss[K.train_clip]),
                  dropout=float(ss[K.train_dropout]), patience=int(ss[K.train_patience]),
                  max_epochs=int(ss[K.train_epochs]), max_seconds=float(ss[K.train_seconds]),
                  n_train=int(ss[K.train_n]), seed=int(ss[K.train_seed]))
    if init in INIT_VALUES:
        common["forget_bias"] = INIT_VALUES[init]
    if init == "chrono":
        common["chrono_max"] = int(ss[K.train_chrono_max]) or span
    out = []
    for n in slots:
        cfg = lstm_core.TrainConfig.for_task(ss[K.train_task], model=ss[f"train_model_{n}"],
                                             variant=ss[f"train_variant_{n}"], hidden_size=int(ss[f"train_hidden_{n}"]),
                                             **common)
        out.append((label(cfg), dataclasses.asdict(cfg)))
    names = [name for name, _ in out]
    return [(f"{name}, model {n}" if names.count(name) > 1 else name, cfg)
            for n, (name, cfg) in zip(slots, out, strict=True)]


# ---------------------------------------------------------------------------------------------------------
# While training runs and after


def status(views) -> None:
    if not views:
        return  # and no pool: making one starts its forkserver, which imports torch (seconds of a core)
    pool = training_jobs.pool()  # the one the views came from
    for v in views:
        c1, c2 = st.columns([2, 3], vertical_alignment="center")
        c1.markdown(plain(v.label))
        budget, epochs = v.config["max_seconds"], v.config["max_epochs"]
        n, last = len(v.epochs), (v.epochs[-1] if v.epochs else None)
        best = f" · best validation {last['metric']} {_best(v):.3f}" if last else ""
        if v.state == "queued":
            text, frac = (f"waiting: number {v.position} in the server's queue ({pool.workers} trainings run at "
                          "once)"), 0.0
        elif v.state == "starting":
            text, frac = "starting", 0.0
        elif v.state in ("running", "stopping"):
            frac = min(1.0, max(n / epochs, v.elapsed / budget))
            text = (f"epoch {n} of at most {epochs} · {v.elapsed:.0f} s, {max(0.0, budget - v.elapsed):.0f} s of the "
                    f"{budget:.0f} s budget left{best}")
            if v.state == "stopping":
                text = f"stopping ({v.stop_why}): keeping the best epoch's weights · {text}"
        elif v.state == "done":
            r = v.result
            frac, text = 1.0, (f"{r['stop_reason']} after {r['metrics']['epochs']} epochs, {r['seconds']:.1f} s · best "
                               f"validation {r['metrics']['metric']} {r['metrics']['val_metric']:.3f}")
        elif v.state == "cancelled":
            frac, text = 0.0, f"not started ({v.stop_why})"
        else:
            frac, text = 0.0, f"failed: {v.error}"
        c2.progress(frac, text=plain(text, limit=600))


def _best(v) -> float:
    values = [r["val_metric"] for r in v.epochs]
    return max(values) if F.HIGHER_IS_BETTER.get(v.epochs[-1]["metric"], True) else min(values)


def charts(views, live: bool) -> None:
    labels = [v.label for v in views]
    rows = F.curve_rows(views)
    if rows:
        first = next(v.epochs[0] for v in views if v.epochs)
        baseline = next((v.result["metrics"]["baseline"] for v in views if v.result), None)
        st.vega_lite_chart(F.table(rows, F.CURVE_TYPES), F.curves_spec(labels, first["metric"], baseline))
    epoch = None
    if not live:
        ends = sorted({e for v in views for e, _ in v.frames})
        if len(ends) > 1:
            wanted = int(st.session_state[K.train_gate_epoch])
            st.session_state[K.train_gate_epoch] = wanted if wanted in ends else ends[-1]
            st.select_slider(plain("Epoch shown in the saturation picture"), ends, key=K.train_gate_epoch)
            epoch = int(st.session_state[K.train_gate_epoch])
    sat, shown = F.saturation_rows(views, epoch)
    if sat:
        st.markdown(plain("Gate saturation (Karpathy et al. 2015): each dot a unit; right: mostly closed (< 0.1), "
                          "up: mostly open (> 0.9). Forget-gate units high up keep their memory."))
        st.caption(plain(" · ".join(f"{k}: epoch {e}" for k, e in shown.items())))
        panels = list(dict.fromkeys(r["panel"] for r in sat))
        st.vega_lite_chart(F.table(sat, F.SATURATION_TYPES), F.saturation_spec(labels, panels))


def results(views) -> None:
    done = [v for v in views if v.result is not None]
    st.subheader(plain("Results"))
    st.caption(plain("The best epoch's weights, scored on the held-out validation data; latency: one step of a "
                     "10,000-step sequence, torch forward."))
    table = F.results_table(views, {v.id: v.result["checkpoint_object"] for v in done})
    st.table({plain(model): {plain(k): plain(v) for k, v in col.items()}  # st.table renders every cell as Markdown
              for model, col in table.items()})
    task = st.session_state[K.train_task]
    for v in done:
        ck = v.result["checkpoint_object"]
        c1, c2, c3 = st.columns([3, 2, 2], vertical_alignment="center")
        c1.markdown(plain(v.label))
        if c2.button(plain("Open on Explore"), key=f"{K.train_open}_{v.id}", help=plain(f"{v.label} on Explore")):
            open_on_explore(ck, ck.task["name"] if ck.task else task)
        c3.download_button(plain("Download checkpoint (.npz)"), v.result["checkpoint"], key=f"{K.train_get}_{v.id}",
                           file_name=file_name(v.config), on_click="ignore")


def file_name(cfg: dict) -> str:
    variant = f"-{cfg['variant']}" if len(lstm_core.CELLS[cfg["model"]].variants) > 1 else ""
    return f"{cfg['task']}-{cfg['model']}{variant}-h{cfg['hidden_size']}-seed{cfg['seed']}.npz"


def open_on_explore(ck, task: str) -> None:
    """Show a trained model on Explore: as the uploaded model, on its own task's input."""
    ss = st.session_state
    for key, field in S.SCHEMA.items():  # Explore's widgets' values were dropped while this page ran
        ss.setdefault(key, field.default)
    ss[S.UPLOADED_MODEL], ss[S.MODEL_UPLOAD_ERROR] = ck, None
    ss[K.task], ss[K.model_source], ss[K.sequence_source] = task, "uploaded", "example"
    ss[K.example_length], ss[K.step] = 0, 0
    if ck.kind in S.SCHEMA["cell"].choices:
        ss[K.cell] = ck.kind
    ss[K.variant] = ck.variant
    st.switch_page(EXPLORE)


def live(session: str, active: bool) -> None:
    """The jobs' status, progress and charts; polled every POLL_SECONDS while any job is active (which is also
    the session's heartbeat), drawn once with the results when all are done."""

    @st.fragment(run_every=POLL_SECONDS if active else None)
    def fragment() -> None:
        pool = training_jobs.pool()
        pool.touch(session)
        views = pool.views(session)
        if not views:
            return
        running = any(v.active for v in views)
        if running and st.button(plain("■ Stop (keeps each model's best weights)"), key=K.train_stop):
            pool.stop(session)
            views = pool.views(session)
        if running != active:
            st.rerun()  # started or all done: a full run starts or stops this fragment's timer
        status(views)
        charts(views, live=running)
        if not running:
            results(views)

    fragment()


@st.fragment(run_every=KEEP_ALIVE_SECONDS)
def _keep_alive(session: str, here: str) -> None:
    pool = training_jobs.existing()
    if pool is None:
        return
    pool.touch(session)
    n = sum(v.active for v in pool.views(session))
    if n:
        st.caption(plain(f"Training {n} model(s): it goes on while you look around."))
        st.page_link(TRAIN, label=plain("Back to Train"), icon=":material/model_training:")
    n = sum(v.active for v in pool.views(session + SWEEP_SUFFIX))
    if n and here != "memory":  # on the Memory page, the sweep's own section shows them
        st.caption(plain(f"Rerunning the delay sweep: {n} model(s) train while you look around."))
        st.page_link(MEMORY, label=plain("Back to Memory"), icon=":material/memory:")


def keep_alive(here: str = "") -> None:
    """On pages other than Train (`here`: the page's url path): keep the session's trainings alive (the pool
    stops a quiet session's jobs), with a link back to the page that started them."""
    pool = training_jobs.existing()
    session = session_id()
    if pool is not None and (pool.has_active(session) or pool.has_active(session + SWEEP_SUFFIX)):
        with st.sidebar:
            _keep_alive(session, here)
