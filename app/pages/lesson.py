"""Lesson: a guided path through the seed notes, one stop at a time; each stop's live figure makes its point
and a question asks for a prediction before it reveals the answer (stops: app/lesson.py)."""

from __future__ import annotations

import copy

import streamlit as st

import lstm_core
from app import classroom, data, figures, handset, lesson, sections, selection, stepping, story
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


def question(stop: lesson.Stop, sel) -> None:
    q = stop.question
    if "{" in "".join(q.choices):  # a question about this step's numbers (the stop's unit, at the stop's step)
        s = lstm_core.step_at(sel.main, data.trace(sel.main, sel.x), min(stop.step, sel.steps - 1))
        q = lesson.filled(q, {k: float(s[k][stop.unit]) for k in ("f", "i", "g", "c", "c_prev")})
    st.radio(plain(q.ask, limit=400), range(len(q.choices)), index=None, key=K.lesson_answer,
             format_func=lambda k: plain(q.choices[k], limit=200))
    picked = ss[K.lesson_answer]
    if picked is None:
        st.caption("Predict first: pick an answer to see the explanation.")
    elif picked == q.right:
        st.success(plain("Right. " + q.why, limit=1000), icon="✅")
    else:
        st.error(plain(f"Not quite: the answer is “{q.choices[q.right]}”. {q.why}", limit=1000), icon="💡")
    if picked is not None:
        st.caption(plain(f"Aimed at the belief {q.misconception}"))


def answers_line(sel, outs) -> None:
    """Each model's answer beside the right one, in one line each (the Explore page's cards, compact)."""
    cards = [story.truth_card(outs[0] or outs[1], sel.target),
             story.card(sel.main, outs[0], data.held_out(sel.main)),
             story.card(sel.rnn, outs[1], data.held_out(sel.rnn))]
    mark = {"right": " :green[✓ right]", "wrong": " :red[✗ wrong]"}
    st.markdown("  \n".join(f"**{plain(c.who)}**{mark.get(c.verdict, '')}: {plain(c.says)}" for c in cards))


def memory_figure(sel) -> None:
    """How long each model feels a nudge of the first marked input: the sentence and the chart."""
    nudged = min(sel.marks[0], sel.steps - 1) if sel.marks else 0
    spans = data.memory_spans(sel.main, sel.rnn, sel.x, nudged)
    st.markdown(plain(story.sentence(sel.main, sel.rnn, spans, sel.steps, bool(sel.marks))))
    spec = copy.deepcopy(figures.at_step(data.memory_spec(sel.main, sel.rnn, sel.x, nudged, 0), int(ss[K.step])))
    spec["layer"][0]["encoding"]["y"]["title"] = "change of the state"  # short enough for large type
    st.vega_lite_chart(spec, width="stretch")


def page_link(need: str, box) -> None:
    """A link to a page another branch adds (Train, Memory) once it is there; until then, where it will be."""
    title, what = lesson.NEEDED_PAGES[need]
    try:
        box.page_link(f"pages/{need}.py", label=f"Go on: {title} page", icon=":material/arrow_forward:")
    except Exception:  # noqa: BLE001 - Streamlit raises its own error for a page that is not in the navigation
        box.caption(plain(f"Next: {what}, in the sidebar once it has landed."))


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
        memory_figure(sel)
    if "horizon" in stop.extra:
        st.vega_lite_chart(classroom.horizon_chart(), width="stretch")
    if "numbers_below" in stop.extra:
        step_view(K.step_view)
with right:
    if "answers" in stop.extra:
        answers_line(sel, outs)
    with st.container(key="lesson_question"):
        question(stop, sel)
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
    page_link(need, nav[3])
with st.container(key="hide_in_presentation"):
    classroom.handout_buttons(sel, stop.panels, memory="memory" in stop.extra, title=stop.title)
    st.selectbox("Go to a stop", range(len(STOPS)), key=K.stop, format_func=lambda k: STOPS[k].title)
