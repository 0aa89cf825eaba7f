"""The first screen's story as plain data: each model's answer next to the right one, whether a model solves
its task at all, and one sentence on memory made from the numbers on screen.

Pure functions (no Streamlit): the Explore page lays the strings out, tests read them. Every number in a
sentence comes from lstm_core (outcome.py, analysis.memory_span, scores.skill), none is written by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import lstm_core
from lstm_core.analysis import MemorySpan
from lstm_core.outcome import Outcome

from .step_view import feature_label


@dataclass(frozen=True)
class Card:
    who: str  # "Right answer", "LSTM", "vanilla RNN"
    says: str  # what it answers, in words
    verdict: str = ""  # "right" | "wrong" | "" (no right answer known)
    detail: str = ""  # e.g. "held-out accuracy 0.971; guessing scores 0.125"
    warning: str = ""  # set when the model does not solve its task


def model_name(ck) -> str:
    """A model as a person names it: 'LSTM', 'LSTM without forget gate (nfg)', 'GRU', 'vanilla RNN'."""
    cell = ck.network.cell
    if cell.name == "rnn":
        return "vanilla RNN"
    if len(cell.variants) > 1 and ck.variant != "vanilla":
        return f"{cell.label}, variant {ck.variant}"
    return cell.label


def memory_name(ck) -> str:
    return "cell state C_t" if ck.network.cell.memory == "c" else "state h_t"


def _words(names) -> str:
    return " ".join(feature_label(n) for n in names)


def says(out: Outcome) -> str:
    """The model's answer on this sequence, in words."""
    k = len(out.steps)
    if out.loss == "mse":
        if len(out.said) == 1:
            return f"says {out.said[0]}"
        return f"forecasts {len(out.said)} steps ahead, off by {out.value:.3f} on average (RMSE)"
    if out.readout == "final":
        return f"says “{out.said[0]}”"
    if len(out.output_names) == 2:  # flags steps as the second class (anomaly)
        flagged = int(sum(s == out.output_names[1] for s in out.said))
        real = int(sum(t == out.output_names[1] for t in out.truth))
        found = int(sum(s == t == out.output_names[1] for s, t in zip(out.said, out.truth, strict=True)))
        return f"flags {flagged} of {k} steps: finds {found} of {real} faults, {flagged - found} false alarms"
    if k <= 12:
        return f"writes {_words(out.said)} ({int(out.right.sum())} of {k} right)"
    return f"guesses {int(out.right.sum())} of {k} next characters right"


def truth(out: Outcome) -> str:
    """The right answer, in words."""
    if out.loss == "mse":
        return out.truth[0] if len(out.truth) == 1 else f"the next {len(out.truth)} values of the clean wave"
    if out.readout == "final":
        return f"“{out.truth[0]}”"
    if len(out.output_names) == 2:
        real = int(sum(t == out.output_names[1] for t in out.truth))
        return f"{real} of {len(out.steps)} steps are faults"
    return _words(out.truth) if len(out.steps) <= 12 else "the text's next characters"


def verdict(out: Outcome) -> str:
    """'right' when every scored answer is right; for many answers (anomaly, text) when the model beats
    guessing on this sequence by the solving margin."""
    if len(out.steps) <= 12 or out.loss == "mse":
        return "right" if out.all_right else "wrong"
    return ""


def _figure(v: float) -> str:
    """A score as people read it: three decimals between 0.01 and 10, else three significant digits."""
    return f"{v:.3f}" if 0.01 <= abs(v) < 10 else f"{v:.3g}"


def held_out_text(held: dict) -> str:
    return f"held-out {held['metric']} {_figure(held['value'])}; guessing {_figure(held['baseline'])}"


def card(ck, out: Outcome | None, held: dict | None) -> Card:
    """A model's card: its answer here, and its held-out score with a warning when it does not solve the task
    (scores.solves: less than half way from guessing to perfect)."""
    name = model_name(ck)
    if out is None:
        return Card(name, "gives no answer here (no trained readout for this input)")
    warning = ""
    detail = ""
    if held is not None:
        detail = held_out_text(held)
        if not lstm_core.solves(held["metric"], held["value"], held["baseline"]):
            warning = f"fails this task ({held['metric']} {held['value']:.3f}, guessing {held['baseline']:.3f})"
    return Card(name, says(out), verdict(out), detail, warning)


def truth_card(out: Outcome | None, target: str) -> Card:
    return Card("Right answer", truth(out) if out is not None else (target or "not known for this input"))


def sentence(main, rnn, spans: tuple[MemorySpan, MemorySpan], T: int, marked: bool) -> str:
    """One sentence on memory, true of the memory curves: how long a nudge of the (first marked) input is felt
    in the main model's memory state and in the RNN's state (analysis.memory_span)."""
    main_span, rnn_span = spans
    what = "the first marked input" if marked else "the first input"
    s = main_span.step
    parts = []
    for ck, span in ((main, main_span), (rnn, rnn_span)):
        who = f"the {model_name(ck)}'s {memory_name(ck)}"
        if span.peak == 0:
            parts.append(f"{who} ignores it")
        elif span.to_the_end:
            parts.append(f"{who} still feels it at the last step, {T - 1 - s} steps later" if T - 1 > s
                         else f"{who} feels it")
        else:
            lost = span.last_felt + 1  # the first step where the change is below FELT x its peak
            parts.append(f"{who} has forgotten it by step {lost}, {lost - s} step{'s' * (lost - s != 1)} later")
    return f"Nudge {what} (step {s}): {parts[0]}; {parts[1]}."


def scored_probability(out: Outcome, y: np.ndarray) -> np.ndarray:
    """(T,) the probability the model gives the right class at each scored step (NaN elsewhere)."""
    p = out.probabilities()
    values = np.full(p.shape[0], np.nan)
    values[out.steps] = p[out.steps, np.asarray(y)[out.steps].astype(int)]
    return values


def _quote(name: str) -> str:
    return f"‘{feature_label(name)}’"


def step_answers(models: tuple, outs: tuple, y, t: int) -> list[str]:
    """What each model outputs at step t, one line per model (and the right answer where the task scores t):
    the top three next characters of a text model, a class and its probability, or a number. A final-readout
    task is read out at every step too, marked as such: only the last step counts."""
    lines = []
    scored_here = False
    for ck, out in zip(models, outs, strict=True):
        if out is None:
            continue
        name = model_name(ck)
        if out.loss == "mse":
            values = ", ".join(f"{v:.3f}" for v in out.outputs[t][:3]) + (" …" if out.outputs.shape[1] > 3 else "")
            lines.append(f"{name}: {values}")
            continue
        top = out.top(t, 3)
        if len(out.output_names) > 12:  # a text model: its three best guesses for the next character
            lines.append(f"{name} guesses next: " + " · ".join(f"{_quote(c)} {p:.2f}" for c, p in top))
        else:
            lines.append(f"{name}: {_quote(top[0][0])} {top[0][1]:.2f}")
        scored_here = scored_here or t in out.steps
    if not lines:
        return []
    first = next(o for o in outs if o is not None)
    if first.readout == "final":
        last = t == first.outputs.shape[0] - 1
        head = "The answer, read at the last step:" if last else "Read out at this step (only the last step counts):"
    elif scored_here:
        head = f"Scored at this step; the right answer is {_quote(first.output_names[int(np.asarray(y)[t])])}:"
    else:
        head = "Output at this step (not scored):"
    return [head, *lines]


UNKNOWN = "\ufffd"  # a step fed as zeros: its character is not in the model's vocabulary


def text_of(x: np.ndarray, names: tuple) -> list[str] | None:
    """The characters of a one-hot text input (one per step, UNKNOWN for an all-zero step), or None when x is
    not one-hot text (more than 4 features, values 0/1, at most one 1 a step, single-character names)."""
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] <= 4 or len(names) != x.shape[1] or not all(len(n) == 1 for n in names):
        return None
    if not np.isin(x, (0.0, 1.0)).all() or (x.sum(1) > 1).any():
        return None
    return [names[int(np.argmax(row))] if row.any() else UNKNOWN for row in x]


def text_view_data(chars: list[str], values: np.ndarray, quantity, lo: float, hi: float, who: str, unit: int) -> dict:
    """The text view's message: each character's fill on the quantity's colour scale over [lo, hi] (the range
    of its heatmap) and a readable ink on it."""
    from .colors import colour_at, text_colour_on

    fill = [colour_at(quantity.scale, float(v), lo, hi) for v in values]
    return {"chars": list(chars), "fill": fill, "ink": [text_colour_on(f) for f in fill],
            "values": [f"{quantity.symbol} = {v:+.3f}" for v in values],
            "caption": f"The text, coloured by the {who}'s unit {unit}: {quantity.symbol} ({quantity.name}), "
                       f"{lo:+.2f} … {hi:+.2f} · click a character to step there"}
