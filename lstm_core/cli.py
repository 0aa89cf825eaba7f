"""Command line: `python -m lstm_core trace|train|memory|sweep ...`. The one place that prints:
lstm_core's functions return results and report progress through callbacks, and this module formats them.

Every failure a user can cause ends with one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from pathlib import Path

from .errors import LabError

EXIT_USAGE = 2  # bad arguments or bad input
EXIT_INTERNAL = 3  # a bug: say so, and how to see the traceback


def _trace(args) -> int:
    # Imports inside the commands are for start-up time: `--help` and a bad argument need neither torch nor numba.
    from .models import is_random_spec, load_model, random_model  # lazily, for start-up time
    from .readers import ReadOptions, read_sequences  # lazily, for start-up time (pandas)
    from .tracing import trace  # lazily, for start-up time

    path = Path(args.input)
    if not path.is_file():
        raise LabError(f"input file {str(path)!r} does not exist")
    common = {"nan_policy": args.nan, "normalise": args.normalise or "none", "time_column": args.time_column,
              "columns": tuple(c.strip() for c in args.columns.split(",")) if args.columns else None}
    if is_random_spec(args.model):  # a random model takes its input size from the data
        data = read_sequences(path, options=ReadOptions(**common))
        model = random_model(args.model, data.x.shape[-1])
    else:
        model = load_model(args.model)
        data = read_sequences(path, options=ReadOptions(expected_features=model.input_size, vocab=model.vocab,
                                                        **common))
    x = data.x if args.normalise or model.normalisation is None else model.normalisation.apply(data.raw)
    full = bool((data.lengths == x.shape[1]).all())
    if data.batch_size == 1:
        tr = trace(model, x[0, : data.lengths[0]])
    else:
        tr = trace(model, x, None if full else data.lengths)
    tr.save(args.out)
    for note in data.notes:
        logging.info("input: %s", note)
    print(f"traced {model.describe()} over {data.batch_size} sequence(s) of up to {tr.steps} steps "
          f"-> {args.out} (keys: {' '.join(tr)})")
    return 0


def add_train_arguments(sub) -> None:
    from .registry import CELLS, NONLINEARITIES, VARIANTS  # lazily, for start-up time (as every import here)
    from .tasks import TASKS  # lazily, for start-up time
    from .training import NORMALISE_CHOICES, TASK_PRESETS, TrainConfig  # lazily, for start-up time (torch)

    t = sub.add_parser("train", help="train a model on a toy task and save it as one checkpoint file",
                       description="Train an LSTM (or a variant), GRU or RNN on a toy task, printing one line "
                                   "per epoch; with --json the last line is a JSON summary.")
    d = TrainConfig()
    t.add_argument("--task", default=d.task, choices=list(TASKS))
    t.add_argument("--length", type=int, default=None, help="sequence length T (default: the task's own)")
    t.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="a task parameter, e.g. --param delay=50 (repeatable)")
    t.add_argument("--model", default=d.model, choices=list(CELLS))
    t.add_argument("--variant", default=d.variant, choices=list(VARIANTS), help="LSTM variant")
    t.add_argument("--nonlinearity", default=d.nonlinearity, choices=NONLINEARITIES, help="RNN only")
    t.add_argument("--hidden", type=int, default=d.hidden_size, help="hidden units H")
    t.add_argument("--seed", type=int, default=d.seed)
    t.add_argument("--max-seconds", type=float, default=d.max_seconds)
    t.add_argument("--max-epochs", type=int, default=d.max_epochs)
    t.add_argument("--batch-size", type=int, default=d.batch_size)
    t.add_argument("--lr", type=float, default=d.lr)
    t.add_argument("--n-train", type=int, default=d.n_train)
    t.add_argument("--n-val", type=int, default=d.n_val)
    t.add_argument("--patience", type=int, default=d.patience)
    t.add_argument("--clip", type=float, default=d.clip)
    t.add_argument("--dropout", type=float, default=d.dropout)
    t.add_argument("--forget-bias", type=forget_bias, default=None, metavar="NUMBER|chrono",
                   help=f"initial bias of the forget gate: an LSTM's f, a GRU's update gate z (a large z keeps "
                        "the state in torch's GRU); a number, or chrono (Tallec & Ollivier 2018: b_f ~ log U[1, "
                        f"T_max - 1] per unit, and an LSTM's b_i = -b_f). Default: LSTM {CELLS['lstm'].forget_bias} "
                        f"(delayed recall {TASK_PRESETS['copy']['forget_bias']}), GRU torch's own init")
    t.add_argument("--chrono-max", type=int, default=None, metavar="T_MAX",
                   help="chrono's T_max (default: the task's longest dependency, e.g. k + delay + 1 = 56 steps "
                        "for delayed recall)")
    t.add_argument("--normalise", default=d.normalise, choices=NORMALISE_CHOICES)
    t.add_argument("--out", help="where to save the checkpoint (.pt)")
    t.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    t.set_defaults(run=_train)


def forget_bias(text: str) -> float | str:
    """--forget-bias: a number or the word chrono."""
    if text.strip().lower() == "chrono":
        return "chrono"
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither a number nor chrono") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def parse_params(items) -> dict:
    out = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq:
            raise LabError(f"--param {item!r} must look like NAME=VALUE")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def _train(args) -> int:
    from .models import save_model  # lazily, for start-up time
    from .training import EpochReport, TrainConfig, train  # lazily, for start-up time (torch)

    given = {} if args.forget_bias is None else {"forget_bias": args.forget_bias}
    if args.chrono_max is not None:
        if args.forget_bias != "chrono":
            raise LabError("--chrono-max applies to --forget-bias chrono only")
        given["chrono_max"] = args.chrono_max
    cfg = TrainConfig.for_task(args.task, length=args.length, task_params=parse_params(args.param),
                               model=args.model, variant=args.variant, nonlinearity=args.nonlinearity,
                               hidden_size=args.hidden, seed=args.seed, max_seconds=args.max_seconds,
                               max_epochs=args.max_epochs, batch_size=args.batch_size, lr=args.lr,
                               n_train=args.n_train, n_val=args.n_val, patience=args.patience, clip=args.clip,
                               dropout=args.dropout, normalise=args.normalise, **given)

    def show(r: EpochReport) -> None:
        print(f"epoch {r.epoch:3d}  train loss {r.train_loss:.4f}  val loss {r.val_loss:.4f}  "
              f"val {r.metric} {r.val_metric:.4f}{' *' if r.best else ''}  {r.seconds:5.1f}s", flush=True)

    res = train(cfg, on_epoch=show)
    if args.out:
        save_model(res.checkpoint, args.out)
    m = res.metrics
    print(f"done: {res.stop_reason} after {m['epochs']} epochs, {m['seconds']:.1f}s; val {m['metric']} "
          f"{m['val_metric']:.4f} (trivial baseline {m['baseline']:.4f})" + (f"; saved {args.out}" if args.out else ""))
    if args.json:
        summary = {"task": cfg.task, "model": cfg.model, "variant": cfg.variant, "hidden_size": cfg.hidden_size,
                   "seed": cfg.seed, "forget_bias": cfg.forget_bias, "chrono_max": cfg.chrono_max,
                   "val_loss": m["val_loss"], "val_metric": m["val_metric"],
                   "metric": m["metric"], "baseline": m["baseline"], "seconds": round(m["seconds"], 3),
                   "epochs": m["epochs"], "stop_reason": res.stop_reason, "out": args.out}
        print(json.dumps(summary))
    sys.stdout.flush()
    return 0 if not math.isnan(m["val_loss"]) else 1


MEMORY_VIEWS = ("retention", "gradient", "saturation", "trajectory", "forget", "clamp")


def add_memory_arguments(sub) -> None:
    m = sub.add_parser("memory", help="measure what a model remembers on one sequence (the Memory page's numbers)",
                       description="Write the Memory page's numbers for one sequence of a file to JSON: retention "
                                   "after zeroing an input, gradient norms ||dh_T/dx_t|| (LSTM: along C_t and through "
                                   "h_t), gate saturation per unit, a PCA of h_t, forget times, and C_t with f=1, i=0 "
                                   "held from a step.")
    m.add_argument("--model", required=True, help="a checkpoint (.npz or .pt) or KIND:random:H=SIZE:seed=N")
    m.add_argument("--input", required=True, help="a sequence file (.csv .tsv .npy .npz .json .txt)")
    m.add_argument("--sequence", type=int, default=0, help="which sequence of the file (default 0)")
    m.add_argument("--step", type=int, default=0, help="the step changed (retention) and held from (clamp)")
    m.add_argument("--view", action="append", choices=MEMORY_VIEWS, help=f"one of {', '.join(MEMORY_VIEWS)} "
                   "(repeatable; default: all)")
    m.add_argument("--out", required=True, help="where to write the JSON")
    m.set_defaults(run=_memory)


def _memory(args) -> int:
    import numpy as np  # lazily, for start-up time

    from . import memory  # lazily, for start-up time
    from .models import is_random_spec, load_model, random_model  # lazily, for start-up time
    from .readers import ReadOptions, read_sequences  # lazily, for start-up time (pandas)
    from .registry import CELLS  # lazily, for start-up time
    from .tracing import trace  # lazily, for start-up time

    path = Path(args.input)
    if not path.is_file():
        raise LabError(f"input file {str(path)!r} does not exist")
    if is_random_spec(args.model):
        data = read_sequences(path)
        model = random_model(args.model, data.x.shape[-1])
    else:
        model = load_model(args.model)
        data = read_sequences(path, options=ReadOptions(expected_features=model.input_size, vocab=model.vocab))
    if not 0 <= args.sequence < data.batch_size:
        raise LabError(f"--sequence must be between 0 and {data.batch_size - 1}; got {args.sequence}")
    raw = data.sequence(args.sequence)
    x = raw if model.normalisation is None else model.normalisation.apply(raw)
    if not 0 <= args.step < len(x):
        raise LabError(f"--step must be between 0 and {len(x) - 1}; got {args.step}")
    views = args.view or list(MEMORY_VIEWS)
    cell = CELLS[model.kind]
    tr = trace(model, x)
    out = {"model": model.describe(), "input": data.source, "sequence": args.sequence, "steps": len(x)}

    def listed(a):
        return None if a is None else np.asarray(a, np.float64).tolist()

    if "retention" in views:
        r = memory.retention(model, x, args.step, mode="zero")
        out["retention"] = {"step": args.step, "steps": listed(r.steps), "h": listed(r.h), "c": listed(r.c)}
    if "gradient" in views:
        g = memory.gradient_flow(model, x, split=model.kind == "lstm")
        out["gradient"] = {"norm": listed(g.norm), "cell_path": listed(g.cell), "hidden_path": listed(g.hidden)}
    if "saturation" in views:
        out["saturation"] = {q.key: dict(zip(("below_0.1", "above_0.9"), map(listed, memory.saturation(tr, q.key)),
                                             strict=True)) for q in cell.quantities if q.fixed == (0.0, 1.0)}
    if "trajectory" in views:
        points, ratio = memory.state_pca(tr, "h", 2)
        out["trajectory"] = {"h_pca": listed(points), "explained": listed(ratio)}
    if "forget" in views and cell.forget_gate is not None:
        out["forget_time"] = listed(memory.forget_time(tr, cell.forget_gate))
    if "clamp" in views and model.kind == "lstm":
        held = memory.clamped_trace(model, x, [memory.Clamp("f", 1.0, None, (args.step, None)),
                                               memory.Clamp("i", 0.0, None, (args.step, None))])
        out["clamp"] = {"held": "f=1, i=0", "from": args.step, "c": listed(held["c"]), "h": listed(held["h"])}
    Path(args.out).write_text(json.dumps(out))
    print(f"measured {model.describe()} on {data.source} (sequence {args.sequence}, {len(x)} steps): "
          f"{', '.join(k for k in out if k not in ('model', 'input', 'sequence', 'steps'))} -> {args.out}")
    return 0


def _list(kind, text: str) -> list:
    """--delays 5,10,20 and the like: a comma-separated list."""
    try:
        return [kind(v.strip()) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of {kind.__name__} values") from None


def add_sweep_arguments(sub) -> None:
    from .sweep import DEFAULTS, Z_CHANCE  # lazily, for start-up time (no torch)

    s = sub.add_parser("sweep", help="train each model on delayed recall at a list of delays: where each falls "
                                     "to chance",
                       description="The delay sweep: train each model on delayed recall (task copy: 5 symbols of 8, "
                                   "DELAY blank steps, a go cue, the symbols back) at every delay and seed, one after "
                                   "the other, and write each best validation accuracy, the chance level, the epochs, "
                                   "the seconds, what ended the run and its exact settings to a JSON file (saved after "
                                   f"every point). A model is at chance when its accuracy is at most {Z_CHANCE:g} "
                                   "binomial standard errors above chance on the validation symbols.")
    s.add_argument("--delays", type=lambda t: _list(int, t), default=[5, 10, 20, 50, 100, 200, 500],
                   help="blank steps, comma-separated (default 5,10,20,50,100,200,500)")
    s.add_argument("--models", type=lambda t: _list(str, t), default=["lstm", "gru", "rnn"],
                   help="cell kinds, comma-separated (default lstm,gru,rnn)")
    s.add_argument("--seeds", type=lambda t: _list(int, t), default=[0], help="seeds, comma-separated (default 0)")
    s.add_argument("--forget-bias", type=forget_bias, default="chrono", metavar="NUMBER|chrono",
                   help="initial forget-gate bias of the LSTM (f) and GRU (z); default chrono, T_max the delay's "
                        "longest dependency k + delay + 1")
    s.add_argument("--max-epochs", type=int, default=DEFAULTS["max_epochs"], help="epochs per point at most")
    s.add_argument("--step-budget", type=float, default=None, metavar="STEPS",
                   help="at most this many sequence steps of training per point (epochs x training sequences x T): "
                        "long delays get fewer epochs, e.g. 4e7")
    s.add_argument("--max-seconds", type=float, default=DEFAULTS["max_seconds"],
                   help="wall-clock cap per point, a safety net (a point it ends is not reproducible)")
    s.add_argument("--patience", type=int, default=DEFAULTS["patience"], help="early stopping patience in epochs")
    s.add_argument("--hidden", type=int, default=DEFAULTS["hidden_size"], help="hidden units H")
    s.add_argument("--n-train", type=int, default=DEFAULTS["n_train"])
    s.add_argument("--n-val", type=int, default=DEFAULTS["n_val"])
    s.add_argument("--lr", type=float, default=DEFAULTS["lr"])
    s.add_argument("--threads", type=int, default=1, help="torch threads (default 1: one core, reproducible)")
    s.add_argument("--out", required=True, help="where to write the results (.json)")
    s.set_defaults(run=_sweep)


def _sweep(args) -> int:
    import shlex  # lazily, for start-up time

    import torch  # lazily, for start-up time

    from .sweep import delay_sweep  # lazily, for start-up time

    out = Path(args.out)
    if not out.parent.is_dir():
        raise LabError(f"--out: the folder {str(out.parent)!r} does not exist")
    if args.threads < 1:
        raise LabError(f"--threads must be >= 1; got {args.threads}")
    budget = args.step_budget
    if budget is not None and not (math.isfinite(budget) and budget >= 1):
        raise LabError(f"--step-budget must be a number >= 1; got {budget}")
    torch.set_num_threads(args.threads)
    command = "python -m lstm_core " + shlex.join(args.argv)

    def saved(sweep) -> None:
        p = sweep.points[-1]
        print(f"{p.model:4s} delay {p.delay:4d} seed {p.seed}: accuracy {p.accuracy:.3f} "
              f"({'at chance' if p.at_chance else 'above chance'}: chance {p.chance:.3f}, band to {p.chance_band:.3f}) "
              f"· {p.stop_reason} after {p.epochs} epochs (best {p.best_epoch}), {p.seconds:.1f} s, "
              f"CPU {p.cpu_seconds:.1f} s", flush=True)
        sweep.save(out)

    sweep = delay_sweep(args.delays, args.models, args.seeds, forget_bias=args.forget_bias,
                        step_budget=None if budget is None else int(budget), command=command, on_point=saved,
                        max_epochs=args.max_epochs, max_seconds=args.max_seconds, patience=args.patience,
                        hidden_size=args.hidden, n_train=args.n_train, n_val=args.n_val, lr=args.lr)
    for m in sweep.models:
        print(sweep.summary(m))
    print(f"wrote {len(sweep.points)} points to {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lstm_core",
                                description="Exact, traceable recurrent networks (LSTM and variants, GRU, RNN).")
    p.add_argument("--debug", action="store_true", help="show full tracebacks for internal errors")
    sub = p.add_subparsers(dest="command", required=True, metavar="{trace,train,memory,sweep}")

    t = sub.add_parser("trace", help="record every gate at every step of a model run over a sequence file",
                       description="Run a model over a sequence file and save every gate at every step "
                                   "to an .npz (one array per quantity: f i g c o h and pre_* for an LSTM, "
                                   "r z n h for a GRU, h for an RNN).")
    t.add_argument("--model", required=True,
                   help="a checkpoint file (.pt) saved by this project or a torch state_dict, or a random "
                        "model KIND:random:H=SIZE:seed=N (KIND lstm, gru or rnn; optional :variant=NAME, "
                        ":nonlinearity=relu), e.g. lstm:random:H=8:seed=0; its input size is taken from the data")
    t.add_argument("--input", required=True, help="sequence file: .csv/.tsv (one row per step, one numeric "
                                                  "column per feature), .npy, .npz, .json or .txt")
    t.add_argument("--out", required=True, help="where to write the trace (.npz)")
    t.add_argument("--nan", choices=("refuse", "drop", "ffill"), default="refuse",
                   help="what to do with NaN/Inf values in the input (default: refuse)")
    t.add_argument("--columns", help="comma-separated CSV columns to use as features, e.g. --columns temp,load")
    t.add_argument("--time-column", help="CSV column to use as the time index (not a feature)")
    t.add_argument("--normalise", choices=("none", "zscore", "minmax"), default=None,
                   help="normalise features (default: a checkpoint's own normalisation, else none)")
    t.set_defaults(run=_trace)

    add_train_arguments(sub)
    add_memory_arguments(sub)
    add_sweep_arguments(sub)
    return p


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # the command as given, recorded by `sweep`
    try:
        return args.run(args)
    except LabError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as e:
        print(f"error: {e.strerror or e}: {e.filename}" if e.filename else f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - the one place a bug is turned into a line, not a traceback
        if args.debug:
            raise
        print(f"internal error: {type(e).__name__}: {e} (run with --debug for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
