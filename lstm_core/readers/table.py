"""The parsed form every file format hands to the readers package, and the checks all formats share.

A Table holds a file's numbers as rows grouped by sequence, in step order: `values` (R, F) and `lengths`
(B,), sequence b being rows sum(lengths[:b]) .. sum(lengths[:b+1]). Missing values (refuse, drop or
forward-fill), infinities, the float32 range and the size limits are handled here once, whatever the
format, and every message names the place with the format's own words (`place`, `feature`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .. import limits
from ..errors import LabError

BOM = b"\xef\xbb\xbf"
# Largest padded batch a file may become, in float32 cells (limits.py), checked before anything is built.
MAX_CELLS = limits.MAX_CELLS
_SHOWN = 5  # places listed in a note before "and N more"


@dataclass
class Table:
    values: np.ndarray  # (R, F) numbers, rows grouped by sequence in step order
    lengths: np.ndarray  # (B,) int64 steps per sequence
    feature_names: tuple[str, ...]
    sequence_ids: tuple[str, ...]
    place: Callable[[np.ndarray], list[str]] | None = None  # row indices -> "row 12" / "sequence 2, step 5"
    feature_word: str = "feature"  # "column": messages say column 'y'; "feature": feature 1
    time: np.ndarray | None = None  # (R,) time-index values, aligned with values
    notes: list[str] = field(default_factory=list)
    numeric_columns: tuple[str, ...] = ()  # CSV: every numeric column, to list when the count is wrong
    on_missing: Callable[[np.ndarray], None] | None = None  # CSV: checks rows with NaN are not short rows

    def __post_init__(self):
        if self.place is None:
            self.place = sequence_places(self.lengths, self.sequence_ids)

    def feature(self, j: int) -> str:
        if self.feature_word == "column":
            return f"column {self.feature_names[j]!r}"
        return f"feature {j}"

    def cell(self, r: int, j: int) -> str:
        return f"{self.place(np.array([r]))[0]}, {self.feature(j)}"


def sequence_places(lengths: np.ndarray, ids: tuple[str, ...]) -> Callable[[np.ndarray], list[str]]:
    """Places as 'sequence 2, step 5' (0-based, as x[2, 5]); 'step 5' when there is one sequence."""
    ends = np.cumsum(lengths)
    named = tuple(ids) != tuple(map(str, range(len(lengths))))

    def place(rows: np.ndarray) -> list[str]:
        b = np.searchsorted(ends, rows, side="right")
        steps = rows - (ends[b] - lengths[b])
        if len(lengths) == 1:
            return [f"step {t}" for t in steps]
        return [f"sequence {ids[i]!r}, step {t}" if named else f"sequence {i}, step {t}"
                for i, t in zip(b, steps, strict=True)]

    return place


def sequence_label(table: Table, b: int) -> str:
    if len(table.lengths) == 1:
        return "the sequence"
    ids = table.sequence_ids
    return f"sequence {ids[b]!r}" if ids != tuple(map(str, range(len(ids)))) else f"sequence {b}"


def join_places(places: list[str], total: int) -> str:
    """'rows 5, 9, 12' or 'sequence 0, step 3; sequence 1, step 4', with 'and N more' past a few."""
    shown = places[:_SHOWN]
    if all(p.startswith("row ") for p in shown):
        text = "rows " + ", ".join(p[4:] for p in shown) if len(shown) > 1 else shown[0]
    else:
        text = "; ".join(shown)
    return text + (f" and {total - len(shown)} more" if total > len(shown) else "")


def head_bytes(data, n: int = 1 << 16) -> bytes:
    """The first n bytes of bytes or of a file at a path."""
    if isinstance(data, bytes):
        return data[:n]
    with open(data, "rb") as f:
        return f.read(n)


def decode_utf8(data: bytes) -> str:
    """Strict UTF-8; a bad byte is reported with its offset and line."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise undecodable(data, e.start) from None


def undecodable(data: bytes, offset: int) -> LabError:
    line = data.count(b"\n", 0, offset) + 1
    return LabError(f"byte {offset} (line {line}) is 0x{data[offset]:02x}, which is not valid UTF-8; "
                    "save the file as UTF-8 text")


def check_limits(lengths: np.ndarray, features: int, options, label=None) -> None:
    """Sequence count, longest sequence and padded size, before anything big is built."""
    def who() -> str:
        b = int(np.argmax(lengths))
        return label(b) if label else ("the sequence" if len(lengths) == 1 else f"sequence {b}")

    check_size(len(lengths), int(lengths.max()), features, options, who)


def check_size(B: int, longest: int, features: int, options, who=None) -> None:
    """check_limits from sizes alone (B sequences, the longest of `longest` steps), e.g. an array's header,
    before its data is read; who() names the longest sequence, or None for the default words."""
    if B > options.max_sequences:
        raise LabError(f"the file has {B} sequences; the limit is {options.max_sequences} (max_sequences)")
    if longest > options.max_steps:
        name = who() if who else ("the sequence" if B == 1 else "a sequence")
        raise LabError(f"{name} has {longest} steps; the limit is {options.max_steps} (max_steps)")
    cells = B * longest * features
    limit = min(MAX_CELLS, getattr(options, "max_cells", MAX_CELLS))
    if cells > limit:
        raise LabError(f"{B} sequences padded to {longest} steps x {features} features need "
                       f"{cells * 4 / 2**20:.0f} MB; the limit is {limit * 4 / 2**20:.0f} MB (max_cells)")


def settle(table: Table, nan_policy: str) -> np.ndarray:
    """The table's values as C-contiguous float32 (R, F): NaN handled by policy, non-finite refused.

    "drop" shortens table.lengths / time / place in place.
    """
    values = table.values
    with np.errstate(over="ignore"):  # a value beyond float32 becomes inf here and is reported below
        x = values.astype(np.float32, order="C", copy=False)
    if _all_finite(x):  # the fast path: one pass over a clean file
        return x if x.flags.writeable else x.copy()  # float32 .npy data is a read-only view of the file
    v = values.astype(np.float64)  # the file's own numbers, for exact messages
    nan = np.isnan(v)
    inf = np.isinf(v)
    if inf.any():
        r, j = np.argwhere(inf)[0]
        raise LabError(f"{table.cell(r, j)}: {v[r, j]} is not a finite number; replace it with a number")
    rows = np.flatnonzero(nan.any(axis=1))
    if rows.size:
        if table.on_missing is not None:
            table.on_missing(rows)
        empty = nan.all(axis=0)
        if empty.any():
            j = int(np.flatnonzero(empty)[0])
            raise LabError(f"{table.feature(j)} is empty: it has no value in any of its {len(v)} rows")
        if nan_policy == "refuse":
            r, j = np.argwhere(nan)[0]
            n = int(nan.sum())
            count = f" (one of {n} in the file)" if n > 1 else ""
            raise LabError(f"{table.cell(r, j)}: missing value{count}; set nan_policy to 'drop' to drop "
                           "those steps or 'ffill' to carry the previous value forward")
        v = _drop(table, v, rows) if nan_policy == "drop" else _ffill(table, v, nan)
    with np.errstate(over="ignore"):
        x = v.astype(np.float32)
    over = ~np.isfinite(x)
    if over.any():
        r, j = np.argwhere(over)[0]
        raise LabError(f"{table.cell(r, j)}: {v[r, j]:g} is too large for float32 "
                       f"(largest is {np.finfo(np.float32).max:.3g})")
    return x


def _all_finite(x: np.ndarray, chunk: int = 1 << 20) -> bool:
    """np.isfinite(x).all() without a boolean array as large as x (a quarter of its float32 size)."""
    rows = max(1, chunk // max(1, x.shape[1]))
    return all(np.isfinite(x[r : r + rows]).all() for r in range(0, len(x), rows))


def _drop(table: Table, v: np.ndarray, rows: np.ndarray) -> np.ndarray:
    keep = np.ones(len(v), bool)
    keep[rows] = False
    seq = np.repeat(np.arange(len(table.lengths)), table.lengths)
    lengths = np.bincount(seq[keep], minlength=len(table.lengths)).astype(np.int64)
    if (lengths == 0).any():
        b = int(np.flatnonzero(lengths == 0)[0])
        raise LabError(f"{sequence_label(table, b)} has no step left after dropping the steps with "
                       "missing values; fill them instead (nan_policy 'ffill') or fix the file")
    table.notes.append(f"dropped {rows.size} step{'s' * (rows.size > 1)} with missing values "
                       f"({join_places(table.place(rows[:_SHOWN]), rows.size)})")
    kept = np.flatnonzero(keep)
    old_place = table.place
    table.place = lambda r: old_place(kept[r])
    table.lengths = lengths
    if table.time is not None:
        table.time = table.time[keep]
    return v[keep]


def _ffill(table: Table, v: np.ndarray, nan: np.ndarray) -> np.ndarray:
    """Forward-fill within each sequence; a leading gap takes the sequence's first value."""
    R = len(v)
    idx = np.arange(R)
    ends = np.cumsum(table.lengths)
    start = np.repeat(ends - table.lengths, table.lengths)  # (R,) first row of each row's sequence
    end = np.repeat(ends, table.lengths)
    for j in np.flatnonzero(nan.any(axis=0)):
        valid = ~nan[:, j]
        prev = np.maximum.accumulate(np.where(valid, idx, -1))
        nxt = np.minimum.accumulate(np.where(valid, idx, R)[::-1])[::-1]
        src = np.where(prev >= start, prev, nxt)
        if (src >= end).any():
            b = int(np.searchsorted(ends, np.flatnonzero(src >= end)[0], side="right"))
            raise LabError(f"{sequence_label(table, b)}: {table.feature(j)} has no value to fill from")
        rows = np.flatnonzero(~valid)
        leading = int((prev[rows] < start[rows]).sum())
        v[:, j] = v[src, j]
        back = f"; {leading} at the start took the first value after them" if leading else ""
        table.notes.append(f"forward-filled {rows.size} missing value{'s' * (rows.size > 1)} in "
                           f"{table.feature(j)} ({join_places(table.place(rows[:_SHOWN]), rows.size)}){back}")
    return v


def strip_bom(data: bytes, notes: list) -> bytes:
    """Drop a UTF-8 byte-order mark (and say so in the notes)."""
    if data.startswith(BOM):
        notes.append("removed a UTF-8 byte-order mark")
        return data[len(BOM):]
    return data


# ---------------------------------------------------------------------------------------------- CSV out
