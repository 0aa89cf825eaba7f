"""What each cell kind is, in one place: one record per kind (LSTM, GRU, RNN) and the registry `CELLS`.

A record holds everything that defines its kind: the gate blocks stacked in torch's weights (in torch's
order), the state carried from step to step, the quantities a trace records (with the symbol, name,
unit, intuition and colour scale the app shows), the readable single step and its equations as text
(step.py), the whole-sequence loop (loops.py), the torch.nn class whose weights it shares, its
variants with their definitions, and its cell diagram (assets/diagrams/NAME.svg).

Everything else asks the record: a Network checks its weights' shapes against `blocks`, a trace runs
`run` and keeps `quantities`, the equation panel calls `equations`, the torch side builds
`torch_class`. Adding a kind is a record here (or `register(...)` from outside), its step function, its
loop and its diagram; tests/test_registry.py adds a toy one that way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from . import loops
from .errors import LabError, choose
from .step import Params, Step, gru_equations, gru_step, lstm_equations, lstm_step, rnn_equations, rnn_step


@dataclass(frozen=True)
class Quantity:
    """A recorded quantity as people read it."""

    key: str  # the trace's key
    symbol: str  # plain text, for canvas labels: "C̃_t"
    latex: str  # for st.latex: r"\tilde C_t"
    name: str  # "candidate memory"
    intuition: str  # the seed's one-line intuition
    scale: str  # colour scale: "cividis" (0..1) or "diverging" (signed)
    fixed: tuple[float, float] | None  # the colour range, or None: the trace's own robust range
    units: str  # what a colour bar's title says


@dataclass(frozen=True)
class Variant:
    """A variant of a kind's equations (Greff et al. 2017 for the LSTM), by name."""

    name: str
    description: str
    fixes: str | None = None  # the gate it removes (a constant) or derives: it has no pre-activation
    peephole: bool = False  # needs peephole weights (3, H): p_i, p_f, p_o


@dataclass(frozen=True)
class CellKind:
    name: str  # "lstm": a key of CELLS
    label: str  # "LSTM"
    title: str  # "long short-term memory"
    blocks: tuple[str, ...]  # gate blocks stacked in weight_ih / weight_hh, in torch's order
    states: tuple[str, ...]  # carried from step to step; "h" first
    quantities: tuple[Quantity, ...]  # what a trace records, in the seed's order
    step: Callable[..., Step]  # step(params, x_t, prev: {state: array}, variant, nonlinearity)
    run: Callable[..., dict]  # run(network, x (B, T, F) float32) -> {name: (B, T, H)}, incl. "pre_*"
    equations: Callable[..., list]  # equations(one unit's values, variant, nonlinearity) -> [{eq, num}]
    latex: tuple[str, ...]  # the equations as the seed writes them (torch's documented form), for st.latex
    torch_class: str | None  # the torch.nn class with this kind's weights, or None (no torch twin)
    diagram: str | None  # assets/diagrams/{diagram}.svg, or None
    # The gate whose initial bias sets how long the state is kept (TrainConfig.forget_bias): a large bias keeps
    # memory. LSTM: f, in C_t = f C_{t-1} + i C~_t. GRU: the update gate z, in torch's h_t = (1 - z) n + z h_{t-1}
    # (a large z keeps the old state, so its bias has the forget gate's sign; some papers write the GRU with
    # z and 1 - z swapped, where the sign would flip).
    forget_gate: str | None = None
    input_gate: str | None = None  # the gate chrono initialisation sets to -b_f (LSTM i; the GRU's 1 - z is tied)
    forget_bias: float | None = None  # the forget gate's initial bias unless told otherwise; None: torch's init
    memory: str = "h"  # the state that carries memory from step to step (LSTM: the cell state c)
    variants: dict[str, Variant] = field(default_factory=lambda: {"vanilla": Variant("vanilla", "as defined")})
    nonlinearities: tuple[str, ...] = ("tanh",)

    @property
    def keys(self) -> tuple[str, ...]:
        """The recorded quantities' keys, in the seed's order."""
        return tuple(q.key for q in self.quantities)

    def quantity(self, key: str) -> Quantity:
        for q in self.quantities:
            if q.key == key:
                return q
        raise LabError(f"{key!r} is not a quantity of the {self.label}; it has {', '.join(self.keys)}")

    def variant(self, name: str) -> Variant:
        """The variant called `name`, checked."""
        if name not in self.variants and len(self.variants) == 1:
            raise LabError(f"variant {name!r} applies to LSTM cells only; a {self.label} has none")
        return self.variants[choose(f"{self.label} variant", name, self.variants)]

    def check_nonlinearity(self, name: str) -> str:
        if name not in self.nonlinearities and len(self.nonlinearities) == 1:
            raise LabError(f"nonlinearity {name!r} applies to RNN cells only; a {self.label} uses "
                           f"{self.nonlinearities[0]}")
        return choose(f"{self.label} nonlinearity", name, self.nonlinearities)

    def recorded(self, bufs: dict, variant: str) -> dict:
        """The quantities, then the pre-activations a variant has (a removed or derived gate has none)."""
        fixes = self.variants[variant].fixes
        out = {k: bufs[k] for k in self.keys}
        out.update({k: v for k, v in bufs.items() if k.startswith("pre_") and k != f"pre_{fixes}"})
        return out


GATE = "gate value (0–1)"
STATE = "value (−1…1)"


def _gate(key, symbol, latex, name, intuition) -> Quantity:
    return Quantity(key, symbol, latex, name, intuition, "cividis", (0.0, 1.0), GATE)


def _lstm_step(p: Params, x_t, prev: dict, variant: str = "vanilla", nonlinearity: str = "tanh") -> Step:
    return lstm_step(p, x_t, prev["h"], prev["c"], variant)


def _gru_step(p: Params, x_t, prev: dict, variant: str = "vanilla", nonlinearity: str = "tanh") -> Step:
    return gru_step(p, x_t, prev["h"])


def _rnn_step(p: Params, x_t, prev: dict, variant: str = "vanilla", nonlinearity: str = "tanh") -> Step:
    return rnn_step(p, x_t, prev["h"], nonlinearity)


LSTM = CellKind(
    name="lstm", label="LSTM", title="long short-term memory",
    blocks=("i", "f", "g", "o"), states=("h", "c"),
    quantities=(
        _gate("f", "f_t", r"f_t", "forget gate", "What memory should I erase? (1 keeps, 0 erases)"),
        _gate("i", "i_t", r"i_t", "input gate", "Where should I write new memory?"),
        Quantity("g", "C̃_t", r"\tilde C_t", "candidate memory", "What content should be written?", "diverging",
                 (-1.0, 1.0), STATE),
        Quantity("c", "C_t", r"C_t", "cell state", "The memory highway: carried forward almost linearly.",
                 "diverging", None, "cell value"),
        _gate("o", "o_t", r"o_t", "output gate", "What part of memory should be revealed now?"),
        Quantity("h", "h_t", r"h_t", "hidden state", "What the cell reveals: the output at this step.",
                 "diverging", (-1.0, 1.0), STATE),
    ),
    step=_lstm_step, run=loops.run_lstm, equations=lstm_equations, torch_class="LSTM", diagram="lstm_cell",
    latex=(r"f_t = \sigma(W_f\,[h_{t-1}, x_t] + b_f)", r"i_t = \sigma(W_i\,[h_{t-1}, x_t] + b_i)",
           r"\tilde C_t = \tanh(W_c\,[h_{t-1}, x_t] + b_c)", r"C_t = f_t \odot C_{t-1} + i_t \odot \tilde C_t",
           r"o_t = \sigma(W_o\,[h_{t-1}, x_t] + b_o)", r"h_t = o_t \odot \tanh(C_t)"),
    forget_gate="f", input_gate="i", forget_bias=1.0, memory="c",  # bias 1: Jozefowicz et al. 2015
    variants={v.name: v for v in (
        Variant("vanilla", "standard LSTM, as torch.nn.LSTM"),
        Variant("peephole", "gates also see the cell state through diagonal peephole weights p_i, p_f, p_o",
                peephole=True),
        Variant("cifg", "coupled input and forget gate: i_t = 1 - f_t", fixes="i"),
        Variant("nfg", "no forget gate: f_t = 1 (the cell only accumulates)", fixes="f"),
        Variant("nig", "no input gate: i_t = 1 (every candidate is written)", fixes="i"),
        Variant("nog", "no output gate: o_t = 1 (the whole cell is revealed)", fixes="o"),
        Variant("niaf", "no input activation function: the candidate is not squashed by tanh"),
        Variant("noaf", "no output activation function: h_t = o_t * C_t, without tanh"),
    )},
)

GRU = CellKind(
    name="gru", label="GRU", title="gated recurrent unit",
    blocks=("r", "z", "n"), states=("h",),
    quantities=(
        _gate("r", "r_t", r"r_t", "reset gate (GRU)", "How much of the past shapes the new candidate?"),
        _gate("z", "z_t", r"z_t", "update gate (GRU)", "How much of the old state do I keep? (1 keeps all)"),
        Quantity("n", "n_t", r"n_t", "candidate (GRU)", "What could replace the old state?", "diverging",
                 (-1.0, 1.0), STATE),
        Quantity("h", "h_t", r"h_t", "hidden state", "The state itself: a blend of the old state and the candidate.",
                 "diverging", (-1.0, 1.0), STATE),
    ),
    step=_gru_step, run=loops.run_gru, equations=gru_equations, torch_class="GRU", diagram="gru_cell",
    latex=(r"r_t = \sigma(W_r x_t + U_r h_{t-1} + b_r)", r"z_t = \sigma(W_z x_t + U_z h_{t-1} + b_z)",
           r"n_t = \tanh(W_n x_t + b_{in} + r_t \odot (U_n h_{t-1} + b_{hn}))",
           r"h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}"),
    forget_gate="z",  # its bias takes the LSTM's choices when asked; by default torch's init, as before
)

RNN = CellKind(
    name="rnn", label="RNN", title="vanilla recurrent network",
    blocks=("h",), states=("h",),
    quantities=(
        Quantity("h", "h_t", r"h_t", "hidden state", "The only memory: rewritten through a squashing function "
                 "at every step.", "diverging", (-1.0, 1.0), STATE),
    ),
    step=_rnn_step, run=loops.run_rnn, equations=rnn_equations, torch_class="RNN", diagram="rnn_cell",
    latex=(r"h_t = \tanh(W\,[h_{t-1}, x_t] + b)",),
    nonlinearities=("tanh", "relu"),
)

CELLS: dict[str, CellKind] = {k.name: k for k in (LSTM, GRU, RNN)}


def cell_kind(name: str) -> CellKind:
    """The record of the kind called `name`, or a LabError that lists the kinds."""
    return CELLS[choose("cell", name, CELLS)]


def register(kind: CellKind) -> CellKind:
    """Add a kind (its loop, step and equations must follow the record's conventions); returns it."""
    if kind.name in CELLS:
        raise LabError(f"a cell kind called {kind.name!r} exists already")
    if "h" not in kind.keys or kind.states[0] != "h" or not set(kind.states) <= set(kind.keys):
        raise LabError("a cell kind records 'h' and every state it carries; 'h' is its first state")
    CELLS[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    """Remove a kind added by `register` (the three built-in kinds stay)."""
    if name in ("lstm", "gru", "rnn"):
        raise LabError(f"{name!r} is built in")
    CELLS.pop(name, None)


# Views for "pick one" choices (the CLI, the checkpoint schema): every variant and nonlinearity by name.
VARIANTS = {v.name: v.description for v in LSTM.variants.values()}
NONLINEARITIES = tuple(dict.fromkeys(n for k in CELLS.values() for n in k.nonlinearities))
