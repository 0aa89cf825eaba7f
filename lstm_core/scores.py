"""The seed's evaluation checklist in numpy: a task's metric on a model's outputs, which of two values is
better, and how much of the way from guessing to perfect a model gets (`skill`).

No torch here: the app's first screen judges the shipped models' answers with numpy alone.
"""

from __future__ import annotations

import math

import numpy as np

# metric name -> True when higher is better
METRICS = {"mse": False, "rmse": False, "accuracy": True, "f1": True, "perplexity": False}


PERFECT = {"mse": 0.0, "rmse": 0.0, "accuracy": 1.0, "f1": 1.0, "perplexity": 1.0}
SOLVES = 0.5  # a model solves its task when it gets at least half way from guessing to perfect


def evaluate(out: np.ndarray, y: np.ndarray, loss: str, metric: str, mask=None) -> dict:
    """The task's metrics on numpy outputs. Returns {'loss', metric, and extras} as floats."""
    out = np.asarray(out, np.float64)
    res = {}
    if loss == "mse":
        sq = (out - y) ** 2  # (B, n) or (B, T, n)
        if mask is not None:
            sq = sq[mask]
        res["loss"] = float(sq.mean())
        res["mse"] = res["loss"]
        res["rmse"] = math.sqrt(res["loss"])
        if sq.ndim == 2 and sq.shape[1] > 1:  # forecasting: one error per horizon step
            res["horizon_rmse"] = [float(v) for v in np.sqrt(sq.mean(0))]
    else:
        logits = out if mask is None else out[mask]
        labels = y if mask is None else y[mask]
        logits = logits.reshape(-1, out.shape[-1])
        labels = labels.reshape(-1)
        logz = logits.max(1, keepdims=True)
        logp = logits - logz - np.log(np.exp(logits - logz).sum(1, keepdims=True))
        ce = float(-logp[np.arange(len(labels)), labels].mean())
        pred = logits.argmax(1)
        res["loss"] = ce
        res["perplexity"] = math.exp(min(ce, 700))
        res["accuracy"] = float((pred == labels).mean())
        tp = int(((pred == 1) & (labels == 1)).sum())
        fp = int(((pred == 1) & (labels != 1)).sum())
        fn = int(((pred != 1) & (labels == 1)).sum())
        res["f1"] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    res["metric"] = res[metric]
    return res


def better(metric: str, a: float, b: float) -> bool:
    """Is metric value a better than b?"""
    return a > b if METRICS[metric] else a < b


def skill(metric: str, value: float, baseline: float) -> float:
    """How far `value` goes from the trivial predictor's `baseline` (0) to a perfect score (1); negative when
    worse than guessing. For mse, rmse and perplexity, the ratio of the errors: 1 - value / baseline."""
    if METRICS[metric]:
        return (value - baseline) / (PERFECT[metric] - baseline) if PERFECT[metric] != baseline else 0.0
    lo = PERFECT[metric]
    return 1.0 - (value - lo) / (baseline - lo) if baseline != lo else 0.0


def solves(metric: str, value: float, baseline: float) -> bool:
    """Does a model with this held-out score solve its task (skill >= SOLVES)?"""
    return skill(metric, value, baseline) >= SOLVES
