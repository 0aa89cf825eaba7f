"""Explore: step through an LSTM and a vanilla RNN on the same input, gate by gate."""

from __future__ import annotations

import streamlit as st

import lstm_core
from app import classroom, data, sections, selection, sidebar, stepping
from app import state as S
from app.components import step_view, trace_view
from app.text import plain

S.through_the_entry_point()  # a deep link on a fresh server: run the app first
K = S.KEYS

sidebar.draw(S.SPEEDS)
present = classroom.presentation_toggle()
classroom.notices()
try:
    sel = selection.current()
except lstm_core.LabError as e:
    st.error(plain(e))
    st.stop()
outs = selection.outcomes(sel)
sections.story_band(sel, outs)
for m in sel.messages:
    st.info(plain(m, limit=1000))
is_text = sections.text(sel)
S.clamp(K.step, sel.steps - 1)
H = sel.main.hidden_size
S.clamp(K.unit, H - 1)
S.sync_url()
bar = st.container()
left, right = st.columns([1.5, 1], gap="medium")
with left:
    trace_view(data.payload(sel.main, sel.rnn, sel.x, sel.raw, sel.feature_names, sel.marks, sel.title,
                            *sections.answers(sel, outs), show_input=not is_text,
                            keys=classroom.PRESENT_PANELS if present else (), present=present), key=K.trace_view)
    sections.forecast(sel, outs)
c1, c2 = right.columns([3, 2], vertical_alignment="bottom")
c1.number_input(f"Unit shown (0–{H - 1})", 0, H - 1, key=K.unit)
c2.toggle("All units", key=K.layer_view, help="The whole layer at this step as a table of vectors.")
with right:
    step_view(K.step_view)
stepping.stepper(sel, bar.container(), right.container())
sections.memory(sel, st.container())
sections.data_preview()
sections.exports(sel)
classroom.handout_section(sel)
sections.seed_notes()
