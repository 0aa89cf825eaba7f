"""Hand-set weights: one-unit LSTMs whose every weight a person can read, the input they are made for, and
the vanilla RNN that stands beside them.

A preset is data. The unit reads three input features, `value`, ‘write’ and ‘reset’; each gate (f, i, g for
C̃, o) has a weight on each of them, one on the unit's own previous output h_{t-1}, and a bias. Large
weights saturate the sigmoids, so a gate is either shut (σ(−10) ≈ 0.00005) or open (σ(10) ≈ 0.99995) and
the cell does what a person would program it to do:

- latch: ‘write’ opens the input gate and shuts the forget gate for one step, so the cell takes C̃ =
  tanh(value); otherwise f = σ(12) ≈ 0.999994 keeps it (99.4% after 1,000 steps) until ‘reset’ shuts f.
- counter: every ‘write’ pulse adds C̃ = tanh(0.1) ≈ 0.0997 to the cell; ‘reset’ empties it.
- forget-everything: f = σ(−12) ≈ 0 at every step, so C_t = i_t ⊙ C̃_t holds only the present input.

Pure numpy (a `Network`, no torch), so the app's first screen can show them without importing torch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .errors import LabError, choose
from .network import Network
from .step import Params

FEATURES = ("value", "write", "reset")  # what the unit reads at each step
COLUMNS = (*FEATURES, "h", "b")  # a gate's weight on each feature, on h_{t-1}, and its bias
GATES = ("f", "i", "g", "o")  # the seed's order; torch stacks them i, f, g, o
TORCH_ORDER = ("i", "f", "g", "o")
LIMIT = 30.0  # the sliders' range, ±


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    does: str  # what the cell does, in one sentence
    weights: dict  # gate -> {column: value}; a missing column is 0
    rnn: dict  # the vanilla RNN beside it: {column: value} for its one unit
    rnn_does: str  # what the RNN beside it does

    def weight(self, gate: str, column: str) -> float:
        return float(self.weights.get(gate, {}).get(column, 0.0))

    def table(self) -> dict:
        """Every (gate, column) -> weight, zeros included."""
        return {(g, c): self.weight(g, c) for g in GATES for c in COLUMNS}


_RNN_NOTE = ("a vanilla RNN with one unit and a recurrent weight of 1 (its best chance to hold anything), pushed "
             "up by the write signal: tanh squeezes its state a little at every step, so it fades")
PRESETS = {p.name: p for p in (
    Preset("latch", "Memory latch",
           "stores tanh(value) when ‘write’ is 1 and holds it, step after step, until ‘reset’ is 1",
           {"f": {"write": -20.0, "reset": -20.0, "b": 12.0}, "i": {"write": 20.0, "b": -10.0},
            "g": {"value": 1.0}, "o": {"b": 10.0}},
           {"write": 1.5, "reset": -3.0, "h": 1.0}, _RNN_NOTE),
    Preset("counter", "Counter",
           "adds tanh(0.1) ≈ 0.1 to the cell at every ‘write’ pulse, and empties it at ‘reset’",
           {"f": {"reset": -24.0, "b": 12.0}, "i": {"write": 20.0, "b": -10.0}, "g": {"b": 0.1}, "o": {"b": 10.0}},
           {"write": 1.5, "reset": -3.0, "h": 1.0}, _RNN_NOTE),
    Preset("forget", "Forget everything (f = 0)",
           "shuts the forget gate at every step, so the cell holds only the present step's tanh(value)",
           {"f": {"b": -12.0}, "i": {"b": 10.0}, "g": {"value": 1.0}, "o": {"b": 10.0}},
           {"write": 1.5, "reset": -3.0, "h": 1.0}, _RNN_NOTE),
)}


def preset(name: str) -> Preset:
    return PRESETS[choose("preset", name, PRESETS)]


def lstm_network(weights: dict) -> Network:
    """A one-unit LSTM over FEATURES from {(gate, column): weight} (missing entries are 0), in torch's layout:
    the bias goes to bias_ih, bias_hh is 0."""
    bad = [k for k in weights if k[0] not in GATES or k[1] not in COLUMNS]
    if bad:
        raise LabError(f"unknown hand-set weight {bad[0]!r}; gates are {', '.join(GATES)} and columns "
                       f"{', '.join(COLUMNS)}")
    w = lambda g, c: float(weights.get((g, c), 0.0))  # noqa: E731 - a one-line reader
    weight_ih = np.array([[w(g, c) for c in FEATURES] for g in TORCH_ORDER], np.float32)  # (4, 3)
    weight_hh = np.array([[w(g, "h")] for g in TORCH_ORDER], np.float32)  # (4, 1)
    bias_ih = np.array([w(g, "b") for g in TORCH_ORDER], np.float32)  # (4,)
    return Network("lstm", Params(weight_ih, weight_hh, bias_ih, np.zeros(4, np.float32)))


def rnn_network(columns: dict) -> Network:
    """A one-unit vanilla RNN over FEATURES from {column: weight}."""
    weight_ih = np.array([[float(columns.get(c, 0.0)) for c in FEATURES]], np.float32)  # (1, 3)
    weight_hh = np.array([[float(columns.get("h", 0.0))]], np.float32)  # (1, 1)
    bias_ih = np.array([float(columns.get("b", 0.0))], np.float32)
    return Network("rnn", Params(weight_ih, weight_hh, bias_ih, np.zeros(1, np.float32)))


def demo_input(length: int = 200, seed: int = 0) -> tuple[np.ndarray, tuple]:
    """(T, 3) input for the presets and the steps that write: `value` a random signal at every step; a write
    early on, a reset at about 60% of the way, and a second write after it. Returns (x, write steps)."""
    if length < 20:
        raise LabError(f"a hand-set demo needs at least 20 steps; got {length}")
    rng = np.random.default_rng(seed)
    x = np.zeros((length, 3), np.float32)
    x[:, 0] = rng.uniform(-0.9, 0.9, length)
    first = int(rng.integers(5, 11))
    reset = int(length * 0.6)
    second = min(length - 2, reset + max(3, length // 10))
    for t in (first, second):
        x[t, 1] = 1.0
        x[t, 0] = rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 0.9)  # a value worth seeing
    x[reset, 2] = 1.0
    return x, (first, second)


def counter_input(length: int = 200, seed: int = 0) -> tuple[np.ndarray, tuple]:
    """(T, 3) input for the counter: ‘write’ pulses on about one step in six, a reset at about 60% of the way."""
    x, _ = demo_input(length, seed)
    rng = np.random.default_rng(seed + 1)
    x[:, 1] = (rng.random(length) < 1 / 6).astype(np.float32)
    x[:, 2] = 0.0
    x[int(length * 0.6), 2] = 1.0
    x[int(length * 0.6), 1] = 0.0
    ticks = tuple(int(t) for t in np.flatnonzero(x[:, 1]))
    return x, ticks[:1]


def preset_input(name: str, length: int = 200, seed: int = 0) -> tuple[np.ndarray, tuple]:
    """The input a preset is shown on, and the steps that carry what it must remember."""
    return counter_input(length, seed) if preset(name).name == "counter" else demo_input(length, seed)


def shift_forget_bias(net: Network, delta: float) -> Network:
    """The same LSTM with `delta` added to every unit's forget-gate bias (b_f, in bias_ih): f_t = σ(… + b_f + δ).
    Large δ > 0 keeps memory longer, δ < 0 forgets sooner."""
    if net.kind != "lstm":
        raise LabError(f"only an LSTM has a forget gate; this is a {net.kind.upper()}")
    H = net.hidden_size
    bias = np.array(net.params.bias_ih, np.float32, copy=True)
    bias[H : 2 * H] += np.float32(delta)  # torch's order i, f, g, o: the second block
    return replace(net, params=replace(net.params, bias_ih=bias))
