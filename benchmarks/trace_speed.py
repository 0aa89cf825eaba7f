"""Full gate trace vs torch's fused forward on the same weights and input, as ratios measured in one run.

    python benchmarks/trace_speed.py [--reps N]

The goal (issue 2): B=1, T=10,000, H=128, F=8 at most 1.3x the fused torch.nn.LSTM forward.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import interleaved  # noqa: E402

import lstm_core  # noqa: E402

CASES = [  # (kind, B, T, H, F)
    ("lstm", 1, 10_000, 128, 8),
    ("lstm", 32, 500, 128, 8),
    ("lstm", 1, 1_000, 64, 8),
    ("lstm", 1, 100, 16, 8),
    ("gru", 1, 10_000, 128, 8),
    ("rnn", 1, 10_000, 128, 8),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=21)
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; median of {args.reps} interleaved pairs")
    print(f"{'cell':<5} {'B':>3} {'T':>6} {'H':>4} {'trace ms':>9} {'fused ms':>9} {'ratio':>6}  (IQR)")
    for kind, B, T, H, F in CASES:
        torch.manual_seed(0)
        m = lstm_core.make_cell(kind, F, H, seed=0)
        x = torch.randn(B, T, F)
        with torch.no_grad():
            r = interleaved(lambda m=m, x=x: lstm_core.trace(m, x), lambda m=m, x=x: m(x), reps=args.reps)
        q1, q3 = r["ratio_q1_q3"]
        print(f"{kind:<5} {B:>3} {T:>6} {H:>4} {r['candidate_ms']:>9.2f} {r['reference_ms']:>9.2f} "
              f"{r['ratio']:>5.2f}x  ({q1:.2f}-{q3:.2f})")
    # The variants have no fused kernel: report them against the fused vanilla LSTM of the same size.
    B, T, H, F = 1, 1_000, 64, 8
    x = torch.randn(B, T, F)
    ref = lstm_core.make_cell("lstm", F, H, seed=0)
    for variant in ("peephole", "cifg"):
        m = lstm_core.make_cell("lstm", F, H, variant=variant, seed=0)
        with torch.no_grad():
            r = interleaved(lambda m=m: lstm_core.trace(m, x), lambda: ref(x), reps=args.reps)
        print(f"{variant:<9} B=1 T={T} H={H}: {r['candidate_ms']:.2f} ms, {r['ratio']:.2f}x the fused vanilla LSTM")


if __name__ == "__main__":
    main()
