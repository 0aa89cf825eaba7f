"""Text files: UTF-8 characters as one-hot steps over a vocabulary.

The vocabulary is the model's (ReadOptions.vocab) or, when none is given, the text's sorted distinct
characters. A character outside a given vocabulary becomes an all-zero step (there is no reserved
"unknown" index: a model trained on letters has no meaningful input for it, and a zero input is what
"no character" means to a one-hot model); a note counts them and names the first few and where they are,
so one em dash does not refuse a whole file. Windows line endings become "\\n" so a file's vocabulary
does not depend on the editor that saved it.
"""

from __future__ import annotations

import numpy as np

from ..errors import LabError
from .table import Table, check_limits, decode_utf8, strip_bom

_SHOWN = 5


def read_text(data: bytes, source: str, options) -> Table:
    notes = []
    text = decode_utf8(strip_bom(data, notes))
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
        notes.append("converted Windows line endings to \\n")
    if options.vocab is None:
        vocab = tuple(sorted(set(text)))
        notes.append(f"built a vocabulary of the text's {len(vocab)} distinct characters")
    else:
        vocab = options.vocab
    n = len(text)
    if n == 0:
        raise LabError("the file holds no characters")
    L = options.text_length or n
    lengths = np.full(n // L, L, dtype=np.int64)
    if n % L:
        lengths = np.append(lengths, n % L)
    check_limits(lengths, len(vocab), options)
    if options.text_length is None and len(lengths) == 1:
        notes.append(f"one sequence of {n} characters (set text_length to cut it into pieces)")
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    distinct, inverse = np.unique(codes, return_inverse=True)
    position = {ord(c): i for i, c in enumerate(vocab)}
    index = np.array([position.get(int(c), -1) for c in distinct])[inverse]  # (n,) vocabulary index
    known = index >= 0
    if not known.all():
        notes.append(_unknown(text, codes, np.flatnonzero(~known)))
    values = np.zeros((n, len(vocab)), dtype=np.float32)
    values[np.flatnonzero(known), index[known]] = 1.0  # unknown characters stay all-zero rows
    ids = tuple(map(str, range(len(lengths))))
    return Table(values, lengths, tuple(vocab), ids, notes=notes)


def _unknown(text: str, codes: np.ndarray, where: np.ndarray) -> str:
    """Count the unknown characters and name the first few, each at its first occurrence (line, column,
    1-based) with how often it occurs."""
    distinct, first, counts = np.unique(codes[where], return_index=True, return_counts=True)
    order = np.argsort(where[first], kind="stable")  # by first appearance in the text
    shown = []
    for k in order[:_SHOWN]:
        p = int(where[first[k]])
        line = text.count("\n", 0, p) + 1
        column = p - (text.rfind("\n", 0, p) + 1) + 1
        times = f", {counts[k]} times" if counts[k] > 1 else ""
        shown.append(f"{text[p]!r} (line {line}, column {column}{times})")
    more = f" and {len(distinct) - len(shown)} more" if len(distinct) > len(shown) else ""
    n = len(where)
    return (f"{n} character{'s' * (n > 1)} not in the model's vocabulary {'were' if n > 1 else 'was'} fed as "
            f"all-zero inputs: {', '.join(shown)}{more}")
