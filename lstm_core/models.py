"""The one-file checkpoint: a recurrent layer, its readout head, and what is needed to use and explain it.

Two file formats, both safe to open:
- `.npz` (numpy, `allow_pickle=False`): the weights as arrays and everything else as JSON. Opening it
  needs neither torch nor pickle; the shipped models use it, so the app's first screen starts without
  importing torch.
- `.pt` (torch): the same content as a dict of plain values and tensors, read with
  `torch.load(weights_only=True)` (torch_files.py), which also reads plain state_dicts.

A Checkpoint holds numpy weights (`network`, `head`); its torch `model` (a SequenceModel) is built the
first time something asks for it. Treat a Checkpoint as a snapshot: it does not follow later training.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .checkpoint_meta import FORMAT, READOUTS, validate_meta
from .errors import LabError
from .network import CELLS, Network
from .normalise import Normalisation

# FORMAT and READOUTS live with the metadata schema (checkpoint_meta.py) and are read from here too.
__all__ = ["FORMAT", "MAX_MODEL_BYTES", "READOUTS", "Checkpoint", "Head", "checkpoint_from_meta", "is_random_spec",
           "load_model", "random_model", "versions"]

MAX_MODEL_BYTES = 50 * 2**20  # checked before anything is unpickled


@dataclass(frozen=True, eq=False)
class Head:
    """A linear readout of the hidden state: y = W h + b, at the last real step or at every step."""

    readout: str  # "final" | "per_step"
    weight: np.ndarray  # (n_outputs, H) float32
    bias: np.ndarray  # (n_outputs,) float32
    dropout: float = 0.0  # used in training, on the cell's inputs and outputs

    @property
    def n_outputs(self) -> int:
        return self.weight.shape[0]


@dataclass(eq=False)
class Checkpoint:
    """A model with everything needed to use and explain it: task, normalisation, history, provenance."""

    network: Network
    head: Head | None = None
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
    _model: object = field(default=None, repr=False)  # the torch SequenceModel, built on first use

    @classmethod
    def from_model(cls, model, **info) -> Checkpoint:
        """A snapshot of a torch SequenceModel (cells.py) and its description."""
        from .cells import network_from_module

        head = None
        if model.head is not None:
            head = Head(model.readout, model.head.weight.detach().float().numpy().copy(),
                        model.head.bias.detach().float().numpy().copy(), model.dropout)
        ck = cls(network_from_module(model.cell), head, **info)
        ck._model = model
        return ck

    @property
    def model(self):
        """The torch SequenceModel with these weights (imports torch the first time)."""
        if self._model is None:
            import torch

            from .cells import SequenceModel, module_from_network

            h = self.head
            model = SequenceModel(module_from_network(self.network), None if h is None else h.n_outputs,
                                  "final" if h is None else h.readout, 0.0 if h is None else h.dropout)
            if h is not None:
                with torch.no_grad():
                    model.head.weight.copy_(torch.from_numpy(np.array(h.weight)))
                    model.head.bias.copy_(torch.from_numpy(np.array(h.bias)))
            self._model = model.eval()
        return self._model

    @property
    def cell(self):
        return self.model.cell

    @property
    def kind(self) -> str:
        return self.network.kind

    @property
    def variant(self) -> str:
        return self.network.variant

    @property
    def input_size(self) -> int:
        return self.network.input_size

    @property
    def hidden_size(self) -> int:
        return self.network.hidden_size

    def describe(self) -> str:
        """e.g. 'LSTM (vanilla, 32 units) trained on adding'."""
        extra = {"lstm": f"{self.variant}, ", "rnn": f"{self.network.nonlinearity}, "}.get(self.kind, "")
        what = f"{self.kind.upper()} ({extra}{self.hidden_size} units)"
        return f"{what} trained on {self.task['name']}" if self.task else what

    def meta(self) -> dict:
        """Everything but the weights, as JSON-friendly values."""
        net, h = self.network, self.head
        return {
            "format": FORMAT, "version": 1,
            "cell": {"kind": net.kind, "variant": net.variant, "nonlinearity": net.nonlinearity,
                     "input_size": net.input_size, "hidden_size": net.hidden_size},
            "head": None if h is None else {"readout": h.readout, "n_outputs": h.n_outputs, "dropout": h.dropout},
            "task": self.task,
            "normalisation": None if self.normalisation is None else self.normalisation.to_dict(),
            "vocab": None if self.vocab is None else list(self.vocab),
            "history": self.history, "metrics": self.metrics, "seed": self.seed, "config": self.config,
            "versions": self.versions or versions(),
        }

    def arrays(self) -> dict:
        """The weights under the SequenceModel's state_dict names ('cell.weight_ih_l0', 'head.weight')."""
        out = {f"cell.{k}": v for k, v in self.network.state_dict().items()}
        if self.head is not None:
            out["head.weight"], out["head.bias"] = self.head.weight, self.head.bias
        return out

    def save(self, path_or_file, format: str | None = None) -> None:
        """Save as one file: .npz (numpy) or .pt (torch), chosen by `format` or the path's suffix."""
        fmt = format or ("npz" if str(path_or_file).endswith(".npz") else "pt")
        if fmt == "npz":
            np.savez_compressed(path_or_file, meta=np.array(json.dumps(self.meta())), **self.arrays())
        elif fmt == "pt":
            from .torch_files import save_torch_file

            save_torch_file(self, path_or_file)
        else:
            raise LabError(f"unknown checkpoint format {fmt!r}; choose npz or pt")

    def to_bytes(self, format: str = "pt") -> bytes:
        buf = io.BytesIO()
        self.save(buf, format)
        return buf.getvalue()


def versions() -> dict:
    """The versions that made a checkpoint; torch's only if it is loaded (saving an .npz needs no torch)."""
    import sys

    from . import __version__

    out = {"lstm_core": str(__version__), "numpy": str(np.__version__)}
    if "torch" in sys.modules:  # loaded or loading; never read the module from there (it may be half-made)
        import torch  # waits for an import under way in another thread

        out["torch"] = str(torch.__version__)
    return out


def is_random_spec(spec) -> bool:
    return isinstance(spec, str) and spec.split(":")[0] in CELLS and ":random" in spec


def random_model(spec: str, input_size: int) -> Checkpoint:
    """An untrained model from a `KIND:random:H=SIZE:seed=N` spec (no head, no task); torch's init."""
    from .cells import SequenceModel, parse_random_spec

    cell = parse_random_spec(spec, input_size)
    seed = next((int(p[5:]) for p in spec.split(":") if p.startswith("seed=")), 0)
    return Checkpoint.from_model(SequenceModel(cell), seed=seed, source=spec)


def load_model(source, name: str | None = None, max_bytes: int = MAX_MODEL_BYTES) -> Checkpoint:
    """Load a checkpoint (.npz or .pt), a state_dict or a pickled torch.nn.LSTM/GRU/RNN, safely.

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
    if _is_npz_checkpoint(raw):
        return _load_npz(raw, name)
    if not (raw.startswith(b"PK") or raw.startswith(b"\x80")):  # neither a torch zip nor a pickle
        kind = "a NumPy array (.npy)" if raw.startswith(b"\x93NUMPY") else "not a model file"
        raise LabError(f"{name}: {kind}; expected a checkpoint of this app (.npz or .pt), or a PyTorch "
                       "state_dict or torch.nn.LSTM/GRU/RNN saved with torch.save")
    if raw.startswith(b"PK") and not _zip_has(raw, "data.pkl"):
        raise LabError(f"{name}: a zip file that is neither a checkpoint of this app nor a PyTorch file")
    from .torch_files import load_torch_file  # a torch file: torch is needed from here on

    return load_torch_file(raw, name)


def _zip_has(raw: bytes, member: str) -> bool:
    """Does the zip archive in `raw` hold a file called `member` (at any depth)?"""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            return any(n == member or n.endswith("/" + member) for n in z.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _is_npz_checkpoint(raw: bytes) -> bool:
    return raw.startswith(b"PK") and _zip_has(raw, "meta.npy")


def _load_npz(raw: bytes, name: str) -> Checkpoint:
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(str(arrays.pop("meta")))
    except (OSError, ValueError, zipfile.BadZipFile, KeyError, EOFError, RecursionError) as e:
        raise LabError(f"{name}: a damaged checkpoint ({type(e).__name__}: {str(e)[:160]})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise LabError(f"{name}: an .npz file that is not a checkpoint of this app (no '{FORMAT}' mark)")
    return checkpoint_from_meta(meta, arrays, name)


def checkpoint_from_meta(meta: dict, arrays: dict, name: str) -> Checkpoint:
    """A Checkpoint from its metadata and weights (numpy, under 'cell.*' and 'head.*'); checks both, the
    metadata first and in full (checkpoint_meta.validate_meta)."""
    meta = validate_meta(meta, name)
    try:
        c = meta["cell"]
        net = Network.from_state_dict(c["kind"], {k[5:]: v for k, v in arrays.items() if k.startswith("cell.")},
                                      c.get("variant", "vanilla"), c.get("nonlinearity", "tanh"), name)
        if (net.input_size, net.hidden_size) != (int(c["input_size"]), int(c["hidden_size"])):
            raise LabError(f"{name}: a damaged checkpoint (its weights do not have the sizes it states)")
        h = meta.get("head")
        head = None
        if h:
            w = np.asarray(arrays["head.weight"], np.float32)
            b = np.asarray(arrays["head.bias"], np.float32)
            if w.shape != (int(h["n_outputs"]), net.hidden_size) or b.shape != (w.shape[0],):
                raise LabError(f"{name}: a damaged checkpoint (the readout head has the wrong shape)")
            if not (np.isfinite(w).all() and np.isfinite(b).all()):
                raise LabError(f"{name}: weight 'head.weight' holds NaN or Inf values")
            head = Head(h["readout"], w, b, float(h.get("dropout", 0.0)))
        norm = meta.get("normalisation")
        return Checkpoint(
            net, head, task=meta.get("task"), normalisation=None if norm is None else Normalisation.from_dict(norm),
            vocab=None if meta.get("vocab") is None else tuple(meta["vocab"]), history=list(meta.get("history") or []),
            metrics=dict(meta.get("metrics") or {}), seed=meta.get("seed"), config=dict(meta.get("config") or {}),
            versions=dict(meta.get("versions") or {}), source=name)
    except LabError as e:
        if "missing weight" in str(e):
            raise LabError(f"{name}: a damaged checkpoint ({str(e).split(': ', 1)[1]})") from None
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise LabError(f"{name}: a damaged checkpoint ({type(e).__name__}: {e})") from None
