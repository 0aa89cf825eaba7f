"""The Memory page's delay sweep: the shipped results (assets/sweeps/, made by `python -m lstm_core sweep`) as
accuracy against delay, where each model falls to chance in words, and a rerun of the three models at one chosen
delay in the background.

The rerun trains in app/training_jobs.py's pool, as the Train page does (never on the script thread), under the
session's id plus SWEEP_SUFFIX: the Train page's jobs and these never replace each other, and the pool's heartbeat
(which reads the id before the "/") keeps both alive while the session polls. Each model's config is the shipped
sweep's own at that delay (lstm_core.sweep.point_config with the file's settings), so a rerun at a shipped delay
trains exactly what the shipped point trained. Every string shown goes through app.text.plain.
"""

from __future__ import annotations

import dataclasses

import streamlit as st

import lstm_core
from lstm_core import sweep as sw

from . import memory_data, memory_views, train_view, training_jobs
from . import state as S
from .text import plain

K = S.KEYS


def session() -> str:
    return train_view.session_id() + train_view.SWEEP_SUFFIX


def configs(shipped: lstm_core.Sweep, delay: int, seed: int, epochs: int) -> list[tuple[str, dict]]:
    """(label, TrainConfig as a dict) for each of the sweep's models at `delay`: the shipped sweep's settings,
    its epochs unless `epochs` > 0, the clock capped at the Train page's limit."""
    given = shipped.settings
    over = dict(given["overrides"])
    over["max_seconds"] = min(float(over.get("max_seconds", sw.DEFAULTS["max_seconds"])), float(S.MAX_TRAIN_SECONDS))
    budget = given["step_budget"]
    if epochs > 0:
        over["max_epochs"], budget = epochs, None
    out = []
    for m in shipped.models:
        cfg = sw.point_config(m, delay, seed, forget_bias=given["forget_bias"], step_budget=budget, **over)
        out.append((f"{memory_data.sweep_name(m)}, delay {delay}", dataclasses.asdict(cfg)))
    return out


def _collect(views) -> dict:
    """This session's finished reruns as SweepPoints, kept in session state (the pool forgets a quiet session's
    jobs after a while)."""
    mine = st.session_state.get(S.SWEEP_MINE) or {}
    for v in views:
        if v.result is not None and v.id not in mine:
            cfg = lstm_core.TrainConfig.from_dict(v.config)
            mine[v.id] = sw.point_of(cfg, {**v.result, "history": list(v.epochs)})
    st.session_state[S.SWEEP_MINE] = mine
    return mine


def _words(shipped: lstm_core.Sweep) -> str:
    """One Markdown bullet per model: how far it holds GOAL, where it falls to chance (Sweep.summary)."""
    return "\n".join(f"- {plain(shipped.summary(m, memory_data.sweep_name(m)), limit=400)}" for m in shipped.models)


def _steps(n: int | None) -> str:
    return "unlimited" if n is None else f"{n:,}"


def section() -> None:
    """The "Delay sweep" section: the chart, the words, and the rerun control with its live progress."""
    st.markdown("##### Delay sweep: how long a delay each model bridges before it falls to chance")
    try:
        shipped = memory_data.shipped_sweep()
    except lstm_core.LabError as e:
        st.error(plain(f"The shipped delay sweep cannot be shown: {e}", limit=600))
        return
    p0 = shipped.points[0]
    st.markdown(_words(shipped))
    c1, c2, c3 = st.columns([2, 1, 1])
    c1.number_input(plain("Rerun at a delay of (blank steps)"), 1, S.SCHEMA["sweep_delay"].hi, key=K.sweep_delay,
                    help=plain("The three models train on delayed recall at this delay, with the shipped sweep's "
                               "settings, in the background on the server."))
    c2.number_input(plain("Seed"), 0, S.MAX_SEED, key=K.sweep_seed)
    c3.number_input(plain("Epochs (0: the sweep's)"), 0, 10_000, key=K.sweep_epochs,
                    help=plain("At most this many epochs per model; 0 gives the shipped sweep's budget at this "
                               "delay, so the rerun trains what the shipped point trained."))
    delay, seed, epochs = (int(st.session_state[k]) for k in (K.sweep_delay, K.sweep_seed, K.sweep_epochs))
    _live(shipped, p0, delay, seed, epochs)
    cmd = shipped.command or "lstm_core.delay_sweep (no command recorded)"
    cfg = p0.config
    st.caption(plain(
        f"Delayed recall: 5 symbols of 8, the delay's blank steps, a go cue, the 5 symbols back; chance is 1/8. Each "
        f"point: one model ({cfg['hidden_size']} units, forget-gate init {shipped.settings['forget_bias']}) trained "
        f"on {cfg['n_train']:,} sequences, its best epoch's accuracy on {cfg['n_val']} held-out ones. The grey band is "
        f"what still counts as chance ({sw.Z_CHANCE:g} binomial standard errors above it). Budgets: at most "
        f"{shipped.settings['overrides'].get('max_epochs', sw.DEFAULTS['max_epochs'])} epochs and "
        f"{_steps(shipped.settings['step_budget'])} sequence steps per point, so long delays get fewer epochs: "
        "where a model falls to chance is where it does within this budget. Made by: " + cmd, limit=1500))


def _live(shipped, p0, delay: int, seed: int, epochs: int) -> None:
    existing = training_jobs.existing()
    me = session()
    active = existing is not None and existing.has_active(me)

    @st.fragment(run_every=train_view.POLL_SECONDS if active else None)
    def fragment() -> None:
        pool = training_jobs.existing()
        views = []
        if pool is not None:
            pool.touch(train_view.session_id())  # the heartbeat is the session's, shared by its sets of jobs
            views = pool.views(me)
        running = any(v.active for v in views)
        mine = _collect(views)
        ours = list(mine.values())
        spec = memory_views.delay_sweep(memory_data.sweep_curves(shipped.points), p0.chance, p0.chance_band,
                                        memory_data.sweep_curves(ours))
        st.vega_lite_chart(spec, width="stretch")
        if ours:
            st.caption(plain("This session (large diamonds): " + "; ".join(
                f"{memory_data.sweep_name(p.model)} at delay {p.delay}, seed {p.seed}: accuracy {p.accuracy:.3f}"
                f" ({p.stop_reason} after {p.epochs} epochs{'' if p.reproducible else ', not reproducible'})"
                for p in ours[-6:]), limit=1200))
        if running:
            if st.button(plain("■ Stop the rerun (keeps each model's best epoch)"), key=K.sweep_stop):
                pool.stop(me)
                views = pool.views(me)
        elif st.button(plain(f"▶ Rerun {', '.join(memory_data.sweep_name(m) for m in shipped.models)} at delay "
                             f"{delay} in the background"), key=K.sweep_run, type="primary"):
            try:
                jobs = configs(shipped, delay, seed, epochs)
                training_jobs.pool().submit(me, jobs)
            except lstm_core.LabError as e:
                st.error(plain(e))
                return
            except training_jobs.QueueFull as e:
                st.error(plain(f"The server is busy ({e}); try again in a minute."))
                return
            st.rerun()  # a full run starts this fragment's timer
        if running != active:
            st.rerun()  # all done: a full run stops the timer
        train_view.status(views)  # one progress row per model, as on the Train page

    fragment()
