"""A recurrent cell with a readout head, and the one-file checkpoint that carries it safely.

Files are read with `torch.load(..., weights_only=True)`: only tensors, plain containers and an
allow-list of torch.nn layer classes can be unpickled, so a file cannot run code on load. Besides this
project's checkpoints, a plain `state_dict` (or a whole pickled torch.nn.LSTM/GRU/RNN) of a single-layer
network loads too, with its sizes inferred from the weight shapes and a readout head kept if present.
"""

from __future__ import annotations

import io
import logging
import pickle
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .cells import CELLS, kind_of, make_cell, nonlinearity_of, parse_random_spec, variant_of
from .errors import LabError
from .normalise import Normalisation

log = logging.getLogger(__name__)

FORMAT = "lstm-gate-lab checkpoint"
MAX_MODEL_BYTES = 50 * 2**20  # checked before anything is unpickled
READOUTS = ("final", "per_step")
# Layer classes a whole pickled module may contain; nothing else is constructed on load.
_SAFE_MODULES = [torch.nn.LSTM, torch.nn.GRU, torch.nn.RNN, torch.nn.Linear, torch.nn.Dropout,
                 torch.nn.Sequential, torch.nn.ReLU, torch.nn.Tanh, torch.nn.Identity, torch.nn.ModuleDict,
                 torch.nn.ModuleList]


class SequenceModel(torch.nn.Module):
    """cell -> dropout -> linear head, read out at each sequence's last real step ("final") or at every
    step ("per_step"). Padded steps never influence a final readout: the cell is causal."""

    def __init__(self, cell: torch.nn.Module, n_outputs: int | None = None, readout: str = "final",
                 dropout: float = 0.0):
        super().__init__()
        if readout not in READOUTS:
            raise LabError(f"unknown readout {readout!r}; choose one of {', '.join(READOUTS)}")
        self.cell, self.readout, self.dropout = cell, readout, float(dropout)
        self.drop_in = torch.nn.Dropout(dropout)
        self.drop_out = torch.nn.Dropout(dropout)
        self.head = torch.nn.Linear(cell.hidden_size, n_outputs) if n_outputs else None

    def forward(self, x, lengths=None):
        """x (B, T, F) -> (B, n_outputs) for "final", (B, T, n_outputs) for "per_step"."""
        out, _ = self.cell(self.drop_in(x))  # (B, T, H)
        out = self.drop_out(out)
        if self.readout == "final":
            last = (torch.as_tensor(lengths) - 1) if lengths is not None else torch.full((x.shape[0],), x.shape[1] - 1)
            out = out[torch.arange(x.shape[0]), last]  # (B, H)
        return self.head(out) if self.head is not None else out


@dataclass(eq=False)
class Checkpoint:
    """A model with everything needed to use and explain it: task, normalisation, history, provenance."""

    model: SequenceModel
    task: dict | None = None  # name, params, description, metric, loss, readout, feature/output names
    normalisation: Normalisation | None = None
    vocab: tuple | None = None  # characters of a text model, one-hot order
    history: list = field(default_factory=list)  # one dict per epoch
    metrics: dict = field(default_factory=dict)
    seed: int | None = None
    config: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    notes: tuple = ()  # what loading found out, in words
    source: str = ""

    @property
    def cell(self) -> torch.nn.Module:
        return self.model.cell

    @property
    def kind(self) -> str:
        return kind_of(self.cell)

    @property
    def variant(self) -> str:
        return variant_of(self.cell)

    @property
    def input_size(self) -> int:
        return self.cell.input_size

    @property
    def hidden_size(self) -> int:
        return self.cell.hidden_size

    def describe(self) -> str:
        """e.g. 'LSTM (vanilla, 32 units) trained on adding'."""
        extra = f"{self.variant}, " if self.kind == "lstm" else (
            f"{nonlinearity_of(self.cell)}, " if self.kind == "rnn" else "")
        what = f"{self.kind.upper()} ({extra}{self.hidden_size} units)"
        return f"{what} trained on {self.task['name']}" if self.task else what

    def to_dict(self) -> dict:
        head = None if self.model.head is None else {
            "readout": self.model.readout, "n_outputs": self.model.head.out_features, "dropout": self.model.dropout}
        return {
            "format": FORMAT, "version": 1,
            "cell": {"kind": self.kind, "variant": self.variant, "nonlinearity": nonlinearity_of(self.cell),
                     "input_size": self.input_size, "hidden_size": self.hidden_size},
            "head": head, "task": self.task,
            "normalisation": None if self.normalisation is None else self.normalisation.to_dict(),
            "vocab": None if self.vocab is None else list(self.vocab),
            "history": self.history, "metrics": self.metrics, "seed": self.seed, "config": self.config,
            "versions": self.versions or versions(),
            "state_dict": {k: v.detach().clone() for k, v in self.model.state_dict().items()},
        }

    def save(self, path_or_file) -> None:
        torch.save(self.to_dict(), path_or_file)

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        self.save(buf)
        return buf.getvalue()


def versions() -> dict:
    from . import __version__

    return {"lstm_core": str(__version__), "torch": str(torch.__version__), "numpy": str(np.__version__)}


RANDOM_SPEC_HELP = "KIND:random:H=SIZE:seed=N, e.g. lstm:random:H=8:seed=0"


def is_random_spec(spec) -> bool:
    return isinstance(spec, str) and spec.split(":")[0] in CELLS and ":random" in spec


def random_model(spec: str, input_size: int) -> Checkpoint:
    """An untrained model from a `KIND:random:H=SIZE:seed=N` spec (no head, no task)."""
    cell = parse_random_spec(spec, input_size)
    seed = next((int(p[5:]) for p in spec.split(":") if p.startswith("seed=")), 0)
    return Checkpoint(SequenceModel(cell), seed=seed, source=spec)


def load_model(source, name: str | None = None, max_bytes: int = MAX_MODEL_BYTES) -> Checkpoint:
    """Load a checkpoint of this project, a state_dict or a pickled torch.nn.LSTM/GRU/RNN, safely.

    source: a path or the file's bytes (an upload). Anything else, or anything unsafe, is refused with a
    LabError saying why."""
    if isinstance(source, (bytes, bytearray)):
        raw, name = bytes(source), name or "upload"
    else:
        path = Path(source)
        name = name or path.name
        if not path.is_file():
            raise LabError(f"model file {str(path)!r} does not exist")
        if path.stat().st_size > max_bytes:
            raise LabError(f"{name}: {path.stat().st_size / 2**20:.1f} MB is over the {max_bytes / 2**20:.0f} MB "
                           "limit for model files")
        raw = path.read_bytes()
    if len(raw) > max_bytes:
        raise LabError(f"{name}: {len(raw) / 2**20:.1f} MB is over the {max_bytes / 2**20:.0f} MB limit for "
                       "model files")
    if not raw:
        raise LabError(f"{name}: the file is empty")
    obj = _safe_unpickle(raw, name)
    if isinstance(obj, Mapping) and obj.get("format") == FORMAT:
        return _from_checkpoint_dict(obj, name)
    if isinstance(obj, torch.nn.Module):
        return _from_module(obj, name)
    if isinstance(obj, Mapping):
        return from_state_dict(obj, name)
    raise LabError(f"{name}: holds a {type(obj).__name__}, not a model: expected a checkpoint saved by "
                   "this app, a state_dict, or a torch.nn.LSTM/GRU/RNN")


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
    kind = {4: "lstm", 3: "gru", 1: "rnn"}.get(gates) if w_ih.shape[0] == gates * H else None
    if kind is None or w_hh.shape != (w_ih.shape[0], H):
        raise LabError(f"{name}: weight shapes {tuple(w_ih.shape)} and {tuple(w_hh.shape)} fit no LSTM (4H), "
                       "GRU (3H) or RNN (H) layer")
    variant = "peephole" if f"{pre}weight_peep_l0" in tensors else "vanilla"
    notes = [f"found a {kind.upper()} layer '{pre or '<top>'}' with {F} input(s) and {H} units"]
    if kind == "rnn" and nonlinearity is None:
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
    return Checkpoint(model, notes=tuple(notes), source=name)


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
    try:
        c = d["cell"]
        cell = make_cell(c["kind"], int(c["input_size"]), int(c["hidden_size"]), variant=c.get("variant", "vanilla"),
                         nonlinearity=c.get("nonlinearity", "tanh"))
        h = d.get("head")
        model = SequenceModel(cell, n_outputs=h and int(h["n_outputs"]), readout=h["readout"] if h else "final",
                              dropout=float(h.get("dropout", 0.0)) if h else 0.0)
        sd = d["state_dict"]
    except (KeyError, TypeError, ValueError) as e:
        raise LabError(f"{name}: a damaged checkpoint ({type(e).__name__}: {e})") from None
    for k, v in model.state_dict().items():
        if k not in sd or not isinstance(sd[k], torch.Tensor) or tuple(sd[k].shape) != tuple(v.shape):
            raise LabError(f"{name}: a damaged checkpoint (weight {k!r} is missing or has the wrong shape)")
        if not torch.isfinite(sd[k]).all():
            raise LabError(f"{name}: weight {k!r} holds NaN or Inf values")
    model.load_state_dict(sd, strict=True)
    model.eval()
    norm = d.get("normalisation")
    return Checkpoint(
        model, task=d.get("task"), normalisation=None if norm is None else Normalisation.from_dict(norm),
        vocab=None if d.get("vocab") is None else tuple(d["vocab"]), history=list(d.get("history") or []),
        metrics=dict(d.get("metrics") or {}), seed=d.get("seed"), config=dict(d.get("config") or {}),
        versions=dict(d.get("versions") or {}), source=name)
