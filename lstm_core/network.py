"""A recurrent layer as plain numpy arrays, in torch.nn's layout: all that tracing needs.

Tracing, the single step and the app's first screen run on a `Network` without importing torch (it
takes a second and a half to import); torch is loaded only to train, to make random weights, or to open
a torch file. What a kind's weights look like comes from its record in registry.py. `network_of`
accepts a Network or anything with a `.network` (a Checkpoint); bridge.from_torch turns a
torch.nn.LSTM/GRU/RNN into a Network.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .errors import LabError
from .registry import cell_kind
from .step import Params

_NAMES = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")


@dataclass(frozen=True, eq=False)
class Network:
    kind: str  # a key of registry.CELLS
    params: Params  # float32 numpy arrays
    variant: str = "vanilla"  # a name of the kind's variants (LSTM: see registry.LSTM)
    nonlinearity: str = "tanh"  # a name of the kind's nonlinearities (RNN: tanh or relu)

    def __post_init__(self):
        cell = cell_kind(self.kind)
        peephole = cell.variant(self.variant).peephole
        cell.check_nonlinearity(self.nonlinearity)
        p = self.params
        G, H, F = len(cell.blocks), self.hidden_size, self.input_size
        expected = {"weight_ih_l0": (G * H, F), "weight_hh_l0": (G * H, H), "bias_ih_l0": (G * H,),
                    "bias_hh_l0": (G * H,)}
        for name, a in zip(_NAMES, (p.weight_ih, p.weight_hh, p.bias_ih, p.bias_hh), strict=True):
            if tuple(a.shape) != expected[name]:
                raise LabError(f"weight {name!r} has shape {tuple(a.shape)}; a {self.kind.upper()} with {F} inputs "
                               f"and {H} units needs {expected[name]}")
        if peephole != (p.peephole is not None):
            raise LabError("a peephole LSTM needs its peephole weights (3, H), and only it has them")
        if p.peephole is not None and tuple(p.peephole.shape) != (3, H):
            raise LabError(f"peephole weights must have shape (3, {H}); got {tuple(p.peephole.shape)}")

    @property
    def cell(self):
        """This kind's record (registry.CellKind)."""
        return cell_kind(self.kind)

    @property
    def input_size(self) -> int:
        return self.params.weight_ih.shape[1]

    @property
    def hidden_size(self) -> int:
        return self.params.weight_hh.shape[1]

    def state_dict(self) -> dict:
        """The weights under torch.nn's names, as numpy arrays."""
        p = self.params
        sd = dict(zip(_NAMES, (p.weight_ih, p.weight_hh, p.bias_ih, p.bias_hh), strict=True))
        if p.peephole is not None:
            sd["weight_peep_l0"] = p.peephole
        return sd

    @classmethod
    def from_state_dict(cls, kind: str, sd, variant: str = "vanilla", nonlinearity: str = "tanh",
                        name: str = "weights") -> Network:
        """From torch.nn's names (numpy arrays or anything np.asarray takes); checks presence and values."""
        arrays = {}
        peephole = cell_kind(kind).variant(variant).peephole
        for key in (*_NAMES, *(("weight_peep_l0",) if peephole else ())):
            if key not in sd:
                raise LabError(f"{name}: missing weight {key!r}")
            a = np.ascontiguousarray(sd[key], dtype=np.float32)
            if not np.isfinite(a).all():
                raise LabError(f"{name}: weight {key!r} holds NaN or Inf values")
            arrays[key] = a
        params = Params(arrays["weight_ih_l0"], arrays["weight_hh_l0"], arrays["bias_ih_l0"], arrays["bias_hh_l0"],
                        arrays.get("weight_peep_l0"))
        return cls(kind, params, variant, nonlinearity)

    def with_variant(self, variant: str) -> Network:
        """The same weights run with another variant's equations (an ablation); peepholes start at 0."""
        v = self.cell.variant(variant)
        peep = np.zeros((3, self.hidden_size), np.float32) if v.peephole else None
        return replace(self, variant=v.name, params=replace(self.params, peephole=peep))


def network_of(model) -> Network:
    """The numpy Network behind a model: a Network, or anything with one as `.network` (a Checkpoint)."""
    if isinstance(model, Network):
        return model
    net = getattr(model, "network", None)
    if isinstance(net, Network):
        return net
    if hasattr(model, "weight_ih_l0") or hasattr(model, "cell"):
        raise LabError(f"this {type(model).__name__} holds torch weights: convert it with lstm_core.from_torch(...) "
                       "first, which returns the Network to trace")
    raise LabError(f"expected a recurrent model (LSTM, GRU or RNN); got {type(model).__name__}")
