"""One cache for everything the pages compute from models and inputs, keyed by content, bounded by bytes.

    @cached(max_mb=256)
    def trace(model: Checkpoint, x: np.ndarray) -> Trace: ...

The key of a call is built from every argument by `key_of`: a checkpoint by a hash of its weights and
metadata, an array by a hash of its bytes, plain values by their repr. There is no way to pass an
argument that is left out of the key (Streamlit's `_name` convention) and no id to pass by hand, so a
cached picture cannot belong to another input (the lesson of `payload(main, main_id, rnn, rnn_id, raw,
...)`, which had no id for the input and showed one person's heatmaps to the next). An argument of a
type `key_of` does not know is a TypeError, not a silent miss.

The cache is shared by every session of the server (values are read-only: arrays are frozen), holds at
most `max_mb` megabytes per function (LSTMLAB_CACHE_MB scales every budget), and evicts the least
recently used entries. Two sessions asking for the same missing key compute it once.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from lstm_core.checkpoint import Checkpoint

SCALE = float(os.environ.get("LSTMLAB_CACHE_MB", "1024")) / 1024  # 1.0 = the budgets written below

_lock = threading.Lock()
_model_keys: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_array_keys: dict[int, tuple[weakref.ref, str]] = {}


def frozen(a: np.ndarray) -> np.ndarray:
    """`a` as a read-only C-contiguous array (a copy only when needed): its key can then be remembered."""
    a = np.ascontiguousarray(a)
    if a.flags.writeable:
        a = a.copy()
        a.flags.writeable = False
    return a


def array_key(a: np.ndarray) -> str:
    """A hash of the array's dtype, shape and every byte; remembered for read-only arrays."""
    ref = _array_keys.get(id(a))
    if ref is not None and ref[0]() is a:
        return ref[1]
    h = hashlib.blake2b(digest_size=16)
    c = np.ascontiguousarray(a)
    h.update(f"{c.dtype.str}{c.shape}".encode())
    h.update(memoryview(c).cast("B"))
    key = "a" + h.hexdigest()
    if not a.flags.writeable:
        ident = id(a)
        with _lock:
            _array_keys[ident] = (weakref.ref(a, lambda _: _array_keys.pop(ident, None)), key)
    return key


def model_key(ck: Checkpoint) -> str:
    """A hash of everything that defines a checkpoint's numbers: cell, weights, head, task, normalisation,
    vocabulary. Remembered per object (a Checkpoint is a snapshot: it is never changed after loading)."""
    key = _model_keys.get(ck)
    if key is not None:
        return key
    h = hashlib.blake2b(digest_size=16)
    net = ck.network
    h.update(f"{net.kind}/{net.variant}/{net.nonlinearity}".encode())
    for name, v in sorted({**net.state_dict(), **({"head.weight": ck.head.weight, "head.bias": ck.head.bias}
                                                   if ck.head is not None else {})}.items()):
        h.update(name.encode())
        h.update(array_key(np.asarray(v)).encode())
    meta = {"readout": None if ck.head is None else ck.head.readout, "task": ck.task, "vocab": ck.vocab,
            "normalisation": None if ck.normalisation is None else ck.normalisation.to_dict()}
    h.update(json.dumps(meta, sort_keys=True, default=str).encode())
    key = "m" + h.hexdigest()
    _model_keys[ck] = key
    return key


def key_of(value) -> str:
    """The cache key of one argument; raises TypeError for a type that has no content key."""
    if isinstance(value, Checkpoint):
        return model_key(value)
    if isinstance(value, np.ndarray):
        return array_key(value)
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return repr(value)
    if isinstance(value, (tuple, list)):
        return "(" + ",".join(key_of(v) for v in value) + ")"
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{key_of(k)}:{key_of(v)}" for k, v in sorted(value.items())) + "}"
    raise TypeError(f"no cache key for a {type(value).__name__}: pass checkpoints, arrays or plain values")


def nbytes(value) -> int:
    """Roughly how much memory a cached value holds (arrays and bytes dominate)."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, (bytes, bytearray, str)):
        return len(value)
    if isinstance(value, Mapping):
        return sum(nbytes(v) for v in value.values()) + 64 * len(value)
    if isinstance(value, (tuple, list)):
        return sum(nbytes(v) for v in value) + 8 * len(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sum(nbytes(getattr(value, f.name)) for f in dataclasses.fields(value)) + 64
    return 64


class ByteCache:
    """A thread-safe LRU map bounded by the total `nbytes` of its values."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.entries: OrderedDict[str, tuple[object, int]] = OrderedDict()
        self.used = 0
        self.lock = threading.Lock()
        self.pending: dict[str, threading.Lock] = {}

    def get_or_compute(self, key: str, compute):
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key][0]
            gate = self.pending.setdefault(key, threading.Lock())
        with gate:  # one computation per key; others wait for it
            with self.lock:
                if key in self.entries:
                    self.entries.move_to_end(key)
                    return self.entries[key][0]
            try:
                value = compute()
            finally:
                with self.lock:
                    self.pending.pop(key, None)
            size = nbytes(value)
            with self.lock:
                if size <= self.max_bytes:
                    self.entries[key] = (value, size)
                    self.used += size
                    while self.used > self.max_bytes:
                        _, (_, s) = self.entries.popitem(last=False)
                        self.used -= s
            return value

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.used = 0


CACHES: dict[str, ByteCache] = {}


def cached(max_mb: float):
    """Memoise a pure function on the content of its arguments, in at most `max_mb` MB (see module doc)."""
    def wrap(fn):
        cache = CACHES.setdefault(f"{fn.__module__}.{fn.__qualname__}", ByteCache(int(max_mb * SCALE * 2**20)))

        @functools.wraps(fn)
        def call(*args, **kwargs):
            key = key_of(args) + key_of(kwargs)
            return cache.get_or_compute(key, lambda: fn(*args, **kwargs))

        call.cache = cache
        return call

    return wrap
