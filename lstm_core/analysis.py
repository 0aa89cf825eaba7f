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


def memory_curve(model, x, step: int, feature: int = 0, eps: float = 1.0, base=None) -> MemoryCurve:
    """Nudge input `feature` at `step` by `eps`; return the L2 change of h_t (and C_t) at every step t.

    x is one sequence (T, F) in the model's input units. Both runs go through one batched trace, unless
    `base`, the model's Trace of this very x (one sequence), is given: then only the nudged run is traced
    (half the work; a long input's story waits on it). Traced alone or beside x, the nudged run's numbers are
    the same (one sequence, or a batch of fewer than four, runs the per-sequence loop)."""
    x = np.asarray(x, np.float32)
    if x.ndim != 2:
        raise LabError(f"x must be one sequence (T, F); got shape {x.shape}")
    T, F = x.shape
    if T == 0:
        raise LabError("x is an empty sequence (0 steps): nothing to nudge")
    if not 0 <= step < T:
        raise LabError(f"the nudged step must be between 0 and {T - 1}; got {step}")
    if not 0 <= feature < F:
        raise LabError(f"the nudged feature must be between 0 and {F - 1}; got {feature}")
    nudged = x.copy()
    nudged[step, feature] += eps
    if base is None:
        tr = trace(model, np.stack([x, nudged]))
        runs = {k: (tr[k][0], tr[k][1]) for k in ("h", "c") if k in tr}
    else:
        if base.batched or base.steps != T:
            raise LabError(f"base must be the trace of x, one sequence of {T} steps; got "
                           f"{'a batch' if base.batched else 'one sequence'} of {base.steps} steps")
        tr = trace(model, nudged)
        runs = {k: (base[k], tr[k]) for k in ("h", "c") if k in tr}
    dh = row_distances(*runs["h"])
    dc = row_distances(*runs["c"]) if "c" in runs else None
    return MemoryCurve(step, feature, float(eps), dh, dc)


ROWS_AT_ONCE = 4096  # rows of float64 differences at a time: 2 MB at H = 64, reused, not 100 MB at T = 100,000


def row_distances(a, b) -> np.ndarray:
    """‖a_t − b_t‖₂ for each row t of two (T, H) float32 arrays, in float64 (a difference of two float32 numbers
    is exact there). A block of rows at a time: whole-array float64 temporaries of a 100,000-step trace were 50 MB
    each, and in a server process each was fresh memory, faulted in page by page (0.6 s of a 100,000-step page's
    nudge curve, against 0.13 s for the same arrays in a small process)."""
    out = np.empty(len(a), np.float64)
    for lo in range(0, len(a), ROWS_AT_ONCE):
        d = np.subtract(a[lo:lo + ROWS_AT_ONCE], b[lo:lo + ROWS_AT_ONCE], dtype=np.float64)
        out[lo:lo + ROWS_AT_ONCE] = np.sqrt(np.einsum("ij,ij->i", d, d))
    return out



FELT = 0.01  # a nudge is still felt while the change is at least this fraction of its largest value


@dataclass(frozen=True)
class MemorySpan:
    step: int  # the nudged step
    peak: float  # the largest change, at or after the nudged step
    last_felt: int  # the last step whose change is at least FELT x peak (before the first that falls below)
    to_the_end: bool  # still felt at the last step

    @property
    def steps(self) -> int:
        """How many steps after the nudge it is still felt."""
        return self.last_felt - self.step


def memory_span(change: np.ndarray, step: int, felt: float = FELT) -> MemorySpan:
    """How long a nudge at `step` is felt in a change curve (MemoryCurve.h or .c): from the nudge until the
    change first falls below `felt` x its peak. A change of zero (an input the model ignores) is felt for
    no step."""
    change = np.asarray(change, np.float64)
    after = change[step:]
    peak = float(after.max()) if after.size else 0.0
    if peak <= 0:
        return MemorySpan(step, 0.0, step, False)
    below = np.flatnonzero(after[1:] < felt * peak)
    last = step + (int(below[0]) if below.size else len(after) - 1)
    return MemorySpan(step, peak, last, not below.size)
