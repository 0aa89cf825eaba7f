"""How long a network remembers: nudge one input and watch the states change at every later step."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import LabError
from .tracing import trace


@dataclass(frozen=True)
class MemoryCurve:
    step: int  # the nudged step
    feature: int  # the nudged feature
    eps: float  # the size of the nudge, in the model's input units
    h: np.ndarray  # (T,) ||h_t(x + nudge) - h_t(x)||, zero before `step`
    c: np.ndarray | None  # (T,) the same for the LSTM cell state, else None


def memory_curve(model, x, step: int, feature: int = 0, eps: float = 1.0) -> MemoryCurve:
    """Nudge input `feature` at `step` by `eps`; return the L2 change of h_t (and C_t) at every step t.

    x is one sequence (T, F) in the model's input units. Both runs go through one batched trace."""
    x = np.asarray(x, np.float32)
    if x.ndim != 2:
        raise LabError(f"x must be one sequence (T, F); got shape {x.shape}")
    T, F = x.shape
    if not 0 <= step < T:
        raise LabError(f"the nudged step must be between 0 and {T - 1}; got {step}")
    if not 0 <= feature < F:
        raise LabError(f"the nudged feature must be between 0 and {F - 1}; got {feature}")
    nudged = x.copy()
    nudged[step, feature] += eps
    tr = trace(model, np.stack([x, nudged]))
    dh = np.linalg.norm(tr["h"][1].astype(np.float64) - tr["h"][0], axis=1)
    dc = np.linalg.norm(tr["c"][1].astype(np.float64) - tr["c"][0], axis=1) if "c" in tr else None
    return MemoryCurve(step, feature, float(eps), dh, dc)

