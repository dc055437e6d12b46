"""``local_contrast``: an ROI's brightness in the reference against the ROI-free ring around it.

For ROI ``i`` on plane ``z``::

    inner_i = sum(lam * REF[z, y, x]) / sum(lam)                 (over the ROI's pixels)
    ring_i  = mean(REF) over pixels within city-block distance 1..r of the ROI (4-connected
              dilation, in-plane, r = ``local_contrast_ring``) that belong to no ROI at all
    bg_z    = median(REF[z]) over the pixels of plane z outside every ROI
    scale_z = 1.4826 * median(|REF[z] - bg_z|) over the same pixels
    local_contrast_i = (inner_i - ring_i) / scale_z

Excluding every ROI's pixels from the ring is the idea behind suite2p's neuropil mask: a
red neighbour does not lift the background. Dividing by the background's robust spread
(the MAD) makes values comparable across planes and sessions.

An ROI whose ring holds fewer than :data:`MIN_RING` free pixels (packed among other ROIs,
or in a corner of the frame) has no local background to speak of; ``ring_i`` is then the
plane's background ``bg_z``, the nearest estimate that exists. NaN only when ``sum(lam)``
is not positive or the plane has no background pixels or no spread. Volumetric ROIs use
the ring on every plane they touch and the mean of those planes' ``bg`` and ``scale``.
"""

from __future__ import annotations

import numpy as np

from cellector._shared.jit import njit
from cellector.features.rois import RoiSet

__all__ = ["MIN_RING", "background", "local_contrast", "occupancy"]

#: Fewest ROI-free ring pixels for a local background (else the plane's background).
MIN_RING = 5


def occupancy(rois: RoiSet) -> np.ndarray:
    """Return a bool ``(lz, ly, lx)`` image: True where any ROI has a pixel."""
    occ = np.zeros(rois.shape, bool)
    occ[rois.zpix, rois.ypix, rois.xpix] = True
    return occ


def background(reference: np.ndarray, occupied: np.ndarray) -> np.ndarray:
    """Return each plane's background: median and robust spread (1.4826 x MAD) of its ROI-free pixels.

    A float64 ``(lz, 2)`` array, NaN for a plane without ROI-free pixels.
    """
    out = np.full((reference.shape[0], 2), np.nan)
    for z in range(reference.shape[0]):
        bg = reference[z][~occupied[z]].astype(np.float64)
        if bg.size:
            med = np.median(bg)
            out[z] = med, 1.4826 * np.median(np.abs(bg - med))
    return out


def local_contrast(
    rois: RoiSet,
    reference: np.ndarray,
    ring: int = 4,
    occupied: np.ndarray | None = None,
    planes: np.ndarray | None = None,
    start: int = 0,
    stop: int | None = None,
) -> np.ndarray:
    """Compute ``local_contrast`` (see the module docstring) for ROIs ``start:stop``, float64.

    ``occupied`` and ``planes`` (:func:`occupancy`, :func:`background`) are computed
    when not given; a chunked caller computes them once.

    Examples
    --------
    A 2-pixel ROI of value 10 on a background whose value is the row index: the
    background's median is 4 and its MAD 2 (scale 2.9652); the ring (distance 1) holds
    rows 3, 3, 4, 4, 5, 5 (mean 4), so the contrast is (10 - 4) / 2.9652:

    >>> ref = np.repeat(np.arange(9, dtype=np.float32)[:, None], 9, axis=1)[None]
    >>> ref[0, 4, 4:6] = 10
    >>> r = RoiSet.from_lists([np.array([4, 4])], [np.array([4, 5])], [np.ones(2)], None, (1, 9, 9))
    >>> round(float(local_contrast(r, ref, ring=1)[0]), 4)
    2.0235

    Nine one-pixel ROIs packed in a 3 x 3 block leave the centre one no free ring, so it
    is compared to the plane's background: the 72 free pixels have median 4 and MAD 2.5,
    and the contrast is (10 - 4) / (1.4826 * 2.5):

    >>> ys, xs = np.divmod(np.arange(9), 3)
    >>> block = RoiSet.from_lists([[3 + y] for y in ys], [[3 + x] for x in xs], [[1.0]] * 9, None, (1, 9, 9))
    >>> round(float(local_contrast(block, ref, ring=1)[4]), 4)
    1.6188
    """
    ref = np.asarray(reference, np.float32)
    occ = occupancy(rois) if occupied is None else occupied
    bg = background(ref, occ) if planes is None else planes
    stop = rois.n_rois if stop is None else stop
    return _contrast(
        ref, occ, bg, rois.ypix, rois.xpix, rois.zpix, rois.lam, rois.ptr, start, stop, int(ring), MIN_RING
    )


@njit(nogil=True)
def _contrast(ref, occ, planes, ypix, xpix, zpix, lam, ptr, i0, i1, ring, min_ring):  # pragma: no cover - compiled
    lz, ly, lx = ref.shape
    out = np.full(i1 - i0, np.nan)
    for i in range(i0, i1):
        a, b = ptr[i], ptr[i + 1]
        wsum = 0.0
        isum = 0.0
        z0, z1, y0, y1, x0, x1 = lz, -1, ly, -1, lx, -1
        for p in range(a, b):
            wsum += lam[p]
            isum += lam[p] * ref[zpix[p], ypix[p], xpix[p]]
            z0, z1 = min(z0, zpix[p]), max(z1, zpix[p])
            y0, y1 = min(y0, ypix[p]), max(y1, ypix[p])
            x0, x1 = min(x0, xpix[p]), max(x1, xpix[p])
        if not wsum > 0:
            continue
        gy0, gy1 = max(y0 - ring, 0), min(y1 + ring, ly - 1)
        gx0, gx1 = max(x0 - ring, 0), min(x1 + ring, lx - 1)
        rsum, rcnt = _ring(ref, occ, ypix, xpix, zpix, a, b, z0, z1, gy0, gy1, gx0, gx1, ring)
        m, s = 0.0, 0.0
        for z in range(z0, z1 + 1):
            m += planes[z, 0]
            s += planes[z, 1]
        m /= z1 - z0 + 1
        s /= z1 - z0 + 1
        if not s > 0:  # no background pixels, or no spread (NaN fails this too)
            continue
        local = rsum / rcnt if rcnt >= min_ring else m  # too little free ring: the plane's background
        out[i - i0] = (isum / wsum - local) / s
    return out


@njit(nogil=True)
def _ring(ref, occ, ypix, xpix, zpix, a, b, z0, z1, gy0, gy1, gx0, gx1, ring):  # pragma: no cover - compiled
    """Sum and count of the ROI-free pixels within city-block distance 1..ring of ROI pixels ``a:b``."""
    h, w = gy1 - gy0 + 1, gx1 - gx0 + 1
    dist = np.full((z1 - z0 + 1, h, w), ring + 1, np.int32)
    for p in range(a, b):
        dist[zpix[p] - z0, ypix[p] - gy0, xpix[p] - gx0] = 0
    for step in range(1, ring + 1):  # grow the 4-connected neighbourhood one pixel per step
        for d in range(z1 - z0 + 1):
            for r in range(h):
                for c in range(w):
                    if dist[d, r, c] <= step:
                        continue
                    if (
                        (r > 0 and dist[d, r - 1, c] == step - 1)
                        or (r < h - 1 and dist[d, r + 1, c] == step - 1)
                        or (c > 0 and dist[d, r, c - 1] == step - 1)
                        or (c < w - 1 and dist[d, r, c + 1] == step - 1)
                    ):
                        dist[d, r, c] = step
    total = 0.0
    count = 0
    for d in range(z1 - z0 + 1):
        for r in range(h):
            for c in range(w):
                if 1 <= dist[d, r, c] <= ring and not occ[z0 + d, gy0 + r, gx0 + c]:
                    total += ref[z0 + d, gy0 + r, gx0 + c]
                    count += 1
    return total, count
