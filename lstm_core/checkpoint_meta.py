"""The metadata of a checkpoint, checked in one place before anything uses it.

Both file formats carry the same metadata (Checkpoint.meta()): the JSON `meta` of an .npz checkpoint
and the dict of plain values beside the state_dict in a .pt one. `validate_meta` checks every field
against the schema below: its type, its range or allowed values, and its length for strings and lists.
A missing required field, an unknown field or a wrong value is refused with a LabError naming the
field, e.g. `metadata field 'task.name' must be one of adding, copy, ...; got '../../x'`.

Why so strict: the app builds file paths and UI text from these values (task.name picked a shipped
model file) and replays task.params through make_task; a checkpoint is an upload like any other.
The schema lists exactly what training.py writes, so every checkpoint it saves loads unchanged.
Importing this module never imports torch: the registries it checks against are numpy-only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from .errors import LabError
from .limits import MAX_HISTORY, MAX_NAME, MAX_NAMES, MAX_STEPS, MAX_TEXT
from .normalise import NORMALISATIONS, Normalisation
from .registry import CELLS, NONLINEARITIES, VARIANTS
from .tasks import TASKS, check_params

FORMAT = "lstm-gate-lab checkpoint"
VERSION = 1
READOUTS = ("final", "per_step")
# Names the training code writes (training.py and metrics.py import torch, so they are repeated here;
# tests/test_hostile_core.py checks that both lists agree).
TASK_METRICS = ("mse", "accuracy", "f1", "perplexity", "rmse")
LOSSES = ("mse", "ce")
STOP_REASONS = ("early stopping", "time budget", "max epochs", "stopped")
NORMALISE_CHOICES = ("auto", "none", "zscore", "minmax")
CHRONO = "chrono"  # TrainConfig.forget_bias may name chrono initialisation instead of a number
# Layer sizes and output counts: far beyond what fits the 50 MB model file limit, so never the
# binding limit, but it keeps a number read from a file from sizing anything before the weights do.
MAX_SIZE = 65_536
_SHOW = 60  # characters of a refused value quoted in a message

Check = Callable[[object, str], object]


# ------------------------------------------------------------------------------------------------
# The building blocks: each returns check(value, path) -> value, raising LabError naming `path`


def _got(v) -> str:
    """A refused value in words: numbers and short strings as themselves, anything else by its type."""
    if isinstance(v, bool):
        return f"{str(v).lower()} (a boolean)"
    if isinstance(v, int | float):
        return repr(v) if not isinstance(v, int) or abs(v) < 10**30 else "a huge integer"
    if isinstance(v, str):
        return repr(v[:_SHOW]) + ("..." if len(v) > _SHOW else "")
    return _kind(v)


def _kind(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list | tuple):
        return "a list"
    if isinstance(v, Mapping):
        return "an object"
    return f"a {type(v).__name__}"


def _refuse(path: str, expected: str, v) -> LabError:
    return LabError(f"metadata field {path!r} must be {expected}; got {_kind(v) if isinstance(v, str) else _got(v)}")


def _text(limit: int = MAX_TEXT) -> Check:
    def check(v, path):
        if not isinstance(v, str):
            raise _refuse(path, "a string", v)
        if len(v) > limit:
            raise LabError(f"metadata field {path!r} must be at most {limit} characters long; got {len(v)}")
        return v
    return check


def _choice(options) -> Check:
    options = tuple(options)

    def check(v, path):
        if not isinstance(v, str) or v not in options:
            raise LabError(f"metadata field {path!r} must be one of {', '.join(options)}; got {_got(v)}")
        return v
    return check


def _whole(lo: int, hi: int) -> Check:
    def check(v, path):
        if isinstance(v, bool) or not isinstance(v, int):
            raise _refuse(path, "a whole number", v)
        if not lo <= v <= hi:
            expected = str(lo) if lo == hi else f"between {lo} and {hi}"
            raise LabError(f"metadata field {path!r} must be {expected}; got {_got(v)}")
        return v
    return check


def _number(lo: float | None = None, hi: float | None = None, *, finite: bool = True, above: bool = False,
            below: bool = False) -> Check:
    """A number (not a boolean); `above`/`below` make lo/hi exclusive; finite=False lets NaN and inf
    through (a diverged training run records NaN losses)."""
    bounds = " and ".join(b for b in (lo is not None and f"{'>' if above else '>='} {lo}",
                                      hi is not None and f"{'<' if below else '<='} {hi}") if b)

    def check(v, path):
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise _refuse(path, "a number", v)
        if not math.isfinite(v):
            if finite:
                raise LabError(f"metadata field {path!r} must be a finite number; got {v!r}")
            return v
        if (lo is not None and (v <= lo if above else v < lo)) or (hi is not None and (v >= hi if below else v > hi)):
            raise LabError(f"metadata field {path!r} must be a number {bounds}; got {_got(v)}")
        return v
    return check


def _boolean(v, path):
    if not isinstance(v, bool):
        raise _refuse(path, "true or false", v)
    return v


def _either(first: Check, second: Check, expected: str) -> Check:
    """A value that passes `first` or `second` (e.g. a number or one name)."""
    def check(v, path):
        for c in (first, second):
            try:
                return c(v, path)
            except LabError:
                pass
        raise _refuse(path, expected, v)
    return check


def _nullable(check: Check) -> Check:
    return lambda v, path: None if v is None else check(v, path)


def _list(item: Check, limit: int) -> Check:
    def check(v, path):
        if not isinstance(v, list | tuple):
            raise _refuse(path, "a list", v)
        if len(v) > limit:
            raise LabError(f"metadata field {path!r} must hold at most {limit} items; got {len(v)}")
        return [item(x, f"{path}[{i}]") for i, x in enumerate(v)]
    return check


def _object(fields: dict[str, Check], required: tuple = ()) -> Check:
    """A JSON object (a dict) holding only `fields`, `required` among them."""
    def check(v, path):
        if not isinstance(v, Mapping):
            raise _refuse(path, "an object", v)
        for key in v:
            if not isinstance(key, str):
                raise LabError(f"metadata field {path or 'the top level'!r} has a key {repr(key)[:_SHOW]} that is "
                               "not a string")
            if key not in fields:
                where = f"{path!r} holds" if path else "a checkpoint's metadata holds"
                raise LabError(f"unknown metadata field {_join(path, key)!r}; {where} only {', '.join(fields)}")
        for key in required:
            if key not in v:
                raise LabError(f"metadata field {_join(path, key)!r} is missing")
        return {key: fields[key](value, _join(path, key)) for key, value in v.items()}
    return check


def _join(path: str, key) -> str:
    key = key[:_SHOW] + ("..." if len(key) > _SHOW else "") if isinstance(key, str) else repr(key)
    return f"{path}.{key}" if path else key


def _param_value(v, path):
    """A task parameter as TaskData.params records it: a number, null, or a list of names (faults)."""
    if v is None or (isinstance(v, int | float) and not isinstance(v, bool)):
        return v
    if isinstance(v, list | tuple):
        return _list(_text(MAX_NAME), 100)(v, path)
    raise _refuse(path, "a number, null or a list of names", v)


def _params(v, path):
    """Task parameters by name; which names a task takes is checked once the task is known (_agree)."""
    if not isinstance(v, Mapping):
        raise _refuse(path, "an object", v)
    for key in v:
        if not isinstance(key, str) or len(key) > MAX_NAME:
            shown = _got(key) if isinstance(key, str) else repr(key)[:_SHOW]
            raise LabError(f"metadata field {path!r} has a key {shown} that is not a parameter name")
    return {key: _param_value(value, f"{path}.{key}") for key, value in v.items()}


def _char(v, path):
    if not isinstance(v, str):
        raise _refuse(path, "a single character", v)
    if len(v) != 1:
        raise LabError(f"metadata field {path!r} must be a single character; got {_got(v)}")
    return v


# ------------------------------------------------------------------------------------------------
# The schema: every field Checkpoint.meta() and training.py write

_NAMES = _list(_text(MAX_NAME), MAX_NAMES)
_LOSS_VALUE = _number(finite=False)
_SEED = _whole(-(2**63), 2**64 - 1)  # torch.manual_seed's range

CELL = _object({"kind": _choice(CELLS), "variant": _choice(VARIANTS), "nonlinearity": _choice(NONLINEARITIES),
                "input_size": _whole(1, MAX_SIZE), "hidden_size": _whole(1, MAX_SIZE)},
               required=("kind", "input_size", "hidden_size"))
HEAD = _object({"readout": _choice(READOUTS), "n_outputs": _whole(1, MAX_SIZE),
                "dropout": _number(0, 1, below=True)}, required=("readout", "n_outputs"))
TASK = _object({"name": _choice(TASKS), "title": _text(), "params": _params, "description": _text(),
                "metric": _choice(TASK_METRICS), "loss": _choice(LOSSES), "readout": _choice(READOUTS),
                "n_outputs": _whole(1, MAX_SIZE), "baseline": _number(), "feature_names": _NAMES,
                "output_names": _NAMES}, required=("name",))
NORMALISATION = _object({"kind": _choice(NORMALISATIONS), "shift": _list(_number(), MAX_SIZE),
                         "scale": _list(_number(), MAX_SIZE), "feature_names": _NAMES},
                        required=("kind", "shift", "scale"))
EPOCH = _object({"epoch": _whole(0, 10**9), "train_loss": _LOSS_VALUE, "val_loss": _LOSS_VALUE,
                 "val_metric": _LOSS_VALUE, "metric": _choice(TASK_METRICS), "seconds": _LOSS_VALUE,
                 "best": _boolean})
METRICS = _object({"metric": _choice(TASK_METRICS), "val_metric": _LOSS_VALUE, "val_loss": _LOSS_VALUE,
                   "train_loss": _LOSS_VALUE, "gap": _LOSS_VALUE, "baseline": _LOSS_VALUE,
                   "epochs": _whole(0, 10**9), "seconds": _LOSS_VALUE, "stop_reason": _choice(STOP_REASONS),
                   "latency_us_per_step": _LOSS_VALUE, "horizon_rmse": _list(_LOSS_VALUE, 1000),
                   **{m: _LOSS_VALUE for m in TASK_METRICS}})
_COUNT = _whole(1, 10**9)
CONFIG = _object({"task": _choice(TASKS), "length": _nullable(_whole(1, MAX_STEPS)), "task_params": _params,
                  "model": _choice(CELLS), "variant": _choice(VARIANTS), "nonlinearity": _choice(NONLINEARITIES),
                  "hidden_size": _whole(1, MAX_SIZE), "n_train": _COUNT, "n_val": _COUNT, "batch_size": _COUNT,
                  "lr": _number(0, above=True), "max_epochs": _COUNT, "max_seconds": _number(0, above=True),
                  "patience": _COUNT, "clip": _number(0), "dropout": _number(0, 1, below=True),
                  "forget_bias": _nullable(_either(_number(), _choice((CHRONO,)), f"a number or {CHRONO!r}")),
                  "chrono_max": _nullable(_whole(2, MAX_STEPS)), "normalise": _choice(NORMALISE_CHOICES),
                  "seed": _SEED})
VERSIONS = _object({"lstm_core": _text(64), "numpy": _text(64), "torch": _text(64)})
META = _object({"format": _choice((FORMAT,)), "version": _whole(VERSION, VERSION), "cell": CELL,
                "head": _nullable(HEAD), "task": _nullable(TASK), "normalisation": _nullable(NORMALISATION),
                "vocab": _nullable(_list(_char, MAX_NAMES)), "history": _list(EPOCH, MAX_HISTORY),
                "metrics": METRICS, "seed": _nullable(_SEED), "config": CONFIG, "versions": VERSIONS},
               required=("format", "cell"))


def validate_meta(meta, name: str) -> dict:
    """Check a checkpoint's metadata against the schema and its fields against each other; return it.

    The one entry point for .npz and .pt checkpoints alike; every refusal is a LabError starting with
    `name` (the file) and naming the field."""
    try:
        meta = META(meta, "")
        _agree(meta)
    except LabError as e:
        raise LabError(f"{name}: {e}") from None
    return meta


def _agree(meta: dict) -> None:
    """Fields that describe the same thing twice must agree: sizes of the cell, names, normalisation,
    the head, and the task's parameters replayed through make_task."""
    F = meta["cell"]["input_size"]
    vocab = meta.get("vocab")
    if vocab is not None:
        if len(vocab) != F:
            raise LabError(f"metadata field 'vocab' must list the cell's {F} input characters; got {len(vocab)}")
        if len(set(vocab)) != len(vocab):
            raise LabError("metadata field 'vocab' lists a character twice; each character needs one input")
    norm = meta.get("normalisation")
    if norm is not None:
        try:
            shift = Normalisation.from_dict(norm).shift
        except LabError as e:
            raise LabError(f"metadata field 'normalisation': {e}") from None
        if shift.size != F:
            raise LabError(f"metadata field 'normalisation' must have one shift and scale per input of the cell "
                           f"({F}); got {shift.size}")
    config = meta.get("config") or {}
    if "task" in config:
        _known_params(config["task"], config.get("task_params") or {}, "config.task_params")
    task, head = meta.get("task"), meta.get("head")
    if task is None:
        return
    if "feature_names" in task and len(task["feature_names"]) != F:
        raise LabError(f"metadata field 'task.feature_names' must name the cell's {F} inputs; "
                       f"got {len(task['feature_names'])} names")
    if head is not None:
        for key in ("n_outputs", "readout"):
            if key in task and task[key] != head[key]:
                raise LabError(f"metadata field 'task.{key}' is {_got(task[key])} but the head's is "
                               f"{_got(head[key])}")
    n_out = task.get("n_outputs")
    if n_out is not None and "output_names" in task and len(task["output_names"]) != n_out:
        raise LabError(f"metadata field 'task.output_names' must name the task's {n_out} outputs; "
                       f"got {len(task['output_names'])} names")
    if "params" in task:
        _replay(task["name"], task["params"], F)


def _replay(task: str, params: dict, F: int) -> None:
    """The app replays a trained model's task: make_task(name, 1, length, seed, **rest) must accept the
    parameters and make inputs the cell reads. Lengths are checked first, so this stays cheap."""
    _known_params(task, params, "task.params", ("n", "length", "seed"))
    length = params.get("length")
    if isinstance(length, int | float) and not isinstance(length, bool) and length > MAX_STEPS:
        raise LabError(f"metadata field 'task.params.length' must be at most {MAX_STEPS} (MAX_STEPS); "
                       f"got {_got(length)}")
    try:
        data = check_params(task, params)
    except LabError as e:
        raise LabError(f"metadata field 'task.params' is not accepted by make_task: {e}") from None
    if data.x.shape[2] != F:
        raise LabError(f"metadata field 'task.params' makes inputs of {data.x.shape[2]} features; the cell "
                       f"reads {F}")


def _known_params(task: str, params: dict, path: str, common: tuple = ()) -> None:
    known = (*common, *TASKS[task].defaults)
    for key in params:
        if key not in known:
            takes = f"takes {', '.join(known)}" if known else "takes no parameters"
            raise LabError(f"unknown metadata field {_join(path, key)!r}; task {task!r} {takes}")
