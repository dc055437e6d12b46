"""Factories: build a :class:`~cellector.roi_processor.processor.RoiProcessor` from data on disk or in memory.

They sit above what they build (the processor, the readers); the published names are
importable from :mod:`cellector.io` too (``from cellector.io import create_from_suite2p``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cellector.features.rois import RoiSet
from cellector.io.suite2p import Session, load_suite2p
from cellector.io.suite3d import load_suite3d
from cellector.roi_processor.processor import RoiProcessor

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


def _clear_first(root_dir: Any, clear_existing: bool) -> None:
    if clear_existing and root_dir is not None:
        from cellector.io.published import clear_cellector_files

        clear_cellector_files(root_dir)


def create_from_suite2p(
    suite2p_dir: str | Path | Session,
    use_redcell: bool = True,
    reference_key: str = "meanImg_chan2",
    functional_key: str | None = "meanImg",
    extra_features: dict[str, np.ndarray] | None = None,
    autocompute: bool = True,
    clear_existing: bool = False,
    save_features: bool = True,
    iscell_only: bool = False,
    functional_required: bool = False,
    **kwargs: Any,
) -> RoiProcessor:
    """Read a suite2p folder and return its RoiProcessor (features cached in ``<root>/cellector``).

    The signature is the published cellector's, with more keywords after it.

    Parameters
    ----------
    suite2p_dir : str, Path or Session
        The suite2p folder (or a :class:`Session` already read with :func:`load_suite2p`,
        whose own keys and coverage then apply).
    use_redcell : bool
        Add ``red_s2p`` (``redcell.npy`` column 1) when every plane has it.
    reference_key, functional_key : str
        Image keys of the reference and the functional reference.
    extra_features : dict of str to (N,) array, optional
        Features computed elsewhere, added as they are.
    autocompute : bool
        Compute (or load cached) features now.
    clear_existing : bool
        Delete the saved cellector files first (they are kept in ``cellector/.previous``).
    save_features : bool
        Cache computed features in ``<root>/cellector``.
    iscell_only : bool
        Process only suite2p cells (``iscell[:, 0] == 1``).
    functional_required : bool
        ``functional_key`` was named by the user: refuse a key that is not a usable
        image rather than drop ``functional_dot_product`` with a note.
    **kwargs
        More :class:`RoiProcessor` options (``use_saved``, processing parameters, ...).

    Returns
    -------
    RoiProcessor
        With :attr:`RoiProcessor.session` set to the folder's :class:`Session`.
    """
    session = (
        suite2p_dir
        if isinstance(suite2p_dir, Session)
        else load_suite2p(
            suite2p_dir, reference_key, functional_key, iscell_only, functional_required=functional_required
        )
    )
    _clear_first(session.root, clear_existing)
    extra = {} if (session.red_s2p is None or not use_redcell) else {"red_s2p": session.red_s2p}
    extra.update(extra_features or {})
    rp = RoiProcessor.from_roiset(
        session.root,
        session.rois,
        session.reference,
        session.functional_reference,
        extra_features=extra,
        autocompute=False,
        save_features=save_features,
        session_info=session_info(session),
        **kwargs,
    )
    rp.session = session
    if autocompute:
        rp.compute_features()
    return rp


def create_from_suite3d(
    suite3d_dir: str | Path,
    reference_key: str = "ref_img_3d_structural",
    functional_key: str | None = "ref_img_3d",
    extra_features: dict[str, np.ndarray] | None = None,
    autocompute: bool = True,
    clear_existing: bool = False,
    save_features: bool = True,
    **kwargs: Any,
) -> RoiProcessor:
    """Read a suite3d results folder as volumetric ROIs (features cached in ``<dir>/cellector``).

    ``reference_key`` and ``functional_key`` name ``.npy`` volumes in the folder (with or
    without the extension); the other arguments are as for :func:`create_from_suite2p`.
    """
    rois, ref, fref = load_suite3d(suite3d_dir, reference_key, functional_key)
    _clear_first(suite3d_dir, clear_existing)
    return RoiProcessor.from_roiset(
        Path(suite3d_dir),
        rois,
        ref,
        fref,
        extra_features=extra_features,
        autocompute=autocompute,
        save_features=save_features,
        session_info={"source": "suite3d"},
        **kwargs,
    )


def create_from_pixel_data(
    root_dir: Any,
    stats: Sequence[dict],
    reference: np.ndarray,
    plane_idx: Sequence[int] | None = None,
    functional_reference: np.ndarray | None = None,
    extra_features: dict[str, np.ndarray] | None = None,
    autocompute: bool = True,
    clear_existing: bool = False,
    save_features: bool = True,
    **kwargs: Any,
) -> RoiProcessor:
    """Build from suite2p-like dicts (``ypix``, ``xpix``, ``lam``) and a reference.

    ``plane_idx`` gives each ROI's plane in a ``(lz, ly, lx)`` reference (default: plane
    0); the other arguments are as for :func:`create_from_suite2p`.
    """
    try:
        ypix = [s["ypix"] for s in stats]
        xpix = [s["xpix"] for s in stats]
        lam = [s["lam"] for s in stats]
    except (KeyError, TypeError, IndexError) as exc:
        raise ValueError(f"stats: each ROI must be a dict with 'ypix', 'xpix' and 'lam' ({exc!r})") from None
    _clear_first(root_dir, clear_existing)
    return RoiProcessor(
        root_dir,
        plane_idx,
        ypix,
        xpix,
        lam,
        reference,
        functional_reference,
        extra_features=extra_features,
        autocompute=autocompute,
        save_features=save_features,
        **kwargs,
    )


def _sparse_rows(mask_volume: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Non-zero entries of masks ``(N, ...)``: flat pixel index, weight, CSR offsets."""
    import scipy.sparse  # here: most sessions never need it, and its import costs every process

    if scipy.sparse.issparse(mask_volume):
        csr = scipy.sparse.csr_matrix(mask_volume)
        csr.eliminate_zeros()
        csr.sort_indices()
        return csr.indices, csr.data, csr.indptr
    vol = np.asarray(mask_volume)
    if vol.ndim not in (3, 4):
        raise ValueError(f"mask_volume must be (N, ly, lx) or (N, lz, ly, lx), got shape {vol.shape}")
    flat_masks = vol.reshape(vol.shape[0], -1)
    rows, flat = np.nonzero(flat_masks)
    ptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=vol.shape[0]))])
    return flat, flat_masks[rows, flat], ptr


def create_from_mask_volume(
    root_dir: Any,
    mask_volume: Any,
    reference: np.ndarray,
    plane_idx: Sequence[int] | None = None,
    functional_reference: np.ndarray | None = None,
    extra_features: dict[str, np.ndarray] | None = None,
    autocompute: bool = True,
    clear_existing: bool = False,
    save_features: bool = True,
    **kwargs: Any,
) -> RoiProcessor:
    """Build from masks ``(N, ly, lx)`` (2-D) or ``(N, lz, ly, lx)`` (volumetric).

    2-D masks lie on plane ``plane_idx[i]`` of a ``(lz, ly, lx)`` reference (default:
    plane 0). The masks are read through their non-zero entries (a scipy sparse matrix
    ``(N, pixels)`` is accepted too, with the frame shape taken from ``reference``): no
    dense float64 copy is made. The other arguments are as for :func:`create_from_suite2p`.
    """
    import scipy.sparse

    ref = np.asarray(reference)
    frame = ref.shape if ref.ndim == 3 else (1, *ref.shape)
    sparse = scipy.sparse.issparse(mask_volume)
    volumetric = (not sparse and np.ndim(mask_volume) == 4) or (sparse and frame[0] > 1 and plane_idx is None)
    size = int(np.prod(frame)) if volumetric else frame[1] * frame[2]
    flat, lam, ptr = _sparse_rows(mask_volume)
    n = len(ptr) - 1
    if int(np.max(flat, initial=-1)) >= size:
        raise ValueError(f"mask_volume does not fit the reference's frame {frame}")
    if volumetric:
        z, y, x = np.unravel_index(flat, frame)
    else:
        y, x = np.unravel_index(flat, frame[1:])
        planes = np.zeros(n, np.int64) if plane_idx is None else np.asarray(plane_idx, np.int64).ravel()
        if planes.size != n:
            raise ValueError(f"plane_idx has {planes.size} entries for {n} masks")
        z = np.repeat(planes, np.diff(ptr))
    rois = RoiSet(
        y.astype(np.int32),
        x.astype(np.int32),
        np.asarray(z).astype(np.int32),
        np.asarray(lam, np.float32),
        np.asarray(ptr, np.int64),
        (int(frame[0]), int(frame[1]), int(frame[2])),
        bool(volumetric),
    )
    _clear_first(root_dir, clear_existing)
    return RoiProcessor.from_roiset(
        root_dir,
        rois,
        ref,
        functional_reference,
        extra_features=extra_features,
        autocompute=autocompute,
        save_features=save_features,
        **kwargs,
    )
