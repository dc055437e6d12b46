"""Describing a curation for review: planes, counts per plane, one ROI in words, what to visit.

Pure functions of arrays (no state, no I/O), beside :mod:`cellector.guidance.suggest`, which
chooses what to label; :class:`~cellector.manager.CellectorManager` offers each as a method.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["SHOW", "candidates", "describe_roi", "plane_names", "selected_per_plane"]

#: Which ROIs a review visits.
SHOW = ("all", "selected", "rejected")


def plane_names(planes: list[str] | None, roi_plane: np.ndarray) -> list[str]:
    """Return the plane folders in ROI order: a session's own, else ``plane0``, ``plane1``, ..."""
    if planes is not None:
        return list(planes)
    return [f"plane{z}" for z in range(int(roi_plane.max(initial=-1)) + 1)]


def selected_per_plane(selected: np.ndarray, roi_plane: np.ndarray, names: list[str]) -> list[tuple[str, int, int]]:
    """Return ``(plane, selected, ROIs)`` for every plane."""
    return [(name, int(selected[roi_plane == z].sum()), int(np.sum(roi_plane == z))) for z, name in enumerate(names)]


def describe_roi(idx: int, where: str, features: Mapping[str, np.ndarray], decision: str) -> str:
    """Return ``"ROI i (plane0 #k), decision: feature=value, ..."`` for status lines.

    The decision comes before the values: a status bar too narrow for the line (napari's,
    on a laptop) cuts the values, never what the ROI is.
    """
    values = ", ".join(f"{k}={v[idx]:.4g}" for k, v in features.items())
    return f"ROI {idx}{where}, {decision}: {values}"


def candidates(
    features: Mapping[str, np.ndarray],
    criteria: Mapping[str, tuple[float | None, float | None]],
    selected: np.ndarray,
    show: str = "all",
    near_cutoff: bool = False,
    fraction: float = 0.05,
) -> np.ndarray:
    """Return the ROIs a review loop visits: in index order, or near a cutoff the least certain first.

    Parameters
    ----------
    features, criteria
        Each feature's values and its (min, max) criterion.
    selected : bool (N,)
        The selection.
    show : {"all", "selected", "rejected"}
        Keep every ROI, or only the selected or the rejected ones.
    near_cutoff : bool
        Keep only ROIs whose value lies within ``fraction`` of the feature's range of an
        active cutoff (NaN is never near), ordered by that distance, nearest first (ties in
        index order): the ROIs whose decision a small change of cutoff would flip come first.
    fraction : float
        What "near" means, as a fraction of each feature's finite range.
    """
    if show not in SHOW:
        raise ValueError(f"show must be 'all', 'selected' or 'rejected', got {show!r}")
    keep = np.ones(selected.shape, bool)
    if show != "all":
        keep &= selected if show == "selected" else ~selected
    if not near_cutoff:
        return np.flatnonzero(keep)
    distance = np.full(selected.shape, np.inf)  # to the nearest active cutoff, in units of that feature's range
    for name, (lo, hi) in criteria.items():
        v = features[name]
        finite = v[np.isfinite(v)]
        span = float(np.ptp(finite)) if finite.size else 0.0
        with np.errstate(invalid="ignore", divide="ignore"):
            for bound in (b for b in (lo, hi) if b is not None):
                d = np.abs(v - bound) / span if span > 0 else np.where(v == bound, 0.0, np.inf)
                distance = np.fmin(distance, np.where(d <= fraction, d, np.inf))
    found = np.flatnonzero(keep & np.isfinite(distance))
    return found[np.argsort(distance[found], kind="stable")]
