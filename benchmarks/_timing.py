"""Shared timing helper: interleave the candidate and its reference so both see the same machine state."""

from __future__ import annotations

import statistics
import time


def interleaved(candidate, reference, reps: int = 15, warmup: int = 2) -> dict:
    """Time candidate and reference alternately; report medians and the median of per-pair ratios."""
    for _ in range(warmup):
        candidate()
        reference()
    cand, ref, ratios = [], [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        reference()
        t1 = time.perf_counter()
        candidate()
        t2 = time.perf_counter()
        ref.append(t1 - t0)
        cand.append(t2 - t1)
        ratios.append((t2 - t1) / (t1 - t0))
    return {
        "candidate_ms": statistics.median(cand) * 1e3,
        "reference_ms": statistics.median(ref) * 1e3,
        "ratio": statistics.median(ratios),
        "ratio_q1_q3": tuple(statistics.quantiles(ratios, n=4)[::2]),
    }
