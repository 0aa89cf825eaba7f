"""lstm_core: exact, traceable recurrent cells (LSTM and its variants, GRU, RNN) and what runs on them.

Pure computation, no user interface: every number the app shows can be reproduced from here. Names are
loaded on first use, so `import lstm_core` is quick and tracing a numpy `Network` never imports torch.
"""

import importlib

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    "CELLS": "registry", "CellKind": "registry", "NONLINEARITIES": "registry", "Quantity": "registry",
    "VARIANTS": "registry", "Variant": "registry", "cell_kind": "registry", "register": "registry",
    "Network": "network", "network_of": "network",
    "Checkpoint": "checkpoint", "Head": "checkpoint",
    "checkpoint_of": "bridge", "from_torch": "bridge", "sequence_model": "bridge", "to_torch": "bridge",
    "GRU": "cells", "LSTM": "cells", "RNN": "cells", "SequenceModel": "cells", "kind_of": "cells",
    "make_cell": "cells", "params_of": "cells",
    "LabError": "errors",
    "Clamp": "memory", "clamped_trace": "memory", "forget_time": "memory", "gradient_flow": "memory",
    "interpretable_units": "memory", "memory_capacity": "memory", "probe_lags": "memory", "retention": "memory",
    "saturation": "memory", "state_pca": "memory", "recall_probe": "memory", "recall_steps": "memory",
    "RecallProbe": "memory",
    "memory_curve": "analysis", "memory_span": "analysis",
    "METRICS": "scores", "evaluate": "scores", "skill": "scores", "solves": "scores",
    "load_model": "models", "model_bytes": "models", "random_model": "models", "save_model": "models",
    "from_state_dict": "torch_files",
    "NORMALISATIONS": "normalise", "Normalisation": "normalise", "fit_normalisation": "normalise",
    "Params": "step", "Step": "step", "gru_step": "step", "lstm_step": "step", "rnn_step": "step",
    "TASKS": "tasks", "Task": "tasks", "TaskData": "tasks", "longest_dependency": "tasks", "make_task": "tasks",
    "GateStats": "gate_stats", "gate_stats": "gate_stats",
    "Trace": "tracing", "step_at": "tracing", "trace": "tracing",
    "TASK_PRESETS": "training", "EpochReport": "training", "TrainConfig": "training",
    "TrainingResult": "training", "chrono_bias": "training", "train": "training",
    "Sweep": "sweep", "SweepPoint": "sweep", "delay_sweep": "sweep", "load_sweep": "sweep", "point_config": "sweep",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lstm_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
