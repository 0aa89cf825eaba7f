"""Train: up to three models learn the same task side by side, live, each in its own process on the server."""

from __future__ import annotations

import streamlit as st

import lstm_core
from app import state as S
from app import train_view as view
from app import training_jobs
from app.text import plain

K = S.KEYS

view.through_entry_point()
st.title(plain("Train: watch them learn"))
st.caption(plain("Pick a task and up to three models. They learn side by side from the same data and seed, each in "
                 "a process of its own on the server, so nobody's page waits. Watch the losses, the task's score and "
                 "the forget gate epoch by epoch; Stop keeps each model's best weights."))
session = view.session_id()
pool = training_jobs.pool()
active = pool.has_active(session)
try:
    length, params = view.task_settings(disabled=active)
    task = st.session_state[K.train_task]
    example = lstm_core.make_task(task, 1, length, 0, **params)
    st.info(plain(f"What must be remembered: {example.description}", limit=1000), icon=":material/psychology:")
    slots = view.model_settings(disabled=active)
    view.options(disabled=active)
    jobs = view.configs(slots, length, params, lstm_core.longest_dependency(example))
except lstm_core.LabError as e:
    st.error(plain(e))
    st.stop()
if not active and st.button(plain(f"▶ Train {len(jobs)} model(s)"), type="primary"):
    try:
        pool.submit(session, jobs)
    except training_jobs.QueueFull as e:
        st.error(plain(f"The server is busy ({e}); try again in a minute."))
        st.stop()
    st.rerun()  # the settings lock and the live view starts
view.live(session, active)
