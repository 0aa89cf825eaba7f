"""The sizes nothing in the lab may exceed, in one place, so the app, the CLI and the core agree.

Every limit here is checked before the work it bounds is done (before an array is built, a file is
parsed or an export is written), and the refusal names the limit, so a person knows what to change.
"""

# Longest sequence anyone can make the app or the CLI trace: a generated task (make_task), a file
# (ReadOptions.max_steps defaults to it and may not exceed it) and a checkpoint's task parameters.
# A 100,000-step LSTM trace with 32 units holds about 130 MB of float32 arrays.
MAX_STEPS = 100_000

# Largest padded batch a file may become, in float32 cells (512 MB), checked against the shape a
# file declares before any number is converted or copied.
MAX_CELLS = 2**27

# Rows of a tidy CSV export (Trace.to_csv_bytes): about 50 MB of text; beyond it, export the .npz.
MAX_EXPORT_ROWS = 2_000_000

# Checkpoint metadata (checkpoint_meta.py): longest free text (a task's title or description), longest
# name (a feature, an output, a version string), longest list of names, longest training history.
MAX_TEXT = 2_000
MAX_NAME = 200
MAX_NAMES = 10_000
MAX_HISTORY = 100_000
