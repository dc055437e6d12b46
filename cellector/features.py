"""The default features, computed chunk by chunk from flat ROI arrays.

Every number follows ``spec/features.md`` (the compatibility contract with the
published cellector 2.0.x): centred S x S patches (S = 2w + 1) around integer
centroids, a Hanning-windowed phase correlation at zero lag, a dot product with the
band-passed frame, a correlation coefficient and an inside/outside ratio over the
footprint's surround. Memory is bounded by the chunk size, not by N.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from ._jit import njit
from ._memory import small_pages
from .filters import band_passed_planes, window
from .local_contrast import background, local_contrast, occupancy
from .rois import RoiSet

__all__ = [
    "DEFAULT_PARAMETERS",
    "FEATURE_PARAMETERS",
    "compute_features",
    "feature_names",
    "iter_features",
    "validate_parameters",
    "validate_reference",
]

DEFAULT_PARAMETERS: dict[str, Any] = {
    "centered_width": 40,
    "centroid_method": "median",
    "fill_value": 0.0,
    "surround_iterations": 2,
    "window_kernel": "hanning",
    "phase_corr_eps": 1e6,
    "lowcut": 12,
    "highcut": 250,
    "order": 3,
    "local_contrast_ring": 4,
}

_PATCH = ("centered_width", "centroid_method", "fill_value")
_FILTER = ("lowcut", "highcut", "order")
#: The parameters each feature depends on (a change recomputes exactly these).
FEATURE_PARAMETERS: dict[str, tuple[str, ...]] = {
    "phase_corr": (*_PATCH, "window_kernel", "phase_corr_eps"),
    "dot_product": _FILTER,
    "corr_coef": (*_PATCH, "surround_iterations", *_FILTER),
    "in_vs_out": (*_PATCH, "surround_iterations"),
    "functional_dot_product": _FILTER,
    "local_contrast": ("local_contrast_ring",),
}
_ORDER = ("phase_corr", "dot_product", "corr_coef", "in_vs_out", "local_contrast", "functional_dot_product")

Progress = tuple[int, int]


def feature_names(functional: bool) -> list[str]:
    """Return the computed default features in the spec's order."""
    return [n for n in _ORDER if functional or n != "functional_dot_product"]


def validate_parameters(params: dict[str, Any]) -> dict[str, Any]:
    """Return the full parameter dict, raising ``ValueError`` for unknown or bad ones."""
    unknown = sorted(set(params) - set(DEFAULT_PARAMETERS))
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown}; known: {sorted(DEFAULT_PARAMETERS)}")
    p = {**DEFAULT_PARAMETERS, **params}
    w = p["centered_width"]
    if not isinstance(w, (int, np.integer)) or isinstance(w, bool) or w < 1:
        raise ValueError(f"centered_width must be a positive integer, got {w!r}")
    it = p["surround_iterations"]
    if not isinstance(it, (int, np.integer)) or isinstance(it, bool) or it < 0:
        raise ValueError(f"surround_iterations must be a non-negative integer, got {it!r}")
    if p["centroid_method"] not in ("median", "weightedmean"):
        raise ValueError(f"centroid_method must be 'median' or 'weightedmean', got {p['centroid_method']!r}")
    if not np.isfinite(p["fill_value"]):
        raise ValueError("fill_value must be finite")
    ring = p["local_contrast_ring"]
    if not isinstance(ring, (int, np.integer)) or isinstance(ring, bool) or ring < 1:
        raise ValueError(f"local_contrast_ring must be a positive integer, got {ring!r}")
    if not p["phase_corr_eps"] >= 0:
        raise ValueError("phase_corr_eps must be >= 0")
    window(p["window_kernel"], 3)  # raises for unknown kernels
    from .filters import butterworth_gain

    butterworth_gain((2, 2), p["lowcut"], p["highcut"], p["order"])  # raises for bad cutoffs
    return p


def validate_reference(reference: np.ndarray, name: str = "reference") -> np.ndarray:
    """Return ``reference`` as a float32 ``(lz, ly, lx)`` stack or raise ``ValueError``."""
    ref = np.asarray(reference)
    if ref.ndim == 2:
        ref = ref[None]
    if ref.ndim != 3 or min(ref.shape) < 1:
        raise ValueError(f"{name} must be a 2-D image or a (planes, Ly, Lx) stack, got shape {ref.shape}")
    if not (np.issubdtype(ref.dtype, np.number) and not np.iscomplexobj(ref)):
        raise ValueError(f"{name} must be a real numeric image, got dtype {ref.dtype}")
    ref = ref.astype(np.float32, copy=False)
    bad = ~np.isfinite(ref)
    if bad.any():
        z = int(np.argwhere(bad)[0][0])
        raise ValueError(f"{name} plane {z} holds {int(bad[z].sum())} NaN/inf pixels")
    return ref


# --------------------------------------------------------------------------- kernels


@njit(nogil=True)
def _centered_masks(ypix, xpix, zpix, lam, ptr, cent, i0, i1, w, depth, fill):  # pragma: no cover
    """M[i, d, y - yc + w, x - xc + w] = lam (assigned, last duplicate wins)."""
    s = 2 * w + 1
    out = np.full((i1 - i0, depth, s, s), np.float32(fill), dtype=np.float32)
    for i in range(i0, i1):
        yc, xc = cent[i, 1], cent[i, 2]
        for p in range(ptr[i], ptr[i + 1]):
            ly = ypix[p] - yc + w
            lx = xpix[p] - xc + w
            if 0 <= ly < s and 0 <= lx < s:
                d = zpix[p] if depth > 1 else 0
                out[i - i0, d, ly, lx] = lam[p]
    return out


@njit(nogil=True)
def _centered_reference(ref, cent, i0, i1, w, depth, fill):  # pragma: no cover
    """Window [yc-w, yc+w] x [xc-w, xc+w] of plane zc (all planes when depth > 1)."""
    s = 2 * w + 1
    _, ny, nx = ref.shape
    out = np.full((i1 - i0, depth, s, s), np.float32(fill), dtype=np.float32)
    for i in range(i0, i1):
        # copy only the part of the window inside the image; the rest keeps fill
        y0, x0 = cent[i, 1] - w, cent[i, 2] - w
        r0, r1 = max(0, -y0), min(s, ny - y0)
        c0, c1 = max(0, -x0), min(s, nx - x0)
        for d in range(depth):
            z = d if depth > 1 else cent[i, 0]
            for r in range(r0, r1):
                out[i - i0, d, r, c0:c1] = ref[z, y0 + r, x0 + c0 : x0 + c1]
    return out


@njit(nogil=True)
def _windowed(patches, win):  # pragma: no cover
    """``patches * win`` in float64 (what numpy gives for float32 times float64), and its non-zero rows.

    Returns ``(out, live)`` with ``live[i, d, r]`` true where row ``r`` holds a non-zero value.
    """
    n, depth, s, _ = patches.shape
    out = np.empty((n, depth, s, s))
    live = np.zeros((n, depth, s), np.bool_)
    for i in range(n):
        for d in range(depth):
            for r in range(s):
                nonzero = False
                for c in range(s):
                    v = np.float64(patches[i, d, r, c]) * win[r, c]
                    out[i, d, r, c] = v
                    nonzero |= v != 0
                live[i, d, r] = nonzero
    return out, live


@njit(nogil=True)
def _windowed_reference(ref, cent, i0, i1, w, depth, fill, win):  # pragma: no cover
    """``win *`` :func:`_centered_reference` in float64, in one pass over the frame."""
    s = 2 * w + 1
    _, ny, nx = ref.shape
    out = np.empty((i1 - i0, depth, s, s))
    fill64 = np.float64(np.float32(fill))  # the patch holds fill as float32, as the spec's stack does
    for i in range(i0, i1):
        y0, x0 = cent[i, 1] - w, cent[i, 2] - w
        c0, c1 = max(0, -x0), min(s, nx - x0)
        for d in range(depth):
            z = d if depth > 1 else cent[i, 0]
            for r in range(s):
                y = y0 + r
                if y < 0 or y >= ny:
                    for c in range(s):
                        out[i - i0, d, r, c] = fill64 * win[r, c]
                    continue
                for c in range(s):
                    v = np.float64(ref[z, y, x0 + c]) if c0 <= c < c1 else fill64
                    out[i - i0, d, r, c] = v * win[r, c]
    return out


@njit(nogil=True)
def _dilated_boxes(masks, iterations):  # pragma: no cover
    """:func:`_dilated_box` of every mask, ``(n, 6)``."""
    out = np.empty((masks.shape[0], 6), np.int64)
    for i in range(masks.shape[0]):
        out[i] = _dilated_box(masks[i], iterations)
    return out


@njit(nogil=True)
def _boxed_reference(ref, boxes, cent, i0, w, depth, fill):  # pragma: no cover
    """:func:`_centered_reference` inside each ROI's box only; elsewhere the values are undefined.

    The surround statistics read nothing outside the box (the centre's bounding box
    grown by the dilation), so the rest of the patch is neither filled nor copied.
    """
    n = boxes.shape[0]
    s = 2 * w + 1
    _, ny, nx = ref.shape
    out = np.empty((n, depth, s, s), np.float32)
    for i in range(n):
        z0, z1, r0, r1, k0, k1 = boxes[i]
        y0, x0 = cent[i0 + i, 1] - w, cent[i0 + i, 2] - w
        for d in range(z0, z1 + 1):
            z = d if depth > 1 else cent[i0 + i, 0]
            for r in range(r0, r1 + 1):
                y = y0 + r
                for c in range(k0, k1 + 1):
                    x = x0 + c
                    out[i, d, r, c] = ref[z, y, x] if (0 <= y < ny and 0 <= x < nx) else np.float32(fill)
    return out


@njit(nogil=True)
def _dilated_box(m, iterations):  # pragma: no cover
    """Bounding box of ``m > 0``, grown by ``iterations`` and clipped; z1 < z0 when empty."""
    depth, s, _ = m.shape
    z0, z1, y0, y1, x0, x1 = depth, -1, s, -1, s, -1
    for d in range(depth):
        for r in range(s):
            for c in range(s):
                if m[d, r, c] > 0:
                    z0, z1 = min(z0, d), max(z1, d)
                    y0, y1 = min(y0, r), max(y1, r)
                    x0, x1 = min(x0, c), max(x1, c)
    if z1 < 0:
        return 1, 0, 1, 0, 1, 0
    grow_z = iterations if depth > 1 else 0
    return (
        max(z0 - grow_z, 0),
        min(z1 + grow_z, depth - 1),
        max(y0 - iterations, 0),
        min(y1 + iterations, s - 1),
        max(x0 - iterations, 0),
        min(x1 + iterations, s - 1),
    )


@njit(nogil=True)
def _surround_in_box(m, box, iterations):  # pragma: no cover
    """Surround (centre dilated by the 6/4-connected cross) inside ``box``, as a local array.

    The box is the centre's bounding box grown by ``iterations``, so the dilation
    never reaches past it; the patch's own edge acts as border value 0.
    """
    z0, z1, y0, y1, x0, x1 = box
    nd, nr, nc = z1 - z0 + 1, y1 - y0 + 1, x1 - x0 + 1
    surround = np.empty((nd, nr, nc), np.bool_)
    for d in range(nd):
        for r in range(nr):
            for c in range(nc):
                surround[d, r, c] = m[z0 + d, y0 + r, x0 + c] > 0
    for _ in range(iterations):
        prev = surround.copy()
        for d in range(nd):
            for r in range(nr):
                for c in range(nc):
                    if prev[d, r, c]:
                        continue
                    hit = (
                        (r > 0 and prev[d, r - 1, c])
                        or (r < nr - 1 and prev[d, r + 1, c])
                        or (c > 0 and prev[d, r, c - 1])
                        or (c < nc - 1 and prev[d, r, c + 1])
                        or (d > 0 and prev[d - 1, r, c])
                        or (d < nd - 1 and prev[d + 1, r, c])
                    )
                    if hit:
                        surround[d, r, c] = True
    return surround


@njit(nogil=True)
def _center_surround_one(m, iterations):  # pragma: no cover
    """Center = m > 0; surround = center dilated by the 6/4-connected cross (full patch)."""
    center = m > 0
    surround = center.copy()
    box = _dilated_box(m, iterations)
    z0, z1, y0, y1, x0, x1 = box
    if z1 >= z0:
        surround[z0 : z1 + 1, y0 : y1 + 1, x0 : x1 + 1] = _surround_in_box(m, box, iterations)
    return center, surround


@njit(nogil=True)
def _surround_features(masks, refs, frefs, iterations, boxes):  # pragma: no cover
    """in_vs_out on the unfiltered and corr_coef on the filtered centred reference.

    Sums run in the patch's row-major order over the surround's bounding box only
    (the same pixels in the same order as over the whole patch); ``boxes`` are
    :func:`_dilated_boxes` of ``masks``, and ``refs``/``frefs`` need values there only.
    """
    n = masks.shape[0]
    inout = np.empty(n, np.float32)
    corr = np.empty(n, np.float64)
    for i in range(n):
        m, c, f = masks[i], refs[i], frefs[i]
        box = (boxes[i, 0], boxes[i, 1], boxes[i, 2], boxes[i, 3], boxes[i, 4], boxes[i, 5])
        z0, z1, y0, y1, x0, x1 = box
        sur = _surround_in_box(m, box, iterations) if z1 >= z0 else np.zeros((0, 0, 0), np.bool_)
        inside = 0.0
        dil = 0.0
        cnt = 0
        sm = 0.0
        sr = 0.0
        for d in range(z0, z1 + 1):
            for r in range(y0, y1 + 1):
                for k in range(x0, x1 + 1):
                    if sur[d - z0, r - y0, k - x0]:
                        dil += c[d, r, k]
                        cnt += 1
                        sm += m[d, r, k]
                        sr += f[d, r, k]
                        if m[d, r, k] > 0:
                            inside += c[d, r, k]
        inside32 = np.float32(inside)
        total = inside32 + np.float32(dil)
        inout[i] = np.float32(0.0) if total == 0 else inside32 / total
        if cnt == 0:
            corr[i] = np.nan
            continue
        mu_m = sm / cnt
        mu_r = sr / cnt
        vm = 0.0
        vr = 0.0
        cov = 0.0
        for d in range(z0, z1 + 1):
            for r in range(y0, y1 + 1):
                for k in range(x0, x1 + 1):
                    if sur[d - z0, r - y0, k - x0]:
                        dm = m[d, r, k] - mu_m
                        dr = f[d, r, k] - mu_r
                        vm += dm * dm
                        vr += dr * dr
                        cov += dm * dr
        sd_m = np.sqrt(vm / cnt)
        sd_r = np.sqrt(vr / cnt)
        # A constant mask or reference over the surround makes the ratio 0/0.
        scale = max(abs(mu_m), sd_m, 1e-300)
        scale_r = max(abs(mu_r), sd_r, 1e-300)
        if sd_m <= 1e-6 * scale or sd_r <= 1e-6 * scale_r:
            corr[i] = np.nan
        else:
            corr[i] = cov / cnt / sd_r / sd_m
    return inout, corr


def phase_corr_zero(masks: np.ndarray, refs: np.ndarray, win: np.ndarray, eps: float) -> np.ndarray:
    """Zero-lag value of the windowed, eps-regularised phase correlation.

    ``real(mean(R))`` with ``R = A conj(B) / (eps + |A conj(B)|)``, ``A = FFT(win * M)``,
    ``B = FFT(win * C)`` over the last three axes ``(depth, S, S)``. The spectra of real
    input are Hermitian, so the full mean equals the half-spectrum (``rfftn``) sum with
    the non-redundant columns counted twice.
    """
    return _phase_corr_windowed(_windowed(masks, win), _windowed(refs, win)[0], eps)


def _phase_corr_windowed(a: tuple[np.ndarray, np.ndarray], b: np.ndarray, eps: float) -> np.ndarray:
    """:func:`phase_corr_zero` of windowed float64 stacks ``(n, depth, S, S)``; ``a`` with its non-zero rows."""
    s = b.shape[-1]
    depth = b.shape[-3]
    weights = np.full(s // 2 + 1, 2.0)
    weights[0] = 1.0
    if s % 2 == 0:
        weights[-1] = 1.0  # the Nyquist column has no mirror
    return _weighted_phase_sum(_rfft3(*a), _rfft3(b), weights, float(eps)) / (depth * s * s)


def _rfft3(x: np.ndarray, live: np.ndarray | None = None) -> np.ndarray:
    """``rfftn`` over the last three axes, as scipy.fft and pocketfft order it (same numbers).

    The real transform runs along rows, then the complex ones along depth and columns,
    in place. With ``live`` (the rows that hold a non-zero value) only those rows are
    transformed: a centred mask with fill value 0 has a few dozen of its 81 rows set, and
    a zero row's transform is zero, so this halves the work for the same numbers.
    """
    s = x.shape[-1]
    if live is None:
        spec = np.fft.rfft(x, axis=-1)
    else:
        rows = np.flatnonzero(live.ravel())
        spec = np.zeros((*x.shape[:-1], s // 2 + 1), np.complex128)
        spec.reshape(-1, s // 2 + 1)[rows] = np.fft.rfft(x.reshape(-1, s)[rows], axis=-1)
    if x.shape[-3] > 1:
        np.fft.fft(spec, axis=-3, out=spec)
    np.fft.fft(spec, axis=-2, out=spec)
    return spec


# nogil, not parallel: chunks already run on several threads, and numba's default
# threading layer must not be entered from two threads at once. error_model: 0/0
# gives NaN as in numpy (eps = 0).
@njit(nogil=True, error_model="numpy")
def _weighted_phase_sum(a: np.ndarray, b: np.ndarray, weights: np.ndarray, eps: float) -> np.ndarray:
    """``sum_k w_k real(R_k)``, ``R = a conj(b) / (eps + |a conj(b)|)``, per ROI in one pass.

    A row's terms are computed first (that loop vectorises: sqrt and division are exact
    per lane) and then added in order, so the sum is the plain sequential one.
    """
    n, nd, ny, nk = a.shape
    out = np.empty(n)
    terms = np.empty(nk)
    for i in range(n):
        total = 0.0
        for d in range(nd):
            for y in range(ny):
                ay, by = a[i, d, y], b[i, d, y]
                for k in range(nk):
                    ar, ai = ay[k].real, ay[k].imag
                    br, bi = by[k].real, by[k].imag
                    re = ar * br + ai * bi  # a * conj(b)
                    im = ai * br - ar * bi
                    terms[k] = weights[k] * re / (eps + np.sqrt(re * re + im * im))
                for k in range(nk):
                    total += terms[k]
        out[i] = total
    return out


def dot_products(rois: RoiSet, filtered: np.ndarray) -> np.ndarray:
    """``sum_p FILT[z, y, x] * lam_p / ||lam||_2`` per ROI (norm in float32); NaN for zero lam."""
    return _lam_weighted_sums(rois, filtered[rois.zpix, rois.ypix, rois.xpix])


def _lam_weighted_sums(rois: RoiSet, values: np.ndarray) -> np.ndarray:
    """:func:`dot_products` from each pixel's filtered value (float64, consumed)."""
    values *= rois.lam
    starts = rois.ptr[:-1]
    num = np.add.reduceat(values, starts)
    lam32 = rois.lam.astype(np.float32)
    norm = np.sqrt(np.add.reduceat(lam32 * lam32, starts, dtype=np.float32))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / norm
    out[norm == 0] = np.nan
    return out


# --------------------------------------------------------------------------- driver


def iter_features(
    rois: RoiSet,
    reference: np.ndarray,
    functional_reference: np.ndarray | None = None,
    names: Iterable[str] | None = None,
    chunk_size: int = 64,
    **parameters: Any,
) -> Generator[Progress, None, dict[str, np.ndarray]]:
    """Compute features, yielding ``(rois_done, n_rois)`` as chunks finish (``n_rois`` once all is done).

    Parameters
    ----------
    rois : RoiSet
        The ROIs.
    reference : ndarray, (lz, ly, lx) or (ly, lx)
        Structural reference (e.g. ``meanImg_chan2`` per plane).
    functional_reference : ndarray or None
        Functional reference (e.g. ``meanImg``); enables ``functional_dot_product``.
    names : iterable of str or None
        Features to compute (default: all that apply, in the spec's order).
    chunk_size : int
        ROIs per chunk; memory grows with it, not with N.
    **parameters
        Processing parameters (see ``DEFAULT_PARAMETERS``).

    Returns
    -------
    dict of str to ndarray
        The generator's return value: feature name -> (N,) values.
    """
    p = validate_parameters(parameters)
    ref = validate_reference(reference)
    fref = None if functional_reference is None else validate_reference(functional_reference, "functional_reference")
    _check_shapes(rois, ref, fref)
    wanted = list(feature_names(fref is not None) if names is None else names)
    unknown = [n for n in wanted if n not in _ORDER or (n == "functional_dot_product" and fref is None)]
    if unknown:
        raise ValueError(f"cannot compute feature(s) {unknown}")
    chunked = [n for n in ("phase_corr", "corr_coef", "in_vs_out", "local_contrast") if n in wanted]
    threads = max(1, min(_threads(), -(-rois.n_rois // chunk_size)))
    pool = ThreadPoolExecutor(threads, thread_name_prefix="cellector-features")
    band = _BandPass()
    try:
        with small_pages():
            if chunked:
                out = yield from _staged(pool, threads, rois, ref, fref, p, wanted, chunked, chunk_size, band)
            else:
                out = _band_passed_features(rois, ref, fref, p, wanted)
                yield (rois.n_rois, rois.n_rois)
    finally:
        band.stop.set()  # a closed generator stops the band-pass at the next plane...
        pool.shutdown(wait=True, cancel_futures=True)  # ...and its chunks
    return {n: out[n] for n in _ORDER if n in out and n in wanted}


def _staged(pool, threads, rois, ref, fref, p, wanted, chunked, chunk_size, band: _BandPass):
    """Band-pass and chunks on the pool, overlapped; yields progress, returns every feature.

    The chunks' set-up (numba's first call, centroids, occupancy: ~0.5 s, holding the
    GIL) runs beside the band-pass (~0.7 s at 20 000 ROIs, FFTs that release it). Chunks
    start as soon as the set-up is done; those that start before the band-passed frame
    exists leave corr_coef for a second, short pass (masks and surround only).
    """
    setup = pool.submit(_Chunks, rois, ref, p, chunked, threads, band)
    filtering = pool.submit(_band_passed_features, rois, ref, fref, p, wanted, band)
    chunks = setup.result()
    values = yield from _run_chunks(pool, chunks, chunk_size, filtering)
    out = filtering.result()
    out.update(values)
    return out


class _BandPass:
    """What the band-pass task shares with the chunks and the driver."""

    def __init__(self) -> None:
        self.frame: np.ndarray | None = None  #: the band-passed reference (float32), once it exists
        self.stop = threading.Event()  #: set when the caller no longer wants the result


def _band_passed_features(rois, ref, fref, p, wanted, band: _BandPass | None = None) -> dict[str, np.ndarray]:
    """dot_product and functional_dot_product; ``band.frame`` gets the band-passed reference for corr_coef.

    Plane by plane: each band-passed plane gives its pixels' values and, for corr_coef,
    its float32 copy, so no float64 stack is ever held (a 1024² plane is 8 MB).
    """
    bpf = (p["lowcut"], p["highcut"], p["order"])
    out: dict[str, np.ndarray] = {}
    by_plane = _pixels_by_plane(rois, ref.shape[0])
    if {"dot_product", "corr_coef"} & set(wanted):
        keep = np.empty(ref.shape, np.float32) if band is not None and "corr_coef" in wanted else None
        values = _filtered_pixel_values(rois, ref, bpf, by_plane, keep, band)
        if band is not None:
            band.frame = keep  # the chunks may use it from now on
        if "dot_product" in wanted:
            out["dot_product"] = _lam_weighted_sums(rois, values)
    if "functional_dot_product" in wanted:
        values = _filtered_pixel_values(rois, fref, bpf, by_plane, band=band)
        out["functional_dot_product"] = _lam_weighted_sums(rois, values)
    return out


def _pixels_by_plane(rois: RoiSet, planes: int) -> list[np.ndarray | slice]:
    """Return the indices of the pixels on each plane (a slice of all for one plane)."""
    if planes == 1:
        return [slice(None)]
    order = np.argsort(rois.zpix, kind="stable")
    bounds = np.searchsorted(rois.zpix[order], np.arange(planes + 1))
    return [order[a:b] for a, b in itertools.pairwise(bounds)]


def _filtered_pixel_values(rois, frame, bpf, by_plane, keep=None, band: _BandPass | None = None) -> np.ndarray:
    """Every ROI pixel's value in the band-passed ``frame`` (float64); ``keep`` gets the frame in float32.

    Raises ``CancelledError`` between planes once ``band.stop`` is set.
    """
    values = np.empty(rois.zpix.size)
    for k, filtered in band_passed_planes(frame, *bpf):
        if band is not None and band.stop.is_set():
            raise CancelledError("the features are no longer wanted")
        idx = by_plane[k]
        values[idx] = filtered[rois.ypix[idx], rois.xpix[idx]]
        if keep is not None:
            keep[k] = filtered
    return values


def _check_shapes(rois: RoiSet, ref: np.ndarray, fref: np.ndarray | None) -> None:
    if ref.shape != rois.shape:
        raise ValueError(f"reference shape {ref.shape} does not match the ROIs' frame {rois.shape}")
    if fref is not None and fref.shape != ref.shape:
        raise ValueError(f"functional_reference shape {fref.shape} differs from reference {ref.shape}")


class _Chunks:
    """What every chunk of ROIs needs, computed once; ``run`` does one chunk."""

    def __init__(
        self, rois: RoiSet, ref: np.ndarray, p: dict[str, Any], names: Iterable[str], threads: int, band: _BandPass
    ):
        self.rois, self.ref, self.names = rois, ref, set(names)
        self.band = band  # the band-passed reference, for corr_coef, once it exists
        self.threads = threads  # chunks run in parallel; each chunk's FFTs use one thread
        if "local_contrast" in self.names:
            self.occ = occupancy(rois)
            self.planes = background(ref, self.occ)
        self.ring = p["local_contrast_ring"]
        self.w = int(p["centered_width"])
        self.depth = rois.shape[0] if rois.volumetric else 1
        self.cent = rois.centroids(p["centroid_method"])
        self.win = window(p["window_kernel"], 2 * self.w + 1)
        self.fill = float(p["fill_value"])
        self.eps = float(p["phase_corr_eps"])
        self.iterations = int(p["surround_iterations"])

    def run(self, i0: int, i1: int) -> dict[str, np.ndarray]:
        """Return the chunked features of ROIs ``i0:i1``; corr_coef only if the band-passed frame exists."""
        r, out = self.rois, {}
        if "local_contrast" in self.names:
            out["local_contrast"] = local_contrast(r, self.ref, self.ring, self.occ, self.planes, start=i0, stop=i1)
        if not {"phase_corr", "corr_coef", "in_vs_out"} & self.names:
            return out
        masks = self._masks(i0, i1)
        if "phase_corr" in self.names:
            wrefs = _windowed_reference(self.ref, self.cent, i0, i1, self.w, self.depth, self.fill, self.win)
            out["phase_corr"] = _phase_corr_windowed(_windowed(masks, self.win), wrefs, self.eps)
        if {"corr_coef", "in_vs_out"} & self.names:
            frame = self.band.frame  # read once: the band-pass task sets it
            boxes = _dilated_boxes(masks, self.iterations)
            refs = self._boxed(self.ref, boxes, i0)
            frefs = refs if frame is None else self._boxed(frame, boxes, i0)
            out["in_vs_out"], corr = _surround_features(masks, refs, frefs, self.iterations, boxes)
            if frame is not None:
                out["corr_coef"] = corr
        return out

    def corr(self, i0: int, i1: int) -> dict[str, np.ndarray]:
        """Return corr_coef of ROIs ``i0:i1`` (for chunks that ran before the band-pass ended)."""
        masks = self._masks(i0, i1)
        boxes = _dilated_boxes(masks, self.iterations)
        frame = self.band.frame
        assert frame is not None  # only submitted once the band-pass has ended
        frefs = self._boxed(frame, boxes, i0)
        return {"corr_coef": _surround_features(masks, frefs, frefs, self.iterations, boxes)[1]}

    def _masks(self, i0: int, i1: int) -> np.ndarray:
        r = self.rois
        return _centered_masks(r.ypix, r.xpix, r.zpix, r.lam, r.ptr, self.cent, i0, i1, self.w, self.depth, self.fill)

    def _boxed(self, frame: np.ndarray, boxes: np.ndarray, i0: int) -> np.ndarray:
        return _boxed_reference(frame, boxes, self.cent, i0, self.w, self.depth, self.fill)


def _threads() -> int:
    """Threads for feature computation: ``CELLECTOR_THREADS``, else the CPUs this process may use.

    The CPUs are the affinity mask's (what a batch scheduler grants), not the machine's count.
    """
    wanted = os.environ.get("CELLECTOR_THREADS", "").strip()
    if wanted.isdigit() and int(wanted) > 0:
        return int(wanted)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity mask
        return os.cpu_count() or 1


def _run_chunks(pool: ThreadPoolExecutor, chunks: _Chunks, chunk_size: int, filtering: Future):
    """Run the chunks on the pool (the kernels release the GIL), yielding progress; return the values.

    Each chunk is independent, so the values do not depend on the number of threads or
    on when the band-pass ends. At most two tasks per thread are in flight, which bounds
    memory. A chunk that ran before the band-passed frame existed gets a corr_coef task
    once it does (``filtering`` is the band-pass task). Progress counts the ROIs through
    the main pass, and reaches the total only when nothing is left to do.
    """
    n = chunks.rois.n_rois
    res = {k: np.empty(n, np.float32 if k == "in_vs_out" else np.float64) for k in chunks.names}
    bounds = iter([(i0, min(n, i0 + chunk_size)) for i0 in range(0, n, chunk_size)])
    waiting: deque[tuple[int, int]] = deque()  # chunks whose corr_coef waits for the band-pass
    pending: deque[tuple[tuple[int, int], bool, Future]] = deque()  # (bounds, second pass?, task)
    done = owed = reported = 0  # ROIs through the main pass; deferred chunks not yet finished

    def submit() -> bool:
        if waiting and (filtering.done() or not pending):
            filtering.result()  # nothing else to run: wait for the band-pass (and raise its error)
            w = waiting.popleft()
            pending.append((w, True, pool.submit(chunks.corr, *w)))
            return True
        b = next(bounds, None)
        if b is not None:
            pending.append((b, False, pool.submit(chunks.run, *b)))
        return b is not None

    while len(pending) < 2 * chunks.threads and submit():
        pass
    while pending:
        (i0, i1), second_pass, future = pending.popleft()
        values = future.result()
        for k, v in values.items():
            if k in res:  # a chunk may return more than was asked for
                res[k][i0:i1] = v
        if second_pass:
            owed -= 1
        else:
            done += i1 - i0
            if "corr_coef" in chunks.names and "corr_coef" not in values:
                waiting.append((i0, i1))
                owed += 1
        while len(pending) < 2 * chunks.threads and submit():
            pass
        progress = done if owed == 0 else min(done, n - 1)
        if progress > reported:
            reported = progress
            yield (progress, n)
    return res


def compute_features(
    rois: RoiSet,
    reference: np.ndarray,
    functional_reference: np.ndarray | None = None,
    names: Iterable[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    **parameters: Any,
) -> dict[str, np.ndarray]:
    """Compute features (see :func:`iter_features`), calling ``progress(done, total)``."""
    return run_with_progress(iter_features(rois, reference, functional_reference, names, **parameters), progress)


def run_with_progress(
    steps: Generator[tuple[int, int], None, Any], progress: Callable[[int, int], None] | None = None
) -> Any:
    """Run a generator that yields ``(done, total)``; report each step; return its value."""
    while True:
        try:
            done, total = next(steps)
        except StopIteration as stop:
            return stop.value
        if progress is not None:
            progress(done, total)
