"""Guidance's common ground: which features it uses, their common scale per session, labels carried between sessions.

Every red feature is put on a common scale per session (:func:`scale`), so that a model
fitted on one session's scaled features, or labels carried over from another session
(:class:`CarriedLabels`, made with :func:`carry`), mean the same whatever each session's
brightness.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from cellector.features.registry import FUNCTIONAL_FEATURES

__all__ = ["FUNCTIONAL", "CarriedLabels", "carry", "guiding_features", "median_spread", "scale"]

#: Features computed on the functional (green) image, left out of guidance by default.
FUNCTIONAL = FUNCTIONAL_FEATURES


def median_spread(v: np.ndarray) -> tuple[float, float]:
    """Median and spread (interquartile range / 1.349, or the std, or 1) of the finite values."""
    finite = v[np.isfinite(v)]
    if finite.size == 0:
        return 0.0, 1.0
    q1, med, q3 = np.percentile(finite, [25, 50, 75])
    spread = (q3 - q1) / 1.349 or float(np.std(finite)) or 1.0
    return float(med), float(spread)


def scale(name: str, values: np.ndarray) -> np.ndarray:
    """Put one feature on the session's common scale (NaN stays NaN).

    A monotone transform that makes the classes' spreads comparable (``asinh`` of the
    robustly standardised value for brightness-like features, ``atanh`` for
    ``corr_coef``, the logit for ``red_s2p``, whose merged ROIs carry -1 and become NaN),
    then the median and the interquartile spread of the session set 0 and 1.
    """
    v = np.asarray(values, np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        if name == "red_s2p":
            p = np.clip(np.where(v < 0, np.nan, v), 1e-3, 1 - 1e-3)
            z = np.log(p / (1 - p))
        elif name == "corr_coef":
            z = np.arctanh(np.clip(v, -0.999, 0.999))
        elif name == "in_vs_out":
            z = v
        else:
            med, spread = median_spread(v)
            z = np.arcsinh((v - med) / spread)
    med, spread = median_spread(z)
    return (z - med) / spread


def guiding_features(
    features: Mapping[str, np.ndarray], exclude: Iterable[str] = (), functional: bool = False
) -> dict[str, np.ndarray]:
    """Return the features guidance uses: not ``exclude``, and not :data:`FUNCTIONAL` unless ``functional``."""
    leave = set(exclude) | (set() if functional else set(FUNCTIONAL))
    return {k: np.asarray(v, np.float64) for k, v in features.items() if k not in leave}


@dataclass(frozen=True)
class CarriedLabels:
    """Labels of earlier sessions, on their own sessions' scale, to seed another session's fit.

    Attributes
    ----------
    z : dict of str to (M,) array
        Each feature's scaled values of the labelled ROIs (NaN where a session lacked it).
    labels : ndarray of bool, (M,)
        True = red.
    sessions : int
        How many sessions they come from.
    """

    z: dict[str, np.ndarray]
    labels: np.ndarray
    sessions: int = 1

    def __len__(self) -> int:
        return int(self.labels.size)

    def merge(self, other: CarriedLabels) -> CarriedLabels:
        """Return these labels and ``other``'s together."""
        names = set(self.z) | set(other.z)
        nan_a, nan_b = np.full(len(self), np.nan), np.full(len(other), np.nan)
        z = {k: np.concatenate([self.z.get(k, nan_a), other.z.get(k, nan_b)]) for k in names}
        return CarriedLabels(z, np.concatenate([self.labels, other.labels]), self.sessions + other.sessions)

    def scaled(self, names: list[str]) -> np.ndarray:
        """Return the scaled features ``(M, F)`` in the order ``names`` (a missing value counts as the median)."""
        z = np.column_stack([self.z.get(k, np.full(len(self), np.nan)) for k in names])
        return np.where(np.isfinite(z), z, 0.0)


def carry(
    features: Mapping[str, np.ndarray],
    label: np.ndarray,
    active: np.ndarray,
    exclude: Iterable[str] = (),
    functional: bool = False,
) -> CarriedLabels:
    """Return a session's active labels with their features on the session's own scale, to carry over."""
    idx = np.flatnonzero(active)
    use = guiding_features(features, exclude, functional)
    return CarriedLabels({k: scale(k, v)[idx] for k, v in use.items()}, np.asarray(label, bool)[idx].copy())
