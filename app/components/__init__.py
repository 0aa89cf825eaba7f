"""Our small Streamlit views (st.components.v2, no build step): the trace view, the step view, the text view.

The trace view draws every heatmap once on a canvas and owns the cursor; the step view shows the step's
equations and cell diagrams, with the numbers the step bridge brings. The step bridge and the step
follower, which move the step, are declared with the rest of stepping in app/stepping.py.
"""

from __future__ import annotations

import html
from pathlib import Path

import streamlit as st

import lstm_core

_HERE = Path(__file__).parent
_DIAGRAMS = _HERE.parents[1] / "assets" / "diagrams"


# An empty component, mounted first thing on every page and hidden (streamlit_app.py's stylesheet): the browser
# fetches Streamlit's component code (its BidiComponent module and Arrow, ~200 KB) when the first component
# arrives, and a cold start's first component was the trace view, the page's last big element.
RUNTIME_KEY = "lstmlab_runtime"
_runtime = st.components.v2.component("lstmlab_runtime", html="")


def load_runtime() -> None:
    _runtime(key=RUNTIME_KEY)


def _templates() -> str:
    """Each cell kind's diagram (trusted files of ours, named by its record) as a <template> the step view
    clones."""
    names = [k.diagram for k in lstm_core.CELLS.values() if k.diagram]
    return "".join(f'<template data-kind="{html.escape(n)}">{(_DIAGRAMS / f"{n}.svg").read_text()}</template>'
                   for n in names)


_trace_view = st.components.v2.component(
    "lstmlab_trace_view", js=(_HERE / "trace_view.js").read_text(), css=(_HERE / "trace_view.css").read_text())
_step_view = st.components.v2.component(
    "lstmlab_step_view", html=_templates(), js=(_HERE / "step_view.js").read_text(),
    css=(_HERE / "step_view.css").read_text(), isolate_styles=False)


def trace_view(payload: bytes, key: str):
    """Mount the trace view with a message from app.trace_payload.encode (sent once; unchanged bytes are
    not re-sent by Streamlit on later runs)."""
    return _trace_view(data=payload, key=key, height="content")


_text_view = st.components.v2.component(
    "lstmlab_text_view", js=(_HERE / "text_view.js").read_text(), css=(_HERE / "text_view.css").read_text())


def text_view(data: dict, key: str) -> None:
    """A text input as its characters, coloured by one unit's state (story.text_view_data builds `data`)."""
    _text_view(data=data, key=key)


def step_view(key: str) -> None:
    """Where the step in numbers is drawn (equations and diagrams); the step bridge sends the numbers."""
    _step_view(key=key)
