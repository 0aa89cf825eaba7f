"""Training's torch side of the evaluation checklist: the masked loss and inference latency (the metrics
themselves are numpy, in scores.py).

Everything is masked: only the steps a task scores (TaskData.loss_mask, or each sequence's last real
step for a "final" readout) count, so padding never changes a number.
"""

from __future__ import annotations

import math
import time

import torch
import torch.nn.functional as F


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
