"""The settings of one training run (TrainConfig): plain data, checked, with no torch.

training.py trains from it; a sweep's results file (sweep.py) and a checkpoint's history carry it, and
reading those needs no torch (1.3 s to import here).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from .errors import LabError, choose
from .registry import CELLS, VARIANTS, cell_kind
from .tasks import TASKS

NORMALISE_CHOICES = ("auto", "none", "zscore", "minmax")
# Training settings a task needs beyond the defaults (presets are data). Delayed recall holds symbols
# for 50+ steps: with forget bias 1, f is about 0.73 at the start and 0.73^50 ~ 1e-7 of the gradient
# reaches the symbols, so training sits at chance; with bias 3, f ~ 0.95 and 0.95^50 ~ 0.08 does.
# A preset changes a kind's default: the GRU, whose default is torch's own init, keeps it unless asked.
TASK_PRESETS = {"copy": {"forget_bias": 3.0}}
CHRONO = "chrono"  # forget_bias = "chrono": b_f ~ log U[1, T_max - 1] per unit, b_i = -b_f (Tallec & Ollivier 2018)
KIND_DEFAULT = "default"  # forget_bias = "default": the kind's own (registry: CellKind.forget_bias)


@dataclass(frozen=True)
class TrainConfig:
    task: str = "adding"  # a name in TASKS
    length: int | None = None  # sequence length T; None: the task's default
    task_params: dict = field(default_factory=dict)  # the task's own parameters (e.g. delay, horizon)
    model: str = "lstm"  # a cell kind: a key of registry.CELLS
    variant: str = "vanilla"  # the kind's variant (LSTM: see registry.LSTM); ignored by kinds without variants
    nonlinearity: str = "tanh"  # RNN only: tanh | relu
    hidden_size: int = 32
    n_train: int = 4000  # training sequences
    n_val: int = 500  # held-out validation sequences (a different seed stream)
    batch_size: int = 64
    lr: float = 0.01  # Adam's step size
    max_epochs: int = 200
    max_seconds: float = 60.0  # wall-clock budget, data generation included
    patience: int = 12  # early stopping: epochs without a better validation metric
    clip: float = 1.0  # gradient-norm clipping; 0 turns it off
    dropout: float = 0.0  # on the cell's inputs and outputs
    # The initial bias of the kind's forget gate (LSTM f, GRU update gate z; registry: CellKind.forget_gate): a
    # number, "chrono", None (torch's init) or "default", which becomes the kind's own: 1.0 for the LSTM, None
    # for the GRU (so its numbers are what they were before the GRU took the choice).
    forget_bias: float | str | None = KIND_DEFAULT
    chrono_max: int | None = None  # chrono's T_max; None: the task's longest dependency (tasks.longest_dependency)
    normalise: str = "auto"  # auto: z-score every feature that is not 0/1-valued
    seed: int = 0

    def __post_init__(self):
        choose("task", self.task, TASKS)
        cell_kind(self.model)
        choose("LSTM variant", self.variant, VARIANTS)
        choose("normalisation", self.normalise, NORMALISE_CHOICES)
        for name in ("hidden_size", "n_train", "n_val", "batch_size", "max_epochs", "patience"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise LabError(f"{name} must be a whole number >= 1; got {getattr(self, name)!r}")
        for name in ("lr", "max_seconds"):
            if not getattr(self, name) > 0:
                raise LabError(f"{name} must be > 0; got {getattr(self, name)!r}")
        if not 0 <= self.dropout < 1:
            raise LabError(f"dropout must be in [0, 1); got {self.dropout!r}")
        if self.forget_bias == KIND_DEFAULT:  # record what is applied: the stored config replays the same run
            object.__setattr__(self, "forget_bias", CELLS[self.model].forget_bias)
        fb = self.forget_bias
        if not (fb is None or fb == CHRONO or (isinstance(fb, int | float) and not isinstance(fb, bool)
                                               and math.isfinite(fb))):
            raise LabError(f"forget_bias must be a number, {CHRONO!r} or None (torch's init); got {fb!r}")
        if self.chrono_max is not None:
            if fb != CHRONO:
                raise LabError(f"chrono_max applies to forget_bias {CHRONO!r} only; got forget_bias {fb!r}")
            if isinstance(self.chrono_max, bool) or not isinstance(self.chrono_max, int) or self.chrono_max < 2:
                raise LabError(f"chrono_max must be a whole number >= 2; got {self.chrono_max!r}")

    @classmethod
    def for_task(cls, task: str, **overrides) -> TrainConfig:
        """The defaults, the task's preset, then the caller's overrides. A preset's forget_bias changes the
        LSTM's default only: a kind whose default is torch's init (the GRU) keeps it unless asked."""
        preset = dict(TASK_PRESETS.get(task, {}))
        model = overrides.get("model", cls.model)
        if model in CELLS and CELLS[model].forget_bias is None:
            preset.pop("forget_bias", None)
        return cls.from_dict({"task": task, **preset, **overrides})

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise LabError(f"unknown training option(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}")
        return cls(**d)
