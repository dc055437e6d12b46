"""Flat ROI arrays: one array per field plus CSR-style offsets.

Hot code never touches lists of per-ROI arrays: the published API takes lists
(``lam``, ``ypix``, ``xpix``), so they are converted once, here, at the edge.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cellector._shared.jit import njit

__all__ = ["PerRoi", "RoiSet"]


class PerRoi(Sequence):
    """A read-only list-like view of one flat field, one array per ROI (no copies).

    ``view[i]`` is ``flat[ptr[i]:ptr[i + 1]]``: the published API's per-ROI lists
    (``ypix``, ``lam``, ...) at no memory cost, even for 100 000 ROIs.
    """

    def __init__(self, flat: np.ndarray, ptr: np.ndarray) -> None:
        self._flat = flat.view()
        self._flat.flags.writeable = False
        self._ptr = ptr

    def __len__(self) -> int:
        return int(self._ptr.size - 1)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self)
        j = int(i) + n if int(i) < 0 else int(i)
        if not 0 <= j < n:
            raise IndexError(f"ROI {i} does not exist (0..{n - 1})")
        return self._flat[self._ptr[j] : self._ptr[j + 1]]

    def __repr__(self) -> str:
        return f"PerRoi({len(self)} ROIs, {self._flat.dtype})"


@dataclass(frozen=True, eq=False)
class RoiSet:
    """N ROIs stored as flat pixel arrays with offsets.

    Attributes
    ----------
    ypix, xpix, zpix : ndarray of int32, shape (P,)
        Pixel coordinates of all ROIs, concatenated; ``zpix`` is the plane.
    lam : ndarray of float32, shape (P,)
        Pixel weights (suite2p's ``lam``).
    ptr : ndarray of int64, shape (N + 1,)
        ROI ``i`` owns pixels ``ptr[i]:ptr[i + 1]``.
    shape : (int, int, int)
        ``(lz, ly, lx)`` of the reference stack the coordinates index.
    volumetric : bool
        True when an ROI spans planes (suite3d); False for 2-D ROIs on one plane.
    """

    ypix: np.ndarray
    xpix: np.ndarray
    zpix: np.ndarray
    lam: np.ndarray
    ptr: np.ndarray
    shape: tuple[int, int, int]
    volumetric: bool = False

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def n_rois(self) -> int:
        """Number of ROIs."""
        return int(self.ptr.size - 1)

    def __len__(self) -> int:
        return self.n_rois

    @property
    def npix(self) -> np.ndarray:
        """Pixels per ROI, int64 (N,)."""
        return np.diff(self.ptr)

    @property
    def plane(self) -> np.ndarray:
        """Plane of each ROI (2-D: its plane; volumetric: ``int(median(z))``)."""
        if self.volumetric:
            return _segment_median_int(self.zpix, self.ptr)
        return self.zpix[self.ptr[:-1]].astype(np.int64)

    @classmethod
    def from_lists(
        cls,
        ypix: Sequence[np.ndarray],
        xpix: Sequence[np.ndarray],
        lam: Sequence[np.ndarray],
        zpix: Sequence | None,
        shape: tuple[int, int, int],
        volumetric: bool = False,
    ) -> RoiSet:
        """Build from per-ROI lists (the published API's form).

        Parameters
        ----------
        ypix, xpix, lam : sequence of 1-D arrays, length N
            Per-ROI pixel rows, columns and weights.
        zpix : sequence or None
            2-D data: one plane index per ROI (None means plane 0).
            Volumetric data: one z array per ROI.
        shape : (lz, ly, lx)
            Shape of the reference stack.
        volumetric : bool
            Whether ``zpix`` holds per-pixel planes.
        """
        n = len(ypix)
        if len(xpix) != n or len(lam) != n or (zpix is not None and len(zpix) != n):
            raise ValueError(
                f"ypix, xpix, lam{'' if zpix is None else ', zpix'} must have one entry per ROI; "
                f"got {n}, {len(xpix)}, {len(lam)}" + ("" if zpix is None else f", {len(zpix)}")
            )
        counts = _sizes(ypix)
        for name, seq in (("xpix", xpix), ("lam", lam)):
            other = _sizes(seq)
            bad = np.flatnonzero(other != counts)
            if bad.size:
                i = int(bad[0])
                raise ValueError(f"ROI {i}: ypix has {counts[i]} pixels but {name} has {other[i]}")
        ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=ptr[1:])
        y = _concat(ypix, "ypix")
        x = _concat(xpix, "xpix")
        w = np.concatenate(_flat(lam), dtype=np.float32, casting="unsafe") if n else np.zeros(0, np.float32)
        if volumetric:
            if zpix is None:
                raise ValueError("volumetric ROIs need zpix (one z array per ROI)")
            z = _concat(zpix, "zpix")
            zc = _sizes(zpix)
            bad = np.flatnonzero(zc != counts)
            if bad.size:
                i = int(bad[0])
                raise ValueError(f"ROI {i}: ypix has {counts[i]} pixels but zpix has {zc[i]}")
        else:
            planes = np.zeros(n, np.int64) if zpix is None else np.asarray(zpix).astype(np.int64).ravel()
            if planes.size != n:
                raise ValueError("2-D ROIs need one plane index per ROI in zpix")
            z = np.repeat(planes, counts).astype(np.int32)
        return cls(y, x, z, w, ptr, tuple(int(s) for s in shape), volumetric)  # type: ignore[arg-type]

    def per_roi(self, field: str) -> PerRoi:
        """One array per ROI of ``field`` (``"ypix"``, ``"xpix"``, ``"zpix"`` or ``"lam"``), as views."""
        if field not in ("ypix", "xpix", "zpix", "lam"):
            raise ValueError(f"unknown ROI field {field!r}")
        return PerRoi(getattr(self, field), self.ptr)

    def roi(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(zpix, ypix, xpix, lam)`` of ROI ``i`` (views, not copies)."""
        sl = slice(self.ptr[i], self.ptr[i + 1])
        return self.zpix[sl], self.ypix[sl], self.xpix[sl], self.lam[sl]

    def subset(self, index: np.ndarray) -> RoiSet:
        """Return a new RoiSet with the ROIs ``index`` (int or bool array), in that order."""
        idx = np.arange(self.n_rois)[index]
        counts = self.npix[idx]
        ptr = np.zeros(idx.size + 1, np.int64)
        np.cumsum(counts, out=ptr[1:])
        take = _gather_index(self.ptr, idx, int(ptr[-1]))
        return RoiSet(
            self.ypix[take], self.xpix[take], self.zpix[take], self.lam[take], ptr, self.shape, self.volumetric
        )

    def _contiguous(self, index: np.ndarray) -> RoiSet | None:
        """Return the ROIs ``index`` as views when they are a run ``a, a+1, ..., b-1`` (a plane), else None."""
        idx = np.asarray(index)
        if idx.dtype == bool or idx.ndim != 1 or idx.size == 0 or not np.all(np.diff(idx) == 1):
            return None
        a, b = int(idx[0]), int(idx[-1]) + 1
        p0, p1 = int(self.ptr[a]), int(self.ptr[b])
        return RoiSet(
            self.ypix[p0:p1],
            self.xpix[p0:p1],
            self.zpix[p0:p1],
            self.lam[p0:p1],
            self.ptr[a : b + 1] - p0,
            self.shape,
            self.volumetric,
        )

    def centroids(self, method: str = "median") -> np.ndarray:
        """Integer centroids ``(N, 3)`` as ``(zc, yc, xc)`` for patch extraction.

        ``"median"``: ``int(median(y))`` (a .5 median truncates); ``zc`` is the ROI's
        plane (volumetric: ``int(median(z))``). ``"weightedmean"``: the lam-weighted
        mean, truncated with ``int()``.
        """
        if method == "median":
            yc = _segment_median_int(self.ypix, self.ptr)
            xc = _segment_median_int(self.xpix, self.ptr)
            return np.column_stack([self.plane, yc, xc])
        if method == "weightedmean":
            c = self.weighted_centroids()
            out = np.trunc(c).astype(np.int64)
            if not self.volumetric:
                out[:, 0] = self.plane
            return out
        raise ValueError(f"unknown centroid_method {method!r}; use 'median' or 'weightedmean'")

    def weighted_centroids(self) -> np.ndarray:
        """Float lam-weighted centroids ``(N, 3)`` as ``(z, y, x)``."""
        lam = self.lam.astype(np.float64)
        starts = self.ptr[:-1]
        total = np.add.reduceat(lam, starts) if self.n_rois else np.zeros(0)
        cols = [np.add.reduceat(lam * c, starts) / total for c in (self.zpix, self.ypix, self.xpix)]
        return np.column_stack(cols) if self.n_rois else np.zeros((0, 3))

    def fingerprint(self, index: np.ndarray | None = None) -> str:
        """sha1 over the count and the ypix/xpix (and zpix) of the ROIs ``index``."""
        sub = self if index is None else self._contiguous(index) or self.subset(index)
        return pixel_fingerprint(sub.npix, sub.ypix, sub.xpix, sub.zpix if sub.volumetric else None)


def pixel_fingerprint(npix: np.ndarray, ypix: np.ndarray, xpix: np.ndarray, zpix: np.ndarray | None = None) -> str:
    """sha1 over the ROI count, each ROI's pixel count and the flat ypix/xpix (and zpix).

    The identity of a set of ROIs that ``cellector.json`` records: the same ROIs in the
    same order give the same digest, whatever read them (:meth:`RoiSet.fingerprint`, or
    ``stat.npy`` read without its images).
    """
    h = hashlib.sha1()
    h.update(np.int64(len(npix)).tobytes())
    h.update(np.asarray(npix).astype(np.int64).tobytes())
    for arr in (ypix, xpix) + (() if zpix is None else (zpix,)):
        h.update(np.ascontiguousarray(arr, dtype=np.int32).data)
    return h.hexdigest()


def _sizes(seq: Sequence) -> np.ndarray:
    """Element count of each item (int64); 20 000 ROIs make this a hot loop, so ndarrays skip ``np.size``."""
    return np.array([v.size if type(v) is np.ndarray else np.size(v) for v in seq], dtype=np.int64)


def _flat(seq: Sequence) -> list[np.ndarray]:
    """Each item as a 1-D array (1-D ndarrays as they are: the common case, kept cheap)."""
    return [v if type(v) is np.ndarray and v.ndim == 1 else np.asarray(v).ravel() for v in seq]


def _concat(seq: Sequence, name: str) -> np.ndarray:
    """Concatenate per-ROI coordinates as int32, naming the first ROI that is not integral."""
    if len(seq) == 0:
        return np.zeros(0, np.int32)
    arrays = _flat(seq)
    # one check per distinct dtype, not per ROI: 20 000 ROIs share one or two dtypes
    for dtype in {a.dtype for a in arrays if a.size}:
        if not (np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating)):
            i = next(i for i, a in enumerate(arrays) if a.dtype == dtype and a.size)
            raise ValueError(f"ROI {i}: {name} must be numeric, got dtype {dtype}")
    cat = np.concatenate(arrays)
    if np.issubdtype(cat.dtype, np.floating):
        bad = np.flatnonzero(cat != np.round(cat))  # NaN too
        if bad.size:
            raise ValueError(f"ROI {_owner(arrays, bad[0])}: {name} holds non-integer coordinates")
    # A value beyond int32 would wrap into the frame and name another pixel: refuse it here.
    info = np.iinfo(np.int32)
    if cat.size and (cat.min() < info.min or cat.max() > info.max):
        bad = np.flatnonzero((cat < info.min) | (cat > info.max))
        raise ValueError(f"ROI {_owner(arrays, bad[0])}: {name} value {cat[bad[0]]} is outside any frame")
    return cat.astype(np.int32)


def _owner(arrays: list[np.ndarray], flat_index: int) -> int:
    """Return the ROI (position in ``arrays``) that owns element ``flat_index`` of their concatenation."""
    ends = np.cumsum([a.size for a in arrays])
    return int(np.searchsorted(ends, flat_index, side="right"))


def _validate(r: RoiSet) -> None:
    n = r.ptr.size - 1
    if len(r.shape) != 3 or min(r.shape) < 1:
        raise ValueError(f"reference shape must be (lz, ly, lx) with positive sizes, got {r.shape}")
    sizes = {a.size for a in (r.ypix, r.xpix, r.zpix, r.lam)}
    if len(sizes) != 1 or r.ptr[-1] != r.ypix.size:
        raise ValueError("ypix, xpix, zpix and lam must have the same total length as the offsets")
    counts = np.diff(r.ptr)
    if n and counts.min() <= 0:
        raise ValueError(f"ROI {int(np.flatnonzero(counts <= 0)[0])} is empty (no pixels)")
    lz, ly, lx = r.shape
    for name, arr, hi in (("zpix", r.zpix, lz), ("ypix", r.ypix, ly), ("xpix", r.xpix, lx)):
        bad = np.flatnonzero((arr < 0) | (arr >= hi))
        if bad.size:
            roi = int(np.searchsorted(r.ptr, bad[0], side="right") - 1)
            raise ValueError(f"ROI {roi}: {name} value {int(arr[bad[0]])} is outside 0..{hi - 1}")
    bad = np.flatnonzero(~np.isfinite(r.lam))
    if bad.size:
        roi = int(np.searchsorted(r.ptr, bad[0], side="right") - 1)
        raise ValueError(f"ROI {roi}: lam holds a non-finite value")


@njit()
def _segment_median_int(values, ptr):  # pragma: no cover - compiled
    n = ptr.size - 1
    out = np.empty(n, np.int64)
    for i in range(n):
        seg = values[ptr[i] : ptr[i + 1]].astype(np.float64)
        out[i] = int(np.median(seg))
    return out


@njit()
def _gather_index_nb(ptr, idx, total):  # pragma: no cover - compiled
    out = np.empty(total, np.int64)
    k = 0
    for j in range(idx.size):
        for p in range(ptr[idx[j]], ptr[idx[j] + 1]):
            out[k] = p
            k += 1
    return out


def _gather_index(ptr: np.ndarray, idx: np.ndarray, total: int) -> np.ndarray:
    return _gather_index_nb(ptr, idx.astype(np.int64), total)
