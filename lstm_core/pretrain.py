"""Make the pretrained checkpoints shipped in assets/models/, reproducibly from seeds.

    python -m lstm_core.pretrain [--out assets/models] [--only TASK ...]

Every task of TASKS is trained with an LSTM, a GRU and a vanilla tanh RNN of the same size, for the same
number of epochs (early stopping may end a run sooner), then scored on freshly generated held-out data.
A manifest.json lists each file with its task, its figures and this command.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import time
from pathlib import Path

from .tasks import TASKS
from .training import TrainConfig, held_out_metrics, train

log = logging.getLogger(__name__)

KINDS = ("lstm", "gru", "rnn")
# Per task: the training recipe (epochs, not seconds, so a rerun repeats the same steps).
PLAN = {
    "adding": dict(length=100, max_epochs=40),
    "copy": dict(task_params={"delay": 50}, max_epochs=80),
    "sine": dict(length=100, task_params={"horizon": 10}, max_epochs=40),
    "spike": dict(length=100, max_epochs=40),
    "anomaly": dict(length=200, max_epochs=25),
    "charlm": dict(length=100, max_epochs=25, n_train=3000),
}
COMMON = dict(hidden_size=32, seed=0, max_seconds=600.0, patience=15)
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "assets" / "models"


def file_name(task: str, kind: str) -> str:
    return f"{task}-{kind}.npz"


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    ap = argparse.ArgumentParser(prog="python -m lstm_core.pretrain", description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--only", nargs="*", choices=list(TASKS), help="tasks to (re)make; others stay as they are")
    args = ap.parse_args(argv)
    assert set(PLAN) == set(TASKS), "every task needs a recipe"
    args.out.mkdir(parents=True, exist_ok=True)
    manifest_path = args.out / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"models": []}
    keep = [m for m in manifest["models"] if args.only and m["task"] not in args.only]
    made = []
    for task in args.only or list(TASKS):
        for kind in KINDS:
            cfg = TrainConfig.for_task(task, model=kind, **COMMON, **PLAN[task])
            t0 = time.perf_counter()
            res = train(cfg)
            path = args.out / file_name(task, kind)
            res.checkpoint.save(path)
            test = held_out_metrics(res.checkpoint)
            log.info("%-8s %-4s %s: val %.4f, held-out %.4f (baseline %.4f), %d epochs, %.0fs", task, kind,
                     test["metric"], res.metrics["val_metric"], test["value"], test["baseline"],
                     res.metrics["epochs"], time.perf_counter() - t0)
            made.append({"file": path.name, "task": task, "kind": kind, "hidden_size": cfg.hidden_size,
                         "bytes": path.stat().st_size, "held_out": test,
                         "validation": {k: res.metrics[k] for k in ("metric", "val_metric", "val_loss", "train_loss",
                                                                    "gap", "epochs", "stop_reason")},
                         "training_seconds": round(res.metrics["seconds"], 1),
                         "config": dataclasses.asdict(cfg)})
    order = {t: i for i, t in enumerate(TASKS)}
    models = sorted(keep + made, key=lambda m: (order[m["task"]], KINDS.index(m["kind"])))
    cmd = "python -m lstm_core.pretrain" + (f" --only {' '.join(args.only)}" if args.only else "")
    manifest = {"command": "python -m lstm_core.pretrain", "last_run": cmd, "models": models}
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    log.info("wrote %d checkpoints and %s", len(made), manifest_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
