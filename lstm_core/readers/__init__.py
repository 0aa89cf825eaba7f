"""Read a user's file into a validated, padded batch of sequences, or raise one LabError that says why.

    result = read_sequences(uploaded_bytes, name="sensor.csv", options=ReadOptions(nan_policy="ffill"))
    result.x          # (B, T, F) float32, zero-padded past result.lengths
    result.notes      # what was done, in words a user reads

The format comes from the file name's extension: FORMATS is the one table of formats, each with its
description and its reader. Each format module (csv_files, numpy_files, json_files, text_files) turns
the file into a Table of rows grouped by sequence (table.py), and the steps every format shares run
here once: missing and non-finite values (_table.settle), size limits, the feature count the model
expects, padding and normalisation. Any failure, including pandas', numpy's and zipfile's own errors,
reaches the caller as a LabError that starts with the file name.

Places in messages: CSV rows are line numbers as an editor shows them (1-based, the header is row 1);
sequences, steps and features of arrays and JSON are 0-based indices (x[2, 5, 1] is "sequence 2,
step 5, feature 1"); text positions are 1-based lines and columns.

Choices: NaN (and an empty cell) is a missing value, handled by nan_policy; an infinite value or one
beyond float32 is always refused, as it is not missing but wrong. Columns and arrays of true/false
become 1/0 with a note; JSON booleans are refused (JSON has numbers, so true is likely a mistake).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from ..csv_text import csv_field, csv_numbers, csv_rows
from ..errors import LabError, choose
from ..limits import MAX_CELLS, MAX_EXPORT_ROWS, MAX_STEPS
from ..normalise import NORMALISATIONS, Normalisation, fit_normalisation
from . import csv_files, json_files, numpy_files, text_files
from .table import BOM, Table, check_limits, head_bytes, sequence_label, settle

__all__ = ["FORMATS", "NAN_POLICIES", "Format", "ReadOptions", "ReadResult", "pad_sequences", "read_sequences",
           "unpad"]


@dataclass(frozen=True)
class Format:
    """A file format: its name in a ReadResult, what a person may give, and its reader."""

    name: str
    description: str
    read: Callable[..., Table]  # read(data, source, options) -> Table
    reads_paths: bool = False  # the reader opens a path itself (pandas reads a CSV file faster than bytes)


FORMATS = {  # by extension
    ".csv": Format("csv", "comma-separated numbers (; tab | also sniffed), header optional, one row per step; "
                   "a sequence_id column splits sequences, a date column can be the time index",
                   partial(csv_files.read_csv, default_delimiter=","), reads_paths=True),
    ".tsv": Format("tsv", "tab-separated numbers, read like .csv", partial(csv_files.read_csv, default_delimiter="\t"),
                   reads_paths=True),
    ".npy": Format("npy", "a NumPy array of numbers: (T,), (T, F) or (N, T, F); never unpickled",
                   numpy_files.read_npy),
    ".npz": Format("npz", "a NumPy archive: one array, or 'x' (+ 'lengths'), or one array per sequence",
                   numpy_files.read_npz),
    ".json": Format("json", 'numbers [1, 2], steps [[1, 2], [3, 4]], sequences [[[1], [2]], [[3]]] or '
                    '{"sequences": [...]}', json_files.read_json),
    ".txt": Format("text", "UTF-8 text: each character is one step, one-hot over the vocabulary", text_files.read_text),
}
NAN_POLICIES = {
    "refuse": "stop at the first missing value and say where it is",
    "drop": "drop every step that has a missing value",
    "ffill": "carry the previous value forward (a leading gap takes the first value)",
}
_SNIFF_BYTES = 1 << 16


@dataclass(frozen=True)
class ReadOptions:
    """How to read a file; every field has a safe default. Invalid values raise LabError at construction."""

    max_bytes: int = 50 * 2**20  # file size limit, checked before parsing
    max_steps: int = MAX_STEPS  # longest sequence allowed (limits.py); raise it only outside the app and CLI
    max_sequences: int = 10_000
    max_cells: int = MAX_CELLS  # the padded batch's size in float32 numbers (a bound on memory per file)
    nan_policy: str = "refuse"  # a key of NAN_POLICIES
    columns: tuple[str, ...] | None = None  # CSV feature columns by name (headerless: "col0", "col1", ...)
    time_column: str | None = None  # CSV column used as the time index (then not a feature)
    sequence_column: str = "sequence_id"  # CSV: if present, splits rows into sequences (first appearance)
    expected_features: int | None = None  # the model's input size; a mismatch lists the numeric columns
    normalise: str = "none"  # a key of NORMALISATIONS, fitted on the file's own data
    vocab: tuple[str, ...] | None = None  # text: the model's characters; None builds one from the text
    text_length: int | None = None  # text: characters per sequence; None = one sequence

    def __post_init__(self):
        choose("nan_policy", self.nan_policy, NAN_POLICIES)
        choose("normalisation", self.normalise, NORMALISATIONS)
        for key in ("max_bytes", "max_steps", "max_sequences", "max_cells", "expected_features", "text_length"):
            v = getattr(self, key)
            if v is None and key in ("expected_features", "text_length"):
                continue
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise LabError(f"{key} must be a whole number >= 1; got {v!r}")
        if self.columns is not None:
            if isinstance(self.columns, str) or not all(isinstance(c, str) for c in self.columns):
                raise LabError(f"columns must be a list of column names; got {self.columns!r}")
            if not self.columns:
                raise LabError("columns is empty; name at least one feature column")
            object.__setattr__(self, "columns", tuple(self.columns))
        if self.vocab is not None:
            vocab = tuple(self.vocab)
            if not vocab or not all(isinstance(c, str) and len(c) == 1 for c in vocab):
                raise LabError(f"vocab must be a non-empty list of single characters; got {self.vocab!r:.80}")
            if len(set(vocab)) != len(vocab):
                raise LabError("vocab lists a character twice; each character needs one index")
            object.__setattr__(self, "vocab", vocab)


@dataclass(frozen=True, eq=False)
class ReadResult:
    """A validated batch of sequences and the story of how it was read."""

    x: np.ndarray  # (B, T, F) float32, zero-padded past each length, normalised if asked
    lengths: np.ndarray  # (B,) int64, 1..T
    feature_names: tuple[str, ...]
    sequence_ids: tuple[str, ...]  # one per sequence ("0", "1", ... when the file has none)
    format: str  # "csv" | "tsv" | "npy" | "npz" | "json" | "text"
    source: str  # file name
    notes: tuple[str, ...]  # what was done, in words a user reads
    time_index: np.ndarray | None = None  # (lengths[0],) time-column values of the first sequence
    normalisation: Normalisation | None = None  # None when normalise is "none"
    vocab: tuple[str, ...] | None = None  # text: the characters, index = one-hot position
    raw: np.ndarray | None = None  # the un-normalised x (x itself when nothing was normalised)

    @property
    def mask(self) -> np.ndarray:
        """(B, T) bool, True on real steps."""
        return np.arange(self.x.shape[1]) < self.lengths[:, None]

    @property
    def batch_size(self) -> int:
        return len(self.lengths)

    def sequence(self, b: int) -> np.ndarray:
        """Sequence b without its padding, (lengths[b], F)."""
        return self.x[b, : self.lengths[b]]

    def to_frame(self, raw: bool = False) -> pd.DataFrame:
        """Long form: sequence_id, step, one column per feature (raw=True: the un-normalised values)."""
        x = self.raw if raw else self.x
        frame = pd.DataFrame(x[self.mask], columns=list(self.feature_names))
        frame.insert(0, "step", np.concatenate([np.arange(n) for n in self.lengths]), allow_duplicates=True)
        frame.insert(0, "sequence_id", np.repeat(np.array(self.sequence_ids, dtype=object), self.lengths),
                     allow_duplicates=True)
        return frame

    def to_csv_bytes(self, raw: bool = False, max_rows: int = MAX_EXPORT_ROWS) -> bytes:
        """to_frame(raw).to_csv(index=False) as UTF-8 bytes, byte for byte, written by numpy a block of
        steps at a time: half pandas' time and a few MB beyond the text itself, where pandas held the
        frame and every formatted cell. More than `max_rows` rows (steps) raise LabError."""
        rows = int(self.lengths.sum())
        if rows > max_rows:
            raise LabError(f"{self.source}: a CSV of every step would have {rows:,} rows; the limit is "
                           f"{max_rows:,} rows (max_rows)")
        x = self.raw if raw and self.raw is not None else self.x
        names = ["sequence_id", "step", *self.feature_names]
        out = io.BytesIO()  # grows in place and hands its buffer over: the text is held once, not twice
        out.write(b",".join(csv_field(n) for n in names) + b"\n")
        steps = csv_numbers(np.arange(int(self.lengths.max())))
        chunk = max(1, (1 << 18) // x.shape[2])  # steps per block: about 256k values
        for b, n in enumerate(self.lengths):
            sid = csv_field(self.sequence_ids[b])
            for t in range(0, int(n), chunk):
                end = min(int(n), t + chunk)
                out.write(csv_rows([sid, steps[t:end], csv_numbers(x[b, t:end])]))
        return out.getvalue()


def pad_sequences(seqs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """[(T_i, F) or (T_i,)] -> (x (B, T_max, F) float32 zero-padded, lengths (B,) int64)."""
    if len(seqs) == 0:
        raise LabError("pad_sequences needs at least one sequence")
    arrays = [np.asarray(s, dtype=np.float32) for s in seqs]
    arrays = [a[:, None] if a.ndim == 1 else a for a in arrays]
    F = arrays[0].shape[-1]
    for b, a in enumerate(arrays):
        if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] != F:
            raise LabError(f"sequence {b} must have shape (T, {F}) with T >= 1; got {a.shape}")
    lengths = np.array([len(a) for a in arrays], dtype=np.int64)
    return _pad(np.concatenate(arrays), lengths), lengths


def unpad(x, lengths) -> list[np.ndarray]:
    """(B, T, F) and lengths -> [(lengths[b], F)], views into x."""
    x, lengths = np.asarray(x), np.asarray(lengths)
    if x.ndim != 3 or lengths.shape != (x.shape[0],):
        raise LabError(f"unpad needs x (B, T, F) and lengths (B,); got {x.shape} and {lengths.shape}")
    return [x[b, : int(n)] for b, n in enumerate(lengths)]


def _pad(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Rows grouped by sequence (R, F) -> (B, T, F); a view when every sequence has the same length."""
    B, T, F = len(lengths), int(lengths.max()), values.shape[1]
    if (lengths == T).all():
        return values.reshape(B, T, F)
    x = np.zeros((B, T, F), dtype=values.dtype)
    x[np.arange(T) < lengths[:, None]] = values  # C order: sequence by sequence, step by step
    return x


def read_sequences(data: bytes | str | os.PathLike, name: str | None = None,
                   options: ReadOptions = ReadOptions()) -> ReadResult:
    """Read bytes (an upload; give its file name) or a path into a ReadResult; any problem is a LabError."""
    if isinstance(data, bytes | bytearray | memoryview):
        data, path = bytes(data), None
        if name is None:
            raise LabError("bytes need a file name (name=...) whose extension tells the format")
    elif isinstance(data, str | os.PathLike):
        path = Path(data)
    else:
        raise LabError(f"data must be a file's bytes or a path; got {type(data).__name__}")
    source = Path(name).name if name is not None else path.name
    try:
        return _read(data if path is None else path, source, options)
    except LabError as e:
        raise LabError(f"{source}: {e}") from e.__cause__
    except MemoryError:
        raise LabError(f"{source}: not enough memory to read this file") from None
    except Exception as e:  # a path through a library we did not foresee: still the one error type
        raise LabError(f"{source}: unexpected error while reading ({type(e).__name__}: {e})") from e


def _read(data: bytes | Path, source: str, options: ReadOptions) -> ReadResult:
    ext = os.path.splitext(source)[1].lower()
    if ext not in FORMATS:
        raise LabError(f"unsupported file type {ext or '(no extension)'!r}; supported: {', '.join(FORMATS)}")
    try:
        size = len(data) if isinstance(data, bytes) else data.stat().st_size
        if size > options.max_bytes:  # before a single byte is parsed
            raise LabError(f"the file is {size / 2**20:.1f} MB; "
                           f"the limit is {options.max_bytes / 2**20:.1f} MB (max_bytes)")
        if size == 0:
            raise LabError("the file is empty (0 bytes)")
        fmt = FORMATS[ext]
        if not isinstance(data, bytes) and not fmt.reads_paths:
            data = data.read_bytes()
        head = head_bytes(data, _SNIFF_BYTES)
    except OSError as e:
        raise LabError(f"cannot read the file: {e.strerror or e}") from None
    if size <= len(head) and not head.removeprefix(BOM).strip():
        raise LabError(f"the file contains only whitespace ({size} bytes)")
    return _finish(fmt.read(data, source, options), fmt.name, source, options)


def _finish(table: Table, fmt: str, source: str, options: ReadOptions) -> ReadResult:
    """The steps every format shares: limits, missing values, feature count, padding, normalisation."""
    F = table.values.shape[1]
    check_limits(table.lengths, F, options, label=lambda b: sequence_label(table, b))
    if options.expected_features is not None and F != options.expected_features:
        raise LabError(_feature_count_message(table, options.expected_features))
    values = settle(table, options.nan_policy)
    lengths = table.lengths  # after settle: "drop" may have shortened sequences
    raw = _pad(values, lengths)
    x, norm = raw, None
    if options.normalise != "none":
        norm = fit_normalisation(raw, lengths, options.normalise, table.feature_names)
        x = norm.apply(raw)
        x[np.arange(x.shape[1]) >= lengths[:, None]] = 0.0
        table.notes.append(f"normalised each feature ({options.normalise}) with this file's own values")
    time = table.time[: lengths[0]] if table.time is not None else None
    return ReadResult(x=x, lengths=lengths, feature_names=table.feature_names,
                      sequence_ids=table.sequence_ids, format=fmt, source=source, notes=tuple(table.notes),
                      time_index=time, normalisation=norm, raw=raw,
                      vocab=table.feature_names if fmt == "text" else None)


def _feature_count_message(table: Table, expected: int) -> str:
    F, numeric = table.values.shape[1], table.numeric_columns
    text = f"the model expects {expected} input feature{'s' * (expected > 1)}; the file gives {F}"
    if not numeric:
        return text
    if len(numeric) < expected:
        return f"{text}: it has only {len(numeric)} numeric columns ({', '.join(map(repr, numeric))})"
    return (f"{text} ({', '.join(map(repr, table.feature_names))}); its numeric columns are "
            f"{', '.join(map(repr, numeric))}: choose {expected} with the columns option")
