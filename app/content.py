"""Words the pages show beyond each cell kind's own (which live in its record, lstm_core/registry.py): the
seed notes' practical advice and evaluation checklist. Plain data (no Streamlit).
"""

from __future__ import annotations

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
