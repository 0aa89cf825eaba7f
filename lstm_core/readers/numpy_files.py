"""NumPy files: .npy arrays and .npz archives, numbers only, never unpickled.

Every array's header is read and checked (version, dtype, shape, size) before its data, so an object
array, a complex or text dtype, or a header promising more data than the file holds is refused with a
message instead of being loaded. Accepted:

- .npy: shape (T,) one sequence of 1 feature, (T, F) one sequence, (N, T, F) N sequences of T steps.
- .npz: one array (as .npy); or `x` as .npy plus optional `lengths` (N,) integers in 1..T (steps past a
  length are padding and ignored), `feature_names` (F,) strings, `sequence_ids` (N,); or several
  arrays, each one sequence (T_i,) or (T_i, F), named by its array name, in archive order.
Booleans become 1/0 (with a note).
"""

from __future__ import annotations

import io
import math
import warnings
import zipfile
import zlib

import numpy as np

from ..errors import LabError
from .table import MAX_CELLS, Table, check_limits, check_size

_X_KEYS = ("x", "lengths", "feature_names", "sequence_ids")
# .npz members are decompressed in memory: the total may be at most this many times the file size limit.
_UNPACK_FACTOR = 4


def load_array(data: bytes, what: str, text_ok: bool = False, check=None) -> np.ndarray:
    """One .npy payload, header checked first; `what` names it in messages ('the array', "array 'x'").

    check(shape), if given, runs on the header's shape before any data is touched. The array is a
    read-only view of `data`, never a copy: the one conversion to float32 happens later (settle)."""
    f = io.BytesIO(data)  # shares `data` until written to, which it never is
    shape, fortran, dtype = _header(f, what, text_ok)
    _check_count(shape, dtype, what, len(data) - f.tell())
    if check is not None:
        check(shape)
    return _view(data, f.tell(), shape, fortran, dtype)


def _header(f, what: str, text_ok: bool) -> tuple[tuple, bool, np.dtype]:
    """Version, shape, order and dtype from the stream's .npy header, checked; the stream is left at the data."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(f)
        if version not in ((1, 0), (2, 0), (3, 0)):
            raise LabError(f"{what} has .npy format version {version[0]}.{version[1]}; "
                           "expected 1.0, 2.0 or 3.0")
        reader = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        with warnings.catch_warnings():  # a garbled header can make numpy's parser warn before it fails
            warnings.simplefilter("ignore")
            shape, fortran, dtype = reader(f)
    except LabError:
        raise
    except Exception as e:  # numpy's header parser raises ValueError, SyntaxError, TokenError, ...
        raise LabError(f"{what} is not valid .npy data: {e}") from None
    _check_dtype(dtype, what, text_ok)
    return shape, fortran, dtype


def _check_count(shape: tuple, dtype: np.dtype, what: str, have: int) -> int:
    """The bytes the header promises, checked against the bytes there are and the element limit."""
    count = math.prod(shape)
    if count > MAX_CELLS:  # a zero-width dtype (text '<U0') promises values without bytes
        raise LabError(f"{what} has shape {shape}: {count} values; the limit is {MAX_CELLS}")
    need = count * dtype.itemsize
    if need > have:
        raise LabError(f"{what} is truncated: its header promises shape {shape} of {dtype} ({need} bytes), "
                       f"the file holds {have} bytes of data")
    return need


def _view(buffer, offset: int, shape: tuple, fortran: bool, dtype: np.dtype) -> np.ndarray:
    """The array stored at buffer[offset:], without copying it."""
    count = math.prod(shape)
    if count == 0 or dtype.itemsize == 0:
        return np.zeros(shape, dtype)
    a = np.frombuffer(buffer, dtype=dtype, count=count, offset=offset)
    return a.reshape(shape[::-1]).T if fortran else a.reshape(shape)


def _check_dtype(dtype: np.dtype, what: str, text_ok: bool) -> None:
    if dtype.hasobject:
        raise LabError(f"{what} holds Python objects (dtype object); loading them needs pickle, which is "
                       "refused for safety: save plain numbers (e.g. np.save(path, x.astype(float)))")
    if dtype.names is not None or dtype.subdtype is not None:
        raise LabError(f"{what} is a structured array ({dtype}); expected plain numbers")
    if dtype.kind == "c":
        raise LabError(f"{what} holds complex numbers ({dtype}); expected real numbers: "
                       "save the real and imaginary parts as two features")
    if dtype.kind in "US" and text_ok:
        return
    if dtype.kind not in "fiub":
        raise LabError(f"{what} has dtype {dtype}; expected numbers (float, int or bool)")


def _layout(shape: tuple, what: str, options) -> tuple[int, int, int]:
    """(N, T, F) of an array read as sequences, checked against the limits from its shape alone."""
    ndim = len(shape)
    if ndim not in (1, 2, 3):
        raise LabError(f"{what} has shape {shape}; expected (T,), (T, F) or (N, T, F)")
    if 0 in shape:
        axis = {1: "T", 2: "TF", 3: "NTF"}[ndim][shape.index(0)]
        word = {"N": "no sequences", "T": "zero-length sequences", "F": "no features"}[axis]
        raise LabError(f"{what} has shape {shape}: {word} ({axis} = 0)")
    N, T, F = {1: (1, shape[0], 1), 2: (1, *shape), 3: shape}[ndim]
    check_size(N, T, F, options, lambda: "the sequence" if N == 1 else f"each of the {N} sequences")
    return N, T, F


def _as_table(a: np.ndarray, what: str, options, notes: list[str]) -> Table:
    N, T, F = _layout(a.shape, what, options)
    if a.dtype.kind not in "fiub":  # text arrays load (for names) but are no sequence
        raise LabError(f"{what} has dtype {a.dtype}; expected numbers (float, int or bool)")
    if a.dtype.kind == "b":
        notes.append(f"{what}: true/false read as 1/0")
    lengths = np.full(N, T, dtype=np.int64)
    names = tuple(f"x{j}" for j in range(F))
    return Table(a.reshape(N * T, F), lengths, names, tuple(map(str, range(N))), notes=notes)


def read_npy(data: bytes, source: str, options) -> Table:
    a = load_array(data, "the array", check=lambda shape: _layout(shape, "the array", options))
    return _as_table(a, "the array", options, [])


def read_npz(data: bytes, source: str, options) -> Table:
    arrays = _unzip(data, options)
    if not arrays:
        raise LabError("the archive holds no arrays")
    if "x" in arrays:
        return _x_layout(arrays, options)
    if len(arrays) == 1:
        (name, a), = arrays.items()
        return _as_table(a, f"array {name!r}", options, [f"read array {name!r}"])
    return _one_per_sequence(arrays, options)


def _unzip(data: bytes, options) -> dict[str, np.ndarray]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as e:
        raise LabError(f"not a valid .npz archive (zip): {e}") from None
    members = [m for m in archive.infolist() if not m.is_dir()]
    for m in members:
        if not m.filename.endswith(".npy"):
            raise LabError(f"the archive holds {m.filename!r}, which is not a .npy array")
    total = sum(m.file_size for m in members)
    if total > _UNPACK_FACTOR * options.max_bytes:
        raise LabError(f"the archive unpacks to {total / 2**20:.1f} MB; the limit is "
                       f"{_UNPACK_FACTOR * options.max_bytes / 2**20:.1f} MB ({_UNPACK_FACTOR} x max_bytes)")
    names = [m.filename[: -len(".npy")] for m in members]
    arrays = {}
    for m, name in zip(members, names, strict=True):
        what = f"array {name!r}"
        try:
            with archive.open(m) as stream:  # header first: limits are checked before the data is unpacked
                shape, fortran, dtype = _header(stream, what, text_ok=name in ("feature_names", "sequence_ids"))
                need = _check_count(shape, dtype, what, m.file_size - stream.tell())
                if name == "x" or len(names) == 1:
                    _layout(shape, what, options)
                elif "x" not in names and 0 < len(shape) <= 2:  # one sequence per array
                    check_size(len(names), shape[0], math.prod(shape[1:]), options, lambda w=what: w)
                payload = stream.read()  # to the end, so the archive's checksum is verified
        except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError) as e:
            raise LabError(f"{what} could not be unpacked: {e}") from None
        if len(payload) < need:
            raise LabError(f"{what} is truncated: its header promises {need} bytes of data, the archive "
                           f"holds {len(payload)}")
        arrays[name] = _view(payload, 0, shape, fortran, dtype)
    return arrays


def _x_layout(arrays: dict[str, np.ndarray], options) -> Table:
    extra = [k for k in arrays if k not in _X_KEYS]
    if extra:
        raise LabError(f"unexpected array {extra[0]!r} next to 'x'; allowed: {', '.join(_X_KEYS)}")
    x = arrays["x"]
    table = _as_table(x, "array 'x'", options, [])
    N, T, F = len(table.lengths), int(table.lengths[0]), table.values.shape[1]
    if "lengths" in arrays:
        lengths = arrays["lengths"]
        if x.ndim != 3 or lengths.shape != (N,) or lengths.dtype.kind not in "iu":
            raise LabError(f"array 'lengths' must be {N} integers for 'x' of shape (N, T, F); "
                           f"got {lengths.dtype} {lengths.shape} for 'x' of shape {x.shape}")
        bad = np.flatnonzero((lengths < 1) | (lengths > T))
        if bad.size:
            raise LabError(f"lengths[{bad[0]}] is {lengths[bad[0]]}; expected 1 to {T} (the steps of 'x')")
        real = (np.arange(T) < lengths[:, None]).reshape(-1)
        table.values, table.lengths = table.values[real], lengths.astype(np.int64)
    if "feature_names" in arrays:
        names = arrays["feature_names"]
        if names.dtype.kind not in "US" or names.shape != (F,):
            raise LabError(f"array 'feature_names' must be {F} strings; got {names.dtype} {names.shape}")
        table.feature_names = tuple(str(n) for n in names)
    if "sequence_ids" in arrays:
        ids = arrays["sequence_ids"]
        if ids.shape != (N,) or ids.dtype.kind not in "USiu" or len(set(ids.tolist())) != N:
            raise LabError(f"array 'sequence_ids' must be {N} distinct strings or integers; "
                           f"got {ids.dtype} {ids.shape}")
        table.sequence_ids = tuple(str(i) for i in ids)
    table.place = None
    table.__post_init__()  # places follow the final lengths and ids
    return table


def _one_per_sequence(arrays: dict[str, np.ndarray], options) -> Table:
    seqs, notes = [], []
    for name, a in arrays.items():
        if a.dtype.kind in "US":
            raise LabError(f"array {name!r} holds text; expected numbers")
        if a.ndim not in (1, 2) or a.shape[0] == 0 or (a.ndim == 2 and a.shape[1] == 0):
            raise LabError(f"array {name!r} has shape {a.shape}; each array of the archive is one sequence "
                           "of shape (T,) or (T, F) with T, F >= 1 (or name the batch 'x')")
        if a.dtype.kind == "b":
            notes.append(f"array {name!r}: true/false read as 1/0")
        seqs.append(a.reshape(a.shape[0], -1))
    F = seqs[0].shape[1]
    for name, s in zip(arrays, seqs, strict=True):
        if s.shape[1] != F:
            first = next(iter(arrays))
            word = "feature" if s.shape[1] == 1 else "features"
            raise LabError(f"array {name!r} has {s.shape[1]} {word}; expected {F} (like {first!r})")
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    check_limits(lengths, F, options)
    return Table(np.concatenate(seqs), lengths, tuple(f"x{j}" for j in range(F)), tuple(arrays), notes=notes)
