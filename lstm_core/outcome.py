"""What a model answers on one sequence, next to the right answer: its readout head applied to a trace.

    out = outcome(ck, trace(ck, x)["h"], y, scored, ck.task)
    out.said, out.truth, out.right      # per scored step, in words and as right/wrong
    out.value                           # the task's metric on this sequence (scores.evaluate)

Numpy only. A task's answer is scored where the task scores it: the last step for a "final" readout
(adding, forecasting, spike), the steps of `scored` for a "per_step" one (recall, anomaly, next character).
A number counts as right when it is within TOLERANCE of the trivial predictor's error (a tenth of it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import LabError
from .scores import evaluate

TOLERANCE = 0.1  # a regression answer is right within this fraction of the trivial predictor's RMSE


@dataclass(frozen=True, eq=False)
class Outcome:
    outputs: np.ndarray  # (T, n) the head at every step: values (mse) or logits (ce), read-only
    readout: str  # "final" | "per_step"
    loss: str  # "mse" | "ce"
    steps: np.ndarray  # the scored steps, (k,) ints
    said: tuple[str, ...]  # the model's answer at each scored step (one per output for a final forecast)
    truth: tuple[str, ...]  # the right answer, in the same places
    right: np.ndarray  # (k,) bool
    metric: str
    value: float  # the task's metric over this sequence's scored steps
    output_names: tuple[str, ...]

    @property
    def all_right(self) -> bool:
        return bool(self.right.all())

    def probabilities(self) -> np.ndarray:
        """(T, n) softmax of the logits at every step (classification tasks)."""
        if self.loss != "ce":
            raise LabError("probabilities belong to classification tasks; this task's answers are numbers")
        z = self.outputs.astype(np.float64)
        z = np.exp(z - z.max(1, keepdims=True))
        return z / z.sum(1, keepdims=True)

    def top(self, t: int, k: int = 3) -> list[tuple[str, float]]:
        """The k most likely classes at step t, with their probabilities."""
        p = self.probabilities()[t]
        order = np.argsort(-p, kind="stable")[:k]
        return [(self.output_names[i], float(p[i])) for i in order]


def head_outputs(ck, h: np.ndarray) -> np.ndarray:
    """The checkpoint's linear head at every step: h (T, H) -> (T, n_outputs), y = W h + b."""
    if ck.head is None:
        raise LabError("this model has no readout head (an untrained or a bare recurrent layer): it gives no answer")
    h = np.asarray(h, np.float64)
    return h @ ck.head.weight.astype(np.float64).T + ck.head.bias.astype(np.float64)


def _baseline_rmse(task: dict) -> float:
    b = float(task["baseline"])
    return float(np.sqrt(b)) if task["metric"] == "mse" else b


def outcome(ck, h: np.ndarray, y, scored, task: dict) -> Outcome:
    """The model's answers on one sequence: h (T, H) its hidden states, y the task's target for it (final: (n,)
    or a class; per_step: (T,) classes, -1 where unscored), scored (T,) bool for per-step tasks, task the
    checkpoint's task record (readout, loss, metric, baseline, output_names)."""
    out = head_outputs(ck, h)  # (T, n)
    out.flags.writeable = False  # an Outcome may be shared (the app caches it across sessions)
    T = out.shape[0]
    names = tuple(task["output_names"])
    y = np.asarray(y)
    if task["readout"] == "final":
        last = out[T - 1]
        if task["loss"] == "mse":
            target = np.atleast_1d(y).astype(np.float64)
            ev = evaluate(last[None], target[None], "mse", task["metric"])
            right = np.abs(last - target) <= TOLERANCE * _baseline_rmse(task)
            return Outcome(out, "final", "mse", np.array([T - 1]), tuple(f"{v:.3f}" for v in last),
                           tuple(f"{v:.3f}" for v in target), right, task["metric"], float(ev["metric"]), names)
        label = int(np.ravel(y)[0])  # a class, given as a number or a one-element array
        ev = evaluate(last[None], np.array([label]), "ce", task["metric"])
        said = int(np.argmax(last))
        return Outcome(out, "final", "ce", np.array([T - 1]), (names[said],), (names[label],),
                       np.array([said == label]), task["metric"], float(ev["metric"]), names)
    mask = np.asarray(scored, bool) & (y >= 0)
    steps = np.flatnonzero(mask)
    if task["loss"] != "ce" or not len(steps):
        raise LabError("a per-step task must be a classification with at least one scored step")
    ev = evaluate(out[None], y[None], "ce", task["metric"], mask[None])
    said = out[steps].argmax(1)
    truth = y[steps].astype(int)
    return Outcome(out, "per_step", "ce", steps, tuple(names[i] for i in said), tuple(names[i] for i in truth),
                   said == truth, task["metric"], float(ev["metric"]), names)
