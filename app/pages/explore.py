"""Explore: step through an LSTM and a vanilla RNN on the same input, gate by gate."""

from __future__ import annotations

import streamlit as st

import lstm_core
from app import data, sections, selection, sidebar, stepping
from app import state as S
from app.components import trace_view
from app.text import plain

K = S.KEYS

sidebar.draw(S.SPEEDS)
for notice in st.session_state.pop(S.NOTICES, ()):
    st.warning(plain(notice, limit=600), icon="⚠️")
try:
    sel = selection.current()
except lstm_core.LabError as e:
    st.error(plain(e))
    st.stop()
st.markdown("#### " + plain(sel.title))
st.caption(plain(f"Input: {sel.what}" + (f" Right answer: {sel.target}." if sel.target else "")))
for m in sel.messages:
    st.info(plain(m, limit=1000))
controls = st.container()
left, right = st.columns([1.5, 1], gap="medium")
with left:
    trace_view(data.payload(sel.main, sel.rnn, sel.x, sel.raw, sel.feature_names, sel.marks, sel.title),
               key=K.trace_view)
stepping.stepper(sel, controls, right.container())
sections.memory(sel, st.container())
sections.data_preview()
sections.exports(sel)
sections.seed_notes()
