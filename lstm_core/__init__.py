"""lstm_core: exact, traceable recurrent cells (LSTM and its variants, GRU, RNN) and what runs on them.

Pure computation, no user interface: every number the app shows can be reproduced from here.
"""

__version__ = "0.1.0"

from .cells import CELLS, GRU, LSTM, NONLINEARITIES, RNN, from_torch, kind_of, make_cell, params_of
from .errors import LabError
from .metrics import METRICS, evaluate
from .models import Checkpoint, SequenceModel, from_state_dict, load_model, random_model
from .normalise import NORMALISATIONS, Normalisation, fit_normalisation
from .step import VARIANTS, Params, Step, gru_step, lstm_step, rnn_step
from .tasks import TASKS, Task, TaskData, make_task
from .trace import QUANTITIES, Trace, step_at, trace
from .train import TASK_PRESETS, EpochReport, TrainConfig, TrainingResult, train

__all__ = [
    "CELLS", "GRU", "LSTM", "METRICS", "NONLINEARITIES", "NORMALISATIONS", "QUANTITIES", "RNN", "TASKS",
    "TASK_PRESETS", "VARIANTS",
    "Checkpoint", "EpochReport", "LabError", "Normalisation", "Params", "SequenceModel", "Step", "Task",
    "TaskData", "Trace", "TrainConfig", "TrainingResult",
    "evaluate", "fit_normalisation", "from_state_dict", "from_torch", "gru_step", "kind_of", "load_model",
    "lstm_step", "make_cell", "make_task", "params_of", "random_model", "rnn_step", "step_at", "trace", "train",
]
