"""The Lesson page's pieces (app/screens/lesson.py lays them out): a stop's question, the models' answers in
one line each, the memory figure, and links to pages that other branches add."""

from __future__ import annotations

import copy

import streamlit as st

import lstm_core

from . import data, figures, lesson, story
from . import state as S
from .text import plain

K = S.KEYS


def question(stop: lesson.Stop, sel) -> None:
    """The stop's question and its choices; once one is picked, whether it is right and why."""
    q = stop.question
    if "{" in "".join(q.choices):  # a question about this step's numbers (the stop's unit, at the stop's step)
        s = lstm_core.step_at(sel.main, data.trace(sel.main, sel.x), min(stop.step, sel.steps - 1))
        q = lesson.filled(q, {k: float(s[k][stop.unit]) for k in ("f", "i", "g", "c", "c_prev")})
    st.radio(plain(q.ask, limit=400), range(len(q.choices)), index=None, key=K.lesson_answer,
             format_func=lambda k: plain(q.choices[k], limit=200))
    picked = st.session_state[K.lesson_answer]
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
    t = int(st.session_state[K.step])
    spec = copy.deepcopy(figures.at_step(data.memory_spec(sel.main, sel.rnn, sel.x, nudged, 0), t))  # not the cache's
    spec["layer"][0]["encoding"]["y"]["title"] = "change of the state"  # short enough for large type
    st.vega_lite_chart(spec, width="stretch")


def page_link(need: str, box) -> None:
    """A link to a page another branch adds (Train, Memory) once it is there; until then, where it will be."""
    title, what = lesson.NEEDED_PAGES[need]
    try:
        box.page_link(f"screens/{need}.py", label=f"Go on: {title} page", icon=":material/arrow_forward:")
    except Exception:  # noqa: BLE001 - Streamlit raises its own error for a page that is not in the navigation
        box.caption(plain(f"Next: {what}, in the sidebar once it has landed."))
