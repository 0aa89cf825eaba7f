"""The one bridge between numpy and torch: a torch layer becomes a numpy Network, a Network or a Checkpoint
becomes torch modules, and back. Nothing else in lstm_core converts between the two, and step.py,
network.py, checkpoint.py and tracing.py never import torch.
"""

from __future__ import annotations

import weakref

import numpy as np
import torch

from .cells import SequenceModel, check_traceable, kind_of, make_cell, nonlinearity_of, params_of, variant_of
from .checkpoint import Checkpoint, Head, versions
from .network import Network
from .step import Params

__all__ = ["array", "checkpoint_of", "from_torch", "sequence_model", "tensor", "to_torch"]


def array(t: torch.Tensor) -> np.ndarray:
    """A float32 numpy copy of a tensor (detached, on the CPU)."""
    return t.detach().float().cpu().numpy().copy()


def tensor(a) -> torch.Tensor:
    """A float32 tensor with a copy of a numpy array's values."""
    return torch.from_numpy(np.array(a, dtype=np.float32))


def from_torch(module: torch.nn.Module) -> Network:
    """The weights of a single-layer torch.nn.LSTM/GRU/RNN (or of a model's `.cell`) as a numpy Network, copied
    now: a later training step changes the module, not this Network."""
    module = getattr(module, "cell", module) if not hasattr(module, "weight_ih_l0") else module
    check_traceable(module)
    p = params_of(module)
    arrays = [None if a is None else array(a) for a in (p.weight_ih, p.weight_hh, p.bias_ih, p.bias_hh, p.peephole)]
    return Network(kind_of(module), Params(*arrays), variant_of(module), nonlinearity_of(module))


def to_torch(net: Network, batch_first: bool = True) -> torch.nn.Module:
    """A torch cell holding a Network's weights (for training or torch's own forward)."""
    cell = make_cell(net.kind, net.input_size, net.hidden_size, variant=net.variant, nonlinearity=net.nonlinearity,
                     batch_first=batch_first)
    cell.load_state_dict({k: tensor(v) for k, v in net.state_dict().items()})
    return cell


def checkpoint_of(model: SequenceModel, **info) -> Checkpoint:
    """A snapshot of a torch SequenceModel as a Checkpoint (info: task, normalisation, history, ...)."""
    head = None
    if model.head is not None:
        head = Head(model.readout, array(model.head.weight), array(model.head.bias), model.dropout)
    info.setdefault("versions", {**versions(), "torch": str(torch.__version__)})
    ck = Checkpoint(from_torch(model.cell), head, **info)
    _MODELS[ck] = model
    return ck


_MODELS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Checkpoint -> its SequenceModel, made once


def sequence_model(ck: Checkpoint) -> SequenceModel:
    """The torch SequenceModel with a checkpoint's weights (made the first time it is asked for, in eval mode)."""
    model = _MODELS.get(ck)
    if model is None:
        h = ck.head
        model = SequenceModel(to_torch(ck.network), None if h is None else h.n_outputs,
                              "final" if h is None else h.readout, 0.0 if h is None else h.dropout)
        if h is not None:
            with torch.no_grad():
                model.head.weight.copy_(tensor(h.weight))
                model.head.bias.copy_(tensor(h.bias))
        model = _MODELS[ck] = model.eval()
    return model
