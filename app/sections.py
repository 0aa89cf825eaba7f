"""Sections of the Explore page: the story on top (answers and memory in words), and below the stepping
view memory at a glance, the file preview, downloads and the seed notes."""

from __future__ import annotations

import json

import numpy as np
import streamlit as st

import lstm_core
from lstm_core import loops
from lstm_core.limits import MAX_EXPORT_ROWS

from . import data, figures, story
from . import state as S
from .cache import frozen, key_of
from .components import text_view
from .selection import Selection
from .step_view import feature_label
from .stepping import step_follower
from .text import plain

K = S.KEYS


def answers(sel: Selection, outs: tuple) -> tuple[np.ndarray | None, tuple]:
    """(T, 2) the probability each model gives the right answer at the scored steps of a per-step task, for the
    trace view's answers panel, and the models' names; (None, ()) when there is no such panel."""
    if any(o is None or o.readout != "per_step" for o in outs):
        return None, ()
    right = np.stack([story.scored_probability(o, sel.y) for o in outs], 1)
    return frozen(right), tuple(story.model_name(m) for m in (sel.main, sel.rnn))


def story_band(sel: Selection, outs: tuple) -> None:
    """The first lines of the page: the task as a question (the models' technical names on hover), the right
    answer beside each model's, warnings for a model that fails its task, and the sentence on memory."""
    technical = f"{sel.title}. Input: {sel.what}"
    band = st.container(key="story")
    band.markdown("#### " + plain(sel.question or sel.title), help=plain(technical, limit=600))
    main_out, rnn_out = outs
    cards = [story.truth_card(main_out or rnn_out, sel.target),
             story.card(sel.main, main_out, data.held_out(sel.main)),
             story.card(sel.rnn, rnn_out, data.held_out(sel.rnn))]
    for col, c in zip(band.columns([0.8, 1.2, 1.5]), cards, strict=True):
        mark = {"right": " :green[✓ right]", "wrong": " :red[✗ wrong]"}.get(c.verdict, "")
        text = f"**{plain(c.who)}**{mark}  \n{plain(c.says)}"
        if c.warning:
            text += f"  \n:orange[⚠ {plain(c.warning)}]"
        elif c.detail:
            text += f"  \n:small[{plain(c.detail)}]"
        col.markdown(text)
    marked = bool(sel.marks)
    spans = data.memory_spans(sel.main, sel.rnn, sel.x, min(sel.marks[0], sel.steps - 1) if marked else 0)
    band.markdown(plain(story.sentence(sel.main, sel.rnn, spans, sel.steps, marked)))


def forecast(sel: Selection, outs: tuple) -> None:
    """A forecasting task's answer drawn: the input's last steps, the right values and each model's forecast."""
    if any(o is None or o.readout != "final" or o.loss != "mse" or len(o.said) < 2 for o in outs):
        return
    names = [sel.main.network.cell.label, sel.rnn.network.cell.label]  # short: they name the legend's lines
    spec = figures.forecast_chart(sel.raw[-30:, 0], np.ravel(sel.y),
                                  {n: o.outputs[-1] for n, o in zip(names, outs, strict=True)})
    st.markdown("##### The forecast against the truth")
    st.vega_lite_chart(spec, width="stretch")


def text(sel: Selection) -> bool:
    """A text input as its characters, coloured by the shown unit's C_t or h_t; False if x is not text."""
    if story.text_of(sel.x, sel.feature_names) is None:
        return False
    keys = [k for k in ("c", "h") if k in lstm_core.CELLS[sel.main.kind].keys]
    if st.session_state[K.text_colour] not in keys:
        st.session_state[K.text_colour] = keys[-1]
    unit = min(int(st.session_state[K.unit]), sel.main.hidden_size - 1)
    key = st.session_state[K.text_colour]
    message = data.text_view(sel.main, sel.x, sel.feature_names, key, unit)
    left, right = st.columns([3, 2], vertical_alignment="center")
    left.caption(plain(message["caption"]))
    cell = lstm_core.CELLS[sel.main.kind]
    right.radio("Colour the text by", keys, key=K.text_colour, horizontal=True, label_visibility="collapsed",
                format_func=lambda k: f"by {cell.quantity(k).symbol} ({cell.quantity(k).name})")
    text_view({**message, "caption": ""}, K.text_view)
    return True


def opened(label: str, key: str):
    """An expander whose contents are drawn only while it is open: the first page sends none of them (the
    browser's Markdown, KaTeX and widget rendering of closed expanders was a large part of a cold start).
    Opening it reruns the page. Returns the expander to draw into, or None while it is closed."""
    box = st.expander(label, key=key, on_change="rerun")
    return box if box.open else None


MEMORY_CHART_PX = 330  # the memory chart's height on the page: its plot (260 px), axes and legend


def _first_screen_drawn() -> None:
    """The trace view has drawn: the chart may come, and numba may load (the server held it back until now:
    streamlit_app.py)."""
    st.session_state[S.MEMORY_READY] = True
    loops.warm_up_in_background()


@st.fragment
def memory(sel: Selection, box) -> None:
    """How long each model carries a nudge of one early input. Its own fragment: the step marker
    catches up through the step follower once stepping pauses, instead of redrawing on every step.

    A session's first page draws the chart's place only, and the follower asks for the chart once the trace
    view has drawn: the chart (Vega-Lite, below the first screen) held the first screen back by about a second
    of the browser's time on a cold start."""
    t = int(st.session_state[K.step])
    T = sel.steps
    ready = bool(st.session_state[S.MEMORY_READY])
    with box:
        step_follower(t, K.memory_follower, wait=not ready, on_sync=_first_screen_drawn)
        st.markdown("##### Memory at a glance: nudge one input, watch how long each model still feels it")
        c1, c2, c3 = st.columns([1, 1, 3])
        if st.session_state.get(S.NUDGE_FOR) != key_of(sel.x):  # a new input: nudge its first marked step
            st.session_state[K.nudge_step] = min(sel.marks[0] if sel.marks else 0, T - 1)
            st.session_state[S.NUDGE_FOR] = key_of(sel.x)
        S.clamp(K.nudge_step, T - 1)
        nudge = c1.number_input("Nudged step", 0, T - 1, key=K.nudge_step)
        F = sel.x.shape[1]
        S.clamp(K.nudge_feature, F - 1)
        feature = c2.selectbox("Nudged feature", list(range(F)), key=K.nudge_feature,
                               format_func=lambda k: feature_label(sel.feature_names[k]) if k < len(sel.feature_names)
                               else str(k))
        c3.caption(f"The input at step {int(nudge)} is raised by 1 (in the model's input units) and both sequences "
                   "are run again; each line is how much the state at step t changed. The cell state C_t is the "
                   "LSTM's memory highway; the RNN has only h_t.")
        place = st.container(key="memory_chart")
        if not ready:  # the chart's place, the chart's height: nothing below it moves when it comes
            place.container(height=MEMORY_CHART_PX, border=False).caption("Drawing the chart…")
            return
        spec = data.memory_spec(sel.main, sel.rnn, sel.x, int(nudge), int(feature))
        place.vega_lite_chart(figures.at_step(spec, t), width="stretch")


def data_preview() -> None:
    """The file behind the page: what the checks said, a table and a small plot."""
    result = st.session_state.get(S.UPLOADED_SEQUENCES)
    if st.session_state[K.sequence_source] not in ("upload", "sample") or result is None:
        return
    box = opened(plain(f"Your data: {result.source}, what the checks said, a preview"), K.data_open)
    if box is None:
        return
    with box:
        st.markdown("\n".join(f"- {plain(n)}" for n in result.notes) or "- read as it is")
        b = min(int(st.session_state[K.upload_sequence]), result.batch_size - 1)
        frame = result.to_frame(raw=True)
        c1, c2 = st.columns([1, 1])
        c1.dataframe(frame.head(500), height=260, hide_index=True)
        seq = frame[frame.sequence_id == result.sequence_ids[b]].drop(columns=["sequence_id"]).set_index("step")
        c2.line_chart(seq.iloc[:: max(1, len(seq) // 2000)], height=260)
        if result.normalisation is not None:
            st.caption("Normalisation fitted on this file (x_norm = (x − shift) / scale):")
            st.dataframe({"feature": list(result.feature_names), "shift": result.normalisation.shift,
                          "scale": result.normalisation.scale}, hide_index=True)
        stem = result.source.rsplit(".", 1)[0]
        c1, c2 = st.columns(2)
        c1.download_button("Every sequence as read (CSV, normalised if chosen)",
                           lambda: result.to_csv_bytes(), file_name=f"{stem}-sequences.csv",
                           mime="text/csv", on_click="ignore")
        if result.normalisation is not None:
            c2.download_button("Normalisation parameters (JSON)",
                               lambda: json.dumps(result.normalisation.to_dict(), indent=1),
                               file_name=f"{stem}-normalisation.json", mime="application/json", on_click="ignore")


def exports(sel: Selection) -> None:
    """Everything on the page, as files: the traces, the input, the models, plotly figures. Each file is
    made when its button is clicked, from the shared cache (no session keeps a trace for its buttons),
    and a click does not rerun the page."""
    main_tr = data.trace(sel.main, sel.x)
    cell = sel.main.network.cell
    name = cell.label
    stem = f"{cell.name}-{sel.main.variant}" if len(cell.variants) > 1 else cell.name
    box = opened("Download: traces, input, models, figures", K.exports_open)
    if box is None:
        return
    with box:
        c = st.columns(3)
        rows = main_tr.tidy_rows
        too_long = rows > MAX_EXPORT_ROWS
        c[0].download_button(f"{name} trace (tidy CSV)", lambda: data.trace(sel.main, sel.x).to_csv_bytes(),
                             file_name=f"trace-{stem}.csv",
                             mime="text/csv", on_click="ignore", disabled=too_long,
                             help=(f"{rows:,} rows: over the {MAX_EXPORT_ROWS:,}-row limit for CSV; use the NPZ, "
                                   "or `python -m lstm_core trace` from the command line." if too_long else
                                   f"One row per step, unit and quantity ({rows:,} rows)."))
        c[1].download_button(f"{name} trace (NPZ)", lambda: data.trace(sel.main, sel.x).to_npz_bytes(),
                             file_name=f"trace-{stem}.npz", on_click="ignore")
        c[2].download_button("RNN trace (NPZ)", lambda: data.trace(sel.rnn, sel.x).to_npz_bytes(),
                             file_name="trace-rnn.npz", on_click="ignore")
        c = st.columns(3)
        c[0].download_button("Input as the model reads it (CSV)", lambda: figures.input_csv(sel.x, sel.feature_names),
                             file_name="input.csv", mime="text/csv", on_click="ignore")
        c[1].download_button(f"{name} model (.pt)", sel.main.to_bytes, file_name=f"model-{stem}.pt", on_click="ignore",
                             help="One checkpoint file: weights, sizes, task, normalisation, history; it loads back "
                                  "here or with lstm_core.load_model.")
        c[2].download_button("RNN model (.pt)", sel.rnn.to_bytes, file_name="model-rnn.pt", on_click="ignore")
        if st.toggle("Show every heatmap as a plotly figure (zoom, and plotly's own PNG export)", key=K.plotly_figures):
            for key in main_tr.quantities:
                st.plotly_chart(figures.heatmap_figure(main_tr, key, int(st.session_state[K.step])))


def seed_notes() -> None:
    """The notes the product grew from: equations, variants, practical advice, the evaluation checklist."""
    import lstm_core

    from .content import EVALUATION_CHECKLIST, PRACTICAL_ADVICE

    lstm, rnn = lstm_core.CELLS["lstm"], lstm_core.CELLS["rnn"]
    box = opened("The LSTM in one page: equations, what each gate does, variants, training advice", K.notes_open)
    if box is None:
        return
    with box:
        c1, c2 = st.columns(2)
        with c1:
            st.latex(figures.aligned(list(lstm.latex)))
            st.markdown("\n".join(f"- **{q.name}** (${q.latex}$): {q.intuition}" for q in lstm.quantities))
            st.caption("Vanilla RNN, for comparison:")
            st.latex(figures.aligned(list(rnn.latex)))
        with c2:
            st.markdown("**Variants** (Greff et al. 2017; pick one in the sidebar)\n\n"
                        + "\n".join(f"- `{v.name}`: {v.description}" for v in lstm.variants.values()))
            st.markdown("**Practical advice** (what the training code does)\n\n"
                        + "\n".join(f"- {a}" for a in PRACTICAL_ADVICE))
            st.markdown("**Evaluation checklist** (what every training run reports)\n\n"
                        + "\n".join(f"{k}. {a}" for k, a in enumerate(EVALUATION_CHECKLIST, 1)))
