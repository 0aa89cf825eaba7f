"""Does chrono initialisation make delayed recall learnable? The command line, as a person would run it.

    python benchmarks/chrono_recall.py                       # chrono, LSTM and GRU, seeds 0-4, 30 s each
    python benchmarks/chrono_recall.py --init 3 --init 1     # the same for other forget-gate biases
    python benchmarks/chrono_recall.py --init default --kinds gru   # the command line's default (GRU: torch's)
    python benchmarks/chrono_recall.py --extra="--patience 1000"

Each run is `python -m lstm_core train --task copy --param delay=50 --model KIND --forget-bias INIT --seed S
--max-seconds 30 --json` in its own process (one after the other, never two at once), with torch on one
thread (OMP_NUM_THREADS=1, unless set already): on a shared two-core machine a second thread made these
small trainings many times slower. Goal (issue 13): with chrono, the LSTM reaches validation accuracy >= 0.9
in >= 4 of 5 seeds (chance: 0.125). Every run is printed; the GRU is reported beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL = 0.9


def run(kind: str, init: str, seed: int, seconds: float, extra: list[str]) -> dict:
    given = [] if init == "default" else ["--forget-bias", init]  # default: the command line's own choice
    cmd = [sys.executable, "-m", "lstm_core", "train", "--task", "copy", "--param", "delay=50", "--model", kind,
           *given, "--seed", str(seed), "--max-seconds", str(seconds), "--json", *extra]
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=seconds * 4 + 120)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.strip()[-500:]}")
    lines = proc.stdout.strip().splitlines()
    out = json.loads(lines[-1])
    accs = [float(line.split("val accuracy ")[1].split()[0]) for line in lines if line.startswith("epoch ")]
    first = next((i + 1 for i, a in enumerate(accs) if a >= GOAL), None)
    times = [float(line.rsplit(None, 1)[-1].rstrip("s")) for line in lines if line.startswith("epoch ")]
    out["reached_at_s"] = times[first - 1] if first else None
    out["command"] = " ".join(shlex.quote(c) for c in cmd[1:])
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--init", action="append", default=None,
                    help="forget-gate init(s): chrono, a number, or default (no --forget-bias)")
    ap.add_argument("--kinds", default="lstm,gru")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--extra", default="", help="more `train` arguments, e.g. --extra='--patience 1000'")
    args = ap.parse_args()
    inits = args.init or ["chrono"]
    extra = shlex.split(args.extra)
    print(f"delayed recall, delay 50 (5 symbols of 8; chance 0.125), --max-seconds {args.seconds:g}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '1')}, extra: {extra or 'none'}", flush=True)
    summary = []
    for init in inits:
        for kind in args.kinds.split(","):
            accs, hits = [], []
            for seed in range(args.seeds):
                r = run(kind, init, seed, args.seconds, extra)
                accs.append(r["val_metric"])
                hits.append(r["val_metric"] >= GOAL)
                at = f", first >= {GOAL} at {r['reached_at_s']:.1f} s" if r["reached_at_s"] is not None else ""
                print(f"{kind:4s} init {init:6s} seed {seed}: val accuracy {r['val_metric']:.4f} after {r['epochs']} "
                      f"epochs, {r['seconds']:.1f} s ({r['stop_reason']}){at}", flush=True)
            summary.append((kind, init, accs, sum(hits)))
    print()
    for kind, init, accs, n in summary:
        print(f"{kind:4s} init {init:6s}: >= {GOAL} in {n}/{len(accs)} seeds; median {statistics.median(accs):.4f}; "
              f"all: {', '.join(f'{a:.3f}' for a in accs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
