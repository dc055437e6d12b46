"""Volumetric input: a suite3d results folder (``stats.npy`` + reference volumes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cellector.features.rois import RoiSet
from cellector.io.safe_load import safe_load_npy
from cellector.io.suite2p import Suite2pError

__all__ = ["load_suite3d"]


def _volume(folder: Path, name: str) -> np.ndarray:
    path = folder / name
    if not path.is_file():
        raise Suite2pError(f"{folder}: reference volume {name} is missing")
    vol = np.asarray(safe_load_npy(path))
    if vol.ndim != 3:
        raise Suite2pError(f"{name} must be a (nz, ny, nx) volume, got shape {vol.shape}")
    return vol.astype(np.float32)


def _npy_name(key: str) -> str:
    return key if key.endswith(".npy") else f"{key}.npy"


def load_suite3d(
    path: str | Path,
    reference: str = "ref_img_3d_structural.npy",
    functional_reference: str | None = "ref_img_3d.npy",
) -> tuple[RoiSet, np.ndarray, np.ndarray | None]:
    """Read suite3d ROIs (``coords`` = (z, y, x), ``lam``) and reference volumes.

    Returns
    -------
    rois : RoiSet
        Volumetric ROIs.
    reference, functional_reference : ndarray
        ``(nz, ny, nx)`` float32 volumes (the functional one None when absent).
    """
    folder = Path(path)
    reference = _npy_name(reference)
    functional_reference = None if functional_reference is None else _npy_name(functional_reference)
    stats_path = folder / "stats.npy"
    if not stats_path.is_file():
        raise Suite2pError(f"{folder} is not a suite3d results folder (no stats.npy)")
    try:
        stats = safe_load_npy(stats_path)
    except ValueError as exc:
        raise Suite2pError(str(exc)) from None
    ref = _volume(folder, reference)
    fref = None
    if functional_reference is not None and (folder / functional_reference).is_file():
        fref = _volume(folder, functional_reference)
    zs, ys, xs, ls = [], [], [], []
    for i, roi in enumerate(np.asarray(stats, dtype=object).ravel()):
        if not isinstance(roi, dict) or "coords" not in roi or "lam" not in roi:
            raise Suite2pError(f"stats.npy: ROI {i} has no coords/lam")
        z, y, x = (np.asarray(c) for c in roi["coords"])
        zs.append(z)
        ys.append(y)
        xs.append(x)
        ls.append(np.asarray(roi["lam"]))
    try:
        rois = RoiSet.from_lists(ys, xs, ls, zs, ref.shape, volumetric=True)
    except ValueError as exc:
        raise Suite2pError(f"stats.npy: {exc}") from None
    return rois, ref, fref
