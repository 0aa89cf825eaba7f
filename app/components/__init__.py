"""Our small Streamlit components (st.components.v2, no build step): trace view, step bridge, step view,
step follower.

The trace view draws every heatmap once on a canvas and owns the cursor; the step bridge sits in the
stepping fragment, holds ◀ Back / Forward ▶ and the keys, and turns every way of moving the step into an
absolute request to Python; the step view shows the step's equations and cell diagrams; the follower lets
a slower fragment (the memory chart) catch up once stepping pauses. app/stepping.py explains the protocol.
"""

from __future__ import annotations

import html
from pathlib import Path

import streamlit as st

_HERE = Path(__file__).parent
_DIAGRAMS = _HERE.parents[1] / "assets" / "diagrams"


def _templates() -> str:
    """The cell diagrams (trusted files of ours) as <template> elements the step view clones."""
    return "".join(f'<template data-kind="{html.escape(k)}">{(_DIAGRAMS / f"{k}_cell.svg").read_text()}</template>'
                   for k in ("lstm", "gru", "rnn"))


_trace_view = st.components.v2.component(
    "lstmlab_trace_view", js=(_HERE / "trace_view.js").read_text(), css=(_HERE / "trace_view.css").read_text())
_step_follower = st.components.v2.component("lstmlab_step_follower", js=(_HERE / "step_follower.js").read_text())
_step_bridge = st.components.v2.component(
    "lstmlab_step_bridge", js=(_HERE / "step_bridge.js").read_text(), css=(_HERE / "step_bridge.css").read_text(),
    isolate_styles=False)
_step_view = st.components.v2.component(
    "lstmlab_step_view", html=_templates(), js=(_HERE / "step_view.js").read_text(),
    css=(_HERE / "step_view.css").read_text(), isolate_styles=False)


def trace_view(payload: bytes, key: str):
    """Mount the trace view with a message from app.trace_payload.encode (sent once; unchanged bytes are
    not re-sent by Streamlit on later runs)."""
    return _trace_view(data=payload, key=key, height="content")


def step_bridge(step: int, steps: int, playing: bool, ack: int, view: dict, key: str, on_seek, on_play) -> None:
    """Tell the browser the current step, whether it plays, the last request applied and the step's
    numbers (`view`, drawn by the step view); call on_seek({step, seq}) when the person moves the step,
    on_play({playing, seq}) for Play / Pause. One element a step: the bridge carries the numbers too."""
    _step_bridge(data={"step": int(step), "steps": int(steps), "playing": bool(playing), "ack": int(ack),
                       "view": view}, key=key,
                 on_seek_change=lambda: on_seek(st.session_state[key].get("seek")),
                 on_play_change=lambda: on_play(st.session_state[key].get("play")))


def step_view(key: str) -> None:
    """Where the step in numbers is drawn (equations and diagrams); the step bridge sends the numbers."""
    _step_view(key=key)


def step_follower(shown_step: int, key: str) -> None:
    """In a slow fragment: rerun it once stepping pauses, if the current step has moved away from
    `shown_step`."""
    _step_follower(data={"step": int(shown_step)}, key=key, on_sync_change=lambda: None)
