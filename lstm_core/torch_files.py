"""Torch files, read safely: this project's .pt checkpoints, plain state_dicts, whole pickled layers.

Files are read with `torch.load(..., weights_only=True)` inside an allow-list of torch.nn layer classes:
only tensors, plain containers and those layers can be unpickled, so a file cannot run code on load.
A state_dict (or whole torch.nn.LSTM/GRU/RNN) of a single-layer network becomes a Checkpoint with its
sizes inferred from the weight shapes and a linear readout head kept if there is one.
"""

from __future__ import annotations

import io
import pickle
import warnings
import zipfile
from collections.abc import Mapping

import torch

from .bridge import checkpoint_of, tensor
from .cells import SequenceModel, kind_of, make_cell
from .checkpoint import FORMAT, Checkpoint, checkpoint_from_meta
from .errors import LabError
from .registry import CELLS

# Layer classes a whole pickled module may contain; nothing else is constructed on load.
_SAFE_MODULES = [torch.nn.LSTM, torch.nn.GRU, torch.nn.RNN, torch.nn.Linear, torch.nn.Dropout,
                 torch.nn.Sequential, torch.nn.ReLU, torch.nn.Tanh, torch.nn.Identity, torch.nn.ModuleDict,
                 torch.nn.ModuleList]


def load_torch_file(raw: bytes, name: str) -> Checkpoint:
    obj = _safe_unpickle(raw, name)
    if isinstance(obj, Mapping) and obj.get("format") == FORMAT:
        return _from_checkpoint_dict(obj, name)
    if isinstance(obj, torch.nn.Module):
        return _from_module(obj, name)
    if isinstance(obj, Mapping):
        return from_state_dict(obj, name)
    raise LabError(f"{name}: holds a {type(obj).__name__}, not a model: expected a checkpoint saved by "
                   "this app, a state_dict, or a torch.nn.LSTM/GRU/RNN")


def save_torch_file(ck: Checkpoint, path_or_file) -> None:
    """The checkpoint as one torch file: its metadata plus a state_dict of tensors (weights_only-safe)."""
    sd = {f"cell.{k}": tensor(v) for k, v in ck.network.state_dict().items()}
    if ck.head is not None:
        sd["head.weight"] = tensor(ck.head.weight)
        sd["head.bias"] = tensor(ck.head.bias)
    torch.save({**ck.meta(), "state_dict": sd}, path_or_file)


def _safe_unpickle(raw: bytes, name: str):
    try:
        with torch.serialization.safe_globals(_SAFE_MODULES), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # torch's note on pickle protocols: our message says more
            return torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        advice = "Save only the weights instead: torch.save(model.state_dict(), path)"
        if "Unsupported global: GLOBAL " in str(e):
            what = str(e).split("Unsupported global: GLOBAL ")[1].split()[0]
            raise LabError(f"refused {name}: loading it would construct {what}, which is outside the allowed "
                           f"torch layers and could run code. {advice}") from None
        raise LabError(f"refused {name}: not a weights-only PyTorch file (a plain pickle, or damaged); such a "
                       f"file can run code when it is loaded, so it is not opened. {advice}") from None
    except (RuntimeError, EOFError, ValueError, zipfile.BadZipFile, KeyError, TypeError, AttributeError,
            IndexError, UnicodeDecodeError, OverflowError, MemoryError) as e:
        first = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        raise LabError(f"{name}: not a readable PyTorch file ({first})") from None


def _from_module(module: torch.nn.Module, name: str) -> Checkpoint:
    try:
        kind_of(module)
    except LabError:
        return from_state_dict(module.state_dict(), name)
    return from_state_dict({k: v for k, v in module.state_dict().items()}, name,
                           nonlinearity=getattr(module, "nonlinearity", "tanh"))


def from_state_dict(sd: Mapping, name: str = "state_dict", nonlinearity: str | None = None) -> Checkpoint:
    """Build a model from a single-layer LSTM/GRU/RNN state_dict (keys may carry a prefix like 'lstm.')."""
    tensors = {k: v for k, v in sd.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        raise LabError(f"{name}: no weight tensors found; expected a state_dict of a torch.nn.LSTM, GRU or RNN")
    prefixes = sorted({k[: -len("weight_ih_l0")] for k in tensors if k.endswith("weight_ih_l0")})
    if not prefixes:
        raise LabError(f"{name}: no recurrent layer found (no '*weight_ih_l0' weights); keys seen: "
                       f"{', '.join(list(tensors)[:6])}{'...' if len(tensors) > 6 else ''}")
    if len(prefixes) > 1:
        raise LabError(f"{name}: {len(prefixes)} recurrent layers ({', '.join(p or '<top>' for p in prefixes)}); "
                       "upload a model with exactly one")
    pre = prefixes[0]
    if f"{pre}weight_ih_l1" in tensors:
        raise LabError(f"{name}: a stacked network (weights for layer 1); only single-layer networks can be traced")
    if any(k.startswith(pre) and "_reverse" in k for k in tensors):
        raise LabError(f"{name}: a bidirectional network; only one-directional networks can be traced")
    if f"{pre}weight_hr_l0" in tensors:
        raise LabError(f"{name}: an LSTM with a projection (proj_size); not supported")
    w_ih, w_hh = tensors[f"{pre}weight_ih_l0"], tensors[f"{pre}weight_hh_l0"]
    if w_ih.dim() != 2 or w_hh.dim() != 2:
        raise LabError(f"{name}: weight_ih_l0 and weight_hh_l0 must be matrices; got shapes "
                       f"{tuple(w_ih.shape)} and {tuple(w_hh.shape)}")
    H, F = w_hh.shape[1], w_ih.shape[1]
    gates = w_ih.shape[0] // max(H, 1)
    by_blocks = {len(k.blocks): k.name for k in CELLS.values() if k.torch_class}  # LSTM 4, GRU 3, RNN 1
    kind = by_blocks.get(gates) if w_ih.shape[0] == gates * H else None
    if kind is None or w_hh.shape != (w_ih.shape[0], H):
        raise LabError(f"{name}: weight shapes {tuple(w_ih.shape)} and {tuple(w_hh.shape)} fit no LSTM (4H), "
                       "GRU (3H) or RNN (H) layer")
    variant = "peephole" if f"{pre}weight_peep_l0" in tensors else "vanilla"
    notes = [f"found a {CELLS[kind].label} layer '{pre or '<top>'}' with {F} input(s) and {H} units"]
    if len(CELLS[kind].nonlinearities) > 1 and nonlinearity is None:
        notes.append("a state_dict does not say whether an RNN uses tanh or relu: assumed tanh")
    cell = make_cell(kind, F, H, variant=variant, nonlinearity=nonlinearity or "tanh")
    own = {k[len(pre):]: v.float() for k, v in tensors.items() if k.startswith(pre) and k[len(pre):] in
           cell.state_dict()}
    if f"{pre}bias_ih_l0" not in tensors:
        for b in ("bias_ih_l0", "bias_hh_l0"):
            own[b] = torch.zeros(gates * H)
        notes.append("the layer has no biases: used zeros")
    _load_strict(cell, own, name)
    head = _find_head(tensors, pre, H)
    model = SequenceModel(cell, n_outputs=None if head is None else head[1].shape[0], readout="per_step")
    if head is not None:
        key, w, b = head
        with torch.no_grad():
            model.head.weight.copy_(w.float())
            model.head.bias.copy_(b.float() if b is not None else torch.zeros(w.shape[0]))
        notes.append(f"kept the readout head '{key}' ({w.shape[0]} output(s)), applied at every step")
    return checkpoint_of(model, notes=tuple(notes), source=name)


def _load_strict(cell, sd, name):
    for k, v in cell.state_dict().items():
        if k not in sd:
            raise LabError(f"{name}: missing weight {k!r}")
        if tuple(sd[k].shape) != tuple(v.shape):
            raise LabError(f"{name}: weight {k!r} has shape {tuple(sd[k].shape)}; expected {tuple(v.shape)}")
        if not torch.isfinite(sd[k]).all():
            raise LabError(f"{name}: weight {k!r} holds NaN or Inf values")
    cell.load_state_dict(sd, strict=True)


def _find_head(tensors: dict, pre: str, H: int):
    """A linear layer reading the hidden state: one '*weight' of shape (n, H) outside the recurrent layer."""
    found = [(k, v) for k, v in tensors.items() if k.endswith("weight") and v.dim() == 2 and v.shape[1] == H
             and not (k.startswith(pre) and k.endswith("_l0"))]
    if len(found) != 1:
        return None
    key, w = found[0]
    b = tensors.get(key[: -len("weight")] + "bias")
    if not torch.isfinite(w).all() or (b is not None and (b.shape != (w.shape[0],) or not torch.isfinite(b).all())):
        return None
    return key.removesuffix(".weight"), w, b


def _from_checkpoint_dict(d: Mapping, name: str) -> Checkpoint:
    sd = d.get("state_dict")
    if not isinstance(sd, Mapping) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise LabError(f"{name}: a damaged checkpoint (no state_dict of tensors)")
    arrays = {k: v.detach().float().numpy() for k, v in sd.items()}
    return checkpoint_from_meta({k: v for k, v in d.items() if k != "state_dict"}, arrays, name)
