"""Words and equations the pages show: the seed notes' intuition for each quantity, units and scales.

Plain data (no Streamlit), so figure builders and tests read the same text the pages show.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Quantity:
    key: str  # trace key
    symbol: str  # plain-text symbol for canvas labels
    latex: str  # symbol for st.latex
    name: str
    intuition: str  # the seed's one-line "professor intuition"
    scale: str  # colour scale in app.colors.SCALES
    fixed: tuple | None  # fixed colour range, or None for symmetric around 0 with the trace's own max |value|
    units: str


GATE_UNITS = "gate value (0–1)"
STATE_UNITS = "value (−1…1)"

QUANTITIES = {
    "f": Quantity("f", "f_t", r"f_t", "forget gate", "What memory should I erase? (1 keeps, 0 erases)",
                  "cividis", (0.0, 1.0), GATE_UNITS),
    "i": Quantity("i", "i_t", r"i_t", "input gate", "Where should I write new memory?", "cividis", (0.0, 1.0),
                  GATE_UNITS),
    "g": Quantity("g", "C̃_t", r"\tilde C_t", "candidate memory", "What content should be written?", "diverging",
                  (-1.0, 1.0), STATE_UNITS),
    "c": Quantity("c", "C_t", r"C_t", "cell state", "The memory highway: carried forward almost linearly.",
                  "diverging", None, "cell value"),
    "o": Quantity("o", "o_t", r"o_t", "output gate", "What part of memory should be revealed now?", "cividis",
                  (0.0, 1.0), GATE_UNITS),
    "h": Quantity("h", "h_t", r"h_t", "hidden state", "What the cell reveals: the output at this step.",
                  "diverging", (-1.0, 1.0), STATE_UNITS),
    "r": Quantity("r", "r_t", r"r_t", "reset gate (GRU)", "How much of the past shapes the new candidate?",
                  "cividis", (0.0, 1.0), GATE_UNITS),
    "z": Quantity("z", "z_t", r"z_t", "update gate (GRU)", "How much of the old state do I keep? (1 keeps all)",
                  "cividis", (0.0, 1.0), GATE_UNITS),
    "n": Quantity("n", "n_t", r"n_t", "candidate (GRU)", "What could replace the old state?", "diverging",
                  (-1.0, 1.0), STATE_UNITS),
}

# The seed's equations (torch's documented form), one per line, by quantity.
LSTM_EQUATIONS = {
    "f": r"f_t = \sigma(W_f\,[h_{t-1}, x_t] + b_f)",
    "i": r"i_t = \sigma(W_i\,[h_{t-1}, x_t] + b_i)",
    "g": r"\tilde C_t = \tanh(W_c\,[h_{t-1}, x_t] + b_c)",
    "c": r"C_t = f_t \odot C_{t-1} + i_t \odot \tilde C_t",
    "o": r"o_t = \sigma(W_o\,[h_{t-1}, x_t] + b_o)",
    "h": r"h_t = o_t \odot \tanh(C_t)",
}
RNN_EQUATION = r"h_t = \tanh(W\,[h_{t-1}, x_t] + b)"

EVALUATION_CHECKLIST = (
    "Training and validation loss by epoch.",
    "A metric for the task: accuracy / F1 / perplexity / RMSE.",
    "Horizon-wise error for forecasting.",
    "The overfitting gap (validation − training loss).",
    "Inference latency on long sequences.",
)
PRACTICAL_ADVICE = (
    "Normalise features (z-score, fitted on the training split only).",
    "Batch sequences of different lengths with padding + masking.",
    "Regularise with dropout on inputs and outputs.",
    "Clip gradient norms on long sequences.",
    "Stop early on the validation metric.",
    "Compare the LSTM with a GRU baseline on your data.",
)
