"""The torch cells, with torch.nn's parameter layout, so a torch.nn.LSTM/GRU/RNN state_dict loads as is.

`LSTM` is a `torch.nn.LSTM` that also knows the LSTM variants of Greff et al. (2017); the vanilla
variant runs torch's fused kernel, the others the readable step in step.py (with autograd, so they
train). `GRU` and `RNN` are torch's own classes. `SequenceModel` adds dropout and a readout head. Each
kind's torch class is named by its record in registry.py. Tracing needs only the numpy `Network` a
module converts to (bridge.py).
"""

from __future__ import annotations

import math

import torch

from .checkpoint_meta import READOUTS
from .errors import LabError
from .registry import CELLS, cell_kind
from .registry import LSTM as LSTM_KIND
from .step import Params, lstm_step


class LSTM(torch.nn.LSTM):
    """torch.nn.LSTM plus a `variant`; peephole adds `weight_peep_l0` (3, H) = p_i, p_f, p_o."""

    def __init__(self, input_size: int, hidden_size: int, variant: str = "vanilla", batch_first: bool = True,
                 bias: bool = True):
        super().__init__(input_size, hidden_size, num_layers=1, bias=bias, batch_first=batch_first)
        self.variant = LSTM_KIND.variant(variant).name
        if LSTM_KIND.variants[variant].peephole:
            bound = 1.0 / math.sqrt(hidden_size)
            self.weight_peep_l0 = torch.nn.Parameter(torch.empty(3, hidden_size).uniform_(-bound, bound))

    def extra_repr(self) -> str:
        return super().extra_repr() + f", variant={self.variant!r}"

    def forward(self, input, hx=None):
        if self.variant == "vanilla":
            return super().forward(input, hx)
        if isinstance(input, torch.nn.utils.rnn.PackedSequence):
            raise LabError("LSTM variants take a padded tensor and lengths, not a PackedSequence")
        x = input if self.batch_first else input.transpose(0, 1)  # (B, T, F)
        unbatched = x.dim() == 2
        if unbatched:
            x = x.unsqueeze(0)
        B, H = x.shape[0], self.hidden_size
        if hx is None:
            h = x.new_zeros(B, H)
            c = x.new_zeros(B, H)
        else:
            h, c = (s.reshape(B, H) for s in hx)
        p = params_of(self)
        outs = []
        for t in range(x.shape[1]):
            step = lstm_step(p, x[:, t], h, c, self.variant)
            h, c = step["h"], step["c"]
            outs.append(h)
        out = torch.stack(outs, 1)  # (B, T, H)
        h_n, c_n = h.unsqueeze(0), c.unsqueeze(0)  # (1, B, H)
        if unbatched:
            return out[0], (h_n[:, 0], c_n[:, 0])
        return (out if self.batch_first else out.transpose(0, 1)), (h_n, c_n)


GRU = torch.nn.GRU
RNN = torch.nn.RNN


def _torch_class(kind) -> type:
    """The torch class of a kind's record (ours for the LSTM, which knows the variants)."""
    return LSTM if kind is LSTM_KIND else getattr(torch.nn, kind.torch_class)


def kind_of(module: torch.nn.Module) -> str:
    """The registry's name ('lstm', 'gru', 'rnn') for a (subclass of) torch.nn.LSTM/GRU/RNN."""
    for kind in CELLS.values():
        if kind.torch_class and isinstance(module, getattr(torch.nn, kind.torch_class)):
            return kind.name
    raise LabError(f"expected a torch.nn.LSTM, GRU or RNN; got {type(module).__name__}")


def variant_of(module: torch.nn.Module) -> str:
    return getattr(module, "variant", "vanilla")


def nonlinearity_of(module: torch.nn.Module) -> str:
    return getattr(module, "nonlinearity", "tanh")


def params_of(module: torch.nn.Module) -> Params:
    """The layer-0 weights of a recurrent module, as torch tensors (zeros where bias=False)."""
    w_ih, w_hh = module.weight_ih_l0, module.weight_hh_l0
    zeros = w_ih.new_zeros(w_ih.shape[0])
    return Params(
        weight_ih=w_ih,
        weight_hh=w_hh,
        bias_ih=getattr(module, "bias_ih_l0", zeros) if module.bias else zeros,
        bias_hh=getattr(module, "bias_hh_l0", zeros) if module.bias else zeros,
        peephole=getattr(module, "weight_peep_l0", None),
    )


def make_cell(kind: str, input_size: int, hidden_size: int, *, variant: str = "vanilla",
              nonlinearity: str = "tanh", seed: int = 0, batch_first: bool = True) -> torch.nn.Module:
    """A freshly initialised cell; the same seed always gives the same weights (torch's default init)."""
    cell = cell_kind(kind)
    for name, size in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(size, int) or size < 1:
            raise LabError(f"{name} must be a positive whole number; got {size!r}")
    options = {}
    if len(cell.variants) > 1:
        options["variant"] = cell.variant(variant).name
    else:
        cell.variant(variant)  # a clear message for a variant of another kind
    if len(cell.nonlinearities) > 1:
        options["nonlinearity"] = cell.check_nonlinearity(nonlinearity)
    if cell.torch_class is None:
        raise LabError(f"a {cell.label} has no torch class, so it cannot be made in torch or trained")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return _torch_class(cell)(input_size, hidden_size, batch_first=batch_first, **options)


def check_traceable(module: torch.nn.Module) -> torch.nn.Module:
    """The module, if it is a single-layer, one-directional torch.nn.LSTM, GRU or RNN; else a LabError."""
    kind = kind_of(module)
    if module.num_layers != 1:
        raise LabError(f"only single-layer networks can be traced; this {kind.upper()} has "
                       f"num_layers={module.num_layers}")
    if module.bidirectional:
        raise LabError(f"bidirectional networks cannot be traced step by step; this {kind.upper()} is "
                       "bidirectional")
    if getattr(module, "proj_size", 0):
        raise LabError(f"LSTMs with a projection (proj_size={module.proj_size}) are not supported")
    return module


def parse_random_spec(spec: str, input_size: int) -> torch.nn.Module:
    """A random model from `KIND:random:H=SIZE:seed=N[:variant=V][:nonlinearity=relu]`."""
    parts = spec.split(":")
    if len(parts) < 2 or parts[1] != "random":
        raise LabError(f"model spec {spec!r} must look like KIND:random:H=SIZE:seed=N, e.g. lstm:random:H=8:seed=0")
    kind = cell_kind(parts[0]).name
    opts = {}
    for part in parts[2:]:
        key, eq, value = part.partition("=")
        if not eq or key not in ("H", "seed", "variant", "nonlinearity"):
            raise LabError(f"model spec {spec!r}: {part!r} is not one of H=SIZE, seed=N, variant=NAME, "
                           "nonlinearity=tanh|relu")
        opts[key] = value
    try:
        hidden, seed = int(opts.get("H", "8")), int(opts.get("seed", "0"))
    except ValueError:
        raise LabError(f"model spec {spec!r}: H and seed must be whole numbers") from None
    return make_cell(kind, input_size, hidden, variant=opts.get("variant", "vanilla"),
                     nonlinearity=opts.get("nonlinearity", "tanh"), seed=seed)


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
            B, T = x.shape[0], x.shape[1]
            last = (torch.as_tensor(lengths) - 1) if lengths is not None else torch.full((B,), T - 1)
            out = out[torch.arange(B), last]  # (B, H)
        return self.head(out) if self.head is not None else out
