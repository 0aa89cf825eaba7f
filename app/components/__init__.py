"""Our small Streamlit components (st.components.v2, no build step): trace view, step bridge, step follower.

The trace view draws every heatmap once on a canvas and owns the cursor; the step bridge sits in the
stepping fragment and tells it the current step (and Python where the user clicked); the follower lets a
slower fragment (the memory chart) catch up once stepping pauses. See the .js files.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

_HERE = Path(__file__).parent
BRIDGE_KEY = "step_bridge"

_trace_view = st.components.v2.component(
    "lstmlab_trace_view", js=(_HERE / "trace_view.js").read_text(), css=(_HERE / "trace_view.css").read_text())
_step_follower = st.components.v2.component("lstmlab_step_follower", js=(_HERE / "step_follower.js").read_text())
_step_bridge = st.components.v2.component(
    "lstmlab_step_bridge", js=(_HERE / "step_bridge.js").read_text(),
    css=".lstmlab-bridge { font-size: 13px; color: #555; }")


def trace_view(payload: bytes, key: str = "trace_view"):
    """Mount the trace view with a message from app.trace_payload.encode (sent once; unchanged bytes are
    not re-sent by Streamlit on later runs)."""
    return _trace_view(data=payload, key=key, height="content")


def step_bridge(step: int, steps: int, on_seek) -> None:
    """Tell the trace view the current step; call on_seek(step) when the user clicks a heatmap or
    presses an arrow key."""
    def _seek():
        value = st.session_state[BRIDGE_KEY].get("seek")
        if value is not None:
            on_seek(int(value))

    _step_bridge(data={"step": int(step), "steps": int(steps)}, key=BRIDGE_KEY, on_seek_change=_seek)


def step_follower(shown_step: int, key: str = "memory_follower") -> None:
    """In a slow fragment: rerun it once stepping pauses, if the current step has moved away from
    `shown_step`."""
    _step_follower(data={"step": int(shown_step)}, key=key, on_sync_change=lambda: None)
