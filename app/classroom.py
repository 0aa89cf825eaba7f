"""What the Explore and Lesson pages share for a class (issue 15): the presentation-mode toggle and its
stylesheet, the note on links, and the handout downloads.

Presentation mode is pure CSS: the page holds a container keyed `present_on` while the mode is on, and one
constant stylesheet (PRESENTATION_CSS, below; no user string is ever part of it) enlarges type, hides the
sidebar and Streamlit's toolbar while that container exists (`:has()`). The canvas views get the flag in
their data and draw larger text and thicker lines themselves.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from . import data, figures, handout, sections, stepping
from . import state as S
from .selection import Selection
from .text import plain

K = S.KEYS
_DIAGRAMS = Path(__file__).resolve().parents[1] / "assets" / "diagrams"
PRESENT_PANELS = ("c", "rnn_h")  # Explore in presentation mode: the story's two memories (the cards say the rest)
PRESENTATION_CSS = """<style>
/* Presentation mode (issue 15): on while the page holds the .st-key-present_on container. The toggle itself
   floats at the top right, in the toolbar's row, so it costs the first screen no room. */
.st-key-present_on, .st-key-present_off { position: fixed; top: 0.55rem; right: 8.5rem; z-index: 999990;
  width: auto !important; background: rgba(255, 255, 255, 0.92); border-radius: 8px; padding: 0 6px; }
.st-key-present_on { right: 1rem; }
/* its wrapper stays in the page's flow with no height: take it out, or the flex gap pushes the page down */
[data-testid="stLayoutWrapper"]:has(> .st-key-present_on), [data-testid="stLayoutWrapper"]:has(> .st-key-present_off) {
  position: absolute; }
html:has(.st-key-present_on) { font-size: 20px; }
body:has(.st-key-present_on) [data-testid="stCaptionContainer"],
body:has(.st-key-present_on) [data-testid="stWidgetLabel"] p { font-size: 18px; }
body:has(.st-key-present_on) [role="radiogroup"] p { font-size: 1rem; }
body:has(.st-key-present_on) button p, body:has(.st-key-present_on) [data-testid="stSlider"] * { font-size: 18px; }
/* the cell diagrams scale down with their column: too small to read on a projector (the equations carry the
   same numbers; the normal view and the handout keep the diagrams) */
body:has(.st-key-present_on) .lstmlab-diagrams, body:has(.st-key-present_on) .lstmlab-answers { display: none; }
body:has(.st-key-present_on) h3 { font-size: 1.5rem; padding: 0.25rem 0; }
body:has(.st-key-present_on) [data-testid="stVegaLiteChart"] svg text { font-size: 18px; }
body:has(.st-key-present_on) section[data-testid="stSidebar"],
body:has(.st-key-present_on) [data-testid="stSidebarCollapsedControl"],
body:has(.st-key-present_on) [data-testid="stExpandSidebarButton"],
body:has(.st-key-present_on) header[data-testid="stHeader"],
body:has(.st-key-present_on) .st-key-hide_in_presentation { display: none !important; }
body:has(.st-key-present_on) [data-testid="stMainBlockContainer"] { padding: 0.5rem 1.2rem 1rem 1.2rem;
  max-width: none; }
body:has(.st-key-present_on) .lstmlab-keys, body:has(.st-key-present_on) .lstmlab-eq-caption,
body:has(.st-key-present_on) .lstmlab-answers-head, body:has(.st-key-present_on) .lstmlab-text-caption,
body:has(.st-key-present_on) .lstmlab-eqs sub { font-size: 18px; }
body:has(.st-key-present_on) .lstmlab-eqs { font-size: 20px; }
body:has(.st-key-present_on) .lstmlab-step-button, body:has(.st-key-present_on) .lstmlab-play { font-size: 20px; }
body:has(.st-key-present_on) .lstmlab-step-now { font-size: 22px; }
body:has(.st-key-present_on) .lstmlab-keys { display: none; }
/* small print (the cards' held-out scores) and page links stay readable from the back row */
body:has(.st-key-present_on) [data-testid="stMarkdownContainer"] span,
body:has(.st-key-present_on) [data-testid="stPageLink"] p { font-size: max(18px, 1em) !important; }
</style>"""


def presentation_toggle() -> bool:
    """The presentation-mode toggle (in the URL as present=true), inside the container that switches the
    stylesheet on; returns whether the mode is on."""
    on = bool(st.session_state[K.present])
    holder = st.container(key="present_on" if on else "present_off")  # fixed: out of the page's flow
    holder.html(PRESENTATION_CSS)
    holder.toggle("Presentation mode", key=K.present,
                  help="Large type and thick lines for a projector, the sidebar hidden; it is part of the link.")
    return on


def link_note(uploaded: bool) -> str:
    """Where a link is offered: what it carries and what it cannot."""
    note = ("The address bar holds this view (page, stop, task, model, variant, seed, length, step, unit, "
            "weights, presentation mode): copy it to put every browser on the same view.")
    if uploaded:
        note += (" An uploaded file cannot travel in a link: the link opens the same settings with a generated "
                 "example or the trained model instead, so send the file along.")
    return note


def uploaded(values) -> bool:
    return values[K.sequence_source] == "upload" or values[K.model_source] == "uploaded"


def panels_for(sel: Selection, keys: tuple = ()) -> list:
    """The trace view's panels as the page draws them (only `keys`, in that order, if given)."""
    from .sections import answers as answer_panel_data

    main_tr, rnn_tr = data.trace(sel.main, sel.x), data.trace(sel.rnn, sel.x)
    right, names = answer_panel_data(sel, _outcomes(sel))
    ans = None if right is None else figures.answers_panel(right, names)
    panels = figures.trace_panels(main_tr, rnn_tr, sel.raw, sel.feature_names, ans)
    if not keys:
        return panels
    by_key = {p.key: p for p in panels}
    return [by_key[k] for k in keys if k in by_key]


def _outcomes(sel: Selection):
    from .selection import outcomes

    return outcomes(sel)


def _templates() -> dict:
    return {p.stem: p.read_text() for p in _DIAGRAMS.glob("*.svg")}


def sheet(sel: Selection, t: int, j: int, keys: tuple = (), memory: bool = True, title: str = "",
          link: str = "") -> handout.Sheet:
    """The handout's content: the page's panels, the step's numbers and diagrams, the memory chart."""
    memory_curves, nudged = {}, 0
    if memory:
        nudged = min(sel.marks[0], sel.steps - 1) if sel.marks else 0
        m, r = data.curve(sel.main, sel.x, nudged, 0), data.curve(sel.rnn, sel.x, nudged, 0)
        name = sel.main.kind.upper()
        memory_curves = {f"{name} h_t": m.h, **({f"{name} C_t": m.c} if m.c is not None else {}), "RNN h_t": r.h}
    lines = (f"Input: {sel.what}", f"Step t = {t} of {sel.steps - 1}; the equations show unit {j}.")
    return handout.Sheet(title or sel.title, lines, tuple(panels_for(sel, keys)), sel.steps, t, tuple(sel.marks),
                         stepping.view(sel, t, j), _templates(), memory_curves, nudged, link,
                         "This view online (with the app running):")


def current_link() -> str:
    """The page's address with the current state (what the address bar shows)."""
    from urllib.parse import urlencode

    try:
        base = str(st.context.url or "").split("?")[0]
    except Exception:  # noqa: BLE001 - no browser context (tests): no link
        base = ""
    params = {k: st.query_params[k] for k in st.query_params}
    t = int(st.session_state[K.step])
    if t:
        params["step"] = str(t)
    return base + ("?" + urlencode(params) if params else "")


def handout_buttons(sel: Selection, keys: tuple = (), memory: bool = True, title: str = "", box=None) -> None:
    """Download the current view as one self-contained HTML file and as a PNG (made when clicked)."""
    box = box or st
    t = min(int(st.session_state[K.step]), sel.steps - 1)
    j = min(int(st.session_state[K.unit]), sel.main.hidden_size - 1)
    link = current_link()
    stem = f"lstm-gate-lab-step-{t}"

    def make_html() -> bytes:
        return handout.html_document(sheet(sel, t, j, keys, memory, title, link)).encode()

    def make_png() -> bytes:
        return handout.png_document(sheet(sel, t, j, keys, memory, title, link))

    c1, c2 = box.columns(2)
    c1.download_button("Handout (HTML)", make_html, file_name=f"{stem}.html", mime="text/html", on_click="ignore",
                       help="This view in one file that opens without the app or the internet: heatmaps, the "
                            "step's equations and diagrams, the memory chart.")
    c2.download_button("Handout (PNG)", make_png, file_name=f"{stem}.png", mime="image/png", on_click="ignore")


def notices() -> None:
    for notice in st.session_state.pop(S.NOTICES, ()):
        st.warning(plain(notice, limit=600), icon="⚠️")


def horizon_chart() -> dict:
    """Horizon-wise error of the shipped sine forecasters on held-out data (the manifest), as Vega-Lite."""
    rows = [{"steps ahead": h + 1, "RMSE": float(v), "model": m["kind"].upper()}
            for m in data.manifest()["models"] if m["task"] == "sine"
            for h, v in enumerate(m["held_out"].get("horizon_rmse", ()))]
    colours = {"LSTM": "#0072b2", "GRU": "#009e73", "RNN": "#d55e00"}
    present = [k for k in colours if any(r["model"] == k for r in rows)]
    return {"data": {"values": rows}, "height": 200, "mark": {"type": "line", "point": True, "strokeWidth": 3},
            "encoding": {"x": {"field": "steps ahead", "type": "quantitative"},
                         "y": {"field": "RMSE", "type": "quantitative", "title": "held-out RMSE"},
                         "color": {"field": "model", "type": "nominal",
                                   "scale": {"domain": present, "range": [colours[k] for k in present]}}}}


def handout_section(sel: Selection) -> None:
    """Explore's handout and link: the view as a file, and what the address bar carries."""
    box = sections.opened("Handout and link: this view for a class", K.handout_open)
    if box is None:
        return
    with box:
        st.caption(plain(link_note(uploaded(st.session_state))))
        handout_buttons(sel)
