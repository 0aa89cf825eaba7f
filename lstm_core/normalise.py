"""Per-feature normalisation of sequences: x_norm = (x - shift) / scale, fitted on real steps only.

A Normalisation is plain data (kind, shift, scale, feature names) so it can travel with a checkpoint or
an export as JSON (`to_dict` / `from_dict`) and undo itself (`invert`) for display in the user's units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import LabError, choose

__all__ = ["NORMALISATIONS", "Normalisation", "fit_normalisation"]

NORMALISATIONS = {
    "none": "leave the values as they are",
    "zscore": "subtract each feature's mean and divide by its standard deviation",
    "minmax": "map each feature's smallest value to 0 and its largest to 1",
}


@dataclass(frozen=True, eq=False)
class Normalisation:
    """x_norm = (x - shift) / scale per feature (the last axis); scale is never 0."""

    kind: str  # a key of NORMALISATIONS
    shift: np.ndarray  # (F,) float32
    scale: np.ndarray  # (F,) float32, constant features get 1
    feature_names: tuple[str, ...] = ()

    def __post_init__(self):
        choose("normalisation", self.kind, NORMALISATIONS)
        shift = np.asarray(self.shift, dtype=np.float32).reshape(-1)
        scale = np.asarray(self.scale, dtype=np.float32).reshape(-1)
        if shift.shape != scale.shape:
            raise LabError(f"shift and scale must have the same length; got {shift.size} and {scale.size}")
        if not (np.isfinite(shift).all() and np.isfinite(scale).all()):
            raise LabError("shift and scale must be finite numbers")
        if (scale == 0).any():
            raise LabError(f"scale must not be 0; got 0 for feature {int(np.flatnonzero(scale == 0)[0])}")
        names = tuple(self.feature_names)
        if names and len(names) != shift.size:
            raise LabError(f"feature_names must name all {shift.size} features; got {len(names)} names")
        object.__setattr__(self, "shift", shift)
        object.__setattr__(self, "scale", scale)
        object.__setattr__(self, "feature_names", names)

    @property
    def features(self) -> int:
        return self.shift.size

    def _check(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        if x.ndim == 0 or x.shape[-1] != self.features:
            raise LabError(f"x must have {self.features} features on its last axis; got shape {x.shape}")
        return x

    def apply(self, x) -> np.ndarray:
        """Normalise (T, F) or (B, T, F); padded steps are transformed too (zeroing them is the caller's)."""
        return (self._check(x) - self.shift) / self.scale

    def invert(self, x) -> np.ndarray:
        """Back to the file's units: x * scale + shift."""
        return self._check(x) * self.scale + self.shift

    def to_dict(self) -> dict:
        """JSON-friendly form (plain lists), for exports and checkpoints."""
        return {"kind": self.kind, "shift": self.shift.tolist(), "scale": self.scale.tolist(),
                "feature_names": list(self.feature_names)}

    @classmethod
    def from_dict(cls, d) -> Normalisation:
        """Inverse of to_dict; a missing, unknown or malformed entry raises LabError."""
        if not isinstance(d, dict):
            raise LabError(f"a normalisation must be a dict; got {type(d).__name__}")
        keys = {"kind", "shift", "scale", "feature_names"}
        unknown = sorted(set(map(str, d)) - keys)
        if unknown:
            raise LabError(f"unknown normalisation key {unknown[0]!r}; "
                           "expected kind, shift, scale, feature_names")
        missing = [k for k in ("kind", "shift", "scale") if k not in d]
        if missing:
            raise LabError(f"normalisation is missing {missing[0]!r}")
        if not isinstance(d["kind"], str):
            raise LabError(f"normalisation kind must be a string; got {d['kind']!r}")
        vectors = {k: _numbers(d[k], k) for k in ("shift", "scale")}
        names = d.get("feature_names", [])
        if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
            raise LabError("feature_names must be a list of strings")
        return cls(d["kind"], vectors["shift"], vectors["scale"], tuple(names))


def _numbers(v, key: str) -> np.ndarray:
    """A list of finite numbers (not booleans), as float32; anything else raises LabError."""
    if not isinstance(v, list | tuple) or not v:
        raise LabError(f"normalisation {key} must be a non-empty list of numbers; got {v!r:.60}")
    for i, item in enumerate(v):
        if type(item) not in (int, float) or not math.isfinite(item):
            raise LabError(f"normalisation {key}[{i}] must be a finite number; got {item!r:.60}")
    return np.asarray(v, dtype=np.float32)


def fit_normalisation(x, lengths=None, kind: str = "zscore", feature_names=()) -> Normalisation:
    """Fit shift and scale per feature on the real steps of (T, F) or padded (B, T, F); NaN is ignored."""
    choose("normalisation", kind, NORMALISATIONS)
    x = np.asarray(x)
    if x.ndim not in (2, 3) or x.shape[-1] == 0:
        raise LabError(f"x must have shape (T, F) or (B, T, F) with F >= 1; got {x.shape}")
    if x.ndim == 3 and lengths is not None:
        lengths = np.asarray(lengths)
        if lengths.shape != (x.shape[0],):
            raise LabError(f"lengths must have shape ({x.shape[0]},); got {lengths.shape}")
        real = x[np.arange(x.shape[1]) < lengths[:, None]]  # (N, F), padding left out
    else:
        real = x.reshape(-1, x.shape[-1])
    real = real.astype(np.float64)  # sums of many float32 lose digits
    F = real.shape[1]
    if kind == "none":
        return Normalisation(kind, np.zeros(F), np.ones(F), feature_names)
    empty = np.isnan(real).all(axis=0)
    if empty.any():
        raise LabError(f"feature {int(np.flatnonzero(empty)[0])} has no values to fit a normalisation on")
    if kind == "zscore":
        shift, scale = np.nanmean(real, axis=0), np.nanstd(real, axis=0)
    else:  # minmax
        shift = np.nanmin(real, axis=0)
        scale = np.nanmax(real, axis=0) - shift
    # A constant feature (or one whose spread float32 cannot hold) is only shifted.
    scale32 = scale.astype(np.float32)
    scale = np.where((scale32 > 0) & np.isfinite(scale32), scale, 1.0)
    return Normalisation(kind, shift, scale, feature_names)
