"""JSON files: sequences as nested lists of numbers.

Accepted shapes, told apart by nesting depth:
- [1, 2, 3]                       one sequence of T steps, 1 feature
- [[1, 2], [3, 4], [5, 6]]        one sequence of T steps, F features (each inner list is one step)
- [[[1, 2], [3, 4]], [[5, 6]]]    many sequences, each a list of steps
- {"sequences": [...], "feature_names": [...], "sequence_ids": [...]}  each sequence a list of numbers
  (1 feature) or a list of steps; the two names lists are optional.
Numbers only: true/false, null, strings and objects are refused where they stand (JSON has a number type,
so a boolean among numbers is more likely a mistake than a 0/1 flag). NaN and Infinity (Python's JSON
extensions) are missing and infinite values as in any other format.
"""

from __future__ import annotations

import json

import numpy as np

from ..errors import LabError
from .table import Table, check_limits, decode_utf8, strip_bom

_KEYS = ("sequences", "feature_names", "sequence_ids")


def read_json(data: bytes, source: str, options) -> Table:
    notes = []
    text = decode_utf8(strip_bom(data, notes))
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise LabError(f"JSON syntax error at line {e.lineno}, column {e.colno}: {e.msg}") from None
    except RecursionError:
        raise LabError("the JSON is nested too deeply; expected at most 3 levels of lists") from None
    except ValueError as e:  # e.g. an integer literal of thousands of digits
        raise LabError(f"the JSON could not be read: {e}") from None
    names = ids = None
    if isinstance(obj, dict):
        unknown = [k for k in obj if k not in _KEYS]
        if "sequences" not in obj or unknown:
            got = f"; got keys {', '.join(map(repr, obj))}" if obj else "; got an empty object"
            raise LabError(f'a JSON object must have the key "sequences" (and optionally "feature_names", '
                           f'"sequence_ids"){got}')
        seqs, names, ids = obj["sequences"], obj.get("feature_names"), obj.get("sequence_ids")
        if not isinstance(seqs, list) or not seqs:
            raise LabError(f'"sequences" must be a non-empty list of sequences; got {_describe(seqs)}')
        many = True
    elif isinstance(obj, list):
        if not obj:
            raise LabError("the JSON list is empty; expected numbers, steps or sequences")
        many = isinstance(obj[0], list) and bool(obj[0]) and isinstance(obj[0][0], list)
        seqs = obj if many else [obj]
    else:
        raise LabError(f'expected a list of numbers, a list of lists, or an object with "sequences"; '
                       f"got {_describe(obj)}")
    check_limits(np.ones(len(seqs), dtype=np.int64), 1, options)  # the sequence count, before any work
    arrays = [_sequence(s, f"sequence {b}, " if many else "") for b, s in enumerate(seqs)]
    F = arrays[0].shape[1]
    for b, a in enumerate(arrays):
        if a.shape[1] != F:
            raise LabError(f"sequence {b} has {_n(a.shape[1], 'feature')} per step; "
                           f"expected {F} (like sequence 0)")
    lengths = np.array([len(a) for a in arrays], dtype=np.int64)
    check_limits(lengths, F, options)
    N = len(arrays)
    names = _strings(names, F, "feature_names", [f"x{j}" for j in range(F)])
    ids = _strings(ids, N, "sequence_ids", map(str, range(N)), distinct=True)
    return Table(np.concatenate(arrays), lengths, names, ids, notes=notes)


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'s' * (count != 1)}"


def _not_a_number(v) -> str:
    return f"{_describe(v)} is not a number" + (" (write 1 or 0)" if isinstance(v, bool) else "")


def _describe(v) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if v is None:
        return "null"
    if isinstance(v, str):
        return repr(v[:40])
    if isinstance(v, dict):
        return "an object"
    if isinstance(v, list):
        return "a list"
    return repr(v)


def _is_number(v) -> bool:
    return type(v) is float or type(v) is int  # bool is an int subclass: refused on purpose


def _sequence(seq, where: str) -> np.ndarray:
    """One sequence: a list of numbers (T, 1) or a list of steps, each a list of F numbers (T, F)."""
    what = where.rstrip(", ") or "the sequence"
    if not isinstance(seq, list):
        raise LabError(f"{what} must be a list of numbers or of steps; got {_describe(seq)}")
    if not seq:
        raise LabError(f"{what} has no steps; a sequence needs at least one")
    if isinstance(seq[0], list):
        F = len(seq[0])
        if F == 0:
            raise LabError(f"{where}step 0 is an empty list; expected the step's features")
        for t, step in enumerate(seq):
            if not isinstance(step, list):
                raise LabError(f"{where}step {t}: expected a list of {F} numbers (like step 0); "
                               f"got {_describe(step)}")
            if len(step) != F:
                raise LabError(f"{where}step {t} has {_n(len(step), 'feature')}; expected {F} (like step 0)")
            if not all(map(_is_number, step)):
                j = next(j for j, v in enumerate(step) if not _is_number(v))
                raise LabError(f"{where}step {t}, feature {j}: {_not_a_number(step[j])}")
    elif not all(map(_is_number, seq)):
        t = next(t for t, v in enumerate(seq) if not _is_number(v))
        raise LabError(f"{where}step {t}: {_not_a_number(seq[t])}")
    try:
        a = np.array(seq, dtype=np.float64)
    except OverflowError:  # an integer beyond float64
        raise LabError(f"{what} holds an integer too large for a float (more than 308 digits)") from None
    return a.reshape(len(seq), -1)


def _strings(values, n: int, key: str, default, distinct: bool = False) -> tuple[str, ...]:
    if values is None:
        return tuple(default)
    ok = isinstance(values, list) and len(values) == n and all(isinstance(v, str | int) for v in values)
    if not ok or any(isinstance(v, bool) for v in values) or (distinct and len(set(map(str, values))) != n):
        kind = "distinct strings" if distinct else "strings"
        raise LabError(f'"{key}" must be a list of {n} {kind}; got {json.dumps(values)[:60]}')
    return tuple(map(str, values))
