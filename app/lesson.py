"""The guided lesson as plain data: its stops, in the order of the seed notes, each with the live figure that
makes its point, what to look at, and a predict-then-reveal question aimed at a known misconception.

No Streamlit here: app/screens/lesson.py lays a stop out, tests read these records. A stop's `setup` holds the
session values its figure runs with (app/state.py's keys); everything a stop does not set comes from the
schema's defaults, so a stop always shows the same view whatever was explored before.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lstm_core import presets


@dataclass(frozen=True)
class Question:
    ask: str
    choices: tuple[str, ...]
    right: int  # index into choices
    why: str  # revealed after a choice
    misconception: str  # the belief the question is aimed at


@dataclass(frozen=True)
class Stop:
    key: str
    title: str
    notes: str  # where in the seed notes
    point: str  # the stop's one idea, in a sentence or two
    look: str  # what to look at in the figure
    question: Question
    setup: dict = field(default_factory=dict)  # session values for the figure (task, cell, variant, ...)
    panels: tuple = ()  # the trace view's panels, in order (trace_panels keys); () = no heatmaps
    step: int = 0  # the step the stop opens at
    unit: int = 0  # the unit the equations show
    extra: tuple = ()  # "answers" (each model's answer beside the right one), "numbers" (equations and
    # diagrams beside the figure), "numbers_below" (under it),
    # "memory" (the nudge chart as the figure), "forget_bias" (a slider for the latch's b_f), "horizon"
    # (horizon-wise error of the shipped forecasters as the figure)
    needs: tuple = ()  # pages this stop points to: "train", "memory"


COPY = {"task": "copy"}
LATCH = {"model_source": "handset", "preset": "latch", "example_length": 120}
LATCH_WRITE = presets.demo_input(120, 0)[1][0]  # the first write of the latch's input (example seed 0)

STOPS: tuple[Stop, ...] = (
    Stop("why", "1. Why LSTM was needed", "§1 Why LSTM was needed",
         "A vanilla RNN passes its state through a squashing function at every step, so a signal from far back "
         "fades. Delayed recall asks for five symbols back after 50 blank steps: the LSTM writes them back, the "
         "RNN cannot.",
         "The answers above, then the two memory panels: the LSTM's cell state C_t keeps its colours through the "
         "blank steps; the RNN's h_t goes pale within a few steps.",
         Question("Both models saw the same five symbols, have 32 units and were trained the same way. Why can't "
                  "the vanilla RNN write them back 50 steps later?",
                  ("It never saw them: the symbols are too short.",
                   "Its only memory, h_t, is rewritten through tanh at every step, so the symbols fade.",
                   "It has too few units to store five symbols.",
                   "It was trained for fewer epochs."),
                  1, "Its state is the only place it can keep anything, and every step multiplies it by W and "
                     "squashes it with tanh: after a few steps the symbols are gone (the sentence above says by "
                     "which step). Same size, same training: the difference is the cell.",
                  "“A recurrent network remembers everything it has seen.”"),
         setup=COPY, panels=("x", "c", "rnn_h", "answers"), step=30, unit=8, extra=("answers",)),
    Stop("highway", "2. The cell state: a memory highway", "§2 Core idea",
         "The cell state C_t carries memory forward almost unchanged: C_t = f_t ⊙ C(t−1) + i_t ⊙ C̃_t with "
         "f_t ≈ 1 is nearly the identity, step after step: a conveyor belt.",
         "Each row of the C_t heatmap is one unit, each column one step. Unit 8 (the equations at the right) "
         "takes a value from the symbols and keeps it through the blank steps while f_t stays near 1.",
         Question("What is the cell state C_t of this 32-unit LSTM at one time step?",
                  ("A 32 × 32 matrix.", "A vector of 32 numbers, one per unit.", "A single number.",
                   "The network's weights."),
                  1, "C_t is one number per unit: one column of the heatmap. The matrices are the weights W, "
                     "which stay fixed while a sequence runs; the gates decide, unit by unit, what each of the 32 "
                     "numbers keeps.",
                  "“The cell state is a matrix.”"),
         setup=COPY, panels=("x", "c", "f"), step=30, unit=8, extra=("numbers",)),
    Stop("forget", "3. The forget gate: what to erase", "§3.1 Forget gate · §4 “What memory should I erase?”",
         "f_t multiplies the old memory. This one-unit LSTM's weights are set by hand (a latch): f_t = σ(12) "
         "≈ 0.999994 at every step, except at ‘reset’ (and for one step at ‘write’), where f_t ≈ 0.",
         "f_t stays bright (1) and C_t keeps the stored value until the reset, where f_t drops to 0 and C_t "
         "empties. Drag the forget-gate bias b_f below: at 0, f_t = 0.5 and the memory halves at every step.",
         Question("At this step the forget gate reads f_t = 1.000. What happens to the memory C(t−1)?",
                  ("It is erased: the gate is on, so it forgets.", "It is kept whole.", "It is halved.",
                   "It is replaced by the input."),
                  1, "C_t = f_t ⊙ C(t−1) + i_t ⊙ C̃_t: f_t is the fraction of the old memory kept. 1 keeps it "
                     "all, 0 erases it. The name says what the gate controls, not what 1 means: think of it as a "
                     "keep gate.",
                  "“The forget gate forgets when it is 1.”"),
         setup=LATCH, panels=("x", "f", "c", "rnn_h"), step=40, extra=("forget_bias", "numbers")),
    Stop("input", "4. The input gate and the candidate: where and what to write", "§3.2 · §4",
         "The candidate C̃_t proposes what to write (here tanh of the value); the input gate i_t decides whether "
         "to write it. The value changes at every step, but the latch only takes it when ‘write’ is 1.",
         "C̃_t flickers with the noisy value at every step; i_t is dark (0) except at the two writes; C_t moves "
         "only there.",
         Question("The candidate C̃_t changes at every step, yet C_t moves only at the write steps. Why?",
                  ("C̃_t is 0 between the writes.", "i_t ≈ 0 between the writes, so i_t ⊙ C̃_t adds nothing.",
                   "f_t blocks the input.", "The value is too small to matter."),
                  1, "i_t ⊙ C̃_t is what gets added: the candidate can propose anything, the input gate chooses "
                     "where and when it is written. Two gates, two jobs: what (C̃_t) and where (i_t).",
                  "“Whatever the cell sees is written into memory.”"),
         setup=LATCH, panels=("x", "i", "g", "c"), step=LATCH_WRITE, extra=("numbers",)),
    Stop("update", "5. The cell update, by hand", "§3.3 Cell update",
         "Every number on screen comes from the six equations; nothing is hidden. Check the step's C_t from the "
         "step's f_t, C(t−1), i_t and C̃_t yourself.",
         "The equations below the heatmaps carry this step's numbers for unit 8 (outside presentation mode, the "
         "cell diagrams show the same numbers on the cell's wires).",
         Question("Is the LSTM a black box? Compute C_t for unit 8 at this step from the numbers on screen.",
                  ("{f} × {c_prev} + {i} × {g} = {c}", "{f} + {i} + {g} = {sum}", "{f} × {i} × {g} = {product}",
                   "It can't be computed: the LSTM is a black box."),
                  0, "C_t = f_t ⊙ C(t−1) + i_t ⊙ C̃_t, with this step's numbers, is exactly what the model "
                     "computed. The weights were learned, but every gate, state and step can be read and checked.",
                  "“The LSTM is a black box.”"),
         setup=COPY, panels=("c",), step=12, unit=8, extra=("numbers_below",)),
    Stop("output", "6. The output gate: what to reveal", "§3.4 Output gate and hidden state",
         "h_t = o_t ⊙ tanh(C_t): the output gate chooses what part of the memory the rest of the network sees "
         "now. A unit can hold a memory and keep it to itself.",
         "Unit 8 holds a large C_t through the blank steps with o_t near 0, so its h_t stays near 0; at the "
         "‘go’ step o_t opens and the memory shows in h_t.",
         Question("Can a unit hold a memory in C_t while its output h_t is near 0?",
                  ("No: h_t is the memory, so it would show.", "Yes: with o_t ≈ 0, h_t = o_t ⊙ tanh(C_t) ≈ 0 "
                   "while C_t keeps its value.", "Only a GRU can do that.", "Only with a peephole."),
                  1, "The cell state and the output are separate: C_t is the memory, h_t what is revealed of it "
                     "at this step. Unit 8 hides a cell value near −23 behind o_t ≈ 0.02.",
                  "“The hidden state is the memory.”"),
         setup=COPY, panels=("c", "o", "h"), step=30, unit=8, extra=("numbers",)),
    Stop("rnn", "7. The vanilla RNN beside it", "§5 Geometric/signal intuition",
         "Nudge one input and rerun: how long does each model's state still change? The LSTM's cell state "
         "carries the nudge to the end almost linearly; the RNN's repeated nonlinear transforms dilute it.",
         "The chart below: each line is how much a state changed at every later step when the first symbol was "
         "nudged. The RNN's line falls to nothing within a few steps.",
         Question("The first symbol is nudged. How long does the vanilla RNN's state h_t still feel it?",
                  ("To the end of the sequence, like the LSTM.", "A few steps, then it is gone.",
                   "Not at all: it ignores its input.", "Longer than the LSTM."),
                  1, "h_t = tanh(W [h(t−1), x_t] + b) at every step: the nudge is multiplied by the recurrent "
                     "weights and squashed again and again, so it shrinks geometrically. The LSTM's C_t adds "
                     "instead of squashing, so the nudge rides along.",
                  "“A vanilla RNN forgets because it is too small.”"),
         setup=COPY, panels=(), step=10, unit=8, extra=("memory",)),
    Stop("nfg", "8. Remove the forget gate", "§6 Variants (Greff et al.: NFG)",
         "Run the same trained weights with f_t = 1 at every step (the no-forget-gate variant): the cell can only "
         "accumulate. The model that recalls all five symbols now gets most of them wrong.",
         "The answers above (✗), and C_t: without a forget gate the cell values only pile up.",
         Question("Take away the forget gate, so f_t = 1 always: memory is never erased. Does the model still "
                  "recall the five symbols?",
                  ("Yes, better: it never forgets.", "Yes, the same: f_t was ≈ 1 anyway.",
                   "No: it can no longer clear what it has used, and its answers go wrong.",
                   "It cannot run at all."),
                  2, "Forgetting is half of memory: the trained model uses f_t < 1 to let go of old content. "
                     "Greff et al. (2017) found the forget gate and the output activation the most important "
                     "parts of the LSTM.",
                  "“Never forgetting would be the perfect memory.”"),
         setup={**COPY, "variant": "nfg"}, panels=("x", "c", "answers"), step=57, unit=8, extra=("answers",)),
    Stop("variants", "9. Variants and the GRU", "§6.1–6.3 Peephole, coupled gates, GRU",
         "Peephole LSTMs let the gates see C_t; the coupled (CIFG) variant sets i_t = 1 − f_t. The GRU merges "
         "the cell state into h_t and uses an update gate z_t to keep it: fewer gates, one state.",
         "The GRU on the adding problem: z_t near 1 keeps h_t, its memory, across the steps between the two "
         "marked numbers.",
         Question("A GRU has no cell state. Where does it keep its memory?",
                  ("Nowhere: it cannot remember.", "In h_t, kept by the update gate z_t ≈ 1.",
                   "In its weights, which change as it reads.", "In the reset gate r_t."),
                  1, "h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h(t−1): with z_t ≈ 1 the state is copied forward, as an "
                     "LSTM's f_t ≈ 1 copies C_t. One state does both jobs, memory and output.",
                  "“Only an LSTM has gated memory.”"),
         setup={"task": "adding", "cell": "gru"}, panels=("x", "h", "z", "rnn_h"), step=60),
    Stop("practice", "10. Practical advice", "§7 Practical implementation notes",
         "Normalise features; batch with padding and masking; dropout; clip gradient norms on long sequences; "
         "stop early; compare with a GRU. The adding LSTM, trained on 100 steps, here reads 400: what it "
         "learned carries over.",
         "The answers above on a sequence four times longer than training, and the cell state holding the two "
         "marked numbers across it.",
         Question("Training on 1,000-step sequences, the loss suddenly jumps to NaN. What do you try first?",
                  ("Add more units.", "Clip the gradient norm.", "Remove the forget gate.",
                   "Train for more epochs."),
                  1, "Long sequences can make gradients explode: clipping their norm (the training code uses 1.0) "
                     "keeps a step from blowing the weights up. Normalised inputs help too.",
                  "“NaN means the model is too small.”"),
         setup={"task": "adding", "example_length": 400}, panels=("x", "c", "rnn_h"), step=200,
         extra=("answers",), needs=("train",)),
    Stop("checklist", "11. The evaluation checklist", "§10 Evaluation checklist",
         "Track training and validation loss by epoch, a metric for the task, horizon-wise error for forecasts, "
         "the overfitting gap and inference latency on long sequences.",
         "Horizon-wise error of the shipped sine forecasters (held-out data): every model gets worse further "
         "ahead, the vanilla RNN fastest.",
         Question("Training loss keeps falling; from epoch 8 the validation loss rises. What does that say?",
                  ("Train longer: it is still learning.", "It overfits from epoch 8: keep the best validation "
                   "epoch (early stopping).", "The validation data is broken.", "Add more units."),
                  1, "The gap between validation and training loss is the overfitting gap: when it opens, the "
                     "model is learning its training set, not the task. Stop early at the best validation score.",
                  "“Lower training loss always means a better model.”"),
         setup={"task": "sine"}, panels=(), step=0, extra=("horizon",), needs=("train", "memory")),
)

NEEDED_PAGES = {"train": ("Train", "the Train page (train your own model and watch the checklist's curves)"),
                "memory": ("Memory", "the Memory page (how long each model remembers, in detail)")}


def filled(q: Question, numbers: dict) -> Question:
    """The question with this step's numbers written into its choices ({f}, {c_prev}, ... in the text)."""
    n = {k: f"{v:.3f}".replace("-", "−") for k, v in numbers.items()}
    if {"f", "i", "g", "c_prev"} <= numbers.keys():
        n["sum"] = f"{numbers['f'] + numbers['i'] + numbers['g']:.3f}".replace("-", "−")
        n["product"] = f"{numbers['f'] * numbers['i'] * numbers['g']:.3f}".replace("-", "−")
    try:
        choices = tuple(c.format(**n) for c in q.choices)
    except KeyError:
        return q
    return Question(q.ask, choices, q.right, q.why, q.misconception)
