"""Memory: measure what each model remembers, and for how long, on the input chosen in the sidebar."""

from __future__ import annotations

import numpy as np
import streamlit as st

import lstm_core
from app import data, memory_data, memory_views, selection, sidebar, story, sweep_view
from app import state as S
from app.components import text_view, trace_view
from app.text import plain
from lstm_core import loops

S.through_the_entry_point()  # the values of widgets drawn on other pages, which a page switch dropped
K = S.KEYS
CLAMPS = {"freeze": "freeze the memory: f = 1 and i = 0", "forget": "forget everything: f = 0",
          "no_write": "write nothing: i = 0", "reveal": "reveal the whole cell: o = 1",
          "custom": "hold one gate at a value"}

sidebar.draw(S.SPEEDS)
for notice in st.session_state.pop(S.NOTICES, ()):
    st.warning(plain(notice, limit=600), icon="⚠️")
try:
    sel = selection.current()
except lstm_core.LabError as e:
    st.error(plain(e))
    st.stop()
S.sync_url()
T = sel.steps
first = min(sel.marks[0], T - 1) if sel.marks else 0
models = memory_data.models(sel)
# Every view below traces its models again and again: the compiled loops now, not their slow numpy twins while
# numba loads in the background (the server holds numba back until a first page has drawn: streamlit_app.py).
loops.prepare(tuple({ck.kind for _, ck in models}))
st.markdown("#### " + plain("How long does each model remember, and why?"),
            help=plain(f"{sel.title}. Input: {sel.what}", limit=600))
st.caption(plain(f"Input: {sel.what} · models: {', '.join(n for n, _ in models)}", limit=600))

RECALL_KINDS = {"logistic": "logistic (softmax)", "softmax_mlp": "small MLP (softmax)", "linear": "linear (ridge)"}
RECALL_STATES = {"h": "h_t", "c": "C_t (LSTM)", "both": "h_t and C_t together"}
STATE_NAMES = {"h": "h_t", "c": "C_t", "h+c": "h_t and C_t"}
RECALL_AT = {"recall": "when it is asked for", "go": "at the go cue", "delay": "a delay after it"}


def recall_section(models: tuple, sel) -> None:
    """Delayed recall: can a probe read each symbol off the state at the delay? (lstm_core.recall_probe)"""
    st.markdown("###### " + plain("The delayed symbols: can a probe read each one off the state at the delay?"))
    c1, c2, c3 = st.columns(3)
    kind = c1.radio("Probe of the symbol", list(RECALL_KINDS), key=K.recall_kind, format_func=RECALL_KINDS.get)
    state = c2.radio("Read off", list(RECALL_STATES), key=K.recall_state, format_func=RECALL_STATES.get)
    at = c3.radio("At", list(RECALL_AT), key=K.recall_at, format_func=RECALL_AT.get)
    own = sel.main.task or {}
    params = dict(own.get("params") or {}) if own.get("name") == "copy" else {}
    results, heads, r = {}, [], None
    for name, ck in models:
        which = {"both": "h+c", "c": "c"}.get(state, "h") if ck.kind == "lstm" else "h"
        try:
            r = memory_data.recall(ck, kind, which, at, params.get("delay"), params.get("k"), params.get("alphabet"))
        except lstm_core.LabError as e:
            st.caption(plain(f"{name}: {e}", limit=400))
            continue
        results[f"{name} {STATE_NAMES[which]}"] = r
        if r["head_r2"] is not None:
            heads.append(f"{name} R² {np.mean(r['head_r2']):.2f}, accuracy {np.mean(r['head_accuracy']):.2f}")
    if r is None:
        return
    st.vega_lite_chart(memory_views.recall_bars(results), width="stretch")
    k, delay = r["k"], r["delay"]
    where = {"recall": f"symbol j (shown at step j) is read from the state at step j + {k} + {delay} + 1, the step "
                       f"the task asks for it back: {k + delay + 1} steps after it was shown, for every symbol",
             "go": f"every symbol is read from the state at the go cue, step {k + delay}: the end of the wait, "
                   "before any symbol is written back",
             "delay": f"symbol j is read from the state {delay} steps after it was shown (inside the wait)"}[at]
    scored = ("the R² of its predicted probabilities against the one-hot symbol, the Brier skill score"
              if kind != "linear" else "the R² of a least-squares fit to the one-hot symbol")
    st.caption(plain(f"Where each symbol is read: {where}. Score: {scored} (1: certain and right; 0: no better "
                     f"than guessing by the symbols' rates), on {r['n_test']} held-out of "
                     f"{r['n_train'] + r['n_test']} generated sequences (split by sequence, seed 0). The models' "
                     "own readouts at the recall steps, same sequences, mean over the symbols: "
                     f"{'; '.join(heads) or 'none'}. Hover a bar for the accuracy of the probe's "
                     "best guess.", limit=1200))


with st.container(key="mem_retention"):
    st.markdown("##### Retention: change one input, watch how far each state moves afterwards")
    c1, c2 = st.columns([1, 2])
    S.clamp(K.memory_step, T - 1, lo=-1)
    step = c1.number_input("Changed step (−1: the first marked one)", -1, T - 1, key=K.memory_step)
    step = first if step < 0 else int(step)
    mode = c2.radio("Change", ("zero", "perturb"), key=K.memory_mode, horizontal=True,
                    format_func={"zero": "set it to zero", "perturb": "move it by 1 in a random direction"}.get)
    curves = {}
    for name, ck in models:
        r = memory_data.retention(ck, sel.x, step, mode)
        curves[f"{name} h_t"] = (r["steps"], r["h"])
        if r["c"] is not None:
            curves[f"{name} C_t"] = (r["steps"], r["c"])
    st.vega_lite_chart(memory_views.lines(curves, "time step t", "change of the state (L2 norm), log", log=True,
                                          marker=step), width="stretch")

with st.container(key="mem_gradient"):
    st.markdown("##### Gradient flow: how much the last state still depends on each input (the vanishing gradient)")
    curves, dashed, falls = {}, [], []
    for name, ck in models:
        g = memory_data.gradients(ck, sel.x)
        curves[f"{name}"] = (g["steps"], g["norm"])
        if g["cell"] is not None:
            curves[f"{name}: path along C_t"] = (g["steps"], g["cell"])
            curves[f"{name}: path through h_t"] = (g["steps"], g["hidden"])
            dashed += [f"{name}: path along C_t", f"{name}: path through h_t"]
        lag = min(100, len(g["norm"]) - 1)
        early, last = float(g["norm"][-1 - lag]), float(g["norm"][-1])
        if lag > 0:
            falls.append(f"{name} ×{last / early:.3g}" if early > 0 else f"{name}: the early input has no effect")
    st.vega_lite_chart(memory_views.lines(curves, "input step t", "‖∂h_T/∂x_t‖ (Frobenius), log", log=True,
                                          dashed=tuple(dashed)), width="stretch")
    st.caption(plain(f"How much more the last input moves h_T than the input {lag} steps before it: "
                     + "; ".join(falls) + ". The LSTM's dashed lines split its gradient: the path along the cell "
                     "state (every h → gates link cut) and the rest. Values below 10⁻¹⁵ of the largest are drawn "
                     "at that floor; hover for the exact number.", limit=800))

with st.container(key="mem_saturation"):
    st.markdown("##### Gate saturation: how often each unit's gate is shut (< 0.1) or open (> 0.9)")
    points = {}
    for name, ck in models:
        for gate, (below, above) in memory_data.saturation(ck, sel.x).items():
            points[(name, lstm_core.CELLS[ck.kind].quantity(gate).symbol)] = (below, above)
    if points:
        st.vega_lite_chart(memory_views.saturation(points))

with st.container(key="mem_clamp"):
    st.markdown("##### Interventions: hold a gate, see what the memory and the answer do")
    lstm = next(((n, ck) for n, ck in models if ck.kind == "lstm"), None)
    if lstm is None:
        st.caption("Gates can be held on an LSTM: choose the LSTM cell in the sidebar.")
    else:
        name, ck = lstm
        c1, c2, c3, c4 = st.columns([2, 1, 1, 1])
        choice = c1.selectbox("Intervention", list(CLAMPS), key=K.clamp, format_func=CLAMPS.get)
        S.clamp(K.clamp_from, T - 1, lo=-1)
        S.clamp(K.clamp_to, T)
        start = c2.number_input("From step (−1: after the marks)", -1, T - 1, key=K.clamp_from)
        stop = c3.number_input("To step (0: the end)", 0, T, key=K.clamp_to)
        unit_text = c4.text_input("Units", key=K.clamp_units, help="all, or unit numbers such as 0, 3, 5")
        start = (min(sel.marks[-1] + 1, T - 1) if sel.marks else 0) if start < 0 else int(start)
        span = (start, int(stop) if stop > start else T)
        units = None
        if unit_text.strip().lower() != "all":
            try:
                units = tuple(sorted({int(u) for u in unit_text.replace(";", ",").split(",") if u.strip()}))
            except ValueError:
                st.warning(plain(f"Units: {unit_text!r} is not 'all' or unit numbers; holding every unit."))
            if units is not None and (not units or min(units) < 0 or max(units) >= ck.hidden_size):
                st.warning(plain(f"Units run from 0 to {ck.hidden_size - 1}; holding every unit."))
                units = None
        if choice == "custom":
            g1, g2 = st.columns(2)
            gate = g1.selectbox("Gate", ("f", "i", "g", "o"), key=K.clamp_gate)
            value = g2.slider("Value (percent of 1)", 0, 100, key=K.clamp_value) / 100
            held = ((gate, value),)
        else:
            held = {"freeze": (("f", 1.0), ("i", 0.0)), "forget": (("f", 0.0),), "no_write": (("i", 0.0),),
                    "reveal": (("o", 1.0),)}[choice]
        clamps = tuple((("gate", g), ("value", float(v)), ("units", units), ("steps", span)) for g, v in held)
        trace_view(memory_data.clamp_payload(ck, sel.x, sel.raw, sel.feature_names, sel.marks, clamps),
                   key=K.clamp_view)
        if sel.y is not None and ck.head is not None and (ck.task or {}).get("name") == sel.task:
            held_tr = memory_data.clamped(ck, sel.x, clamps)
            before = data.outcome(ck, sel.x, sel.y, sel.scored)
            after = lstm_core.outcome.outcome(ck, held_tr["h"], sel.y, sel.scored, ck.task)
            st.markdown(plain(f"{name} as trained {story.says(before)} ({before.metric} {before.value:.3f}); "
                              f"with the gate held it {story.says(after)} ({after.metric} {after.value:.3f}). "
                              f"Right answer: {story.truth(before)}."))

with st.container(key="mem_trajectory"):
    st.markdown("##### State trajectory: the states projected on their two main directions, coloured by time")
    which = st.radio("State", ("h", "c"), key=K.memory_state, horizontal=True,
                     format_func={"h": "hidden state h_t", "c": "cell state C_t (LSTM)"}.get)
    points = {}
    for name, ck in models:
        key = which if which in lstm_core.CELLS[ck.kind].keys else "h"
        projection, ratio = memory_data.trajectory(ck, sel.x, key)
        points[f"{name} {key}_t ({ratio.sum():.0%} of the variance)"] = projection
    st.vega_lite_chart(memory_views.trajectory(points, tuple(sel.marks)))

with st.container(key="mem_ruler"):
    st.markdown("##### A memory ruler: forget times, and how many steps back the input can be read off the state")
    times = {name: t for name, ck in models if (t := memory_data.forget_times(ck, sel.x)) is not None}
    if times:
        st.vega_lite_chart(memory_views.histogram(times, "forget time τ_j = 1 / (1 − mean gate) in steps"),
                           width="stretch")
    kind = st.radio("Probe", ("linear", "mlp"), key=K.probe_kind, horizontal=True,
                    format_func={"linear": "linear (ridge)", "mlp": "small MLP"}.get)
    if sel.task and sel.y is not None:
        own = sel.main.task or {}
        params = dict(own.get("params") or {}) if own.get("name") == sel.task else {}
        params.setdefault("length", lstm_core.TASKS[sel.task].default_length)
        norm = None if sel.main.normalisation is None else sel.main.normalisation.to_dict()
        curves, capacity = {}, []
        for name, ck in models:
            key = which if which in lstm_core.CELLS[ck.kind].keys else "h"
            p = memory_data.probes(ck, sel.task, params, norm, 30, kind, key)
            curves[f"{name} {key}_t"] = (np.arange(len(p["r2"])), p["r2"])
            capacity.append(f"{name}: MC = {p['mc']:.2f}")
        st.vega_lite_chart(memory_views.lines(curves, "lag k (steps back)", "R² of decoding x_{t−k} (held out)"),
                           width="stretch")
        st.caption(plain(f"Memory capacity (Jaeger 2001), Σ_k R²_k over k = 0…29: {'; '.join(capacity)}. Probed on "
                         f"{memory_data.PROBE_SEQUENCES} generated sequences of the task, split by sequence; the "
                         f"input's scale (standard deviation) is {p['scale']:.2f}, and a nonlinear network's "
                         "capacity depends on it.", limit=800))
    else:
        st.caption("The probes learn from generated sequences of a task: pick a generated example in the sidebar.")
    if sel.task == "copy":
        recall_section(models, sel)

with st.container(key="mem_sweep"):  # delayed recall at delays 5..500, whatever the sidebar shows
    sweep_view.section()

chars = story.text_of(sel.x, sel.feature_names)
if chars is not None:
    with st.container(key="mem_text"):
        st.markdown("##### Interpretable cells: units that track a property of the text")
        name, ck = models[0]
        key = "c" if "c" in lstm_core.CELLS[ck.kind].keys else "h"
        params = dict((ck.task or {}).get("params") or {})
        found = memory_data.interpretable(ck, sel.task, params, key) if sel.task == "charlm" and ck.task else {}
        lines = [f"{prop}: " + ", ".join(f"unit {int(u)} (r = {float(r):+.2f})"
                                         for u, r in zip(*found[prop], strict=True)) for prop in found]
        st.markdown("\n".join(f"- {plain(line)}" for line in lines) if lines else
                    "Correlations are taken over windows of the shipped text: choose the character language "
                    "model's task and its trained model.")
        S.clamp(K.memory_unit, ck.hidden_size - 1)
        unit = st.number_input(f"Unit coloured (0–{ck.hidden_size - 1})", 0, ck.hidden_size - 1,
                               key=K.memory_unit)
        text_view(data.text_view(ck, sel.x, sel.feature_names, key, int(unit)), K.memory_text_view)
