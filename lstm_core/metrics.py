"""Losses and the seed's evaluation checklist: task metric, horizon-wise error, overfitting gap, latency.

Everything is masked: only the steps a task scores (TaskData.loss_mask, or each sequence's last real
step for a "final" readout) count, so padding never changes a number.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
import torch.nn.functional as F

# metric name -> True when higher is better
METRICS = {"mse": False, "rmse": False, "accuracy": True, "f1": True, "perplexity": False}


def masked_loss(out, y, loss: str, mask=None) -> torch.Tensor:
    """Mean loss over scored items. out: (B, n) or (B, T, n); y: (B, n)/(B,) or (B, T, n)/(B, T);
    mask (B, T) bool for per-step outputs (None: every item counts)."""
    if loss == "mse":
        err = ((out - y) ** 2).mean(-1)  # (B,) or (B, T)
    else:
        logits = out.reshape(-1, out.shape[-1])
        err = F.cross_entropy(logits, y.reshape(-1).clamp_min(0), reduction="none").reshape(y.shape)
    if mask is None:
        return err.mean()
    m = mask.to(err.dtype)
    return (err * m).sum() / m.sum().clamp_min(1)


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


def latency_per_step(model: torch.nn.Module, input_size: int, steps: int = 10_000, repeats: int = 3) -> float:
    """Inference latency on one long sequence, in microseconds per step (best of a few runs)."""
    x = torch.zeros(1, steps, input_size)
    best = math.inf
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for _ in range(repeats):
            t0 = time.perf_counter()
            model.cell(x)
            best = min(best, time.perf_counter() - t0)
    model.train(was_training)
    return best / steps * 1e6
