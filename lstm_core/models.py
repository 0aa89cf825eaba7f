"""Load, save and make models: the entry points that pick a file format and, only when needed, torch.

- `.npz` checkpoints (checkpoint.py) open without torch: the shipped models use them, so the app's first
  screen starts without importing torch (a second and a half).
- `.pt` files (this app's checkpoints, plain state_dicts, whole pickled layers) are torch_files.py's,
  read with `torch.load(weights_only=True)`.
Torch is imported inside the functions that need it, for start-up time only (nothing imports this module
back, so there is no cycle to break).
"""

from __future__ import annotations

import io
from pathlib import Path

from .checkpoint import Checkpoint, is_npz_checkpoint, load_npz, zip_has
from .errors import LabError
from .registry import CELLS

__all__ = ["MAX_MODEL_BYTES", "is_random_spec", "load_model", "model_bytes", "random_model", "save_model"]

MAX_MODEL_BYTES = 50 * 2**20  # checked before anything is unpickled


def is_random_spec(spec) -> bool:
    return isinstance(spec, str) and spec.split(":")[0] in CELLS and ":random" in spec


def random_model(spec: str, input_size: int) -> Checkpoint:
    """An untrained model from a `KIND:random:H=SIZE:seed=N` spec (no head, no task); torch's init."""
    from .bridge import checkpoint_of  # lazily, for start-up time (torch)
    from .cells import SequenceModel, parse_random_spec  # lazily, for start-up time (torch)

    cell = parse_random_spec(spec, input_size)
    seed = next((int(p[5:]) for p in spec.split(":") if p.startswith("seed=")), 0)
    return checkpoint_of(SequenceModel(cell), seed=seed, source=spec)


def save_model(ck: Checkpoint, path_or_file, format: str | None = None) -> None:
    """Save as one file: .npz (numpy) or .pt (torch), chosen by `format` or the path's suffix."""
    fmt = format or ("npz" if str(path_or_file).endswith(".npz") else "pt")
    if fmt == "npz":
        ck.save(path_or_file)
    elif fmt == "pt":
        from .torch_files import save_torch_file  # lazily, for start-up time (torch)

        save_torch_file(ck, path_or_file)
    else:
        raise LabError(f"unknown checkpoint format {fmt!r}; choose npz or pt")


def model_bytes(ck: Checkpoint, format: str = "pt") -> bytes:
    """The file save_model would write, as bytes (a download)."""
    buf = io.BytesIO()
    save_model(ck, buf, format)
    return buf.getvalue()


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
    if is_npz_checkpoint(raw):
        return load_npz(raw, name)
    if not (raw.startswith(b"PK") or raw.startswith(b"\x80")):  # neither a torch zip nor a pickle
        kind = "a NumPy array (.npy)" if raw.startswith(b"\x93NUMPY") else "not a model file"
        raise LabError(f"{name}: {kind}; expected a checkpoint of this app (.npz or .pt), or a PyTorch "
                       "state_dict or torch.nn.LSTM/GRU/RNN saved with torch.save")
    if raw.startswith(b"PK") and not zip_has(raw, "data.pkl"):
        raise LabError(f"{name}: a zip file that is neither a checkpoint of this app nor a PyTorch file")
    from .torch_files import load_torch_file  # lazily, for start-up time: torch is needed from here on only

    return load_torch_file(raw, name)
