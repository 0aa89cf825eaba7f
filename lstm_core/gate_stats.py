"""How a network uses its gates over a batch: each gate's mean value and, per unit, how often it is saturated.

Karpathy, Johnson & Fei-Fei (2015, "Visualizing and understanding recurrent networks") plot each unit of a
gate as a point: the fraction of steps its value is below 0.1 (left-saturated: mostly closed) against the
fraction above 0.9 (right-saturated: mostly open). A forget gate whose units sit high on the second axis
keeps its memory; units near the origin are used as continuous gates. Training reports these per epoch
(training.train's `gate_probe`) and the Train page animates them.

Numpy only: the statistics come from a trace (tracing.py), so they are the numbers the Explore page shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .registry import CELLS
from .tracing import trace

CLOSED, OPEN = 0.1, 0.9  # Karpathy et al.'s thresholds: a gate below 0.1 is saturated closed, above 0.9 open


@dataclass(frozen=True, eq=False)
class GateStats:
    """Gate statistics of one network over a batch of sequences (real steps only, padding left out)."""

    kind: str  # the cell kind (a key of registry.CELLS)
    gates: tuple[str, ...]  # the gates measured, in the seed's order (LSTM f i o, GRU r z)
    mean: dict  # gate -> its mean value over units, steps and sequences
    closed: dict  # gate -> (H,) fraction of each unit's steps with a value below CLOSED
    open: dict  # gate -> (H,) fraction of each unit's steps with a value above OPEN
    steps: int  # real steps the fractions are over (sequences x their lengths)

    @property
    def forget(self) -> float | None:
        """The mean of the kind's forget gate (LSTM f, GRU update gate z), or None for a kind without one."""
        gate = CELLS[self.kind].forget_gate
        return self.mean.get(gate) if gate else None


def gates_of(kind: str) -> tuple[str, ...]:
    """The gates of a kind: its quantities on the fixed 0-1 scale (an RNN has none)."""
    return tuple(q.key for q in CELLS[kind].quantities if q.fixed == (0.0, 1.0))


def gate_stats(model, x, lengths=None) -> GateStats:
    """Run `model` (a Network, Checkpoint or torch layer) over x (B, T, F) with optional lengths and return
    each gate's mean and saturation fractions per unit."""
    tr = trace(model, x, lengths)
    real = ~np.isnan(tr["h"][..., 0]) if tr.batched else np.ones(tr.steps, bool)  # (B, T): padded steps are NaN
    gates = gates_of(tr.kind)
    mean, closed, opened = {}, {}, {}
    for g in gates:
        v = tr[g][real]  # (steps, H)
        mean[g] = float(v.mean()) if v.size else float("nan")
        closed[g] = (v < CLOSED).mean(0) if len(v) else np.zeros(tr.hidden_size)
        opened[g] = (v > OPEN).mean(0) if len(v) else np.zeros(tr.hidden_size)
    return GateStats(tr.kind, gates, mean, closed, opened, int(real.sum()))
