"""Command line: `python -m lstm_core trace ...` and `python -m lstm_core train ...`.

Every failure a user can cause ends with one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .errors import LabError

EXIT_USAGE = 2  # bad arguments or bad input
EXIT_INTERNAL = 3  # a bug: say so, and how to see the traceback


def _trace(args) -> int:
    from .models import is_random_spec, load_model, random_model
    from .readers import ReadOptions, read_sequences
    from .tracing import trace

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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lstm_core",
                                description="Exact, traceable recurrent networks (LSTM and variants, GRU, RNN).")
    p.add_argument("--debug", action="store_true", help="show full tracebacks for internal errors")
    sub = p.add_subparsers(dest="command", required=True, metavar="{trace,train}")

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

    from .training import add_train_arguments

    add_train_arguments(sub)
    return p


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    parser = build_parser()
    args = parser.parse_args(argv)
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
