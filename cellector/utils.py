"""The documented utility functions.

Array conventions: per-ROI data (``lam``, ``ypix``, ``xpix``, ``zpix``) are lists of
1-D arrays, one per ROI; stacks of centred patches are ``(N, S, S)`` (2-D) or
``(N, lz, S, S)`` (volumetric), S = 2 * width + 1. These functions share their
kernels with the feature pipeline in :mod:`cellector.features.compute`, so the numbers
are the same.
"""

from __future__ import annotations

import functools
import itertools
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from cellector.features import kernels as _f
from cellector.features.filters import window as _window
from cellector.features.rois import RoiSet

__all__ = [
    "broadcastable",
    "cat_planes",
    "center_surround",
    "compute_correlation",
    "cross_power_spectrum",
    "deprecated",
    "dot_product",
    "flatten_roi_data",
    "get_centered_masks",
    "get_centered_reference",
    "get_mask_volume",
    "get_roi_centroid",
    "get_roi_centroids",
    "in_vs_out",
    "phase_correlation",
    "phase_correlation_zero",
    "split_planes",
    "surround_filter",
    "transpose",
]


def broadcastable(*arrays: Any) -> bool:
    """Whether arrays (or shapes given as tuples) broadcast together under numpy rules.

    Examples
    --------
    >>> broadcastable(np.zeros((3, 1)), np.zeros(4))
    True
    >>> broadcastable((3,), (4,))
    False
    """
    shapes = [a if isinstance(a, tuple) else np.shape(a) for a in arrays]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        return False
    return True


def deprecated(reason: str) -> Callable[[Callable], Callable]:
    """Make calling the decorated function emit a ``DeprecationWarning`` with ``reason``."""

    def wrap(func: Callable) -> Callable:
        @functools.wraps(func)
        def inner(*args: Any, **kwargs: Any) -> Any:
            warnings.warn(f"{func.__name__} is deprecated: {reason}", DeprecationWarning, stacklevel=2)
            return func(*args, **kwargs)

        return inner

    return wrap


def transpose(nested: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """Transpose a list of equal-length lists.

    Examples
    --------
    >>> transpose([[1, 2], [3, 4]])
    [[1, 3], [2, 4]]
    """
    lengths = {len(row) for row in nested}
    if len(lengths) > 1:
        raise ValueError(f"all rows must have the same length, got lengths {sorted(lengths)}")
    return [list(col) for col in zip(*nested, strict=False)]


def cat_planes(per_plane: Sequence[Any]) -> np.ndarray | list:
    """Concatenate per-plane data in plane order.

    Arrays are concatenated along axis 0; lists (e.g. of per-ROI arrays) are joined.

    Examples
    --------
    >>> cat_planes([np.array([1, 2]), np.array([3])])
    array([1, 2, 3])
    """
    if all(isinstance(p, list) for p in per_plane):
        return [item for p in per_plane for item in p]
    return np.concatenate([np.asarray(p) for p in per_plane], axis=0)


def split_planes(values: Sequence[Any], counts: Sequence[int]) -> list:
    """Inverse of :func:`cat_planes`: split ``values`` into chunks of ``counts`` ROIs.

    Examples
    --------
    >>> split_planes([1, 2, 3], [2, 1])
    [[1, 2], [3]]
    """
    if sum(counts) != len(values):
        raise ValueError(f"counts sum to {sum(counts)} but there are {len(values)} values")
    edges = np.cumsum([0, *counts])
    return [values[a:b] for a, b in itertools.pairwise(edges)]


def flatten_roi_data(
    lam: Sequence[np.ndarray],
    ypix: Sequence[np.ndarray],
    xpix: Sequence[np.ndarray],
    zpix: Sequence[np.ndarray] | None = None,
) -> tuple[np.ndarray, ...]:
    """Concatenate per-ROI arrays into flat ones.

    Returns
    -------
    lam, ypix, xpix[, zpix], roi_idx : ndarray
        Flat pixel data and the ROI index of each pixel.
    """
    counts = [np.size(v) for v in ypix]
    roi_idx = np.repeat(np.arange(len(counts)), counts)
    flat = [
        np.concatenate([np.ravel(v) for v in seq]) if len(seq) else np.zeros(0)
        for seq in (lam, ypix, xpix) + (() if zpix is None else (zpix,))
    ]
    return (*flat, roi_idx)


def _as_roiset(lam, ypix, xpix, zpix, shape=None) -> RoiSet:
    volumetric = zpix is not None and np.ndim(zpix[0]) > 0 if len(ypix) else False
    if shape is None:
        hi = lambda seq: int(max((np.max(v) for v in seq if np.size(v)), default=0)) + 1  # noqa: E731
        shape = (hi(zpix) if volumetric else 1, hi(ypix), hi(xpix))
    planes = None if (zpix is None or volumetric) else [0] * len(ypix)
    return RoiSet.from_lists(ypix, xpix, lam, zpix if volumetric else planes, shape, volumetric)


def get_roi_centroid(
    lam: np.ndarray,
    ypix: np.ndarray,
    xpix: np.ndarray,
    zpix: np.ndarray | None = None,
    method: str = "median",
    asint: bool = True,
) -> tuple:
    """Centroid of one ROI: ``(yc, xc)`` or ``(zc, yc, xc)`` when ``zpix`` is given.

    ``"median"``: ``int(median(y))``; ``"weightedmean"``: ``sum(lam * y) / sum(lam)``,
    truncated by ``int()`` when ``asint``.
    """
    coords = [np.asarray(c) for c in ((zpix,) if zpix is not None else ()) + (ypix, xpix)]
    if method == "median":
        vals = [np.median(c) for c in coords]
    elif method == "weightedmean":
        lam = np.asarray(lam)
        vals = [np.sum(lam * c) / np.sum(lam) for c in coords]
    else:
        raise ValueError(f"unknown method {method!r}; use 'median' or 'weightedmean'")
    return tuple(int(v) for v in vals) if asint else tuple(float(v) for v in vals)


def get_roi_centroids(
    lam: Sequence[np.ndarray],
    ypix: Sequence[np.ndarray],
    xpix: Sequence[np.ndarray],
    zpix: Sequence[np.ndarray] | None = None,
    method: str = "median",
    asint: bool = True,
) -> tuple[np.ndarray, ...]:
    """Centroids of all ROIs: arrays ``(yc, xc)`` or ``(zc, yc, xc)``."""
    zs: Sequence[np.ndarray | None] = [None] * len(ypix) if zpix is None else zpix
    out = [
        get_roi_centroid(w, y, x, z, method=method, asint=asint) for w, y, x, z in zip(lam, ypix, xpix, zs, strict=True)
    ]
    ncol = 2 if zpix is None else 3
    arr = np.array(out, dtype=np.int64 if asint else np.float64).reshape(-1, ncol)
    return tuple(arr.T)


def get_mask_volume(
    lam: Sequence[np.ndarray],
    ypix: Sequence[np.ndarray],
    xpix: Sequence[np.ndarray],
    shape: tuple[int, ...],
    zpix: Sequence[np.ndarray] | None = None,
) -> np.ndarray:
    """Dense float32 masks ``(N, *shape)`` with ``lam`` at each ROI's pixels.

    Memory is N x prod(shape) x 4 bytes; the feature pipeline never builds this.
    """
    vol = np.zeros((len(ypix), *shape), np.float32)
    for i, (weights, y, x) in enumerate(zip(lam, ypix, xpix, strict=False)):
        idx = (i, y, x) if zpix is None else (i, zpix[i], y, x)
        vol[idx] = weights
    return vol


def _cent3(centroids: np.ndarray) -> np.ndarray:
    c = np.asarray(centroids, dtype=np.int64)
    if c.ndim != 2 or c.shape[1] not in (2, 3):
        raise ValueError("centroids must be (N, 2) as (yc, xc) or (N, 3) as (zc, yc, xc)")
    return c if c.shape[1] == 3 else np.column_stack([np.zeros(len(c), np.int64), c])


def get_centered_masks(
    lam: Sequence[np.ndarray],
    ypix: Sequence[np.ndarray],
    xpix: Sequence[np.ndarray],
    centroids: np.ndarray,
    width: int = 40,
    fill_value: float = 0.0,
    zpix: Sequence[np.ndarray] | None = None,
    lz: int | None = None,
) -> np.ndarray:
    """Masks centred on their centroid: ``(N, S, S)`` float32 (``(N, lz, S, S)`` with zpix).

    Pixels landing outside the patch are dropped; a duplicate pixel is assigned.
    """
    vol = zpix is not None
    zs: Sequence[np.ndarray] = [np.zeros(np.size(v)) for v in ypix] if zpix is None else zpix
    depth = (lz if lz is not None else int(max(np.max(z) for z in zs)) + 1) if vol else 1
    y, x, z = (
        np.concatenate([np.ravel(v) for v in s]).astype(np.int32) if len(s) else np.zeros(0, np.int32)
        for s in (ypix, xpix, zs)
    )
    w8 = np.concatenate([np.ravel(v) for v in lam]).astype(np.float32) if len(lam) else np.zeros(0, np.float32)
    ptr = np.concatenate([[0], np.cumsum([np.size(v) for v in ypix])]).astype(np.int64)
    c = _cent3(centroids)
    m = _f._centered_masks(y, x, z, w8, ptr, c, 0, len(ypix), int(width), depth, float(fill_value))
    return m if vol else m[:, 0]


def get_centered_reference(
    reference: np.ndarray,
    centroids: np.ndarray,
    width: int = 40,
    fill_value: float = 0.0,
    volumetric: bool = False,
) -> np.ndarray:
    """Windows ``[yc-w, yc+w] x [xc-w, xc+w]`` of the reference, float32.

    ``reference`` is ``(ly, lx)`` or ``(lz, ly, lx)``; with 3 centroid columns
    ``(zc, yc, xc)`` the plane is ``zc``. Outside the image the value is
    ``fill_value``. ``volumetric=True`` keeps every plane: ``(N, lz, S, S)``.
    """
    ref = np.asarray(reference, dtype=np.float32)
    ref = ref[None] if ref.ndim == 2 else ref
    c = _cent3(centroids)
    depth = ref.shape[0] if volumetric else 1
    out = _f._centered_reference(ref, c, 0, len(c), int(width), depth, float(fill_value))
    return out if volumetric else out[:, 0]


def _as4(stack: np.ndarray) -> np.ndarray:
    s = np.asarray(stack)
    if s.ndim == 2:
        s = s[None]
    if s.ndim == 3:
        return s[:, None]
    if s.ndim == 4:
        return s
    raise ValueError(f"expected a (N, S, S) or (N, lz, S, S) stack, got shape {s.shape}")


def center_surround(masks: np.ndarray, iterations: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Return the footprint and the surround of each mask.

    The footprint is ``masks > 0``; the surround is the footprint dilated ``iterations``
    times by the 4-connected cross (6-connected for ``(N, lz, S, S)``; border value 0).

    The surround includes the footprint.
    """
    m = _as4(masks).astype(np.float32)
    center = np.empty(m.shape, bool)
    surround = np.empty(m.shape, bool)
    for i in range(m.shape[0]):
        center[i], surround[i] = _f._center_surround_one(m[i], int(iterations))
    shape = np.shape(masks)
    return center.reshape(shape), surround.reshape(shape)


def surround_filter(masks: np.ndarray, iterations: int = 2) -> np.ndarray:
    """Return the surround of each mask (see :func:`center_surround`), bool, same shape.

    Examples
    --------
    A single pixel grows into a diamond of city-block radius 2 (13 pixels):

    >>> m = np.zeros((1, 7, 7)); m[0, 3, 3] = 1
    >>> int(surround_filter(m).sum())
    13
    """
    return center_surround(masks, iterations)[1]


def cross_power_spectrum(a: np.ndarray, b: np.ndarray, eps: float = 1e6) -> np.ndarray:
    """Return the normalised cross-power spectrum of ``a`` and ``b``, complex128.

    ``R = FFT(a) conj(FFT(b)) / (eps + |FFT(a) conj(FFT(b))|)`` over the last two axes
    (three for 4-D stacks).
    """
    axes = (-3, -2, -1) if np.ndim(a) == 4 else (-2, -1)
    r = np.fft.fftn(np.asarray(a, np.float64), axes=axes) * np.conj(np.fft.fftn(np.asarray(b, np.float64), axes=axes))
    return r / (eps + np.abs(r))


def phase_correlation(a: np.ndarray, b: np.ndarray, eps: float = 1e6, window: str | None = "hanning") -> np.ndarray:
    """Full phase-correlation map (real, zero lag at ``[..., 0, 0]``) of windowed ``a`` and ``b``."""
    win = _window(window, np.shape(a)[-1])
    r = cross_power_spectrum(np.asarray(a) * win, np.asarray(b) * win, eps)
    axes = (-3, -2, -1) if np.ndim(a) == 4 else (-2, -1)
    return np.real(np.fft.ifftn(r, axes=axes))


def phase_correlation_zero(
    a: np.ndarray, b: np.ndarray, eps: float = 1e6, window: str | None = "hanning"
) -> np.ndarray:
    """Zero-lag phase correlation per item: ``real(mean(R))`` (see the feature ``phase_corr``).

    Examples
    --------
    Without regularisation a patch correlates perfectly with itself:

    >>> a = np.zeros((9, 9)); a[4, 4] = 2.0
    >>> round(float(phase_correlation_zero(a, a, eps=0)), 12)
    1.0
    """
    a4, b4 = _as4(a).astype(np.float64), _as4(b).astype(np.float64)
    win = _window(window, a4.shape[-1])
    out = _f.phase_corr_zero(a4, b4, win, float(eps))
    return out if np.ndim(a) > 2 else out[0]


def in_vs_out(masks: np.ndarray, reference: np.ndarray, iterations: int = 2) -> np.ndarray:
    """``sum(center * C) / (sum(center * C) + sum(surround * C))`` per ROI, float32 (0 when the total is 0).

    Examples
    --------
    One pixel on a constant reference: 1 inside, 13 in the surround (which includes
    the footprint), so 1 / (1 + 13):

    >>> m = np.zeros((1, 7, 7)); m[0, 3, 3] = 1
    >>> round(float(in_vs_out(m, np.ones((1, 7, 7)))[0]), 6)
    0.071429
    """
    m, c = _as4(masks).astype(np.float32), _as4(reference).astype(np.float32)
    return _f._surround_features(m, c, c, int(iterations), _f._dilated_boxes(m, int(iterations)))[0]


def compute_correlation(masks: np.ndarray, reference: np.ndarray, iterations: int = 2) -> np.ndarray:
    """Pearson correlation of mask and (filtered) reference over the surround, float64; NaN when either is constant."""
    m, c = _as4(masks).astype(np.float32), _as4(reference).astype(np.float32)
    return _f._surround_features(m, c, c, int(iterations), _f._dilated_boxes(m, int(iterations)))[1]


def dot_product(
    lam: Sequence[np.ndarray],
    ypix: Sequence[np.ndarray],
    xpix: Sequence[np.ndarray],
    plane: Sequence[int] | Sequence[np.ndarray],
    filtered_reference: np.ndarray,
) -> np.ndarray:
    """``sum_p FILT[z, y, x] * lam_p / ||lam||_2`` per ROI, float64; NaN for all-zero lam.

    ``plane`` is one plane index per ROI, or one z array per ROI (volumetric).

    Examples
    --------
    Weights 3 and 4 (norm 5) on pixels of value 1 and 2: (1*3 + 2*4) / 5 = 2.2.

    >>> dot_product([np.array([3.0, 4.0])], [np.array([0, 0])], [np.array([0, 1])], [0],
    ...             np.array([[1.0, 2.0]]))
    array([2.2])
    """
    filt = np.asarray(filtered_reference, np.float64)
    filt = filt[None] if filt.ndim == 2 else filt
    volumetric = len(plane) > 0 and np.ndim(plane[0]) > 0
    rois = RoiSet.from_lists(ypix, xpix, lam, plane, filt.shape, volumetric)
    return _f.dot_products(rois, filt)
