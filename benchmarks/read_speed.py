"""read_sequences on a big CSV vs a bare pandas.read_csv of the same file, as a ratio measured in one run.

    python benchmarks/read_speed.py [--rows N] [--reps N]

The goal (issue 5): reading and validating a 1,000,000-row, 8-column numeric CSV costs at most 1.5x
`pandas.read_csv(path)` with its default engine. read_sequences runs with no normalisation and with
limits raised to fit the file (the defaults, 50 MB and 100,000 steps, would refuse it by design).
The file is written once, seeded, to a temporary directory; both readers then alternate on it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import interleaved  # noqa: E402

from lstm_core.readers import ReadOptions, read_sequences  # noqa: E402

COLUMNS = 8


def write_csv(path: Path, rows: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.standard_normal((rows, COLUMNS)), columns=[f"x{j}" for j in range(COLUMNS)])
    frame.to_csv(path, index=False, float_format="%.6f")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.csv"
        write_csv(path, args.rows)
        size = path.stat().st_size
        options = ReadOptions(max_bytes=2 * size, max_steps=args.rows)
        shape = read_sequences(path, options=options).x.shape
        if shape != (1, args.rows, COLUMNS):
            raise SystemExit(f"read_sequences gave x of shape {shape}; expected (1, {args.rows}, {COLUMNS})")
        r = interleaved(lambda: read_sequences(path, options=options), lambda: pd.read_csv(path),
                        reps=args.reps)
    q1, q3 = r["ratio_q1_q3"]
    print(f"{args.rows:,} rows x {COLUMNS} columns, {size / 2**20:.1f} MB; "
          f"median of {args.reps} interleaved pairs")
    print(f"pandas.read_csv  {r['reference_ms']:8.1f} ms")
    print(f"read_sequences   {r['candidate_ms']:8.1f} ms")
    print(f"ratio {r['ratio']:.2f}x (IQR {q1:.2f}-{q3:.2f}); goal <= 1.5x")


if __name__ == "__main__":
    main()
