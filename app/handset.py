"""Hand-set weights on the page: the preset picker and one slider per weight of the one-unit LSTM, and the
forget-gate bias shift for any LSTM (issue 15). Widgets only; lstm_core.presets holds the weights."""

from __future__ import annotations

import streamlit as st

from lstm_core import presets

from . import state as S

K = S.KEYS
NAMES = {"value": "value", "write": "write", "reset": "reset", "h": "h(t−1)", "b": "bias"}
GATE_NAMES = {"f": "forget gate f", "i": "input gate i", "g": "candidate C̃", "o": "output gate o"}


def set_weights(name: str) -> None:
    """The sliders' values: the preset's weights."""
    p = presets.preset(name)
    for (g, c), key in S.HAND_KEYS.items():
        st.session_state[key] = p.weight(g, c)


def load_preset() -> None:
    """A new preset brings its own weights, and its input starts at step 0."""
    set_weights(st.session_state[K.preset])
    st.session_state[K.step] = 0


def weight_slider(box, gate: str, column: str, label: str | None = None) -> None:
    box.slider(label or f"{GATE_NAMES[gate]}: {NAMES[column]}", -presets.LIMIT, presets.LIMIT, step=0.1,
               key=S.HAND_KEYS[(gate, column)], format="%.1f")


def draw_controls(sb) -> None:
    """In the sidebar: the preset, its weights (when the model is hand-set) and the forget-bias shift."""
    ss = st.session_state
    if ss[K.model_source] == "handset":
        sb.selectbox("Hand-set unit", list(presets.PRESETS), key=K.preset, on_change=load_preset,
                     format_func=lambda n: presets.PRESETS[n].title,
                     help="A one-unit LSTM whose weights you can read: " + "; ".join(
                         f"{p.title.lower()}: {p.does}" for p in presets.PRESETS.values()))
        with sb.expander("The unit's weights", expanded=False):
            st.caption("Each gate: σ(w_value·value + w_write·write + w_reset·reset + w_h·h(t−1) + bias) "
                       "(C̃: tanh). The link carries every change.")
            for g in presets.GATES:
                st.markdown(f"**{GATE_NAMES[g]}**")
                for c in presets.COLUMNS:
                    weight_slider(st, g, c, f"{g}: {NAMES[c]}")
            st.button("Back to the preset's weights", on_click=load_preset)
    # Always drawn (disabled without a forget gate): a widget left out of a run loses its value, and the link's.
    sb.slider("Forget-gate bias shift (b_f + δ)", -10.0, 10.0, step=0.5, key=K.forget_shift, format="%+.1f",
              disabled=ss[K.cell] != "lstm" and ss[K.model_source] != "handset",
              help="Added to every LSTM unit's forget-gate bias: more keeps memory longer, less forgets sooner.")
