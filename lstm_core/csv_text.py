"""Numbers and names as CSV text, written by numpy a block at a time (trace and sequence exports).

The bytes equal pandas' `to_csv(index=False)` of the same frame; tests check it.
"""

from __future__ import annotations

import numpy as np


def csv_field(text: str) -> bytes:
    """One text field as pandas writes it (QUOTE_MINIMAL): quoted when it holds a comma, quote or line break."""
    if any(c in text for c in ',"\n\r'):
        text = '"' + text.replace('"', '""') + '"'
    return text.encode("utf-8")


def csv_numbers(a: np.ndarray) -> np.ndarray:
    """Numbers as CSV fields (numpy bytes, same shape): integers as they are, floats in numpy's shortest
    form that reads back to the same value (a float32 reads back as that float32), NaN as an empty field."""
    if a.dtype.kind == "f":
        width = {2: 12, 4: 16}.get(a.dtype.itemsize, 32)  # the longest shortest-repr is 10, 15, 24 characters
        s = a.astype(f"S{width}")
        s[np.isnan(a)] = b""
        return s
    return a.astype("S21")  # the longest int64 is 20 characters


def csv_rows(columns: list) -> bytes:
    """Rows "a,b,c\\n" from columns of CSV fields: numpy bytes arrays (n,) or (n, k) for k fields, or one
    bytes value for every row. The fields become one NUL-padded byte matrix whose padding is dropped,
    so a million rows take a few numpy passes instead of a million Python calls."""
    n = next(len(c) for c in columns if isinstance(c, np.ndarray))
    blocks = []
    for c in columns:
        if isinstance(c, bytes):
            field = np.broadcast_to(np.frombuffer(c, np.uint8), (n, 1, len(c)))
        else:
            c = np.ascontiguousarray(c).reshape(n, -1)
            field = c.view(np.uint8).reshape(n, c.shape[1], c.dtype.itemsize)
        sep = np.full((n, field.shape[1], 1), ord(","), np.uint8)
        blocks.append(np.concatenate([field, sep], axis=2).reshape(n, -1))  # each field, then a comma
    m = np.concatenate(blocks, axis=1)
    m[:, -1] = ord("\n")  # the last comma ends the row
    return m[m != 0].tobytes()
