"""The delay sweep: on delayed recall, the delay at which each model falls to chance.

For every (delay, model, seed), `delay_sweep` trains the model on task "copy" with that many blank steps
(training.train) and records the best epoch's validation accuracy, the chance level, the epochs, the
seconds, what ended the run and the exact TrainConfig. Everything is seeded: with the same settings a run
ends the same way unless its wall-clock cap (`max_seconds`) ends it, and each point says which budget
ended it ("max epochs", "early stopping" are reproducible; "time budget" is not).

The budget per point is in epochs. A fixed epoch count would make delay 500 (511 steps a sequence) cost
thirty times delay 5, so `step_budget` caps the work of a point in sequence steps: a point gets
min(max_epochs, step_budget // (n_train * T)) epochs, at least one (`epochs_for`). Short delays get the
full `max_epochs`; long ones as many as the budget affords, the same for every model.

"At chance" is a statement about the validation set: an accuracy at most `Z_CHANCE` binomial standard
errors above chance, sqrt(p (1 - p) / n) for chance p = 1/alphabet and n = n_val * k recalled symbols
(500 * 5 = 2,500: chance 0.125 ends at 0.145). A model "falls to chance" at the smallest tested delay
from which it is at chance in every seed at that delay and every longer one.

Results are plain JSON (`Sweep.to_dict`, `save`) with a schema version, the command that made them and a
digest of the content; `load_sweep` checks every field and refuses a tampered file with a LabError.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import math
import statistics
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import LabError, choose
from .registry import CELLS
from .tasks import TASKS
from .train_config import TrainConfig

FORMAT = "lstm-gate-lab delay sweep"
SCHEMA_VERSION = 1
TASK = "copy"  # delayed recall: k symbols, `delay` blank steps, a go cue, the k symbols back
Z_CHANCE = 3.0  # "at chance": within this many binomial standard errors above the chance level
GOAL = 0.9  # "remembers": validation accuracy at least this
MAX_DELAY = 5_000  # longer sequences than anyone can train here in a sweep
MAX_FILE_BYTES = 8 * 2**20  # a results file is read only below this size
MAX_POINTS = 10_000
STOP_REASONS = ("early stopping", "time budget", "max epochs", "stopped")
# The training settings of every point unless told otherwise (TrainConfig's names). n_train 2,000 rather than
# TrainConfig's 4,000: the same number of Adam steps per second, and twice as many epochs to stop early on.
DEFAULTS = {"hidden_size": 32, "n_train": 2000, "n_val": 500, "batch_size": 64, "lr": 0.01, "patience": 40,
            "max_epochs": 150, "max_seconds": 600.0}
SETTINGS = ("delays", "models", "seeds", "forget_bias", "step_budget", "overrides")  # Sweep.settings' keys


def chance_band(chance: float, n: int, z: float = Z_CHANCE) -> float:
    """The highest accuracy still "at chance" on n independent guesses: chance + z sqrt(p (1 - p) / n)."""
    if not 0 < chance < 1 or n < 1:
        raise LabError(f"chance must be in (0, 1) and n >= 1; got {chance!r}, {n!r}")
    return chance + z * math.sqrt(chance * (1 - chance) / n)


def _task_defaults() -> dict:
    return TASKS[TASK].defaults


def sequence_length(delay: int, k: int | None = None) -> int:
    """T of delayed recall: k symbols, the delay, the go cue, the k symbols back."""
    k = _task_defaults()["k"] if k is None else k
    return 2 * k + delay + 1


def epochs_for(delay: int, max_epochs: int, n_train: int, step_budget: int | None) -> int:
    """The epochs a point at this delay may train: max_epochs, or fewer if that would pass step_budget sequence
    steps (epochs * n_train * T); at least one."""
    if step_budget is None:
        return max_epochs
    return max(1, min(max_epochs, step_budget // (n_train * sequence_length(delay))))


def point_config(model: str, delay: int, seed: int = 0, *, forget_bias: float | str | None = "chrono",
                 step_budget: int | None = None, **overrides):
    """The TrainConfig of one point: delayed recall at `delay`, DEFAULTS, then the overrides; the forget-gate
    bias only for kinds that have a forget gate (the RNN's config says None), and the epochs cut to the
    step budget (epochs_for)."""

    choose("cell", model, CELLS)
    delay = _whole("delay", delay, 0, MAX_DELAY)
    unknown = sorted(set(overrides) & {"task", "model", "seed", "length", "task_params", "forget_bias"})
    if unknown:
        raise LabError(f"the sweep sets {', '.join(unknown)} itself; give them as the sweep's own arguments")
    settings = {**DEFAULTS, **overrides}
    settings["max_epochs"] = epochs_for(delay, _whole("max_epochs", settings["max_epochs"], 1),
                                        _whole("n_train", settings["n_train"], 1), step_budget)
    fb = forget_bias if CELLS[model].forget_gate is not None else None
    return TrainConfig.from_dict({"task": TASK, "task_params": {"delay": delay}, "model": model, "seed": seed,
                                  "forget_bias": fb, **settings})


@dataclass(frozen=True)
class SweepPoint:
    """One trained model at one delay: its best epoch's validation accuracy, and how the run went."""

    model: str
    delay: int
    seed: int
    accuracy: float  # validation accuracy with the best epoch's weights
    chance: float  # 1 / alphabet
    chance_band: float  # the highest accuracy still at chance (chance_band())
    epochs: int  # epochs trained
    best_epoch: int  # the epoch whose weights were kept
    seconds: float  # wall clock, data generation included (not reproducible)
    stop_reason: str  # what ended the run: "max epochs" | "early stopping" | "time budget" | "stopped"
    config: dict  # the exact TrainConfig (dataclasses.asdict)
    cpu_seconds: float | None = None  # the process's CPU time for the point (the wall clock waits on a busy machine)

    @property
    def at_chance(self) -> bool:
        return self.accuracy <= self.chance_band

    @property
    def reproducible(self) -> bool:
        """Ended by an epoch budget or early stopping, not by the clock or a stop: rerunning gives the same."""
        return self.stop_reason in ("max epochs", "early stopping")

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "at_chance": self.at_chance}


def point_of(cfg, result, cpu_seconds: float | None = None) -> SweepPoint:
    """A SweepPoint from a TrainConfig and its training.TrainingResult (or the same figures as a dict, as the
    app's training jobs send them: metrics, stop_reason, and `history` as EpochReport records)."""
    metrics, reason = (result.metrics, result.stop_reason) if not isinstance(result, Mapping) else \
        (result["metrics"], result["stop_reason"])
    history = [r.record() if hasattr(r, "record") else r for r in
               (result.history if not isinstance(result, Mapping) else result["history"])]
    values = [r["val_metric"] for r in history]
    best = 1 + max(range(len(values)), key=lambda i: (values[i], -i)) if values else 0
    k = cfg.task_params.get("k", _task_defaults()["k"])
    chance = float(metrics["baseline"])
    return SweepPoint(cfg.model, int(cfg.task_params["delay"]), cfg.seed, float(metrics["val_metric"]), chance,
                      chance_band(chance, cfg.n_val * k), int(metrics["epochs"]), best,
                      round(float(metrics["seconds"]), 3), reason, dataclasses.asdict(cfg),
                      None if cpu_seconds is None else round(cpu_seconds, 3))


@dataclass(frozen=True)
class Sweep:
    """A delay sweep's points and how they were made."""

    points: tuple  # SweepPoint, in the order they were trained (delays outer, models, seeds inner)
    settings: dict  # delays, models, seeds, forget_bias, step_budget, overrides: the arguments of delay_sweep
    command: str  # the command line that made it ("" if made from Python)
    complete: bool  # every (delay, model, seed) was trained; False after a stop
    created: str = ""  # UTC date and time, ISO 8601
    versions: dict = dataclasses.field(default_factory=dict)  # lstm_core, torch, threads
    task: str = TASK

    @property
    def models(self) -> list[str]:
        return list(dict.fromkeys(p.model for p in self.points))

    @property
    def delays(self) -> list[int]:
        return sorted({p.delay for p in self.points})

    def of(self, model: str) -> list[SweepPoint]:
        return [p for p in self.points if p.model == model]

    def curve(self, model: str) -> dict:
        """Per tested delay: the median, lowest and highest accuracy over seeds, and whether every seed is at
        chance. {"delay": [...], "median": [...], "low": [...], "high": [...], "at_chance": [...]}."""
        out = {"delay": [], "median": [], "low": [], "high": [], "at_chance": []}
        for d in sorted({p.delay for p in self.of(model)}):
            acc = [p.accuracy for p in self.of(model) if p.delay == d]
            out["delay"].append(d)
            out["median"].append(statistics.median(acc))
            out["low"].append(min(acc))
            out["high"].append(max(acc))
            out["at_chance"].append(all(p.at_chance for p in self.of(model) if p.delay == d))
        return out

    def falls_to_chance(self, model: str) -> int | None:
        """The smallest tested delay from which the model is at chance in every seed, at it and every longer
        delay; None if it is above chance at the longest delay tested."""
        c = self.curve(model)
        found = None
        for d, chance in zip(reversed(c["delay"]), reversed(c["at_chance"]), strict=True):
            if not chance:
                break
            found = d
        return found

    def first_at_chance(self, model: str) -> int | None:
        """The smallest tested delay at which the model is at chance in every seed (it may rise above chance again
        at a longer one: falls_to_chance says from where it stays there); None if never."""
        c = self.curve(model)
        return next((d for d, chance in zip(c["delay"], c["at_chance"], strict=True) if chance), None)

    def holds(self, model: str, level: float = GOAL) -> int | None:
        """The longest tested delay up to which the median accuracy is at least `level` at every tested delay;
        None if it is below at the shortest."""
        c = self.curve(model)
        found = None
        for d, m in zip(c["delay"], c["median"], strict=True):
            if m < level:
                break
            found = d
        return found

    def summary(self, model: str, label: str | None = None) -> str:
        """One sentence: how far the model stays at or above GOAL, and where it falls to chance."""
        label = label or (CELLS[model].label if model in CELLS else model)
        fall, first, hold = self.falls_to_chance(model), self.first_at_chance(model), self.holds(model)
        longest = max(p.delay for p in self.of(model))
        held = (f"accuracy ≥ {GOAL} up to a delay of {hold} steps" if hold is not None
                else f"accuracy below {GOAL} at every delay tried")
        if first is None:
            fell = f"above chance at every delay tried (up to {longest} steps)"
        elif first == fall:
            fell = f"at chance from a delay of {fall} steps on"
        elif fall is None:
            fell = (f"at chance at a delay of {first} steps, but above it again at a longer one (up to {longest} "
                    "steps tried)")
        else:
            fell = (f"first at chance at a delay of {first} steps, above it again after, at chance from {fall} "
                    "steps on")
        return f"{label}: {held}; {fell}"

    def to_dict(self) -> dict:
        body = {"task": self.task, "settings": self.settings, "command": self.command, "complete": self.complete,
                "created": self.created, "versions": self.versions, "points": [p.to_dict() for p in self.points]}
        return {"format": FORMAT, "schema": SCHEMA_VERSION, **body, "digest": _digest(body)}

    def save(self, path) -> None:
        """Write the JSON (through a temporary file, so a reader never sees half of it)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".part")
        d = self.to_dict()
        points, digest = d.pop("points"), d.pop("digest")  # one line per point: readable, and diffs show points
        head = json.dumps(d, indent=1, ensure_ascii=False)[: -len("\n}")]
        rows = ",\n".join("  " + json.dumps(p, ensure_ascii=False) for p in points)
        tmp.write_text(f'{head},\n "points": [\n{rows}\n ],\n "digest": {json.dumps(digest)}\n}}\n', encoding="utf-8")
        tmp.replace(path)


def _digest(body: dict) -> str:
    """sha256 of the content in a canonical form: any edit of a number or a setting changes it."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _whole(name: str, v, lo: int, hi: int | None = None) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < lo or (hi is not None and v > hi):
        raise LabError(f"{name} must be a whole number {'from ' + str(lo) + ' to ' + str(hi) if hi is not None else '>= ' + str(lo)}; got {v!r}")  # noqa: E501
    return v


def delay_sweep(delays: Iterable[int], models: Iterable[str] = ("lstm", "gru", "rnn"),
                seeds: Iterable[int] = (0,), *, forget_bias: float | str | None = "chrono",
                step_budget: int | None = None, command: str = "",
                on_point: Callable[[Sweep], None] | None = None,
                on_epoch: Callable[[str, int, int, object], bool | None] | None = None,
                stop: Callable[[], bool] | None = None, **overrides) -> Sweep:
    """Train every model at every delay for every seed on delayed recall; see the module's docstring.

    delays: blank steps (e.g. 5, 10, 20, 50, 100, 200, 500); models: cell kinds; forget_bias: the initial bias
    of the kinds' forget gate ("chrono", a number, None for torch's init, "default" for the kind's own);
    step_budget: caps each point's work in sequence steps (epochs_for); overrides: TrainConfig settings for every
    point (hidden_size, n_train, max_epochs, max_seconds, patience, lr, ...).
    on_point(sweep) is called after each point with the sweep so far (its last point the new one; complete only
    after the last), e.g. to save progress; on_epoch(model, delay, seed, report) after
    every epoch (return True to end that point); stop() is asked between batches: once it says True, the point
    under way ends with its best weights, is recorded, and the sweep returns with complete=False.
    """
    import torch  # lazily, for start-up time: loading a results file needs no torch

    from . import __version__
    from .training import train  # lazily, for start-up time (torch)

    delays = [_whole("delay", d, 0, MAX_DELAY) for d in delays]
    models = [choose("cell", m, CELLS) for m in models]
    seeds = [_whole("seed", s, 0) for s in seeds]
    if not delays or not models or not seeds:
        raise LabError("a sweep needs at least one delay, one model and one seed")
    for name, values in (("delay", delays), ("model", models), ("seed", seeds)):
        if len(set(values)) != len(values):
            raise LabError(f"each {name} must be given once; got {', '.join(map(str, values))}")
    if step_budget is not None:
        step_budget = _whole("step_budget", step_budget, 1)
    configs = [(d, m, s, point_config(m, d, s, forget_bias=forget_bias, step_budget=step_budget, **overrides))
               for d in delays for m in models for s in seeds]  # every setting checked before the first training
    settings = {"delays": delays, "models": models, "seeds": seeds, "forget_bias": forget_bias,
                "step_budget": step_budget, "overrides": dict(overrides)}
    created = datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat()
    versions = {"lstm_core": __version__, "torch": torch.__version__, "threads": torch.get_num_threads()}
    points = []
    for d, m, s, cfg in configs:
        report = None if on_epoch is None else (lambda r, m=m, d=d, s=s: on_epoch(m, d, s, r))
        cpu = time.process_time()
        res = train(cfg, report, stop=stop)
        point = point_of(cfg, res, time.process_time() - cpu)
        points.append(point)
        sweep = Sweep(tuple(points), settings, command, len(points) == len(configs), created, versions)
        if on_point is not None:
            on_point(sweep)
        if res.stop_reason == "stopped" and stop is not None and stop():
            break
    return sweep


# ---------------------------------------------------------------------------------------------------------
# Reading a results file: every field checked, the digest compared


def _field(d: Mapping, key: str, where: str):
    if key not in d:
        raise LabError(f"{where}: the field {key!r} is missing")
    return d[key]


def _number(v, where: str, lo: float = -math.inf, hi: float = math.inf) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or not lo <= v <= hi:
        raise LabError(f"{where} must be a number from {lo:g} to {hi:g}; got {v!r}"[:300])
    return float(v)


def _point(d, i: int) -> SweepPoint:
    where = f"point {i + 1}"
    if not isinstance(d, Mapping):
        raise LabError(f"{where} must be an object; got {type(d).__name__}")
    names = {f.name for f in dataclasses.fields(SweepPoint)} | {"at_chance"}
    extra = sorted(set(d) - names)
    if extra:
        raise LabError(f"{where}: unknown field(s) {', '.join(map(repr, extra))[:200]}")
    model = _field(d, "model", where)
    if model not in CELLS:
        raise LabError(f"{where}: model must be one of {', '.join(CELLS)}; got {str(model)[:40]!r}")
    delay = _whole(f"{where}: delay", _field(d, "delay", where), 0, MAX_DELAY)
    where = f"point {i + 1} ({model}, delay {delay})"
    seed = _whole(f"{where}: seed", _field(d, "seed", where), 0)
    acc = _number(_field(d, "accuracy", where), f"{where}: accuracy", 0, 1)
    chance = _number(_field(d, "chance", where), f"{where}: chance", 0, 1)
    band = _number(_field(d, "chance_band", where), f"{where}: chance_band", 0, 1)
    epochs = _whole(f"{where}: epochs", _field(d, "epochs", where), 0)
    best = _whole(f"{where}: best_epoch", _field(d, "best_epoch", where), 0, epochs)
    seconds = _number(_field(d, "seconds", where), f"{where}: seconds", 0)
    reason = _field(d, "stop_reason", where)
    if reason not in STOP_REASONS:
        raise LabError(f"{where}: stop_reason must be one of {', '.join(STOP_REASONS)}; got {str(reason)[:40]!r}")
    config = _field(d, "config", where)
    if not isinstance(config, Mapping):
        raise LabError(f"{where}: config must be an object")
    try:
        cfg = TrainConfig.from_dict(dict(config))
    except (LabError, TypeError) as e:
        raise LabError(f"{where}: config: {e}"[:400]) from None
    if (cfg.task, cfg.model, cfg.seed, cfg.task_params.get("delay")) != (TASK, model, seed, delay):
        raise LabError(f"{where}: its config trains {cfg.model!r} on {cfg.task!r} at delay "
                       f"{cfg.task_params.get('delay')!r} with seed {cfg.seed!r}, not the point's")
    k = cfg.task_params.get("k", _task_defaults()["k"])
    alphabet = cfg.task_params.get("alphabet", _task_defaults()["alphabet"])
    if not math.isclose(chance, 1 / alphabet, rel_tol=1e-9) or \
            not math.isclose(band, chance_band(chance, cfg.n_val * k), rel_tol=1e-9):
        raise LabError(f"{where}: chance {chance!r} and its band {band!r} do not follow from the config "
                       f"(1/{alphabet} and {cfg.n_val} x {k} validation symbols)")
    cpu = d.get("cpu_seconds")
    cpu = None if cpu is None else _number(cpu, f"{where}: cpu_seconds", 0)
    point = SweepPoint(model, delay, seed, acc, chance, band, epochs, best, seconds, reason, dataclasses.asdict(cfg),
                       cpu)
    if "at_chance" in d and d["at_chance"] is not point.at_chance:
        raise LabError(f"{where}: at_chance says {d['at_chance']!r}, but accuracy {acc} and band {band:.4f} say "
                       f"{point.at_chance}")
    return point


def sweep_from_dict(d) -> Sweep:
    """A Sweep from its JSON form, every field checked; a LabError naming the first problem."""
    where = "delay sweep file"
    if not isinstance(d, Mapping):
        raise LabError(f"{where}: expected a JSON object; got {type(d).__name__}")
    if d.get("format") != FORMAT:
        raise LabError(f"{where}: not a delay sweep (its format is {str(d.get('format'))[:60]!r}, expected {FORMAT!r})")
    if d.get("schema") != SCHEMA_VERSION:
        raise LabError(f"{where}: schema version {str(d.get('schema'))[:20]} is not the one this lab reads "
                       f"({SCHEMA_VERSION}); make it again with `python -m lstm_core sweep`")
    known = {"format", "schema", "task", "settings", "command", "complete", "created", "versions", "points", "digest"}
    extra = sorted(set(d) - known)
    if extra:
        raise LabError(f"{where}: unknown field(s) {', '.join(map(repr, extra))[:200]}")
    body = {k: _field(d, k, where) for k in ("task", "settings", "command", "complete", "created", "versions",
                                             "points")}
    if _field(d, "digest", where) != _digest(body):
        raise LabError(f"{where}: its content does not match its digest: it was changed after it was written "
                       "(make it again with the command it records)")
    if body["task"] != TASK:
        raise LabError(f"{where}: task must be {TASK!r}; got {str(body['task'])[:40]!r}")
    for key, kind in (("command", str), ("created", str), ("complete", bool), ("settings", Mapping),
                      ("versions", Mapping), ("points", list)):
        if not isinstance(body[key], kind):
            raise LabError(f"{where}: {key} has the wrong type ({type(body[key]).__name__})")
    if set(body["settings"]) != set(SETTINGS):
        raise LabError(f"{where}: settings must have exactly {', '.join(SETTINGS)}")
    if not body["points"] or len(body["points"]) > MAX_POINTS:
        raise LabError(f"{where}: it must hold 1 to {MAX_POINTS} points; it holds {len(body['points'])}")
    points = tuple(_point(p, i) for i, p in enumerate(body["points"]))
    seen = set()
    for p in points:
        if (p.model, p.delay, p.seed) in seen:
            raise LabError(f"{where}: {p.model} at delay {p.delay} with seed {p.seed} appears twice")
        seen.add((p.model, p.delay, p.seed))
    return Sweep(points, dict(body["settings"]), body["command"], body["complete"], body["created"],
                 dict(body["versions"]), body["task"])


def load_sweep(source) -> Sweep:
    """A delay sweep's results from a path or bytes (as `Sweep.save` wrote them), checked field by field."""
    if isinstance(source, bytes | bytearray):
        raw, name = bytes(source), "the delay sweep file"
    else:
        path = Path(source)
        if not path.is_file():
            raise LabError(f"delay sweep file {str(path)!r} does not exist")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise LabError(f"{path.name}: {path.stat().st_size:,} bytes; a delay sweep file is at most "
                           f"{MAX_FILE_BYTES:,}")
        raw, name = path.read_bytes(), path.name
    if len(raw) > MAX_FILE_BYTES:
        raise LabError(f"{name}: {len(raw):,} bytes; a delay sweep file is at most {MAX_FILE_BYTES:,}")
    try:
        d = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise LabError(f"{name} is not valid JSON: {e}"[:300]) from None
    try:
        return sweep_from_dict(d)
    except LabError as e:
        raise LabError(f"{name}: {e}") from None
