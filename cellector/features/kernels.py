"""The per-ROI numerics of the features, as ``docs/features.md`` and the spec define them.

Numba kernels over flat ROI arrays (centred masks and reference patches, surround
masks, the surround features, the half-spectrum phase-correlation sum) and the numpy
functions around them. :mod:`cellector.features.compute` runs them in chunks on a thread pool;
:mod:`cellector.utils` offers them one by one under the published names.
"""

from __future__ import annotations

import numpy as np

from cellector._shared.jit import njit
from cellector.features.rois import RoiSet

__all__ = ["dot_products", "phase_corr_zero"]


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
