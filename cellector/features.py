"""The default features, computed chunk by chunk from flat ROI arrays.

Every number follows ``spec/features.md`` (the compatibility contract with the
published cellector 2.0.x): centred S x S patches (S = 2w + 1) around integer
centroids, a Hanning-windowed phase correlation at zero lag, a dot product with the
band-passed frame, a correlation coefficient and an inside/outside ratio over the
footprint's surround. Memory is bounded by the chunk size, not by N.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from typing import Any

import numba
import numpy as np
import scipy.fft

from .filters import butterworth_bpf, window
from .local_contrast import background_scale, local_contrast, occupancy
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


@numba.njit(cache=True)
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


@numba.njit(cache=True)
def _centered_reference(ref, cent, i0, i1, w, depth, fill):  # pragma: no cover
    """Window [yc-w, yc+w] x [xc-w, xc+w] of plane zc (all planes when depth > 1)."""
    s = 2 * w + 1
    _, ny, nx = ref.shape
    out = np.empty((i1 - i0, depth, s, s), dtype=np.float32)
    for i in range(i0, i1):
        for d in range(depth):
            z = d if depth > 1 else cent[i, 0]
            for r in range(s):
                y = cent[i, 1] - w + r
                for c in range(s):
                    x = cent[i, 2] - w + c
                    if 0 <= y < ny and 0 <= x < nx:
                        out[i - i0, d, r, c] = ref[z, y, x]
                    else:
                        out[i - i0, d, r, c] = fill
    return out


@numba.njit(cache=True)
def _center_surround_one(m, iterations):  # pragma: no cover
    """Center = m > 0; surround = center dilated by the 6/4-connected cross."""
    depth, s, _ = m.shape
    center = m > 0
    surround = center.copy()
    # restrict work to the bounding box of the centre plus the dilation reach
    z0, z1, y0, y1, x0, x1 = depth, -1, s, -1, s, -1
    for d in range(depth):
        for r in range(s):
            for c in range(s):
                if center[d, r, c]:
                    z0, z1 = min(z0, d), max(z1, d)
                    y0, y1 = min(y0, r), max(y1, r)
                    x0, x1 = min(x0, c), max(x1, c)
    if z1 < 0:
        return center, surround
    for _ in range(iterations):
        z0, z1 = max(z0 - 1, 0), min(z1 + 1, depth - 1)
        y0, y1 = max(y0 - 1, 0), min(y1 + 1, s - 1)
        x0, x1 = max(x0 - 1, 0), min(x1 + 1, s - 1)
        prev = surround.copy()
        for d in range(z0, z1 + 1):
            for r in range(y0, y1 + 1):
                for c in range(x0, x1 + 1):
                    if prev[d, r, c]:
                        continue
                    hit = (
                        (r > 0 and prev[d, r - 1, c])
                        or (r < s - 1 and prev[d, r + 1, c])
                        or (c > 0 and prev[d, r, c - 1])
                        or (c < s - 1 and prev[d, r, c + 1])
                        or (d > 0 and prev[d - 1, r, c])
                        or (d < depth - 1 and prev[d + 1, r, c])
                    )
                    if hit:
                        surround[d, r, c] = True
    return center, surround


@numba.njit(cache=True)
def _surround_features(masks, ref, fref, iterations):  # pragma: no cover
    """in_vs_out on the unfiltered and corr_coef on the filtered centred reference."""
    n = masks.shape[0]
    inout = np.empty(n, np.float32)
    corr = np.empty(n, np.float64)
    for i in range(n):
        center, surround = _center_surround_one(masks[i], iterations)
        inside = 0.0
        dil = 0.0
        cnt = 0
        sm = 0.0
        sr = 0.0
        flat_c = center.ravel()
        flat_s = surround.ravel()
        m = masks[i].ravel()
        c = ref[i].ravel()
        f = fref[i].ravel()
        for p in range(flat_s.size):
            if flat_s[p]:
                dil += c[p]
                cnt += 1
                sm += m[p]
                sr += f[p]
                if flat_c[p]:
                    inside += c[p]
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
        for p in range(flat_s.size):
            if flat_s[p]:
                dm = m[p] - mu_m
                dr = f[p] - mu_r
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
    s = masks.shape[-1]
    if masks.shape[-3] == 1:
        # one plane: the transform along the length-1 axis is the identity, and the
        # batched 2-D transform is 3x faster than rfftn over three axes
        a = scipy.fft.rfft2(masks[:, 0] * win, workers=-1)[:, None]
        b = scipy.fft.rfft2(refs[:, 0] * win, workers=-1)[:, None]
    else:
        a = scipy.fft.rfftn(masks * win, axes=(-3, -2, -1), workers=-1)
        b = scipy.fft.rfftn(refs * win, axes=(-3, -2, -1), workers=-1)
    weights = np.full(a.shape[-1], 2.0)
    weights[0] = 1.0
    if s % 2 == 0:
        weights[-1] = 1.0  # the Nyquist column has no mirror
    return _weighted_phase_sum(a, b, weights, float(eps)) / (masks.shape[-3] * s * s)


@numba.njit(cache=True, parallel=True, error_model="numpy")  # 0/0 gives NaN as in numpy (eps = 0)
def _weighted_phase_sum(a: np.ndarray, b: np.ndarray, weights: np.ndarray, eps: float) -> np.ndarray:
    """``sum_k w_k real(R_k)``, ``R = a conj(b) / (eps + |a conj(b)|)``, per ROI in one pass."""
    n, nd, ny, nk = a.shape
    out = np.empty(n)
    for i in numba.prange(n):
        total = 0.0
        for d in range(nd):
            for y in range(ny):
                for k in range(nk):
                    ar, ai = a[i, d, y, k].real, a[i, d, y, k].imag
                    br, bi = b[i, d, y, k].real, b[i, d, y, k].imag
                    re = ar * br + ai * bi  # a * conj(b)
                    im = ai * br - ar * bi
                    total += weights[k] * re / (eps + np.sqrt(re * re + im * im))
        out[i] = total
    return out


def dot_products(rois: RoiSet, filtered: np.ndarray) -> np.ndarray:
    """``sum_p FILT[z, y, x] * lam_p / ||lam||_2`` per ROI (norm in float32); NaN for zero lam."""
    values = filtered[rois.zpix, rois.ypix, rois.xpix] * rois.lam
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
    chunk_size: int = 1024,
    **parameters: Any,
) -> Generator[Progress, None, dict[str, np.ndarray]]:
    """Compute features, yielding ``(rois_done, n_rois)`` after each chunk.

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
    out: dict[str, np.ndarray] = {}
    filt = None
    if {"dot_product", "corr_coef"} & set(wanted):
        filt = butterworth_bpf(ref, p["lowcut"], p["highcut"], p["order"])
    if "dot_product" in wanted:
        assert filt is not None
        out["dot_product"] = dot_products(rois, filt)
    if "functional_dot_product" in wanted:
        assert fref is not None  # checked with `unknown` above
        ffilt = butterworth_bpf(fref, p["lowcut"], p["highcut"], p["order"])
        out["functional_dot_product"] = dot_products(rois, ffilt)
        del ffilt
    chunked = [n for n in ("phase_corr", "corr_coef", "in_vs_out", "local_contrast") if n in wanted]
    if chunked:
        yield from _chunked_features(rois, ref, filt, p, chunked, chunk_size, out)
    else:
        yield (rois.n_rois, rois.n_rois)
    return {n: out[n] for n in _ORDER if n in out and n in wanted}


def _check_shapes(rois: RoiSet, ref: np.ndarray, fref: np.ndarray | None) -> None:
    if ref.shape != rois.shape:
        raise ValueError(f"reference shape {ref.shape} does not match the ROIs' frame {rois.shape}")
    if fref is not None and fref.shape != ref.shape:
        raise ValueError(f"functional_reference shape {fref.shape} differs from reference {ref.shape}")


def _chunked_features(rois, ref, filt, p, names, chunk_size, out):
    n = rois.n_rois
    if "local_contrast" in names:
        occ = occupancy(rois)
        scale = background_scale(ref, occ)
    w = int(p["centered_width"])
    depth = rois.shape[0] if rois.volumetric else 1
    cent = rois.centroids(p["centroid_method"])
    win = window(p["window_kernel"], 2 * w + 1)
    fill = float(p["fill_value"])
    filt32 = None if filt is None else filt.astype(np.float32)
    res = {k: np.empty(n, np.float32 if k == "in_vs_out" else np.float64) for k in names}
    for i0 in range(0, n, chunk_size):
        i1 = min(n, i0 + chunk_size)
        if "local_contrast" in res:
            res["local_contrast"][i0:i1] = local_contrast(
                rois, ref, p["local_contrast_ring"], occ, scale, start=i0, stop=i1
            )
        if not {"phase_corr", "corr_coef", "in_vs_out"} & set(res):
            yield (i1, n)
            continue
        masks = _centered_masks(rois.ypix, rois.xpix, rois.zpix, rois.lam, rois.ptr, cent, i0, i1, w, depth, fill)
        refs = _centered_reference(ref, cent, i0, i1, w, depth, fill)
        if "phase_corr" in res:
            res["phase_corr"][i0:i1] = phase_corr_zero(masks, refs, win, float(p["phase_corr_eps"]))
        if "corr_coef" in res or "in_vs_out" in res:
            frefs = refs if filt32 is None else _centered_reference(filt32, cent, i0, i1, w, depth, fill)
            inout, corr = _surround_features(masks, refs, frefs, int(p["surround_iterations"]))
            if "in_vs_out" in res:
                res["in_vs_out"][i0:i1] = inout
            if "corr_coef" in res:
                res["corr_coef"][i0:i1] = corr
        yield (i1, n)
    out.update(res)


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
