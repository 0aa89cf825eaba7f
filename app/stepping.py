"""Stepping through a sequence: who owns the step, which events move it, and what each fragment redraws.

The protocol
- Python's session state holds the step (`K.step`, also the slider's value and the URL's `step`).
- The browser holds the step it shows. Every way a person moves it sends an *absolute* target:
  ◀ Back, Forward ▶, the time slider, the arrow/Home/End/Page keys and clicks on a heatmap all go
  through the step bridge (components/step_bridge.js), which computes the target from the step on
  screen at the moment of the event and sends {step, seq}. So when reruns are coalesced or arrive late,
  intermediate steps may be skipped but the final step is the one asked for. No Streamlit widget holds
  the step: a widget's value rides along with every rerun request, and a stale one (sent before the
  browser saw the server's newer step) would be taken for a person's move.
- `on_seek` applies a request and records its seq as `S.SEEK_ACK`; the bridge gets the ack back with
  the step and, until the ack of its last request arrives, keeps showing its own target. The bridge
  also writes the step into the address bar (history.replaceState), so a copied link opens that step.
- Each step's message also carries the views (numbers) of the steps one move away (`near_steps`): the
  browser shows them the moment the person moves there, and Python's answer to the request confirms them.
  The step view only ever shows a view of the step the bridge shows, made by `view` for the unit chosen.
- Play follows the clock: the step is the start step plus elapsed seconds × speed, so a slow server
  drops frames of the numbers instead of slowing the playback. A timer reruns only the stepping
  fragment (`run_every`); Play / Pause is a request through the bridge too (a Streamlit toggle would
  carry a stale "on" back after the server stopped at the end), and it needs one full run to start or
  stop the timer.

Who draws what
- The step bridge and the step follower are declared here (their JavaScript is in components/); the
  trace view and the step view, which only draw, are in components/__init__.py.
- The trace view (heatmaps) is drawn once per model and input; its cursor moves in the browser.
- The stepping fragment (`stepper`) sends one element a step: the bridge, carrying the step's numbers,
  which the step view (a holder mounted by the full run) draws as equations and diagrams.
- The memory chart's fragment catches up through the step follower once stepping pauses.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import streamlit as st

import lstm_core

from . import data, step_view, story
from . import state as S
from .selection import Selection, outcomes

K = S.KEYS
FRAME_SECONDS = 0.1  # the play timer's period: at most 10 redraws a second, whatever the speed
# Tests and demos of a busy server: every stepping run takes this much longer (0 in normal use).
SLOW_STEP_SECONDS = float(os.environ.get("LSTMLAB_SLOW_STEP_MS", "0")) / 1000


def _restart_clock() -> None:
    ss = st.session_state
    ss[S.PLAY_FROM] = (time.monotonic(), int(ss[K.step])) if ss[K.playing] else None


def _request(request, field: str, kind):
    """(value, seq) of a request from the bridge, or None if it is not one of ours."""
    if not isinstance(request, dict):
        return None
    try:
        return kind(request[field]), int(request["seq"])
    except (KeyError, TypeError, ValueError):
        return None


def _ack(seq: int) -> None:
    ss = st.session_state
    ss[S.SEEK_ACK] = max(int(ss[S.SEEK_ACK]), seq)


# The two components that move the step (app/components/*.js; no build step).
_COMPONENTS = Path(__file__).parent / "components"
_step_bridge = st.components.v2.component(
    "lstmlab_step_bridge", js=(_COMPONENTS / "step_bridge.js").read_text(),
    css=(_COMPONENTS / "step_bridge.css").read_text(), isolate_styles=False)
_step_follower = st.components.v2.component("lstmlab_step_follower",
                                            js=(_COMPONENTS / "step_follower.js").read_text())


def step_bridge(step: int, steps: int, playing: bool, ack: int, view: dict, key: str, on_seek, on_play,
                near: dict | None = None) -> None:
    """Tell the browser the current step, whether it plays, the last request applied and the step's
    numbers (`view`, drawn by the step view); call on_seek({step, seq}) when the person moves the step,
    on_play({playing, seq}) for Play / Pause. One element a step: the bridge carries the numbers too, and
    `near` {step: view}, the views of the steps one move away, which the browser shows the moment the person
    moves there (the request still goes to Python, whose answer then confirms them)."""
    # Every value is a scalar or a string: Streamlit inspects each nested dict or list of a component's data
    # for a dataframe, which imports pandas (0.2-0.3 s of the first page) and costs every step a little.
    _step_bridge(data={"step": int(step), "steps": int(steps), "playing": bool(playing), "ack": int(ack),
                       "view": json.dumps(view), "near": json.dumps({str(k): v for k, v in (near or {}).items()})},
                 key=key,
                 on_seek_change=lambda: on_seek((st.session_state.get(key) or {}).get("seek")),
                 on_play_change=lambda: on_play((st.session_state.get(key) or {}).get("play")))


def step_follower(shown_step: int, key: str, wait: bool = False, on_sync=lambda: None) -> None:
    """In a slow fragment: rerun it once stepping pauses, if the current step has moved away from
    `shown_step`. With `wait`, also rerun it once the page's trace view has drawn (a fragment that draws a
    placeholder on the first page, so as not to hold the first screen back). `on_sync` runs before it."""
    _step_follower(data={"step": int(shown_step), "wait": bool(wait)}, key=key, on_sync_change=on_sync)


def on_seek(request) -> None:
    """The browser asks for step request["step"] (its request number request["seq"])."""
    got = _request(request, "step", int)
    if got is None:
        return  # not a request of ours: ignore it rather than fail
    st.session_state[K.step] = max(0, got[0])  # the page clamps it to the sequence
    _ack(got[1])
    _restart_clock()


def on_play(request, steps: int) -> None:
    """The browser asks to play (request["playing"] true) or to pause. A pause carries the step the browser
    shows (request["step"]): the step stays there, even if a timer tick ran on the server after that step was
    drawn and before the pause arrived."""
    got = _request(request, "playing", bool)
    if got is None:
        return
    ss = st.session_state
    shown = _request(request, "step", int)
    if not got[0] and shown is not None and ss[K.playing]:
        ss[K.step] = max(0, shown[0])  # the page clamps it to the sequence
    if got[0] != ss[K.playing]:
        ss[K.playing] = got[0]
        ss[S.PLAY_CHANGED] = True
        if got[0] and int(ss[K.step]) >= steps - 1:
            ss[K.step] = 0  # play again from the start
    _ack(got[1])
    _restart_clock()


def _advance(steps: int) -> None:
    """While playing: the step the clock says; at the end, stop (a full run drops the timer)."""
    ss = st.session_state
    if not ss[K.playing] or ss.get(S.PLAY_FROM) is None:
        return
    t0, from_step = ss[S.PLAY_FROM]
    ss[K.step] = min(steps - 1, from_step + int((time.monotonic() - t0) * int(ss[K.speed])))
    if ss[K.step] >= steps - 1:
        ss[K.playing] = False
        ss[S.PLAY_FROM] = None
        st.rerun()


def near_steps(t: int, steps: int) -> list[int]:
    """The steps one move away from t (← and →, Back and Forward): their views travel with t's."""
    return [k for k in (t - 1, t + 1) if 0 <= k < steps]


def view(sel: Selection, t: int, j: int) -> dict:
    """What the step view shows at step t for unit j: both models' equations and cell diagrams."""
    s = lstm_core.step_at(sel.main, data.trace(sel.main, sel.x), t)
    rs = lstm_core.step_at(sel.rnn, data.trace(sel.rnn, sel.x), t)
    rj = min(j, sel.rnn.hidden_size - 1)
    x_text = step_view.x_label(s["x"], sel.feature_names)
    main, rnn = sel.main.network, sel.rnn.network
    answers = story.step_answers((sel.main, sel.rnn), outcomes(sel), sel.y, t)
    return {
        "heading": f"The step in numbers: t = {t}", "t": t, "unit": j, "answers": answers,
        "blocks": [{"name": main.kind, "equations": step_view.equations(main, s, j)},
                   {"name": rnn.kind, "caption": f"The vanilla RNN beside it, unit {rj}:",
                    "equations": step_view.equations(rnn, rs, rj)}],
        "diagrams": [step_view.diagram(main.kind, s, j, t, data.ranges(sel.main, sel.x), x_text),
                     step_view.diagram(rnn.kind, rs, rj, t, data.ranges(sel.rnn, sel.x), x_text)],
    }


def stepper(sel: Selection, controls, numbers) -> None:
    """Run the stepping fragment: the step bridge (buttons, slider, keys) into `controls`, the step in
    numbers into `numbers`. The unit and Play widgets are drawn by the page, outside the fragment.

    The fragment keeps `sel` (models and input) between runs but fetches traces from the shared cache on
    each run, so a session never pins a large trace that the cache has let go."""
    T = sel.steps
    playing = bool(st.session_state[K.playing])

    @st.fragment(run_every=FRAME_SECONDS if playing else None)
    def fragment() -> None:
        ss = st.session_state
        if SLOW_STEP_SECONDS:
            time.sleep(SLOW_STEP_SECONDS)
        if ss[S.PLAY_CHANGED]:
            ss[S.PLAY_CHANGED] = False
            st.rerun()  # a full run starts or stops the fragment's timer
        _advance(T)
        t = S.clamp(K.step, T - 1)
        j = min(int(ss[K.unit]), sel.main.hidden_size - 1)
        playing_now = bool(ss[K.playing])
        near = {} if playing_now else {k: view(sel, k, j) for k in near_steps(t, T)}
        with controls:
            step_bridge(t, T, playing_now, int(ss[S.SEEK_ACK]), view(sel, t, j), K.step_bridge, on_seek,
                        lambda request: on_play(request, T), near=near)
        with numbers:
            if ss[K.layer_view]:
                main_tr = data.trace(sel.main, sel.x)
                s = lstm_core.step_at(sel.main, main_tr, t)
                st.dataframe(step_view.layer_table(s, ("h_prev", "c_prev", *main_tr.quantities)), height=240,
                             column_config={k: st.column_config.NumberColumn(format="%.3f") for k in s.keys()})

    fragment()
