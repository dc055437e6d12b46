"""Entry points that build a :class:`~cellector.roi_processor.RoiProcessor` from data on disk or in memory."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse

from ..roi_processor import RoiProcessor
from ..rois import RoiSet
from .suite2p import Session, load_suite2p
from .suite3d import load_suite3d

__all__ = [
    "create_from_mask_volume",
    "create_from_pixel_data",
    "create_from_suite2p",
    "create_from_suite3d",
    "session_info",
]


def session_info(session: Session) -> dict:
    """Metadata describing where the ROIs came from (stored in ``cellector.json``)."""
    fps = {}
    for z, plane in enumerate(session.planes):
        fps[plane] = {
            "count": session.plane_counts[z],
            "processed": int(np.sum(session.roi_plane == z)),
            "hash": session.rois.fingerprint(np.flatnonzero(session.roi_plane == z)),
        }
    return {
        "source": "suite2p",
        "planes": session.planes,
        "plane_counts": session.plane_counts,
        "plane_fingerprints": fps,
        "reference_key": session.reference_key,
        "functional_key": session.functional_key,
        "covered": session.covered,
        "suite2p_index": session.suite2p_index.tolist(),
    }


def create_from_suite2p(
    suite2p_dir: str | Path | Session,
    reference_key: str = "meanImg_chan2",
    functional_key: str | None = "meanImg",
    iscell_only: bool = False,
    **kwargs: Any,
) -> RoiProcessor:
    """Read a suite2p folder and return its RoiProcessor (features cached in ``<root>/cellector``).

    ``red_s2p`` (``redcell.npy`` column 1) is added when every plane has it. Other
    keyword arguments go to :class:`RoiProcessor` (``autocompute``, ``use_saved``,
    processing parameters, ...). ``suite2p_dir`` may be a :class:`Session` already read
    with :func:`load_suite2p` (its own keys and coverage then apply).
    """
    session = (
        suite2p_dir
        if isinstance(suite2p_dir, Session)
        else load_suite2p(suite2p_dir, reference_key, functional_key, iscell_only)
    )
    extra = {} if session.red_s2p is None else {"red_s2p": session.red_s2p}
    extra.update(kwargs.pop("extra_features", None) or {})
    rp = RoiProcessor.from_roiset(
        session.root,
        session.rois,
        session.reference,
        session.functional_reference,
        extra_features=extra,
        session_info=session_info(session),
        **kwargs,
    )
    rp.session = session
    return rp


def create_from_suite3d(suite3d_dir: str | Path, **kwargs: Any) -> RoiProcessor:
    """Read a suite3d results folder as volumetric ROIs (features cached in ``<dir>/cellector``)."""
    rois, ref, fref = load_suite3d(suite3d_dir)
    return RoiProcessor.from_roiset(Path(suite3d_dir), rois, ref, fref, session_info={"source": "suite3d"}, **kwargs)


def create_from_pixel_data(
    root_dir: Any,
    stats: Sequence[dict],
    reference: np.ndarray,
    functional_reference: np.ndarray | None = None,
    plane_idx: Sequence[int] | None = None,
    **kwargs: Any,
) -> RoiProcessor:
    """Build from suite2p-like dicts (``ypix``, ``xpix``, ``lam``) and a reference.

    ``plane_idx`` gives each ROI's plane for multi-plane 2-D data (default plane 0).
    """
    ypix = [s["ypix"] for s in stats]
    xpix = [s["xpix"] for s in stats]
    lam = [s["lam"] for s in stats]
    return RoiProcessor(root_dir, plane_idx, ypix, xpix, lam, reference, functional_reference, **kwargs)


def create_from_mask_volume(
    root_dir: Any,
    mask_volume: Any,
    reference: np.ndarray,
    functional_reference: np.ndarray | None = None,
    **kwargs: Any,
) -> RoiProcessor:
    """Build from masks ``(N, ly, lx)`` (2-D on plane 0) or ``(N, lz, ly, lx)`` (volumetric).

    The masks are read ROI by ROI through their non-zero entries (a scipy sparse
    matrix ``(N, pixels)`` is accepted too, with the frame shape taken from
    ``reference``): no dense float64 copy is made.
    """
    ref = np.asarray(reference)
    frame = ref.shape if ref.ndim == 3 else (1, *ref.shape)
    if scipy.sparse.issparse(mask_volume):
        csr = scipy.sparse.csr_matrix(mask_volume)
        csr.eliminate_zeros()
        flat, lam, ptr = csr.indices, csr.data, csr.indptr
    else:
        vol = np.asarray(mask_volume)
        if vol.ndim not in (3, 4):
            raise ValueError(f"mask_volume must be (N, ly, lx) or (N, lz, ly, lx), got shape {vol.shape}")
        flat_masks = vol.reshape(vol.shape[0], -1)
        rows, flat = np.nonzero(flat_masks)
        lam = flat_masks[rows, flat]
        ptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=vol.shape[0]))])
    volumetric = (not scipy.sparse.issparse(mask_volume) and np.ndim(mask_volume) == 4) or (
        scipy.sparse.issparse(mask_volume) and frame[0] > 1
    )
    size = frame[1] * frame[2] if not volumetric else int(np.prod(frame))
    if int(np.max(flat, initial=-1)) >= size:
        raise ValueError("mask_volume does not fit the reference's frame")
    z, y, x = np.unravel_index(flat, frame if volumetric else (1, frame[1], frame[2]))
    rois = RoiSet(
        y.astype(np.int32),
        x.astype(np.int32),
        z.astype(np.int32),
        np.asarray(lam, np.float32),
        np.asarray(ptr, np.int64),
        (int(frame[0]), int(frame[1]), int(frame[2])),
        volumetric,
    )
    return RoiProcessor.from_roiset(root_dir, rois, ref, functional_reference, **kwargs)
