"""Lesson: a guided path through the seed notes, one stop at a time; each stop's live figure makes its point
and a question asks for a prediction before it reveals the answer (stops: app/lesson.py)."""

from __future__ import annotations

import streamlit as st

import lstm_core
from app import classroom, data, handset, lesson, lesson_view, sections, selection, stepping
from app import state as S
from app.components import step_view, trace_view
from app.text import plain

S.through_the_entry_point()  # a deep link on a fresh server: run the app first
K = S.KEYS
ss = st.session_state
STOPS = lesson.STOPS


def go(k: int) -> None:
    ss[K.stop] = k  # the stop's view is set up by the next run (enter)


def enter(stop: lesson.Stop) -> None:
    """Set up a stop's view the first time it is shown: its step, unit and hand-set weights, unless the link
    that opened the session carried them (then the link's view is shown)."""
    if ss[S.LESSON_SEEN] == ss[K.stop]:
        return
    link = set(ss[S.LINK_KEYS])
    if "step" not in link:
        ss[K.step] = stop.step
    if "unit" not in link:
        ss[K.unit] = stop.unit
    if stop.setup.get("model_source") == "handset" and not link & {*S.HAND_KEYS.values(), "preset"}:
        ss[K.preset] = stop.setup["preset"]
        handset.set_weights(stop.setup["preset"])
    ss[K.lesson_answer] = None
    ss[S.LESSON_SEEN] = ss[K.stop]


def values(stop: lesson.Stop) -> dict:
    """The session values the stop's figure runs with: the schema's defaults, the stop's set-up, and the
    session's hand-set weights (the stop's sliders move them)."""
    out = {k: f.default for k, f in S.SCHEMA.items()} | dict(stop.setup)
    return out | {k: ss[k] for k in (K.step, K.unit, *S.HAND_KEYS.values())}


classroom.notices()
stop = STOPS[ss[K.stop]]
enter(stop)
try:
    sel = selection.current(values(stop))
except lstm_core.LabError as e:
    st.error(plain(e))
    st.stop()
T, H = sel.steps, sel.main.hidden_size
S.clamp(K.step, T - 1)
S.clamp(K.unit, H - 1)
present = classroom.presentation_toggle()
st.markdown(f"### {plain(stop.title)}", help=plain(f"Seed notes: {stop.notes}"))
st.markdown(plain(stop.point, limit=800))
bar = st.container()
left, right = st.columns([1.55, 1], gap="medium")
outs = selection.outcomes(sel)
with left:
    if stop.panels:
        trace_view(data.payload(sel.main, sel.rnn, sel.x, sel.raw, sel.feature_names, sel.marks, sel.title,
                                *sections.answers(sel, outs), keys=stop.panels, present=present), key=K.trace_view)
    if "memory" in stop.extra:
        lesson_view.memory_figure(sel)
    if "horizon" in stop.extra:
        st.vega_lite_chart(classroom.horizon_chart(), width="stretch")
    if "numbers_below" in stop.extra:
        step_view(K.step_view)
with right:
    if "answers" in stop.extra:
        lesson_view.answers_line(sel, outs)
    with st.container(key="lesson_question"):
        lesson_view.question(stop, sel)
    st.caption(plain("Look: " + stop.look, limit=600))
    if "forget_bias" in stop.extra:
        handset.weight_slider(st, "f", "b", "Forget-gate bias b_f (f = σ(b_f) between writes)")
    if "numbers" in stop.extra:
        step_view(K.step_view)
if stop.panels or {"numbers", "numbers_below"} & set(stop.extra):
    stepping.stepper(sel, bar.container(), right.container())
S.sync_url()
nav = st.columns([1, 1, 2.2, 2.2])
nav[0].button("◀ Previous", on_click=go, args=(max(0, ss[K.stop] - 1),), disabled=ss[K.stop] == 0, width="stretch")
nav[1].button("Next ▶", on_click=go, args=(min(len(STOPS) - 1, ss[K.stop] + 1),),
              disabled=ss[K.stop] == len(STOPS) - 1, width="stretch")
nav[2].caption(plain(f"Stop {ss[K.stop] + 1} of {len(STOPS)} · " + classroom.link_note(False)))
for need in stop.needs:
    lesson_view.page_link(need, nav[3])
with st.container(key="hide_in_presentation"):
    classroom.handout_buttons(sel, stop.panels, memory="memory" in stop.extra, title=stop.title)
    st.selectbox("Go to a stop", range(len(STOPS)), key=K.stop, format_func=lambda k: STOPS[k].title)
