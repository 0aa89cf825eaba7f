"""Explore: step through an LSTM and a vanilla RNN on the same input, gate by gate."""

from __future__ import annotations

import streamlit as st

import lstm_core
from app import data, figures, sections, selection, sidebar
from app import state as S
from app.components import step_bridge, trace_view

K = S.KEYS
SPEEDS = (1, 2, 5, 10, 20, 50)  # steps per second while playing

S.init()
sidebar.draw(SPEEDS)
try:
    sel = selection.current()
except lstm_core.LabError as e:
    st.error(str(e))
    st.stop()
main_tr = data.trace(sel.main, sel.main_id, sel.x, sel.x_id)
rnn_tr = data.trace(sel.rnn, sel.rnn_id, sel.x, sel.x_id)
T = sel.steps
st.session_state[K.step] = min(int(st.session_state[K.step]), T - 1)
st.session_state[K.unit] = min(int(st.session_state[K.unit]), sel.main.hidden_size - 1)

st.markdown(f"#### {sel.title}")
st.caption(f"Input: {sel.what}" + (f" Right answer: {sel.target}." if sel.target else ""))
for m in sel.messages:
    st.info(m)
controls = st.container()
left, right = st.columns([1.5, 1], gap="medium")
with left:
    trace_view(data.payload(main_tr, sel.main_id, rnn_tr, sel.rnn_id, sel.raw, sel.feature_names, sel.marks,
                            sel.title))
numbers = right.container()
memory_box = st.container()


def _seek(step: int | None = None) -> None:
    """A user moved the step (None: the slider already did): the next fragment run is not a timer tick."""
    if step is not None:
        st.session_state[K.step] = max(0, min(T - 1, step))
    st.session_state[S.TIMER_TICK] = False


def _move(delta: int) -> None:
    _seek(int(st.session_state[K.step]) + delta)


def _toggle_play() -> None:
    _seek()
    st.session_state[S.PLAY_CHANGED] = True
    if st.session_state[K.playing] and st.session_state[K.step] >= T - 1:
        st.session_state[K.step] = 0  # play again from the start


speed = int(st.session_state[K.speed])
interval = max(0.1, 1 / speed)


@st.fragment(run_every=interval if st.session_state[K.playing] else None)
def stepper() -> None:
    ss = st.session_state
    if ss.pop(S.PLAY_CHANGED, False):
        st.rerun()  # a full run starts or stops the fragment's timer
    if ss[K.playing] and ss.get(S.TIMER_TICK):
        ss[K.step] = min(T - 1, int(ss[K.step]) + max(1, round(speed * interval)))
        if ss[K.step] >= T - 1:
            ss[K.playing] = False
            st.rerun()  # a full run drops the timer
    ss[S.TIMER_TICK] = True
    t = int(ss[K.step])
    S.sync_url()
    with controls:
        c = st.columns([1.2, 1.5, 6, 1.2], vertical_alignment="bottom")
        c[0].button("◀ Back", on_click=_move, args=(-1,), disabled=t <= 0, width="stretch")
        c[1].button("Forward ▶", on_click=_move, args=(1,), disabled=t >= T - 1, width="stretch")
        c[2].slider("Time step t", 0, max(1, T - 1), key=K.step, on_change=_seek, disabled=T == 1)
        c[3].toggle("Play", key=K.playing, on_change=_toggle_play)
        step_bridge(t, T, _seek)
    with numbers:
        st.markdown(f"##### The step in numbers: t = {t}")
        c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
        c1.number_input("Unit shown (of the hidden layer)", 0, sel.main.hidden_size - 1, key=K.unit)
        c2.toggle("Every unit", key=K.layer_view, help="The whole layer at this step as a table of vectors.")
        j = int(ss[K.unit])
        s = lstm_core.step_at(sel.main, main_tr, t)
        eqs = figures.lstm_equations(s, j, sel.main.variant) if sel.main.kind == "lstm" else figures.gru_equations(s, j)
        st.latex(figures.aligned(eqs))
        if ss[K.layer_view]:
            st.dataframe(figures.layer_table(s, ("h_prev", "c_prev", *main_tr.quantities)), height=240,
                         column_config={k: st.column_config.NumberColumn(format="%.3f") for k in s.keys()})
        rs = lstm_core.step_at(sel.rnn, rnn_tr, t)
        st.caption("The vanilla RNN beside it, same unit:")
        st.latex(figures.aligned(figures.rnn_equation(rs, min(j, sel.rnn.hidden_size - 1))))
        x_text = figures.x_label(s["x"], sel.feature_names)
        st.markdown(figures.cell_diagram(sel.main.kind, s, j, t, data.ranges(main_tr, sel.main_id + sel.x_id), x_text),
                    unsafe_allow_html=True)
        st.markdown(figures.cell_diagram("rnn", rs, min(j, sel.rnn.hidden_size - 1), t,
                                         data.ranges(rnn_tr, sel.rnn_id + sel.x_id), x_text), unsafe_allow_html=True)


stepper()
sections.memory(sel, memory_box)
sections.data_preview()
sections.exports(sel, main_tr, rnn_tr)
sections.seed_notes()
