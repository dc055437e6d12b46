"""A slow, literal transcription of spec/features.md, used only to check the fast code.

Every step is written exactly as the spec words it (full complex FFTs, scipy's binary
dilation, float32 nan-aware reductions), with no shortcut, so an optimisation in the
package that changes a number shows up as a mismatch.
"""

import numpy as np
from scipy import ndimage


def centroid(y, method="median", lam=None):
    if method == "median":
        return int(np.median(y))
    return int(np.sum(lam * y) / np.sum(lam))


def bandpass(image, lowcut=12, highcut=250, order=3):
    ny, nx = image.shape
    spec = np.fft.fft2(image.astype(np.float32), s=(2 * ny + 1, 2 * nx + 1))
    fy = np.fft.fftfreq(2 * ny + 1, d=1 / ny)
    fx = np.fft.fftfreq(2 * nx + 1, d=1 / nx)
    f = np.sqrt(fy[:, None] ** 2 + fx[None, :] ** 2)
    b = lambda c: 1 / (1 + (f / c) ** (2 * order))  # noqa: E731
    gain = (1 - b(lowcut)) * b(highcut)
    return np.real(np.fft.ifft2(spec * gain))[:ny, :nx]


def patches(stat_planes, refs, w=40, fill=0.0, filt=None):
    s = 2 * w + 1
    masks, cref, fref = [], [], []
    for z, (y, x, lam) in stat_planes:
        yc, xc = centroid(y), centroid(x)
        m = np.full((s, s), fill, np.float32)
        for yy, xx, ll in zip(y, x, lam, strict=False):
            if 0 <= yy - yc + w < s and 0 <= xx - xc + w < s:
                m[yy - yc + w, xx - xc + w] = ll
        masks.append(m)
        for src, dst in ((refs, cref), (filt, fref)):
            if src is None:
                continue
            c = np.full((s, s), fill, np.float32)
            ny, nx = src[z].shape
            for r in range(s):
                for q in range(s):
                    yy, xx = yc - w + r, xc - w + q
                    if 0 <= yy < ny and 0 <= xx < nx:
                        c[r, q] = src[z][yy, xx]
            dst.append(c)
    return np.array(masks), np.array(cref), (np.array(fref) if filt is not None else None)


def phase_corr(masks, cref, eps=1e6):
    s = masks.shape[-1]
    win = np.outer(np.hanning(s), np.hanning(s))
    a, b = win * masks, win * cref
    r = np.fft.fft2(a) * np.conj(np.fft.fft2(b))
    r = r / (eps + np.abs(r))
    return np.real(np.mean(r, axis=(1, 2)))


def surround(masks, iterations=2):
    center = masks > 0
    cross = ndimage.generate_binary_structure(2, 1)
    out = np.array([ndimage.binary_dilation(c, cross, iterations=iterations, border_value=0) for c in center])
    return center, out


def corr_coef(masks, fref, iterations=2):
    _, sur = surround(masks, iterations)
    m = masks.astype(np.float32).copy()
    r = fref.astype(np.float32).copy()
    m[~sur] = np.nan
    r[~sur] = np.nan
    mu_m = np.nanmean(m, axis=(1, 2), keepdims=True)
    mu_r = np.nanmean(r, axis=(1, 2), keepdims=True)
    sd_m = np.nanstd(m, axis=(1, 2))
    sd_r = np.nanstd(r, axis=(1, 2))
    n = np.sum(~np.isnan(m), axis=(1, 2)).astype(np.int64)
    return np.nansum((r - mu_r) * (m - mu_m), axis=(1, 2)) / n / sd_r / sd_m


def in_vs_out(masks, cref, iterations=2):
    center, sur = surround(masks, iterations)
    inside = np.sum(center * cref, axis=(1, 2), dtype=np.float32)
    dil = np.sum(sur * cref, axis=(1, 2), dtype=np.float32)
    total = inside + dil
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total == 0, np.float32(0), inside / total).astype(np.float32)


def dot_product(stat_planes, filt):
    out = []
    for z, (y, x, lam) in stat_planes:
        out.append(np.sum(filt[z][y, x] * lam) / np.linalg.norm(lam.astype(np.float32)))
    return np.array(out)


def all_features(stat_planes, refs, frefs=None):
    filt = np.array([bandpass(r) for r in refs])
    masks, cref, fref = patches(stat_planes, refs, filt=filt.astype(np.float32))
    out = {
        "phase_corr": phase_corr(masks, cref),
        "dot_product": dot_product(stat_planes, filt),
        "corr_coef": corr_coef(masks, fref),
        "in_vs_out": in_vs_out(masks, cref),
    }
    if frefs is not None:
        out["functional_dot_product"] = dot_product(stat_planes, np.array([bandpass(r) for r in frefs]))
    return out
