"""Full gate trace vs torch's fused forward on the same weights and input, as ratios measured in one run.

    python benchmarks/trace_speed.py [--reps N] [--cores N] [--batch B]

The goals: B=1, T=10,000, H=128, F=8 (issue 2) and B=32, T=500 (issue 14) at most 1.3x the fused
torch.nn.LSTM forward. Both sides use every core by default (torch's intra-op threads; the trace splits a
batch between threads). --cores N pins the process to N cores and gives torch (and numpy's OpenBLAS) N
threads: on a machine busy with other work, --cores 1 compares the two on one core each, which a thread
pool's waiting cannot distort.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

if "--cores" in sys.argv:  # before numpy loads OpenBLAS: its thread pool must not outnumber the pinned cores
    os.environ.setdefault("OPENBLAS_NUM_THREADS", sys.argv[sys.argv.index("--cores") + 1])

import torch  # noqa: E402

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
    ("gru", 32, 500, 128, 8),
    ("rnn", 32, 500, 128, 8),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=21)
    ap.add_argument("--cores", type=int, default=0, help="pin to this many cores, torch as many threads (0: all)")
    ap.add_argument("--batch", type=int, default=0, help="only the cases of this batch size (0: all)")
    args = ap.parse_args()
    if args.cores:
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.cores])
        torch.set_num_threads(args.cores)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {len(os.sched_getaffinity(0))} cores; "
          f"median of {args.reps} interleaved pairs; load average {os.getloadavg()[0]:.1f}")
    print(f"{'cell':<5} {'B':>3} {'T':>6} {'H':>4} {'trace ms':>9} {'fused ms':>9} {'ratio':>6}  (IQR)")
    for kind, B, T, H, F in CASES:
        if args.batch and B != args.batch:
            continue
        torch.manual_seed(0)
        m = lstm_core.make_cell(kind, F, H, seed=0)
        x = torch.randn(B, T, F)
        net, xn = lstm_core.from_torch(m), x.numpy()  # tracing runs on numpy weights (the conversion is not timed)
        with torch.no_grad():
            r = interleaved(lambda net=net, xn=xn: lstm_core.trace(net, xn), lambda m=m, x=x: m(x), reps=args.reps)
        q1, q3 = r["ratio_q1_q3"]
        print(f"{kind:<5} {B:>3} {T:>6} {H:>4} {r['candidate_ms']:>9.2f} {r['reference_ms']:>9.2f} "
              f"{r['ratio']:>5.2f}x  ({q1:.2f}-{q3:.2f})")
    if args.batch not in (0, 1):
        return
    # The variants have no fused kernel: report them against the fused vanilla LSTM of the same size.
    B, T, H, F = 1, 1_000, 64, 8
    x = torch.randn(B, T, F)
    ref = lstm_core.make_cell("lstm", F, H, seed=0)
    for variant in ("peephole", "cifg"):
        net = lstm_core.from_torch(lstm_core.make_cell("lstm", F, H, variant=variant, seed=0))
        with torch.no_grad():
            r = interleaved(lambda net=net: lstm_core.trace(net, x.numpy()), lambda: ref(x), reps=args.reps)
        print(f"{variant:<9} B=1 T={T} H={H}: {r['candidate_ms']:.2f} ms, {r['ratio']:.2f}x the fused vanilla LSTM")


if __name__ == "__main__":
    main()
