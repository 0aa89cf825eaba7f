"""memory.gradient_flow (all T per-step Jacobian norms ‖∂h_T/∂x_t‖_F) vs one torch forward+backward pass.

    python benchmarks/gradient_flow_speed.py [--reps N] [--threads N] [--clock wall|cpu]

The goal: T=1000, H=64 (F=8) at most 3x one forward+backward pass of torch.nn.LSTM with the same
weights (x requiring grad, backward of h_T.sum()), both timed in this run, interleaved; medians of
per-pair ratios. GRU and RNN are compared with torch.nn.GRU / torch.nn.RNN, the peephole variant (no
fused kernel) with the fused vanilla LSTM of the same size.

On a shared machine, --clock cpu times the process's CPU time (time.process_time) instead of the wall
clock, so time spent waiting for a core does not count; with torch's default threads, time spent by its
worker threads (spinning included) does.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lstm_core.memory import gradient_flow  # noqa: E402
from lstm_core.network import Network  # noqa: E402
from lstm_core.tracing import trace  # noqa: E402

MODULES = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}


def network(module, kind: str, variant: str = "vanilla") -> Network:
    sd = {k: v.detach().numpy() for k, v in module.state_dict().items()}
    if variant == "peephole":
        sd["weight_peep_l0"] = np.random.default_rng(0).uniform(-0.3, 0.3, (3, module.hidden_size)).astype(np.float32)
    return Network.from_state_dict(kind, sd, variant)


def forward_backward(module, x: torch.Tensor):
    def run():
        xg = x.detach().requires_grad_(True)
        _, h_n = module(xg)
        h_n = h_n[0] if isinstance(h_n, tuple) else h_n
        h_n.sum().backward()
        return xg.grad

    return run


def interleaved(candidate, reference, reps: int, clock) -> dict:
    """Time candidate and reference alternately with `clock`; medians and the median per-pair ratio."""
    for _ in range(2):
        candidate()
        reference()
    cand, ref, ratios = [], [], []
    for _ in range(reps):
        t0 = clock()
        reference()
        t1 = clock()
        candidate()
        t2 = clock()
        ref.append(t1 - t0)
        cand.append(t2 - t1)
        ratios.append((t2 - t1) / (t1 - t0))
    return {"candidate_ms": statistics.median(cand) * 1e3, "reference_ms": statistics.median(ref) * 1e3,
            "ratio": statistics.median(ratios), "ratio_q1_q3": tuple(statistics.quantiles(ratios, n=4)[::2])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: leave torch's default)")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    args = ap.parse_args()
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.clock} clock; median of {args.reps} "
          f"interleaved pairs; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'case':<22} {'T':>5} {'H':>3} {'flow ms':>9} {'fwd+bwd ms':>11} {'ratio':>6}  (IQR)")
    F = 8
    for kind, variant, T, H, split in [("lstm", "vanilla", 1000, 64, True), ("lstm", "vanilla", 1000, 64, False),
                                       ("lstm", "peephole", 1000, 64, True), ("gru", "vanilla", 1000, 64, False),
                                       ("rnn", "vanilla", 1000, 64, False), ("lstm", "vanilla", 100, 32, True)]:
        torch.manual_seed(0)
        module = MODULES[kind](F, H, batch_first=True)
        ref = MODULES["lstm"](F, H, batch_first=True) if variant != "vanilla" else module
        net = network(module, kind, variant)
        x = torch.randn(1, T, F)
        xn = x[0].numpy()
        trace(net, np.zeros((8, T, F), np.float32))  # this much work waits for the trace's compiled loop
        gradient_flow(net, xn)
        r = interleaved(lambda net=net, xn=xn, split=split: gradient_flow(net, xn, split=split),
                        forward_backward(ref, x), args.reps, clock)
        q1, q3 = r["ratio_q1_q3"]
        name = f"{kind} {variant}" + (" +split" if split and kind == "lstm" else "")
        print(f"{name:<22} {T:>5} {H:>3} {r['candidate_ms']:>9.2f} {r['reference_ms']:>11.2f} "
              f"{r['ratio']:>5.2f}x  ({q1:.2f}-{q3:.2f})")


if __name__ == "__main__":
    main()
