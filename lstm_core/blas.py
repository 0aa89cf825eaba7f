"""numpy's own BLAS, called directly: the matrix products of batched traces (loops.py, kernels.py) and of
gradient flow (memory.py) go to the same sgemm/dgemm that `np.matmul` uses, with no Python in between.

numpy's wheels bundle OpenBLAS built with 64-bit integers and a `scipy_` prefix (numpy.libs/ on Linux and
Windows, numpy/.dylibs/ on macOS); numpy has loaded it by the time this module looks, so opening it again
gives the same library (one thread pool, nothing new loaded). Where it is not found (a numpy linked
against another BLAS, a renamed symbol), `address` returns 0 and every caller keeps its own loops, which
give the same numbers to within float32 rounding (tests/test_blas.py runs both). This module imports
neither numba nor torch.

Threads: OpenBLAS splits a product between its own threads when M·N·K exceeds 65,536 ×
GEMM_MULTITHREAD_THRESHOLD (4 in its default build); a thread pool woken for every step of a recurrence
is slow, and erratic on a busy machine, so `blocks` cuts every product into calls at most MAX_WORK big,
which OpenBLAS runs on the calling thread. The callers split work between threads themselves. Nothing
here changes a thread setting.

Numbers: a row of C = A·B is its row of A times B to within float32 rounding of a K-term sum, however the
product is cut into calls. Its last bits may depend on the other rows of the call: OpenBLAS picks its kernel
by CPU, and some (seen with 0.3.31 on AMD EPYC) compute the rows past the last multiple of 4 another way, so a
sequence's numbers in a batch agree with the same sequence in another batch to float32 rounding, not bit for
bit. Within one run of the same batch they are always the same (tests/test_blas.py).
"""

from __future__ import annotations

import ctypes
import functools
import os
from pathlib import Path

import numpy as np

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112  # cblas enums
MAX_WORK = 65_536 * 4  # M·N·K of one call: OpenBLAS's default single-thread limit
SYMBOLS = {"sgemm": "scipy_cblas_sgemm64_", "dgemm": "scipy_cblas_dgemm64_"}  # ILP64 cblas, numpy >= 2.0 wheels


def _candidates() -> list[Path]:
    root = Path(np.__file__).resolve().parent
    found = []
    for folder in (root.parent / "numpy.libs", root / ".dylibs"):
        if folder.is_dir():
            found += sorted(p for p in folder.iterdir() if "openblas" in p.name.lower())
    return found


@functools.cache
def _library():
    """The bundled OpenBLAS that has every symbol in SYMBOLS, or None."""
    if os.environ.get("LSTM_CORE_NO_BLAS"):  # for checking the fallback in a fresh process
        return None
    for path in _candidates():
        try:
            lib = ctypes.CDLL(str(path))
        except OSError:
            continue
        if all(hasattr(lib, name) for name in SYMBOLS.values()):
            return lib
    return None


@functools.cache
def address(routine: str) -> int:
    """The address of numpy's cblas `routine` ('sgemm' or 'dgemm', 64-bit integer arguments), 0 if absent."""
    lib = _library()
    if lib is None:
        return 0
    return ctypes.cast(getattr(lib, SYMBOLS[routine]), ctypes.c_void_p).value or 0


@functools.cache
def _ctypes_gemm(routine: str):
    fn = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64,
                          ctypes.c_int64, ctypes.c_float if routine == "sgemm" else ctypes.c_double, ctypes.c_void_p,
                          ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64,
                          ctypes.c_float if routine == "sgemm" else ctypes.c_double, ctypes.c_void_p,
                          ctypes.c_int64)(address(routine))
    return fn


def blocks(M: int, N: int, K: int) -> tuple[int, int]:
    """(rows, columns) of C per call so that rows·columns·K <= MAX_WORK (whole rows while that fits;
    columns in multiples of 16 otherwise)."""
    if N * K <= MAX_WORK:
        return max(1, min(M, MAX_WORK // (N * K))), N
    return 1, max(16, MAX_WORK // K // 16 * 16)


def add_product(c: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """c += a @ b (2-D float32 or float64 arrays, rows of unit stride: views such as z[:, t] are fine),
    by numpy's gemm in the calls `blocks` gives: the numbers the compiled loops get from the same calls."""
    routine = "sgemm" if c.dtype == np.float32 else "dgemm"
    fn = _ctypes_gemm(routine)
    M, K = a.shape
    N = b.shape[1]
    rows, cols = blocks(M, N, K)
    item = c.itemsize

    def ld(arr):  # a one-row array's row stride is arbitrary in numpy ((1, 3) may have strides (4, 4)); BLAS
        return arr.strides[0] // item if arr.shape[0] > 1 else max(1, arr.shape[1])  # refuses ld < columns

    lda, ldb, ldc = ld(a), ld(b), ld(c)
    pa, pb, pc = a.ctypes.data, b.ctypes.data, c.ctypes.data
    for i in range(0, M, rows):
        m = min(rows, M - i)
        for j in range(0, N, cols):
            n = min(cols, N - j)
            fn(ROW_MAJOR, NO_TRANS, NO_TRANS, m, n, K, 1.0, pa + item * i * lda, lda, pb + item * j, ldb, 1.0,
               pc + item * (i * ldc + j), ldc)
