"""The checkpoint as plain data: a recurrent layer, its readout head, and what is needed to use and explain
it, with its `.npz` file (numpy, `allow_pickle=False`: the weights as arrays, everything else as JSON).

Opening an .npz needs neither torch nor pickle; the shipped models use it, so the app's first screen
starts without importing torch. The `.pt` file (the same content as tensors) is torch_files.py's; the
torch SequenceModel with a checkpoint's weights is bridge.sequence_model's. models.py loads and saves
either format. Treat a Checkpoint as a snapshot: it does not follow later training.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field

import numpy as np

from . import __version__
from .checkpoint_meta import FORMAT, READOUTS, validate_meta
from .errors import LabError
from .network import Network
from .normalise import Normalisation

# FORMAT and READOUTS live with the metadata schema (checkpoint_meta.py) and are read from here too.
__all__ = ["FORMAT", "READOUTS", "Checkpoint", "Head", "checkpoint_from_meta", "is_npz_checkpoint", "load_npz",
           "versions", "zip_has"]


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
        cell = self.network.cell
        extra = (f"{self.variant}, " if len(cell.variants) > 1 else "") + \
            (f"{self.network.nonlinearity}, " if len(cell.nonlinearities) > 1 else "")
        what = f"{cell.label} ({extra}{self.hidden_size} units)"
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

    def save(self, path_or_file) -> None:
        """Save as one .npz file (models.save_model also writes .pt)."""
        if str(path_or_file).endswith(".pt"):
            raise LabError("Checkpoint.save writes .npz; save a .pt file with lstm_core.save_model(checkpoint, path)")
        np.savez_compressed(path_or_file, meta=np.array(json.dumps(self.meta())), **self.arrays())

    def to_bytes(self) -> bytes:
        """The .npz file's bytes."""
        buf = io.BytesIO()
        self.save(buf)
        return buf.getvalue()


def versions() -> dict:
    """The versions that made a checkpoint (bridge.checkpoint_of adds torch's)."""
    return {"lstm_core": str(__version__), "numpy": str(np.__version__)}


def zip_has(raw: bytes, member: str) -> bool:
    """Does the zip archive in `raw` hold a file called `member` (at any depth)?"""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            return any(n == member or n.endswith("/" + member) for n in z.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def is_npz_checkpoint(raw: bytes) -> bool:
    """Is `raw` an .npz checkpoint of this app (a zip holding meta.npy)?"""
    return raw.startswith(b"PK") and zip_has(raw, "meta.npy")


def load_npz(raw: bytes, name: str) -> Checkpoint:
    """A Checkpoint from an .npz file's bytes; never unpickles anything."""
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
