"""Run a recurrent network over a sequence once and record every gate at every step.

Every cell runs its kind's loop over time (registry.py names it; loops.py runs the compiled loop of
kernels.py, or its numpy twin on a fresh install), which computes and keeps every gate and state as it
goes (a GRU's or an RNN's input projections x_t W_ih^T for all t first, in one matrix product; an LSTM's
loop computes them step by step, where it reads them). At B = 1 this is as fast as torch's fused forward,
which keeps nothing but h (benchmarks/trace_speed.py). Sequences of a batch are independent and are split
between threads. Nothing here needs torch: models are numpy
`Network`s (network.py; bridge.from_torch converts a torch layer).

Steps past a sequence's length (see `lengths`) hold NaN in every quantity; `Trace.mask` says which
steps are real. Final states are taken at each sequence's own last step, as pack_padded_sequence does.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .csv_text import csv_field, csv_numbers, csv_rows
from .errors import LabError
from .limits import MAX_EXPORT_ROWS
from .network import network_of
from .registry import CELLS
from .step import Step


@dataclass(frozen=True, eq=False)
class Trace(Mapping):
    """Every recorded quantity of one run, by the seed's names: trace["f"] is (T, H) or (B, T, H)."""

    kind: str
    variant: str
    arrays: dict = field(repr=False)
    x: np.ndarray = field(repr=False)  # the input, (T, F) or (B, T, F), float32
    lengths: np.ndarray | None = None  # (B,) real lengths of a padded batch, else None
    h_n: np.ndarray | None = field(default=None, repr=False)  # (H,) or (B, H)
    c_n: np.ndarray | None = field(default=None, repr=False)  # LSTM only
    nonlinearity: str = "tanh"

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.arrays[name]
        except KeyError:
            raise KeyError(f"{name!r} is not in this {self.kind.upper()} trace; it has "
                           f"{', '.join(self.arrays)}") from None

    def __iter__(self):
        return iter(self.arrays)

    def __len__(self) -> int:
        return len(self.arrays)

    @property
    def batched(self) -> bool:
        return self.x.ndim == 3

    @property
    def steps(self) -> int:
        return self.x.shape[-2]

    @property
    def hidden_size(self) -> int:
        return self.arrays["h"].shape[-1]

    @property
    def quantities(self) -> tuple:
        """The gate and state names (no pre-activations), in the seed's order."""
        return CELLS[self.kind].keys

    @property
    def mask(self) -> np.ndarray:
        """True where a step is real: (T,) or (B, T)."""
        shape = self.x.shape[:-1]
        if self.lengths is None:
            return np.ones(shape, bool)
        return np.arange(self.steps)[None, :] < self.lengths[:, None]

    def to_frame(self, names=None):
        """A tidy pandas frame: one row per ([sequence,] step, unit, quantity) with its value."""
        import pandas as pd  # lazily, for start-up time: only a tidy frame needs it

        names = list(self.arrays) if names is None else list(names)
        a = np.stack([np.asarray(self[n]) if self.batched else self[n][None] for n in names])  # (Q, B, T, H)
        Q, B, T, H = a.shape
        grid = np.indices((Q, B, T, H), sparse=True)
        cols = {
            "sequence": np.broadcast_to(grid[1], a.shape).ravel(),
            "step": np.broadcast_to(grid[2], a.shape).ravel(),
            "unit": np.broadcast_to(grid[3], a.shape).ravel(),
            "quantity": pd.Categorical.from_codes(np.repeat(np.arange(Q), B * T * H), categories=names),
            "value": a.ravel(),
        }
        if not self.batched:
            del cols["sequence"]
        return pd.DataFrame(cols)

    @property
    def tidy_rows(self) -> int:
        """Rows of the tidy CSV (to_frame() / to_csv_bytes()): quantities x sequences x steps x units."""
        return len(self.arrays) * (self.x.shape[0] if self.batched else 1) * self.steps * self.hidden_size

    def to_csv_bytes(self, names=None, max_rows: int = MAX_EXPORT_ROWS) -> bytes:
        """to_frame(names).to_csv(index=False) as UTF-8 bytes, byte for byte (same columns, order and
        numbers), written by numpy a block of steps at a time: a third of pandas' time, and only the text
        itself is held. A trace of more than `max_rows` rows raises LabError before anything is written."""
        names = list(self.arrays) if names is None else list(names)
        B, T, H = (self.x.shape[0] if self.batched else 1), self.steps, self.hidden_size
        rows = len(names) * B * T * H
        if rows > max_rows:
            raise LabError(f"a tidy CSV of this trace would have {rows:,} rows ({len(names)} quantities x {B} "
                           f"sequence(s) x {T} steps x {H} units); the limit is {max_rows:,} rows (max_rows): "
                           "export fewer quantities or steps, or the whole trace as .npz")
        header = (["sequence"] if self.batched else []) + ["step", "unit", "quantity", "value"]
        out = io.BytesIO()  # grows in place and hands its buffer over: the text is held once, not twice
        out.write(",".join(header).encode() + b"\n")
        steps, units = csv_numbers(np.arange(T)), csv_numbers(np.arange(H))
        chunk = max(1, (1 << 18) // H)  # steps per block: about 256k rows
        for name in names:
            a = np.asarray(self[name]).reshape(B, T, H)  # (B, T, H)
            quantity = csv_field(str(name))
            for b in range(B):
                seq = [str(b).encode()] if self.batched else []
                for t in range(0, T, chunk):
                    end = min(T, t + chunk)
                    out.write(csv_rows([*seq, np.repeat(steps[t:end], H), np.tile(units, end - t), quantity,
                                        csv_numbers(a[b, t:end].reshape(-1))]))
        return out.getvalue()

    def meta(self) -> dict:
        return {"kind": self.kind, "variant": self.variant, "nonlinearity": self.nonlinearity,
                "format": "lstm-gate-lab trace", "version": 1}

    def save(self, path_or_file) -> None:
        """Save as .npz: one array per quantity under its key, plus x, lengths, h_n, c_n and meta."""
        extra = {"x": self.x, "h_n": self.h_n, "meta": np.array(json.dumps(self.meta()))}
        if self.lengths is not None:
            extra["lengths"] = self.lengths
        if self.c_n is not None:
            extra["c_n"] = self.c_n
        clash = set(self.arrays) & set(extra)
        assert not clash, clash
        np.savez(path_or_file, **self.arrays, **extra)

    def to_npz_bytes(self) -> bytes:
        buf = io.BytesIO()
        self.save(buf)
        return buf.getvalue()

    @classmethod
    def load(cls, path_or_file) -> Trace:
        """Load a trace saved by `save` (never unpickles anything)."""
        try:
            with np.load(path_or_file, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
        except (OSError, ValueError) as e:
            raise LabError(f"not a saved trace (.npz): {e}") from None
        try:
            meta = json.loads(str(data.pop("meta")))
            x = data.pop("x")
            h_n = data.pop("h_n")
        except (KeyError, json.JSONDecodeError):
            raise LabError("not a saved trace: the .npz has no 'meta', 'x' and 'h_n' entries") from None
        if meta.get("format") != "lstm-gate-lab trace":
            raise LabError("not a saved trace: its meta has no 'lstm-gate-lab trace' format mark")
        lengths = data.pop("lengths", None)
        c_n = data.pop("c_n", None)
        for a in data.values():
            a.flags.writeable = False
        return cls(meta["kind"], meta["variant"], data, x, lengths, h_n, c_n, meta.get("nonlinearity", "tanh"))


def _as_input(x, input_size: int) -> np.ndarray:
    if hasattr(x, "detach"):  # a torch tensor
        x = x.detach().cpu().numpy()
    try:
        a = np.asarray(x, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise LabError(f"x must be an array of numbers; {e}") from None
    if a.ndim not in (2, 3):
        raise LabError(f"x must have shape (T, {input_size}) or (B, T, {input_size}); got {a.shape}")
    if a.shape[-1] != input_size:
        raise LabError(f"x must have {input_size} feature(s) per step, as the model expects; "
                       f"got shape {a.shape} with {a.shape[-1]}")
    if a.shape[-2] < 1 or (a.ndim == 3 and a.shape[0] < 1):
        raise LabError(f"x must hold at least one step of one sequence; got shape {a.shape}")
    bad = ~np.isfinite(a)
    if bad.any():
        where = np.argwhere(bad)[0]
        names = ("sequence", "step", "feature")[-a.ndim:]
        at = ", ".join(f"{n} {i}" for n, i in zip(names, where, strict=True))
        raise LabError(f"x has {int(bad.sum())} NaN/Inf value(s), the first at {at}; "
                       "clean or fill them before tracing")
    return a


def _as_lengths(lengths, B: int, T: int) -> np.ndarray | None:
    if lengths is None:
        return None
    ln = np.asarray(lengths.cpu() if hasattr(lengths, "cpu") else lengths)
    if ln.shape != (B,) or not np.issubdtype(ln.dtype, np.integer):
        raise LabError(f"lengths must be {B} whole number(s), one per sequence; got {ln.dtype} {ln.shape}")
    if ln.min() < 1 or ln.max() > T:
        raise LabError(f"every length must be between 1 and T={T}; got {ln.min()}..{ln.max()}")
    return ln.astype(np.int64)


def trace(model, x, lengths=None) -> Trace:
    """Run `model` over x ((T, F) or (B, T, F), numpy or torch) and record every gate at every step."""
    net = network_of(model)
    kind = net.kind
    xa = _as_input(x, net.input_size)
    batched = xa.ndim == 3
    if lengths is not None and not batched:
        raise LabError("lengths apply to a padded batch x of shape (B, T, F); one sequence (T, F) has its own")
    x3 = np.ascontiguousarray(xa if batched else xa[None])  # (B, T, F)
    B, T, _ = x3.shape
    ln = _as_lengths(lengths, B, T)
    cell = CELLS[kind]
    bufs = cell.recorded(cell.run(net, x3), net.variant)  # each (B, T, .)
    last = (ln - 1) if ln is not None else np.full(B, T - 1)
    h_n = bufs["h"][np.arange(B), last].copy()
    c_n = bufs["c"][np.arange(B), last].copy() if "c" in bufs else None
    if ln is not None and (ln < T).any():
        pad = np.arange(T)[None, :] >= ln[:, None]  # (B, T)
        for buf in bufs.values():
            buf[pad] = np.nan

    def shape(a):  # (B, T, H), or (T, H) for one unbatched sequence
        a = a if batched else a[0]
        a.flags.writeable = False
        return a

    arrays = {k: shape(v) for k, v in bufs.items()}
    if not batched:
        h_n, c_n = h_n[0], None if c_n is None else c_n[0]
    return Trace(kind, net.variant, arrays, xa, ln, h_n, c_n, net.nonlinearity)


def step_at(model, tr: Trace, t: int, sequence: int = 0) -> Step:
    """Step t of a traced sequence, recomputed by the readable single-step function from the trace's
    h_{t-1} and C_{t-1} (zeros at t = 0): the numbers an equation panel shows. Adds 'x' and each state's
    previous value ('h_prev', and for an LSTM 'c_prev') to the step's values."""
    net = network_of(model)
    cell = CELLS[net.kind]
    if not 0 <= t < tr.steps:
        raise LabError(f"step must be between 0 and {tr.steps - 1}; got {t}")
    pick = (lambda a: a[sequence]) if tr.batched else (lambda a: a)
    zeros = np.zeros(tr.hidden_size, np.float32)
    prev = {k: pick(tr[k])[t - 1] if t > 0 else zeros for k in cell.states}
    x = pick(tr.x)[t]
    s = cell.step(net.params, x, prev, net.variant, net.nonlinearity)
    values = cell.recorded(s.values, net.variant)
    return Step({**values, "x": x, **{f"{k}_prev": v for k, v in prev.items()}})
